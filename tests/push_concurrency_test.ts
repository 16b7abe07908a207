// --concurrency N bounds the requests a whole push has in flight to a registry, whatever the
// engine's fan-out (specs × manifests × blobs): counted by the harness proxy in front of it.
import assert from "node:assert/strict";
import { pushFixtures, startProxy, startRegistry } from "../scripts/harness/mod.ts";
import { runCli } from "./_helpers/cli.ts";

Deno.test("--concurrency 2 holds under a 6-platform cross-repo push with 13 mounts", async () => {
  await using reg = await startRegistry();
  const set = await pushFixtures(reg, { format: "oci", layout: "repos", repository: "csrc/app" });
  let inFlight = 0;
  let peak = 0;
  await using proxy = await startProxy({
    upstream: reg.url,
    intercept: async ({ forward }) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      let open = true;
      const end = () => {
        if (open) inFlight--;
        open = false;
      };
      try {
        // Hold each request a little, so that any excess would overlap and show.
        await new Promise((r) => setTimeout(r, 25));
        const res = await forward();
        if (!res.body) {
          end();
          return res;
        }
        // A request counts until its response body has been read or cancelled.
        const body = res.body.pipeThrough(new TransformStream({ flush: end }));
        const reader = body.getReader();
        const counted = new ReadableStream<Uint8Array>({
          async pull(c) {
            const { done, value } = await reader.read();
            if (done) {
              end();
              c.close();
            } else c.enqueue(value);
          },
          cancel(reason) {
            end();
            return reader.cancel(reason);
          },
        });
        return new Response(counted, { status: res.status, headers: res.headers });
      } catch (e) {
        end();
        throw e;
      }
    },
  });
  const spec = await Deno.makeTempFile({ suffix: ".yaml" });
  try {
    await Deno.writeTextFile(
      spec,
      `image: ${proxy.host}/cdst/app:v1\nmanifests:\n${
        set.images.map((i) => `  - image: ${proxy.host}/${i.repository}:latest`).join("\n")
      }\n`,
    );
    const r = await runCli([
      "--plain-http",
      "--concurrency",
      "2",
      "push",
      "--type",
      "oci",
      "from-spec",
      spec,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const mounts = proxy.log.filter((l) => l.method === "POST" && /mount=/.test(l.path));
    assert.equal(mounts.length, 13, "6 configs, 6 own layers, 1 shared base layer");
    assert.ok(peak >= 1 && peak <= 2, `at most 2 requests in flight, saw ${peak}`);
  } finally {
    await Deno.remove(spec);
  }
});
