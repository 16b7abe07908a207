// The image zoo on every registry kind installed here: zstd layers, a foreign Windows layer, an
// index inside an index, a buildx index with attestations, an OCI artifact with artifactType and
// the empty config, an image with `subject`, a Docker manifest with an OCI config, an index with
// annotated entries, manifests of exactly 4 MiB and one byte over; made by raw requests and, where
// installed, by oras, regctl and crane. For each: inspect (every view), platforms, and a push that
// uses it as a source into a registry of another kind, read back there by the peer CLIs.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  installedKinds,
  type RegistryKind,
  type RunningRegistry,
  startRegistry,
} from "../scripts/harness/mod.ts";
import { runCli } from "./_helpers/cli.ts";
import { installedJudges, judgeDigests } from "./_helpers/judges.ts";
import { testEachKind } from "./_helpers/kinds.ts";
import {
  foreignWindowsCase,
  MANIFEST_LIMIT,
  rawZoo,
  toolZoo,
  type ZooCase,
} from "./_helpers/zoo.ts";

const { missing } = await installedJudges();
if (missing.length) console.log(`skipped judges: ${missing.join(", ")} not installed`);

/**
 * Shapes each kind refuses at `PUT`, with the status it answers (docs/REGISTRIES.md has the
 * error bodies). Any other refusal fails the test: a kind that starts refusing a shape is news.
 */
const REFUSES: Record<RegistryKind, Record<string, number>> = {
  // `http: request body too large` as 400 MANIFEST_INVALID: distribution caps manifests at 4 MiB.
  "distribution-2": { "size-4mib-plus-1": 400 },
  "distribution-3": { "size-4mib-plus-1": 400 },
  "ggcr": {},
  "ggcr-referrers": {},
};

const ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");
const FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
const sha256 = (b: Uint8Array) => "sha256:" + createHash("sha256").update(b).digest("hex");

async function partnerOf(kind: RegistryKind): Promise<RegistryKind> {
  const kinds = await installedKinds();
  return kinds.length < 2 ? kind : kinds[(kinds.indexOf(kind) + 1) % kinds.length];
}

function refOf(reg: RunningRegistry, c: ZooCase): string {
  return c.tag.startsWith("sha256:")
    ? `${reg.host}/${c.repo}@${c.tag}`
    : `${reg.host}/${c.repo}:${c.tag}`;
}

/** GET a manifest by plain fetch: status and parsed JSON (or undefined). */
async function manifest(reg: RunningRegistry, repo: string, ref: string) {
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${ref}`, {
    headers: { accept: ACCEPT },
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  return {
    status: res.status,
    digest: sha256(bytes),
    doc: res.status === 200 ? JSON.parse(new TextDecoder().decode(bytes)) : undefined,
  };
}

/** Each view of inspect and platforms answer for `c`, with the digest the registry holds. */
async function assertViews(reg: RunningRegistry, c: ZooCase): Promise<void> {
  const ref = refOf(reg, c);
  // Four processes at once: each view is independent of the others.
  const [human, raw, expanded, p] = await Promise.all([
    runCli(["--plain-http", "inspect", ref]),
    runCli(["--plain-http", "inspect", "--raw", ref]),
    runCli(["--plain-http", "inspect", "--expand-config", ref]),
    runCli(["--plain-http", "platforms", "--json", ref]),
  ]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, new RegExp(`Digest: ${c.digest}`));
  // No empty platform lines (an artifact shows its type), and a nested index is not an image.
  assert.doesNotMatch(human.stdout, /(OS|Arch): *$/m, human.stdout);
  if (!c.isIndex && !c.platforms.length) assert.match(human.stdout, /^ArtifactType: \S/m);
  if (c.name.includes("nested")) assert.match(human.stdout, /\(\d+ images?, 1 index, /);
  for (const [view, r] of [["--raw", raw], ["--expand-config", expanded]] as const) {
    assert.equal(r.code, 0, `${view}: ${r.stderr}`);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.digest, c.digest, view);
    assert.equal(doc.mediaType, c.mediaType, view);
  }
  assert.equal(p.code, 0, p.stderr);
  const [summary] = JSON.parse(p.stdout);
  assert.equal(summary.digest, c.digest);
  assert.equal(summary.isIndex, c.isIndex);
  // A nested index's platforms are listed in its place.
  assert.deepEqual(summary.platforms, c.platforms);
}

/** A manifest over 4 MiB: every read fails in one line naming the cap, nothing is pushed. */
async function assertOversizedRefused(
  reg: RunningRegistry,
  other: RunningRegistry,
  c: ZooCase,
): Promise<void> {
  const ref = refOf(reg, c);
  const views = [["inspect"], ["inspect", "--raw"], ["platforms", "--json"]];
  const runs = await Promise.all(views.map((args) => runCli(["--plain-http", ...args, ref])));
  for (const [i, r] of runs.entries()) {
    const args = views[i];
    assert.equal(r.code, 1, `${args}: ${r.stdout}`);
    assert.match(r.stderr.trim(), new RegExp(`^manifest-tool: .*${MANIFEST_LIMIT}`));
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
  const push = await pushFrom(other, c, ref);
  assert.equal(push.code, 1, push.stdout);
  assert.equal((await manifest(other, `zoo-out/${c.name}`, "v1")).status, 404, "nothing pushed");
}

async function pushFrom(other: RunningRegistry, c: ZooCase, ref: string) {
  const spec = await Deno.makeTempFile({ prefix: "mt-zoo-", suffix: ".yaml" });
  // An artifact has no platform to read: the spec gives one, as a user would.
  const platform = c.platforms.length || c.isIndex
    ? []
    : ["    platform:", "      os: linux", "      architecture: amd64"];
  await Deno.writeTextFile(
    spec,
    [
      `image: ${other.host}/zoo-out/${c.name}:v1`,
      "manifests:",
      `  - image: ${ref}`,
      ...platform,
      "",
    ]
      .join("\n"),
  );
  try {
    return await runCli(["--plain-http", "push", "--type", "oci", "from-spec", spec]);
  } finally {
    await Deno.remove(spec);
  }
}

/**
 * Pushes an index with `c` as its source into `other` and checks the target: the last line's digest
 * is what every judge reads, each entry's manifest and blobs are in the target repository (foreign
 * layers excepted: they live at their URLs), and the images `c` names are entries.
 */
async function assertPushedFrom(
  reg: RunningRegistry,
  other: RunningRegistry,
  c: ZooCase,
): Promise<void> {
  const r = await pushFrom(other, c, refOf(reg, c));
  const repo = `zoo-out/${c.name}`;
  if (c.name.includes("nested") && r.code !== 0) {
    // A nested index as a source is refused today (its inner index has no platform): then it
    // must be one line and leave the target untouched (docs/REGISTRIES.md, "Zoo findings").
    assert.equal(r.stderr.trim().split("\n")[0].startsWith("manifest-tool: "), true, r.stderr);
    assert.equal((await manifest(other, repo, "v1")).status, 404, "nothing half-pushed");
    return;
  }
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const m = /^Digest: (sha256:[0-9a-f]{64}) \d+$/.exec(r.stdout.trim().split("\n").at(-1) ?? "");
  assert.ok(m, r.stdout);
  for (const [tool, got] of Object.entries(await judgeDigests(other.host, `${repo}:v1`))) {
    assert.equal(got, m[1], `${tool} reads the pushed index`);
  }
  const index = await manifest(other, repo, m[1]);
  const entries: string[] = index.doc.manifests.map((d: { digest: string }) => d.digest);
  for (const img of c.images) assert.ok(entries.includes(img), `${img} is an entry`);
  for (const digest of entries) {
    const child = await manifest(other, repo, digest);
    assert.equal(child.status, 200, `entry ${digest} is in ${repo}`);
    assert.equal(child.digest, digest);
    const blobs = child.doc.manifests ? [] : [child.doc.config, ...child.doc.layers];
    for (const b of blobs) {
      const head = await fetch(`${other.url}/v2/${repo}/blobs/${b.digest}`, { method: "HEAD" });
      if (b.mediaType === FOREIGN) assert.equal(head.status, 404, "foreign layers are not copied");
      else assert.equal(head.status, 200, `blob ${b.digest} of ${digest} in ${repo}`);
    }
  }
  // A judge reads one child by digest too: its bytes were copied exactly, not re-serialised.
  const first = c.images[0];
  if (first) {
    const seen = await judgeDigests(other.host, `${repo}@${first}`, 1);
    for (const [tool, got] of Object.entries(seen)) assert.equal(got, first, `${tool}: ${first}`);
  }
}

await testEachKind(
  "every zoo shape is inspected, summarised and carried by a push, or refused as documented",
  async (t, kind) => {
    const partner = await partnerOf(kind);
    await using reg = await startRegistry({ kind, foreignLayerUrls: true });
    await using other = await startRegistry({ kind: partner, foreignLayerUrls: true });
    const raw = await rawZoo(reg);
    const tools = await toolZoo(reg);
    if (tools.missing.length) console.log(`skipped zoo makers: ${tools.missing.join(", ")}`);
    assert.deepEqual(tools.failed, [], "every installed peer CLI made its zoo case");
    for (const c of [...raw, ...tools.cases]) {
      await t.step(`${c.name} (made by ${c.madeBy}), pushed to ${partner}`, async () => {
        const refusal = REFUSES[kind][c.name];
        if (c.refused || refusal) {
          assert.equal(c.refused?.status, refusal, `${kind} on ${c.name}: ${c.refused?.error}`);
          console.log(`${kind} refuses ${c.name}: ${c.refused!.status} ${c.refused!.error.trim()}`);
          return;
        }
        if (c.oversized) return await assertOversizedRefused(reg, other, c);
        await assertViews(reg, c);
        await assertPushedFrom(reg, other, c);
      });
    }
  },
);

await testEachKind(
  "a manifest with a foreign layer is refused by default only where REGISTRIES.md says so",
  async (_t, kind) => {
    await using reg = await startRegistry({ kind });
    const foreign = await foreignWindowsCase(reg);
    if (kind.startsWith("distribution")) {
      // distribution without validation.manifests.urls.allow: 500 "invalid URL on layer".
      assert.equal(foreign.refused?.status, 500, JSON.stringify(foreign));
      assert.match(foreign.refused!.error, /invalid URL on layer|MANIFEST_BLOB_UNKNOWN/);
    } else {
      assert.equal(foreign.refused, undefined, "go-containerregistry accepts it");
    }
  },
);
