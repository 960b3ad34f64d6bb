/**
 * The VAPID keys the stack derives for Web Push.
 */
import { createECDH } from "crypto";
import { vapidKeysFromPrivate } from "./vapid";

test("VAPID keys are a real P-256 pair in Mastodon's urlsafe base64", () => {
  const seed = Buffer.alloc(32, 7).toString("base64");
  const keys = vapidKeysFromPrivate(seed);
  expect(keys.privateKey).toMatch(/^[A-Za-z0-9_-]{43}=$/);
  expect(keys.publicKey).toMatch(/^[A-Za-z0-9_-]{87}=$/);
  const publicKey = Buffer.from(keys.publicKey.replace(/-/g, "+").replace(/_/g, "/"), "base64");
  expect(publicKey[0]).toBe(0x04); // uncompressed point
  // An independent ECDH with the same private key agrees with the derived public key.
  const other = createECDH("prime256v1");
  other.generateKeys();
  const mine = createECDH("prime256v1");
  mine.setPrivateKey(Buffer.from(seed, "base64"));
  expect(mine.computeSecret(other.getPublicKey()).equals(other.computeSecret(publicKey))).toBe(true);
});
