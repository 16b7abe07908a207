// verify on the engine's content graph: its requests carry the run's signal like a push's, and
// are bounded only by the client's per-host limit. Counted by the harness proxy.
import assert from "node:assert/strict";
import { pushFixtures, startProxy, startRegistry } from "../scripts/harness/mod.ts";
import { parseReference } from "../lib/reference.ts";
import { RegistryClient } from "../lib/registry/client.ts";
import { verify } from "../lib/verify.ts";

Deno.test("verify() with an aborted signal sends no request and throws its reason", async () => {
  await using reg = await startRegistry();
  await pushFixtures(reg, { repository: "v/app", index: { tag: "multi" } });
  let requests = 0;
  await using proxy = await startProxy({
    upstream: reg.url,
    intercept: () => {
      requests++;
      return undefined;
    },
  });
  await using client = new RegistryClient();
  const ref = parseReference(`${proxy.host}/v/app:multi`);
  const ok = await verify(client, ref);
  assert.ok(ok.ok, JSON.stringify(ok.problems));
  assert.ok(ok.manifests > 1, "the index and its images were read");
  const before = requests;
  const controller = new AbortController();
  const reason = new Error("stop");
  controller.abort(reason);
  await assert.rejects(verify(client, ref, { signal: controller.signal }), (e) => e === reason);
  assert.equal(requests, before, "no request after the abort");
});
