/** Jest runs TypeScript through swc (no type-checking: `npm run typecheck` does that once). */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/src", "<rootDir>/test", "<rootDir>/provider", "<rootDir>/policy"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022" } }] },
  moduleFileExtensions: ["ts", "js", "json"],
  testTimeout: 30000,
  // Jest keeps one core free by default; on this 2-core machine that would run every file in turn.
  maxWorkers: 2,
};
