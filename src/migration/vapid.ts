/**
 * Web Push (VAPID) keys in the form Mastodon reads them (the webpush gem: urlsafe base64, padded):
 * VAPID_PRIVATE_KEY is the P-256 private scalar, VAPID_PUBLIC_KEY the 65-byte uncompressed public
 * point (RFC 8292, "Voluntary Application Server Identification for Web Push"). Pure: the stack
 * derives a pair from 32 random bytes (src/stack/secrets.ts), and checks a pair an existing instance
 * brings (mastodon:existingSecrets.vapid).
 */
import { createECDH } from "crypto";

export interface VapidKeys {
  readonly privateKey: string;
  readonly publicKey: string;
}

/** A P-256 private scalar's length, and an uncompressed point's (0x04, x, y). */
const PRIVATE_BYTES = 32;
const PUBLIC_BYTES = 65;

const urlsafe = (bytes: Buffer) => bytes.toString("base64").replace(/\+/g, "-").replace(/\//g, "_");

/** The private key as 32 bytes: the webpush gem writes the scalar with OpenSSL::BN#to_s(2), without leading zero bytes. */
const scalar = (bytes: Buffer) => Buffer.concat([Buffer.alloc(PRIVATE_BYTES - bytes.length), bytes]);

/** Derives the pair from a private key (base64); throws if it is not a valid P-256 scalar. */
export function vapidKeysFromPrivate(privateKeyBase64: string): VapidKeys {
  const privateKey = Buffer.from(privateKeyBase64, "base64");
  if (privateKey.length !== PRIVATE_BYTES)
    throw new Error(`a P-256 private key is 32 bytes, not ${privateKey.length}`);
  return { privateKey: urlsafe(privateKey), publicKey: urlsafe(publicPoint(privateKey)) };
}

/** The uncompressed public point of a private scalar; throws if it is 0 or not below the curve's order. */
function publicPoint(privateKey: Buffer): Buffer {
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(scalar(privateKey));
  return ecdh.getPublicKey(undefined, "uncompressed");
}

/**
 * The bytes of a key as the webpush gem reads it (Webpush.decode64: padded if need be, then Ruby's
 * Base64.urlsafe_decode64, which takes the URL-safe and the standard alphabet alike), or undefined
 * when the text is not base64.
 */
export function decodeVapidKey(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return undefined;
  const body = text.replace(/=+$/, "");
  if (body.length % 4 === 1 || (body.length !== text.length && text.length % 4 !== 0)) return undefined;
  return Buffer.from(body.replace(/-/g, "+").replace(/_/g, "/"), "base64");
}

const PRIVATE_FORM =
  "Mastodon's VAPID_PRIVATE_KEY is a P-256 private key, 32 bytes in URL-safe base64 (44 characters with its =, as `rake mastodon:webpush:generate_vapid_key` writes it)";
const PUBLIC_FORM =
  "Mastodon's VAPID_PUBLIC_KEY is a P-256 public key, the 65-byte uncompressed point in URL-safe base64 (88 characters with its =, starting with B)";

/** Why `text` is not a VAPID private key, without showing it; undefined when it is one. */
export function vapidPrivateKeyProblem(text: string): string | undefined {
  const bytes = decodeVapidKey(text);
  if (!bytes) return `is not base64: ${PRIVATE_FORM}`;
  if (bytes.length === 0 || bytes.length > PRIVATE_BYTES)
    return `decodes to ${bytes.length === 0 ? "nothing" : "more than 32 bytes"}: ${PRIVATE_FORM}`;
  try {
    publicPoint(bytes);
    return undefined;
  } catch {
    return `is not a P-256 private key (zero, or not below the curve's order): ${PRIVATE_FORM}`;
  }
}

/** Why `text` is not a VAPID public key (a point on P-256); undefined when it is one. */
export function vapidPublicKeyProblem(text: string): string | undefined {
  const bytes = decodeVapidKey(text);
  if (!bytes) return `is not base64: ${PUBLIC_FORM}`;
  if (bytes.length !== PUBLIC_BYTES || bytes[0] !== 0x04)
    return `is not an uncompressed point (65 bytes starting with 0x04): ${PUBLIC_FORM}`;
  try {
    const ecdh = createECDH("prime256v1");
    ecdh.generateKeys();
    ecdh.computeSecret(bytes);
    return undefined;
  } catch {
    return `is not a point on the P-256 curve: ${PUBLIC_FORM}`;
  }
}

/**
 * Whether `publicKey` is the public key of `privateKey` (both well formed, as the two checks above
 * accept them): the point the private scalar derives, byte for byte. A push service verifies the
 * JWT each push carries, signed with the private key, against the public key the browser's
 * subscription was made with (RFC 8292, section 2), so a pair that does not match fails every push.
 */
export function isVapidPair(privateKey: string, publicKey: string): boolean {
  const priv = decodeVapidKey(privateKey);
  const pub = decodeVapidKey(publicKey);
  if (!priv || !pub) return false;
  try {
    return publicPoint(priv).equals(pub);
  } catch {
    return false;
  }
}
