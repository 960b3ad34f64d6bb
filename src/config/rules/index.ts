/**
 * Rules that look across fields of an otherwise well-formed config, one group per file: queue
 * coverage and the scheduler singleton (queues), the connection budget (budget), production
 * durability, cross-tier consistency, the edge, spot, autoscaling, warm pools, AWS's own limits (limits), and
 * settings nothing would read or act on (unread: pooler-only keys without PgBouncer, SMTP under SES,
 * a production stack's alarms with nobody subscribed).
 */
import type { StackBudgets } from "../../budget/budget";
import { type Problem, distinctProblems } from "../problems";
import type { StackConfig } from "../stackConfig";
import { connectionBudget } from "../../budget/rules";
import { crossTierConsistency } from "./consistency";
import { productionDurability } from "./durability";
import { edgeConsistency, streamingRouting } from "../../edge/rules";
import { nameCollisions, storageCeiling } from "./limits";
import { memoryFit } from "../../fleet/rules/memory";
import { redisOnHost } from "../../redis/rules";
import { everyServiceServed, schedulerSingleton, sidekiqThreads } from "../../fleet/rules/queues";
import type { Rule } from "./rule";
import { scalingFleets } from "../../fleet/rules/scaling";
import { searchDataTier, spotInstanceTypes, translationSettings } from "../../search/rules";
import { spotFleets } from "../../fleet/rules/spot";
import { warmPools } from "../../fleet/rules/warmPool";
import { alarmSubscription, persistentModeSettings, poolerOnlySettings, smtpUnderSes } from "./unread";
import { existingSecretsSets } from "../../migration/rules";

export { MAX_STREAMING_PROCESSES } from "../../edge/rules";
export { regionProblems, secretProblems } from "./limits";

export const RULES: readonly Rule[] = [
  spotFleets,
  scalingFleets,
  warmPools,
  streamingRouting,
  edgeConsistency,
  everyServiceServed,
  schedulerSingleton,
  sidekiqThreads,
  connectionBudget,
  productionDurability,
  crossTierConsistency,
  storageCeiling,
  nameCollisions,
  searchDataTier,
  translationSettings,
  spotInstanceTypes,
  redisOnHost,
  existingSecretsSets,
  memoryFit,
  poolerOnlySettings,
  persistentModeSettings,
  smtpUnderSes,
  alarmSubscription,
];

/**
 * Rules whose findings hang on the database's settings (its class and limits against the fleets,
 * the pooler): while a malformed database value is set aside, they would report its consequences.
 */
const READS_DATABASE: readonly Rule[] = [connectionBudget, poolerOnlySettings];

export interface CheckOptions {
  /** A database value failed its shape check and was set aside (parseStackConfig's remainder). */
  readonly databaseSetAside?: boolean;
}

/** Every rule's problems for `config`, with the budgets parseStackConfig computed once. */
export function checkRules(
  config: StackConfig,
  budgets: StackBudgets,
  options: CheckOptions = {},
): Problem[] {
  return distinctProblems(
    RULES.filter((rule) => !(options.databaseSetAside && READS_DATABASE.includes(rule))).flatMap((rule) =>
      rule(config, budgets),
    ),
  );
}
