// `manifest-tool manifest create|annotate|push|inspect|rm`, docker manifest's workflow, run as a
// user runs it (one process per command) against a real registry, in docker's own manifest store
// (a temporary DOCKER_CONFIG), and side by side with the docker CLI where it is installed: the
// same store files, the same pushed bytes (digests), the same output lines.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  type FixtureSet,
  pushFixtures,
  type RunningRegistry,
  startRegistry,
} from "../scripts/harness/mod.ts";
import { type CliResult, runCli } from "./_helpers/cli.ts";

const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const ACCEPT = [
  OCI_INDEX,
  DOCKER_LIST,
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

const sha256 = (b: Uint8Array) => "sha256:" + createHash("sha256").update(b).digest("hex");
const fromBase64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
/** docker's file-safe name of a reference. */
const safe = (ref: string) => ref.replaceAll(":", "-").replaceAll("/", "_");

/** One registry, its fixtures and a docker config directory for a test; all removed at the end. */
interface World {
  reg: RunningRegistry;
  H: string;
  /** The DOCKER_CONFIG both tools use; the store is `${config}/manifests`. */
  config: string;
  /** Per-arch images, one repository each (`mc/src-linux-amd64:latest`), Docker media types. */
  repos: FixtureSet;
  /** Per-arch images under tags of `mc/tags`, OCI, and an OCI index of them with attestations. */
  tagged: FixtureSet;
  /** `manifest-tool manifest ...args` in its own process. */
  m(...args: string[]): Promise<CliResult>;
  src(name: string): string;
  /** The list's entry files, in name order. */
  files(list: string): Promise<string[]>;
}

async function withWorld(fn: (w: World) => Promise<void>): Promise<void> {
  await using reg = await startRegistry();
  const config = await Deno.makeTempDir({ prefix: "mt-manifest-docker-config-" });
  try {
    const [repos, tagged] = await Promise.all([
      pushFixtures(reg, { layout: "repos", repository: "mc/src", format: "docker" }),
      pushFixtures(reg, {
        repository: "mc/tags",
        format: "oci",
        index: { tag: "multi", attestations: true },
        seed: "t",
      }),
    ]);
    const H = reg.host;
    await fn({
      reg,
      H,
      config,
      repos,
      tagged,
      m: (...args) => runCli(["manifest", ...args], { env: { DOCKER_CONFIG: config } }),
      src: (name) => `${H}/mc/src-${name}`,
      files: async (list) => {
        const dir = `${config}/manifests/${safe(list)}`;
        const names: string[] = [];
        for await (const d of Deno.readDir(dir)) names.push(`${dir}/${d.name}`);
        return names.sort();
      },
    });
  } finally {
    await Deno.remove(config, { recursive: true });
  }
}

async function registryManifest(reg: RunningRegistry, repo: string, ref: string) {
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${ref}`, {
    headers: { accept: ACCEPT },
  });
  assert.equal(res.status, 200, `GET ${repo}:${ref}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { bytes, doc: JSON.parse(new TextDecoder().decode(bytes)) };
}

/**
 * Pushes, as `REPO:odd`, an OCI manifest written by hand the way a JSON.parse/stringify round
 * trip would change it: numeric keys out of order, characters Go escapes (`<`, `&`, U+2028), an
 * escape kept as written, a number in exponent form, empty containers. Its config is `config`.
 */
async function pushOdd(
  reg: RunningRegistry,
  repo: string,
  config: { digest: string; size: number },
): Promise<string> {
  const text =
    `{\n  "schemaVersion": 2,\n  "mediaType": "application/vnd.oci.image.manifest.v1+json",\n` +
    `  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "${config.digest}", "size": ${config.size}},\n` +
    `  "layers": [ ],\n` +
    `  "annotations": {"b": "x<y&z> \\u003c", "10": "n", "2": "m", "u": "a\u2028b", "e": "\\u00e9 \u00e9"},\n` +
    `  "x-num": 1.50E+3, "x-empty": {}\n}\n`;
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/odd`, {
    method: "PUT",
    headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
    body: new TextEncoder().encode(text),
  });
  await res.body?.cancel();
  assert.equal(res.status, 201, `PUT ${repo}:odd`);
  return `${reg.host}/${repo}:odd`;
}

/** Puts the fixture image of `from` also as `to` (`repo:tag`), its blobs mounted across. */
async function copyImage(
  reg: RunningRegistry,
  from: FixtureSet["images"][number],
  to: string,
): Promise<void> {
  const [repo, tag] = to.split(":");
  for (const b of [from.config, ...from.layers]) {
    const res = await fetch(
      `${reg.url}/v2/${repo}/blobs/uploads/?mount=${b.digest}&from=${from.repository}`,
      { method: "POST" },
    );
    await res.body?.cancel();
    assert.equal(res.status, 201, `mount ${b.digest} into ${repo}`);
  }
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${tag}`, {
    method: "PUT",
    headers: { "content-type": from.mediaType },
    body: from.manifest.slice(),
  });
  await res.body?.cancel();
  assert.equal(res.status, 201, `PUT ${to}`);
}

function ok(r: CliResult, what: string): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}`);
}

/** One error line on stderr (no stack trace), with this exit code. */
function fails(r: CliResult, code: number, message: RegExp): void {
  assert.equal(r.code, code, `exit code (stderr: ${r.stderr})`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  assert.equal(r.stdout, "");
}

/** `docker manifest ...args` with DOCKER_CONFIG `config`. */
async function docker(config: string, ...args: string[]): Promise<CliResult> {
  const out = await new Deno.Command("docker", {
    args: ["manifest", ...args],
    env: { DOCKER_CONFIG: config },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Why the docker CLI cannot be the judge here, or undefined when it can. */
async function dockerMissing(): Promise<string | undefined> {
  const config = await Deno.makeTempDir({ prefix: "mt-docker-probe-" });
  try {
    const r = await docker(config, "--help");
    return r.code === 0 ? undefined : `docker manifest --help failed: ${r.stderr.trim()}`;
  } catch (e) {
    return `the docker CLI cannot run here (${(e as Error).message})`;
  } finally {
    await Deno.remove(config, { recursive: true });
  }
}
const NO_DOCKER = await dockerMissing();

Deno.test("manifest create, annotate, push, inspect, rm: docker's workflow from four per-arch images", async (t) => {
  await withWorld(async ({ reg, H, config, repos, m, src, files }) => {
    const list = `${H}/mc/list:v1`;
    const archs = ["linux-amd64", "linux-arm64-v8", "linux-ppc64le", "linux-s390x"];
    const fixture = (name: string) => repos.images.find((i) => i.repository === `mc/src-${name}`)!;

    await t.step(
      "create writes docker's store: one file per entry, docker's ImageManifest JSON",
      async () => {
        const r = await m("create", "--insecure", list, ...archs.map(src));
        ok(r, "create");
        assert.equal(r.stdout, `Created manifest list ${list}\n`);
        const paths = await files(list);
        assert.deepEqual(
          paths,
          archs.map((a) => `${config}/manifests/${safe(list)}/${safe(`${src(a)}:latest`)}`),
        );
        for (const [i, name] of archs.entries()) {
          const want = fixture(name);
          const text = await Deno.readTextFile(paths[i]);
          const doc = JSON.parse(text);
          assert.deepEqual(Object.keys(doc), [
            "Ref",
            "Descriptor",
            "Raw",
            "SchemaV2Manifest",
            "ManifestList",
          ]);
          assert.equal(doc.Ref, `${src(name)}:latest`);
          assert.equal(doc.ManifestList, list);
          assert.deepEqual(doc.Descriptor, {
            mediaType: want.mediaType,
            digest: want.digest,
            size: want.size,
            platform: {
              architecture: want.platform.architecture,
              os: want.platform.os,
              ...want.platform.variant ? { variant: want.platform.variant } : {},
            },
          });
          assert.deepEqual(fromBase64(doc.Raw), want.manifest);
          assert.equal(doc.SchemaV2Manifest.config.digest, want.config.digest);
          assert.ok(!text.includes("\n"), "compact, as Go's json.Marshal");
        }
      },
    );

    await t.step(
      "annotate sets a variant; a bad one or an unknown entry is one error",
      async () => {
        ok(await m("annotate", "--variant", "v2", list, src("linux-amd64")), "annotate");
        fails(
          await m("annotate", "--variant", "v8", list, src("linux-amd64")),
          2,
          /^manifest-tool: Unknown variant "v8" for architecture "amd64" in platform "linux\/amd64\/v8": expected one of v1, v2, v3, v4\n/,
        );
        fails(
          await m("annotate", "--os", "linux", "--arch", "x86_64", list, src("linux-amd64")),
          2,
          /did you mean "amd64"/,
        );
        fails(
          await m("annotate", "--variant", "v7", list, src("linux-arm-v7")),
          1,
          new RegExp(
            `^manifest-tool: manifest for image ${
              src("linux-arm-v7")
            } does not exist in ${list}\n$`,
          ),
        );
        const local = JSON.parse((await m("inspect", list)).stdout);
        assert.deepEqual(local.manifests[0].platform, {
          architecture: "amd64",
          os: "linux",
          variant: "v2",
        });
      },
    );

    let pushed = "";
    await t.step(
      "push prints a Pushed ref line per entry from another repository, then the digest",
      async () => {
        const r = await m("push", "--insecure", list);
        ok(r, "push");
        const lines = r.stdout.trimEnd().split("\n");
        assert.deepEqual(
          lines.slice(0, -1),
          archs.map((a) => {
            const d = fixture(a).digest;
            return `Pushed ref ${H}/mc/list@${d} with digest: ${d}`;
          }),
        );
        pushed = lines.at(-1)!;
        const { bytes, doc } = await registryManifest(reg, "mc/list", "v1");
        assert.equal(sha256(bytes), pushed);
        assert.equal(doc.mediaType, DOCKER_LIST, "docker's list type: the first entry is Docker's");
        const text = new TextDecoder().decode(bytes);
        assert.ok(text.startsWith('{\n   "schemaVersion": 2,\n   "mediaType": "'), "3 spaces");
        assert.ok(text.endsWith("\n   ]\n}"), "no final new line, as docker sends it");
        assert.deepEqual(Object.keys(doc.manifests[1]), [
          "mediaType",
          "size",
          "digest",
          "platform",
        ]);
        assert.deepEqual(
          doc.manifests.map((d: { digest: string }) => d.digest),
          archs.map((a) => fixture(a).digest),
        );
        assert.deepEqual(doc.manifests[0].platform, {
          architecture: "amd64",
          os: "linux",
          variant: "v2",
        });
        for (const a of archs) await registryManifest(reg, "mc/list", fixture(a).digest);
        assert.equal((await files(list)).length, 4, "without --purge the local list stays");
      },
    );

    await t.step("rm deletes the local list; inspect then reads the registry's", async () => {
      const r0 = await m("rm", list);
      ok(r0, "rm");
      assert.equal(r0.stdout + r0.stderr, "");
      const r = await m("inspect", "--insecure", list);
      ok(r, "inspect");
      assert.equal(
        r.stdout,
        new TextDecoder().decode((await registryManifest(reg, "mc/list", "v1")).bytes) + "\n",
      );
      const v = await m("inspect", "--insecure", "-v", list);
      ok(v, "inspect -v");
      assert.ok(v.stdout.startsWith('[\n\t{\n\t\t"Ref": '), "docker's tab indentation");
      const entries = JSON.parse(v.stdout);
      assert.equal(entries.length, 4);
      for (const [i, e] of entries.entries()) {
        const want = fixture(archs[i]);
        assert.equal(e.Ref, `${list}@${want.digest}`);
        assert.deepEqual(Object.keys(e), ["Ref", "Descriptor", "Raw", "SchemaV2Manifest"]);
        assert.deepEqual(fromBase64(e.Raw), want.manifest);
      }
      const img = await m("inspect", "--insecure", src("linux-s390x"));
      ok(img, "inspect image");
      assert.ok(img.stdout.startsWith('{\n\t"schemaVersion": 2,') && img.stdout.endsWith("}\n\n"));
      const imgV = JSON.parse((await m("inspect", "--insecure", "-v", src("linux-s390x"))).stdout);
      assert.equal(imgV.Ref, `${src("linux-s390x")}:latest`);
      assert.deepEqual(imgV.Descriptor.platform, { architecture: "s390x", os: "linux" });
    });

    await t.step("rm, push and inspect of a list that is not there: docker's words", async () => {
      fails(await m("rm", list), 1, new RegExp(`^manifest-tool: No such manifest: ${list}\n$`));
      fails(await m("push", list), 1, new RegExp(`^manifest-tool: No such manifest: ${list}\n$`));
      fails(
        await m("inspect", list, src("linux-amd64")),
        1,
        new RegExp(`^manifest-tool: No such manifest: ${src("linux-amd64")}:latest\n$`),
      );
      fails(
        await m("inspect", "--insecure", `${H}/mc/never:v1`),
        1,
        new RegExp(`^manifest-tool: no such manifest: ${H}/mc/never:v1\n$`),
      );
    });

    await t.step(
      "without HOME a remote inspect still works; the store says what to set",
      async () => {
        const homeless = (...args: string[]) =>
          runCli(["manifest", ...args], { env: { HOME: "" } });
        const r = await homeless("inspect", "--insecure", list);
        ok(r, "inspect without HOME");
        assert.equal(JSON.parse(r.stdout).manifests.length, 4);
        fails(
          await homeless("create", list, src("linux-amd64")),
          2,
          /^manifest-tool: Cannot place the local manifest store: set MANIFEST_TOOL_HOME, DOCKER_CONFIG or HOME\n/,
        );
      },
    );
  });
});

Deno.test("manifest store: $DOCKER_CONFIG/manifests, --docker-cfg's directory, ~/.docker/manifests, or MANIFEST_TOOL_HOME", async () => {
  await withWorld(async ({ H, config, src }) => {
    const list = `${H}/mc/where:v1`;
    const home = await Deno.makeTempDir({ prefix: "mt-manifest-home-" });
    const own = await Deno.makeTempDir({ prefix: "mt-manifest-own-" });
    try {
      const run = (env: Record<string, string>, ...args: string[]) =>
        runCli(["manifest", ...args], { env: { HOME: home, ...env } });
      const where = [
        [{}, [], `${home}/.docker/manifests`],
        [{ DOCKER_CONFIG: config }, [], `${config}/manifests`],
        [{}, ["--docker-cfg", `${own}/config.json`], `${own}/manifests`],
        [{ MANIFEST_TOOL_HOME: own, DOCKER_CONFIG: config }, [], own],
      ] as const;
      for (const [env, flags, dir] of where) {
        ok(await run(env, "create", ...flags, list, src("linux-amd64")), `create in ${dir}`);
        const names = [...Deno.readDirSync(`${dir}/${safe(list)}`)].map((d) => d.name);
        assert.deepEqual(names, [safe(`${src("linux-amd64")}:latest`)], dir);
        ok(await run(env, "rm", ...flags, list), `rm in ${dir}`);
      }
    } finally {
      await Deno.remove(home, { recursive: true });
      await Deno.remove(own, { recursive: true });
    }
  });
});

Deno.test("manifest create --amend: without it an existing list is refused; with it entries are added, stored ones kept", async () => {
  await withWorld(async ({ H, repos, m, src, files }) => {
    const list = `${H}/mc/amend:v1`;
    const amd = repos.images.find((i) => i.repository === "mc/src-linux-amd64")!;
    ok(await m("create", list, src("linux-amd64")), "create");
    const before = await files(list);
    fails(
      await m("create", list, src("linux-arm-v7")),
      1,
      /^manifest-tool: refusing to amend an existing manifest list with no --amend flag\n$/,
    );
    assert.deepEqual(await files(list), before, "the list is untouched");

    ok(await m("create", "--amend", list, src("linux-arm-v7")), "amend");
    let local = JSON.parse((await m("inspect", list)).stdout);
    assert.deepEqual(
      local.manifests.map((d: { platform: { architecture: string } }) => d.platform.architecture),
      ["amd64", "arm"],
    );

    // As docker: a source the list holds already is taken from the store, its annotation kept.
    ok(await m("annotate", "--variant", "v3", list, src("linux-amd64")), "annotate");
    ok(await m("create", "-a", list, src("linux-amd64")), "amend again");
    local = JSON.parse((await m("inspect", list)).stdout);
    assert.equal(local.manifests.length, 2);
    assert.deepEqual(local.manifests[0].platform, {
      architecture: "amd64",
      os: "linux",
      variant: "v3",
    });

    // The same manifest by digest is another entry, as in docker's store (docker pushes both).
    ok(
      await m("create", "--amend", list, `${H}/mc/src-linux-amd64@${amd.digest}`),
      "amend by digest",
    );
    const v = JSON.parse((await m("inspect", "-v", list)).stdout);
    assert.deepEqual(v.map((e: { Ref: string }) => e.Ref).sort(), [
      `${src("linux-amd64")}:latest`,
      `${H}/mc/src-linux-amd64@${amd.digest}`,
      `${src("linux-arm-v7")}:latest`,
    ]);
  });
});

Deno.test("manifest push --purge removes the local list only after the push succeeded", async () => {
  await withWorld(async ({ reg, H, m, src }) => {
    const unreachable = "127.0.0.1:9/mc/purge:v1";
    ok(await m("create", unreachable, src("linux-amd64")), "create");
    const failed = await m("push", "--purge", unreachable);
    assert.equal(failed.code, 1, failed.stderr);
    assert.equal(failed.stderr.trim().split("\n").length, 1, failed.stderr);
    ok(await m("inspect", unreachable), "the list is still there");

    const list = `${H}/mc/purge:v1`;
    ok(await m("create", list, src("linux-amd64"), src("linux-arm64-v8")), "create");
    const r = await m("push", "--purge", "--type", "oci", list);
    ok(r, "push --purge");
    const { bytes, doc } = await registryManifest(reg, "mc/purge", "v1");
    assert.equal(sha256(bytes), r.stdout.trim().split("\n").at(-1));
    assert.equal(doc.mediaType, OCI_INDEX);
    fails(await m("rm", list), 1, /No such manifest/);
  });
});

Deno.test("manifest push publishes the platforms annotate set or cleared: no config is consulted", async () => {
  await withWorld(async ({ reg, H, m, src }) => {
    const list = `${H}/mc/exact:v1`;
    ok(await m("create", list, src("windows-amd64"), src("linux-arm-v7")), "create");
    ok(await m("annotate", "--os-version", "", list, src("windows-amd64")), "clear os.version");
    ok(await m("annotate", "--variant", "", list, src("linux-arm-v7")), "clear variant");
    for (const type of [[], ["--type", "oci"], ["--type", "docker"]]) {
      ok(await m("push", ...type, list), `push ${type.join(" ")}`);
      const { doc } = await registryManifest(reg, "mc/exact", "v1");
      assert.deepEqual(
        doc.manifests.map((d: { platform: unknown }) => d.platform),
        [{ architecture: "arm", os: "linux" }, { architecture: "amd64", os: "windows" }],
        `what was annotated is what was pushed (${type.join(" ") || "docker's bytes"})`,
      );
    }
  });
});

Deno.test("manifest create takes an index as its platform entries (docker refuses it)", async () => {
  await withWorld(async ({ reg, H, tagged, m, files }) => {
    const idx = `${H}/mc/tags:multi`;
    const list = `${H}/mc/fromidx:v1`;
    ok(await m("create", list, idx), "create");
    const v = JSON.parse((await m("inspect", "-v", list)).stdout);
    assert.equal(v.length, 6, "the six images; attestations are not platform entries");
    assert.deepEqual(
      v.map((e: { Descriptor: { digest: string } }) => e.Descriptor.digest).sort(),
      tagged.images.map((i) => i.digest).sort(),
    );
    assert.ok(
      v.every((e: { Ref: string; Descriptor: { digest: string } }) =>
        e.Ref === `${idx}@${e.Descriptor.digest}`
      ),
    );
    // The index an entry came from is kept where docker's decoder does not look.
    const doc = JSON.parse(await Deno.readTextFile((await files(list))[0]));
    assert.equal(doc.Source, idx);
    const win = v.find((e: { Descriptor: { platform: { os: string } } }) =>
      e.Descriptor.platform.os === "windows"
    );
    assert.equal(win.Descriptor.platform["os.version"], "10.0.17763.1234");

    fails(
      await m("annotate", "--variant", "v3", list, idx),
      2,
      /names 6 entries .* name one by digest/,
    );
    const amd = tagged.images.find((i) => i.platform.architecture === "amd64")!;
    ok(await m("annotate", "--variant", "v3", list, `${idx}@${amd.digest}`), "annotate by digest");
    const entry = JSON.parse((await m("inspect", "-v", list, `${H}/mc/tags@${amd.digest}`)).stdout);
    assert.deepEqual(entry.Descriptor.platform, {
      architecture: "amd64",
      os: "linux",
      variant: "v3",
    });
    assert.deepEqual(Object.keys(entry), ["Ref", "Descriptor", "Raw", "OCIManifest"]);

    const r = await m("push", list);
    ok(r, "push");
    const { doc: pushed } = await registryManifest(reg, "mc/fromidx", "v1");
    assert.equal(pushed.manifests.length, 6);
    assert.equal(pushed.mediaType, OCI_INDEX, "docker's rule: the first entry is an OCI manifest");
  });
});

Deno.test("manifest store refuses references whose file-safe names collide, naming both", async () => {
  await withWorld(async ({ reg, H, config, repos, m, src }) => {
    // List level: "app:1-x" and "app-1:x" are both "…app-1-x".
    const a = `${H}/team/app:1-x`;
    const b = `${H}/team/app-1:x`;
    ok(await m("create", a, src("linux-amd64")), "create a");
    const collision = new RegExp(
      `^manifest-tool: "${b}" and "${a}" have the same name in the local manifest store \\(".*"\\): remove or rename "${a}" first\n$`,
    );
    for (
      const args of [
        ["create", b, src("linux-s390x")],
        ["create", "--amend", b, src("linux-s390x")],
        ["push", b],
        ["rm", b],
        ["inspect", b],
        ["annotate", "--variant", "v2", b, src("linux-amd64")],
      ]
    ) fails(await m(...args), 1, collision);
    const v = JSON.parse((await m("inspect", "-v", a)).stdout);
    assert.deepEqual(v.map((e: { Ref: string }) => e.Ref), [`${src("linux-amd64")}:latest`]);

    // Entry level: "src-linux-amd64:latest" and "src-linux:amd64-latest" in one list.
    const s390x = repos.images.find((i) => i.repository === "mc/src-linux-s390x")!;
    await copyImage(reg, s390x, "mc/src-linux:amd64-latest");
    const other = `${H}/mc/src-linux:amd64-latest`;
    const list = `${H}/team/entries:v1`;
    fails(
      await m("create", list, src("linux-amd64"), other),
      1,
      /have the same name in the local manifest store/,
    );
    assert.deepEqual([...Deno.readDirSync(`${config}/manifests`)].map((d) => d.name).sort(), [
      safe(a),
    ]);
    ok(await m("create", list, src("linux-amd64")), "create");
    fails(
      await m("create", "--amend", list, other),
      1,
      new RegExp(`"${other}" and "${src("linux-amd64")}:latest" have the same name`),
    );
    fails(
      await m("inspect", list, other),
      1,
      new RegExp(`"${other}" and "${src("linux-amd64")}:latest" have the same name`),
    );
  });
});

Deno.test("manifest annotate and inspect name an entry by its tag when several share a repository", async () => {
  await withWorld(async ({ H, tagged, m }) => {
    const list = `${H}/mc/sametag:v1`;
    const tags = ["linux-amd64", "linux-arm-v7", "linux-s390x"];
    ok(await m("create", list, ...tags.map((t) => `${H}/mc/tags:${t}`)), "create");
    ok(await m("annotate", "--os-features", "f1,f2", list, `${H}/mc/tags:linux-s390x`), "annotate");
    ok(
      await m(
        "annotate",
        "--os-features",
        "f1",
        "--os-features",
        "f3",
        list,
        `${H}/mc/tags:linux-s390x`,
      ),
      "annotate again",
    );
    const v = JSON.parse((await m("inspect", "-v", list)).stdout);
    const byArch = (a: string) =>
      v.find((e: { Descriptor: { platform: { architecture: string } } }) =>
        e.Descriptor.platform.architecture === a
      );
    assert.deepEqual(
      byArch("s390x").Descriptor.platform["os.features"],
      ["f1", "f2", "f3"],
      "added, as docker does",
    );
    assert.equal(byArch("amd64").Descriptor.platform["os.features"], undefined);
    ok(await m("annotate", "--os-features", "", list, `${H}/mc/tags:linux-s390x`), "clear");

    const one = await m("inspect", list, `${H}/mc/tags:linux-arm-v7`);
    ok(one, "inspect entry");
    const want = tagged.images.find((i) => i.tag === "linux-arm-v7")!;
    assert.deepEqual(JSON.parse(one.stdout), JSON.parse(new TextDecoder().decode(want.manifest)));
    assert.ok(
      one.stdout.endsWith("\t]\n}\n"),
      "a stored entry prints compacted then indented, as docker's",
    );
  });
});

Deno.test("manifest create --amend run by several processes at once leaves every entry valid", async () => {
  await withWorld(async ({ H, repos, m, src, files }) => {
    const list = `${H}/mc/conc:v1`;
    const names = [
      "linux-amd64",
      "linux-arm64-v8",
      "linux-arm-v7",
      "linux-ppc64le",
      "linux-s390x",
      "windows-amd64",
    ];
    const results = await Promise.all(names.map((n) => m("create", "--amend", list, src(n))));
    for (const r of results) ok(r, "create --amend");
    const stored = await files(list);
    assert.equal(stored.length, 6);
    for (const f of stored) {
      assert.ok(!f.split("/").pop()!.startsWith("."), `no temporary file: ${f}`);
      const doc = JSON.parse(await Deno.readTextFile(f));
      assert.equal(sha256(fromBase64(doc.Raw)), doc.Descriptor.digest);
    }
    const local = JSON.parse((await m("inspect", list)).stdout);
    assert.deepEqual(
      local.manifests.map((d: { digest: string }) => d.digest).sort(),
      repos.images.map((i) => i.digest).sort(),
    );

    // Without --amend, of several processes creating one list exactly one succeeds.
    const other = `${H}/mc/race:v1`;
    const race = await Promise.all(names.slice(0, 4).map((n) => m("create", other, src(n))));
    assert.equal(race.filter((r) => r.code === 0).length, 1, race.map((r) => r.stderr).join(""));
    for (const r of race.filter((r) => r.code !== 0)) fails(r, 1, /no --amend flag/);
    assert.equal((await files(other)).length, 1);
  });
});

Deno.test("manifest commands name a corrupt store file in one error line (exit 1)", async () => {
  await withWorld(async ({ H, m, src, files }) => {
    const list = `${H}/mc/corrupt:v1`;
    ok(await m("create", list, src("linux-amd64"), src("linux-s390x")), "create");
    const [file] = await files(list);
    await Deno.writeTextFile(file, "{ broken");
    for (
      const args of [
        ["push", list],
        ["inspect", list],
        ["annotate", "--variant", "v2", list, src("linux-amd64")],
        ["create", "--amend", list, src("linux-ppc64le")],
      ]
    ) {
      fails(
        await m(...args),
        1,
        new RegExp(
          `^manifest-tool: Local manifest store file "${
            file.replaceAll(".", "\\.")
          }" is unusable: not JSON\n$`,
        ),
      );
    }
    ok(await m("rm", list), "rm still clears it");
  });
});

Deno.test("manifest create that fails on one source leaves no list behind (docker leaves part of one)", async () => {
  await withWorld(async ({ H, config, m, src }) => {
    const list = `${H}/mc/failed:v1`;
    fails(
      await m("create", list, src("linux-amd64"), `${H}/mc/missing:v1`),
      1,
      new RegExp(`^manifest-tool: no such manifest: ${H}/mc/missing:v1\n$`),
    );
    await assert.rejects(
      Deno.stat(`${config}/manifests/${safe(list)}`),
      Deno.errors.NotFound,
      "no list directory",
    );
    ok(await m("create", list, src("linux-amd64")), "a later create starts afresh");
    fails(await m("create", "--amend", list, `${H}/mc/missing:v1`), 1, /no such manifest/);
    assert.equal(
      JSON.parse((await m("inspect", list)).stdout).manifests.length,
      1,
      "amend changed nothing",
    );
  });
});

Deno.test("manifest rm removes every list it can, then names each missing one on its own line", async () => {
  await withWorld(async ({ H, m, src }) => {
    const a = `${H}/mc/rm-a:v1`;
    const b = `${H}/mc/rm-b:v1`;
    ok(await m("create", a, src("linux-amd64")), "create a");
    ok(await m("create", b, src("linux-amd64")), "create b");
    const r = await m("rm", a, `${H}/mc/never:v1`, b, `${H}/mc/nor:v1`);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `manifest-tool: No such manifest: ${H}/mc/never:v1\nmanifest-tool: No such manifest: ${H}/mc/nor:v1\n`,
    );
    fails(await m("push", b), 1, /No such manifest/);
    fails(await m("inspect", a, src("linux-amd64")), 1, /No such manifest/);
  });
});

Deno.test("manifest commands refuse bad input with exit 2 before touching the store or a registry", async () => {
  const home = await Deno.makeTempDir({ prefix: "mt-manifest-usage-" });
  try {
    const m = (...args: string[]) =>
      runCli(["manifest", ...args], { env: { MANIFEST_TOOL_HOME: home } });
    const R = "127.0.0.1:9";
    const cases: [string[], RegExp][] = [
      [["create", `${R}/a:1`], /'manifest-tool manifest create' requires at least 2 arguments/],
      [["create", `${R}/a@sha256:${"a".repeat(64)}`, `${R}/b`], /must name a tag, not a digest/],
      [
        ["create", `${R}/a:1`, "Bad/Ref"],
        /Cannot parse reference "Bad\/Ref": repository must be lowercase/,
      ],
      [["create", "--frob", `${R}/a:1`, `${R}/b`], /manifest create: unknown flag "--frob"/],
      [["annotate", `${R}/a:1`], /'manifest-tool manifest annotate' requires 2 arguments/],
      [["push", `${R}/a:1`, `${R}/b:1`], /'manifest-tool manifest push' requires 1 argument$/m],
      [["push", "--type", "v1", `${R}/a:1`], /Invalid --type "v1": expected docker or oci/],
      [
        ["inspect"],
        /'manifest-tool manifest inspect' requires at least 1 and at most 2 arguments/,
      ],
      [["rm"], /'manifest-tool manifest rm' requires at least 1 argument$/m],
      [["frob"], /Unknown manifest command "frob": expected create, annotate, push, inspect or rm/],
    ];
    for (const [args, message] of cases) {
      const r = await m(...args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(" "));
    }
    const bare = await m();
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /^Usage: manifest-tool manifest COMMAND/);
    assert.deepEqual([...Deno.readDirSync(home)], [], "nothing written");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("manifest SUBCOMMAND --help shows that subcommand's usage and flags only", async () => {
  const flags: Record<string, string[]> = {
    create: ["--amend", "--insecure"],
    annotate: ["--arch", "--os", "--os-features", "--os-version", "--variant"],
    push: ["--insecure", "--purge", "--type"],
    inspect: ["--insecure", "--verbose"],
    rm: [],
  };
  const group = await runCli(["manifest", "--help"]);
  assert.equal(group.code, 0);
  for (const sub of Object.keys(flags)) assert.match(group.stdout, new RegExp(`^  ${sub} `, "m"));
  for (const [sub, own] of Object.entries(flags)) {
    const r = await runCli(["manifest", sub, "--help"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Usage: manifest-tool manifest ${sub} `));
    for (const f of own) assert.ok(r.stdout.includes(f), `${sub} --help names ${f}`);
    const others = Object.entries(flags).filter(([s]) => s !== sub).flatMap(([, f]) => f)
      .filter((f) => !own.includes(f) && !own.some((o) => o.startsWith(f)));
    for (const f of others) {
      assert.ok(!new RegExp(`${f}\\b(?!-)`).test(r.stdout), `${sub} --help leaves out ${f}`);
    }
    assert.doesNotMatch(r.stdout, /^Commands:/m, `${sub} --help is not the group's`);
  }
});

Deno.test("manifest reaches a loopback TLS registry whose CA is not trusted, as docker does, --insecure after the sub-command too", async () => {
  await using reg = await startRegistry({ tls: true });
  await pushFixtures(reg, { layout: "repos", repository: "tls/src", format: "docker" });
  const home = await Deno.makeTempDir({ prefix: "mt-manifest-tls-" });
  try {
    const m = (...args: string[]) =>
      runCli(["manifest", ...args], { env: { MANIFEST_TOOL_HOME: home } });
    const list = `${reg.host}/tls/list:v1`;
    const sources = [`${reg.host}/tls/src-linux-amd64`, `${reg.host}/tls/src-linux-arm-v7`];
    // docker's default insecure registries are 127.0.0.0/8 and ::1: no --insecure needed there.
    ok(await m("create", list, ...sources), "create");
    ok(await m("rm", list), "rm");
    ok(await m("create", "--insecure", list, ...sources), "create --insecure");
    ok(await m("push", "--insecure", list), "push --insecure");
    ok(await m("rm", list), "rm");
    const r = await m("inspect", "--insecure", list);
    ok(r, "inspect --insecure");
    assert.equal(JSON.parse(r.stdout).manifests.length, 2);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("manifest inspect re-indents a manifest's own bytes: key order, escapes and numbers kept", async () => {
  await withWorld(async ({ reg, H, repos, m }) => {
    const odd = await pushOdd(reg, "mc/src-linux-amd64", repos.images[0].config);
    const raw = await m("inspect", "--insecure", odd);
    ok(raw, "inspect");
    assert.ok(
      raw.stdout.includes('"b": "x<y&z> \\u003c",\n\t\t"10": "n",\n\t\t"2": "m",'),
      raw.stdout,
    );
    assert.ok(raw.stdout.includes('\t"layers": [],\n') && raw.stdout.includes('"x-empty": {}'));
    assert.ok(raw.stdout.includes('"x-num": 1.50E+3,') && raw.stdout.endsWith("}\n\n"));
    const v = await m("inspect", "--insecure", "-v", odd);
    ok(v, "inspect -v");
    assert.ok(v.stdout.includes('"b": "x\\u003cy\\u0026z\\u003e \\u003c",'), v.stdout);
    assert.ok(v.stdout.includes('"u": "a\\u2028b",') && v.stdout.includes('"e": "\\u00e9 \u00e9"'));
    assert.ok(v.stdout.includes('\t\t"x-num": 1.50E+3,') && v.stdout.endsWith("\t}\n}\n"));
    const list = `${H}/mc/odd:v1`;
    ok(await m("create", "--insecure", list, odd), "create");
    const local = await m("inspect", list, odd);
    ok(local, "inspect LIST ENTRY");
    assert.ok(
      local.stdout.includes('"b": "x\\u003cy\\u0026z\\u003e \\u003c"') &&
        local.stdout.endsWith("\n}\n"),
    );
  });
});

/** Runs `fn` when the docker CLI can judge, else says why the test is skipped. */
async function withDocker(fn: () => Promise<void>): Promise<void> {
  if (NO_DOCKER) {
    console.log(`skipped: ${NO_DOCKER}`);
    return;
  }
  await fn();
}

/** The message of each error line, without our program-name prefix. */
const messages = (stderr: string) => stderr.replaceAll(/^manifest-tool: /gm, "").trimEnd();

Deno.test("manifest: the same sequence with docker and with us into two tags of one repository gives the same digest", async () => {
  await withDocker(() =>
    withWorld(async ({ reg, H, config, m, src }) => {
      const theirs = `${H}/mc/same:docker`;
      const ours = `${H}/mc/same:ours`;
      const sources = [
        src("linux-amd64"),
        src("linux-arm64-v8"),
        `${H}/mc/tags:linux-ppc64le`,
        src("windows-amd64"),
      ];
      const d = (...args: string[]) => docker(config, ...args);
      const steps: [string, (list: string) => string[]][] = [
        ["create", (l) => ["create", "--insecure", l, ...sources]],
        ["annotate --variant", (l) => ["annotate", "--variant", "v2", l, src("linux-amd64")]],
      ];
      for (const [what, args] of steps) {
        const dr = await d(...args(theirs));
        const or = await m(...args(ours));
        assert.equal(dr.code, 0, `docker ${what}: ${dr.stderr}`);
        ok(or, what);
        assert.equal(or.stdout, dr.stdout.replaceAll(theirs, ours), what);
        assert.equal(or.stderr, dr.stderr, what);
      }
      // docker's annotate cannot clear a field (measured: `--os-version ""` keeps it), so its
      // list is cleared by ours: the store is shared, and docker then pushes what we wrote.
      const clear = (l: string) => ["annotate", "--os-version", "", l, src("windows-amd64")];
      const kept = await d(...clear(theirs));
      assert.equal(kept.code, 0, kept.stderr);
      assert.match(
        (await d("inspect", theirs)).stdout,
        /"os.version": "10.0.17763.1234"/,
        "docker keeps the field",
      );
      ok(await m(...clear(theirs)), "our annotate clears os.version in docker's list");
      ok(await m(...clear(ours)), "our annotate clears os.version in ours");

      // The store files are docker's, byte for byte (ours add the list's name at the end).
      const dir = (l: string) => `${config}/manifests/${safe(l)}`;
      const names = [...Deno.readDirSync(dir(theirs))].map((e) => e.name).sort();
      assert.deepEqual([...Deno.readDirSync(dir(ours))].map((e) => e.name).sort(), names);
      for (const n of names) {
        const a = await Deno.readTextFile(`${dir(theirs)}/${n}`);
        const b = await Deno.readTextFile(`${dir(ours)}/${n}`);
        assert.equal(
          b.replace(`,"ManifestList":${JSON.stringify(ours)}`, ""),
          a.replace(`,"ManifestList":${JSON.stringify(theirs)}`, ""),
          n,
        );
      }

      const dp = await d("push", "--insecure", theirs);
      const op = await m("push", ours);
      assert.equal(dp.code, 0, dp.stderr);
      ok(op, "push");
      const repo = `${H}/mc/same`;
      assert.equal(op.stdout, dp.stdout, "the same Pushed ref lines and the same digest");
      assert.equal(
        op.stdout.split("\n").filter((l) => l.startsWith(`Pushed ref ${repo}@`)).length,
        4,
      );
      const a = await registryManifest(reg, "mc/same", "docker");
      const b = await registryManifest(reg, "mc/same", "ours");
      assert.equal(sha256(b.bytes), sha256(a.bytes), "the same digest on both tags");
      assert.equal(sha256(a.bytes), dp.stdout.trimEnd().split("\n").at(-1));
      const windows = b.doc.manifests.find((e: { platform: { os: string } }) =>
        e.platform.os === "windows"
      );
      assert.equal(windows.platform["os.version"], undefined, "cleared stays cleared");
      assert.equal(b.doc.manifests[0].platform.variant, "v2");
    })
  );
});

Deno.test("manifest: one manifest under two names, two images of one platform and a kept variant push as docker pushes them", async () => {
  await withWorld(async ({ reg, H, config, m, src, repos }) => {
    const amd64 = repos.images.find((i) =>
      i.platform.architecture === "amd64" &&
      i.platform.os === "linux"
    )!;
    const sources = [
      src("linux-amd64"),
      `${src("linux-amd64")}@${amd64.digest}`,
      `${H}/mc/tags:linux-amd64`,
      src("linux-arm-v7"),
    ];
    // docker keeps the variant an entry has when --arch changes, and pushes arm64/v7.
    const steps = (l: string) => [
      ["create", "--insecure", l, ...sources],
      ["annotate", "--arch", "arm64", l, src("linux-arm-v7")],
    ];
    const ours = `${H}/mc/verbatim:ours`;
    for (const args of steps(ours)) ok(await m(...args), args[0]);
    const op = await m("push", ours);
    ok(op, "push");
    const b = await registryManifest(reg, "mc/verbatim", "ours");
    assert.deepEqual(
      b.doc.manifests.map((e: { platform: { architecture: string; variant?: string } }) =>
        [e.platform.architecture, e.platform.variant ?? ""].join("/")
      ),
      ["amd64/", "amd64/", "arm64/v7", "amd64/"],
      "every stored entry, in the store's (file name) order",
    );
    if (NO_DOCKER) return console.log(`docker side by side skipped: ${NO_DOCKER}`);
    const theirs = `${H}/mc/verbatim:docker`;
    for (const args of steps(theirs)) {
      const r = await docker(config, ...args);
      assert.equal(r.code, 0, `docker ${args[0]}: ${r.stderr}`);
    }
    const dp = await docker(config, "push", "--insecure", theirs);
    assert.equal(dp.code, 0, dp.stderr);
    assert.equal(op.stdout, dp.stdout, "the same Pushed ref lines and the same digest");
    const a = await registryManifest(reg, "mc/verbatim", "docker");
    assert.equal(sha256(b.bytes), sha256(a.bytes));
  });
});

Deno.test("manifest: a list docker made is pushed and removed by us, and the reverse", async () => {
  await withDocker(() =>
    withWorld(async ({ reg, H, config, m, src }) => {
      const d = (...args: string[]) => docker(config, ...args);
      const byDocker = `${H}/mc/cross:docker`;
      const byUs = `${H}/mc/cross:ours`;
      const sources = [src("linux-arm64-v8"), `${H}/mc/tags:linux-s390x`, src("linux-amd64")];
      assert.equal((await d("create", "--insecure", byDocker, ...sources)).code, 0);
      ok(await m("create", byUs, ...sources), "create");
      // Each amends the other's list, then pushes it.
      ok(await m("annotate", "--variant", "v3", byDocker, src("linux-amd64")), "annotate theirs");
      assert.equal((await d("annotate", "--variant", "v3", byUs, src("linux-amd64"))).code, 0);
      assert.equal(
        (await d("inspect", byDocker)).stdout,
        (await m("inspect", byUs)).stdout.replaceAll(byUs, byDocker),
      );
      const op = await m("push", byDocker);
      ok(op, "we push docker's list");
      const dp = await d("push", "--insecure", byUs);
      assert.equal(dp.code, 0, dp.stderr);
      assert.equal(op.stdout, dp.stdout, "same lines, same digest");
      const a = await registryManifest(reg, "mc/cross", "docker");
      const b = await registryManifest(reg, "mc/cross", "ours");
      assert.equal(sha256(a.bytes), sha256(b.bytes));
      assert.equal(a.doc.mediaType, DOCKER_LIST);

      // rm by one removes what the other made.
      ok(await m("rm", byDocker), "we remove docker's list");
      const drm = await d("rm", byUs);
      assert.equal(drm.code, 0, drm.stderr);
      assert.deepEqual([...Deno.readDirSync(`${config}/manifests`)], []);
      const gone = await d("rm", byDocker, byUs);
      const ourGone = await m("rm", byDocker, byUs);
      assert.equal(ourGone.code, gone.code);
      assert.equal(messages(ourGone.stderr), messages(gone.stderr));
    })
  );
});

Deno.test("manifest create, annotate, inspect, push and rm print what docker manifest prints", async () => {
  await withDocker(() =>
    withWorld(async ({ reg, H, config, repos, m, src }) => {
      const ours = `${H}/cmp/ours:v1`;
      const theirs = `${H}/cmp/theirs:v1`;
      const sources = [
        src("linux-amd64"),
        src("linux-arm64-v8"),
        `${H}/mc/tags:linux-ppc64le`,
        src("windows-amd64"),
      ];
      // Each step as docker runs it, then as we do: the same exit code, the same output lines
      // (list names swapped) and the same error messages.
      const both = async (args: (list: string) => string[], what: string) => {
        const d = await docker(config, ...args(theirs));
        const o = await m(...args(ours));
        assert.equal(o.code === 0, d.code === 0, `${what}: ${d.stderr} / ${o.stderr}`);
        const swap = (s: string) => s.replaceAll(`${H}/cmp/theirs`, `${H}/cmp/ours`);
        assert.equal(o.stdout, swap(d.stdout), what);
        assert.equal(messages(o.stderr), messages(swap(d.stderr)), what);
      };
      await both((l) => ["create", "--insecure", l, ...sources], "create");
      await both((l) => ["create", l, src("linux-s390x")], "create without --amend");
      await both(
        (l) => ["annotate", "--variant", "v2", "--os-features", "f1,f2", l, src("linux-amd64")],
        "annotate",
      );
      await both((l) => ["annotate", "--os-features", "f3", l, src("linux-amd64")], "again");
      await both((l) => ["annotate", "--variant", "v7", l, src("linux-arm-v7")], "no entry");
      await both((l) => ["create", "--insecure", "--amend", l, src("linux-s390x")], "amend");
      await both((l) => ["create", "--insecure", "--amend", l, `${H}/mc/nope:v1`], "missing");
      await both((l) => ["inspect", l], "inspect LIST (local)");
      await both((l) => ["inspect", "-v", l], "inspect -v LIST (local)");
      await both((l) => ["inspect", l, src("windows-amd64")], "inspect LIST ENTRY");
      await both((l) => ["inspect", l, src("linux-arm-v7")], "inspect LIST of no ENTRY");
      await both(
        (l) => ["inspect", "-v", l, `${H}/mc/tags:linux-ppc64le`],
        "inspect -v LIST ENTRY (OCI)",
      );
      await both((_) => ["inspect", "--insecure", `${H}/mc/tags:multi`], "inspect INDEX");
      await both((_) => ["inspect", "--insecure", "-v", `${H}/mc/tags:multi`], "-v INDEX");
      await both((_) => ["inspect", "--insecure", src("windows-amd64")], "inspect IMAGE");
      await both((_) => ["inspect", "--insecure", "-v", src("windows-amd64")], "-v IMAGE");
      await both((_) => ["inspect", "--insecure", `${H}/mc/nope:v1`], "inspect missing");
      await both((l) => ["push", "--insecure", l], "push");
      await both((l) => ["push", "--insecure", "--purge", l], "push --purge");
      await both((l) => ["push", "--insecure", l], "push of a purged list");
      await both((l) => ["rm", l], "rm of a purged list");
      for (const flags of [[], ["-v"]]) {
        await both((l) => ["inspect", "--insecure", ...flags, l], `inspect ${flags} pushed`);
      }

      // A manifest a JSON round trip would change prints alike, from the registry and stored.
      const odd = await pushOdd(reg, "mc/src-linux-amd64", repos.images[0].config);
      await both((_) => ["inspect", "--insecure", odd], "inspect of a hand-written manifest");
      await both((_) => ["inspect", "--insecure", "-v", odd], "inspect -v of it");
      await both((l) => ["create", "--insecure", l, odd], "create a list of it");
      await both((l) => ["inspect", l, odd], "inspect LIST ENTRY of it");
      await both((l) => ["inspect", "-v", l, odd], "inspect -v LIST ENTRY of it");
      await both((l) => ["inspect", "-v", l], "inspect -v LIST of it");
      await both((l) => ["push", "--insecure", l], "push of it (an OCI index, as docker)");
      await both((l) => ["rm", l], "rm");
    })
  );
});

Deno.test("manifest push sends the manifest bytes the list stored, as docker: a source whose manifest was deleted since is pushed all the same", async () => {
  await using reg = await startRegistry({ deletes: true });
  const set = await pushFixtures(reg, { repository: "mc/src", format: "docker" });
  const img = set.images.find((i) => i.platform.architecture === "ppc64le")!;
  const config = await Deno.makeTempDir({ prefix: "mt-manifest-stored-" });
  try {
    const m = (...args: string[]) =>
      runCli(["manifest", ...args], { env: { DOCKER_CONFIG: config } });
    const list = `${reg.host}/mc/stored:v1`;
    ok(await m("create", list, `${reg.host}/mc/src:${img.tag}`), "create");
    const del = await fetch(`${reg.url}/v2/mc/src/manifests/${img.digest}`, { method: "DELETE" });
    assert.equal(del.status, 202, await del.text());
    const gone = await fetch(`${reg.url}/v2/mc/src/manifests/${img.digest}`, { method: "HEAD" });
    assert.equal(gone.status, 404, "the source manifest is gone, its blobs stay");
    const r = await m("push", list);
    ok(r, "push");
    assert.match(
      r.stdout,
      new RegExp(`^Pushed ref ${reg.host}/mc/stored@${img.digest} with digest`, "m"),
    );
    const index = await registryManifest(reg, "mc/stored", "v1");
    assert.equal(index.doc.manifests[0].digest, img.digest);
    const child = await fetch(`${reg.url}/v2/mc/stored/manifests/${img.digest}`, {
      method: "HEAD",
    });
    assert.equal(child.status, 200, "the entry's manifest is in the list's repository");
  } finally {
    await Deno.remove(config, { recursive: true });
  }
});
