/**
 * The one writer of systemd unit files (systemd.unit(5), systemd.syntax(7)): a unit is its
 * sections, each an ordered list of directives; a key may repeat (a list setting such as
 * SystemCallFilter or RestrictAddressFamilies accumulates, an empty value resets it). Every unit
 * this package writes (Mastodon's, PgBouncer's, the self-managed Redis's) goes through `renderUnit`,
 * which refuses what systemd would read differently from what was meant. Pure.
 */

export type DirectiveValue = string | number;
export type Directive = readonly [key: string, value: DirectiveValue];

/** A unit file: [Unit], then [Service] for a service or [Timer] for a timer (a target has neither), then [Install]. */
export interface Unit {
  readonly unit: readonly Directive[];
  readonly service?: readonly Directive[];
  readonly timer?: readonly Directive[];
  readonly install?: readonly Directive[];
}

/** A rendered unit and the name it is installed under in /etc/systemd/system. */
export interface UnitFile {
  readonly name: string;
  readonly content: string;
}

/** systemd.syntax(7): keys are letters and digits (ours are CamelCase, as systemd spells them). */
const KEY = /^[A-Za-z][A-Za-z0-9]*$/;

/**
 * A value systemd reads back as written: no line break (a new line would end the directive and
 * start another) and no trailing backslash (systemd.syntax(7): it continues the line).
 */
function checked([key, value]: Directive, section: string): string {
  if (!KEY.test(key)) throw new Error(`[${section}] ${JSON.stringify(key)} is not a unit file key`);
  const text = String(value);
  if (/[\n\r]/.test(text)) throw new Error(`[${section}] ${key}: a value cannot hold a line break`);
  if (text.endsWith("\\"))
    throw new Error(`[${section}] ${key}: a trailing backslash would continue the line`);
  if (typeof value === "number" && !Number.isFinite(value))
    throw new Error(`[${section}] ${key}: ${value} is not a number systemd reads`);
  return `${key}=${text}`;
}

function section(name: string, directives: readonly Directive[]): string {
  return [`[${name}]`, ...directives.map((d) => checked(d, name))].join("\n");
}

/** The unit file's text: sections in systemd's order, a blank line between them, one final newline. */
export function renderUnit(unit: Unit): string {
  const sections: string[] = [section("Unit", unit.unit)];
  if (unit.service) sections.push(section("Service", unit.service));
  if (unit.timer) sections.push(section("Timer", unit.timer));
  if (unit.install) sections.push(section("Install", unit.install));
  return `${sections.join("\n\n")}\n`;
}

/**
 * `Environment="NAME=value"` (systemd.exec(5)): the quotes keep a value with spaces in one
 * assignment. The value may carry specifiers (%i) but no quote or backslash, which systemd would
 * unescape.
 */
export function environment(name: string, value: DirectiveValue): Directive {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new Error(`${JSON.stringify(name)} is not an environment name`);
  if (/["\\]/.test(String(value)))
    throw new Error(`Environment ${name}: a value cannot hold a quote or backslash`);
  return ["Environment", `"${name}=${value}"`];
}
