/**
 * Facts resolved once (src/config/resolve.ts) and read everywhere: which fleet serves the
 * scheduler, the streaming ports, which values the operator wrote, and the budget computed once.
 */
import { parseStackConfig } from "./index";
import { stackConfig, withConfig } from "../../test/helpers";

test("the scheduler's fleet and the streaming ports are resolved once, for every stack's consumers", () => {
  const { config } = parseStackConfig(stackConfig("production"));
  expect(config.schedulerFleet).toBe("sidekiq-scheduler");
  expect(config.fleets.filter((f) => f.servesScheduler).map((f) => f.name)).toEqual(["sidekiq-scheduler"]);
  expect(config.streamingPorts).toEqual([4000, 4001]);
});

test("a fleet knows which of its values the operator wrote and which are defaults", () => {
  const { config } = parseStackConfig(stackConfig("production"));
  const mailers = config.fleets.find((f) => f.name === "sidekiq-mailers");
  expect(mailers?.configured.has("maxSize")).toBe(true);
  expect(mailers?.configured.has("sidekiq.threads")).toBe(true);
  expect(mailers?.configured.has("sidekiq.processes")).toBe(false); // defaulted to 1
  expect(mailers?.configured.has("desiredSize")).toBe(false);
  const push = config.fleets.find((f) => f.name === "sidekiq-push");
  // Pooled stack: every fleet has a pool size, but push inherits the stack's default.
  expect(push?.pgbouncerPoolSize).toBe(8);
  expect(push?.configured.has("pgbouncerPoolSize")).toBe(false);
});

test("a pool above what one host opens is reported at the key the operator wrote", () => {
  const pooled = (poolOnFleet: boolean) =>
    withConfig((c) => {
      c.database.pooler = "pgbouncer";
      c.database.pgbouncer = { defaultPoolSize: 40 };
      if (poolOnFleet) c.fleets.scheduler.pgbouncerPoolSize = 40;
    });
  const keysFor = (raw: Record<string, unknown>) =>
    parseStackConfig(raw)
      .warnings.filter((w) => w.message.includes("client connections one host opens"))
      .map((w) => w.key);
  // Inherited: the stack-wide default is the key to change, not one the operator never wrote.
  expect(keysFor(pooled(false))).toContain("mastodon:database.pgbouncer.defaultPoolSize");
  expect(keysFor(pooled(false))).not.toContain("mastodon:fleets.scheduler.pgbouncerPoolSize");
  expect(keysFor(pooled(true))).toContain("mastodon:fleets.scheduler.pgbouncerPoolSize");
});
