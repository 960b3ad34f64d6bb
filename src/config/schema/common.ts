/** Field types several parts of the schema share. */
import { z } from "zod";
import { dotenvProblem } from "../../host/boot";
import { cacheNodeSpec, ec2InstanceSpec, knownCacheNodeTypes, rdsClassSpec } from "../../vocabulary/catalog";

export const hostname = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, {
    error: "must be a lower-case DNS name such as example.social",
  });

export const positiveInt = z.int().min(1);

/**
 * A secret filled into .env.production at boot, quoted there (src/host/boot.ts, dotenvQuote):
 * refused when Ruby's dotenv (Rails) and Node's dotenv (streaming) could not both read it back.
 */
export const dotenvSecret = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    const problem = dotenvProblem(value);
    if (problem)
      ctx.addIssue({
        code: "custom",
        message: `cannot be written into .env.production so that Ruby's dotenv (Rails) and Node's dotenv (streaming) both read it back unchanged: ${problem}. Choose one without that`,
      });
  });

const DURATION = /^([1-9][0-9]{0,5})(s|m|h)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600 } as const;

/**
 * A duration written with its unit, "45s", "10m" or "1h", read as seconds. A bare number is refused
 * rather than guessed: a push latency of 10 could mean seconds or minutes, and the two alarms differ
 * sixty-fold. Milliseconds are refused too: the metrics behind every duration here are per minute.
 */
export const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const match = typeof value === "string" ? DURATION.exec(value) : null;
  if (!match) {
    ctx.addIssue({
      code: "custom",
      message:
        typeof value === "number"
          ? `has no unit; write it with one, "${value}s" or "${value}m" (s, m or h)`
          : 'must be a whole number with the unit s, m or h, such as "30s", "10m" or "1h"',
    });
    return z.NEVER;
  }
  return Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
});

/** Seconds written as the duration an operator would write: 30 -> "30s", 600 -> "10m", 3600 -> "1h". */
export function durationText(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** A c-family EC2 instance type the catalog knows (docs/design.md, "Instance catalogs"). */
export const instanceType = z.string().superRefine((value, ctx) => {
  if (ec2InstanceSpec(value)) return;
  const cFamily = /^c\d+[a-z]*(-flex)?\./.test(value);
  ctx.addIssue({
    code: "custom",
    message: cFamily
      ? "is not in the c-family catalog (data/ec2-c-family-prices-us-east-1.tsv); pick a listed size such as c7g.large or c7i.xlarge (metal sizes are not supported)"
      : "is not a c-family instance type; fleets run on compute-optimised c-family instances only (burstable t-family hosts run out of CPU credits under Mastodon's steady load: docs/design.md#topology), e.g. c7g.large or c7i.xlarge",
  });
});

export const rdsInstanceClass = z.string().superRefine((value, ctx) => {
  if (rdsClassSpec(value)) return;
  ctx.addIssue({
    code: "custom",
    message:
      "is not a known RDS class; use db.t4g.{micro,small,medium,large,xlarge,2xlarge}, or db.{m,r}{6,7,8}g / db.{m,r}{6,7}i from large to 16xlarge",
  });
});

export const cacheNodeType = z.string().superRefine((value, ctx) => {
  if (cacheNodeSpec(value)) return;
  ctx.addIssue({
    code: "custom",
    message: `is not a known ElastiCache node type; use one of ${knownCacheNodeTypes().join(", ")}`,
  });
});
