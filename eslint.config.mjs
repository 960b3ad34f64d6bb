import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * The floors of src/ (docs/development.md, "Layout"): an import may only point down or sideways.
 * - src/vocabulary/ is the ground floor: it imports nothing but Node's own modules and itself;
 * - the parts (network, database, redis, edge, media, mail, search, translation, images, fleet,
 *   monitoring, budget, upgrade, report) with the shared config/, aws/ and host/ never import
 *   the composition root (stack/), the fake cloud (testing/) or the CLI (cli/);
 * - stack/ never imports testing/ or cli/; testing/ never imports cli/;
 * - nothing in src/ reaches outside it (the program, lib/, provider/, bin/, test/).
 */
const NODE_MODULES = ["child_process", "crypto", "fs", "os", "path", "util", "zlib"];
const leavingSrc = (depth) => `^(\\.\\./){${depth + 1},}`;
const into = (...folders) => `^\\.{1,2}/(.*/)?(${folders.join("|")})(/|$)`;
/** no-restricted-imports for a src/ folder at `depth` below src/, refusing `folders` and leaving src/. */
function floor(files, depth, folders, message) {
  const patterns = [
    { regex: leavingSrc(depth), message: "src/ never imports the program, lib/, provider/, bin/ or test/." },
  ];
  if (folders.length > 0) patterns.push({ regex: into(...folders), message });
  return { files, ignores: ["**/*.test.ts"], rules: { "no-restricted-imports": ["error", { patterns }] } };
}
const ABOVE_PARTS =
  "a part imports only down or sideways: never stack/, testing/ or cli/ (docs/development.md, Layout).";

/**
 * The modules that declare cloud resources: each part's ComponentResources and the builders they
 * call. With the composition root and the fake cloud, only these load @pulumi/* at run time; every
 * other module is pure logic, testable without Pulumi (pulumi-awsx's style).
 */
const RESOURCE_MODULES = [
  "src/aws/privateBucket.ts",
  "src/database/databaseDump.ts",
  "src/database/ownerPassword.ts",
  "src/database/postgresDatabase.ts",
  "src/edge/certificate.ts",
  "src/edge/dnsRecords.ts",
  "src/edge/loadBalancer.ts",
  "src/fleet/fleet.ts",
  "src/fleet/fleetRole.ts",
  "src/fleet/hostFiles.ts",
  "src/fleet/scalingPolicies.ts",
  "src/images/imageBuild.ts",
  "src/images/stackImages.ts",
  "src/mail/mail.ts",
  "src/media/mediaStorage.ts",
  "src/monitoring/monitoring.ts",
  "src/network/network.ts",
  "src/network/securityGroups.ts",
  "src/redis/onHostRedis.ts",
  "src/redis/redisHost.ts",
  "src/redis/redisStore.ts",
  "src/search/searchDomain.ts",
  "src/translation/translation.ts",
  "src/waf/webAcl.ts",
];

export default tseslint.config(
  { ignores: ["node_modules/", "out/", "bin-out/", "dist/", "coverage/", "scratch/", "jest.config.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  {
    // CommonJS run by plain node: the dependency check that runs before node_modules exists, and the
    // consumer programs test/package.real.test.ts runs against the packed tarball.
    files: ["**/*.cjs", "test/fixtures/consumer/*.js"],
    languageOptions: {
      sourceType: "commonjs",
      globals: { require: "readonly", process: "readonly", __dirname: "readonly", module: "writable" },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // Tests build broken configs by mutating plain objects.
    files: ["test/**/*.ts", "**/*.test.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  floor(["src/*/*.ts", "src/*/*/*.ts"], 1, ["stack", "testing", "cli"], ABOVE_PARTS),
  floor(["src/*/*/*.ts"], 2, ["stack", "testing", "cli"], ABOVE_PARTS),
  floor(["src/stack/**/*.ts"], 1, ["testing", "cli"], "the composition root never imports testing/ or cli/."),
  floor(["src/testing/*.ts"], 1, ["cli"], "the fake cloud never imports cli/."),
  floor(["src/testing/*/*.ts"], 2, ["cli"], "the fake cloud never imports cli/."),
  floor(["src/cli/**/*.ts"], 1, [], ""),
  {
    files: ["src/vocabulary/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: `^(?!(${NODE_MODULES.join("|")})$|\\./[A-Za-z]+$)`,
              message: "src/vocabulary/ is the ground floor: it imports only Node's modules and itself.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["src/**/*.ts"],
    ignores: ["**/*.test.ts", "src/stack/**", "src/testing/**", ...RESOURCE_MODULES],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@pulumi/*"],
              allowTypeImports: true,
              message:
                "a pure module: no Pulumi at run time (only the resource modules listed in eslint.config.mjs declare resources).",
            },
          ],
        },
      ],
    },
  },
);
