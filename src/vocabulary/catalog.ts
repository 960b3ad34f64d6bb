/**
 * Instance catalogs: what the sizing core needs to know about EC2 c-family types, RDS classes and
 * ElastiCache node types. Pure data and lookups; no Pulumi imports (pulumi-awsx style).
 *
 * Sources: docs/design.md, "Instance catalogs" (sizes and memory, from AWS's documentation) and
 * data/ec2-c-family-prices-us-east-1.tsv (the list of c-family types that exist, with prices).
 */
import { dataLines } from "./data";

const GIB = 1024 ** 3;

/** The CPU architectures of the c-family catalog (an `as const` enum: Pulumi's analyzer reads it). */
export const Architecture = {
  Arm64: "arm64",
  X86_64: "x86_64",
} as const;
export type Architecture = (typeof Architecture)[keyof typeof Architecture];

export interface Ec2InstanceSpec {
  readonly instanceType: string;
  readonly family: string;
  readonly size: string;
  readonly vcpu: number;
  readonly memoryGiB: number;
  readonly architecture: Architecture;
  /** On-demand USD per hour in us-east-1, from the dated price table. */
  readonly usdPerHour: number;
}

/** The c-family name grammar (docs/design.md, "Instance catalogs"). */
export const C_FAMILY_PATTERN = /^c\d+[a-z]*(-flex)?\.(medium|large|\d*xlarge|metal)$/;

/** Graviton (arm64) when the family matches `^c\d+g` (docs/design.md, "Instance catalogs"). */
export function architectureOf(instanceType: string): Architecture {
  return /^c\d+g/.test(instanceType) ? "arm64" : "x86_64";
}

/** c5n carries more memory per vCPU than the rest of the family (10.5 GiB per xlarge). */
const C5N_MEMORY_PER_XLARGE_GIB = 10.5;

function sizeToVcpu(size: string): number | undefined {
  if (size === "medium") return 1;
  if (size === "large") return 2;
  const m = /^(\d*)xlarge$/.exec(size);
  if (!m) return undefined;
  return 4 * (m[1] ? Number(m[1]) : 1);
}

function readPriceTable(): Map<string, number> {
  const prices = new Map<string, number>();
  for (const line of dataLines("ec2-c-family-prices-us-east-1.tsv")) {
    if (line.startsWith("instance_type")) continue;
    const [type, price] = line.split("\t");
    if (type && price) prices.set(type, Number(price));
  }
  return prices;
}

const EC2_PRICES = readPriceTable();

/**
 * The spec of a c-family instance type, or undefined when the type is not c-family or not in the
 * catalog (metal sizes vary by family and are deliberately absent).
 */
export function ec2InstanceSpec(instanceType: string): Ec2InstanceSpec | undefined {
  if (!C_FAMILY_PATTERN.test(instanceType)) return undefined;
  const usdPerHour = EC2_PRICES.get(instanceType);
  if (usdPerHour === undefined) return undefined;
  const [family = "", size = ""] = instanceType.split(".");
  const vcpu = sizeToVcpu(size);
  if (vcpu === undefined) return undefined;
  const memoryGiB = family === "c5n" ? (vcpu / 4) * C5N_MEMORY_PER_XLARGE_GIB : vcpu * 2;
  return {
    instanceType,
    family,
    size,
    vcpu,
    memoryGiB,
    architecture: architectureOf(instanceType),
    usdPerHour,
  };
}

/** Every catalogued type of a c-family family (c7g: medium, large, xlarge, ...), smallest first. */
export function ec2TypesOfFamily(family: string): Ec2InstanceSpec[] {
  return [...EC2_PRICES.keys()]
    .filter((t) => t.startsWith(`${family}.`))
    .map((t) => ec2InstanceSpec(t))
    .filter((s): s is Ec2InstanceSpec => s !== undefined)
    .sort((a, b) => a.memoryGiB - b.memoryGiB || a.vcpu - b.vcpu);
}

// ---------------------------------------------------------------------------------------------
// RDS (docs/design.md, "Instance catalogs"). t4g, and the Graviton m/r generations; memory doubles per size step.

const RDS_T4G_GIB: Record<string, number> = {
  micro: 1,
  small: 2,
  medium: 4,
  large: 8,
  xlarge: 16,
  "2xlarge": 32,
};
const RDS_MR_FAMILIES = ["m6g", "m7g", "m8g", "r6g", "r7g", "r8g", "m6i", "m7i", "r6i", "r7i"];

function xlargeMultiplier(size: string): number | undefined {
  if (size === "large") return 0.5;
  const m = /^(\d*)xlarge$/.exec(size);
  return m ? (m[1] ? Number(m[1]) : 1) : undefined;
}

export interface RdsClassSpec {
  readonly instanceClass: string;
  readonly memoryGiB: number;
}

export function rdsClassSpec(instanceClass: string): RdsClassSpec | undefined {
  const m = /^db\.([a-z0-9]+)\.([a-z0-9]+)$/.exec(instanceClass);
  if (!m) return undefined;
  const [, family = "", size = ""] = m;
  if (family === "t4g") {
    const gib = RDS_T4G_GIB[size];
    return gib === undefined ? undefined : { instanceClass, memoryGiB: gib };
  }
  if (!RDS_MR_FAMILIES.includes(family)) return undefined;
  const mult = xlargeMultiplier(size);
  if (mult === undefined || mult > 16) return undefined;
  // m: 16 GiB per xlarge; r: 32 GiB per xlarge (db.m7g.large 8, db.r7g.large 16).
  const perXlarge = family.startsWith("m") ? 16 : 32;
  return { instanceClass, memoryGiB: perXlarge * mult };
}

export function rdsMemoryBytes(spec: RdsClassSpec): number {
  return spec.memoryGiB * GIB;
}

// ---------------------------------------------------------------------------------------------
// ElastiCache node memory (GiB), docs/design.md, "Instance catalogs"; m7g/r7g taken as equal to m6g/r6g.

const CACHE_NODE_GIB: Record<string, number> = {
  "t4g.micro": 0.5,
  "t4g.small": 1.37,
  "t4g.medium": 3.09,
  "m6g.large": 6.38,
  "m6g.xlarge": 12.94,
  "m6g.2xlarge": 26.04,
  "r6g.large": 13.07,
  "r6g.xlarge": 26.32,
  "r6g.2xlarge": 52.82,
};

export interface CacheNodeSpec {
  readonly nodeType: string;
  readonly memoryGiB: number;
}

export function cacheNodeSpec(nodeType: string): CacheNodeSpec | undefined {
  const m = /^cache\.([a-z0-9]+)\.([a-z0-9]+)$/.exec(nodeType);
  if (!m) return undefined;
  const family = (m[1] ?? "").replace(/^m7g$/, "m6g").replace(/^r7g$/, "r6g");
  const gib = CACHE_NODE_GIB[`${family}.${m[2]}`];
  return gib === undefined ? undefined : { nodeType, memoryGiB: gib };
}

export function knownCacheNodeTypes(): string[] {
  const out: string[] = [];
  for (const key of Object.keys(CACHE_NODE_GIB)) {
    out.push(`cache.${key}`);
    if (/^[mr]6g/.test(key)) out.push(`cache.${key.replace("6g", "7g")}`);
  }
  return out.sort();
}
