/**
 * The shapes AWS gives ids and ARNs, drawn deterministically from a seed: the building blocks of
 * the fake cloud's answers (./computeAnswers.ts, ./serviceAnswers.ts).
 */
import { createHash } from "crypto";

export const FAKE_ACCOUNT = "123456789012";
/** The id (the access key ID) every IAM access key gets: tests look for it where it must not be. */
export const FAKE_ACCESS_KEY_ID = "AKIAFAKEPLAN00000000";

/** A deterministic alphanumeric string: the same name always "generates" the same secret. */
export function fakeSecret(seed: string, length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  for (let round = 0; out.length < length; round++) {
    for (const byte of createHash("sha256").update(`${seed}:${round}`).digest()) {
      if (out.length < length) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}

/** `length` lower-case hex digits drawn from `seed`. */
export function hex(seed: string, length: number): string {
  let out = "";
  for (let round = 0; out.length < length; round++)
    out += createHash("sha256").update(`${seed}:${round}`).digest("hex");
  return out.slice(0, length);
}

/** A v4-shaped UUID drawn from `seed`. */
export function uuid(seed: string): string {
  const h = hex(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export const upperAlnum = (seed: string, length: number) =>
  fakeSecret(seed, length * 2)
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, "")
    .slice(0, length)
    .padEnd(length, "0");

export type State = Record<string, unknown>;

export interface Answer {
  readonly id: string;
  readonly state: State;
}

/** What a type answers, given its logical name, its (checked) inputs and its resolved name. */
export interface Ctx {
  readonly logical: string;
  readonly inputs: State;
  /** The resource's name as AWS knows it (explicit or autonamed), when the type has one. */
  readonly name: string;
  readonly region: string;
  readonly seed: string;
}

export const arn = (service: string, region: string, resource: string) =>
  `arn:aws:${service}:${region}:${FAKE_ACCOUNT}:${resource}`;
export const globalArn = (service: string, resource: string) =>
  `arn:aws:${service}::${FAKE_ACCOUNT}:${resource}`;

/** An EC2 resource: `<prefix>-<17 hex>`, ARN `arn:aws:ec2:<region>:<account>:<kind>/<id>`. */
export const ec2 =
  (prefix: string, kind: string, extra: (c: Ctx, id: string) => State = () => ({})) =>
  (c: Ctx): Answer => {
    const id = `${prefix}-${hex(c.seed, 17)}`;
    return { id, state: { arn: arn("ec2", c.region, `${kind}/${id}`), ...extra(c, id) } };
  };
/** Named by its name: id = name. */
export const byName =
  (arnOf: (c: Ctx) => string | undefined, extra: (c: Ctx) => State = () => ({})) =>
  (c: Ctx): Answer => {
    const resourceArn = arnOf(c);
    return { id: c.name, state: { ...(resourceArn && { arn: resourceArn }), ...extra(c) } };
  };
/** Resources with an opaque id and no ARN of their own (attachments, associations, rules). */
export const opaque =
  (prefix = "") =>
  (c: Ctx): Answer => ({ id: `${prefix}${hex(c.seed, 17)}`, state: {} });

export const elbSuffix = (c: Ctx) => hex(c.seed, 16);
/** A bucket's configuration resources: the provider's id is the bucket's name. */
export const byBucket = (c: Ctx): Answer => ({ id: String(c.inputs["bucket"]), state: {} });
