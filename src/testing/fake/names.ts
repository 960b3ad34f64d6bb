/**
 * Which names are taken, in the scope AWS keeps each type's names unique in (src/aws/naming: the
 * Region, the account, or the world): within one run, and across the runs of several programs that
 * deploy into one account (two Pulumi projects with a stack of the same name, say), as AWS would
 * refuse the second CreateX of a name or, for a CloudWatch dashboard, overwrite the first. The fake
 * cloud (src/testing/fakeCloud.ts) asks it for every name it checks.
 */
import type { NamingRule } from "../../aws/naming";

/** Who holds a name: the deployment (`<project>/<stack>`) and the resource's logical name. */
export interface NameHolder {
  readonly deployment: string;
  readonly resource: string;
}

/**
 * The explicit names an account holds, by type, scope and name: give one map to the runs of several
 * programs (FakeCloudOptions.accountNames) and each later run is refused what an earlier one holds.
 * Autonamed names stay out: AWS keeps them apart by their random suffix, which the fake cloud draws
 * from the logical name, the same in every program.
 */
export type AccountNames = Map<string, NameHolder>;

/** The resource a name is claimed for: its type, Region and logical name. */
export interface ClaimSite {
  readonly type: string;
  readonly region: string;
  readonly resource: string;
}

/** The names one run takes; `deployment` is the run's `<project>/<stack>`. */
export class TakenNames {
  private readonly run = new Map<string, string>();

  constructor(
    private readonly deployment: string,
    private readonly account?: AccountNames,
  ) {}

  /**
   * Takes `name` for the resource `at` names, under `rule`; when someone had it already (in this
   * run, or another deployment of the account), the refusal's words. `explicit`: the program gave
   * the name, so it is checked against the account too.
   */
  claim(at: ClaimSite, rule: NamingRule, name: string, explicit: boolean): string | undefined {
    // Names in an account-wide scope (IAM's) are compared regardless of case; the others as written.
    const caseless = rule.scope === "account";
    const where = rule.scope === "region" ? at.region : rule.scope;
    const key = `${at.type}|${rule.property}|${where}|${caseless ? name.toLowerCase() : name}`;
    const taken = (by: string) => `is already taken by ${by} (names are unique per ${rule.scope})`;
    const holder = this.run.get(key);
    this.run.set(key, at.resource);
    if (holder && holder !== at.resource) return taken(holder);
    if (!explicit || !this.account) return undefined;
    const other = this.account.get(key);
    if (other && other.deployment !== this.deployment)
      return taken(`${other.resource} of the deployment ${other.deployment}`);
    this.account.set(key, { deployment: this.deployment, resource: at.resource });
    return undefined;
  }
}
