/**
 * Scaling on queue latency and the alarms' thresholds in stack config: durations carry their unit,
 * scaling acts only where it can (never the scheduler, between two sizes, on a Sidekiq fleet, below
 * the alarm of its queues), and the thresholds reach the resolved config, every queue filled.
 */
import { parseStackConfig } from "../config";
import { QUEUE_LATENCY_ALARM_SECONDS } from "../vocabulary/defaults";
import { configErrors as errorsOf, withConfig } from "../../test/helpers";

describe("durations: a whole number with s, m or h", () => {
  test.each([
    ["45s", 45],
    ["10m", 600],
    ["1h", 3600],
  ])("%s is %d seconds", (written, seconds) => {
    const { config } = parseStackConfig(withConfig((c) => (c.alarms = { queueLatency: { push: written } })));
    expect(config.alarms.queueLatency.push).toBe(seconds);
  });

  test.each([
    [10, 'has no unit; write it with one, "10s" or "10m"'],
    ["0s", "whole number with the unit s, m or h"],
    ["-5m", "whole number with the unit s, m or h"],
    ["500ms", "whole number with the unit s, m or h"],
    ["1.5m", "whole number with the unit s, m or h"],
    ["ten minutes", "whole number with the unit s, m or h"],
  ])("%j is refused by its key", (written, fragment) => {
    const problems = errorsOf(withConfig((c) => (c.alarms = { queueLatency: { push: written } })));
    expect(problems.map((p) => [p.key, p.value])).toEqual([["mastodon:alarms.queueLatency.push", written]]);
    expect(problems[0]!.message).toContain(fragment);
  });
});

test("every queue has a latency threshold: the defaults, with what the stack sets over them", () => {
  const { config } = parseStackConfig(
    withConfig((c) => (c.alarms = { queueLatency: { default: "1m" }, pgbouncerMaxWait: "5s" })),
  );
  expect(config.alarms.queueLatency).toEqual({ ...QUEUE_LATENCY_ALARM_SECONDS, default: 60 });
  expect(config.alarms.pgbouncerMaxWait).toBe(5);
  expect(config.alarms.deadJobsPerHour).toBe(10);
});

test("a queue Mastodon does not have is refused by key", () => {
  const problems = errorsOf(withConfig((c) => (c.alarms = { queueLatency: { federation: "1m" } })));
  expect(problems.map((p) => p.key)).toEqual(["mastodon:alarms.queueLatency.federation"]);
});

test("a Sidekiq fleet may scale on its queues' latency; the target is read in seconds", () => {
  const { config } = parseStackConfig(withConfig((c) => (c.fleets.workers.queueLatencyTarget = "15s")));
  expect(config.fleets.find((f) => f.name === "workers")?.queueLatencyTarget).toBe(15);
});

describe("scaling is refused where it cannot act, by key and with the fix", () => {
  test.each([
    [
      "latency scaling on the scheduler's fleet",
      (c: any) => {
        c.fleets.scheduler.maxSize = 2;
        c.fleets.scheduler.queueLatencyTarget = "30s";
      },
      "mastodon:fleets.scheduler.queueLatencyTarget",
      "serves the scheduler queue",
    ],
    [
      "CPU scaling on the scheduler's fleet",
      (c: any) => (c.fleets.scheduler.cpuTarget = 60),
      "mastodon:fleets.scheduler.cpuTarget",
      "must never be scaled",
    ],
    [
      "latency scaling on a fleet of one size",
      (c: any) => {
        c.fleets.workers.minSize = 2;
        c.fleets.workers.queueLatencyTarget = "10s";
      },
      "mastodon:fleets.workers.queueLatencyTarget",
      "minSize and maxSize are both 2",
    ],
    [
      "latency scaling on a fleet without Sidekiq",
      (c: any) => (c.fleets.web.queueLatencyTarget = "10s"),
      "mastodon:fleets.web.queueLatencyTarget",
      "runs no Sidekiq",
    ],
    [
      "a target the default queue's alarm fires below",
      (c: any) => (c.fleets.workers.queueLatencyTarget = "2m"),
      "mastodon:fleets.workers.queueLatencyTarget",
      "not below the default queue's latency alarm (alarms.queueLatency.default, 30s)",
    ],
  ])("%s", (_name, mutate, key, fragment) => {
    const problems = errorsOf(withConfig(mutate));
    const match = problems.find((p) => p.key === key);
    expect(match?.message).toContain(fragment);
  });
});

test("a target above one queue's alarm names that queue only, with a target that would do", () => {
  const problems = errorsOf(
    withConfig((c) => {
      c.alarms = { queueLatency: { default: "5m", ingress: "40s" } };
      c.fleets.workers.queueLatencyTarget = "1m";
    }),
  );
  expect(problems.map((p) => p.message)).toEqual([
    'is not below the ingress queue\'s latency alarm (alarms.queueLatency.ingress, 40s): the alarm would fire before scaling acts. Lower the target (e.g. "20s") or raise the alarm',
  ]);
});

test.each([
  [30, true],
  [45, false],
])("logs.retentionDays %d is %s", (days, accepted) => {
  expect(errorsOf(withConfig((c) => (c.logs = { retentionDays: days }))).length === 0).toBe(accepted);
});
