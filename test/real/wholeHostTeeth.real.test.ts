/**
 * The whole-host scenarios have teeth (issue 19): a rendered user-data broken the way defects were
 * (or could be) makes the scenario that should catch it fail. Each mutates the user-data's text
 * before booting it; the harness and the checks are those of wholeHost*.real.test.ts.
 *
 * - The logs agent's config at the path the agent's own ctl removes after fetch-config (the defect
 *   a0287e6 fixed): the first boot is ready, the reboot is not (the stand-in ctl does what
 *   cwa_config does: rm -f etc/amazon-cloudwatch-agent.json).
 * - The web unit without After=mastodon-images.service: Puma starts before its image is pulled,
 *   fails, and is restarted; the host still answers, so only "none restarted" in expectReady
 *   catches it.
 *
 * Skipped with the reason printed where no host can boot here.
 */
import {
  BOOT_MS,
  READY_MS,
  bootToOutcome,
  expectReady,
  readinessUnits,
  userData,
  bootSuite,
} from "../boot/scenarios";

const { bootTest, boots } = bootSuite("teeth");

/** `text` with `from` replaced everywhere; throws when it is not there (the mutation must bite). */
function mutate(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`the user-data has no ${from}`);
  return text.replaceAll(from, to);
}

bootTest(
  "a logs agent config at the path the agent's ctl removes: the first boot is ready, the reboot is not",
  async () => {
    const ud = mutate(
      await userData("small", "all"),
      "/etc/mastodon/amazon-cloudwatch-agent.json",
      "/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json",
    );
    const { boot, completion } = await bootToOutcome(boots, "small/all, agent config under /opt", ud);
    expectReady(boot, completion);
    await boot.halt();
    await boot.boot();
    const until = Date.now() + READY_MS;
    let state = "";
    while (Date.now() < until && !["active", "failed"].includes(state)) {
      await new Promise((r) => setTimeout(r, 2000));
      state = boot.exec(["systemctl", "is-active", "mastodon-logs-agent.service"]).stdout.trim();
    }
    expect(state).toBe("failed");
    expect(readinessUnits(boot)).toContain("mastodon-logs-agent.service");
  },
  BOOT_MS,
);

bootTest(
  "production's web unit without After=mastodon-images.service: the host answers, but its boot is not ready as rendered",
  async () => {
    const web = await userData("production", "web");
    const ud = mutate(
      web,
      "After=network-online.target mastodon-images.service mastodon-pgbouncer.service",
      "After=network-online.target mastodon-pgbouncer.service",
    );
    const { boot, completion } = await bootToOutcome(boots, "production/web without After=images", ud, {
      serves: [await userData("production", "sidekiq-scheduler")],
    });
    expect(completion?.["LifecycleActionResult"]).toBe("CONTINUE");
    expect(() => expectReady(boot, completion)).toThrow(/mastodon-web.service restarted [1-9]/);
  },
  BOOT_MS,
);
