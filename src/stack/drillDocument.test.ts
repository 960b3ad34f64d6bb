/**
 * The drill document as a stack declares it, under the fake cloud: a Command document in JSON whose
 * content is drill.ts's, its autonamed name within SSM's rules (src/aws/naming checks every name).
 */
import * as pulumi from "@pulumi/pulumi";
import { renderDrillDocument } from "../database/drill";
import { drillDocument } from "./drillDocument";
import { declareUnderMocks, find } from "../../test/helpers";

test("a Command document in JSON, whose content is the rendered drill document", async () => {
  const run = await declareUnderMocks(() => {
    const parent = new pulumi.ComponentResource("mastodon:index:MastodonStack", "mastodon", {});
    drillDocument("mastodon", parent);
  });
  const doc = find(run, "aws:ssm/document:Document", "mastodon-drill");
  expect(doc.inputs["documentType"]).toBe("Command");
  expect(doc.inputs["documentFormat"]).toBe("JSON");
  expect(doc.inputs["content"]).toBe(renderDrillDocument());
  expect(String(doc.inputs["name"])).toMatch(/^mastodon-drill-[0-9a-f]{7}$/);
});
