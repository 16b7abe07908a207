// The registry-facing commands (inspect, platforms, push within a repository, across repositories
// and across registries in both directions, manifest create/push/inspect, check-registry) on every
// registry kind installed here; each kind that is not is skipped, saying why. What we push is read
// back by the peer CLIs installed (skopeo, crane, regctl, oras), never only by ourselves.
import assert from "node:assert/strict";
import {
  type FixturePlatform,
  installedKinds,
  pushFixtures,
  type RegistryKind,
  type RunningRegistry,
  startRegistry,
} from "../scripts/harness/mod.ts";
import { runCli } from "./_helpers/cli.ts";
import { installedJudges, judgeDigests } from "./_helpers/judges.ts";
import { testEachKind } from "./_helpers/kinds.ts";

const { judges, missing } = await installedJudges();
if (missing.length) console.log(`skipped judges: ${missing.join(", ")} not installed`);

/** Variant-less, so that from-args templates (OS-ARCHVARIANT) name the fixture tags. */
const FLAT: FixturePlatform[] = [
  { os: "linux", architecture: "amd64" },
  { os: "linux", architecture: "ppc64le" },
  { os: "linux", architecture: "s390x" },
];
const MIXED: FixturePlatform[] = [
  { os: "linux", architecture: "amd64" },
  { os: "linux", architecture: "arm", variant: "v7" },
  { os: "windows", architecture: "amd64", "os.version": "10.0.17763.1234" },
];

/** The kind a cross-registry push pairs `kind` with: the next installed kind, round the list. */
async function partnerOf(kind: RegistryKind): Promise<RegistryKind> {
  const kinds = await installedKinds();
  if (kinds.length < 2) return kind;
  return kinds[(kinds.indexOf(kind) + 1) % kinds.length];
}

function lastDigest(stdout: string): string {
  const m = /^Digest: (sha256:[0-9a-f]{64}) \d+$/.exec(stdout.trim().split("\n").at(-1) ?? "");
  assert.ok(m, `last line must be "Digest: sha256:<hex> <size>", got: ${stdout}`);
  return m[1];
}

/** Every installed judge reads `digest` at `host/repoRef`. */
async function assertJudgesRead(host: string, repoRef: string, digest: string): Promise<void> {
  const seen = await judgeDigests(host, repoRef);
  for (const [tool, got] of Object.entries(seen)) {
    assert.equal(got, digest, `${tool} reads ${host}/${repoRef}`);
  }
}

/** The manifest and blobs each entry of the index at `repo@digest` names are in `repo`. */
async function assertComplete(reg: RunningRegistry, repo: string, digest: string): Promise<void> {
  const accept = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
  ].join(", ");
  const get = async (path: string) => {
    const res = await fetch(`${reg.url}/v2/${repo}/${path}`, { headers: { accept } });
    assert.equal(res.status, 200, `${reg.kind}: GET ${repo}/${path}`);
    return await res.json();
  };
  const index = await get(`manifests/${digest}`);
  for (const entry of index.manifests) {
    const m = await get(`manifests/${entry.digest}`);
    for (const blob of [m.config, ...m.layers]) {
      const head = await fetch(`${reg.url}/v2/${repo}/blobs/${blob.digest}`, { method: "HEAD" });
      assert.equal(head.status, 200, `${reg.kind}: blob ${blob.digest} in ${repo}`);
    }
  }
}

async function writeSpec(target: string, sources: string[]): Promise<string> {
  const f = await Deno.makeTempFile({ prefix: "mt-interop-", suffix: ".yaml" });
  const lines = [`image: ${target}`, "manifests:", ...sources.map((s) => `  - image: ${s}`)];
  await Deno.writeTextFile(f, lines.join("\n") + "\n");
  return f;
}

/** `push from-spec` of `sources` to `target` as an OCI index; checked, judged, returns digest. */
async function pushSpec(
  target: { reg: RunningRegistry; repo: string; tag: string },
  sources: string[],
): Promise<string> {
  const spec = await writeSpec(`${target.reg.host}/${target.repo}:${target.tag}`, sources);
  try {
    const r = await runCli(["--plain-http", "push", "--type", "oci", "from-spec", spec]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const digest = lastDigest(r.stdout);
    await assertComplete(target.reg, target.repo, digest);
    await assertJudgesRead(target.reg.host, `${target.repo}:${target.tag}`, digest);
    return digest;
  } finally {
    await Deno.remove(spec);
  }
}

await testEachKind(
  "inspect, platforms, push (same repo, cross-repo, cross-registry both ways), manifest and check-registry work",
  async (t, kind) => {
    const partner = await partnerOf(kind);
    await using reg = await startRegistry({ kind });
    await using other = await startRegistry({ kind: partner });
    const H = reg.host;
    const [multi, same, far] = await Promise.all([
      pushFixtures(reg, {
        layout: "repos",
        repository: "src/app",
        platforms: MIXED,
        index: { tag: "multi", attestations: true },
        seed: `multi ${kind}`,
      }),
      pushFixtures(reg, { format: "docker", repository: "same/app", platforms: FLAT, seed: "s" }),
      pushFixtures(other, { repository: "far/app", platforms: MIXED, seed: `far ${partner}` }),
    ]);
    const index = multi.index!;

    await t.step("inspect: human, --raw, --expand-config and --platform views", async () => {
      const human = await runCli(["--plain-http", "inspect", `${H}/src/app:multi`]);
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, new RegExp(`Digest: ${index.digest}`));
      assert.match(human.stdout, /Contains 6 manifest references \(3 images, 3 attestations\)/);
      const raw = await runCli(["--plain-http", "inspect", "--raw", `${H}/src/app:multi`]);
      assert.equal(raw.code, 0, raw.stderr);
      const doc = JSON.parse(raw.stdout);
      assert.equal(doc.digest, index.digest);
      assert.deepEqual(
        doc.manifests.slice(0, 3).map((m: { digest: string }) => m.digest),
        multi.images.map((i) => i.digest),
      );
      const expanded = await runCli([
        "--plain-http",
        "inspect",
        "--expand-config",
        `${H}/src/app:multi`,
      ]);
      assert.equal(expanded.code, 0, expanded.stderr);
      assert.match(expanded.stdout, /10\.0\.17763\.1234/);
      const arm = await runCli([
        "--plain-http",
        "inspect",
        "--platform",
        "linux/arm/v7",
        `${H}/src/app:multi`,
      ]);
      assert.equal(arm.code, 0, arm.stderr);
      assert.match(arm.stdout, new RegExp(multi.images[1].digest));
    });

    await t.step("platforms --json: the index and a single image", async () => {
      const r = await runCli([
        "--plain-http",
        "platforms",
        "--json",
        `${H}/src/app:multi`,
        `${H}/same/app:linux-s390x`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const [idx, img] = JSON.parse(r.stdout);
      assert.equal(idx.isIndex, true);
      assert.equal(idx.digest, index.digest);
      assert.deepEqual(idx.platforms, [
        "linux/amd64",
        "linux/arm/v7",
        "windows/amd64:10.0.17763.1234",
      ]);
      assert.equal(img.isIndex, false);
      assert.deepEqual(img.platforms, ["linux/s390x"]);
    });

    await t.step("push from-args within one repository (Docker list)", async () => {
      const r = await runCli([
        "--plain-http",
        "push",
        "from-args",
        "--platforms",
        "linux/amd64,linux/ppc64le,linux/s390x",
        "--template",
        `${H}/same/app:OS-ARCHVARIANT`,
        "--target",
        `${H}/same/app:list`,
        "--tags",
        "latest",
      ]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const digest = lastDigest(r.stdout);
      await assertComplete(reg, "same/app", digest);
      await assertJudgesRead(H, "same/app:list", digest);
      await assertJudgesRead(H, "same/app:latest", digest);
    });

    await t.step(
      `push from-spec across repositories (${
        reg.capabilities!.mount ? "mounts" : "mounts refused"
      })`,
      async () => {
        await pushSpec(
          { reg, repo: "dst/app", tag: "1" },
          multi.images.map((i) => `${H}/${i.repository}:${i.tag}`),
        );
      },
    );

    await t.step(`push from-spec across registries: ${kind} -> ${partner}`, async () => {
      await pushSpec(
        { reg: other, repo: "copied/app", tag: "1" },
        multi.images.map((i) => `${H}/${i.repository}:${i.tag}`),
      );
    });

    await t.step(`push from-spec across registries: ${partner} -> ${kind}`, async () => {
      await pushSpec(
        { reg, repo: "fetched/app", tag: "1" },
        far.images.map((i) => `${other.host}/${i.repository}:${i.tag}`),
      );
    });

    await t.step("manifest create, push and inspect", async () => {
      const home = await Deno.makeTempDir({ prefix: "mt-interop-store-" });
      const env = { MANIFEST_TOOL_HOME: home };
      try {
        const list = `${H}/ml/app:1`;
        const sources = same.images.map((i) => `${H}/${i.repository}:${i.tag}`);
        const c = await runCli(["manifest", "create", "--insecure", list, ...sources], { env });
        assert.equal(c.code, 0, c.stderr);
        const p = await runCli(["manifest", "push", "--insecure", list], { env });
        assert.equal(p.code, 0, p.stderr);
        const digest = p.stdout.trim().split("\n").at(-1)!;
        assert.match(digest, /^sha256:[0-9a-f]{64}$/);
        await assertJudgesRead(H, "ml/app:1", digest);
        const i = await runCli(["manifest", "inspect", "--insecure", list], { env });
        assert.equal(i.code, 0, i.stderr);
        const doc = JSON.parse(i.stdout);
        assert.deepEqual(
          doc.manifests.map((m: { digest: string }) => m.digest),
          same.images.map((img) => img.digest),
        );
      } finally {
        await Deno.remove(home, { recursive: true });
      }
    });

    await t.step("check-registry: PASS everywhere but what the kind lacks", async () => {
      const r = await runCli(["--plain-http", "check-registry", `${H}/check`]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const line = (name: string) => r.stdout.split("\n").find((l) => l.slice(6).startsWith(name));
      assert.match(
        line("cross-repository mount") ?? "",
        reg.capabilities!.mount ? /^PASS/ : /^FAIL .*202/,
      );
      for (const l of r.stdout.split("\n").filter((l) => /^(PASS|FAIL|SKIP) /.test(l))) {
        if (l.slice(6).startsWith("cross-repository mount")) continue;
        assert.match(l, /^PASS /, `${kind}: ${l}`);
      }
      assert.match(r.stdout, /Clean-up: deleted \d+ manifest/);
      // Nothing it tagged still resolves (go-containerregistry keeps tags of deleted manifests:
      // they are deleted by tag).
      const json = JSON.parse(
        (await runCli(["--plain-http", "check-registry", "--json", `${H}/check`])).stdout,
      );
      assert.deepEqual(json.leftBehind, [], `${kind}: ${JSON.stringify(json.leftBehind)}`);
      const list = await fetch(`${reg.url}/v2/${json.repository}/tags/list`);
      const tags: string[] = list.ok ? (await list.json()).tags ?? [] : [];
      if (!list.ok) await list.body?.cancel();
      for (const tag of tags) {
        const head = await fetch(`${reg.url}/v2/${json.repository}/manifests/${tag}`, {
          method: "HEAD",
        });
        assert.notEqual(head.status, 200, `${kind}: tag ${tag} still resolves`);
      }
    });
    if (!judges.length) console.log("skipped: no peer CLI installed to read pushes back");
  },
);

await testEachKind(
  "push across repositories and inspect over TLS with token auth (--ca-file, --username)",
  async (_t, kind) => {
    await using reg = await startRegistry({ kind, tls: true, auth: "token" });
    const set = await pushFixtures(reg, {
      layout: "repos",
      repository: "sec/src",
      platforms: FLAT,
    });
    const creds = [
      "--ca-file",
      reg.caFile!,
      "--username",
      reg.username!,
      "--password",
      reg.password!,
    ];
    const spec = await writeSpec(
      `${reg.host}/sec/dst:1`,
      set.images.map((i) => `${reg.host}/${i.repository}:${i.tag}`),
    );
    try {
      const r = await runCli([...creds, "push", "--type", "oci", "from-spec", spec]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const digest = lastDigest(r.stdout);
      const i = await runCli([...creds, "inspect", "--raw", `${reg.host}/sec/dst:1`]);
      assert.equal(i.code, 0, i.stderr);
      assert.equal(JSON.parse(i.stdout).digest, digest);
      assert.ok(!(r.stdout + r.stderr + i.stdout + i.stderr).includes(reg.password!));
    } finally {
      await Deno.remove(spec);
    }
  },
  { needs: ["tls", "auth"] },
);
