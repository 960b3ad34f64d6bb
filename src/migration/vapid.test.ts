/**
 * The VAPID keys: the pair the stack derives, and a pair an existing instance brings, held to
 * Node's own crypto (ECDH for the key agreement a push service does, ECDSA P-256 with SHA-256 for
 * the JWT a VAPID push carries, RFC 8292), not to the functions under test.
 */
import { createECDH, createPrivateKey, createPublicKey, sign, verify } from "crypto";
import {
  decodeVapidKey,
  isVapidPair,
  vapidKeysFromPrivate,
  vapidPrivateKeyProblem,
  vapidPublicKeyProblem,
} from "./vapid";

const b64url = (bytes: Buffer) => bytes.toString("base64url");

/** A pair as Node makes it, in the webpush gem's form (urlsafe base64, padded). */
function nodePair(): { privateKey: string; publicKey: string; raw: { d: Buffer; point: Buffer } } {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  // getPrivateKey() leaves out leading zero bytes, as the gem's writer does: the scalar is 32 bytes.
  const short = ecdh.getPrivateKey();
  const d = Buffer.concat([Buffer.alloc(32 - short.length), short]);
  const point = ecdh.getPublicKey(undefined, "uncompressed");
  const padded = (bytes: Buffer) => bytes.toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
  return { privateKey: padded(d), publicKey: padded(point), raw: { d, point } };
}

/**
 * Whether a JWT-style signature made with the private key verifies with the public key: what a push
 * service does with every push (RFC 8292, section 2: ES256). Keys imported as JWKs, apart from ECDH.
 */
function signsAndVerifies(privateKey: string, publicKey: string): boolean {
  const d = decodeVapidKey(privateKey)!;
  const point = decodeVapidKey(publicKey)!;
  const x = b64url(point.subarray(1, 33));
  const y = b64url(point.subarray(33, 65));
  const scalar = Buffer.concat([Buffer.alloc(32 - d.length), d]);
  // The private JWK carries its own public point: derive it from d, as the signer would hold it.
  const own = createECDH("prime256v1");
  own.setPrivateKey(scalar);
  const ownPoint = own.getPublicKey(undefined, "uncompressed");
  const signer = createPrivateKey({
    key: {
      kty: "EC",
      crv: "P-256",
      d: b64url(scalar),
      x: b64url(ownPoint.subarray(1, 33)),
      y: b64url(ownPoint.subarray(33, 65)),
    },
    format: "jwk",
  });
  const verifier = createPublicKey({ key: { kty: "EC", crv: "P-256", x, y }, format: "jwk" });
  const token = Buffer.from("eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJhdWQiOiJodHRwczovL3B1c2guZXhhbXBsZSJ9");
  const signature = sign("sha256", token, { key: signer, dsaEncoding: "ieee-p1363" });
  return verify("sha256", token, { key: verifier, dsaEncoding: "ieee-p1363" }, signature);
}

test("the pair the stack derives is a real P-256 pair in Mastodon's urlsafe base64", () => {
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
  expect(signsAndVerifies(keys.privateKey, keys.publicKey)).toBe(true);
});

describe("a pair an existing instance brings", () => {
  test("a pair Node made is a pair: its signature verifies, and isVapidPair says so", () => {
    for (let i = 0; i < 8; i++) {
      const { privateKey, publicKey } = nodePair();
      expect(vapidPrivateKeyProblem(privateKey)).toBeUndefined();
      expect(vapidPublicKeyProblem(publicKey)).toBeUndefined();
      expect(signsAndVerifies(privateKey, publicKey)).toBe(true);
      expect(isVapidPair(privateKey, publicKey)).toBe(true);
    }
  });

  test("two keys of different pairs are not a pair: the signature fails, and isVapidPair says so", () => {
    const one = nodePair();
    const two = nodePair();
    expect(signsAndVerifies(one.privateKey, two.publicKey)).toBe(false);
    expect(isVapidPair(one.privateKey, two.publicKey)).toBe(false);
  });

  test("read as the webpush gem reads it: unpadded, or in the standard alphabet, is the same key", () => {
    const { privateKey, publicKey, raw } = nodePair();
    for (const [form, text] of [
      ["unpadded", publicKey.replace(/=+$/, "")],
      ["standard alphabet", raw.point.toString("base64")],
    ] as const) {
      expect({ form, bytes: decodeVapidKey(text)?.equals(raw.point) }).toEqual({ form, bytes: true });
      expect({ form, pair: isVapidPair(privateKey, text) }).toEqual({ form, pair: true });
    }
  });

  test("a private key written without its leading zero byte (OpenSSL::BN#to_s(2)) is the same key", () => {
    // Find a scalar whose first byte is 0, as 1 in 256 are, and write it as the gem does: 31 bytes.
    let pair = nodePair();
    while (pair.raw.d[0] !== 0) pair = nodePair();
    const short = pair.raw.d.subarray(1).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
    expect(decodeVapidKey(short)).toHaveLength(31);
    expect(vapidPrivateKeyProblem(short)).toBeUndefined();
    expect(isVapidPair(short, pair.publicKey)).toBe(true);
    expect(signsAndVerifies(short, pair.publicKey)).toBe(true);
  });

  test.each([
    ["not base64", "not a key!", "is not base64"],
    ["a stray =", "AAAA=AAA", "is not base64"],
    ["nothing but padding", "==", "is not base64"],
    ["more than 32 bytes", b64url(Buffer.alloc(33, 1)), "decodes to more than 32 bytes"],
    ["zero", b64url(Buffer.alloc(32, 0)), "is not a P-256 private key"],
    ["not below the curve's order", b64url(Buffer.alloc(32, 0xff)), "is not a P-256 private key"],
  ])("a private key that is %s is refused, the message without it", (_what, text, expected) => {
    const problem = vapidPrivateKeyProblem(text);
    expect(problem).toContain(expected);
    expect(problem).not.toContain(text);
  });

  test.each([
    ["the private key", () => nodePair().privateKey, "is not an uncompressed point"],
    [
      "a compressed point",
      () => b64url(Buffer.concat([Buffer.from([2]), Buffer.alloc(32, 1)])),
      "is not an uncompressed point",
    ],
    [
      "off the curve",
      () => {
        const point = Buffer.from(nodePair().raw.point);
        point[64] = (point[64] ?? 0) ^ 1;
        return b64url(point);
      },
      "is not a point on the P-256 curve",
    ],
  ])("a public key that is %s is refused", (_what, text, expected) => {
    expect(vapidPublicKeyProblem(text())).toContain(expected);
  });
});
