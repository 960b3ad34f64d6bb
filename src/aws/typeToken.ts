/**
 * Type tokens of the components the component provider serves (provider/components.ts).
 *
 * Pulumi's Node component provider host constructs a component from the token another language's
 * SDK registers, `mastodon:index:<Class>`, and refuses any module but `index`
 * (ComponentProvider.validateResourceType in @pulumi/pulumi); the class must register the same
 * token, or the URN the host returns is not the resource the caller asked for. The tier components
 * were registered under `mastodon:<module>:<Class>` before they were provided, so each keeps an
 * alias to that token: a stack deployed before keeps its URNs (Pulumi docs, "Refactoring with
 * aliases", changing a type token: without an alias the old URN is deleted and the new one
 * created, and with it every child, whose URN holds its parent's type). Children need no aliases of
 * their own: Pulumi's engine multiplies a parent's aliases out to its children (the step
 * generator's generateAliases).
 */
import type * as pulumi from "@pulumi/pulumi";

/** The token the provider host constructs a component by: `mastodon:index:<Class>`. */
export function providedType(className: string): string {
  return `mastodon:index:${className}`;
}

/**
 * `opts` with an alias to the component's token before it was provided (`mastodon:<module>:<Class>`),
 * after any aliases the caller gave.
 */
export function withFormerType(
  formerType: string,
  opts?: pulumi.ComponentResourceOptions,
): pulumi.ComponentResourceOptions {
  return { ...opts, aliases: [...(opts?.aliases ?? []), { type: formerType }] };
}
