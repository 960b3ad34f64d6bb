/**
 * A stack-wide key the budget finds wrong through several fleets is reported once, by parseStackConfig
 * and by the program as `pulumi up` shows it (pulumi.log.warn), not once per fleet: production's push
 * and pull fleets at 2 x 3 threads open 6 client connections a host, fewer than the PgBouncer pool of
 * 8 both inherit from database.pgbouncer.defaultPoolSize.
 */
import { parseStackConfig } from "../config";
import { runStack, stackConfig } from "../../test/helpers";

const fleets = stackConfig("production")["fleets"] as Record<string, Record<string, unknown>>;
const thin = (name: string) => ({
  ...fleets[name],
  sidekiq: { ...(fleets[name]!["sidekiq"] as object), threads: 3 },
});
const override = {
  fleets: { ...fleets, "sidekiq-push": thin("sidekiq-push"), "sidekiq-pull": thin("sidekiq-pull") },
};
const KEY = "mastodon:database.pgbouncer.defaultPoolSize";

test("GIVEN two fleets below the shared pool WHEN the config is parsed THEN the shared key is warned about once", () => {
  const { warnings } = parseStackConfig({ ...stackConfig("production"), ...override });
  const shared = warnings.filter((w) => w.key === KEY);
  expect(shared).toHaveLength(1);
  expect(shared[0]!.message).toContain("more than the 6 client connections one host opens");
});

test("WHEN the program runs THEN pulumi up shows that warning once", async () => {
  const run = await runStack("production", override);
  const lines = (run.warnings ?? []).filter((w) => w.includes(KEY));
  expect(lines).toHaveLength(1);
});
