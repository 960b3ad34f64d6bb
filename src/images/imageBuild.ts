/**
 * mastodon:image.source "image-builder": EC2 Image Builder bakes, in the operator's account, one AMI
 * per architecture the fleets run, from the stack's mastodon:version on the pinned Debian 12 AMI
 * (src/images/imageRecipe.ts renders what runs on the build instance). The AMIs are built during
 * `pulumi up` (an Image resource waits for its build) and the fleets' launch templates boot them
 * with the native units: no container runtime on the hosts.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { fitLogicalName } from "../aws/naming";
import { DEFAULTS } from "../vocabulary/defaults";
import { assumeRolePolicy } from "../aws/policies";
import {
  BUILD_INSTANCE_TYPES,
  BUILD_VOLUME_GIB,
  recipeVersion,
  buildUserData,
  renderComponentDocument,
} from "./imageRecipe";
import { Architecture } from "../vocabulary/catalog";
import { providedType, withFormerType } from "../aws/typeToken";

/** An AMI id per architecture (the parent images the builds start from). */
export interface ArchitectureImagesArgs {
  /** The arm64 (Graviton) parent AMI (@default none: no arm64 build). */
  arm64?: pulumi.Input<string>;
  /** The x86_64 (Intel, AMD) parent AMI (@default none: no x86_64 build). */
  x86_64?: pulumi.Input<string>;
}

/** The AMI each build distributed, by architecture. */
export interface BuiltImages {
  /** The arm64 AMI's id, when parentImages had one. */
  arm64?: pulumi.Output<string>;
  /** The x86_64 AMI's id, when parentImages had one. */
  x86_64?: pulumi.Output<string>;
}

/** The Image Builder image of each architecture built. */
export interface ImageBuilds {
  /** The arm64 build, when parentImages had one. */
  arm64?: aws.imagebuilder.Image;
  /** The x86_64 build, when parentImages had one. */
  x86_64?: aws.imagebuilder.Image;
}

export interface ImageBuildArgs {
  /** The Mastodon release tag to install (mastodon:version). */
  version: string;
  /** Where the build pulls the release images from (mastodon:image.registry). */
  registry: string;
  /**
   * The pinned Debian 12 AMI of each architecture the fleets run, the recipe's parent image: one
   * build per architecture given.
   */
  parentImages: ArchitectureImagesArgs;
  /** The parent images' root device (@default "/dev/xvda", Debian's). */
  rootDeviceName?: string;
  /** The VPC the build instances run in. */
  vpcId: pulumi.Input<string>;
  /** A subnet with egress through NAT (apt, ghcr.io, SSM, the CloudWatch agent's bucket). */
  subnetId: pulumi.Input<string>;
  /** Tags on every resource of the build (@default {}). */
  tags?: Record<string, string>;
}

/** The order builds are declared in: every architecture of the catalog. */
const ARCHITECTURES: Architecture[] = Object.values(Architecture);

export class ImageBuild extends pulumi.ComponentResource {
  /** The built AMI id by architecture. */
  public readonly amis: BuiltImages;
  /** The Image Builder component that installs Mastodon's version on the build instance. */
  public readonly component: aws.imagebuilder.Component;
  /** The Image Builder image of each architecture built: each waits for its build. */
  public readonly images: ImageBuilds = {};

  constructor(name: string, args: ImageBuildArgs, opts?: pulumi.ComponentResourceOptions) {
    super(providedType("ImageBuild"), name, {}, withFormerType("mastodon:compute:ImageBuild", opts));
    const parent = { parent: this };
    if (!ARCHITECTURES.some((architecture) => args.parentImages[architecture] !== undefined))
      throw new Error(`${name}: parentImages names no architecture to build (arm64 or x86_64)`);
    const version = recipeVersion(args.version);
    // The version tags only what is rebuilt for it: the role, group and instance settings stay.
    const baseTags = { ...args.tags };
    const tags = { ...baseTags, "mastodon:version": args.version };
    const region = aws.getRegionOutput({}, parent).region;

    // The build instance reaches Debian's mirrors, the image registry, SSM and S3 (AWS's public bucket
    // of the CloudWatch agent among it: HTTPS through the NAT, or in the bucket's own Region through
    // the VPC's S3 gateway endpoint, which has no policy of its own, src/network/network.ts), as
    // the fleet hosts in the same subnets already do; nothing reaches it.
    const group = new aws.ec2.SecurityGroup(
      `${name}-build`,
      { vpcId: args.vpcId, description: `${name}: Image Builder instance, egress only`, tags: baseTags },
      parent,
    );
    for (const port of [80, 443]) {
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-build-out-${port}`,
        { securityGroupId: group.id, ipProtocol: "tcp", fromPort: port, toPort: port, cidrIpv4: "0.0.0.0/0" },
        parent,
      );
    }
    // EC2 Image Builder User Guide, "Prerequisites": these managed policies "must be attached" to the
    // instance profile's role, AmazonSSMManagedInstanceCore among them (Image Builder drives the
    // build through the SSM Agent), so this role keeps it where the hosts carry an inline copy
    // without its read of every parameter (src/aws/ssmAgentPolicy.ts). The build reads no parameter:
    // the component pulls the release images from mastodon:image.registry and installs them
    // (mastodon-image-build.sh), then the CloudWatch agent from AWS's public bucket with an unsigned
    // GET (install-cloudwatch-agent.sh: no permission of this role is used), and no secret is
    // rendered into the AMI. It does run in the stack's account, where the stack's parameters may
    // already exist (on every rebuild they do), for the build's length only, running the same
    // release's programs the fleets later run with their narrower roles.
    const role = new aws.iam.Role(
      fitLogicalName("aws:iam/role:Role", name, "build"),
      {
        description: `${name}: EC2 Image Builder instance`,
        assumeRolePolicy: assumeRolePolicy("ec2"),
        tags: baseTags,
      },
      parent,
    );
    const attachments = ["AmazonSSMManagedInstanceCore", "EC2InstanceProfileForImageBuilder"].map(
      (policy) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-${policy}`,
          { role: role.name, policyArn: `arn:aws:iam::aws:policy/${policy}` },
          parent,
        ),
    );
    const profile = new aws.iam.InstanceProfile(`${name}-build`, { role: role.name, tags: baseTags }, parent);

    this.component = new aws.imagebuilder.Component(
      `${name}-mastodon`,
      {
        platform: "Linux",
        version,
        description: `Mastodon ${args.version} from its release images`,
        data: renderComponentDocument({ version: args.version, registry: args.registry }),
        supportedOsVersions: ["Debian 12"],
        tags,
      },
      parent,
    );

    this.amis = {};
    for (const architecture of ARCHITECTURES) {
      const parentImage = args.parentImages[architecture];
      if (parentImage === undefined) continue;
      const arch = `${name}-${architecture.replace("_", "-")}`;
      const recipe = new aws.imagebuilder.ImageRecipe(
        `${arch}-recipe`,
        {
          parentImage,
          version,
          description: `Mastodon ${args.version} on Debian 12 (${architecture})`,
          components: [{ componentArn: this.component.arn }],
          blockDeviceMappings: [
            {
              deviceName: args.rootDeviceName ?? DEFAULTS.fleet.rootDeviceName,
              ebs: {
                volumeSize: BUILD_VOLUME_GIB,
                volumeType: "gp3",
                encrypted: "true",
                deleteOnTermination: "true",
              },
            },
          ],
          // The agent the user data installs stays: Session Manager and the migrations document use it.
          systemsManagerAgent: { uninstallAfterBuild: false },
          userDataBase64: Buffer.from(buildUserData()).toString("base64"),
          workingDirectory: "/var/tmp",
          tags,
        },
        parent,
      );
      const infrastructure = new aws.imagebuilder.InfrastructureConfiguration(
        `${arch}-infrastructure`,
        {
          description: `${name}: builds Mastodon ${architecture} AMIs`,
          instanceProfileName: profile.name,
          instanceTypes: [BUILD_INSTANCE_TYPES[architecture]],
          subnetId: args.subnetId,
          securityGroupIds: [group.id],
          instanceMetadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
          terminateInstanceOnFailure: true,
          resourceTags: baseTags,
          tags: baseTags,
        },
        { parent: this, dependsOn: attachments },
      );
      const distribution = new aws.imagebuilder.DistributionConfiguration(
        `${arch}-distribution`,
        {
          description: `${name}: Mastodon ${args.version} ${architecture} AMI in the stack's region`,
          distributions: [
            {
              region,
              amiDistributionConfiguration: {
                name: `${arch}-mastodon-${args.version}-{{ imagebuilder:buildDate }}`,
                description: `Mastodon ${args.version} (${architecture}), native units`,
                amiTags: tags,
              },
            },
          ],
          tags,
        },
        parent,
      );
      const image = new aws.imagebuilder.Image(
        `${arch}-image`,
        {
          imageRecipeArn: recipe.arn,
          infrastructureConfigurationArn: infrastructure.arn,
          distributionConfigurationArn: distribution.arn,
          // The validate phase checks the contract on the build instance; no separate test instance.
          imageTestsConfiguration: { imageTestsEnabled: false },
          enhancedImageMetadataEnabled: true,
          tags,
        },
        { parent: this, customTimeouts: { create: "90m" } },
      );
      this.images[architecture] = image;
      this.amis[architecture] = pulumi.all([image.outputResources, region]).apply(([resources, r]) => {
        const ami = resources.flatMap((o) => o.amis).find((a) => a.region === r) ?? resources[0]?.amis[0];
        if (!ami) throw new Error(`${name}: the ${architecture} build distributed no AMI`);
        return ami.image;
      });
    }
    this.registerOutputs({ amis: this.amis });
  }
}
