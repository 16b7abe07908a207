// `inspect` and `platforms` through the CLI (a separate process, as a user runs it) against a
// real registry: every view asserted on content built from the fixtures, digests checked against
// skopeo's bytes, and the requests one inspect makes counted and timed through a proxy.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  type FixtureImage,
  type FixtureSet,
  pushFixtures,
  putManifest,
  startProxy,
  startRegistry,
} from "../scripts/harness/mod.ts";
import { main } from "../cli.ts";
import { runCli } from "./_helpers/cli.ts";

const sha256 = (b: Uint8Array) => "sha256:" + createHash("sha256").update(b).digest("hex");
const enc = new TextEncoder();
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const SKOPEO = new Deno.Command("sh", { args: ["-c", "command -v skopeo"], stdout: "null" })
  .outputSync().success;

/** manifest-tool v2's view of one index entry that is an image, from what the fixtures pushed. */
function entryLines(n: number, img: FixtureImage): string[] {
  const p = img.platform;
  const lines = [
    `[${n}]     Type: ${img.mediaType}`,
    `[${n}]   Digest: ${img.digest}`,
    `[${n}]   Length: ${img.size}`,
    `[${n}] Platform:`,
    `[${n}]    -      OS: ${p.os}`,
  ];
  if (p["os.version"]) lines.push(`[${n}]    - OS Vers: ${p["os.version"]}`);
  lines.push(`[${n}]    -    Arch: ${p.architecture}`);
  if (p.variant) lines.push(`[${n}]    - Variant: ${p.variant}`);
  lines.push(`[${n}] # Layers: ${img.layers.length}`);
  img.layers.forEach((l, j) => {
    lines.push(`     layer ${String(j + 1).padStart(2, "0")}: digest = ${l.digest}`);
    lines.push(`                 type = ${l.mediaType}`);
  });
  return [...lines, ""];
}

/** The whole human view of a fixture index (images first, then attestations, as pushed). */
function indexView(name: string, set: FixtureSet): string {
  const idx = set.index!;
  const images = set.images.length;
  const atts = idx.attestations.length;
  const lines = [
    `Name:   ${name} (Type: ${idx.mediaType})`,
    `Digest: ${idx.digest}`,
    // manifest-tool v2's words: the plural only above one.
    ` * Contains ${images + atts} manifest references (${images} image${
      images > 1 ? "s" : ""
    }, ${atts} attestation${atts > 1 ? "s" : ""}):`,
    ...set.images.flatMap((img, i) => entryLines(i + 1, img)),
  ];
  idx.attestations.forEach((a, j) => {
    const n = images + j + 1;
    lines.push(
      `[${n}]     Type: application/vnd.oci.image.manifest.v1+json (vnd.docker.reference.type=attestation-manifest)`,
      `[${n}]   Digest: ${a.digest}`,
      `[${n}]   Length: ${a.size}`,
      `[${n}]       >>> Attestation for digest: ${a.attests}`,
      "",
    );
  });
  return lines.join("\n") + "\n";
}

/** The whole human view of a fixture image. */
function imageView(name: string, img: FixtureImage): string {
  const p = img.platform;
  const lines = [
    `Name: ${name} (Type: ${img.mediaType})`,
    `      Digest: ${img.digest}`,
    `        Size: ${img.size}`,
    `          OS: ${p.os}`,
  ];
  if (p["os.version"]) lines.push(`     OS Vers: ${p["os.version"]}`);
  lines.push(`        Arch: ${p.architecture}`);
  if (p.variant) lines.push(`     Variant: ${p.variant}`);
  lines.push(`    # Layers: ${img.layers.length}`);
  img.layers.forEach((l, j) => {
    lines.push(`      layer ${String(j + 1).padStart(2, "0")}: digest = ${l.digest}`);
    lines.push(`                  type = ${l.mediaType}`);
  });
  return lines.join("\n") + "\n";
}

/** `platform` as mquery and the `platforms` command write it. */
const platformText = (p: FixtureImage["platform"]) =>
  [p.os, p.architecture, p.variant].filter(Boolean).join("/") +
  (p["os.version"] ? `:${p["os.version"]}` : "");

/** Request lines `--debug` wrote: method, URL, status. */
function debugRequests(stderr: string): { method: string; url: string; status: string }[] {
  return [...stderr.matchAll(/^debug: ([A-Z]+) (\S+) -> (\S+)/gm)].map((m) => ({
    method: m[1],
    url: m[2],
    status: m[3],
  }));
}

/** An error run: one line on stderr, no stack frames, no usage hint. */
function assertOneLineError(stderr: string): void {
  assert.equal(stderr.trimEnd().split("\n").length, 1, stderr);
  assert.ok(stderr.startsWith("manifest-tool: "), stderr);
  assert.ok(!/^\s+at /m.test(stderr), stderr);
}

Deno.test("inspect and platforms through the CLI against a real registry", async (t) => {
  await using reg = await startRegistry();
  const H = reg.host;
  const [oci, docker] = await Promise.all([
    pushFixtures(reg, {
      format: "oci",
      repository: "ins/oci",
      index: { tag: "multi", attestations: true },
    }),
    pushFixtures(reg, {
      format: "docker",
      repository: "ins/docker",
      index: { tag: "latest" },
      seed: "d",
    }),
  ]);
  // Two indexes the fixtures do not make: one naming the same image twice, one nesting `multi`.
  const putIndex = async (tag: string, manifests: Record<string, unknown>[]) => {
    const bytes = enc.encode(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
    const res = await fetch(`${reg.url}/v2/ins/oci/manifests/${tag}`, {
      method: "PUT",
      headers: { "content-type": OCI_INDEX },
      body: bytes,
    });
    assert.equal(res.status, 201, await res.text());
    return sha256(bytes);
  };
  const [amd64, arm64] = oci.images;
  const entry = (img: FixtureImage, platform: Record<string, string> = img.platform as never) => ({
    mediaType: img.mediaType,
    digest: img.digest,
    size: img.size,
    platform,
  });
  await putIndex("dup", [
    entry(amd64),
    entry(amd64, { os: "linux", architecture: "amd64", variant: "v2" }),
    entry(arm64),
  ]);
  const nestedDigest = await putIndex("nested", [
    entry(amd64),
    { mediaType: OCI_INDEX, digest: oci.index!.digest, size: oci.index!.size },
  ]);
  const P = ["--plain-http"];

  await t.step("an OCI index with attestations: the whole manifest-tool v2 view", async () => {
    const name = `${H}/ins/oci:multi`;
    const r = await runCli([...P, "inspect", name]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, indexView(name, oci));
    // The lines the issue names, spelled out once more.
    assert.ok(
      r.stdout.includes(" * Contains 12 manifest references (6 images, 6 attestations):\n"),
    );
    assert.ok(r.stdout.includes(`[7]       >>> Attestation for digest: ${amd64.digest}\n`));
    assert.ok(r.stdout.includes("[6]    - OS Vers: 10.0.17763.1234\n"));
    assert.ok(!r.stdout.includes("\x1b["), "no colour when stdout is not a terminal");
  });

  await t.step("a Docker manifest list, the tag defaulting to latest", async () => {
    const name = `${H}/ins/docker`;
    const r = await runCli([...P, "inspect", name]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, indexView(name, docker));
    assert.ok(r.stdout.includes(" * Contains 6 manifest references (6 images, 0 attestation):\n"));
    assert.ok(
      r.stdout.includes("(Type: application/vnd.docker.distribution.manifest.list.v2+json)"),
    );
  });

  await t.step("an index by digest; a loopback registry without --plain-http", async () => {
    const byDigest = `${H}/ins/oci@${oci.index!.digest}`;
    const [r, noFlag] = await Promise.all([
      runCli([...P, "inspect", byDigest]),
      runCli(["inspect", `${H}/ins/docker:latest`]),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, indexView(byDigest, oci));
    // HTTPS is tried first on loopback, then HTTP, as docker does.
    assert.equal(noFlag.code, 0, noFlag.stderr);
    assert.equal(noFlag.stdout, indexView(`${H}/ins/docker:latest`, docker));
  });

  await t.step("single images in both media types, Windows too, by tag and by digest", async () => {
    const cases: [string, FixtureImage][] = [];
    for (const img of [oci.images[2], oci.images[5], docker.images[1], docker.images[5]]) {
      cases.push([`${H}/${img.repository}:${img.tag}`, img]);
      cases.push([`${H}/${img.repository}@${img.digest}`, img]);
    }
    const runs = await Promise.all(cases.map(([ref]) => runCli([...P, "inspect", ref])));
    runs.forEach((r, i) => {
      const [ref, img] = cases[i];
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, imageView(ref, img), ref);
    });
    assert.ok(runs[2].stdout.includes("          OS: windows\n     OS Vers: 10.0.17763.1234\n"));
    assert.ok(
      runs[4].stdout.includes("(Type: application/vnd.docker.distribution.manifest.v2+json)"),
    );
  });

  await t.step("an index naming the same image twice: shown twice, fetched once", async () => {
    const r = await runCli([...P, "--debug", "inspect", `${H}/ins/oci:dup`]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(" * Contains 3 manifest references (3 images, 0 attestation):\n"));
    assert.ok(r.stdout.includes(`[2]   Digest: ${amd64.digest}\n`));
    assert.ok(r.stdout.includes("[2]    - Variant: v2\n[2] # Layers: 2\n"), r.stdout);
    const urls = debugRequests(r.stderr).map((q) => q.url);
    // The index and its two distinct children; no config (the view of an index prints none).
    assert.equal(urls.length, 1 + 2, urls.join("\n"));
    assert.equal(new Set(urls).size, urls.length, "no URL twice");
    const expanded = await runCli([
      ...P,
      "--debug",
      "inspect",
      "--expand-config",
      `${H}/ins/oci:dup`,
    ]);
    const all = debugRequests(expanded.stderr).map((q) => q.url);
    assert.equal(all.length, 1 + 2 + 2, all.join("\n"));
    assert.equal(new Set(all).size, all.length, "no URL twice");
  });

  await t.step("a nested index is shown as such, under its entry", async () => {
    const name = `${H}/ins/oci:nested`;
    const r = await runCli([...P, "inspect", name]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      r.stdout.startsWith(`Name:   ${name} (Type: ${OCI_INDEX})\nDigest: ${nestedDigest}\n`),
    );
    const nested = indexView(`${name}@${oci.index!.digest}`, oci).replace(/\n$/, "")
      .split("\n").map((l) => l ? `    ${l}` : l).join("\n");
    assert.ok(
      r.stdout.includes(
        `[2]     Type: ${OCI_INDEX}\n[2]   Digest: ${oci.index!.digest}\n[2]   Length: ${
          oci.index!.size
        }\n[2] Nested index:\n${nested}\n`,
      ),
      r.stdout,
    );
    const raw = JSON.parse((await runCli([...P, "inspect", "--raw", name])).stdout);
    assert.equal(raw.manifests[1].name, `${name}@${oci.index!.digest}`);
    assert.equal(raw.manifests[1].manifests.length, 12);
    assert.equal(raw.manifests[1].manifests[2].digest, oci.images[2].digest);
    // --platform finds an image of the nested index too.
    const s390x = oci.images.find((i) => i.platform.architecture === "s390x")!;
    const picked = await runCli([...P, "inspect", "--platform", "linux/s390x", name]);
    assert.equal(picked.code, 0, picked.stderr);
    assert.ok(picked.stdout.includes(`Digest: ${s390x.digest}`), picked.stdout);
    const none = await runCli([...P, "inspect", "--platform", "linux/riscv64", name]);
    assert.equal(none.code, 1);
    assert.match(
      none.stderr,
      /no entry for platform linux\/riscv64: it has linux\/amd64, .*linux\/s390x/,
    );
  });

  await t.step("--raw: valid JSON with v2's field names plus each entry's descriptor", async () => {
    const [list, single] = await Promise.all([
      runCli([...P, "inspect", "--raw", `${H}/ins/oci:multi`]),
      runCli([...P, "inspect", "--raw", `${H}/ins/docker:linux-arm-v7`]),
    ]);
    assert.equal(list.code, 0, list.stderr);
    const doc = JSON.parse(list.stdout);
    assert.equal(doc.name, `${H}/ins/oci:multi`);
    assert.equal(doc.digest, oci.index!.digest);
    assert.equal(doc.size, oci.index!.size);
    assert.equal(doc.schemaVersion, 2);
    assert.equal(doc.mediaType, OCI_INDEX);
    assert.equal(doc.manifests.length, 12);
    oci.images.forEach((img, i) => {
      const e = doc.manifests[i];
      // manifest-tool v2: each entry is the child manifest.
      assert.equal(e.schemaVersion, 2);
      assert.deepEqual(e.config, {
        mediaType: img.config.mediaType,
        digest: img.config.digest,
        size: img.config.size,
      });
      assert.deepEqual(e.layers, img.layers);
      // Added (manifest-tool issue #223): the entry's descriptor.
      assert.equal(e.digest, img.digest);
      assert.equal(e.size, img.size);
      assert.equal(e.mediaType, img.mediaType);
      assert.deepEqual(e.platform, img.platform);
      assert.deepEqual(e.descriptor, { ...entry(img), platform: img.platform });
    });
    oci.index!.attestations.forEach((a, j) => {
      const e = doc.manifests[6 + j];
      assert.equal(e.digest, a.digest);
      assert.equal(e.size, a.size);
      assert.equal(e.descriptor.annotations["vnd.docker.reference.digest"], a.attests);
      assert.equal(e.layers[0].mediaType, "application/vnd.in-toto+json");
    });
    assert.equal(single.code, 0, single.stderr);
    const img = docker.images[2];
    assert.deepEqual(JSON.parse(single.stdout), {
      name: `${H}/ins/docker:linux-arm-v7`,
      digest: img.digest,
      size: img.size,
      os: "linux",
      architecture: "arm",
      variant: "v7",
      ...JSON.parse(new TextDecoder().decode(img.manifest)),
    });
  });

  await t.step("--expand-config embeds the configs, for an image and for an index", async () => {
    const [list, single] = await Promise.all([
      runCli([...P, "inspect", "--raw", "--expand-config", `${H}/ins/oci:multi`]),
      runCli([...P, "inspect", "--expand-config", `${H}/ins/oci:windows-amd64`]),
    ]);
    assert.equal(list.code, 0, list.stderr);
    const doc = JSON.parse(list.stdout);
    const config = (img: FixtureImage) => JSON.parse(new TextDecoder().decode(img.config.bytes));
    oci.images.forEach((img, i) => {
      assert.deepEqual(doc.manifests[i].config, config(img));
      assert.equal(doc.manifests[i].configDescriptor.digest, img.config.digest);
    });
    assert.equal(doc.manifests[2].config.variant, "v7");
    assert.equal(doc.manifests[2].config.rootfs.diff_ids.length, 2);
    assert.equal(single.code, 0, single.stderr);
    const one = JSON.parse(single.stdout);
    assert.deepEqual(one.config, config(oci.images[5]));
    assert.equal(one.config["os.version"], "10.0.17763.1234");
    assert.equal(one.configDescriptor.digest, oci.images[5].config.digest);
  });

  await t.step(
    "--platform picks the entry of an index; a missing one is a clear error",
    async () => {
      const name = `${H}/ins/oci:multi`;
      const [arm, raw, win, single] = await Promise.all([
        runCli([...P, "inspect", "--platform", "linux/arm/v7", name]),
        runCli([...P, "inspect", "--raw", "--platform", "linux/arm64", `${H}/ins/docker`]),
        runCli([...P, "inspect", "--platform", "windows/amd64", name]),
        runCli([...P, "inspect", "--platform", "linux/s390x", `${H}/ins/oci:linux-s390x`]),
      ]);
      assert.equal(arm.code, 0, arm.stderr);
      // Named by the entry's digest, so the name pulls exactly what is shown.
      assert.equal(arm.stdout, imageView(`${name}@${oci.images[2].digest}`, oci.images[2]));
      assert.equal(raw.code, 0, raw.stderr);
      assert.equal(
        JSON.parse(raw.stdout).digest,
        docker.images[1].digest,
        "arm64 matches arm64/v8",
      );
      assert.equal(win.stdout, imageView(`${name}@${oci.images[5].digest}`, oci.images[5]));
      assert.equal(single.code, 0, single.stderr);
      assert.equal(single.stdout, imageView(`${H}/ins/oci:linux-s390x`, oci.images[4]));

      const [missing, mismatch, bad] = await Promise.all([
        runCli([...P, "inspect", "--platform", "linux/riscv64", name]),
        runCli([...P, "inspect", "--platform", "linux/arm64", `${H}/ins/oci:linux-s390x`]),
        runCli([...P, "inspect", "--platform", "linux", name]),
      ]);
      assert.equal(missing.code, 1);
      assert.equal(missing.stdout, "");
      assertOneLineError(missing.stderr);
      assert.equal(
        missing.stderr,
        `manifest-tool: "${name}" has no entry for platform linux/riscv64: it has ${
          oci.images.map((i) => platformText(i.platform)).join(", ")
        }\n`,
      );
      assert.equal(mismatch.code, 1);
      assertOneLineError(mismatch.stderr);
      assert.match(mismatch.stderr, /is a single image for linux\/s390x, not linux\/arm64\n$/);
      assert.equal(bad.code, 2, "a malformed platform is bad input");
      assert.match(bad.stderr, /Invalid platform "linux"/);
    },
  );

  await t.step("platforms on several references, text and --json", async () => {
    const refs = [`${H}/ins/oci:multi`, `${H}/ins/docker`, `${H}/ins/oci:windows-amd64`];
    const [text, json] = await Promise.all([
      runCli([...P, "platforms", ...refs]),
      runCli([...P, "platforms", "--json", ...refs]),
    ]);
    assert.equal(text.code, 0, text.stderr);
    const block = (
      ref: string,
      isIndex: boolean,
      mediaType: string,
      digest: string,
      ps: string[],
    ) =>
      [
        `Image: ${ref}`,
        ` * Manifest List: ${isIndex ? "Yes" : "No"} (Image type: ${mediaType})`,
        ` * Digest: ${digest}`,
        ` * Supported platforms:`,
        ...ps.map((p) => `   - ${p}`),
      ].join("\n") + "\n";
    const all = (set: FixtureSet) => set.images.map((i) => platformText(i.platform));
    const win = oci.images[5];
    assert.equal(
      text.stdout,
      [
        block(refs[0], true, OCI_INDEX, oci.index!.digest, all(oci)),
        block(refs[1], true, docker.index!.mediaType, docker.index!.digest, all(docker)),
        block(refs[2], false, win.mediaType, win.digest, ["windows/amd64:10.0.17763.1234"]),
      ].join("\n"),
    );
    assert.ok(text.stdout.includes("   - linux/arm/v7\n"));
    assert.ok(!text.stdout.includes("unknown/unknown"), "attestations are not platforms");
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), [
      {
        reference: refs[0],
        isIndex: true,
        mediaType: OCI_INDEX,
        digest: oci.index!.digest,
        platforms: all(oci),
      },
      {
        reference: refs[1],
        isIndex: true,
        mediaType: docker.index!.mediaType,
        digest: docker.index!.digest,
        platforms: all(docker),
      },
      {
        reference: refs[2],
        isIndex: false,
        mediaType: win.mediaType,
        digest: win.digest,
        platforms: ["windows/amd64:10.0.17763.1234"],
      },
    ]);
  });

  await t.step(
    "platforms fetches only what it needs: the index alone, an image's config",
    async () => {
      const [index, image] = await Promise.all([
        runCli([...P, "--debug", "platforms", `${H}/ins/oci:multi`]),
        runCli([...P, "--debug", "platforms", `${H}/ins/oci:linux-amd64`]),
      ]);
      assert.deepEqual(debugRequests(index.stderr).map((q) => q.url), [
        `http://${H}/v2/ins/oci/manifests/multi`,
      ]);
      assert.deepEqual(debugRequests(image.stderr).map((q) => q.url), [
        `http://${H}/v2/ins/oci/manifests/linux-amd64`,
        `http://${H}/v2/ins/oci/blobs/${amd64.config.digest}`,
      ]);
    },
  );

  await t.step(
    "platforms shows the references it found when another fails (--json: its failure), and exits 1",
    async () => {
      const [text, json] = await Promise.all([
        runCli([...P, "platforms", `${H}/ins/oci:nope`, `${H}/ins/docker`]),
        runCli([...P, "platforms", "--json", `${H}/ins/oci:nope`, `${H}/ins/docker`]),
      ]);
      assert.equal(text.code, 1);
      assert.ok(
        text.stdout.startsWith(`Image: ${H}/ins/docker\n * Manifest List: Yes`),
        text.stdout,
      );
      assertOneLineError(text.stderr);
      assert.ok(
        text.stderr.includes(`"${H}/ins/oci:nope"`) && text.stderr.includes("MANIFEST_UNKNOWN"),
      );
      assert.equal(json.code, 1);
      // One record per reference, in order; the one that failed says why.
      const records = JSON.parse(json.stdout) as { reference: string; failure?: string }[];
      assert.deepEqual(records.map((s) => s.reference), [`${H}/ins/oci:nope`, `${H}/ins/docker`]);
      assert.match(records[0].failure ?? "", /MANIFEST_UNKNOWN/);
      assert.equal(records[1].failure, undefined);
    },
  );

  await t.step(
    "errors: unknown tag or repository exit 1 in one line; bad input exit 2",
    async () => {
      const unknown = [
        `${H}/ins/oci:nope`,
        `${H}/ins/nothing-here:1.0`,
        `${H}/ins/oci@sha256:${"0".repeat(64)}`,
      ];
      const runs = await Promise.all(unknown.map((ref) => runCli([...P, "inspect", ref])));
      runs.forEach((r, i) => {
        assert.equal(r.code, 1, unknown[i]);
        assert.equal(r.stdout, "");
        assertOneLineError(r.stderr);
        assert.ok(r.stderr.includes(`"${unknown[i]}"`), r.stderr);
        assert.match(r.stderr, /\b(MANIFEST_UNKNOWN|NAME_UNKNOWN)\b/);
        assert.ok(!r.stderr.includes("--help"), "not a usage error");
      });
      const bad: [string[], RegExp][] = [
        [
          ["inspect", `${H}/Ins/Bad`],
          /Cannot parse reference "[^"]+\/Ins\/Bad": repository must be lowercase/,
        ],
        [["inspect", `${H}/ins/oci@sha256:123`], /Cannot parse reference/],
        [["inspect", "ins/oci:bad tag"], /Cannot parse reference/],
        [["inspect"], /inspect takes one image reference, got none/],
        [["inspect", "a", "b"], /inspect takes one image reference, got 2/],
        [["inspect", "--bogus", "a"], /unknown flag "--bogus"/],
        [["platforms"], /platforms takes at least one image reference/],
        [["platforms", `${H}/ins/docker`, "UPPER/case"], /Cannot parse reference "UPPER\/case"/],
      ];
      const badRuns = await Promise.all(bad.map(([args]) => runCli([...P, ...args])));
      badRuns.forEach((r, i) => {
        assert.equal(r.code, 2, bad[i][0].join(" "));
        assert.equal(r.stdout, "", "nothing looked up");
        assert.match(r.stderr, bad[i][1]);
        assert.ok(!/^\s+at /m.test(r.stderr), r.stderr);
      });
    },
  );

  await t.step("an index whose child is gone: exit 1, one line naming the reference", async () => {
    const broken = await pushFixtures(reg, {
      repository: "ins/broken",
      platforms: oci.images.slice(0, 2).map((i) => i.platform),
      index: { tag: "multi" },
      seed: "b",
    });
    const gone = broken.images[1].digest;
    const del = await fetch(`${reg.url}/v2/ins/broken/manifests/${gone}`, { method: "DELETE" });
    await del.body?.cancel();
    assert.equal(del.status, 202);
    const r = await runCli([...P, "inspect", `${H}/ins/broken:multi`]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assertOneLineError(r.stderr);
    assert.ok(r.stderr.startsWith(`manifest-tool: "${H}/ins/broken:multi": GET `), r.stderr);
    assert.ok(r.stderr.includes(gone) && r.stderr.includes("MANIFEST_UNKNOWN"), r.stderr);
  });

  await t.step({
    name: "the digests printed are those skopeo's raw bytes hash to",
    ignore: !SKOPEO,
    fn: async () => {
      const refs = [
        `${H}/ins/oci:multi`,
        `${H}/ins/docker:latest`,
        `${H}/ins/oci:linux-amd64`,
        `${H}/ins/docker:windows-amd64`,
      ];
      await Promise.all(refs.map(async (ref) => {
        const sk = await new Deno.Command("skopeo", {
          args: ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`],
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.equal(sk.code, 0, new TextDecoder().decode(sk.stderr));
        const want = sha256(sk.stdout);
        const [human, raw] = await Promise.all([
          runCli([...P, "inspect", ref]),
          runCli([...P, "inspect", "--raw", ref]),
        ]);
        assert.match(human.stdout, new RegExp(`^ *Digest: ${want}$`, "m"), ref);
        const doc = JSON.parse(raw.stdout);
        assert.equal(doc.digest, want, ref);
        const skDoc = JSON.parse(new TextDecoder().decode(sk.stdout));
        if (skDoc.manifests) {
          // Each entry's digest and size as the registry's own bytes list them.
          assert.deepEqual(
            doc.manifests.map((e: { digest: string; size: number }) => [e.digest, e.size]),
            skDoc.manifests.map((e: { digest: string; size: number }) => [e.digest, e.size]),
          );
        }
      }));
    },
  });
  if (!SKOPEO) console.log("skipped: skopeo digest cross-check: skopeo is not on PATH");

  /**
   * Runs inspect through a proxy that holds each request of a kind (child manifests, configs) until
   * all `n` of that kind have arrived (each hold bounded by a 10 s release): `n` held at once
   * proves they went out in one wave, none waiting for another's answer. No clock is read.
   */
  async function inspectInWaves(args: string[], n: number) {
    const waves = new Map<
      string,
      { now: number; max: number; release: () => void; all: Promise<void> }
    >();
    const timers: ReturnType<typeof setTimeout>[] = [];
    const wave = (kind: string) => {
      let w = waves.get(kind);
      if (!w) {
        let release = () => {};
        const all = new Promise<void>((r) => release = r);
        timers.push(setTimeout(() => release(), 10_000));
        w = { now: 0, max: 0, release, all };
        waves.set(kind, w);
      }
      return w;
    };
    try {
      await using proxy = await startProxy({
        upstream: reg.url,
        intercept: async (ctx) => {
          const path = new URL(ctx.request.url).pathname;
          const kind = /\/manifests\/sha256:/.test(path)
            ? "child"
            : /\/blobs\//.test(path)
            ? "config"
            : undefined;
          if (!kind) return undefined;
          const w = wave(kind);
          w.max = Math.max(w.max, ++w.now);
          if (w.now >= n) w.release();
          await w.all;
          return await ctx.forward();
        },
      });
      const ref = `${proxy.host}/ins/docker:latest`;
      const r = await runCli([...P, "--debug", ...args, ref]);
      return {
        r,
        ref,
        counts: proxy.counts(),
        held: Object.fromEntries([...waves].map(([k, w]) => [k, w.max])),
      };
    } finally {
      timers.forEach(clearTimeout);
    }
  }

  await t.step(
    "--debug: a 6-platform index takes 1 + 6 GETs in two waves, and no config (the view prints none)",
    async () => {
      const { r, ref, counts, held } = await inspectInWaves(["inspect"], 6);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, indexView(ref, docker));
      const reqs = debugRequests(r.stderr);
      assert.ok(reqs.every((q) => q.method === "GET" && q.status === "200"), r.stderr);
      assert.equal(new Set(reqs.map((q) => q.url)).size, reqs.length, "nothing fetched twice");
      assert.deepEqual(counts, { "GET manifest": 7 });
      assert.deepEqual(held, { child: 6 }, "all six children were requested before any answer");
    },
  );

  await t.step(
    "--expand-config: a 6-platform index takes 1 + 6 + 6 GETs in three waves (index, children, configs)",
    async () => {
      const { r, counts, held } = await inspectInWaves(["inspect", "--expand-config"], 6);
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout);
      assert.equal(doc.manifests.length, 6);
      assert.ok(
        doc.manifests.every((m: { config: { architecture?: string } }) => m.config.architecture),
      );
      assert.deepEqual(counts, { "GET manifest": 7, "GET blob": 6 });
      // Six configs held at once: each was asked for while the other children's were unanswered,
      // so the configs are one wave after the children's, and the chain is three requests deep.
      assert.deepEqual(held, { child: 6, config: 6 });
    },
  );

  await t.step("--debug: attestations' manifests are fetched, never their configs", async () => {
    const r = await runCli([...P, "--debug", "inspect", "--expand-config", `${H}/ins/oci:multi`]);
    assert.equal(r.code, 0, r.stderr);
    const reqs = debugRequests(r.stderr);
    assert.equal(reqs.filter((q) => q.url.includes("/manifests/")).length, 1 + 12);
    assert.deepEqual(
      reqs.filter((q) => q.url.includes("/blobs/")).map((q) => q.url.split("/").pop()).sort(),
      oci.images.map((i) => i.config.digest).sort(),
    );
  });

  await t.step(
    "--platform: the picked image's config is fetched (its view prints it), no other",
    async () => {
      const r = await runCli([
        ...P,
        "--debug",
        "inspect",
        "--platform",
        "linux/arm64",
        `${H}/ins/oci:multi`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const reqs = debugRequests(r.stderr);
      assert.equal(reqs.filter((q) => q.url.includes("/blobs/")).length, 1, r.stderr);
      assert.match(r.stdout, /Arch: arm64/);
    },
  );

  await t.step("colour on a terminal only, and never with NO_COLOR", async () => {
    const home = await Deno.makeTempDir({ prefix: "mt-home-" });
    try {
      const run = async (isTerminal: boolean, env: Record<string, string>) => {
        let out = "";
        let err = "";
        const code = await main([...P, "inspect", `${H}/ins/oci:multi`], {
          out: (s) => out += s,
          err: (s) => err += s,
          isTerminal,
          env: (n) => ({ HOME: home, ...env })[n],
        });
        assert.equal(code, 0, err);
        return out;
      };
      const plain = indexView(`${H}/ins/oci:multi`, oci);
      const tty = await run(true, {});
      assert.ok(tty.includes(`Digest: \x1b[1;33m${oci.index!.digest}\x1b[0m\n`), tty);
      // deno-lint-ignore no-control-regex -- ANSI escape sequences are what is stripped
      assert.equal(tty.replace(/\x1b\[[0-9;]*m/g, ""), plain);
      assert.equal(await run(true, { NO_COLOR: "1" }), plain);
      assert.equal(await run(false, {}), plain);
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  });

  await t.step("--help of inspect and platforms gives flags and examples", async () => {
    const [ins, pl] = await Promise.all([
      runCli(["inspect", "--help"]),
      runCli(["platforms", "--help"]),
    ]);
    assert.equal(ins.code, 0);
    for (const s of ["--raw", "--expand-config", "--platform", "Examples:", "@sha256:"]) {
      assert.ok(ins.stdout.includes(s), s);
    }
    assert.equal(pl.code, 0);
    assert.ok(pl.stdout.includes("--json") && pl.stdout.includes("Examples:"));
  });
});

Deno.test("an index naming one nested index N times, which names one image N times, is read and shown in linear time", async () => {
  await using reg = await startRegistry();
  const [img] = (await pushFixtures(reg, {
    repository: "amp/app",
    platforms: [{
      os: "linux",
      architecture: "amd64",
    }],
  })).images;
  const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
  const N = 300;
  const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
  const entry = {
    mediaType: img.mediaType,
    digest: img.digest,
    size: img.size,
    platform: img.platform,
  };
  const inner = enc({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: Array(N).fill(entry) });
  const innerPut = await putManifest(reg, "amp/app", "inner", inner, OCI_INDEX);
  assert.equal(innerPut.status, 201, innerPut.error);
  const nestedEntry = { mediaType: OCI_INDEX, digest: innerPut.digest, size: inner.length };
  const outer = enc({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: Array(N).fill(nestedEntry),
  });
  assert.equal((await putManifest(reg, "amp/app", "outer", outer, OCI_INDEX)).status, 201);
  const gets: string[] = [];
  await using proxy = await startProxy({
    upstream: reg.url,
    intercept: ({ request }) => {
      if (request.method === "GET") gets.push(new URL(request.url).pathname);
      return undefined;
    },
  });
  const ref = `${proxy.host}/amp/app:outer`;
  for (const args of [["inspect"], ["inspect", "--raw"], ["platforms"], ["verify"]]) {
    gets.length = 0;
    const r = await runCli(["--plain-http", ...args, ref]);
    assert.ok(r.code === 0 || args[0] === "verify", `${args}: ${r.stderr}`);
    // N² would be 90,000 entries: tens to hundreds of MB of output.
    assert.ok(r.stdout.length < 10_000 * N, `${args}: ${r.stdout.length} bytes of output`);
    const inners = gets.filter((p) => p.endsWith(`/manifests/${innerPut.digest}`)).length;
    assert.ok(inners <= 1, `${args}: the nested index read ${inners} times`);
  }
});
