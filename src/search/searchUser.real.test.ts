/**
 * Mastodon's own OpenSearch user, made by the scheduler's host (src/search/files/mastodon-search-user.py,
 * run by python3 as on the host) against a stand-in of the security plugin's REST API over HTTPS
 * (test/real/searchStandIn.ts), with the config src/database/database.ts renders for the production
 * stack (its search_* lines; the role file relocated) and the `aws` stand-in of
 * test/real/databaseStandIns.ts for the two passwords (ssm get-parameter from files, its argv
 * recorded). The program trusts the stand-in's test CA through SSL_CERT_FILE, as Python's default
 * context does, the way the host trusts the domain's certificate through the system's store.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { renderDatabaseConfig } from "../database/database";
import { MASTODON_SEARCH_USER, programPath } from "../host/programs";
import {
  SEARCH_APP_ROLE,
  SEARCH_APP_USER,
  SEARCH_USER_PATHS,
  renderSearchRole,
  searchAccess,
  searchAppRole,
} from "./searchUser";
import { productionRoleSetup } from "../../test/helpers";
import { AWS } from "../../test/real/databaseStandIns";
import { type SearchStandIn, startSearchStandIn } from "../../test/real/searchStandIn";
import { TEST_IMAGE, makeTestCertificates, requireProgram, tempDir } from "../../test/real/servers";

jest.setTimeout(120000);

const PROGRAM = programPath(MASTODON_SEARCH_USER);
const PREFIX = "/mastodon/mastodon-aws/production/mastodon";
const MASTER_PARAMETER = `${PREFIX}/search-password`;
const APP_PARAMETER = `${PREFIX}/search-app-password`;
// As src/search/searchDomain.ts generates them: upper, lower, digits and a special character.
const MASTER_PASSWORD = "Master-Pass.word_0123456789abcdefgh";
const APP_PASSWORD = "App-Pass.word_0123456789abcdefghijk";
const API = "_opendistro/_security/api";

const dir = tempDir("mastodon-search-user-");
const bin = path.join(dir, "bin");
const ssm = path.join(dir, "ssm");
const logs = path.join(dir, "logs");
const CALLS = path.join(logs, "calls.log");
let ca: string;
let search: SearchStandIn;

/** database.conf as rendered for production with search, pointed at the stand-in, bounded at `seconds`. */
function config(url: string, seconds?: number): string {
  const access = {
    ...searchAccess({
      endpoint: "x",
      engineVersion: "Elasticsearch_7.10",
      masterPasswordParameter: MASTER_PARAMETER,
      appPasswordParameter: APP_PARAMETER,
    }),
    url,
  };
  const rendered = renderDatabaseConfig(
    {
      region: "test-1",
      databaseHost: "db.example",
      databasePort: 5432,
      role: productionRoleSetup(),
      search: access,
      retention: { mediaDays: 7, previewCardsDays: 7 },
    },
    { kind: "image", image: TEST_IMAGE },
  );
  const role = path.join(dir, "search-role.json");
  fs.writeFileSync(role, renderSearchRole());
  const text = rendered
    .replace(`search_role_file ${SEARCH_USER_PATHS.role}`, `search_role_file ${role}`)
    .replace(/^search_seconds \d+$/m, (line) => (seconds === undefined ? line : `search_seconds ${seconds}`));
  const file = path.join(dir, `database-${seconds ?? "rendered"}.conf`);
  fs.writeFileSync(file, text, { mode: 0o600 });
  return file;
}

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(conf: string, env: Record<string, string> = { SSL_CERT_FILE: ca }): Promise<Run> {
  fs.rmSync(CALLS, { force: true });
  search.requests.length = 0;
  return new Promise((resolve, reject) => {
    const child = spawn(requireProgram("/usr/bin/python3"), [PROGRAM, conf], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: `${bin}:/usr/bin:/bin`, FAKE_SSM: ssm, FAKE_LOG: logs, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.once("error", reject);
    child.once("close", (status) => resolve({ status, stdout, stderr }));
  });
}

const awsCalls = () =>
  fs.existsSync(CALLS)
    ? fs
        .readFileSync(CALLS, "utf8")
        .split("\n")
        .filter((l) => l.startsWith("aws\t"))
        .map((l) => l.split("\t").slice(1))
    : [];

/** Neither password in the program's output nor on any command line it ran. */
function expectNoPassword(r: Run): void {
  for (const secret of [MASTER_PASSWORD, APP_PASSWORD]) {
    expect(`${r.stdout}${r.stderr}`).not.toContain(secret);
    expect(fs.existsSync(CALLS) ? fs.readFileSync(CALLS, "utf8") : "").not.toContain(secret);
  }
}

const PUTS = [
  `/${API}/roles/${SEARCH_APP_ROLE}`,
  `/${API}/internalusers/${SEARCH_APP_USER}`,
  `/${API}/rolesmapping/${SEARCH_APP_ROLE}`,
];

beforeAll(async () => {
  for (const d of [bin, ssm, logs]) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(bin, "aws"), AWS, { mode: 0o755 });
  for (const [name, value] of [
    [MASTER_PARAMETER, MASTER_PASSWORD],
    [APP_PARAMETER, APP_PASSWORD],
  ] as const) {
    fs.mkdirSync(path.dirname(path.join(ssm, name)), { recursive: true });
    fs.writeFileSync(path.join(ssm, name), `${value}\n`);
  }
  const certs = makeTestCertificates(dir);
  ca = certs.ca;
  search = await startSearchStandIn({
    cert: certs.cert,
    key: certs.key,
    api: API,
    masterUser: "mastodon",
    masterPassword: MASTER_PASSWORD,
  });
});

afterAll(async () => {
  await search?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("a new domain: the role, the user with its password, the mapping, as the master user, in that order", async () => {
  const r = await run(config(search.url));
  expect(r.stderr).toContain(`the search user ${SEARCH_APP_USER} is set up`);
  expect(r.status).toBe(0);
  expect(search.requests.map((q) => [q.method, q.path, q.status])).toEqual(PUTS.map((p) => ["PUT", p, 201]));
  for (const q of search.requests) {
    expect(q).toMatchObject({ user: "mastodon", password: MASTER_PASSWORD, contentType: "application/json" });
  }
  // The role as searchAppRole says (and as the file on the host holds it): Mastodon's indices alone.
  expect(search.requests[0]!.body).toEqual(searchAppRole());
  expect(search.requests[0]!.body).toEqual({
    cluster_permissions: ["cluster_monitor", "cluster_composite_ops"],
    index_permissions: [
      { index_patterns: ["mastodon_*"], allowed_actions: ["crud", "create_index", "manage"] },
    ],
  });
  // The app user's password only in its request's body; the mapping names that user alone.
  expect(search.requests[1]!.body).toEqual({ password: APP_PASSWORD, backend_roles: [], attributes: {} });
  expect(search.requests[2]!.body).toEqual({ users: [SEARCH_APP_USER], backend_roles: [], hosts: [] });
  // Both passwords from SSM, by name, decrypted: never on a command line, never in the output.
  expect(awsCalls().map((a) => a.filter((x, i, all) => all[i - 1] === "--name"))).toEqual([
    [MASTER_PARAMETER],
    [APP_PARAMETER],
  ]);
  for (const a of awsCalls()) expect(a).toContain("--with-decryption");
  expectNoPassword(r);
  expect(r.stderr).toContain(`roles ${SEARCH_APP_ROLE} created`);
});

test("a second run makes the same requests and leaves the domain as the first did", async () => {
  const before = structuredClone(Object.fromEntries(search.resources));
  const r = await run(config(search.url));
  expect(r.status).toBe(0);
  expect(search.requests.map((q) => [q.method, q.path, q.status])).toEqual(PUTS.map((p) => ["PUT", p, 200]));
  expect(Object.fromEntries(search.resources)).toEqual(before);
  expect(r.stderr).toContain(`internalusers ${SEARCH_APP_USER} updated`);
  expectNoPassword(r);
});

test("a 503 is tried again after a pause; the run then completes", async () => {
  search.failNext(1, 503, () => JSON.stringify({ error: "busy" }));
  const r = await run(config(search.url));
  expect(r.status).toBe(0);
  expect(search.requests.map((q) => q.status)).toEqual([503, 200, 200, 200]);
  expect(r.stderr).toMatch(/PUT roles\/mastodon_app failed \(HTTP 503: .*attempt 1\); again in 2 s/);
});

test("a refusal fails the run at once, its message naming the request with the passwords masked", async () => {
  // A server that echoes what it was sent: the message still carries no password.
  search.failNext(1, 400, (q) =>
    JSON.stringify({ status: "BAD_REQUEST", message: `bad ${JSON.stringify(q.body)} from ${q.password}` }),
  );
  const r = await run(config(search.url));
  expect(r.status).toBe(1);
  expect(search.requests).toHaveLength(1);
  expect(r.stderr).toMatch(/PUT roles\/mastodon_app: HTTP 400: .*from \[password\]/);
  expectNoPassword(r);
});

test("a wrong master password is refused (401) and fails the run: nothing else is sent", async () => {
  fs.writeFileSync(path.join(ssm, MASTER_PARAMETER), "Wrong-password.0123\n");
  try {
    const r = await run(config(search.url));
    expect(r.status).toBe(1);
    expect(search.requests.map((q) => [q.path, q.status])).toEqual([[PUTS[0], 401]]);
    expect(r.stderr).toContain("HTTP 401");
    expect(r.stderr).not.toContain("Wrong-password.0123");
  } finally {
    fs.writeFileSync(path.join(ssm, MASTER_PARAMETER), `${MASTER_PASSWORD}\n`);
  }
});

test("a certificate the host does not trust is never sent a password: the run fails", async () => {
  // No SSL_CERT_FILE: the stand-in's test CA is not among the system's.
  const r = await run(config(search.url, 4), {});
  expect(r.status).toBe(1);
  expect(search.requests).toEqual([]);
  expect(r.stderr).toMatch(/CERTIFICATE_VERIFY_FAILED/);
  expectNoPassword(r);
});
