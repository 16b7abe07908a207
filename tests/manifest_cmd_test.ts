// The docker manifest workflow through `manifest-tool manifest`, against a real registry, compared
// with the docker CLI's own output where the docker CLI is installed.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { pushFixtures, startRegistry } from "../scripts/harness/mod.ts";
import { runCli } from "./_helpers/cli.ts";

const sha256 = (b: Uint8Array) => "sha256:" + createHash("sha256").update(b).digest("hex");
const HAVE_DOCKER =
  new Deno.Command("sh", { args: ["-c", "docker --version"], stdout: "null", stderr: "null" })
    .outputSync().success;

async function dockerInspect(args: string[]): Promise<string | undefined> {
  const cfg = await Deno.makeTempDir();
  try {
    const out = await new Deno.Command("docker", {
      args: ["manifest", "inspect", "--insecure", ...args],
      env: { DOCKER_CONFIG: cfg },
      stdout: "piped",
      stderr: "piped",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout) : undefined;
  } finally {
    await Deno.remove(cfg, { recursive: true });
  }
}

Deno.test("manifest create, annotate, push, inspect, rm: docker's workflow", async (t) => {
  await using reg = await startRegistry();
  const H = reg.host;
  const set = await pushFixtures(reg, { layout: "repos", repository: "mc/src", format: "docker" });
  const idx = await pushFixtures(reg, {
    repository: "mc/idx",
    index: { tag: "multi", attestations: true },
    seed: "i",
  });
  const home = await Deno.makeTempDir({ prefix: "mt-store-" });
  const env = { MANIFEST_TOOL_HOME: home };
  const m = (...args: string[]) => runCli(["--plain-http", "manifest", ...args], { env });
  const src = (arch: string) => `${H}/mc/src-${arch}`;
  const list = `${H}/mc/list:v1`;

  await t.step(
    "create from four per-arch images; a second create without --amend is refused",
    async () => {
      const r = await m(
        "create",
        list,
        src("linux-amd64"),
        src("linux-arm64-v8"),
        src("linux-ppc64le"),
        src("linux-s390x"),
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `Created manifest list ${list}\n`);
      const again = await m("create", list, src("linux-arm-v7"));
      assert.equal(again.code, 2);
      assert.match(again.stderr, /exists already: use --amend/);
    },
  );

  await t.step("annotate sets a variant and validates the platform", async () => {
    const r = await m(
      "annotate",
      "--variant",
      "v8",
      "--os-features",
      "f1,f2",
      list,
      src("linux-amd64"),
    );
    assert.equal(r.code, 2, "amd64 has no v8 variant");
    assert.match(r.stderr, /Unknown variant "v8" for architecture "amd64"/);
    const ok = await m("annotate", "--variant", "v3", list, src("linux-amd64"));
    assert.equal(ok.code, 0, ok.stderr);
    const missing = await m("annotate", "--variant", "v7", list, src("linux-arm-v7"));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /has no entry for/);
  });

  await t.step("--amend adds an entry; the local list shows it before any push", async () => {
    const r = await m("create", "--amend", list, src("linux-arm-v7"));
    assert.equal(r.code, 0, r.stderr);
    const local = JSON.parse((await m("inspect", list)).stdout);
    assert.equal(local.manifests.length, 5);
    const amd = local.manifests.find((e: { platform: { architecture: string } }) =>
      e.platform.architecture === "amd64"
    );
    assert.equal(amd.platform.variant, "v3");
  });

  let pushed = "";
  await t.step("push (in another process) prints the digest the registry holds", async () => {
    const r = await m("push", list);
    assert.equal(r.code, 0, r.stderr);
    pushed = r.stdout.trim();
    assert.match(pushed, /^sha256:[0-9a-f]{64}$/);
    const res = await fetch(`${reg.url}/v2/mc/list/manifests/v1`, {
      headers: { accept: "application/vnd.docker.distribution.manifest.list.v2+json" },
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    assert.equal(sha256(bytes), pushed);
    const doc = JSON.parse(new TextDecoder().decode(bytes));
    assert.equal(doc.mediaType, "application/vnd.docker.distribution.manifest.list.v2+json");
    assert.equal(doc.manifests.length, 5);
  });

  await t.step("inspect of the pushed list and of one entry, plain and verbose", async () => {
    await m("rm", list);
    const r = await m("inspect", list);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.manifests.length, 5);
    assert.ok(r.stdout.startsWith('{\n   "schemaVersion": 2,'), "docker's three-space indentation");
    const v = await m("inspect", "-v", list);
    const entries = JSON.parse(v.stdout);
    assert.equal(entries.length, 5);
    assert.equal(entries[0].Ref, `${list}@${entries[0].Descriptor.digest}`);
    assert.ok(entries[0].SchemaV2Manifest.layers.length >= 1);
    assert.equal(
      sha256(Uint8Array.from(atob(entries[0].Raw), (c) => c.charCodeAt(0))),
      entries[0].Descriptor.digest,
    );
    const img = await m("inspect", src("linux-s390x"));
    assert.equal(JSON.parse(img.stdout).mediaType, set.images[4].mediaType);
  });

  await t.step({
    name: "our manifest inspect prints what docker manifest inspect prints",
    ignore: !HAVE_DOCKER,
    fn: async () => {
      for (
        const args of [[list], ["-v", list], [src("linux-arm-v7")], ["-v", src("linux-arm-v7")], [
          `${H}/mc/idx:multi`,
        ]]
      ) {
        const theirs = await dockerInspect(args);
        if (theirs === undefined) {
          console.log(`skipped: docker manifest inspect ${args.join(" ")} failed here`);
          continue;
        }
        const ours = await m("inspect", ...args);
        assert.equal(ours.stdout, theirs, `manifest inspect ${args.join(" ")}`);
      }
    },
  });

  await t.step("an index as a create source is expanded into its platform entries", async () => {
    const r = await m("create", `${H}/mc/fromidx:v1`, `${H}/mc/idx:multi`);
    assert.equal(r.code, 0, r.stderr);
    const local = JSON.parse((await m("inspect", `${H}/mc/fromidx:v1`)).stdout);
    assert.equal(local.manifests.length, 6, "attestations are not platform entries");
    assert.deepEqual(
      local.manifests.map((e: { digest: string }) => e.digest).sort(),
      idx.images.map((i) => i.digest).sort(),
    );
    const p = await m("push", "--purge", "--type", "oci", `${H}/mc/fromidx:v1`);
    assert.equal(p.code, 0, p.stderr);
    const gone = await m("rm", `${H}/mc/fromidx:v1`);
    assert.equal(gone.code, 2, "--purge removed the local list after the push");
    assert.match(gone.stderr, /No such manifest list/);
  });

  await t.step("a failed push keeps the local list (--purge only after success)", async () => {
    await m("create", `127.0.0.1:9/mc/fail:v1`, src("linux-amd64"));
    const unreachable = await m("push", "--purge", `127.0.0.1:9/mc/fail:v1`);
    assert.equal(unreachable.code, 1);
    const still = await m("inspect", `127.0.0.1:9/mc/fail:v1`);
    assert.equal(still.code, 0, "the list is still there");
  });

  await t.step(
    "concurrent create --amend of different sources leaves every entry valid",
    async () => {
      const name = `${H}/mc/conc:v1`;
      const archs = [
        "linux-amd64",
        "linux-arm64-v8",
        "linux-arm-v7",
        "linux-ppc64le",
        "linux-s390x",
        "windows-amd64",
      ];
      const results = await Promise.all(archs.map((a) => m("create", "--amend", name, src(a))));
      for (const r of results) assert.equal(r.code, 0, r.stderr);
      const local = JSON.parse((await m("inspect", name)).stdout);
      assert.equal(local.manifests.length, 6);
    },
  );

  await t.step("a corrupt store file is one line naming it", async () => {
    const name = `${H}/mc/corrupt:v1`;
    await m("create", name, src("linux-amd64"));
    let file = "";
    for await (const d of Deno.readDir(home)) {
      if (d.name.includes("corrupt")) {
        for await (const f of Deno.readDir(`${home}/${d.name}`)) {
          file = `${home}/${d.name}/${f.name}`;
        }
      }
    }
    await Deno.writeTextFile(file, "{ broken");
    const r = await m("push", name);
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(file), r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  });

  await t.step("rm removes the lists it can and names the ones that do not exist", async () => {
    const r = await m("rm", `${H}/mc/conc:v1`, `${H}/mc/never:v1`);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /No such manifest list: "127\.0\.0\.1:\d+\/mc\/never:v1"/);
    const again = await m("inspect", `${H}/mc/conc:v1`);
    assert.notEqual(again.code, 0, "removed, and not in the registry either");
  });
  await Deno.remove(home, { recursive: true });
});
if (!HAVE_DOCKER) {
  console.log("skipped: comparison with docker manifest inspect: the docker CLI is not installed");
}
