// Referrers (issue 18) against real registries: distribution (no referrers API: the tag-schema
// fallback, the common case) and, when Go is present, go-containerregistry's registry with the
// referrers API (harness kind `ggcr-referrers`). Artifacts are attached by the tests themselves (a
// manifest with `subject`, and the fallback index as the OCI 1.1 spec describes) and, where
// installed, by `oras attach`; `oras discover` judges what `push --referrers` left in the target.
import assert from "node:assert/strict";
import {
  findTool,
  pushFixtures,
  type RunningRegistry,
  skipReason,
  startProxy,
  startRegistry,
} from "../scripts/harness/mod.ts";
import { takeReferrersFlag } from "../cli/_referrers_flag.ts";
import { RegistryError, UsageError } from "../lib/errors.ts";
import { ManifestFormatError } from "../lib/manifest.ts";
import { listReferrers } from "../lib/referrers.ts";
import { RegistryClient } from "../lib/registry/client.ts";
import {
  attach,
  bearer,
  type Desc,
  fallbackIndex,
  putManifest,
  referrersApi,
  useAuthorization,
} from "./_helpers/oci_push.ts";
import { runCli } from "./_helpers/cli.ts";

const SBOM = "application/spdx+json";
const SIG = "application/vnd.dev.cosign.artifact.sig.v1+json";
const PROV = "application/vnd.in-toto+json";
const DEEP = "application/vnd.example.too-deep";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const PLATFORMS = [
  { os: "linux", architecture: "amd64" },
  { os: "linux", architecture: "arm64", variant: "v8" },
];
const ORAS = await findTool("oras");
if (!ORAS) console.log("skipped: oras not installed (scripts/install-go-tools.sh): no oras judge");
// The referrers API: go-containerregistry's registry (built by the harness when Go is present).
const API_SKIP = await skipReason("ggcr-referrers", ["referrers"]);
if (API_SKIP) console.log(`skipped: ${API_SKIP}`);

/**
 * Fixture images (and an OCI index of them) in `repo`, with referrers attached through the
 * fallback: image 0 has an SBOM (created set) signed by a signature that has a provenance that has
 * one more level (beyond depth 3); image 1 has none; the index has a signature.
 */
async function withReferrers(reg: RunningRegistry, repo: string, api = false) {
  const set = await pushFixtures(reg, {
    repository: repo,
    platforms: PLATFORMS,
    index: { tag: "multi" },
    seed: repo,
  });
  const subject = (i: number): Desc => ({
    mediaType: set.images[i].mediaType,
    digest: set.images[i].digest,
    size: set.images[i].size,
  });
  // Attached as a client does: with the API the registry indexes `subject` itself.
  const opts = { fallback: !api };
  const sbom = await attach(reg.url, repo, subject(0), SBOM, {
    ...opts,
    created: "2026-02-03T04:05:06Z",
  });
  const sig = await attach(reg.url, repo, sbom, SIG, opts);
  const prov = await attach(reg.url, repo, sig, PROV, opts);
  const deep = await attach(reg.url, repo, prov, DEEP, opts);
  const idx = set.index!;
  const indexSig = await attach(
    reg.url,
    repo,
    { mediaType: idx.mediaType, digest: idx.digest, size: idx.size },
    SIG,
    opts,
  );
  return { set, sbom, sig, prov, deep, indexSig };
}

/** Every digest in an `oras discover --format json` answer, at any depth. */
function digestsIn(doc: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(doc)) doc.forEach((x) => digestsIn(x, out));
  else if (doc && typeof doc === "object") {
    for (const [k, v] of Object.entries(doc)) {
      if (k === "digest" && typeof v === "string") out.add(v);
      else digestsIn(v, out);
    }
  }
  return out;
}

async function orasDiscover(ref: string): Promise<Set<string>> {
  const out = await new Deno.Command(ORAS!, {
    args: ["discover", "--plain-http", "--format", "json", ref],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const all = digestsIn(JSON.parse(text));
  return all;
}

Deno.test("inspect --referrers lists each manifest's referrers to depth 3, from the fallback tags", async () => {
  await using reg = await startRegistry();
  const repo = "refs/app";
  const { set, sbom, sig, prov, deep, indexSig } = await withReferrers(reg, repo);
  const ref = `${reg.host}/${repo}:multi`;
  const r = await runCli(["inspect", "--referrers", ref]);
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout;
  assert.ok(
    out.includes(
      ` * Referrers (1):\n   - ${SIG} ${indexSig.digest} (${indexSig.size} bytes)\n * Contains`,
    ),
    out,
  );
  assert.ok(
    out.includes(
      [
        `[1] Referrers (1):`,
        `     - ${SBOM} ${sbom.digest} (${sbom.size} bytes, created 2026-02-03T04:05:06Z)`,
        `       - ${SIG} ${sig.digest} (${sig.size} bytes)`,
        `         - ${PROV} ${prov.digest} (${prov.size} bytes)`,
        "",
      ].join("\n"),
    ),
    out,
  );
  assert.ok(!out.includes(deep.digest), "a fourth level is not listed");
  assert.ok(out.includes(`[2] Referrers: none\n`), out);

  const raw = await runCli(["inspect", "--raw", "--referrers", ref]);
  assert.equal(raw.code, 0, raw.stderr);
  const doc = JSON.parse(raw.stdout);
  assert.deepEqual(doc.referrers.map((x: Desc) => x.digest), [indexSig.digest]);
  const first = doc.manifests[0].referrers;
  assert.equal(first[0].digest, sbom.digest);
  assert.equal(first[0].artifactType, SBOM);
  assert.equal(first[0].created, "2026-02-03T04:05:06Z");
  assert.equal(first[0].size, sbom.size);
  assert.equal(first[0].referrers[0].referrers[0].digest, prov.digest);
  assert.deepEqual(first[0].referrers[0].referrers[0].referrers, []);
  assert.deepEqual(doc.manifests[1].referrers, []);

  // A single image, and the artifact-type filter (applied at every level).
  const img = await runCli([
    "inspect",
    `--referrers=${SBOM}`,
    `${reg.host}/${repo}@${set.images[0].digest}`,
  ]);
  assert.equal(img.code, 0, img.stderr);
  assert.ok(
    img.stdout.endsWith(
      `   Referrers (1):\n      - ${SBOM} ${sbom.digest} (${sbom.size} bytes, created 2026-02-03T04:05:06Z)\n`,
    ),
    img.stdout,
  );

  // Without the flag, manifest-tool v2's views are unchanged.
  const plain = await runCli(["inspect", "--raw", ref]);
  assert.ok(!("referrers" in JSON.parse(plain.stdout)));
});

Deno.test("inspect --referrers says none where the registry has neither the API nor fallback tags", async () => {
  await using reg = await startRegistry();
  await pushFixtures(reg, {
    repository: "plain/app",
    platforms: PLATFORMS,
    index: { tag: "multi" },
  });
  const r = await runCli(["inspect", "--referrers", `${reg.host}/plain/app:multi`]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.includes(" * Referrers: none\n"), r.stdout);
  assert.equal(r.stdout.match(/\[\d\] Referrers: none/g)?.length, 2, r.stdout);
});

Deno.test("listReferrers() reads what oras attach wrote (tag-schema fallback on distribution)", {
  ignore: !ORAS,
}, async () => {
  await using reg = await startRegistry();
  const set = await pushFixtures(reg, { repository: "oras/app", platforms: PLATFORMS.slice(0, 1) });
  const img = set.images[0];
  const dir = await Deno.makeTempDir({ prefix: "mt-oras-" });
  try {
    await Deno.writeTextFile(`${dir}/sbom.json`, "{}");
    const out = await new Deno.Command(ORAS!, {
      args: [
        "attach",
        "--plain-http",
        "--artifact-type",
        SBOM,
        "--annotation",
        "org.opencontainers.image.created=2026-03-04T00:00:00Z",
        `${reg.host}/oras/app@${img.digest}`,
        "sbom.json",
      ],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  await using client = new RegistryClient();
  const list = await listReferrers(client.repository(reg.host, "oras/app"), img.digest);
  assert.equal(list.length, 1);
  assert.equal(list[0].artifactType, SBOM);
  assert.equal(list[0].created, "2026-03-04T00:00:00Z");
});

/** Writes a push spec of the fixture images of `repo` to a temporary file. */
async function specFile(host: string, repo: string, target: string): Promise<string> {
  const file = await Deno.makeTempFile({ prefix: "mt-spec-", suffix: ".yaml" });
  await Deno.writeTextFile(
    file,
    [
      `image: ${target}`,
      "manifests:",
      `  - image: ${host}/${repo}:linux-amd64`,
      `  - image: ${host}/${repo}:linux-arm64-v8`,
      "",
    ].join("\n"),
  );
  return file;
}

/** The digests listing the referrers of `digest` in the target: its API, or its fallback tag. */
async function listedIn(
  target: RunningRegistry,
  repo: string,
  digest: string,
  api: boolean,
): Promise<string[] | undefined> {
  if (!api) return (await fallbackIndex(target.url, repo, digest))?.manifests.map((d) => d.digest);
  // With the API, no fallback tag is written: the registry indexes `subject` itself.
  assert.equal(await fallbackIndex(target.url, repo, digest), undefined, "no fallback tag");
  const list = (await referrersApi(target.url, repo, digest))?.manifests ?? [];
  return list.length ? list.map((d) => d.digest) : undefined;
}

async function assertCopied(
  target: RunningRegistry,
  repo: string,
  fixtures: Awaited<ReturnType<typeof withReferrers>>,
  options: { kept?: Desc; api?: boolean } = {},
) {
  const { set, sbom, sig, prov, deep } = fixtures;
  const { kept, api = false } = options;
  const listed = await listedIn(target, repo, set.images[0].digest, api);
  assert.deepEqual(listed, kept ? [kept.digest, sbom.digest] : [sbom.digest]);
  if (!api) {
    const fb = await fallbackIndex(target.url, repo, set.images[0].digest);
    const entry = fb!.manifests.find((d) => d.digest === sbom.digest)!;
    assert.equal(entry.artifactType, SBOM);
    assert.equal(entry.annotations?.["org.opencontainers.image.created"], "2026-02-03T04:05:06Z");
  }
  assert.deepEqual(await listedIn(target, repo, sbom.digest, api), [sig.digest]);
  assert.deepEqual(await listedIn(target, repo, sig.digest, api), [prov.digest]);
  assert.equal(await listedIn(target, repo, prov.digest, api), undefined, "depth 3 only");
  assert.equal(await listedIn(target, repo, set.images[1].digest, api), undefined);
  // Each referrer is there by digest, its blobs too (the registry checked them at the PUT).
  for (const d of [sbom, sig, prov]) {
    const res = await fetch(`${target.url}/v2/${repo}/manifests/${d.digest}`, {
      method: "HEAD",
      headers: { accept: OCI_MANIFEST },
    });
    assert.equal(res.status, 200, `${d.digest} in ${repo}`);
  }
  const res = await fetch(`${target.url}/v2/${repo}/manifests/${deep.digest}`, {
    method: "HEAD",
    headers: { accept: OCI_MANIFEST },
  });
  assert.equal(res.status, 404);
  if (ORAS) {
    const found = await orasDiscover(`${target.host}/${repo}@${set.images[0].digest}`);
    for (const d of [sbom, sig, prov]) {
      assert.ok(found.has(d.digest), `oras discover lists ${d.digest}`);
    }
  }
}

Deno.test("push --referrers copies referrers across repositories, keeping and extending an existing fallback index", async () => {
  await using reg = await startRegistry();
  const fixtures = await withReferrers(reg, "src/app");
  const target = "dst/app";
  // Something attached in the target already: its fallback index entry must survive the copy.
  const img0 = fixtures.set.images[0];
  // The image itself must be in the target for the pre-existing attach: copy it by a first push.
  const spec = await specFile(reg.host, "src/app", `${reg.host}/${target}:1`);
  try {
    const first = await runCli(["push", "--type", "oci", "from-spec", spec]);
    assert.equal(first.code, 0, first.stderr);
    const kept = await attach(
      reg.url,
      target,
      {
        mediaType: img0.mediaType,
        digest: img0.digest,
        size: img0.size,
      },
      "application/vnd.example.already-there",
      { fallback: true },
    );
    const r = await runCli(["push", "--type", "oci", "from-spec", "--referrers", spec]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(`Referrers: 3 in ${reg.host}/${target}, 3 copied`), r.stdout);
    assert.match(r.stdout, /\nDigest: sha256:[0-9a-f]{64} \d+\n$/);
    await assertCopied(reg, target, fixtures, { kept });
    // Run again: nothing new, nothing listed twice.
    const again = await runCli(["push", "--type", "oci", "from-spec", "--referrers", spec]);
    assert.equal(again.code, 0, again.stderr);
    assert.ok(again.stdout.includes("Referrers: 3 in"), again.stdout);
    assert.ok(again.stdout.includes(", 0 copied"), again.stdout);
    await assertCopied(reg, target, fixtures, { kept });
  } finally {
    await Deno.remove(spec);
  }
});

Deno.test("push --referrers copies referrers to another registry, streamed", async () => {
  await using src = await startRegistry();
  await using dst = await startRegistry();
  const fixtures = await withReferrers(src, "src/app");
  const spec = await specFile(src.host, "src/app", `${dst.host}/team/app:1`);
  try {
    const r = await runCli(["push", "--type", "oci", "from-spec", "--json", "--referrers", spec]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.referrers.api, false);
    assert.equal(doc.referrers.referrers.length, 3);
    await assertCopied(dst, "team/app", fixtures);
  } finally {
    await Deno.remove(spec);
  }
});

Deno.test("manifest push --referrers copies the entries' referrers into the list's repository", async () => {
  await using reg = await startRegistry();
  const fixtures = await withReferrers(reg, "src/app");
  const home = await Deno.makeTempDir({ prefix: "mt-home-" });
  const env = { MANIFEST_TOOL_HOME: `${home}/store` };
  try {
    const list = `${reg.host}/lists/app:1`;
    const sources = fixtures.set.images.map((i) => `${reg.host}/src/app@${i.digest}`);
    const c = await runCli(["manifest", "create", list, ...sources], { env });
    assert.equal(c.code, 0, c.stderr);
    const p = await runCli(["manifest", "push", "--referrers", list], { env });
    assert.equal(p.code, 0, p.stderr);
    assert.ok(p.stdout.includes(`Referrers: 3 in ${reg.host}/lists/app, 3 copied`), p.stdout);
    // docker's last line stays the digest alone.
    assert.match(p.stdout, /\nsha256:[0-9a-f]{64}\n$/);
    await assertCopied(reg, "lists/app", fixtures);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("push --referrers=TYPES copies only those artifact types", async () => {
  await using reg = await startRegistry();
  const fixtures = await withReferrers(reg, "src/app");
  const spec = await specFile(reg.host, "src/app", `${reg.host}/only/app:1`);
  try {
    const r = await runCli([
      "push",
      "--type",
      "oci",
      "from-spec",
      `--referrers=${SBOM},${PROV}`,
      spec,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const fb = await fallbackIndex(reg.url, "only/app", fixtures.set.images[0].digest);
    assert.deepEqual(fb!.manifests.map((d) => d.digest), [fixtures.sbom.digest]);
    // The signature is not of those types: neither it nor what refers to it is copied.
    assert.equal(await fallbackIndex(reg.url, "only/app", fixtures.sbom.digest), undefined);
  } finally {
    await Deno.remove(spec);
  }
});

Deno.test("push --referrers of an index source copies the index's own referrers too", async () => {
  await using reg = await startRegistry();
  const fixtures = await withReferrers(reg, "src/app");
  const file = await Deno.makeTempFile({ prefix: "mt-spec-", suffix: ".yaml" });
  try {
    await Deno.writeTextFile(
      file,
      `image: ${reg.host}/flat/app:1\nmanifests:\n  - image: ${reg.host}/src/app:multi\n`,
    );
    const r = await runCli(["push", "--type", "oci", "from-spec", "--referrers", file]);
    assert.equal(r.code, 0, r.stderr);
  } finally {
    await Deno.remove(file);
  }
  const idx = fixtures.set.index!;
  const fb = await fallbackIndex(reg.url, "flat/app", idx.digest);
  assert.deepEqual(fb!.manifests.map((d) => d.digest), [fixtures.indexSig.digest]);
  const img = await fallbackIndex(reg.url, "flat/app", fixtures.set.images[0].digest);
  assert.deepEqual(img!.manifests.map((d) => d.digest), [fixtures.sbom.digest]);
});

Deno.test("push --referrers that fails after the index is committed exits 1 and keeps the index", async () => {
  await using reg = await startRegistry();
  const fixtures = await withReferrers(reg, "src/app");
  const spec = await specFile(reg.host, "src/app", `${reg.host}/broken/app:1`);
  try {
    const first = await runCli(["push", "--type", "oci", "from-spec", spec]);
    assert.equal(first.code, 0, first.stderr);
    // The fallback tag of image 0 in the target holds an image, not an index: not overwritten.
    const img0 = fixtures.set.images[0];
    await putManifest(
      reg.url,
      "broken/app",
      img0.digest.replace(":", "-"),
      JSON.parse(new TextDecoder().decode(img0.manifest)),
    );
    const r = await runCli(["push", "--type", "oci", "from-spec", "--referrers", spec]);
    assert.equal(r.code, 1);
    const digest = /Digest: (sha256:[0-9a-f]{64})/.exec(first.stdout)![1];
    assert.match(
      r.stderr,
      new RegExp(
        `Pushed ${reg.host}/broken/app:1 \\(${digest}\\), but copying its referrers failed: Tag "sha256-[0-9a-f]{64}" of ${reg.host}/broken/app holds an image manifest`,
      ),
    );
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    const res = await fetch(`${reg.url}/v2/broken/app/manifests/1`, {
      method: "HEAD",
      headers: { accept: "application/vnd.oci.image.index.v1+json" },
    });
    assert.equal(res.headers.get("docker-content-digest"), digest);
  } finally {
    await Deno.remove(spec);
  }
});

Deno.test({
  name: `ggcr-referrers: inspect --referrers lists what the referrers API answers${
    API_SKIP ? ` (skipped: ${API_SKIP})` : ""
  }`,
  ignore: API_SKIP !== undefined,
  fn: async () => {
    await using reg = await startRegistry({ kind: "ggcr-referrers" });
    const { sbom, sig, prov, indexSig } = await withReferrers(reg, "api/app", true);
    const r = await runCli(["inspect", "--raw", "--referrers", `${reg.host}/api/app:multi`]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(doc.referrers.map((x: Desc) => x.digest), [indexSig.digest]);
    const first = doc.manifests[0].referrers[0];
    // The manifest's own artifactType, though this registry lists the empty config's type.
    assert.equal(first.artifactType, SBOM);
    assert.equal(first.digest, sbom.digest);
    assert.equal(first.created, "2026-02-03T04:05:06Z");
    assert.equal(first.referrers[0].digest, sig.digest);
    assert.equal(first.referrers[0].referrers[0].digest, prov.digest);
    assert.deepEqual(first.referrers[0].referrers[0].referrers, []);
    assert.deepEqual(doc.manifests[1].referrers, []);
  },
});

Deno.test({
  name: `ggcr-referrers: push --referrers into a registry with the API writes no fallback tag${
    API_SKIP ? ` (skipped: ${API_SKIP})` : ""
  }`,
  ignore: API_SKIP !== undefined,
  fn: async () => {
    await using src = await startRegistry();
    await using dst = await startRegistry({ kind: "ggcr-referrers" });
    const fixtures = await withReferrers(src, "src/app");
    const spec = await specFile(src.host, "src/app", `${dst.host}/team/app:1`);
    try {
      const r = await runCli(["push", "--type", "oci", "from-spec", "--referrers", spec]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.includes("registry lists them by its referrers API"), r.stdout);
      await assertCopied(dst, "team/app", fixtures, { api: true });
    } finally {
      await Deno.remove(spec);
    }
  },
});

Deno.test({
  name:
    `ggcr-referrers: push --referrers from the API into a registry without it keeps fallback tags${
      API_SKIP ? ` (skipped: ${API_SKIP})` : ""
    }`,
  ignore: API_SKIP !== undefined,
  fn: async () => {
    await using src = await startRegistry({ kind: "ggcr-referrers" });
    await using dst = await startRegistry();
    const fixtures = await withReferrers(src, "src/app", true);
    const spec = await specFile(src.host, "src/app", `${dst.host}/team/app:1`);
    try {
      const r = await runCli(["push", "--type", "oci", "from-spec", "--referrers", spec]);
      assert.equal(r.code, 0, r.stderr);
      await assertCopied(dst, "team/app", fixtures);
    } finally {
      await Deno.remove(spec);
    }
  },
});

/**
 * A registry that lies in its referrers lists (what no real registry produces): `lists` maps a
 * subject digest to the JSON the referrers API answers; every request path is logged.
 */
function lyingRegistry(lists: Record<string, unknown>) {
  const paths: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    paths.push(path);
    const m = /^\/v2\/x\/referrers\/(.+)$/.exec(path);
    if (m && m[1] in lists) {
      const body = typeof lists[m[1]] === "string"
        ? lists[m[1]] as string
        : JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: lists[m[1]] });
      return new Response(body, { headers: { "content-type": OCI_INDEX } });
    }
    return new Response("{}", { status: path === "/v2/" ? 200 : 404 });
  });
  return {
    host: `127.0.0.1:${server.addr.port}`,
    paths,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;

Deno.test("listReferrers() refuses a listed digest that is not one, before it goes into a URL", async () => {
  await using reg = lyingRegistry({
    [D1]: [{
      mediaType: OCI_MANIFEST,
      digest: "sha256:../../../v2/y/manifests/latest",
      size: 1,
      artifactType: SIG,
    }],
  });
  await using client = new RegistryClient();
  await assert.rejects(
    () => listReferrers(client.repository(reg.host, "x"), D1),
    (e: Error) =>
      e instanceof ManifestFormatError &&
      e.message.startsWith(`Referrers of ${reg.host}/x@${D1} list an invalid descriptor`),
  );
  assert.ok(reg.paths.every((p) => !p.includes("/v2/y/")), reg.paths.join(" "));
  await using bad = lyingRegistry({ [D1]: "{not json" });
  await assert.rejects(
    () => listReferrers(client.repository(bad.host, "x"), D1),
    ManifestFormatError,
  );
});

Deno.test("listReferrers() does not follow a list that names its own subject back", async () => {
  // D1 is referred to by D2, which a lying registry says is referred to by D1 again.
  await using reg = lyingRegistry({
    [D1]: [{ mediaType: OCI_MANIFEST, digest: D2, size: 1, artifactType: SIG }],
    [D2]: [{ mediaType: OCI_MANIFEST, digest: D1, size: 1, artifactType: SIG }, {
      mediaType: OCI_MANIFEST,
      digest: D2,
      size: 1,
      artifactType: SIG,
    }],
  });
  await using client = new RegistryClient();
  const tree = await listReferrers(client.repository(reg.host, "x"), D1, { depth: 10 });
  assert.deepEqual(tree.map((r) => [r.descriptor.digest, r.referrers.length]), [[D2, 0]]);
});

Deno.test("inspect --referrers escapes the artifact types and annotations a registry lists", async () => {
  await using reg = await startRegistry();
  const set = await pushFixtures(reg, { repository: "esc/app", platforms: PLATFORMS.slice(0, 1) });
  const img = set.images[0];
  const hostile = `application/x\u001b]0;pwned\u0007\u202e`;
  await attach(
    reg.url,
    "esc/app",
    { mediaType: img.mediaType, digest: img.digest, size: img.size },
    hostile,
    {
      fallback: true,
      created: "2026\r\u001b[2J",
    },
  );
  const r = await runCli(["inspect", "--referrers", `${reg.host}/esc/app@${img.digest}`]);
  assert.equal(r.code, 0, r.stderr);
  // deno-lint-ignore no-control-regex -- control characters are what is looked for
  assert.doesNotMatch(r.stdout, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/);
  assert.ok(r.stdout.includes("- application/x\\u{1b}]0;pwned\\u{7}\\u{202e} sha256:"), r.stdout);
  assert.ok(r.stdout.includes("created 2026\\u{d}\\u{1b}[2J)"), r.stdout);
});

Deno.test("takeReferrersFlag() takes --referrers alone or with types, never the next argument", () => {
  assert.deepEqual(takeReferrersFlag(["--referrers", "from-spec", "x.yaml"]), {
    args: ["from-spec", "x.yaml"],
    referrers: {},
  });
  assert.deepEqual(takeReferrersFlag([`--referrers=${SBOM}, ${SIG}`, "ref"]), {
    args: ["ref"],
    referrers: { artifactTypes: [SBOM, SIG] },
  });
  assert.deepEqual(takeReferrersFlag(["ref"]), { args: ["ref"], referrers: undefined });
  assert.deepEqual(takeReferrersFlag(["--", "--referrers"]).args, ["--", "--referrers"]);
  assert.throws(() => takeReferrersFlag(["--referrers=", "ref"]), UsageError);
});

Deno.test("inspect --referrers= without types is a usage error (exit 2)", async () => {
  const r = await runCli(["inspect", "--referrers=", "127.0.0.1:1/x:1"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /needs artifact types/);
});

Deno.test("push --referrers on a token-auth registry lists, mounts and writes the fallback tags", async () => {
  await using reg = await startRegistry({ auth: "token" });
  const ts = reg.tokenServer!;
  useAuthorization(
    await bearer(ts, reg.username!, reg.password!, [
      "repository:src/app:pull,push",
      "repository:dst/app:pull,push",
    ]),
  );
  try {
    const fixtures = await withReferrers(reg, "src/app");
    const spec = await specFile(reg.host, "src/app", `${reg.host}/dst/app:1`);
    try {
      const r = await runCli([
        "--username",
        reg.username!,
        "--password",
        reg.password!,
        "push",
        "--type",
        "oci",
        "from-spec",
        "--referrers",
        spec,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.includes("Referrers: 3 in"), r.stdout);
    } finally {
      await Deno.remove(spec);
    }
    const listed = async (d: string) =>
      (await fallbackIndex(reg.url, "dst/app", d))?.manifests.map((x) => x.digest);
    assert.deepEqual(await listed(fixtures.set.images[0].digest), [fixtures.sbom.digest]);
    assert.deepEqual(await listed(fixtures.sbom.digest), [fixtures.sig.digest]);
    assert.deepEqual(await listed(fixtures.sig.digest), [fixtures.prov.digest]);
  } finally {
    useAuthorization(undefined);
  }
});

Deno.test("inspect --referrers lists the index's referrers while its children are fetched", async () => {
  await using reg = await startRegistry();
  const { set, indexSig } = await withReferrers(reg, "conc/app");
  const idx = set.index!;
  // No clock: the proxy holds the index's referrers request until a child manifest is asked for,
  // and child manifests until the referrers request came. Done one after the other, neither would
  // come while the other is held (the 10 s release bounds that case, and the assertion fails).
  let referrersCame = () => {};
  let childCame = () => {};
  const gotReferrers = new Promise<void>((r) => referrersCame = r);
  const gotChild = new Promise<void>((r) => childCame = r);
  const timer = setTimeout(() => (referrersCame(), childCame()), 10_000);
  const seen = { referrers: false, child: false, overlapped: false };
  try {
    await using proxy = await startProxy({
      upstream: reg.url,
      intercept: async (ctx) => {
        const path = new URL(ctx.request.url).pathname;
        if (path.endsWith(`/referrers/${idx.digest}`)) {
          seen.referrers = true;
          if (seen.child) seen.overlapped = true;
          referrersCame();
          await gotChild;
        } else if (/\/manifests\/sha256:/.test(path)) {
          seen.child = true;
          if (seen.referrers) seen.overlapped = true;
          childCame();
          await gotReferrers;
        }
        return undefined;
      },
    });
    const r = await runCli(["inspect", "--raw", "--referrers", `${proxy.host}/conc/app:multi`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).referrers.map((x: Desc) => x.digest), [indexSig.digest]);
    assert.ok(seen.overlapped, "the referrers request and a child request were in flight together");
  } finally {
    clearTimeout(timer);
  }
});

Deno.test({
  name:
    `ggcr-referrers: Repository.referrers(subject, type) keeps an artifact the API lists under the empty config's type${
      API_SKIP ? ` (skipped: ${API_SKIP})` : ""
    }`,
  ignore: API_SKIP !== undefined,
  fn: async () => {
    await using reg = await startRegistry({ kind: "ggcr-referrers" });
    const { set, sbom } = await withReferrers(reg, "api/typed", true);
    // What the registry itself lists: the config media type, not the manifest's artifactType.
    const api = await fetch(`${reg.url}/v2/api/typed/referrers/${set.images[0].digest}`);
    const listed = (await api.json()).manifests as Desc[];
    assert.deepEqual(listed.map((d) => d.artifactType), ["application/vnd.oci.empty.v1+json"]);
    await using client = new RegistryClient();
    const repo = client.repository(reg.host, "api/typed");
    const found = await repo.referrers(set.images[0].digest, SBOM);
    assert.deepEqual(found.map((d) => [d.digest, d.artifactType]), [[sbom.digest, SBOM]]);
    assert.deepEqual(await repo.referrers(set.images[0].digest, SIG), []);
    const all = await repo.referrers(set.images[0].digest);
    assert.deepEqual(all.map((d) => d.artifactType), [SBOM]);
  },
});

/**
 * A registry whose referrers API answers `status` for every subject (what the harness registries
 * do not: 400, 405, 501), with fallback indexes under `tags`; every request is logged.
 */
function refusingRegistry(status: number, tags: Record<string, unknown[]>) {
  const requests: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    requests.push(`${req.method} ${path}`);
    if (/^\/v2\/x\/referrers\//.test(path)) return new Response("no", { status });
    const tag = /^\/v2\/x\/manifests\/(.+)$/.exec(path)?.[1];
    if (tag && tag in tags) {
      const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: tags[tag] });
      return new Response(body, { headers: { "content-type": OCI_INDEX } });
    }
    return new Response("{}", { status: path === "/v2/" ? 200 : 404 });
  });
  return {
    host: `127.0.0.1:${server.addr.port}`,
    requests,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

Deno.test("Repository.referrers() falls back to the tag schema on 400, 405, 406 and 501 with one GET, and a missing tag is none", async () => {
  const entry = { mediaType: OCI_MANIFEST, digest: D2, size: 1, artifactType: SIG };
  for (const status of [400, 405, 406, 501]) {
    await using reg = refusingRegistry(status, { [D1.replace(":", "-")]: [entry] });
    await using client = new RegistryClient({ plainHttp: [reg.host] });
    const repo = client.repository(reg.host, "x");
    assert.deepEqual(await repo.referrers(D1), [entry], `${status}`);
    assert.deepEqual(await repo.referrers(D2), [], `${status}: no fallback tag`);
    const calls = reg.requests.filter((r) => !r.endsWith("/v2/"));
    assert.deepEqual(calls, [
      `GET /v2/x/referrers/${D1}`,
      `GET /v2/x/manifests/${D1.replace(":", "-")}`,
      `GET /v2/x/referrers/${D2}`,
      `GET /v2/x/manifests/${D2.replace(":", "-")}`,
    ], `${status}`);
  }
  // 401/403/500 are failures, not "no API".
  await using broken = refusingRegistry(500, {});
  await using client = new RegistryClient({ plainHttp: [broken.host], retries: 0 });
  await assert.rejects(() => client.repository(broken.host, "x").referrers(D1), RegistryError);
});

Deno.test("Repository.referrers() follows the API's Link pages, stops at a page that links back, and checks each page", async () => {
  const entry = (d: string) => ({ mediaType: OCI_MANIFEST, digest: d, size: 1, artifactType: SIG });
  const D3 = `sha256:${"3".repeat(64)}`;
  const requests: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    requests.push(url.pathname + url.search);
    const page = url.searchParams.get("page") ?? (url.pathname.endsWith(D2) ? "bad" : "1");
    const pages: Record<string, [unknown, string | undefined]> = {
      "1": [[entry(D2)], `</v2/x/referrers/${D1}?page=2>; rel="next"`],
      "2": [[entry(D3)], `</v2/x/referrers/${D1}?page=1>; rel="next"`],
      "bad": [{ manifests: "no" }, undefined],
    };
    if (!url.pathname.startsWith("/v2/x/referrers/")) return new Response("{}", { status: 404 });
    const [manifests, link] = pages[page];
    const body = Array.isArray(manifests)
      ? JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests })
      : JSON.stringify(manifests);
    const headers: Record<string, string> = { "content-type": OCI_INDEX };
    if (link) headers.link = link;
    return new Response(body, { headers });
  });
  await using _server = { [Symbol.asyncDispose]: () => server.shutdown() };
  const host = `127.0.0.1:${server.addr.port}`;
  await using client = new RegistryClient({ plainHttp: [host] });
  const found = await client.repository(host, "x").referrers(D1);
  assert.deepEqual(found.map((d) => d.digest), [D2, D3], requests.join(" "));
  assert.deepEqual(requests.filter((r) => r.includes("referrers")), [
    `/v2/x/referrers/${D1}`,
    `/v2/x/referrers/${D1}?page=2`,
    `/v2/x/referrers/${D1}?page=1`,
  ]);
  await assert.rejects(
    () => client.repository(host, "x").referrers(D2),
    (e: Error) =>
      e instanceof ManifestFormatError &&
      e.message === `Referrers of ${host}/x@${D2} have no "manifests" array`,
  );
});

Deno.test("listReferrers() stops at MAX_REFERRERS when a registry lists the same referrers for every digest, reading each list once", async () => {
  const K = 40; // 40 + 40·39 + 40·39·38 nodes, were every list walked
  const listed = Array.from({ length: K }, (_, i) => ({
    mediaType: OCI_MANIFEST,
    digest: `sha256:${i.toString(16).padStart(64, "a")}`,
    size: 100,
    artifactType: SIG,
  }));
  const paths: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    paths.push(path);
    if (!path.startsWith("/v2/x/referrers/")) return new Response("{}", { status: 200 });
    return Response.json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: listed }, {
      headers: { "content-type": OCI_INDEX },
    });
  });
  try {
    await using client = new RegistryClient({ plainHttp: true });
    await assert.rejects(
      () => listReferrers(client.repository(`127.0.0.1:${server.addr.port}`, "x"), D1),
      /more than 1000 referrers within 3 levels: not listed/,
    );
    const lists = paths.filter((p) => p.startsWith("/v2/x/referrers/"));
    assert.ok(lists.length <= K + 1, `${lists.length} lists read`);
    assert.equal(new Set(lists).size, lists.length, "each list once");
  } finally {
    await server.shutdown();
  }
});

Deno.test("push --referrers leaves out a referrer listed for a subject it does not name, and says so", async () => {
  await using src = await startRegistry();
  await using dst = await startRegistry();
  const f = await withReferrers(src, "src/app");
  const [amd64, arm64] = f.set.images;
  // A fallback index copied onto another image's tag: amd64's SBOM listed under arm64.
  await putManifest(src.url, "src/app", arm64.digest.replace(":", "-"), {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [f.sbom],
  });
  const spec = await Deno.makeTempFile({ prefix: "mt-spec-", suffix: ".yaml" });
  try {
    await Deno.writeTextFile(
      spec,
      `image: ${dst.host}/team/app:1\nmanifests:\n  - image: ${src.host}/src/app:linux-arm64-v8\n`,
    );
    const r = await runCli(["push", "--type", "oci", "from-spec", "--referrers", "--json", spec]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.referrers.referrers.length, 0, "nothing copied under arm64");
    assert.deepEqual(
      doc.referrers.skipped.map((s: { subject: string; names: string }) => [s.subject, s.names]),
      [[arm64.digest, amd64.digest]],
    );
    assert.equal(await fallbackIndex(dst.url, "team/app", arm64.digest), undefined);
    const text = await runCli(["push", "--type", "oci", "from-spec", "--referrers", spec]);
    assert.match(text.stdout, /1 not copied: listed for a subject they do not name/);
    const v = await runCli(["verify", "--referrers", `${dst.host}/team/app:1`]);
    assert.equal(v.code, 0, v.stdout);
  } finally {
    await Deno.remove(spec);
  }
});

Deno.test("push --referrers within the source repository says the referrers are there already", async () => {
  await using reg = await startRegistry();
  await withReferrers(reg, "src/app");
  const spec = await specFile(reg.host, "src/app", `${reg.host}/src/app:combined`);
  try {
    const r = await runCli(["push", "--type", "oci", "from-spec", "--referrers", spec]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^Referrers: the images are in .*src\/app, and their referrers with them$/m,
    );
  } finally {
    await Deno.remove(spec);
  }
});

Deno.test("push --referrers lists a referrer in the target with the media type its manifest has, not a wrong one listed", async () => {
  await using src = await startRegistry();
  await using dst = await startRegistry();
  const f = await withReferrers(src, "src/app");
  const [amd64] = f.set.images;
  const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
  await putManifest(src.url, "src/app", amd64.digest.replace(":", "-"), {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [{ ...f.sbom, mediaType: DOCKER_MANIFEST }],
  });
  const spec = await Deno.makeTempFile({ prefix: "mt-spec-", suffix: ".yaml" });
  try {
    await Deno.writeTextFile(
      spec,
      `image: ${dst.host}/team/app:1\nmanifests:\n  - image: ${src.host}/src/app:linux-amd64\n`,
    );
    const r = await runCli(["push", "--type", "oci", "from-spec", "--referrers", spec]);
    assert.equal(r.code, 0, r.stderr);
    const fallback = await fallbackIndex(dst.url, "team/app", amd64.digest);
    const entry = fallback?.manifests.find((d) => d.digest === f.sbom.digest);
    assert.equal(entry?.mediaType, OCI_MANIFEST, JSON.stringify(fallback));
    const v = await runCli(["verify", "--referrers", `${dst.host}/team/app:1`]);
    assert.equal(v.code, 0, v.stdout);
  } finally {
    await Deno.remove(spec);
  }
});
