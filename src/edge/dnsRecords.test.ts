/**
 * DNS under Pulumi's mocks: aliases point the web domain at the ALB and the media domain at
 * CloudFront, in the stack's zone.
 */
import { parseStackConfig } from "../config";
import { STACKS, all, runStack, stackConfig, stateOf } from "../../test/helpers";

const RECORD = "aws:route53/record:Record";
const DISTRIBUTION = "aws:cloudfront/distribution:Distribution";

describe.each(STACKS)("stack %s", (stack) => {
  const { config } = parseStackConfig(stackConfig(stack), stack);
  let run: Awaited<ReturnType<typeof runStack>>;
  beforeAll(async () => {
    run = await runStack(stack);
  });

  test("DNS aliases point the web domain at the ALB and the media domain at CloudFront", () => {
    const aliases = all(run, RECORD).filter((r) => r.parent === "mastodon-dns");
    if (!config.dns) {
      expect(aliases).toEqual([]);
      return;
    }
    const byName = Object.fromEntries(
      aliases.map((r) => [`${r.inputs["name"]} ${r.inputs["type"]}`, (r.inputs["aliases"] as any[])[0]]),
    );
    const alb = stateOf(run, "aws:lb/loadBalancer:LoadBalancer", "mastodon-lb-alb");
    expect(byName[`${config.webDomain} A`]).toEqual({
      name: alb["dnsName"],
      zoneId: alb["zoneId"],
      evaluateTargetHealth: true,
    });
    if (config.media.customDomain) {
      const cdn = stateOf(run, DISTRIBUTION, "mastodon-media-cdn");
      for (const type of ["A", "AAAA"]) {
        // Route 53 refuses EvaluateTargetHealth on an alias to CloudFront (API Reference, AliasTarget).
        expect(byName[`${config.media.customDomain} ${type}`]).toEqual({
          name: cdn["domainName"],
          zoneId: cdn["hostedZoneId"],
          evaluateTargetHealth: false,
        });
      }
    }
    expect(aliases.every((r) => r.inputs["zoneId"] === config.dns?.zoneId)).toBe(true);
  });
});
