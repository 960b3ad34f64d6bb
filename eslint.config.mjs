import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "out/", "bin-out/", "dist/", "coverage/", "scratch/", "jest.config.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      // The sizing core must stay free of the AWS provider (pulumi-awsx style).
      "no-restricted-imports": "off",
    },
  },
  {
    // CommonJS run by plain node: the dependency check that runs before node_modules exists, and the
    // consumer programs test/package.test.ts runs against the packed tarball.
    files: ["**/*.cjs", "test/fixtures/consumer/*.js"],
    languageOptions: {
      sourceType: "commonjs",
      globals: { require: "readonly", process: "readonly", __dirname: "readonly", module: "writable" },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // Tests build broken configs by mutating plain objects.
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    files: ["core/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["@pulumi/*"], message: "core/ is pure logic: no Pulumi imports." }] },
      ],
    },
  },
);
