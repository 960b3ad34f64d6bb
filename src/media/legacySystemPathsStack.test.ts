/**
 * The program with mastodon:media.legacySystemPaths (src/stack/edgeTiers.ts wires it): the stack's
 * own HTTPS listener redirects /system/* to the stack's media host, whose distribution strips
 * /system; and the output mediaBucket names the bucket docs/moving-media.md copies into.
 */
import { arnOf, find, nameOf, runStack, stateOf } from "../../test/helpers";
import { LISTENER_RULE_PRIORITIES } from "../edge/rules";
import { legacySystemRedirect } from "./legacyPaths";

const FUNCTION = "aws:cloudfront/function:Function";
const DISTRIBUTION = "aws:cloudfront/distribution:Distribution";

test("staging with legacySystemPaths: the rule on the stack's HTTPS listener, to its media host; the behavior with the function", async () => {
  const run = await runStack("staging", { media: { legacySystemPaths: true } });
  const rule = find(run, "aws:lb/listenerRule:ListenerRule", "mastodon-media-system-paths").inputs;
  expect(rule).toMatchObject({
    listenerArn: arnOf(run, "aws:lb/listener:Listener", "mastodon-lb-https"),
    priority: LISTENER_RULE_PRIORITIES.legacySystemPaths,
    actions: [
      {
        type: "redirect",
        redirect: legacySystemRedirect(
          String(stateOf(run, DISTRIBUTION, "mastodon-media-cdn")["domainName"]),
        ),
      },
    ],
  });
  const cdn = find(run, DISTRIBUTION).inputs as any;
  expect(cdn.orderedCacheBehaviors).toMatchObject([
    {
      pathPattern: "/system/*",
      functionAssociations: [
        { eventType: "viewer-request", functionArn: arnOf(run, FUNCTION, "mastodon-media-system-paths") },
      ],
    },
  ]);
});

test("the output mediaBucket is the media bucket's name, mediaHost where it is served", async () => {
  const run = await runStack("staging");
  expect(run.outputs["mediaBucket"]).toBe(
    nameOf(run, "aws:s3/bucket:Bucket", "mastodon-media-bucket", "bucket"),
  );
  expect(run.outputs["mediaHost"]).toBe(stateOf(run, DISTRIBUTION, "mastodon-media-cdn")["domainName"]);
});
