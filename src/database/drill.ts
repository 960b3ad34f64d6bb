/**
 * The restore drill's SSM Command document (pure): what `npm run drill` (bin/drill.ts,
 * drillCommand.ts) runs on the scheduler's host of a stack restored from another's snapshot
 * (mastodon:database.restoreFrom, docs/drill.md). It carries the drill program itself,
 * src/database/files/mastodon-drill.py byte for byte, writes it to a private temporary directory and
 * runs it on the host's own database config (DATABASE_PATHS.config, which the prepare step reads
 * too): the RDS master, straight to PostgreSQL with verified TLS, its password from SSM, every query
 * read-only; the media object through the media host Mastodon's .env.production names.
 *
 * Why the document carries the program rather than the host files installing it: the drill runs
 * now and then, on one host, and a change to it is then a change to this document alone, updated in
 * place, never a new launch template that rolls the scheduler's fleet. Least privilege all the same:
 * whoever may send this document runs exactly this program, and nothing else, as root on that host
 * (AWS-RunShellScript would let them run anything).
 */
import { DATABASE_PATHS } from "../fleet/host/oneOff";
import { MASTODON_DRILL, programText } from "../host/programs";

/**
 * The bound of one run: the row counts (each statement at most 600 s, mastodon-drill.py's
 * statement_timeout, in two psql runs of at most 900 s each) and the media fetch (120 s).
 */
export const DRILL_TIMEOUT_SECONDS = 2100;

/**
 * A document's content may not exceed 64 KB (AWS Systems Manager API Reference, CreateDocument,
 * Content), program included.
 */
export const DOCUMENT_MAX_BYTES = 64 * 1024;

/** The here-document's delimiter: no line of the program may be it (drill.test.ts holds it so). */
export const PROGRAM_DELIMITER = "MASTODON_DRILL_PROGRAM";

export interface DrillDocumentInput {
  /** The database config the program reads. @default DATABASE_PATHS.config (the scheduler's host's) */
  readonly config?: string;
  /** The program's text. @default mastodon-drill.py as its file holds it */
  readonly program?: string;
}

/**
 * The document's content: one aws:runShellScript step, no parameters (SSM substitutes `{{ name }}`
 * into the script as text, so the program holds no `{{`, and the document takes no input to
 * substitute). Its exit status is the program's: 0 every check passed, 1 one failed, 2 bad config;
 * its stdout the program's JSON report, which GetCommandInvocation returns (StandardOutputContent,
 * the first 24,000 characters: the report is far smaller).
 */
export function renderDrillDocument(input: DrillDocumentInput = {}): string {
  const config = input.config ?? DATABASE_PATHS.config;
  const program = input.program ?? programText(MASTODON_DRILL);
  if (!/^[A-Za-z0-9_./-]+$/.test(config)) {
    throw new Error(`drill document: config ${JSON.stringify(config)} must be a plain path`);
  }
  const lines = program.replace(/\n$/, "").split("\n");
  if (lines.includes(PROGRAM_DELIMITER) || program.includes("{{")) {
    throw new Error(
      `drill document: the program holds the line ${PROGRAM_DELIMITER} or "{{" (SSM would substitute it): rename or rewrite it`,
    );
  }
  const content = JSON.stringify(
    {
      schemaVersion: "2.2",
      description:
        "Mastodon restore drill on the scheduler's host: Mastodon's schema version, the main tables' rows and a media object through the media host, read-only, reported as JSON; exits 1 when a check fails.",
      mainSteps: [
        {
          action: "aws:runShellScript",
          name: "drill",
          inputs: {
            timeoutSeconds: String(DRILL_TIMEOUT_SECONDS),
            runCommand: [
              "set -eu",
              `config=${config}`,
              `[ -r "$config" ] || { echo "mastodon-drill: no $config here: run the drill on the scheduler's host, which prepares the database" >&2; exit 2; }`,
              "work=$(mktemp -d)",
              `trap 'rm -rf "$work"' EXIT`,
              `cat >"$work/mastodon-drill" <<'${PROGRAM_DELIMITER}'`,
              ...lines,
              PROGRAM_DELIMITER,
              'python3 "$work/mastodon-drill" "$config"',
            ],
          },
        },
      ],
    },
    null,
    2,
  );
  const bytes = Buffer.byteLength(content, "utf8");
  if (bytes > DOCUMENT_MAX_BYTES) {
    throw new Error(
      `drill document: ${bytes} bytes, over SSM's ${DOCUMENT_MAX_BYTES} (CreateDocument): shorten src/database/files/mastodon-drill.py`,
    );
  }
  return content;
}
