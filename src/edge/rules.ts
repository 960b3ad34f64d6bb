/** The edge: certificates, DNS zones and the ALB's routing to the streaming ports. */
import type { PathSegment, Problem } from "../config/problems";
import { type Rule, error } from "../config/rules/rule";

/** Certificates and DNS: what the edge needs to serve the configured domains over HTTPS. */
export const edgeConsistency: Rule = (config) => {
  const problems: Problem[] = [];
  if (config.media.customDomain && !config.media.certificateArn && !config.dns) {
    problems.push(
      error(
        ["media", "certificateArn"],
        undefined,
        `is required with mastodon:media.customDomain ${config.media.customDomain} unless mastodon:dns is set: CloudFront needs an ACM certificate for the domain, issued in us-east-1 (with mastodon:dns the package requests and validates one there)`,
      ),
    );
  }
  if (!config.loadBalancer.certificateArn && !config.dns) {
    problems.push(
      error(
        ["loadBalancer", "certificateArn"],
        undefined,
        `is required unless mastodon:dns is set: the HTTPS listener needs a certificate for ${config.webDomain} (an ACM ARN in the stack's region, or set mastodon:dns.zoneId and zoneName and the package requests and DNS-validates one)`,
      ),
    );
  }
  if (config.dns) {
    const { zoneName } = config.dns;
    const inZone = (domain: string) => domain === zoneName || domain.endsWith(`.${zoneName}`);
    const domains: [PathSegment[], string | undefined][] = [
      [config.webDomain === config.domain ? ["domain"] : ["webDomain"], config.webDomain],
      [["media", "customDomain"], config.media.customDomain],
    ];
    for (const [path, domain] of domains) {
      if (domain && !inZone(domain)) {
        problems.push(
          error(
            path,
            domain,
            `is not inside mastodon:dns.zoneName ${zoneName}; its records and certificate validation go in that zone. Use a name under ${zoneName}, or another zone.`,
          ),
        );
      }
    }
  }
  return problems;
};

/**
 * The HTTPS listener's rules, by priority (Elastic Load Balancing API Reference, CreateRule,
 * Priority: 1-50000, unique per listener, the lowest evaluated first); requests no rule matches go
 * to the default action, Puma. Their paths do not overlap, so the order only keeps them apart.
 */
export const LISTENER_RULE_PRIORITIES = { streaming: 10, legacySystemPaths: 20 } as const;

/**
 * The ALB reaches every mastodon-streaming@ port through one target group per port, joined in one
 * weighted forward action, which takes at most 5 target groups (src/edge/loadBalancer.ts). Equal
 * weights spread load evenly only if every streaming host runs the same number of processes.
 */
export const MAX_STREAMING_PROCESSES = 5;
export const streamingRouting: Rule = (config) => {
  const problems: Problem[] = [];
  const streaming = config.fleets.filter((f) => f.streaming);
  for (const fleet of streaming) {
    const processes = fleet.streaming?.processes ?? 0;
    if (processes > MAX_STREAMING_PROCESSES) {
      problems.push(
        error(
          ["fleets", fleet.name, "streaming", "processes"],
          processes,
          `exceeds ${MAX_STREAMING_PROCESSES}: the ALB reaches each streaming port through its own target group, and one forward action takes at most ${MAX_STREAMING_PROCESSES}. Run more hosts instead (raise maxSize), or a larger instance with ${MAX_STREAMING_PROCESSES} processes.`,
        ),
      );
    }
  }
  const counts = new Set(streaming.map((f) => f.streaming?.processes));
  if (counts.size > 1) {
    for (const fleet of streaming.slice(1)) {
      problems.push(
        error(
          ["fleets", fleet.name, "streaming", "processes"],
          fleet.streaming?.processes,
          `differs from fleet ${streaming[0]?.name} (${streaming[0]?.streaming?.processes}): the ALB weighs each streaming port's target group equally, so every streaming host must run the same number of processes. Give all streaming fleets the same streaming.processes.`,
        ),
      );
    }
  }
  return problems;
};
