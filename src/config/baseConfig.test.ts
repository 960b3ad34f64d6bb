/**
 * The shared test helpers' base config (test/helpers.ts) is one the component accepts.
 */
import { parseStackConfig } from "./index";
import { baseConfig } from "../../test/helpers";

test("baseConfig is usable by the component directly", () => {
  expect(() => parseStackConfig(baseConfig())).not.toThrow();
});
