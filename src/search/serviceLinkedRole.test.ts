/**
 * The account's service-linked role a VPC OpenSearch domain needs: the stack names the command
 * that creates it and never creates it itself; the fake cloud refuses and accepts as AWS does.
 */
import * as path from "path";
import * as aws from "@pulumi/aws";
import {
  OPENSEARCH_SERVICE_ROLE,
  SEARCH_SERVICE_ROLE_MISSING,
  createServiceLinkedRoleCommand,
} from "../aws/serviceLinkedRoles";
import { FAKE_ACCOUNT, type FakeCloudOptions } from "../testing/fakeCloud";
import { NameRefusedError, ProgramError, runUnderMocks } from "../testing/mocks";
import { readStackFile } from "../config/stackFile";
import program from "../../index";
import { ROOT, all, find, runStack } from "../../test/helpers";

const DOMAIN = "aws:opensearch/domain:Domain";

describe("search: the account's service-linked role for VPC domains", () => {
  /** The production stack as the plan runs it, in an account described by `cloud`. */
  const runProduction = (cloud: FakeCloudOptions) => {
    const file = readStackFile(path.join(ROOT, "stacks"), "production");
    return runUnderMocks(program, {
      project: "mastodon-aws",
      stack: "production",
      config: file.config,
      secretKeys: file.secretKeys,
      cloud,
    });
  };
  const declare = (cloud: FakeCloudOptions, declareResources: () => void) =>
    runUnderMocks(
      () => {
        declareResources();
        return {};
      },
      { project: "p", stack: "s", config: { "aws:region": "us-east-1" }, cloud },
    );
  const vpcDomain = () =>
    new aws.opensearch.Domain("es", {
      clusterConfig: { instanceType: "t3.small.search" },
      vpcOptions: { subnetIds: ["subnet-1"] },
    });

  test("a fresh account: the stack fails at preview, naming the one command that creates the role", async () => {
    const error = await runProduction({ serviceLinkedRoles: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProgramError);
    expect((error as Error).message).toContain(
      `mastodon-search: ${SEARCH_SERVICE_ROLE_MISSING} This account has no ${OPENSEARCH_SERVICE_ROLE.name}: create it once per account with \`aws iam create-service-linked-role --aws-service-name opensearchservice.amazonaws.com\``,
    );
  });

  test("an account with only the legacy Elasticsearch role keeps using it: the stack plans", async () => {
    const run = await runProduction({ serviceLinkedRoles: ["es.amazonaws.com"] });
    expect(find(run, DOMAIN).inputs["vpcOptions"]).toMatchObject({ subnetIds: expect.any(Array) });
  });

  test("the stack never creates the account's role (IAM would refuse it where it exists)", async () => {
    const run = await runStack("production");
    expect(all(run, "aws:iam/serviceLinkedRole:ServiceLinkedRole")).toEqual([]);
  });

  test("the fake cloud refuses a VPC domain in an account without the role, as AWS does", async () => {
    const error = await declare({ serviceLinkedRoles: [] }, vpcDomain).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NameRefusedError);
    expect((error as NameRefusedError).refusals.map((r) => [r.resource, r.property])).toEqual([
      ["es", "vpcOptions"],
    ]);
    expect((error as Error).message).toContain(SEARCH_SERVICE_ROLE_MISSING);
    await expect(declare({}, vpcDomain)).resolves.toBeDefined();
  });

  test("the fake cloud refuses creating a service-linked role the account already has, and accepts a new one", async () => {
    const role = () =>
      new aws.iam.ServiceLinkedRole("slr", { awsServiceName: OPENSEARCH_SERVICE_ROLE.service });
    await expect(declare({}, role)).rejects.toThrow(
      `Service role name ${OPENSEARCH_SERVICE_ROLE.name} has been taken in this account`,
    );
    // A fresh account: created, named and placed by AWS; a domain after it is accepted.
    const run = await declare({ serviceLinkedRoles: [] }, () => {
      role();
      vpcDomain();
    });
    expect(find(run, "aws:iam/serviceLinkedRole:ServiceLinkedRole").id).toBe(
      `arn:aws:iam::${FAKE_ACCOUNT}:role/aws-service-role/opensearchservice.amazonaws.com/${OPENSEARCH_SERVICE_ROLE.name}`,
    );
    expect(createServiceLinkedRoleCommand(OPENSEARCH_SERVICE_ROLE)).toBe(
      "aws iam create-service-linked-role --aws-service-name opensearchservice.amazonaws.com",
    );
  });
});
