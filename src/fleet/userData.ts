/**
 * A fleet's user-data as EC2 takes it (pure): the cloud-config gzip-compressed and base64-encoded,
 * refused when it is over EC2's limit, so a plan fails here rather than at launch.
 */
import { gzipSync } from "zlib";

/** EC2 refuses user-data over 16 KiB (before base64); cloud-init reads it gzip-compressed. */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;

/** The launch template's user-data for the cloud-config `text` of fleet `name`. */
export function compressUserData(name: string, text: string): string {
  // mtime 0 in the gzip header (Node's default): the same config gives the same bytes.
  const compressed = gzipSync(Buffer.from(text, "utf8"), { level: 9 });
  if (compressed.length > USER_DATA_LIMIT_BYTES) {
    throw new Error(
      `${name}: user-data is ${compressed.length} bytes compressed, over EC2's ${USER_DATA_LIMIT_BYTES}`,
    );
  }
  return compressed.toString("base64");
}
