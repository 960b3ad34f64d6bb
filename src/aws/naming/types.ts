/** The shape of a naming rule (./index.ts applies them). */

export interface AutonameOptions {
  readonly maxLength: number;
  /** @default "-" */
  readonly separator?: string;
  readonly lowercase?: boolean;
}

/** The bridge's default for every type with a `name` input that resource_overrides.go leaves alone. */
export const DEFAULT_AUTONAME: AutonameOptions = { maxLength: 255 };

/** Where two resources of a type may not share a name. */
export type NameScope = "region" | "account" | "global";

export interface NamingRule {
  /** The property that holds the name (`name`, `bucket`, `identifier`, ...). */
  readonly property: string;
  /**
   * How the provider makes up the name when the program leaves it (and namePrefix) unset, or
   * undefined when it does not: its own length ceiling (the bridge's, which may be looser than
   * AWS's), its separator, and whether it lower-cases.
   */
  readonly autoname?: AutonameOptions;
  readonly minLength?: number;
  readonly maxLength: number;
  /** The whole name must match (character set). */
  readonly pattern: RegExp;
  /** The character set in words, for error messages. */
  readonly charset: string;
  readonly startsWithLetter?: boolean;
  /** No `--` and no trailing `-` (RDS, ElastiCache identifiers). */
  readonly hyphenRules?: boolean;
  /** No leading or trailing `-` (ELB names). */
  readonly noEdgeHyphen?: boolean;
  readonly forbiddenPrefixes?: readonly string[];
  readonly requiredPrefix?: string;
  readonly scope: NameScope;
  /** Where the rule comes from. */
  readonly source: string;
}

export const IAM_CHARS = { pattern: /^[\w+=,.@-]+$/, charset: "letters, digits and + = , . @ _ -" };
export const ALNUM_HYPHEN = { pattern: /^[A-Za-z0-9-]+$/, charset: "letters, digits and -" };
export const LOWER_ALNUM_HYPHEN = { pattern: /^[a-z0-9-]+$/, charset: "lower-case letters, digits and -" };

/** A rule AWS or the provider applies to a resource's inputs besides its name (./inputRules.ts). */
export interface InputRule {
  /** The input the rule reads, as a path for messages (`aliases[].evaluateTargetHealth`). */
  readonly property: string;
  /** Every way the inputs break the rule, as phrases; none when they keep it. */
  readonly problems: (inputs: Readonly<Record<string, unknown>>) => string[];
  /** Where the rule comes from. */
  readonly source: string;
}
