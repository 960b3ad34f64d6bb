import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "out/", "bin-out/", "coverage/", "scratch/", "jest.config.js"] },
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
