/**
 * The public side of the topology (pure): the internet and Route 53 in the first column, then the
 * public subnets (the ALB with a row per listener rule, the NAT gateways one column per zone), and
 * CloudFront in front of the media bucket.
 */
import type { EgressPlan } from "../network/subnets";
import type { Fleet, StackConfig } from "../config/stackConfig";
import { DEFAULTS, STREAMING_PATHS } from "../vocabulary/defaults";
import type { DotNode, DotStatement } from "./dot";
import { COLORS, bold, cell, lines, row, small, storeNode, table } from "./topologyLabels";

/** Column 0: the internet. */
export function internetRank(config: StackConfig): DotStatement {
  return {
    kind: "subgraph",
    id: "internet_rank",
    attrs: { rank: "same" },
    body: [
      {
        kind: "node",
        id: "internet",
        attrs: {
          shape: "plain",
          label: {
            html: table(
              { BGCOLOR: COLORS.internet },
              row(cell({}, ...lines(bold("Internet"), small("browsers, apps"), small("federated servers")))),
            ),
          },
        },
      },
      ...(config.dns
        ? [
            storeNode(
              "dns",
              COLORS.internet,
              1,
              `Route 53 ${config.dns.zoneName}`,
              ["aliases to the ALB and CloudFront", "SES DKIM, MAIL FROM, DMARC"],
              undefined,
            ),
          ]
        : []),
    ],
  };
}

/** Column 1: the public subnets: the ALB and the NAT gateways. */
export function publicSubnets(
  config: StackConfig,
  fleets: readonly Fleet[],
  egress: EgressPlan,
  zoneCount: number,
): DotStatement[] {
  const firstRow = (wants: (f: Fleet) => boolean) => fleets.findIndex(wants);
  const albRules = [
    {
      port: "streaming",
      row: firstRow((f) => f.streaming !== undefined),
      text: `${STREAMING_PATHS[0]} (WebSocket) to streaming :${config.streamingPorts.join(" :")}`,
    },
    { port: "web", row: firstRow((f) => f.web !== undefined), text: `default to web :${DEFAULTS.web.port}` },
  ].sort((x, y) => y.row - x.row);
  const alb: DotNode = {
    kind: "node",
    id: "alb",
    attrs: {
      shape: "plain",
      label: {
        html: table(
          { BGCOLOR: COLORS.vpc },
          row(
            cell(
              {},
              ...lines(
                bold(`ALB https ${config.webDomain}`),
                small(
                  `TLS 1.2+, idle timeout ${config.loadBalancer.idleTimeoutSeconds} s, ${zoneCount} zones`,
                ),
              ),
            ),
          ),
          // One row per listener rule, in the reverse order of the fleets they route to: the edges
          // leave and enter on the west side, the upper rule's around the lower's, so they cannot cross.
          ...albRules.map((rule) => row(cell({ PORT: rule.port }, small(rule.text)))),
        ),
      },
    },
  };
  const natCells = Array.from({ length: zoneCount }, (_, i) =>
    i < egress.natGateways ? ["NAT gateway"] : [],
  );
  return [
    alb,
    ...(egress.natGateways > 0
      ? [
          storeNode(
            "nat",
            COLORS.vpc,
            zoneCount,
            egress.natGateways === 1 ? "one NAT gateway" : "a NAT gateway per zone",
            ["the fleets' way out: federation, SES, AWS APIs"],
            natCells,
          ),
        ]
      : []),
  ];
}

/** Column 1 also holds CloudFront (global), in front of the media bucket. */
export function cdnNode(config: StackConfig): DotNode {
  return storeNode(
    "cdn",
    COLORS.regional,
    1,
    `CloudFront ${config.media.customDomain ?? "(its own domain)"}`,
    [`${config.media.priceClass}, reads S3 by origin access control`],
    undefined,
  );
}
