/**
 * The migrations document as the production stack declares it: straight to PostgreSQL, and the
 * post-deployment migrations skipped only in phase pre (src/database/migrations.test.ts runs it).
 */
import { all, decodeUserData, find, runStack, stateOf } from "../../test/helpers";

const LT = "aws:ec2/launchTemplate:LaunchTemplate";

test("the migrations document goes straight to PostgreSQL and skips post-deployment migrations only in phase pre", async () => {
  const run = await runStack("production");
  const doc = find(run, "aws:ssm/document:Document", "mastodon-migrations");
  expect(doc.inputs["documentType"]).toBe("Command");
  const content = JSON.parse(String(doc.inputs["content"]));
  expect(content.parameters.phase.allowedValues).toEqual(expect.arrayContaining(["pre", "post"]));
  // npm run upgrade passes the new image (official) and the release it deploys.
  expect(Object.keys(content.parameters)).toEqual(expect.arrayContaining(["image", "version"]));
  const commands: string[] = content.mainSteps[0].inputs.runCommand;
  // The primary's endpoint, as RDS gives it.
  const address = stateOf(run, "aws:rds/instance:Instance", "mastodon-db-primary")["address"];
  const direct = `DB_HOST=${address} DB_PORT=5432 DB_SSLMODE=verify-full PREPARED_STATEMENTS=true`;
  // On the host's installation, and in a container of the given image (src/database/migrations.test.ts runs both).
  expect(commands).toContain(`set -- sudo -u mastodon env RAILS_ENV=production ${direct}`);
  expect(commands.join("\n")).toContain(`-e RAILS_ENV=production -e ${direct.replace(/ /g, " -e ")}`);
  // The flag is added to the command's arguments in phase pre, and nowhere else.
  expect(commands.filter((c) => c.includes("SKIP_POST_DEPLOYMENT_MIGRATIONS"))).toEqual([
    '  if [ "$stage" = "pre" ]; then set -- "$@" -e SKIP_POST_DEPLOYMENT_MIGRATIONS=true; fi',
    'if [ "$stage" = "pre" ]; then set -- "$@" SKIP_POST_DEPLOYMENT_MIGRATIONS=true; fi',
  ]);
  // Never in a file on any host.
  for (const lt of all(run, LT)) {
    expect(decodeUserData(lt)).not.toContain("SKIP_POST_DEPLOYMENT_MIGRATIONS");
  }
});
