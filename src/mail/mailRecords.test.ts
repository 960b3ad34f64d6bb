/**
 * The mail domain's records under Pulumi's mocks: the SES identity's DKIM records and the SMTP
 * user allowed only to send; the MAIL FROM, SPF and DMARC records beside them, parsed by the real
 * RFC 7208 and RFC 7489 parsers of Debian's Mail::SPF and Mail::DMARC.
 */
import { spawnSync } from "child_process";
import { parseStackConfig } from "../config";
import { dmarcRecord, DMARC_POLICY, SES_SPF_RECORD, mailFromMx } from "./mailRecords";
import type { MockRun } from "../testing/mocks";
import { STACKS, all, find, runStack, stackConfig, stateOf } from "../../test/helpers";
import { requireProgram } from "../../test/real/servers";

const RECORD = "aws:route53/record:Record";

describe.each(STACKS)("stack %s", (stack) => {
  const { config } = parseStackConfig(stackConfig(stack), stack);
  let run: Awaited<ReturnType<typeof runStack>>;
  beforeAll(async () => {
    run = await runStack(stack);
  });

  test("SES: a domain identity with DKIM records, and an SMTP user allowed only to send", () => {
    const IDENTITY = "aws:sesv2/emailIdentity:EmailIdentity";
    expect(find(run, IDENTITY).inputs["emailIdentity"]).toBe(config.mail.fromAddress.split("@")[1]);
    const dkim = all(run, RECORD).filter((r) => r.parent === "mastodon-mail" && r.inputs["type"] === "CNAME");
    expect(dkim).toHaveLength(config.dns ? 3 : 0);
    // One CNAME per token SES gave the identity, in its order.
    const tokens: string[] = stateOf(run, IDENTITY, "mastodon-mail-identity")["dkimSigningAttributes"].tokens;
    for (const [i, r] of dkim.entries()) {
      expect(r.inputs).toMatchObject({
        type: "CNAME",
        name: `${tokens[i]}._domainkey.${config.mail.fromAddress.split("@")[1]}`,
        records: [`${tokens[i]}.dkim.amazonses.com`],
      });
    }
    const policy = JSON.parse(String(find(run, "aws:iam/userPolicy:UserPolicy").inputs["policy"]));
    // Any identity (in the sandbox SES also authorizes against the recipient's), as the from address only.
    expect(policy.Statement).toEqual([
      {
        Sid: "SendAsStack",
        Effect: "Allow",
        Action: "ses:SendRawEmail",
        Resource: "*",
        Condition: { StringEquals: { "ses:FromAddress": [config.mail.fromAddress] } },
      },
    ]);
  });
});

describe("mail that lands: MAIL FROM, SPF and DMARC beside DKIM (production)", () => {
  let run: MockRun;
  beforeAll(async () => {
    run = await runStack("production");
  });

  test("a custom MAIL FROM domain on the identity, its MX and SPF records, and DMARC at _dmarc", () => {
    const mailFrom = find(run, "aws:sesv2/emailIdentityMailFromAttributes:EmailIdentityMailFromAttributes");
    expect(mailFrom.inputs).toMatchObject({
      emailIdentity: "mastodon.example",
      mailFromDomain: "bounce.mastodon.example",
      behaviorOnMxFailure: "USE_DEFAULT_VALUE",
    });
    const records = all(run, "aws:route53/record:Record");
    const at = (name: string, type: string) =>
      records
        .filter((r) => r.inputs["name"] === name && r.inputs["type"] === type)
        .map((r) => r.inputs["records"]);
    expect(at("bounce.mastodon.example", "MX")).toEqual([[mailFromMx("us-east-1")]]);
    expect(at("bounce.mastodon.example", "MX")).toEqual([["10 feedback-smtp.us-east-1.amazonses.com"]]);
    expect(at("bounce.mastodon.example", "TXT")).toEqual([[SES_SPF_RECORD]]);
    expect(at("_dmarc.mastodon.example", "TXT")).toEqual([[dmarcRecord(DMARC_POLICY)]]);
    // DKIM's three CNAMEs are still there.
    expect(
      records.filter(
        (r) => r.inputs["type"] === "CNAME" && String(r.inputs["name"]).includes("._domainkey."),
      ),
    ).toHaveLength(3);
  });

  test("Mail::SPF (RFC 7208) parses the SPF record: include:amazonses.com, then ~all", () => {
    const perl = requireProgram("/usr/bin/perl");
    const script = [
      "use Mail::SPF::v1::Record;",
      "my $r = Mail::SPF::v1::Record->new_from_string($ARGV[0]);",
      'print join(" ", map { ($_->can("qualifier") ? $_->qualifier : "") . $_->name . ($_->can("domain_spec") && $_->domain_spec ? ":" . $_->domain_spec->text : "") } $r->terms), "\\n";',
    ].join("\n");
    const ok = spawnSync(perl, ["-e", script, SES_SPF_RECORD], { encoding: "utf8" });
    expect(ok.stderr).toBe("");
    expect(ok.stdout.trim()).toBe("+include:amazonses.com ~all");
    // The same parser refuses a broken record, so a pass above means something.
    const bad = spawnSync(perl, ["-e", script, "v=spf1 include: ~all"], { encoding: "utf8" });
    expect(bad.status).not.toBe(0);
  });

  test("Mail::DMARC (RFC 7489) parses the DMARC record as valid with the intended policy and alignment", () => {
    const perl = requireProgram("/usr/bin/perl");
    const script = [
      "use Mail::DMARC::Policy;",
      "my $p = Mail::DMARC::Policy->new->parse($ARGV[0]);",
      'die "invalid\\n" unless $p->is_valid;',
      'print join(" ", $p->v, $p->p, $p->adkim, $p->aspf), "\\n";',
    ].join("\n");
    const ok = spawnSync(perl, ["-e", script, dmarcRecord(DMARC_POLICY)], { encoding: "utf8" });
    expect(ok.stderr).toBe("");
    expect(ok.stdout.trim()).toBe("DMARC1 quarantine r r");
    const bad = spawnSync(perl, ["-e", script, "v=DMARC1; p=maybe"], { encoding: "utf8" });
    expect(bad.status).not.toBe(0);
  });
});
