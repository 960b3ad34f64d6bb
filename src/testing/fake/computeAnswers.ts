/** What EC2, Auto Scaling, IAM and KMS answer (ids, ARNs, computed attributes). */
import {
  type Answer,
  type Ctx,
  FAKE_ACCESS_KEY_ID,
  FAKE_ACCOUNT,
  arn,
  byName,
  ec2,
  fakeSecret,
  globalArn,
  hex,
  opaque,
  upperAlnum,
  uuid,
} from "./shapes";
import { serviceLinkedRoleOf, serviceLinkedRolePath } from "../../aws/serviceLinkedRoles";

export const COMPUTE_ANSWERS: Record<string, (c: Ctx) => Answer> = {
  "aws:ec2/vpc:Vpc": ec2("vpc", "vpc", (c) => ({
    ipv6CidrBlock: c.inputs["assignGeneratedIpv6CidrBlock"] ? "2600:1f18:4a3:6e00::/56" : "",
    defaultRouteTableId: `rtb-${hex(`${c.seed}:rtb`, 17)}`,
    defaultSecurityGroupId: `sg-${hex(`${c.seed}:sg`, 17)}`,
    ownerId: FAKE_ACCOUNT,
  })),
  "aws:ec2/subnet:Subnet": ec2("subnet", "subnet"),
  "aws:ec2/routeTable:RouteTable": ec2("rtb", "route-table"),
  "aws:ec2/route:Route": (c) => ({ id: `r-${c.inputs["routeTableId"]}${hex(c.seed, 10)}`, state: {} }),
  "aws:ec2/routeTableAssociation:RouteTableAssociation": ec2("rtbassoc", "route-table-association"),
  "aws:ec2/internetGateway:InternetGateway": ec2("igw", "internet-gateway"),
  "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway": ec2("eigw", "egress-only-internet-gateway"),
  "aws:ec2/natGateway:NatGateway": ec2("nat", "natgateway", () => ({
    publicIp: "203.0.113.10",
    privateIp: "10.0.0.5",
  })),
  "aws:ec2/eip:Eip": ec2("eipalloc", "elastic-ip", () => ({ publicIp: "203.0.113.10", domain: "vpc" })),
  "aws:ec2/vpcEndpoint:VpcEndpoint": ec2("vpce", "vpc-endpoint", () => ({ prefixListId: "pl-63a5400a" })),
  "aws:ec2/securityGroup:SecurityGroup": ec2("sg", "security-group", () => ({ ownerId: FAKE_ACCOUNT })),
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ec2("sgr", "security-group-rule"),
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ec2("sgr", "security-group-rule"),
  "aws:ec2/instance:Instance": ec2("i", "instance", () => ({
    privateIp: "10.0.0.10",
    privateDns: "ip-10-0-0-10.ec2.internal",
  })),
  "aws:ebs/volume:Volume": ec2("vol", "volume"),
  "aws:ec2/volumeAttachment:VolumeAttachment": opaque("vai-"),
  "aws:ec2/launchTemplate:LaunchTemplate": ec2("lt", "launch-template", () => ({
    latestVersion: 1,
    defaultVersion: 1,
  })),
  // EC2 Image Builder ARNs ("Actions, resources, and condition keys for Amazon EC2 Image Builder"):
  // component and recipe ARNs carry name, version and build number; an image, its recipe's name.
  "aws:imagebuilder/component:Component": (c) => {
    const resourceArn = arn(
      "imagebuilder",
      c.region,
      `component/${c.name.toLowerCase()}/${String(c.inputs["version"])}/1`,
    );
    return {
      id: resourceArn,
      state: { arn: resourceArn, owner: FAKE_ACCOUNT, type: "BUILD", encrypted: true },
    };
  },
  "aws:imagebuilder/imageRecipe:ImageRecipe": (c) => {
    const resourceArn = arn(
      "imagebuilder",
      c.region,
      `image-recipe/${c.name.toLowerCase()}/${String(c.inputs["version"])}`,
    );
    return { id: resourceArn, state: { arn: resourceArn, owner: FAKE_ACCOUNT, platform: "Linux" } };
  },
  "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration": (c) => {
    const resourceArn = arn("imagebuilder", c.region, `infrastructure-configuration/${c.name.toLowerCase()}`);
    return { id: resourceArn, state: { arn: resourceArn } };
  },
  "aws:imagebuilder/distributionConfiguration:DistributionConfiguration": (c) => {
    const resourceArn = arn("imagebuilder", c.region, `distribution-configuration/${c.name.toLowerCase()}`);
    return { id: resourceArn, state: { arn: resourceArn } };
  },
  // The image: built from its recipe, its AMI distributed to the stack's region (outputResources).
  "aws:imagebuilder/image:Image": (c) => {
    const recipe = /image-recipe\/([^/]+)\/([^/]+)$/.exec(String(c.inputs["imageRecipeArn"]));
    const [recipeName, version] = recipe ? [recipe[1], recipe[2]] : [c.logical, "1.0.0"];
    const resourceArn = arn("imagebuilder", c.region, `image/${recipeName}/${version}/1`);
    const ami = `ami-${hex(`${c.seed}:${String(c.inputs["imageRecipeArn"])}`, 17)}`;
    return {
      id: resourceArn,
      state: {
        arn: resourceArn,
        name: recipeName,
        version: `${version}/1`,
        platform: "Linux",
        osVersion: "Debian 12",
        outputResources: [
          {
            amis: [
              {
                region: c.region,
                image: ami,
                name: `${recipeName}-${version}`,
                accountId: FAKE_ACCOUNT,
                description: "",
              },
            ],
            containers: [],
          },
        ],
      },
    };
  },
  "aws:autoscaling/group:Group": (c) => ({
    id: c.name,
    state: {
      arn: arn("autoscaling", c.region, `autoScalingGroup:${uuid(c.seed)}:autoScalingGroupName/${c.name}`),
    },
  }),
  "aws:autoscaling/policy:Policy": (c) => ({
    id: c.name,
    state: {
      arn: arn(
        "autoscaling",
        c.region,
        `scalingPolicy:${uuid(c.seed)}:autoScalingGroupName/${String(c.inputs["autoscalingGroupName"])}:policyName/${c.name}`,
      ),
    },
  }),
  "aws:iam/role:Role": byName(
    (c) => globalArn("iam", `role${c.inputs["path"] ?? "/"}${c.name}`),
    (c) => ({ uniqueId: `AROA${upperAlnum(c.seed, 17)}` }),
  ),
  "aws:iam/instanceProfile:InstanceProfile": byName(
    (c) => globalArn("iam", `instance-profile${c.inputs["path"] ?? "/"}${c.name}`),
    (c) => ({ uniqueId: `AIPA${upperAlnum(c.seed, 17)}` }),
  ),
  // The provider's id is the role's ARN; AWS names and places it by its service
  // (IAM API CreateServiceLinkedRole: /aws-service-role/<service>/<name>[_<suffix>]).
  "aws:iam/serviceLinkedRole:ServiceLinkedRole": (c) => {
    const suffix = c.inputs["customSuffix"];
    const role = serviceLinkedRoleOf(
      String(c.inputs["awsServiceName"]),
      typeof suffix === "string" ? suffix : undefined,
    );
    const path = serviceLinkedRolePath(role);
    const roleArn = globalArn("iam", `role${path}${role.name}`);
    return {
      id: roleArn,
      state: { arn: roleArn, name: role.name, path, uniqueId: `AROA${upperAlnum(c.seed, 17)}` },
    };
  },
  // Inline policies: the provider's id is "<role>:<policy>".
  "aws:iam/rolePolicy:RolePolicy": (c) => ({ id: `${String(c.inputs["role"])}:${c.name}`, state: {} }),
  "aws:iam/userPolicy:UserPolicy": (c) => ({ id: `${String(c.inputs["user"])}:${c.name}`, state: {} }),
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (c) => ({
    id: `${String(c.inputs["role"])}-${hex(c.seed, 26)}`,
    state: {},
  }),
  "aws:iam/user:User": byName(
    (c) => globalArn("iam", `user${c.inputs["path"] ?? "/"}${c.name}`),
    (c) => ({ uniqueId: `AIDA${upperAlnum(c.seed, 17)}` }),
  ),
  "aws:iam/accessKey:AccessKey": (c) => ({
    id: FAKE_ACCESS_KEY_ID,
    state: { sesSmtpPasswordV4: fakeSecret(`${c.logical}-smtp`, 44), status: "Active" },
  }),
  "aws:kms/key:Key": (c) => {
    const id = uuid(c.seed);
    return { id, state: { keyId: id, arn: arn("kms", c.region, `key/${id}`) } };
  },
  "aws:kms/alias:Alias": byName(
    (c) => arn("kms", c.region, c.name),
    (c) => ({ targetKeyArn: arn("kms", c.region, `key/${String(c.inputs["targetKeyId"])}`) }),
  ),
};
