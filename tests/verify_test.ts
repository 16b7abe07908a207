// `verify` against a real registry: indexes broken by hand with raw HTTP requests (a child deleted
// after the push, a platform that disagrees with its config, a wrong size, duplicate platforms, an
// attestation of a missing image, a layer deleted, a referrer naming another subject) are each
// reported with the digest or platform in the line and exit 1; what `push` and the fixtures
// publish verifies with exit 0. Plus the pure checks as tables.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  type FixtureImage,
  PLATFORMS,
  pushFixtures,
  type RunningRegistry,
  startProxy,
  startRegistry,
} from "../scripts/harness/mod.ts";
import { main } from "../cli.ts";
import { runCli } from "./_helpers/cli.ts";
import {
  entryPlatformProblems,
  indexProblems,
  type VerifyProblem,
  type VerifyResult,
} from "../lib/verify.ts";
import { formatVerifyText } from "../lib/format/verify.ts";
import { makeClient, makeLogger } from "../cli/context.ts";
import { verifyPushed } from "../cli/verify.ts";
import type { Descriptor } from "../lib/manifest.ts";

const sha256 = (b: Uint8Array) => "sha256:" + createHash("sha256").update(b).digest("hex");
const enc = new TextEncoder();
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
const SKOPEO = new Deno.Command("sh", { args: ["-c", "command -v skopeo"], stdout: "null" })
  .outputSync().success;

/** Runs the CLI in this process (as `main` is run by `cli.ts`), capturing its output. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(["--plain-http", ...args], {
    out: (s) => stdout += s,
    err: (s) => stderr += s,
    isTerminal: false,
    env: () => undefined,
  });
  return { code, stdout, stderr };
}

/** A raw request to the (auth-less) registry, with the status asserted. */
async function raw(
  reg: RunningRegistry,
  method: string,
  path: string,
  status: number,
  init: { body?: Uint8Array; type?: string } = {},
): Promise<void> {
  const res = await fetch(`${reg.url}${path}`, {
    method,
    body: init.body as Uint8Array<ArrayBuffer> | undefined,
    headers: init.type ? { "content-type": init.type } : {},
  });
  const text = await res.text();
  assert.equal(res.status, status, `${method} ${path}: ${text}`);
}

/** Puts an index (written by hand, so it may lie) under `repo:tag`; returns digest and size. */
async function putIndex(
  reg: RunningRegistry,
  repo: string,
  tag: string,
  manifests: Record<string, unknown>[],
  mediaType = OCI_INDEX,
  extra: Record<string, unknown> = {},
): Promise<{ digest: string; size: number }> {
  const bytes = enc.encode(JSON.stringify({ schemaVersion: 2, mediaType, manifests, ...extra }));
  await raw(reg, "PUT", `/v2/${repo}/manifests/${tag}`, 201, { body: bytes, type: mediaType });
  return { digest: sha256(bytes), size: bytes.length };
}

/** The index entry of a fixture image, with its own platform unless one is given. */
function entry(img: FixtureImage, over: Partial<Descriptor> = {}): Record<string, unknown> {
  return {
    mediaType: img.mediaType,
    digest: img.digest,
    size: img.size,
    platform: img.platform,
    ...over,
  };
}

/** Problem lines of a text run. */
const errorLines = (out: string) => out.split("\n").filter((l) => l.startsWith("error: "));
const warningLines = (out: string) => out.split("\n").filter((l) => l.startsWith("warning: "));

Deno.test("verify reports each hand-broken index with the digest or platform, exit 1", async (t) => {
  await using reg = await startRegistry({ deletes: true });
  const H = reg.host;
  const two = PLATFORMS.slice(0, 2); // linux/amd64, linux/arm64/v8
  const set = await pushFixtures(reg, { repository: "v/app", platforms: two });
  const [amd64, arm64] = set.images;

  await t.step("indexes nested deeper than verify follows are an error, not OK", async () => {
    const repo = "v/deep";
    const own = await pushFixtures(reg, { repository: repo, platforms: two, seed: "deep" });
    let inner = await putIndex(reg, repo, "level0", own.images.map((img) => entry(img)));
    for (let level = 1; level <= 9; level++) {
      inner = await putIndex(reg, repo, `level${level}`, [{ mediaType: OCI_INDEX, ...inner }]);
    }
    const r = await cli(["verify", `${H}/${repo}:level9`]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /error: .*indexes nested more than 8 deep/);
    assert.doesNotMatch(r.stdout, /^OK /m);
    const shallow = await cli(["verify", `${H}/${repo}:level3`]);
    assert.equal(shallow.code, 0, shallow.stdout);
  });

  await t.step("a child deleted after the index was pushed is missing", async () => {
    const repo = "v/del";
    const own = await pushFixtures(reg, { repository: repo, platforms: two, seed: "del" });
    const idx = await putIndex(reg, repo, "idx", own.images.map((img) => entry(img)));
    await putIndex(reg, repo, "outer", [{ mediaType: OCI_INDEX, ...idx }]);
    await raw(reg, "DELETE", `/v2/${repo}/manifests/${own.images[1].digest}`, 202);
    if (SKOPEO) {
      // An independent judge: skopeo cannot read the child either.
      const out = await new Deno.Command("skopeo", {
        args: [
          "inspect",
          "--raw",
          "--tls-verify=false",
          `docker://${H}/${repo}@${own.images[1].digest}`,
        ],
        stdout: "null",
        stderr: "null",
      }).output();
      assert.notEqual(out.code, 0, "skopeo still reads the deleted child");
    }
    const r = await cli(["verify", `${H}/${repo}:idx`]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.deepEqual(errorLines(r.stdout), [
      `error: ${H}/${repo}:idx: ${
        own.images[1].digest
      }: manifest (linux/arm64/v8) not in ${H}/${repo}`,
    ]);
    assert.ok(r.stdout.endsWith(`${H}/${repo}:idx: 1 error, 0 warnings\n`), r.stdout);
    // Through a nested index too.
    const nested = await cli(["verify", `${H}/${repo}:outer`]);
    assert.equal(nested.code, 1, nested.stdout);
    assert.deepEqual(errorLines(nested.stdout), [
      `error: ${H}/${repo}:outer: ${
        own.images[1].digest
      }: manifest (linux/arm64/v8) not in ${H}/${repo}`,
    ]);
    // Only the entries for the platforms asked for are followed.
    const amd = await cli(["verify", "--platform", "linux/amd64", `${H}/${repo}:idx`]);
    assert.equal(amd.code, 0, amd.stdout);
    const arm = await cli(["verify", "--platform", "linux/arm64", `${H}/${repo}:idx`]);
    assert.equal(arm.code, 1, arm.stdout);
    assert.match(
      arm.stdout,
      new RegExp(`: ${own.images[1].digest}: manifest \\(linux/arm64/v8\\) not in`),
    );
  });

  await t.step("an entry whose platform disagrees with its config", async () => {
    await putIndex(reg, "v/app", "lie", [
      entry(amd64, { platform: { os: "linux", architecture: "arm", variant: "v7" } }),
      entry(arm64),
    ]);
    const r = await cli(["verify", `${H}/v/app:lie`]);
    assert.equal(r.code, 1, r.stdout);
    assert.deepEqual(errorLines(r.stdout), [
      `error: ${H}/v/app:lie: ${amd64.digest}: index says linux/arm/v7, config says linux/amd64`,
    ]);
  });

  await t.step(
    "a config variant that differs from the entry's is an error",
    async () => {
      await putIndex(reg, "v/app", "variant", [
        entry(arm64, { platform: { os: "linux", architecture: "arm64", variant: "v9" } }),
      ]);
      const r = await cli(["verify", `${H}/v/app:variant`]);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, /index says linux\/arm64\/v9, config says linux\/arm64\/v8/);
    },
  );

  await t.step("a descriptor with a wrong size", async () => {
    await putIndex(reg, "v/app", "size", [entry(amd64, { size: amd64.size + 7 }), entry(arm64)]);
    const r = await cli(["verify", `${H}/v/app:size`]);
    assert.equal(r.code, 1, r.stdout);
    assert.deepEqual(errorLines(r.stdout), [
      `error: ${H}/v/app:size: ${amd64.digest}: manifest (linux/amd64): descriptor says ${
        amd64.size + 7
      } bytes, registry has ${amd64.size}`,
    ]);
  });

  await t.step("a descriptor with a wrong media type", async () => {
    await putIndex(reg, "v/app", "type", [
      entry(amd64, { mediaType: "application/vnd.docker.distribution.manifest.v2+json" }),
      entry(arm64),
    ]);
    const r = await cli(["verify", `${H}/v/app:type`]);
    assert.equal(r.code, 1, r.stdout);
    assert.ok(
      errorLines(r.stdout).some((l) =>
        l.startsWith(
          `error: ${H}/v/app:type: ${amd64.digest}: manifest (linux/amd64): descriptor says `,
        ) &&
        l.endsWith(`manifest is ${OCI_MANIFEST}`)
      ),
      r.stdout,
    );
    // A Docker media type in an OCI index is a warning besides.
    assert.equal(warningLines(r.stdout).length, 1, r.stdout);
  });

  await t.step("duplicate platforms", async () => {
    await putIndex(reg, "v/app", "dup", [entry(amd64), entry(arm64), entry(amd64)]);
    const r = await cli(["verify", `${H}/v/app:dup`]);
    assert.equal(r.code, 1, r.stdout);
    assert.deepEqual(errorLines(r.stdout), [
      `error: ${H}/v/app:dup: linux/amd64: entries ${amd64.digest} and ${amd64.digest} both claim this platform`,
    ]);
  });

  await t.step("each document is fetched once, even when two entries name it", async () => {
    const r = await cli(["--debug", "verify", "--blobs", `${H}/v/app:dup`]);
    const gets = (path: string) =>
      r.stderr.split("\n").filter((l) => l.startsWith("debug: GET ") && l.includes(path)).length;
    const heads = (path: string) =>
      r.stderr.split("\n").filter((l) => l.startsWith("debug: HEAD ") && l.includes(path)).length;
    assert.equal(gets(`/manifests/${amd64.digest}`), 1, r.stderr);
    assert.equal(gets(`/blobs/${amd64.config.digest}`), 1, r.stderr);
    // The base layer is shared by both images: one HEAD.
    assert.equal(heads(`/blobs/${amd64.layers[0].digest}`), 1, r.stderr);
  });

  await t.step("an os/architecture Go does not know", async () => {
    await putIndex(reg, "v/app", "x86", [
      entry(amd64, { platform: { os: "linux", architecture: "x86_64" } }),
    ]);
    const r = await cli(["verify", `${H}/v/app:x86`]);
    assert.equal(r.code, 1, r.stdout);
    assert.ok(
      errorLines(r.stdout).some((l) =>
        l.startsWith(`error: ${H}/v/app:x86: ${amd64.digest}: Unknown architecture "x86_64"`)
      ),
      r.stdout,
    );
  });

  await t.step("an attestation pointing at an image not in the index", async () => {
    const repo = "v/att";
    const own = await pushFixtures(reg, {
      repository: repo,
      platforms: two,
      seed: "att",
      index: { tag: "whole", attestations: true },
    });
    const whole = JSON.parse(new TextDecoder().decode(own.index!.bytes)) as {
      manifests: Record<string, unknown>[];
    };
    // The arm64 image dropped, its attestation kept.
    const kept = whole.manifests.filter((m) => m.digest !== own.images[1].digest);
    await putIndex(reg, repo, "orphan", kept);
    const ok = await cli(["verify", `${H}/${repo}:whole`]);
    assert.equal(ok.code, 0, ok.stdout);
    const r = await cli(["verify", `${H}/${repo}:orphan`]);
    assert.equal(r.code, 1, r.stdout);
    const att = own.index!.attestations[1];
    assert.deepEqual(errorLines(r.stdout), [
      `error: ${H}/${repo}:orphan: ${att.digest}: attestation names image ${att.attests}, which is not in the index`,
    ]);
    // An attestation with a runnable platform.
    const runnable = whole.manifests.map((m) =>
      m.digest === att.digest ? { ...m, platform: { os: "linux", architecture: "arm64" } } : m
    );
    await putIndex(reg, repo, "runnable", runnable);
    const p = await cli(["verify", `${H}/${repo}:runnable`]);
    assert.equal(p.code, 1, p.stdout);
    assert.deepEqual(errorLines(p.stdout), [
      `error: ${H}/${repo}:runnable: ${att.digest}: attestation has platform linux/arm64, expected unknown/unknown`,
    ]);
  });

  await t.step("a layer deleted is found only with --blobs", async () => {
    const repo = "v/layer";
    const own = await pushFixtures(reg, { repository: repo, platforms: two, seed: "layer" });
    await putIndex(reg, repo, "idx", own.images.map((img) => entry(img)));
    const layer = own.images[0].layers[1]; // the image's own layer, not the shared base
    await raw(reg, "DELETE", `/v2/${repo}/blobs/${layer.digest}`, 202);
    const plain = await cli(["verify", `${H}/${repo}:idx`]);
    assert.equal(plain.code, 0, plain.stdout);
    assert.equal(plain.stdout, `OK ${H}/${repo}:idx (3 manifests, 2 blobs checked)\n`);
    for (const flag of ["--blobs", "--blobs=full"]) {
      const r = await cli(["verify", flag, `${H}/${repo}:idx`]);
      assert.equal(r.code, 1, r.stdout);
      assert.deepEqual(errorLines(r.stdout), [
        `error: ${H}/${repo}:idx: ${layer.digest}: layer of ${
          own.images[0].digest
        } not in ${H}/${repo}`,
      ], flag);
    }
  });

  await t.step("a platform asked for that the index does not have", async () => {
    const r = await cli(["verify", "--platform", "linux/riscv64,linux/arm64", `${H}/v/app:size`]);
    assert.equal(r.code, 1, r.stdout);
    // The amd64 entry (with the wrong size) is not followed.
    assert.deepEqual(errorLines(r.stdout), [
      `error: ${H}/v/app:size: linux/riscv64: no entry for linux/riscv64`,
    ]);
    const image = await cli(["verify", "--platform", "linux/arm64", `${H}/v/app:linux-amd64`]);
    assert.equal(image.code, 1, image.stdout);
    assert.deepEqual(errorLines(image.stdout), [
      `error: ${H}/v/app:linux-amd64: linux/arm64: no entry for linux/arm64`,
    ]);
  });

  await t.step("--json: one record per reference, problems as objects", async () => {
    const r = await cli(["verify", "--json", `${H}/v/app:lie`, `${H}/v/app:linux-amd64`]);
    assert.equal(r.code, 1, r.stderr);
    const records = JSON.parse(r.stdout) as (VerifyResult & { reference: string })[];
    assert.equal(records.length, 2);
    assert.equal(records[0].reference, `${H}/v/app:lie`);
    assert.equal(records[0].ok, false);
    assert.equal(records[0].type, "index");
    const p = records[0].problems[0] as VerifyProblem;
    assert.deepEqual(
      { kind: p.kind, severity: p.severity, digest: p.digest, platform: p.platform },
      {
        kind: "platform-mismatch",
        severity: "error",
        digest: amd64.digest,
        platform: "linux/arm/v7",
      },
    );
    assert.equal(records[1].ok, true);
    assert.equal(records[1].type, "image");
    assert.deepEqual(records[1].problems, []);
    // A tag that is not there: its problem names it as the subject, with no `digest`.
    const gone = await cli(["verify", "--json", `${H}/v/app:gone`]);
    const [missing] = JSON.parse(gone.stdout)[0].problems as VerifyProblem[];
    assert.equal(missing.kind, "manifest-missing");
    assert.equal(missing.subject, "gone");
    assert.equal(missing.digest, undefined);
  });
});

Deno.test("verify passes what push and the fixtures publish, warnings allowed", async (t) => {
  await using reg = await startRegistry();
  const H = reg.host;
  const oci = await pushFixtures(reg, {
    repository: "ok/oci",
    index: { tag: "multi", attestations: true },
  });
  const docker = await pushFixtures(reg, {
    format: "docker",
    repository: "ok/docker",
    index: { tag: "list" },
  });

  await t.step("a fixture index with attestations, with and without --blobs", async () => {
    const n = oci.images.length;
    const manifests = 1 + 2 * n;
    // Without --blobs: the n image configs. With it, also the shared base layer, n own layers,
    // the attestations' empty config and their n statements.
    const cases: [string[], number][] = [[[], n], [["--blobs"], 3 * n + 2], [
      ["--blobs=full"],
      3 * n + 2,
    ]];
    for (const [flags, blobs] of cases) {
      const r = await cli(["verify", ...flags, `${H}/ok/oci:multi`]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(
        r.stdout,
        `OK ${H}/ok/oci:multi (${manifests} manifests, ${blobs} blobs checked)\n`,
        flags.join(" "),
      );
    }
  });

  await t.step("--blobs=full streams a large layer through the hash", async () => {
    const big = await pushFixtures(reg, {
      repository: "ok/big",
      platforms: PLATFORMS.slice(0, 1),
      largeLayerBytes: 24 * 1024 * 1024,
      index: { tag: "idx" },
    });
    const r = await cli(["verify", "--blobs=full", `${H}/ok/big:idx`]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(
      r.stdout,
      `OK ${H}/ok/big:idx (2 manifests, ${1 + big.images[0].layers.length} blobs checked)\n`,
    );
  });

  await t.step("a Docker list, a single image and several references at once", async () => {
    const img = docker.images[0];
    const r = await cli([
      "verify",
      "--blobs",
      `${H}/ok/docker:list`,
      `${H}/ok/docker:${img.tag}`,
      `${H}/ok/oci:multi`,
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 3, r.stdout);
    assert.equal(lines[1], `OK ${H}/ok/docker:${img.tag} (1 manifest, 3 blobs checked)`);
  });

  await t.step(
    "an index from push verifies, and push --verify prints OK before Digest",
    async () => {
      const r = await runCli([
        "--plain-http",
        "push",
        "--type",
        "oci",
        "--verify",
        "from-args",
        "--platforms",
        "linux/amd64,linux/ppc64le,linux/s390x",
        "--template",
        `${H}/ok/oci:OS-ARCH`,
        "--target",
        `${H}/ok/pushed:1`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Digest: sha256:[0-9a-f]{64} \d+\n$/);
      assert.equal(r.stderr, `OK ${H}/ok/pushed:1 (4 manifests, 3 blobs checked)\n`);
      // --quiet: the Digest line alone; a verification that passed says nothing more.
      const q = await cli([
        "--plain-http",
        "-q",
        "push",
        "--type",
        "oci",
        "--verify",
        "from-args",
        "--platforms",
        "linux/amd64,linux/ppc64le",
        "--template",
        `${H}/ok/oci:OS-ARCH`,
        "--target",
        `${H}/ok/pushed:q`,
      ]);
      assert.equal(q.code, 0, q.stderr);
      assert.match(q.stdout, /^Digest: sha256:[0-9a-f]{64} \d+\n$/);
      assert.equal(q.stderr, "");
      const v = await cli(["verify", "--blobs=full", `${H}/ok/pushed:1`]);
      assert.equal(v.code, 0, v.stdout);
    },
  );

  await t.step(
    "a Docker list naming OCI manifests, with annotations: warnings, exit 0",
    async () => {
      const { digest: list } = await putIndex(
        reg,
        "ok/oci",
        "mixed",
        oci.images.slice(0, 2).map((img) => entry(img)),
        DOCKER_LIST,
        { annotations: { "org.opencontainers.image.source": "x\u001b[2Jy" } },
      );
      const r = await cli(["verify", `${H}/ok/oci:mixed`]);
      assert.equal(r.code, 0, r.stdout);
      const warnings = warningLines(r.stdout);
      assert.equal(warnings.length, 3, r.stdout);
      assert.ok(warnings.includes(
        `warning: ${H}/ok/oci:mixed: ${list}: Docker manifest list has annotations (the schema has none)`,
      ));
      assert.ok(warnings.includes(
        `warning: ${H}/ok/oci:mixed: ${
          oci.images[0].digest
        }: Docker manifest list names an entry of media type ${OCI_MANIFEST}`,
      ));
      assert.match(r.stdout, /\nOK /);
      // --quiet: the verdict without the warnings.
      const q = await cli(["--quiet", "verify", `${H}/ok/oci:mixed`]);
      assert.equal(q.code, 0, q.stdout);
      assert.equal(q.stdout, `OK ${H}/ok/oci:mixed (3 manifests, 2 blobs checked)\n`);
    },
  );
});

Deno.test("verify --referrers checks that each referrer's subject is the digest it is listed under, to depth 3", async () => {
  await using reg = await startRegistry();
  const H = reg.host;
  const set = await pushFixtures(reg, { repository: "ref/app", platforms: PLATFORMS.slice(0, 1) });
  const [img] = set.images;
  const empty = enc.encode("{}");
  // distribution 2.8 needs POST then PUT for a monolithic upload (PROTOCOL.md).
  const post = await fetch(`${reg.url}/v2/ref/app/blobs/uploads/`, { method: "POST" });
  await post.body?.cancel();
  const put = new URL(post.headers.get("location")!, reg.url);
  put.searchParams.set("digest", sha256(empty));
  const res = await fetch(put, { method: "PUT", body: empty });
  assert.equal(res.status, 201, await res.text());
  const artifact = (subject: string) =>
    enc.encode(JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: "application/vnd.example.sbom",
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: sha256(empty), size: 2 },
      layers: [{ mediaType: "application/vnd.oci.empty.v1+json", digest: sha256(empty), size: 2 }],
      subject: { mediaType: OCI_MANIFEST, digest: subject, size: 1 },
    }));
  const good = artifact(img.digest);
  const other = artifact(`sha256:${"0".repeat(64)}`);
  for (const b of [good, other]) {
    await raw(reg, "PUT", `/v2/ref/app/manifests/${sha256(b)}`, 201, {
      body: b,
      type: OCI_MANIFEST,
    });
  }
  const listing = (bs: Uint8Array[]) =>
    bs.map((b) => ({
      mediaType: OCI_MANIFEST,
      digest: sha256(b),
      size: b.length,
      artifactType: "application/vnd.example.sbom",
    }));
  // No referrers API on distribution 2.8: the tag-schema fallback (`sha256-<hex>`).
  const tag = img.digest.replace(":", "-");
  await putIndex(reg, "ref/app", tag, listing([good]));
  const ok = await cli(["verify", "--referrers", `${H}/ref/app:${img.tag}`]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.equal(ok.stdout, `OK ${H}/ref/app:${img.tag} (2 manifests, 1 blob checked)\n`);
  await putIndex(reg, "ref/app", tag, listing([good, other]));
  const bad = await cli(["verify", "--referrers", `${H}/ref/app:${img.tag}`]);
  assert.equal(bad.code, 1, bad.stdout);
  assert.deepEqual(errorLines(bad.stdout), [
    `error: ${H}/ref/app:${img.tag}: ${
      sha256(other)
    }: listed as a referrer of ${img.digest}, but its subject is sha256:${"0".repeat(64)}`,
  ]);
  const without = await cli(["verify", `${H}/ref/app:${img.tag}`]);
  assert.equal(without.code, 0, without.stdout);

  // One level down: the good referrer's own fallback tag lists an artifact of another subject.
  await putIndex(reg, "ref/app", tag, listing([good]));
  await putIndex(reg, "ref/app", sha256(good).replace(":", "-"), listing([other]));
  const deep = await cli(["verify", "--referrers", `${H}/ref/app:${img.tag}`]);
  assert.equal(deep.code, 1, deep.stdout);
  assert.deepEqual(errorLines(deep.stdout), [
    `error: ${H}/ref/app:${img.tag}: ${sha256(other)}: listed as a referrer of ${
      sha256(good)
    }, but its subject is sha256:${"0".repeat(64)}`,
  ]);
});

Deno.test("verify: bad usage is exit 2 before any request; an unknown tag is exit 1", async () => {
  for (
    const args of [
      ["verify"],
      ["verify", "--blobs=some", "127.0.0.1:1/x:1"],
      ["verify", "Foo/Bar"],
      ["verify", "--platform", "linux/x86", "127.0.0.1:1/x:1"],
      ["verify", "--platform", "", "127.0.0.1:1/x:1"],
      ["verify", "--nope", "127.0.0.1:1/x:1"],
    ]
  ) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "");
  }
  await using reg = await startRegistry();
  const r = await runCli(["--plain-http", "verify", `${reg.host}/none/such:tag`]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(
    r.stdout,
    `error: ${reg.host}/none/such:tag: tag: manifest not in ${reg.host}/none/such\n` +
      `${reg.host}/none/such:tag: 1 error, 0 warnings\n`,
  );
});

Deno.test("indexProblems() finds each index-level problem, and nothing in a sound index", () => {
  const img = (digest: string, platform?: Record<string, string>): Descriptor => ({
    mediaType: OCI_MANIFEST,
    digest,
    size: 1,
    ...(platform ? { platform: platform as unknown as Descriptor["platform"] } : {}),
  });
  const att = (digest: string, attests: string, os = "unknown"): Descriptor => ({
    ...img(digest, { os, architecture: "unknown" }),
    annotations: {
      "vnd.docker.reference.type": "attestation-manifest",
      "vnd.docker.reference.digest": attests,
    },
  });
  const amd64 = { os: "linux", architecture: "amd64" };
  const cases: [string, string, Descriptor[], string[]][] = [
    ["sound", OCI_INDEX, [img("sha256:a", amd64), att("sha256:t", "sha256:a")], []],
    ["duplicate", OCI_INDEX, [img("sha256:a", amd64), img("sha256:b", amd64)], [
      "error platform-duplicate linux/amd64",
    ]],
    ["arm64 ≡ arm64/v8", OCI_INDEX, [
      img("sha256:a", { os: "linux", architecture: "arm64" }),
      img("sha256:b", { os: "linux", architecture: "arm64", variant: "v8" }),
    ], ["error platform-duplicate linux/arm64/v8"]],
    ["windows builds differ", OCI_INDEX, [
      img("sha256:a", { os: "windows", architecture: "amd64", "os.version": "10.0.1" }),
      img("sha256:b", { os: "windows", architecture: "amd64", "os.version": "10.0.2" }),
    ], []],
    ["unknown os", OCI_INDEX, [img("sha256:a", { os: "plan10", architecture: "amd64" })], [
      "error platform-unknown sha256:a",
    ]],
    ["no platform, OCI", OCI_INDEX, [img("sha256:a")], ["warning platform-missing sha256:a"]],
    ["no platform, Docker", DOCKER_LIST, [{ ...img("sha256:a"), mediaType: OCI_MANIFEST }], [
      "error platform-missing sha256:a",
      "warning media-type-mix sha256:a",
    ]],
    ["orphan attestation", OCI_INDEX, [img("sha256:a", amd64), att("sha256:t", "sha256:z")], [
      "error attestation-subject-missing sha256:t",
    ]],
    ["runnable attestation", OCI_INDEX, [
      img("sha256:a", amd64),
      att("sha256:t", "sha256:a", "linux"),
    ], ["error attestation-platform sha256:t"]],
    ["Docker manifest in OCI index", OCI_INDEX, [{
      ...img("sha256:a", amd64),
      mediaType: "application/vnd.docker.distribution.manifest.v2+json",
    }], ["warning media-type-mix sha256:a"]],
  ];
  for (const [name, mediaType, manifests, want] of cases) {
    const got = indexProblems("sha256:i", mediaType, { schemaVersion: 2, manifests })
      .map((p) => `${p.severity} ${p.kind} ${p.subject}`);
    assert.deepEqual(got.sort(), want.sort(), name);
  }
});

Deno.test("entryPlatformProblems() accepts what buildx writes and rejects what differs", () => {
  const cases: [Record<string, string>, Record<string, string>, boolean][] = [
    [
      { os: "linux", architecture: "arm64", variant: "v8" },
      { os: "linux", architecture: "arm64" },
      true,
    ],
    [
      { os: "linux", architecture: "arm64" },
      { os: "linux", architecture: "arm64", variant: "v8" },
      true,
    ],
    [
      { os: "linux", architecture: "arm" },
      { os: "linux", architecture: "arm", variant: "v7" },
      true,
    ],
    [
      { os: "linux", architecture: "arm" },
      { os: "linux", architecture: "arm", variant: "v6" },
      false,
    ],
    [{ os: "linux", architecture: "arm", variant: "v6" }, {
      os: "linux",
      architecture: "arm",
      variant: "v7",
    }, false],
    [{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm64" }, false],
    [{ os: "linux", architecture: "amd64" }, { os: "windows", architecture: "amd64" }, false],
    [
      { os: "windows", architecture: "amd64", "os.version": "10.0.17763.1234" },
      { os: "windows", architecture: "amd64", "os.version": "10.0.17763.1234" },
      true,
    ],
    [
      { os: "windows", architecture: "amd64", "os.version": "10.0.17763.1234" },
      { os: "windows", architecture: "amd64", "os.version": "10.0.20348.1" },
      false,
    ],
    [{ os: "windows", architecture: "amd64", "os.version": "10.0.1" }, {
      os: "windows",
      architecture: "amd64",
    }, true],
    [{ os: "linux", architecture: "amd64" }, {}, false],
  ];
  for (const [entryPlatform, config, agree] of cases) {
    const problems = entryPlatformProblems(
      "sha256:a",
      entryPlatform as unknown as Descriptor["platform"] & object,
      config,
    );
    assert.equal(problems.length === 0, agree, JSON.stringify([entryPlatform, config, problems]));
  }
});

Deno.test("formatVerifyText() escapes registry text and counts in words", () => {
  const text = formatVerifyText("r/app:1", {
    reference: "r/app:1",
    manifests: 2,
    blobs: 1,
    problems: [{
      severity: "error",
      kind: "platform-mismatch",
      subject: "sha256:a",
      message: "index says linux/\u001b[31mamd64, config says linux/arm64",
    }, { severity: "warning", kind: "media-type-mix", subject: "sha256:b", message: "m" }],
    errors: 1,
    warnings: 1,
    ok: false,
  });
  assert.equal(
    text,
    "error: r/app:1: sha256:a: index says linux/\\u{1b}[31mamd64, config says linux/arm64\n" +
      "warning: r/app:1: sha256:b: m\n" +
      "r/app:1: 1 error, 1 warning\n",
  );
});

Deno.test("verify works through token auth, and a registry it cannot read is exit 1 on stderr", async () => {
  await using reg = await startRegistry({ auth: "token" });
  const H = reg.host;
  await pushFixtures(reg, {
    repository: "auth/app",
    platforms: PLATFORMS.slice(0, 2),
    index: { tag: "idx" },
  });
  const creds = ["--username", reg.username!, "--password", reg.password!];
  const ok = await runCli([
    ...creds,
    "--plain-http",
    "verify",
    "--blobs",
    `${H}/auth/app:idx`,
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, `OK ${H}/auth/app:idx (3 manifests, 5 blobs checked)\n`);
  assert.ok(!ok.stderr.includes(reg.password!));
  const denied = await runCli(["--plain-http", "verify", `${H}/auth/app:idx`]);
  assert.equal(denied.code, 1, denied.stderr);
  assert.equal(denied.stdout, "");
  assert.equal(denied.stderr.trimEnd().split("\n").length, 1, denied.stderr);
  assert.ok(denied.stderr.startsWith(`manifest-tool: `), denied.stderr);
});

Deno.test("push --verify's check fails with the problems on stderr when what was pushed is broken", async () => {
  await using reg = await startRegistry();
  const H = reg.host;
  const set = await pushFixtures(reg, { repository: "pv/app", platforms: PLATFORMS.slice(0, 2) });
  const [amd64, arm64] = set.images;
  const { digest } = await putIndex(reg, "pv/app", "1", [
    entry(amd64),
    entry(arm64, { platform: amd64.platform }),
  ]);
  let stdout = "";
  let stderr = "";
  const ctx = {
    args: [],
    globals: {
      insecure: false,
      plainHttp: true,
      caFiles: [],
      debug: false,
      quiet: false,
      progress: "none" as const,
      noColor: true,
    },
    out: (s: string) => stdout += s,
    err: (s: string) => stderr += s,
    isTerminal: false,
    env: () => undefined,
  };
  await using client = makeClient(ctx, ctx.globals, [H], makeLogger(ctx, ctx.globals));
  const code = await verifyPushed(ctx, client, `${H}/pv/app:1`, digest);
  assert.equal(code, 1);
  assert.equal(stdout, "", "nothing on stdout: push prints no Digest line after a failed check");
  assert.match(stderr, new RegExp(`^error: ${H}/pv/app:1: linux/amd64: entries `, "m"));
  assert.match(
    stderr,
    new RegExp(`^error: ${H}/pv/app:1: ${arm64.digest}: index says linux/amd64`, "m"),
  );
  assert.ok(stderr.endsWith(`${H}/pv/app:1: 2 errors, 0 warnings\n`), stderr);
});

Deno.test("verify reports bytes that do not hash to their digest, served through a tampering proxy", async () => {
  // A real registry cannot serve wrong bytes for a digest: the proxy changes one byte on the way.
  await using reg = await startRegistry();
  const set = await pushFixtures(reg, {
    repository: "tamper/app",
    platforms: PLATFORMS.slice(0, 2),
    index: { tag: "idx" },
  });
  const [amd64, arm64] = set.images;
  const layer = amd64.layers[1];
  await using proxy = await startProxy({
    upstream: reg.url,
    faults: [
      { method: "GET", path: new RegExp(`/manifests/${arm64.digest}$`), fault: { type: "tamper" } },
      { method: "GET", path: new RegExp(`/blobs/${layer.digest}$`), fault: { type: "tamper" } },
    ],
  });
  const ref = `${proxy.host}/tamper/app:idx`;
  const head = await cli(["verify", "--blobs", ref]);
  assert.equal(head.code, 1, head.stdout + head.stderr);
  const manifestLine = errorLines(head.stdout).find((l) => l.includes(arm64.digest));
  assert.ok(
    manifestLine?.startsWith(
      `error: ${ref}: ${arm64.digest}: manifest (linux/arm64/v8) bytes hash to sha256:`,
    ),
    head.stdout,
  );
  // HEAD cannot see the layer's bytes; the other image is still verified in full.
  assert.equal(errorLines(head.stdout).length, 1, head.stdout);
  const full = await cli(["verify", "--blobs=full", ref]);
  assert.equal(full.code, 1, full.stdout + full.stderr);
  assert.ok(
    errorLines(full.stdout).some((l) =>
      l.startsWith(`error: ${ref}: ${layer.digest}: layer of ${amd64.digest} bytes hash to sha256:`)
    ),
    full.stdout,
  );
  assert.equal(errorLines(full.stdout).length, 2, full.stdout);
});
