/**
 * The app's own database role (src/database/databaseRole.ts): the setup phase's SQL and shell lines,
 * refused inputs, and their place in the migrations document. The same SQL runs against a real
 * PostgreSQL in src/database/postgres.real.test.ts and src/database/pgbouncer.real.test.ts.
 */
import { spawnSync } from "child_process";
import { databaseProgram } from "./database";
import { renderRoleSetupSql } from "./databaseRole";
import { productionRoleSetup } from "../../test/helpers";

const role = productionRoleSetup();

test("the role: LOGIN, limited to the fleets' connections, no privileged attribute, owner of the database and public", () => {
  const sql = renderRoleSetupSql(role);
  expect(sql).toContain(
    "SELECT 'CREATE ROLE mastodon LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS'",
  );
  expect(sql).toContain(
    "ALTER ROLE mastodon WITH LOGIN NOCREATEDB NOCREATEROLE CONNECTION LIMIT 445 PASSWORD :'app_password_verifier';",
  );
  expect(sql).toContain("ALTER DATABASE mastodon_production OWNER TO mastodon;");
  expect(sql).toContain("ALTER SCHEMA public OWNER TO mastodon;");
  expect(sql).toContain("r.rolname = 'rds_superuser'");
  // The master connects; the SQL never names it, and holds no password.
  expect(sql).not.toContain("mastodon_admin");
});

test.each([
  ["a master user that is the app role", { masterUser: "mastodon" }, "must not be the master user"],
  ["a name that is not a plain identifier", { appUser: "mastodon; DROP" }, "not a plain identifier"],
  ["an upper-case name", { databaseName: "Mastodon" }, "not a plain identifier"],
  ["no connections", { connectionLimit: 0 }, "not a positive integer"],
  ["a fractional limit", { connectionLimit: 1.5 }, "not a positive integer"],
])("refuses %s", (_what, change, message) => {
  expect(() => renderRoleSetupSql({ ...role, ...change })).toThrow(message);
});

test("the program reads both passwords from SSM at run time and puts neither on a command line", () => {
  const lines = databaseProgram().split("\n");
  // Only these lines expand a password or its verifier: into a 0600 pgpass file removed on exit,
  // into python's stdin, into psql's stdin, or into a root-only file the CLI reads (the owner's).
  const uses = lines
    .filter((l) => /\$(password|app_password|verifier)\b|"\$password"/.test(l))
    .map((l) => l.trim());
  expect(uses).toEqual([
    '[[ $password =~ ^[A-Za-z0-9]+$ ]] || { log "the master\'s password is not alphanumeric"; return 1; }',
    `printf '*:*:*:%s:%s\\n' "\${conf[master_user]}" "$password" >"$workdir/pgpass"`,
    '[[ $app_password =~ ^[A-Za-z0-9]+$ ]] || { log "the app role\'s password is not alphanumeric"; return 1; }',
    `verifier=$(printf '%s' "$app_password" | python3 -c "$SCRAM_PY")`,
    `{ printf "\\\\\\\\set app_password_verifier '%s'\\n" "$verifier"; cat "\${conf[role_sql]}"; } | master_psql`,
    `[ -n "$password" ] || { log "tootctl printed no new password"; return 1; }`,
    `"\${conf[owner_password_parameter]}" "$password" "First password of the Mastodon owner \${conf[owner_username]}" \\`,
  ]);
  expect(databaseProgram()).toContain("umask 077");
  expect(databaseProgram()).toContain(`trap 'rm -rf "$workdir"' EXIT`);
});

test("the SCRAM verifier is PostgreSQL's stored form", () => {
  const program = /^readonly SCRAM_PY='([^']*)'$/m.exec(databaseProgram())![1]!;
  const r = spawnSync("python3", ["-c", program], { input: "s3cr3t", encoding: "utf8" });
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(
    /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=\n$/,
  );
});
