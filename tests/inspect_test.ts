// inspect and platforms through the CLI against a real registry.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { pushFixtures, startProxy, startRegistry } from "../scripts/harness/mod.ts";
import { runCli } from "./_helpers/cli.ts";

const sha256 = (b: Uint8Array) => "sha256:" + createHash("sha256").update(b).digest("hex");
const HAVE_SKOPEO =
  new Deno.Command("sh", { args: ["-c", "command -v skopeo"] }).outputSync().success;

Deno.test("inspect and platforms", async (t) => {
  await using reg = await startRegistry();
  const H = reg.host;
  const oci = await pushFixtures(reg, {
    format: "oci",
    repository: "ins/oci",
    index: { tag: "multi", attestations: true },
  });
  const docker = await pushFixtures(reg, {
    format: "docker",
    repository: "ins/docker",
    index: { tag: "latest" },
    seed: "d",
  });
  const P = ["--plain-http"];

  await t.step(
    "an OCI index with attestations: counts, platforms, layers, attested digests",
    async () => {
      const r = await runCli([...P, "inspect", `${H}/ins/oci:multi`]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(
        r.stdout.startsWith(
          `Name:   ${H}/ins/oci:multi (Type: application/vnd.oci.image.index.v1+json)\nDigest: ${
            oci.index!.digest
          }\n`,
        ),
        r.stdout,
      );
      assert.match(r.stdout, / \* Contains 12 manifest references \(6 images, 6 attestations\):/);
      for (const img of oci.images) {
        assert.ok(r.stdout.includes(`Attestation for digest: ${img.digest}`), img.digest);
        for (const l of img.layers) assert.ok(r.stdout.includes(`digest = ${l.digest}`));
      }
      assert.ok(r.stdout.includes("[3]    - Variant: v7\n"));
      assert.ok(r.stdout.includes("[6]    - OS Vers: 10.0.17763.1234\n"));
      assert.ok(r.stdout.includes("[6]    -      OS: windows\n"));
      assert.match(
        r.stdout,
        /\[1\] # Layers: 2\n {5}layer 01: digest = sha256:[0-9a-f]{64}\n {17}type = application\/vnd\.oci\.image\.layer\.v1\.tar\+gzip/,
      );
      assert.ok(!r.stdout.includes("\x1b["), "no colour when not on a terminal");
    },
  );

  await t.step("a Docker manifest list, with the tag defaulting to latest", async () => {
    const r = await runCli([...P, "inspect", `${H}/ins/docker`]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      r.stdout.includes(`(Type: application/vnd.docker.distribution.manifest.list.v2+json)`),
    );
    assert.ok(r.stdout.includes(docker.index!.digest));
    assert.match(r.stdout, /Contains 6 manifest references \(6 images, 0 attestations\)/);
  });

  await t.step("single images in both media types, by tag and by digest", async () => {
    for (const img of [oci.images[2], docker.images[5]]) {
      for (
        const ref of [`${H}/${img.repository}:${img.tag}`, `${H}/${img.repository}@${img.digest}`]
      ) {
        const r = await runCli([...P, "inspect", ref]);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(r.stdout.includes(`Name: ${ref} (Type: ${img.mediaType})`), r.stdout);
        assert.ok(r.stdout.includes(`      Digest: ${img.digest}`));
        assert.ok(r.stdout.includes(`        Size: ${img.size}`));
        assert.ok(r.stdout.includes(`        Arch: ${img.platform.architecture}`));
        if (img.platform.variant) {
          assert.ok(r.stdout.includes(`     Variant: ${img.platform.variant}`));
        }
        if (img.platform["os.version"]) {
          assert.ok(r.stdout.includes(`     OS Vers: ${img.platform["os.version"]}`));
        }
      }
    }
  });

  await t.step("--raw keeps manifest-tool's fields and adds each entry's descriptor", async () => {
    const r = await runCli([...P, "inspect", "--raw", `${H}/ins/oci:multi`]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.name, `${H}/ins/oci:multi`);
    assert.equal(doc.digest, oci.index!.digest);
    assert.equal(doc.schemaVersion, 2);
    assert.equal(doc.mediaType, "application/vnd.oci.image.index.v1+json");
    assert.equal(doc.manifests.length, 12);
    const first = doc.manifests[0];
    assert.equal(first.digest, oci.images[0].digest);
    assert.equal(first.size, oci.images[0].size);
    assert.deepEqual(first.platform, { os: "linux", architecture: "amd64" });
    assert.equal(first.config.digest, oci.images[0].config.digest, "the child manifest's fields");
    assert.equal(first.layers.length, 2);
    const img = await runCli([...P, "inspect", "--raw", `${H}/ins/docker:linux-arm-v7`]);
    const one = JSON.parse(img.stdout);
    assert.equal(one.os, "linux");
    assert.equal(one.architecture, "arm");
    assert.equal(one.variant, "v7");
    assert.equal(one.digest, docker.images[2].digest);
  });

  await t.step("--expand-config embeds configs, for an index too", async () => {
    const r = await runCli([...P, "inspect", "--raw", "--expand-config", `${H}/ins/oci:multi`]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.manifests[2].config.architecture, "arm");
    assert.equal(doc.manifests[2].config.variant, "v7");
    assert.deepEqual(doc.manifests[2].config.rootfs.diff_ids.length, 2);
    const img = JSON.parse(
      (await runCli([...P, "inspect", "--expand-config", `${H}/ins/oci:windows-amd64`])).stdout,
    );
    assert.equal(img.config["os.version"], "10.0.17763.1234");
  });

  await t.step(
    "--platform picks one entry of an index, and names the ones there are when none matches",
    async () => {
      const r = await runCli([...P, "inspect", "--platform", "linux/arm/v7", `${H}/ins/oci:multi`]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.includes(`Digest: ${oci.images[2].digest}`), r.stdout);
      const miss = await runCli([
        ...P,
        "inspect",
        "--platform",
        "linux/riscv64",
        `${H}/ins/oci:multi`,
      ]);
      assert.equal(miss.code, 2);
      assert.match(
        miss.stderr,
        /no entry for platform linux\/riscv64: it has linux\/amd64, linux\/arm64\/v8/,
      );
    },
  );

  await t.step("platforms on several references, text and --json", async () => {
    const refs = [`${H}/ins/oci:multi`, `${H}/ins/docker`, `${H}/ins/oci:linux-s390x`];
    const r = await runCli([...P, "platforms", ...refs]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Manifest List: Yes/);
    assert.match(r.stdout, /Manifest List: No/);
    assert.ok(r.stdout.includes("   - linux/arm/v7\n"));
    assert.ok(r.stdout.includes("   - windows/amd64:10.0.17763.1234\n"));
    assert.ok(!r.stdout.includes("unknown/unknown"), "attestations are not platforms");
    const j = JSON.parse((await runCli([...P, "platforms", "--json", ...refs])).stdout);
    assert.equal(j.length, 3);
    assert.equal(j[0].digest, oci.index!.digest);
    assert.equal(j[0].platforms.length, 6);
    assert.deepEqual(j[2].platforms, ["linux/s390x"]);
    assert.equal(j[2].isIndex, false);
  });

  await t.step(
    "errors: unknown tag is exit 1 naming the reference and code; bad reference exit 2",
    async () => {
      const r = await runCli([...P, "inspect", `${H}/ins/oci:nope`]);
      assert.equal(r.code, 1);
      assert.ok(r.stderr.includes(`${H}/ins/oci:nope`), r.stderr);
      assert.match(r.stderr, /MANIFEST_UNKNOWN/);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.ok(!/\n\s+at /.test(r.stderr));
      const bad = await runCli(["inspect", `${H}/Ins/Bad`]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /repository must be lowercase/);
      const two = await runCli(["inspect", "a", "b"]);
      assert.equal(two.code, 2);
    },
  );

  await t.step({
    name: "printed digests are those skopeo's raw bytes hash to",
    ignore: !HAVE_SKOPEO,
    fn: async () => {
      for (
        const ref of [`${H}/ins/oci:multi`, `${H}/ins/docker:latest`, `${H}/ins/oci:linux-amd64`]
      ) {
        const out = await new Deno.Command("skopeo", {
          args: ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`],
          stdout: "piped",
        }).output();
        assert.equal(out.code, 0);
        const r = await runCli([...P, "inspect", "--raw", ref]);
        assert.equal(JSON.parse(r.stdout).digest, sha256(out.stdout), ref);
      }
    },
  });

  await t.step(
    "--debug: a 6-platform index takes at most 1 + 6 + 6 GETs, and they overlap",
    async () => {
      await using proxy = await startProxy({ upstream: reg.url, latencyMs: 40 });
      const r = await runCli([...P, "--debug", "inspect", `${proxy.host}/ins/docker:latest`]);
      assert.equal(r.code, 0, r.stderr);
      const gets = r.stderr.split("\n").filter((l) => /^debug: GET .* -> 200/.test(l));
      assert.ok(gets.length <= 13, gets.join("\n"));
      assert.equal(proxy.log.filter((l) => l.method === "GET").length, 13);
      // With 40 ms per response, 13 sequential requests would take >= 520 ms of proxy time; the
      // log shows overlap directly: some request arrived before the previous one was answered.
      const arrivals = proxy.log.map((l) => l.at);
      const overlapping = arrivals.filter((a, i) => i > 0 && a - arrivals[i - 1] < 40).length;
      assert.ok(
        overlapping >= 5,
        `requests overlap: ${arrivals.map((a) => Math.round(a - arrivals[0])).join(",")}`,
      );
    },
  );
});
if (!HAVE_SKOPEO) console.log("skipped: skopeo digest cross-check: skopeo is not installed");
