/**
 * A media host (the stack's CloudFront distribution, S3_ALIAS_HOST) played over plain HTTP on
 * loopback: GET of a path it holds answers 200 with the object's bytes, anything else 404. It
 * records every path asked for, in order. A test's .env.production points Mastodon's media URLs here
 * with S3_PROTOCOL=http and S3_ALIAS_HOST=127.0.0.1:<port>.
 */
import * as http from "http";
import type { AddressInfo } from "net";

export interface MediaStandIn {
  /** host:port, as S3_ALIAS_HOST names a media host. */
  readonly host: string;
  /** The objects it serves, by path (from the first `/`); the test adds and removes them. */
  readonly objects: Map<string, Buffer>;
  /** Every path requested, in order. */
  readonly requests: string[];
  stop(): Promise<void>;
}

export async function startMediaStandIn(): Promise<MediaStandIn> {
  const objects = new Map<string, Buffer>();
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const url = req.url ?? "";
    requests.push(url);
    const body = req.method === "GET" ? objects.get(url) : undefined;
    if (body === undefined) return res.writeHead(404, { "content-type": "text/plain" }).end("Not Found");
    return res.writeHead(200, { "content-type": "image/png", "content-length": body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    objects,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
