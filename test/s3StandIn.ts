/**
 * Amazon S3 played over plain HTTP on loopback, path-style, for the real AWS CLI (`aws s3 sync`
 * with `--endpoint-url`): ListObjectsV2, GetObject, HeadObject, PutObject and CopyObject (its
 * metadata directive), as the Amazon S3 API Reference describes them, and nothing else (anything
 * else answers 501, so a call the test did not expect shows). It records every request by method,
 * bucket and key, so a test can say which buckets were only read.
 */
import { createHash } from "crypto";
import * as http from "http";
import type { AddressInfo } from "net";

export interface S3Object {
  readonly body: Buffer;
  readonly contentType?: string;
  readonly cacheControl?: string;
  /** x-amz-meta-* headers, by name without the prefix. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly lastModified: Date;
}

export interface S3Request {
  readonly method: string;
  readonly bucket: string;
  readonly key: string;
  /** The access key ID the request was signed with (SigV4's Credential). */
  readonly accessKey: string;
}

export interface S3StandIn {
  readonly endpoint: string;
  /** Buckets by name, objects by key. */
  readonly buckets: Map<string, Map<string, S3Object>>;
  readonly requests: S3Request[];
  stop(): Promise<void>;
}

const xml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const etag = (body: Buffer) => `"${createHash("md5").update(body).digest("hex")}"`;
const meta = (headers: http.IncomingHttpHeaders) =>
  Object.fromEntries(
    Object.entries(headers)
      .filter(([k]) => k.startsWith("x-amz-meta-"))
      .map(([k, v]) => [k.slice("x-amz-meta-".length), String(v)]),
  );
const objectHeaders = (o: S3Object) => ({
  "content-length": o.body.length,
  "last-modified": o.lastModified.toUTCString(),
  etag: etag(o.body),
  ...(o.contentType && { "content-type": o.contentType }),
  ...(o.cacheControl && { "cache-control": o.cacheControl }),
  ...Object.fromEntries(Object.entries(o.metadata).map(([k, v]) => [`x-amz-meta-${k}`, v])),
});

function list(objects: Map<string, S3Object>, bucket: string, prefix: string): string {
  const contents = [...objects.entries()]
    .filter(([key]) => key.startsWith(prefix))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(
      ([key, o]) =>
        `<Contents><Key>${xml(key)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified><ETag>${xml(etag(o.body))}</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
    );
  return `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xml(bucket)}</Name><Prefix>${xml(prefix)}</Prefix><KeyCount>${contents.length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${contents.join("")}</ListBucketResult>`;
}

export async function startS3StandIn(): Promise<S3StandIn> {
  const buckets = new Map<string, Map<string, S3Object>>();
  const requests: S3Request[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://s3.local");
      const [, bucket = "", ...rest] = url.pathname.split("/");
      const key = decodeURIComponent(rest.join("/"));
      const accessKey = /Credential=([^/]+)\//.exec(req.headers.authorization ?? "")?.[1] ?? "";
      requests.push({ method: req.method ?? "", bucket, key, accessKey });
      const objects = buckets.get(bucket);
      if (!objects) return res.writeHead(404).end("<Error><Code>NoSuchBucket</Code></Error>");
      const found = objects.get(key);
      if (req.method === "GET" && !key && url.searchParams.get("list-type") === "2") {
        res.writeHead(200, { "content-type": "application/xml" });
        return res.end(list(objects, bucket, url.searchParams.get("prefix") ?? ""));
      }
      if ((req.method === "GET" || req.method === "HEAD") && key) {
        if (!found) return res.writeHead(404).end();
        res.writeHead(200, objectHeaders(found));
        return res.end(req.method === "GET" ? found.body : undefined);
      }
      if (req.method === "PUT" && key) {
        const source = req.headers["x-amz-copy-source"];
        let stored: S3Object;
        if (typeof source === "string") {
          // "<bucket>/<key>", with or without a leading slash, URL-encoded (CopyObject, x-amz-copy-source).
          const [fromBucket = "", ...fromKey] = decodeURIComponent(source.split("?")[0] ?? "")
            .replace(/^\//, "")
            .split("/");
          const from = buckets.get(fromBucket)?.get(fromKey.join("/"));
          if (!from) return res.writeHead(404).end("<Error><Code>NoSuchKey</Code></Error>");
          const replace = req.headers["x-amz-metadata-directive"] === "REPLACE";
          stored = replace
            ? {
                body: from.body,
                contentType: req.headers["content-type"],
                cacheControl: req.headers["cache-control"],
                metadata: meta(req.headers),
                lastModified: new Date(),
              }
            : { ...from, lastModified: new Date() };
        } else {
          stored = {
            body: Buffer.concat(chunks),
            contentType: req.headers["content-type"],
            cacheControl: req.headers["cache-control"],
            metadata: meta(req.headers),
            lastModified: new Date(),
          };
        }
        objects.set(key, stored);
        if (typeof source !== "string") return res.writeHead(200, { etag: etag(stored.body) }).end();
        res.writeHead(200, { "content-type": "application/xml" });
        return res.end(
          `<?xml version="1.0" encoding="UTF-8"?><CopyObjectResult><LastModified>${stored.lastModified.toISOString()}</LastModified><ETag>${xml(etag(stored.body))}</ETag></CopyObjectResult>`,
        );
      }
      return res.writeHead(501).end("<Error><Code>NotImplemented</Code></Error>");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    buckets,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
