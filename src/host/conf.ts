/**
 * The writers of the C daemons' config files, one per syntax: PgBouncer's ini (sections of
 * `key = value`, PgBouncer's "Configuration" page) and redis.conf (`directive arg ...` lines, the
 * self-documented redis.conf Redis ships); and of the package's own programs' `key value` files
 * (mastodon-ready's, mastodon-database's: each reads them with `read -r key value`). The renderers (pgbouncer.ts, redis.ts) hand them
 * key/value lists; nothing else joins config lines by hand. Each refuses what its daemon would read
 * differently from what was meant. Pure.
 */

export type ConfValue = string | number;
export type IniEntry = readonly [key: string, value: ConfValue];

export interface IniSection {
  readonly name: string;
  readonly entries: readonly IniEntry[];
}

export interface IniFile {
  /** One comment line at the top, `; ` and this. */
  readonly comment: string;
  readonly sections: readonly IniSection[];
}

const noLineBreak = (what: string, text: string): string => {
  if (/[\n\r]/.test(text)) throw new Error(`${what}: a config value cannot hold a line break`);
  return text;
};

/** PgBouncer's ini keys: its settings and our database names (letters, digits, `_`). */
const INI_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

function iniLine([key, value]: IniEntry, section: string): string {
  if (!INI_KEY.test(key)) throw new Error(`[${section}] ${JSON.stringify(key)} is not an ini key`);
  const text = noLineBreak(`[${section}] ${key}`, String(value));
  // An empty value is written `key =`: PgBouncer reads it as empty (e.g. no unix socket).
  return text === "" ? `${key} =` : `${key} = ${text}`;
}

/** pgbouncer.ini: the comment, then each section, a blank line between them, one final newline. */
export function renderIni(file: IniFile): string {
  const body = file.sections.map((s) =>
    [`[${s.name}]`, ...s.entries.map((e) => iniLine(e, s.name))].join("\n"),
  );
  return `; ${noLineBreak("comment", file.comment)}\n${body.join("\n\n")}\n`;
}

/**
 * A [databases] entry's value: libpq-style `key=value` pairs, space separated. Our values are host
 * names, ports and database names; anything PgBouncer would need quoted is refused.
 */
export function connectionString(params: Readonly<Record<string, ConfValue>>): string {
  return Object.entries(params)
    .map(([k, v]) => {
      const text = String(v);
      if (!/^[^\s'"\\=]+$/.test(text))
        throw new Error(`connection string ${k}: ${JSON.stringify(text)} needs quoting`);
      return `${k}=${text}`;
    })
    .join(" ");
}

/** A redis.conf directive and its arguments. */
export type RedisDirective = readonly [directive: string, ...args: ConfValue[]];

export interface RedisConfFile {
  /** One comment line at the top, `# ` and this. */
  readonly comment: string;
  readonly directives: readonly RedisDirective[];
}

/**
 * One argument as Redis's config reader splits it (sdssplitargs): bare when it is a plain word,
 * else double-quoted with `"` and `\` escaped (an empty argument is `""`, a list of numbers in one
 * argument, like save's, `"3600 1 300 100"`).
 */
function redisArgument(directive: string, value: ConfValue): string {
  const text = noLineBreak(directive, String(value));
  if (/^[^\s"'\\]+$/.test(text)) return text;
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** redis.conf: the comment, then one `directive arg ...` line each, in order (a later one wins). */
export function renderRedisConf(file: RedisConfFile): string {
  const lines = file.directives.map(([directive, ...args]) => {
    if (!/^[a-z][a-z0-9-]*$/.test(directive))
      throw new Error(`${JSON.stringify(directive)} is not a directive`);
    if (args.length === 0) throw new Error(`${directive}: no argument`);
    return [directive, ...args.map((a) => redisArgument(directive, a))].join(" ");
  });
  return [`# ${noLineBreak("comment", file.comment)}`, ...lines, ""].join("\n");
}

/**
 * A `key value` file as the package's shell programs read it (`while read -r key value`): a comment
 * line, then one pair a line. `value` is one word as `pattern` says (no whitespace, so `read` gives it
 * back whole); `what` names the file in the refusal.
 */
export function renderKeyValueFile(
  what: string,
  comment: string,
  lines: readonly (readonly [key: string, value: ConfValue])[],
  pattern: RegExp,
): string {
  for (const [key, value] of lines)
    if (!pattern.test(String(value)) || /\s/.test(String(value)))
      throw new Error(`${what} ${key}: ${JSON.stringify(value)} is not one word`);
  return [`# ${noLineBreak(what, comment)}`, ...lines.map((l) => l.join(" ")), ""].join("\n");
}
