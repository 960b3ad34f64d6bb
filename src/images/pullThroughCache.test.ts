/**
 * The official images through an ECR pull-through cache of ghcr.io: the rule, the images' path in
 * the account's ECR, and a pull policy scoped to the rule's repositories.
 */
import { parseStackConfig } from "../config";
import { type MockRun } from "../testing/mocks";
import { all, configProblems, find, runStack, stackConfig, userDataOf } from "../../test/helpers";

const CREDENTIAL = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/ghcr-AbCdEf";
const RULE = "aws:ecr/pullThroughCacheRule:PullThroughCacheRule";

describe("staging through the cache", () => {
  let run: MockRun;
  beforeAll(async () => {
    run = await runStack("staging", { image: { pullThroughCache: { credentialArn: CREDENTIAL } } });
  });

  test("one cache rule of ghcr.io with the operator's credential, its prefix unique to the project, stack and component", () => {
    expect(find(run, RULE).inputs).toEqual({
      ecrRepositoryPrefix: "mastodon-aws-staging-mastodon",
      upstreamRegistryUrl: "ghcr.io",
      credentialArn: CREDENTIAL,
    });
  });

  test("the hosts pull the release images from the cache's path, with the ECR credential helper", () => {
    const text = userDataOf(run, "web");
    expect(text).toContain(
      "123456789012.dkr.ecr.us-east-1.amazonaws.com/mastodon-aws-staging-mastodon/mastodon/mastodon:v4.6.5",
    );
    expect(text).not.toContain("ghcr.io/mastodon/mastodon:");
    expect(text).toContain("amazon-ecr-credential-helper");
  });

  test("every fleet's role may pull through the rule's repositories only", () => {
    const policies = all(run, "aws:iam/rolePolicy:RolePolicy").filter((p) => p.name.endsWith("-registry"));
    expect(policies).toHaveLength(parseStackConfig(stackConfig("staging")).config.fleets.length);
    for (const p of policies) {
      const doc = JSON.parse(String(p.inputs["policy"]));
      const pull = doc.Statement.find((s: { Sid: string }) => s.Sid === "PullThroughTheCache");
      expect(pull.Resource).toBe(
        "arn:aws:ecr:us-east-1:123456789012:repository/mastodon-aws-staging-mastodon/*",
      );
      expect(pull.Action).toContain("ecr:BatchImportUpstreamImage");
    }
  });

  test("the stack tells npm run upgrade where its hosts pull from: the cache", () => {
    expect(run.outputs["imageRegistry"]).toBe(
      "123456789012.dkr.ecr.us-east-1.amazonaws.com/mastodon-aws-staging-mastodon/mastodon",
    );
  });

  test("the migrations document's default image is the cached release", () => {
    const doc = JSON.parse(
      String(find(run, "aws:ssm/document:Document", "mastodon-migrations").inputs["content"]),
    );
    expect(doc.parameters.image.default).toBe(
      "123456789012.dkr.ecr.us-east-1.amazonaws.com/mastodon-aws-staging-mastodon/mastodon/mastodon:v4.6.5",
    );
  });
});

test("without a cache, no rule and no ECR permission", async () => {
  const run = await runStack("staging");
  expect(all(run, RULE)).toEqual([]);
  expect(all(run, "aws:iam/rolePolicy:RolePolicy").filter((p) => p.name.endsWith("-registry"))).toEqual([]);
});

describe("refusals", () => {
  const problems = (image: Record<string, unknown>) => configProblems({ ...stackConfig("staging"), image });
  test.each([
    [
      { pullThroughCache: { credentialArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:ghcr" } },
      "mastodon:image.pullThroughCache.credentialArn",
      "ecr-pullthroughcache/",
    ],
    [
      {
        source: "ami",
        amiIds: { arm64: "ami-0123456789abcdef0" },
        pullThroughCache: { credentialArn: CREDENTIAL },
      },
      "mastodon:image.pullThroughCache",
      "is read only with mastodon:image.source official",
    ],
    [
      { registry: "quay.io/mastodon", pullThroughCache: { credentialArn: CREDENTIAL } },
      "mastodon:image.registry",
      "is set by mastodon:image.pullThroughCache",
    ],
  ])("%j is refused at %s", (image, key, fragment) => {
    expect(problems(image).find((p) => p.key === key)?.message).toContain(fragment);
  });
});
