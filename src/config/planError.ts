/**
 * The error the offline plan stops with when a file it reads (a stack file, an exported ESC
 * environment definition) is missing or malformed: said as is, without a stack trace.
 */
export class PlanError extends Error {
  override name = "PlanError";
}
