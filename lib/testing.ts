/**
 * Unit-testing a program that uses these components (`mastodon-aws/testing`): the fake cloud the
 * package tests itself with, which answers every resource and call the components make the way the
 * AWS provider would (autonamed names checked against AWS's naming rules, ids, ARNs), and a runner
 * that installs it with `pulumi.runtime.setMocks` and records what a program declares.
 *
 * ```ts
 * import { MastodonStack } from "mastodon-aws";
 * import { runUnderMocks } from "mastodon-aws/testing";
 *
 * const run = await runUnderMocks(() => ({ budget: new MastodonStack("blue", config).budget }), {
 *   project: "my-project", stack: "test", config: { "aws:region": "us-east-1" },
 * });
 * run.outputs.budget; // the resolved Budget
 * run.resources;      // every resource declared: type, name, parent, inputs (secrets as "[secret]")
 * ```
 *
 * @pulumi/pulumi is a peer dependency, so the mocks are installed in the same runtime your program
 * registers its resources with.
 */
export {
  type MockRun,
  type RecordedResource,
  NameRefusedError,
  ProgramError,
  runUnderMocks,
} from "../src/testing/mocks";
export {
  type AccountNames,
  type CheckedName,
  type FakeCloud,
  type FakeCloudOptions,
  type NameRefusal,
  FAKE_ACCESS_KEY_ID,
  FAKE_ACCOUNT,
  fakeCloud,
} from "../src/testing/fakeCloud";
export { SECRET_PLACEHOLDER } from "../src/config/stackFile";
