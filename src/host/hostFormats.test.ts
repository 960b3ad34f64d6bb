/**
 * One serializer per format in src/host: the systemd unit writer (systemd.ts) and the config file
 * writers (conf.ts: PgBouncer's ini, redis.conf), what each writes and what each refuses; and that
 * no other module writes those formats, or a program, by hand.
 */
import * as fs from "fs";
import * as path from "path";
import { connectionString, renderIni, renderRedisConf } from "./conf";
import { renderPgbouncerUserlist } from "../database/pgbouncer";
import { environment, renderUnit } from "./systemd";
import { ROOT } from "../../test/helpers";

describe("the systemd unit writer", () => {
  test("sections in order, repeated keys kept in order, a blank line between sections, one final newline", () => {
    expect(
      renderUnit({
        unit: [["Description", "x"]],
        service: [
          ["SystemCallFilter", "@system-service"],
          ["SystemCallFilter", "~@privileged"],
          ["CapabilityBoundingSet", ""],
          ["RestartSec", 5],
          environment("PORT", "%i"),
        ],
        install: [["WantedBy", "multi-user.target"]],
      }),
    ).toBe(
      [
        "[Unit]",
        "Description=x",
        "",
        "[Service]",
        "SystemCallFilter=@system-service",
        "SystemCallFilter=~@privileged",
        "CapabilityBoundingSet=",
        "RestartSec=5",
        'Environment="PORT=%i"',
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
      ].join("\n"),
    );
  });

  test("a target: [Unit] and [Install] only", () => {
    expect(renderUnit({ unit: [["Description", "t"]], install: [["WantedBy", "a.target"]] })).toBe(
      "[Unit]\nDescription=t\n\n[Install]\nWantedBy=a.target\n",
    );
  });

  test.each([
    ["a line break in a value", ["ExecStart", "/bin/true\nExecStartPre=/bin/evil"]],
    ["a carriage return in a value", ["Description", "a\rb"]],
    ["a trailing backslash (a continued line)", ["ExecStart", "/bin/echo \\"]],
    ["a key that is not one", ["Exec Start", "/bin/true"]],
    ["a key carrying its own =", ["ExecStart=", "/bin/true"]],
    ["a number that is not one", ["RestartSec", Number.NaN]],
  ] as const)("refuses %s", (_what, directive) => {
    expect(() => renderUnit({ unit: [], service: [directive] })).toThrow();
  });

  test.each([
    ["a quote", 'a"b'],
    ["a backslash", "a\\b"],
  ])("Environment= refuses a value with %s", (_what, value) => {
    expect(() => environment("X", value)).toThrow("cannot hold a quote or backslash");
  });
  test("Environment= refuses a name that is not one", () => {
    expect(() => environment("A=B", "1")).toThrow("not an environment name");
  });
});

describe("PgBouncer's ini writer", () => {
  test("`key = value`, `key =` when empty, sections a blank line apart, the comment first", () => {
    expect(
      renderIni({
        comment: "c",
        sections: [
          {
            name: "databases",
            entries: [["mastodon", connectionString({ host: "db", port: 5432, dbname: "m" })]],
          },
          {
            name: "pgbouncer",
            entries: [
              ["listen_port", 6432],
              ["admin_users", ""],
            ],
          },
        ],
      }),
    ).toBe(
      "; c\n[databases]\nmastodon = host=db port=5432 dbname=m\n\n[pgbouncer]\nlisten_port = 6432\nadmin_users =\n",
    );
  });

  test.each([
    ["a line break in a value", [["auth_file", "/x\nadmin_users = evil"]]],
    ["a key that is not one", [["listen port", 1]]],
  ] as const)("refuses %s", (_what, entries) => {
    expect(() => renderIni({ comment: "c", sections: [{ name: "pgbouncer", entries }] })).toThrow();
  });

  test.each(["db host", "db'", "a=b", ""])(
    "a connection string refuses %j, which PgBouncer would need quoted",
    (v) => {
      expect(() => connectionString({ host: v })).toThrow("needs quoting");
    },
  );

  test("the userlist refuses a quote or a line break", () => {
    expect(renderPgbouncerUserlist("mastodon", "{{ssm:/p}}")).toBe('"mastodon" "{{ssm:/p}}"\n');
    expect(() => renderPgbouncerUserlist('mast"odon', "x")).toThrow();
    expect(() => renderPgbouncerUserlist("mastodon", "x\n")).toThrow();
  });
});

describe("the redis.conf writer", () => {
  test("`directive arg ...`; an empty argument or one with spaces or quotes is double-quoted", () => {
    expect(
      renderRedisConf({
        comment: "c",
        directives: [
          ["bind", "127.0.0.1", "::1"],
          ["port", 6379],
          ["logfile", ""],
          ["save", "3600 1 300 100"],
          ["dir", 'a"b\\c'],
        ],
      }),
    ).toBe('# c\nbind 127.0.0.1 ::1\nport 6379\nlogfile ""\nsave "3600 1 300 100"\ndir "a\\"b\\\\c"\n');
  });

  test.each([
    ["a line break in an argument", ["requirepass", 'x\nrename-command CONFIG ""']],
    ["a directive without argument", ["appendonly"]],
    ["a directive that is not one", ["Append Only", "yes"]],
  ] as const)("refuses %s", (_what, directive) => {
    expect(() => renderRedisConf({ comment: "c", directives: [directive as never] })).toThrow();
  });
});

describe("no other module writes these formats, or a program, by hand", () => {
  const dir = path.join(ROOT, "src");
  const sources = (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
    .map((f) => [f.split(path.sep).join("/"), fs.readFileSync(path.join(dir, f), "utf8")] as const);

  test.each(sources.filter(([f]) => f !== "host/systemd.ts"))("%s: no unit section header", (_f, text) => {
    expect(text).not.toMatch(/["'`]\[(Unit|Service|Install)\]/);
  });
  test.each(sources.filter(([f]) => f !== "host/conf.ts"))("%s: no ini section header", (_f, text) => {
    expect(text).not.toMatch(/["'`]\[(databases|pgbouncer|users)\]/);
  });
  test.each(sources)("%s: no program text (a #! line)", (_f, text) => {
    expect(text).not.toMatch(/#!\//);
  });
});
