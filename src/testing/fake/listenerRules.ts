/**
 * What ELB refuses across a listener's rules: two rules at one priority (Elastic Load Balancing API
 * Reference, CreateRule: PriorityInUse, "The specified priority is in use"). One run's rules, by the
 * listener ARN each names; src/testing/fakeCloud.ts asks it for every listener rule.
 */
import type { AccountRefusal } from "./account";
import type { State } from "./shapes";

const LISTENER_RULE = "aws:lb/listenerRule:ListenerRule";

export class ListenerPriorities {
  private readonly taken = new Map<string, string>();

  /** Takes the rule's priority on its listener; the refusal when another rule of the run holds it. */
  claim(type: string, resource: string, inputs: State): AccountRefusal | undefined {
    if (type !== LISTENER_RULE || typeof inputs["priority"] !== "number") return undefined;
    const key = `${String(inputs["listenerArn"])}#${inputs["priority"]}`;
    const holder = this.taken.get(key);
    if (holder && holder !== resource)
      return {
        property: "priority",
        problems: [
          `priority ${inputs["priority"]} is already held by ${holder} on the same listener (PriorityInUse)`,
        ],
        source:
          "Elastic Load Balancing API Reference, CreateRule, PriorityInUse: the specified priority is in use",
      };
    this.taken.set(key, resource);
    return undefined;
  }
}
