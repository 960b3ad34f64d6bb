/**
 * The app's own database role (core/host/databaseRole.ts): the setup phase's SQL and shell lines,
 * refused inputs, and their place in the migrations document. The same SQL runs against a real
 * PostgreSQL in test/real/postgres.real.test.ts and test/real/pgbouncer.real.test.ts.
 */
import { spawnSync } from "child_process";
import { SCRAM_VERIFIER_PY, renderRoleSetupCommands, renderRoleSetupSql } from "../core/host/databaseRole";
import { productionRoleSetup } from "./helpers";

const role = productionRoleSetup();
const setup = { ...role, databaseHost: "db.example", databasePort: 5432, region: "us-east-1" };

test("the role: LOGIN, limited to the fleets' connections, no privileged attribute, owner of the database and public", () => {
  const sql = renderRoleSetupSql(role);
  expect(sql).toContain(
    "SELECT 'CREATE ROLE mastodon LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS'",
  );
  expect(sql).toContain(
    "ALTER ROLE mastodon WITH LOGIN NOCREATEDB NOCREATEROLE CONNECTION LIMIT 408 PASSWORD :'app_password_verifier';",
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

test.each([
  ["a parameter name with a space", { appPasswordParameter: "/p/db password" }],
  ["a host with a shell character", { databaseHost: "db.example;reboot" }],
  ["a region with a quote", { region: "us-east-1'" }],
])("the shell lines refuse %s", (_what, change) => {
  expect(() => renderRoleSetupCommands({ ...setup, ...change })).toThrow(/database role setup/);
});

test("the shell lines read both passwords from SSM at run time and put neither on a command line", () => {
  const lines = renderRoleSetupCommands(setup);
  const script = lines.join("\n");
  expect(script).toContain(
    "admin_password=$(aws ssm get-parameter --region us-east-1 --with-decryption --name /mastodon/production/mastodon-admin/db-admin-password --query Parameter.Value --output text)",
  );
  expect(script).toContain("--name /mastodon/production/mastodon/db-password ");
  // The master's password through a 0600 pgpass file removed on exit, the app's as a verifier on stdin.
  expect(lines).toEqual(
    expect.arrayContaining(["umask 077", "passfile=$(mktemp)", `trap 'rm -f "$passfile"' EXIT`]),
  );
  expect(script).toContain(
    `PGPASSFILE="$passfile" PGSSLMODE=verify-full PGSSLROOTCERT=/etc/ssl/certs/rds-global-bundle.pem`,
  );
  expect(script).toContain("psql -X -w -q -h db.example -p 5432 -U mastodon_admin -d mastodon_production");
  // Only these expand a password, each as an argument to a shell builtin or inside a pipe.
  const uses = lines.filter((l) => /\$(admin_password|app_password|verifier)\b|"\$p"/.test(l));
  expect(uses).toEqual([
    'for p in "$admin_password" "$app_password"; do',
    '  case "$p" in ""|*[!A-Za-z0-9]*) echo "setup: a database password is not alphanumeric" >&2; exit 1;; esac',
    `verifier=$(printf '%s' "$app_password" | python3 -c '${SCRAM_VERIFIER_PY}')`,
    `printf '*:*:*:%s:%s\\n' mastodon_admin "$admin_password" > "$passfile"`,
    `{ printf '\\\\set app_password_verifier %s\\n' "'$verifier'"; cat <<'SQL'`,
  ]);
  expect(SCRAM_VERIFIER_PY).not.toContain("'");
});

test("the SCRAM verifier is PostgreSQL's stored form", () => {
  const r = spawnSync("python3", ["-c", SCRAM_VERIFIER_PY], { input: "s3cr3t", encoding: "utf8" });
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(
    /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=\n$/,
  );
});
