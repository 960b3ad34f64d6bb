/**
 * Web Push (VAPID) keys in the form Mastodon reads (webpush gem: urlsafe base64, padded):
 * VAPID_PRIVATE_KEY is the 32-byte P-256 private scalar, VAPID_PUBLIC_KEY the 65-byte uncompressed
 * public point. Pure; the private key comes from 32 random bytes generated once per stack.
 */
import { createECDH } from "crypto";

export interface VapidKeys {
  readonly privateKey: string;
  readonly publicKey: string;
}

const urlsafe = (bytes: Buffer) => bytes.toString("base64").replace(/\+/g, "-").replace(/\//g, "_");

/** Derives the pair from a 32-byte private key (base64); throws if it is not a valid P-256 scalar. */
export function vapidKeysFromPrivate(privateKeyBase64: string): VapidKeys {
  const privateKey = Buffer.from(privateKeyBase64, "base64");
  if (privateKey.length !== 32) throw new Error(`a P-256 private key is 32 bytes, not ${privateKey.length}`);
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(privateKey);
  return {
    privateKey: urlsafe(privateKey),
    publicKey: urlsafe(ecdh.getPublicKey(undefined, "uncompressed")),
  };
}
