/**
 * A stack file's YAML read the way the Pulumi CLI reads it (go-yaml v3, merge keys included), so
 * the offline plan sees the same config `pulumi up` would, and refuses what the CLI refuses.
 */
import { LineCounter, type Node, Scalar, isAlias, isMap, isScalar, isSeq, parseDocument, visit } from "yaml";
import { PlanError } from "./planError";

const MERGE = "<<";
const isMergeKey = (key: unknown): key is Scalar =>
  isScalar(key) && typeof key.value === "symbol" && key.value.description === MERGE;

/**
 * A stack file's YAML as the Pulumi CLI reads it. The CLI decodes the stack file with go-yaml v3
 * (gopkg.in/yaml.v3 v3.0.1: pulumi/pulumi sdk/go/common/encoding/marshal.go, read by
 * workspace.LoadProjectStackBytes into a plain value before anything else), which applies YAML
 * merge keys: `<<: *base` in a mapping takes every key of the anchored mapping (or of each mapping
 * in a list, earlier ones first) that the mapping does not set itself, wherever the `<<` stands
 * (go-yaml v3 decode.go, mapping and merge). The yaml package does the same with `merge: true`; it
 * also accepts what go-yaml refuses, refused here as there (and with go-yaml's words): two `<<` in
 * one mapping ("mapping key already defined"), and a `<<` whose value is not a mapping, an alias of
 * one, or a list of those ("map merge requires map or sequence of maps as the value"). A `<<` that
 * is quoted or given another tag (`!!str <<`) is an ordinary key for go-yaml: kept one here.
 */
export function parseStackYaml(text: string, file: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { merge: true, lineCounter });
  const [first] = doc.errors;
  if (first) throw new PlanError(`${file} is not valid YAML: ${first.message}`);
  const line = (node: Node | unknown) => {
    const offset = (node as Node).range?.[0];
    return offset === undefined ? "?" : String(lineCounter.linePos(offset).line);
  };
  const isMapping = (node: unknown) => isMap(isAlias(node) ? node.resolve(doc) : node);
  visit(doc, {
    Pair(_, pair) {
      // A plain `<<` with another explicit tag: go-yaml reads an ordinary key, the yaml package a merge.
      if (isScalar(pair.key) && pair.key.value === MERGE && pair.key.type === Scalar.PLAIN)
        pair.key.type = Scalar.QUOTE_DOUBLE;
    },
    Map(_, map) {
      const merges = map.items.filter((p) => isMergeKey(p.key));
      // go-yaml compares keys by their text: a quoted "<<" beside a merge is defined twice too.
      const [firstMerge, second] = map.items.filter(
        (p) => isMergeKey(p.key) || (isScalar(p.key) && p.key.value === MERGE),
      );
      if (firstMerge && second)
        throw new PlanError(
          `${file} is not valid YAML: line ${line(second.key)}: mapping key "<<" already defined at line ${line(firstMerge.key)}`,
        );
      for (const { key, value } of merges) {
        const sources = isSeq(value) ? value.items : [value];
        if (!sources.every(isMapping))
          throw new PlanError(
            `${file} is not valid YAML: line ${line(key)}: map merge requires map or sequence of maps as the value`,
          );
      }
    },
  });
  try {
    return doc.toJS();
  } catch (e) {
    throw new PlanError(`${file} is not valid YAML: ${(e as Error).message}`);
  }
}
