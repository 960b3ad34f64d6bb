/**
 * DNS under Pulumi's mocks: aliases point the web domain at the ALB and the media domain at
 * CloudFront, in the stack's zone; then the component on its own over plain names and zones.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig } from "../config";
import { runUnderMocks } from "../testing/mocks";
import { type AliasTarget, DnsRecords } from "./dnsRecords";
import { STACKS, all, find, resolve, runStack, stackConfig, stateOf } from "../../test/helpers";

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

describe("DnsRecords on its own", () => {
  const OPTIONS = { project: "p", stack: "s", config: { "aws:region": "eu-west-1" } };
  const ZONE = "Z0123456789TEST";
  /** An ALB's canonical hosted zone in eu-west-1 (what LoadBalancer.zoneId resolves to there). */
  const ALB_ZONE = "Z32O12XQLNTSW2";
  const CLOUDFRONT_ZONE = "Z2FDTNDATAQYW2";
  const web: AliasTarget = {
    name: "social.example.org",
    dnsName: "edge-alb-1234567-890.eu-west-1.elb.amazonaws.com",
    zoneId: ALB_ZONE,
    ipv6: false,
  };
  const media: AliasTarget = {
    name: "files.social.example.org",
    dnsName: "d111111abcdef8.cloudfront.net",
    zoneId: CLOUDFRONT_ZONE,
    ipv6: true,
  };
  /** WHEN: a program that builds this one DnsRecords runs under the mocks. */
  const alone = async (aliases: AliasTarget[], name = "dns") => {
    let dns: DnsRecords | undefined;
    const run = await runUnderMocks(() => {
      dns = new DnsRecords(name, { zoneId: ZONE, aliases });
      return {};
    }, OPTIONS);
    return { run, dns: dns as DnsRecords };
  };

  test("GIVEN an IPv4 ALB target and a dual-stack CloudFront target, THEN an A record for the first, A and AAAA for the second, all in the given zone", async () => {
    const { run } = await alone([web, media]);
    expect(
      all(run, RECORD).map((r) => [r.name, r.inputs["zoneId"], r.inputs["name"], r.inputs["type"]]),
    ).toEqual([
      ["dns-social.example.org-a", ZONE, "social.example.org", "A"],
      ["dns-files.social.example.org-a", ZONE, "files.social.example.org", "A"],
      ["dns-files.social.example.org-aaaa", ZONE, "files.social.example.org", "AAAA"],
    ]);
    // Children of the component; alias records take no TTL (Route 53 answers with the target's).
    expect(all(run, RECORD).every((r) => r.parent === "dns" && r.inputs["ttl"] === undefined)).toBe(true);
  });

  test("GIVEN a load balancer target, THEN Route 53 evaluates its health; GIVEN CloudFront's zone, THEN it does not (Route 53 refuses it there)", async () => {
    const { run } = await alone([web, media]);
    expect(find(run, RECORD, "dns-social.example.org-a").inputs["aliases"]).toEqual([
      { name: web.dnsName, zoneId: ALB_ZONE, evaluateTargetHealth: true },
    ]);
    for (const type of ["a", "aaaa"])
      expect(find(run, RECORD, `dns-files.social.example.org-${type}`).inputs["aliases"]).toEqual([
        { name: media.dnsName, zoneId: CLOUDFRONT_ZONE, evaluateTargetHealth: false },
      ]);
  });

  test("GIVEN a dual-stack load balancer target whose zone is known only at run time, THEN both its records evaluate target health", async () => {
    const { run } = await alone([
      { ...web, zoneId: pulumi.output(Promise.resolve(ALB_ZONE)), ipv6: true },
      { ...media, zoneId: pulumi.output(Promise.resolve(CLOUDFRONT_ZONE)) },
    ]);
    const health = Object.fromEntries(
      all(run, RECORD).map((r) => [r.name, (r.inputs["aliases"] as any[])[0].evaluateTargetHealth]),
    );
    expect(health).toEqual({
      "dns-social.example.org-a": true,
      "dns-social.example.org-aaaa": true,
      "dns-files.social.example.org-a": false,
      "dns-files.social.example.org-aaaa": false,
    });
  });

  test("WHEN it runs, THEN fqdns holds each alias's A record name, in the order of aliases, one per alias whatever its record types", async () => {
    const { run, dns } = await alone([media, web]);
    expect(dns.fqdns).toHaveLength(2);
    expect(await resolve(pulumi.all(dns.fqdns))).toEqual([
      stateOf(run, RECORD, "dns-files.social.example.org-a")["fqdn"],
      stateOf(run, RECORD, "dns-social.example.org-a")["fqdn"],
    ]);
    expect(await resolve(pulumi.all(dns.fqdns))).toEqual(["files.social.example.org", "social.example.org"]);
  });

  test("GIVEN no aliases, THEN it declares no record and its fqdns are empty", async () => {
    const { run, dns } = await alone([]);
    expect(all(run, RECORD)).toEqual([]);
    expect(dns.fqdns).toEqual([]);
  });

  test("GIVEN two instances aliasing the same names, THEN their records' logical names differ by the component's name", async () => {
    const run = await runUnderMocks(() => {
      for (const name of ["blue-dns", "green-dns"])
        new DnsRecords(name, {
          zoneId: name === "blue-dns" ? ZONE : "Z9876543210TEST",
          aliases: [web, media],
        });
      return {};
    }, OPTIONS);
    const names = all(run, RECORD).map((r) => r.name);
    expect(names).toHaveLength(6);
    expect(new Set(names).size).toBe(6);
    expect(names.filter((n) => n.startsWith("blue-dns-"))).toHaveLength(3);
  });
});
