/**
 * Instance metadata (IMDSv2) as an Auto Scaling group member sees it, for the host programs that
 * read it (mastodon-drain, mastodon-pool): a token first, then the instance id, the group's
 * name tag and the target lifecycle state, which the test changes as the group would.
 */
import * as http from "http";
import type { AddressInfo } from "net";

export interface LifecycleState {
  /** What autoscaling/target-lifecycle-state answers now. */
  value: string;
  /** How many times it was read. */
  reads: number;
}

export async function instanceMetadata(
  state: LifecycleState,
  instance: { id: string; group: string },
): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer((req, res) => {
    if (req.method === "PUT" && req.url === "/latest/api/token") return res.end("token");
    if (req.headers["x-aws-ec2-metadata-token"] !== "token") return res.writeHead(401).end();
    const answers: Record<string, string> = {
      "/latest/meta-data/instance-id": instance.id,
      "/latest/meta-data/tags/instance/aws:autoscaling:groupName": instance.group,
    };
    if (req.url === "/latest/meta-data/autoscaling/target-lifecycle-state") {
      state.reads++;
      return res.end(state.value);
    }
    const answer = answers[req.url ?? ""];
    return answer === undefined ? res.writeHead(404).end() : res.end(answer);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
