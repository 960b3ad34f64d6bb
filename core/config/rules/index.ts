/**
 * Rules that look across fields of an otherwise well-formed config, one group per file: queue
 * coverage and the scheduler singleton (queues), the connection budget (budget), production
 * durability, cross-tier consistency, the edge, spot, autoscaling, and AWS's own limits (limits).
 */
import type { StackBudgets } from "../../sizing/budget";
import type { Problem } from "../problems";
import type { StackConfig } from "../resolve";
import { connectionBudget } from "./budget";
import { crossTierConsistency } from "./consistency";
import { productionDurability } from "./durability";
import { edgeConsistency, streamingRouting } from "./edge";
import { nameCollisions, storageCeiling } from "./limits";
import { memoryFit } from "./memory";
import { redisOnHost } from "./redisOnHost";
import { everyServiceServed, schedulerSingleton, sidekiqThreads } from "./queues";
import type { Rule } from "./rule";
import { scalingFleets } from "./scaling";
import { searchDataTier, spotInstanceTypes, translationSettings } from "./search";
import { spotFleets } from "./spot";

export { MAX_STREAMING_PROCESSES } from "./edge";
export { regionProblems, secretProblems } from "./limits";

export const RULES: readonly Rule[] = [
  spotFleets,
  scalingFleets,
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
  memoryFit,
];

/** Every rule's problems for `config`, with the budgets parseStackConfig computed once. */
export function checkRules(config: StackConfig, budgets: StackBudgets): Problem[] {
  return RULES.flatMap((rule) => rule(config, budgets));
}
