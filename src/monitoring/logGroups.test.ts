/**
 * Each fleet's log group under Pulumi's mocks, and the agent config its hosts ship logs with.
 */
import { parseStackConfig } from "../config";
import { LOGS_PATHS, agentConfig, fleetLogGroupName } from "./logs";
import { fleetArtifacts } from "../cli/fleetArtifacts";
import { find, runStack, stackConfig } from "../../test/helpers";

test("each fleet's log group keeps logs.retentionDays, and its hosts' agent ships to that group", async () => {
  const run = await runStack("dev", { logs: { retentionDays: 90 } });
  const { config } = parseStackConfig(stackConfig("dev"));
  for (const fleet of config.fleets) {
    const group = find(run, "aws:cloudwatch/logGroup:LogGroup", `mastodon-${fleet.name}-logs`);
    expect(group.inputs["retentionInDays"]).toBe(90);
    const name = fleetLogGroupName("/mastodon/mastodon-aws/dev/mastodon", fleet.name);
    expect(group.inputs["name"]).toBe(name);
    const host = fleetArtifacts(run.resources).find((a) => a.fleet === fleet.name)!;
    expect(JSON.parse(host.files[LOGS_PATHS.agentConfig]!)).toEqual(agentConfig(name));
  }
});
