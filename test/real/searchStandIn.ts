/**
 * A stand-in for the OpenSearch security plugin's REST API (the part mastodon-search-user calls):
 * HTTPS with a test certificate, HTTP basic authentication as the master user, and PUT of roles,
 * internal users and role mappings, which it keeps. It answers as the plugin does: 201 for a
 * resource it creates, 200 for one it replaces, 401 to wrong credentials, 404 for a mapping of a
 * role it does not have. Every request is recorded (method, path, user, parsed body), and, when
 * `callLog` is given, appended to it as a `search<TAB>METHOD<TAB>PATH` line, so it interleaves with
 * the stand-in programs' records (test/real/databaseStandIns.ts).
 */
import * as fs from "fs";
import * as https from "https";
import type { AddressInfo } from "net";

export interface SearchRequest {
  readonly method: string;
  readonly path: string;
  /** The basic authentication's user and password, as sent. */
  readonly user?: string;
  readonly password?: string;
  readonly contentType?: string;
  readonly body: unknown;
  readonly status: number;
}

export interface SearchStandIn {
  /** https://127.0.0.1:<port> */
  readonly url: string;
  readonly requests: SearchRequest[];
  /** What the API holds: `roles/<name>`, `internalusers/<name>`, `rolesmapping/<name>` -> the body PUT. */
  readonly resources: Map<string, unknown>;
  /** The next n requests are answered `status` with `body` (e.g. 503, or a 400 echoing the request). */
  failNext(n: number, status: number, body: (request: SearchRequest) => string): void;
  close(): Promise<void>;
}

export function startSearchStandIn(options: {
  readonly cert: string;
  readonly key: string;
  readonly api: string;
  readonly masterUser: string;
  readonly masterPassword: string;
  readonly callLog?: string;
}): Promise<SearchStandIn> {
  const requests: SearchRequest[] = [];
  const resources = new Map<string, unknown>();
  let failures: { n: number; status: number; body: (r: SearchRequest) => string } | undefined;
  const server = https.createServer(
    { cert: fs.readFileSync(options.cert), key: fs.readFileSync(options.key) },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const auth = /^Basic (.+)$/.exec(req.headers.authorization ?? "");
        const [user, ...rest] = auth ? Buffer.from(auth[1]!, "base64").toString("utf8").split(":") : [];
        let body: unknown = text;
        try {
          body = text === "" ? undefined : JSON.parse(text);
        } catch {
          // kept as text
        }
        const request = {
          method: req.method ?? "",
          path: req.url ?? "",
          ...(user !== undefined && { user, password: rest.join(":") }),
          ...(req.headers["content-type"] && { contentType: req.headers["content-type"] }),
          body,
        };
        const answer = (status: number, payload: string) => {
          requests.push({ ...request, status });
          if (options.callLog)
            fs.appendFileSync(options.callLog, `search\t${request.method}\t${request.path}\n`);
          res.writeHead(status, { "Content-Type": "application/json" });
          res.end(payload);
        };
        if (failures && failures.n > 0) {
          failures.n -= 1;
          return answer(failures.status, failures.body({ ...request, status: failures.status }));
        }
        if (request.user !== options.masterUser || request.password !== options.masterPassword)
          return answer(401, JSON.stringify({ status: "UNAUTHORIZED", message: "Unauthorized" }));
        const m = new RegExp(`^/${options.api}/(roles|internalusers|rolesmapping)/([A-Za-z0-9_-]+)$`).exec(
          request.path,
        );
        if (request.method !== "PUT" || !m) return answer(404, JSON.stringify({ status: "NOT_FOUND" }));
        const [, kind, name] = m;
        if (kind === "rolesmapping" && !resources.has(`roles/${name}`))
          return answer(
            404,
            JSON.stringify({ status: "NOT_FOUND", message: `The role ${name} does not exist.` }),
          );
        const key = `${kind}/${name}`;
        const existed = resources.has(key);
        resources.set(key, body);
        answer(
          existed ? 200 : 201,
          JSON.stringify({
            status: existed ? "OK" : "CREATED",
            message: `'${name}' ${existed ? "updated" : "created"}.`,
          }),
        );
      });
    },
  );
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
        requests,
        resources,
        failNext: (n, status, body) => {
          failures = { n, status, body };
        },
        close: () => new Promise<void>((done) => server.close(() => done())),
      }),
    ),
  );
}
