/**
 * The plan itself, behind `npm run plan` (bin/plan.ts parses the arguments and loads this module only
 * once they ask for a plan): the program, Pulumi's SDKs and the fake cloud load with it.
 */
import { ConfigError, formatProblems } from "../src/config";
import { NameRefusedError, ProgramError } from "../src/testing/mocks";
import { planStack } from "../src/cli/plan";
import { PlanError } from "../src/config/planError";
import program from "../index";

export interface PlanRequest {
  readonly stack: string;
  /** Absolute: bin/plan.ts resolved it against where the operator ran npm. */
  readonly stacksDir: string;
  /** Absolute, as stacksDir. */
  readonly outDir: string;
  readonly verbose: boolean;
  /** Where the operator ran npm: the summary's paths are relative to it. */
  readonly cwd: string;
}

/** Renders the stack and prints the summary; the text of a refusal (config, name, program) or undefined. */
export async function runPlan(request: PlanRequest): Promise<string | undefined> {
  try {
    const result = await planStack({
      stack: request.stack,
      stacksDir: request.stacksDir,
      outDir: request.outDir,
      program,
      relativeTo: request.cwd,
    });
    if (request.verbose) process.stdout.write(`${result.listing}\n`);
    // Measured from process start: what an operator waits for, module loading included.
    process.stdout.write(`${result.summary} in ${(process.uptime() * 1000).toFixed(0)} ms\n`);
    return undefined;
  } catch (e) {
    // ConfigError holds each problem once (src/config/problems.ts, distinctProblems).
    if (e instanceof ConfigError) return formatProblems(e.problems, e.stackName);
    if (e instanceof PlanError || e instanceof NameRefusedError || e instanceof ProgramError)
      return e.message;
    throw e;
  }
}
