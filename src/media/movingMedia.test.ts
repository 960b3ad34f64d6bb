/**
 * docs/moving-media.md's commands, run as written by bash against stand-ins that record what they
 * are given (test/mediaStandIns.ts): where each copy runs, from where to where (the bucket the stack
 * outputs, at its root: the keys stay as they were), what it leaves out; and the one step inside the
 * VPC, sent to the scheduler's in-service host through Systems Manager and waited for. The copies
 * themselves run the real AWS CLI in movingMedia.real.test.ts.
 */
import { DATABASE_PATHS } from "../fleet/host/oneOff";
import { BUCKET, COMMAND_ID, GROUP, INSTANCE, docCommands, runDocCommands } from "../../test/mediaStandIns";

const EXCLUDE = ["--exclude", "cache/media_attachments/*"];
const CACHE_CONTROL = ["--cache-control", "public, max-age=315576000, immutable"];

test("from a directory: the bucket's name from the stack, then aws s3 sync on the old host, public/system/ to the bucket's root", async () => {
  const run = await runDocCommands(docCommands("## From a directory"), {
    oldLive: { "public/system/media_attachments/files/1/original/a.png": "a" },
  });
  expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
  expect(run.calls.map((c) => c.args.slice(0, 3))).toEqual([
    ["pulumi", "stack", "output"],
    ["ssh", "old-host", expect.stringContaining(`s3://${BUCKET}/`)],
    ["aws", "s3", "sync"],
  ]);
  const sync = run.calls[2]!;
  // Run in the old install's public/system: its paths under it are the keys.
  expect(sync.cwd).toBe("old-live/public/system");
  expect(sync.args).toEqual([
    "aws",
    "s3",
    "sync",
    ".",
    `s3://${BUCKET}/`,
    ...EXCLUDE,
    ...CACHE_CONTROL,
    "--only-show-errors",
  ]);
});

test("from a bucket on AWS: one server-side sync from the old bucket, its metadata kept, its tags not read", async () => {
  const run = await runDocCommands(docCommands("### On AWS"));
  expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
  expect(run.calls.map((c) => c.args)).toEqual([
    ["pulumi", "stack", "output", "mediaBucket"],
    [
      "aws",
      "s3",
      "sync",
      "s3://old-mastodon-media/",
      `s3://${BUCKET}/`,
      ...EXCLUDE,
      "--copy-props",
      "metadata-directive",
      "--only-show-errors",
    ],
  ]);
});

test("from another provider: down to a directory with its endpoint and profile, then up as from a directory", async () => {
  const run = await runDocCommands(docCommands("### Elsewhere"));
  expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
  expect(run.calls.map((c) => c.args)).toEqual([
    ["pulumi", "stack", "output", "mediaBucket"],
    [
      "aws",
      "s3",
      "sync",
      "s3://old-mastodon-media/",
      "media/",
      "--profile",
      "old",
      "--endpoint-url",
      "https://s3.old-provider.example",
      ...EXCLUDE,
      "--only-show-errors",
    ],
    ["aws", "s3", "sync", "media/", `s3://${BUCKET}/`, ...CACHE_CONTROL, "--only-show-errors"],
  ]);
});

test("after the copy: tootctl media remove --days 0 on the scheduler's in-service host, through SSM, waited for", async () => {
  const run = await runDocCommands(docCommands("## After the copy"));
  expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
  const args = run.calls.map((c) => c.args);
  // The two outputs are read by one pipeline, at once.
  expect(args.slice(0, 2).sort()).toEqual([
    ["pulumi", "stack", "output", "fleetGroups", "--json"],
    ["pulumi", "stack", "output", "schedulerFleet"],
  ]);
  expect(args.slice(2, 4)).toEqual([
    [
      "aws",
      "autoscaling",
      "describe-auto-scaling-groups",
      "--auto-scaling-group-names",
      GROUP,
      "--query",
      "AutoScalingGroups[0].Instances[?LifecycleState=='InService'].InstanceId | [0]",
      "--output",
      "text",
    ],
    expect.arrayContaining(["aws", "ssm", "send-command", "--instance-ids", INSTANCE]),
  ]);
  const send = args[3]!;
  const option = (name: string) => send[send.indexOf(name) + 1];
  expect(option("--document-name")).toBe("AWS-RunShellScript");
  const parameters = JSON.parse(option("--parameters") as string) as Record<string, string[]>;
  // The database's own program, on its own config, runs tootctl as the retention does.
  expect(parameters).toEqual({
    commands: [
      [
        DATABASE_PATHS.program,
        "run",
        DATABASE_PATHS.config,
        "bin/tootctl",
        ...["media", "remove", "--days", "0"],
      ].join(" "),
    ],
    executionTimeout: ["28800"],
  });
  // Polled until it ends (not there yet, running, done), then its output printed.
  const polls = args.slice(4);
  const status = ["--command-id", COMMAND_ID, "--instance-id", INSTANCE];
  expect(polls).toEqual([
    ["aws", "ssm", "get-command-invocation", ...status, "--query", "Status", "--output", "text"],
    ["sleep", "30"],
    ["aws", "ssm", "get-command-invocation", ...status, "--query", "Status", "--output", "text"],
    ["sleep", "30"],
    ["aws", "ssm", "get-command-invocation", ...status, "--query", "Status", "--output", "text"],
    [
      "aws",
      "ssm",
      "get-command-invocation",
      ...status,
      "--query",
      "[Status, StandardOutputContent]",
      "--output",
      "text",
    ],
  ]);
  expect(run.stdout).toBe("Success\tRemoved 3 media attachments (approx. 1.2 MB)\n");
});
