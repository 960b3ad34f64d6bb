/**
 * What the rules read from a resource as the analyzer hands it over: tags in their three shapes, and
 * references between resources. Pure: no Pulumi runtime import, so every rule is a plain function.
 */

/** A resource as a stack policy sees it (a subset of @pulumi/policy's PolicyResource). */
export interface StackResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly props: Record<string, unknown>;
  /** Resources an input was computed from, by input name (the engine fills it; known in preview). */
  readonly propertyDependencies?: Readonly<Record<string, readonly StackResource[]>>;
}

/** One violation: the message names the resource and the fix; a stack rule also points at the URN. */
export interface Violation {
  readonly message: string;
  readonly urn?: string;
}

/**
 * The value `read` returns, or undefined when it is unknown in preview. The analyzer's props throw
 * UnknownValueError on an unknown value (@pulumi/policy, proxy.ts); a rule that only links
 * resources skips the link instead of giving up the whole check.
 */
export function known<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (e) {
    if (e instanceof Error && e.constructor.name === "UnknownValueError") return undefined;
    throw e;
  }
}

type TagList = readonly { readonly key?: unknown; readonly value?: unknown }[];

function fromMap(tags: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof tags === "object" && tags !== null && !Array.isArray(tags))
    for (const [k, v] of Object.entries(tags)) if (typeof v === "string") out[k] = v;
  return out;
}

function fromList(tags: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(tags))
    for (const t of tags as TagList)
      if (typeof t.key === "string" && typeof t.value === "string") out[t.key] = t.value;
  return out;
}

/**
 * A resource's tags, whichever way its type carries them: `tags`/`tagsAll` maps (most types, the
 * provider's default tags in tagsAll), an Auto Scaling group's `tags` list of key/value blocks, and
 * a launch template's tagSpecifications (what its instances and volumes get).
 */
export function tagsOf(props: Record<string, unknown>): Record<string, string> {
  const specs = Array.isArray(props["tagSpecifications"])
    ? (props["tagSpecifications"] as { tags?: unknown }[]).map((s) => fromMap(s.tags))
    : [];
  return Object.assign(
    {},
    ...specs,
    fromMap(props["tagsAll"]),
    Array.isArray(props["tags"]) ? fromList(props["tags"]) : fromMap(props["tags"]),
  );
}

/**
 * The resource of `type` that `from.props[property]` refers to: through the engine's property
 * dependencies when it recorded them (so a reference resolves in preview, before ids exist), else
 * the resource whose `key` holds the same value (a name set in the program, or any value after an
 * update).
 */
export function referenced(
  from: StackResource,
  property: string,
  candidates: readonly StackResource[],
  keys: readonly string[],
): StackResource | undefined {
  const byDependency = from.propertyDependencies?.[property]?.find((d) =>
    candidates.some((c) => c.urn === d.urn),
  );
  if (byDependency) return candidates.find((c) => c.urn === byDependency.urn);
  const value = known(() => from.props[property]);
  if (typeof value !== "string" || value === "") return undefined;
  return candidates.find((c) => keys.some((k) => known(() => c.props[k]) === value));
}

/** `type name` for messages: what `pulumi preview` shows beside the diagnostic. */
export const label = (r: { readonly type: string; readonly name: string }): string => `${r.type} "${r.name}"`;
