/**
 * Old media URLs of a source install (pure): without S3, Mastodon serves uploads from
 * `public/system/` at `https://<web domain>/system/<key>` (Mastodon docs, "Object storage", "Using
 * the filesystem": PAPERCLIP_ROOT_URL defaults to /system; config/initializers/paperclip.rb). Other
 * servers keep those URLs (a post's attachment `remote_url`, an account's avatar) and fetch them
 * again when their own cached copy has been removed. Once the files are in the media bucket under
 * the same keys, without `system/` (docs/moving-media.md), `mastodon:media.legacySystemPaths` keeps
 * the URLs working: the web domain's ALB redirects `/system/*` to the media host, and there a
 * CloudFront Function takes `/system` off the path before the bucket is read.
 */

/** The path prefix of a source install's media URLs (PAPERCLIP_ROOT_URL's default). */
export const LEGACY_SYSTEM_PREFIX = "/system";

/**
 * The ALB listener rule's path condition: every URL under the prefix (Elastic Load Balancing,
 * Application Load Balancers, "Path conditions": case-sensitive, `*` matches 0 or more characters).
 */
export const LEGACY_SYSTEM_PATTERN = `${LEGACY_SYSTEM_PREFIX}/*`;

/**
 * The CloudFront Function, viewer request, runtime cloudfront-js-2.0 (Amazon CloudFront Developer
 * Guide, "JavaScript runtime 2.0 features for CloudFront Functions"): written in ES5.1, which every
 * CloudFront Functions runtime reads. It runs only on the `/system/*` cache behavior, so only for
 * old URLs; it rewrites the URI before the cache lookup, so `/system/<key>` and `/<key>` share one
 * cached object. The query string and headers go on untouched.
 */
export const LEGACY_SYSTEM_FUNCTION_CODE = `// mastodon-aws: a source install's media URL (/system/<key>) names the bucket key <key>.
function handler(event) {
  var request = event.request;
  if (request.uri.indexOf("${LEGACY_SYSTEM_PREFIX}/") === 0) {
    request.uri = request.uri.substring(${LEGACY_SYSTEM_PREFIX.length});
  }
  return request;
}
`;

/** The runtime the function is declared with (CloudFront API Reference, FunctionConfig, Runtime). */
export const LEGACY_SYSTEM_FUNCTION_RUNTIME = "cloudfront-js-2.0";

/**
 * The redirect the ALB answers `/system/*` with: HTTPS on 443 at the media host, the path and the
 * query kept (Elastic Load Balancing, Application Load Balancers, "Redirect actions": `#{path}` is
 * the original path without its leading slash, `#{query}` the original query). Permanent: the old
 * URLs will not come back to the web domain. Mastodon follows redirects when it fetches media
 * (app/lib/request.rb, `follow`), and so do browsers.
 */
export function legacySystemRedirect(mediaHost: string): {
  readonly protocol: "HTTPS";
  readonly port: "443";
  readonly host: string;
  readonly path: "/#{path}";
  readonly query: "#{query}";
  readonly statusCode: "HTTP_301";
} {
  if (!/^[a-z0-9.-]+$/.test(mediaHost))
    throw new Error(`legacy /system redirect: media host ${JSON.stringify(mediaHost)} is not a host name`);
  return {
    protocol: "HTTPS",
    port: "443",
    host: mediaHost,
    path: "/#{path}",
    query: "#{query}",
    statusCode: "HTTP_301",
  };
}
