// Ctrl-C during a push: the CLI stops the streamed copy, commits nothing and exits 130.
import assert from "node:assert/strict";
import { pushFixtures, startProxy, startRegistry } from "../scripts/harness/mod.ts";

/** A source registry holding one image with a large layer, and a target registry. */
async function bigImage(layerBytes: number) {
  const src = await startRegistry();
  const dst = await startRegistry();
  const set = await pushFixtures(src, {
    format: "oci",
    repository: "big/app",
    platforms: [{ os: "linux", architecture: "amd64" }],
    largeLayerBytes: layerBytes,
  });
  const big = set.images[0].layers.find((l) => l.size === layerBytes)!;
  return {
    src,
    dst,
    big,
    async [Symbol.asyncDispose]() {
      await src.stop();
      await dst.stop();
    },
  };
}

/** `push --type oci from-spec …args` in its own process (the bundle when MANIFEST_TOOL_BUNDLE). */
function spawnPush(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      Deno.env.get("MANIFEST_TOOL_BUNDLE") ?? new URL("../cli.ts", import.meta.url).pathname,
      "--plain-http",
      "push",
      "--type",
      "oci",
      "from-spec",
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}

Deno.test("SIGINT during a cross-registry copy cancels it, leaves the target tag absent and exits 130", async () => {
  await using world = await bigImage(64 * 1024 * 1024);
  const { src, dst, big } = world;
  // Slow source: the copy takes ~30 s unless it is stopped.
  await using proxy = await startProxy({ upstream: src.url, bytesPerSecond: 2 * 1024 * 1024 });
  const spec = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(
    spec,
    `image: ${dst.host}/copied/app:v1\nmanifests:\n  - image: ${proxy.host}/big/app:linux-amd64\n`,
  );
  const child = spawnPush([spec]);
  try {
    // Wait (bounded) until the large blob's download has begun streaming through the proxy.
    const started = () =>
      proxy.log.some((l) => l.method === "GET" && l.path.endsWith(big.digest) && l.status === 200);
    for (let i = 0; i < 600 && !started(); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(started(), "the copy of the large layer started");
    const t0 = performance.now();
    child.kill("SIGINT");
    const out = await child.output();
    const seconds = (performance.now() - t0) / 1000;
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 130, stderr);
    assert.match(stderr, /Interrupted: nothing was committed/);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
    // Generous: a copy left running would take ~30 s more.
    assert.ok(seconds < 10, `the process ended ${seconds.toFixed(1)} s after SIGINT`);
    const res = await fetch(`${dst.url}/v2/copied/app/manifests/v1`, { method: "HEAD" });
    assert.equal(res.status, 404, "the target tag was not written");
    const blob = await fetch(`${dst.url}/v2/copied/app/blobs/${big.digest}`, { method: "HEAD" });
    assert.equal(blob.status, 404, "the interrupted upload was not completed");
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
    await child.status;
    await Deno.remove(spec);
  }
});

Deno.test("SIGINT during a batch: each spec's line (not started ones: interrupted), the summary, exit 130", async () => {
  await using world = await bigImage(16 * 1024 * 1024);
  const { src, dst, big } = world;
  await using proxy = await startProxy({ upstream: src.url, bytesPerSecond: 1024 * 1024 });
  // Ten specs, eight worked on at once: two wait their turn when the run is interrupted.
  const specs = Array.from(
    { length: 10 },
    (_, i) =>
      `image: ${dst.host}/batch/app${i}:v1\nmanifests:\n  - image: ${proxy.host}/big/app:linux-amd64\n`,
  ).join("---\n");
  const spec = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(spec, specs);
  for (const json of [false, true]) {
    const child = spawnPush([...(json ? ["--json"] : []), spec]);
    try {
      const started = () =>
        proxy.log.some((l) =>
          l.method === "GET" && l.path.endsWith(big.digest) && l.status === 200
        );
      for (let i = 0; i < 600 && !started(); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(started(), "a copy started");
      child.kill("SIGINT");
      const out = await child.output();
      const stdout = new TextDecoder().decode(out.stdout);
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 130, stderr);
      assert.match(stderr, /^manifest-tool: Interrupted: /);
      assert.equal(stderr.trim().split("\n").length, 1, stderr);
      if (json) {
        const records = JSON.parse(stdout);
        assert.equal(records.length, 10, stdout);
        assert.ok(records.every((r: { status: string }) => r.status !== "pushed"), stdout);
      } else {
        assert.doesNotMatch(stdout, /--fail-fast/);
        assert.match(stdout, /Skipped: .*: Not started: the run was interrupted/);
        assert.match(stdout.trim().split("\n").at(-1)!, /^0 pushed, \d+ failed, \d+ not started$/);
      }
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
      await child.status;
    }
    proxy.log.length = 0;
  }
  await Deno.remove(spec);
});
