/** Jest runs TypeScript through swc (no type-checking: `npm run typecheck` does that once). */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/src", "<rootDir>/test", "<rootDir>/provider", "<rootDir>/policy"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022" } }] },
  moduleFileExtensions: ["ts", "js", "json"],
  testTimeout: 30000,
  // The shipped stacks' runs under mocks, made once per jest run and read by every file (test/sharedRuns.ts).
  globalSetup: "<rootDir>/test/globalSetup.ts",
  globalTeardown: "<rootDir>/test/globalTeardown.ts",
  // Jest keeps one core free by default; on this 2-core machine that would run every file in turn.
  maxWorkers: 2,
};
