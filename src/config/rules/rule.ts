/**
 * What a cross-field rule is: it reads the resolved config and the budgets (computed once, in
 * parseStackConfig) and returns problems naming the config key an operator should change.
 */
import type { StackBudgets } from "../../budget/budget";
import { type PathSegment, type Problem, configKey } from "../problems";
import type { StackConfig } from "../stackConfig";

export type Rule = (config: StackConfig, budgets: StackBudgets) => Problem[];

export const error = (path: readonly PathSegment[], value: unknown, message: string): Problem => ({
  severity: "error",
  key: configKey(path),
  value,
  message,
});

export const warning = (path: readonly PathSegment[], value: unknown, message: string): Problem => ({
  severity: "warning",
  key: configKey(path),
  value,
  message,
});
