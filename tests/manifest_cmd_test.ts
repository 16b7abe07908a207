// `manifest-tool manifest create|annotate|push|inspect|rm`, docker manifest's workflow, run as a
// user runs it (one process per command, the store in a temporary MANIFEST_TOOL_HOME) against a
// real registry, and compared with the docker CLI's own output where the docker CLI is installed.
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

/** One registry, its fixtures and a store for a test; everything removed at the end. */
interface World {
  reg: RunningRegistry;
  H: string;
  home: string;
  /** Per-arch images, one repository each (`mc/src-linux-amd64:latest`), Docker media types. */
  repos: FixtureSet;
  /** Per-arch images under tags of `mc/tags`, OCI, and an OCI index of them with attestations. */
  tagged: FixtureSet;
  /** `manifest-tool manifest ...args` in its own process. */
  m(...args: string[]): Promise<CliResult>;
  src(name: string): string;
  /** The list's entry files. */
  files(list: string): Promise<string[]>;
}

async function withWorld(fn: (w: World) => Promise<void>): Promise<void> {
  await using reg = await startRegistry();
  const home = await Deno.makeTempDir({ prefix: "mt-manifest-home-" });
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
      home,
      repos,
      tagged,
      m: (...args) => runCli(["manifest", ...args], { env: { MANIFEST_TOOL_HOME: home } }),
      src: (name) => `${H}/mc/src-${name}`,
      files: async (list) => {
        const dir = `${home}/${list.replaceAll("/", "_").replaceAll(":", "-")}`;
        const names: string[] = [];
        for await (const d of Deno.readDir(dir)) names.push(`${dir}/${d.name}`);
        return names.sort();
      },
    });
  } finally {
    await Deno.remove(home, { recursive: true });
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

Deno.test("manifest create, annotate, push, inspect, rm: docker's workflow from four per-arch images", async (t) => {
  await withWorld(async ({ reg, H, repos, m, src, files }) => {
    const list = `${H}/mc/list:v1`;
    const archs = ["linux-amd64", "linux-arm64-v8", "linux-ppc64le", "linux-s390x"];
    const fixture = (name: string) => repos.images.find((i) => i.repository === `mc/src-${name}`)!;

    await t.step(
      "create reads each source's digest and platform into one file per entry",
      async () => {
        const r = await m("create", "--insecure", list, ...archs.map(src));
        ok(r, "create");
        assert.equal(r.stdout, `Created manifest list ${list}\n`);
        const stored = await Promise.all(
          (await files(list)).map(async (f) => JSON.parse(await Deno.readTextFile(f))),
        );
        assert.equal(stored.length, 4);
        for (const [i, name] of archs.entries()) {
          const want = fixture(name);
          assert.equal(stored[i].ref, `${src(name)}:latest`);
          assert.equal(stored[i].source, `${src(name)}:latest`);
          assert.deepEqual(stored[i].descriptor, {
            mediaType: want.mediaType,
            digest: want.digest,
            size: want.size,
            platform: {
              architecture: want.platform.architecture,
              os: want.platform.os,
              ...want.platform.variant ? { variant: want.platform.variant } : {},
            },
          });
          assert.deepEqual(fromBase64(stored[i].raw), want.manifest);
        }
      },
    );

    await t.step(
      "annotate sets a variant; a bad one or an unknown entry is one clear error",
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
            `^manifest-tool: Manifest list "${list}" has no entry for "${
              src("linux-arm-v7")
            }:latest": it has "${src("linux-amd64")}:latest", `,
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
      "push, in another process, prints only the digest of the list the registry holds",
      async () => {
        const r = await m("push", "--insecure", list);
        ok(r, "push");
        assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
        pushed = r.stdout.trim();
        const { bytes, doc } = await registryManifest(reg, "mc/list", "v1");
        assert.equal(sha256(bytes), pushed);
        assert.equal(doc.mediaType, DOCKER_LIST, "docker's list type by default");
        assert.deepEqual(
          doc.manifests.map((d: { digest: string }) => d.digest),
          archs.map((a) => fixture(a).digest),
        );
        assert.deepEqual(doc.manifests[0].platform, {
          architecture: "amd64",
          os: "linux",
          variant: "v2",
        });
        // Exactly the stored manifests went in, by digest: the children are in the list's repository.
        for (const a of archs) await registryManifest(reg, "mc/list", fixture(a).digest);
        assert.ok((await files(list)).length === 4, "without --purge the local list stays");
      },
    );

    await t.step(
      "rm deletes the local list; inspect then reads the pushed list from the registry",
      async () => {
        ok(await m("rm", list), "rm");
        const r = await m("inspect", "--insecure", list);
        ok(r, "inspect");
        assert.ok(
          r.stdout.startsWith('{\n   "schemaVersion": 2,\n   "mediaType": "'),
          "docker's three-space indentation",
        );
        const doc = JSON.parse(r.stdout);
        assert.deepEqual(
          doc.manifests.map((d: { digest: string }) => d.digest),
          archs.map((a) => fixture(a).digest),
        );
        assert.deepEqual(Object.keys(doc.manifests[1]), [
          "mediaType",
          "size",
          "digest",
          "platform",
        ]);

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
          assert.equal(e.Descriptor.digest, want.digest);
          assert.equal(e.SchemaV2Manifest.config.digest, want.config.digest);
        }
        assert.equal(entries[0].Descriptor.platform.variant, "v2");

        // A single image: its exact bytes re-indented with tabs, white space after them kept.
        const img = await m("inspect", "--insecure", src("linux-s390x"));
        ok(img, "inspect image");
        const want = fixture("linux-s390x");
        assert.deepEqual(
          JSON.parse(img.stdout),
          JSON.parse(new TextDecoder().decode(want.manifest)),
        );
        assert.ok(
          img.stdout.startsWith('{\n\t"schemaVersion": 2,') && img.stdout.endsWith("}\n\n"),
        );
        const imgV = JSON.parse(
          (await m("inspect", "--insecure", "-v", src("linux-s390x"))).stdout,
        );
        assert.equal(imgV.Ref, `${src("linux-s390x")}:latest`);
        assert.deepEqual(imgV.Descriptor.platform, { architecture: "s390x", os: "linux" });
      },
    );

    await t.step("rm of a list that is gone is an error naming it", async () => {
      fails(
        await m("rm", list),
        1,
        new RegExp(`^manifest-tool: No such manifest list "${list}"\n$`),
      );
    });

    await t.step(
      "without HOME a remote inspect still works; a command that needs the store says what to set",
      async () => {
        const homeless = (...args: string[]) =>
          runCli(["manifest", ...args], { env: { HOME: "" } });
        const r = await homeless("inspect", "--insecure", list);
        ok(r, "inspect without HOME");
        assert.equal(JSON.parse(r.stdout).manifests.length, 4);
        fails(
          await homeless("create", list, src("linux-amd64")),
          2,
          /^manifest-tool: Cannot place the local manifest store: set MANIFEST_TOOL_HOME, XDG_DATA_HOME or HOME\n/,
        );
      },
    );
  });
});

Deno.test("manifest create --amend: without it an existing list is refused; with it entries are added and replaced", async () => {
  await withWorld(async ({ H, repos, m, src, files }) => {
    const list = `${H}/mc/amend:v1`;
    const amd = repos.images.find((i) => i.repository === "mc/src-linux-amd64")!;
    ok(await m("create", list, src("linux-amd64")), "create");
    const before = await files(list);

    const again = await m("create", list, src("linux-arm-v7"));
    fails(
      again,
      1,
      new RegExp(`^manifest-tool: Manifest list "${list}" exists already: use --amend`),
    );
    assert.deepEqual(await files(list), before, "the list is untouched");

    ok(await m("create", "--amend", list, src("linux-arm-v7")), "amend");
    let local = JSON.parse((await m("inspect", list)).stdout);
    assert.deepEqual(
      local.manifests.map((d: { platform: { architecture: string } }) => d.platform.architecture),
      ["amd64", "arm"],
    );

    // Amending with a source again replaces its entry (here: the annotation is read afresh).
    ok(await m("annotate", "--variant", "v3", list, src("linux-amd64")), "annotate");
    ok(await m("create", "-a", list, src("linux-amd64")), "amend again");
    local = JSON.parse((await m("inspect", list)).stdout);
    assert.equal(local.manifests.length, 2);
    assert.deepEqual(local.manifests[0].platform, { architecture: "amd64", os: "linux" });

    // The same manifest by digest replaces the entry of that digest: no manifest is listed twice.
    ok(
      await m("create", "--amend", list, `${H}/mc/src-linux-amd64@${amd.digest}`),
      "amend by digest",
    );
    const v = JSON.parse((await m("inspect", "-v", list)).stdout);
    assert.deepEqual(v.map((e: { Ref: string }) => e.Ref).sort(), [
      `${H}/mc/src-linux-amd64@${amd.digest}`,
      `${src("linux-arm-v7")}:latest`,
    ]);
  });
});

Deno.test("manifest push --purge removes the local list only after the push succeeded", async () => {
  await withWorld(async ({ reg, H, m, src }) => {
    // A list whose registry does not answer: the push fails and the list stays.
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
    assert.equal(sha256(bytes), r.stdout.trim());
    assert.equal(doc.mediaType, OCI_INDEX);
    fails(await m("rm", list), 1, /No such manifest list/);
  });
});

Deno.test("manifest create takes an index as its platform entries (docker refuses it)", async () => {
  await withWorld(async ({ reg, H, tagged, m }) => {
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
    const win = v.find((e: { Descriptor: { platform: { os: string } } }) =>
      e.Descriptor.platform.os === "windows"
    );
    assert.equal(win.Descriptor.platform["os.version"], "10.0.17763.1234");

    // The index's reference names six entries: annotate wants one, by digest.
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

    const r = await m("push", "--type", "oci", list);
    ok(r, "push");
    const { doc } = await registryManifest(reg, "mc/fromidx", "v1");
    assert.equal(doc.manifests.length, 6);
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
      assert.ok(
        f.endsWith(".json") && !f.split("/").pop()!.startsWith("."),
        `no temporary file: ${f}`,
      );
      const doc = JSON.parse(await Deno.readTextFile(f));
      assert.equal(sha256(fromBase64(doc.raw)), doc.descriptor.digest);
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
    for (const r of race.filter((r) => r.code !== 0)) fails(r, 1, /exists already: use --amend/);
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
      const args of [["push", list], ["inspect", list], [
        "annotate",
        "--variant",
        "v2",
        list,
        src("linux-amd64"),
      ], ["create", "--amend", list, src("linux-ppc64le")]]
    ) {
      const r = await m(...args);
      fails(
        r,
        1,
        new RegExp(
          `^manifest-tool: Local manifest store file "${
            file.replaceAll(".", "\\.")
          }" is unusable: not JSON\n$`,
        ),
      );
    }
    // rm still clears it.
    ok(await m("rm", list), "rm");
  });
});

Deno.test("manifest create that fails on one source leaves no list behind (docker leaves an empty one)", async () => {
  await withWorld(async ({ H, home, m, src }) => {
    const list = `${H}/mc/failed:v1`;
    fails(
      await m("create", list, src("linux-amd64"), `${H}/mc/missing:v1`),
      1,
      new RegExp(`^manifest-tool: "${H}/mc/missing:v1": GET .*: 404 Not Found: MANIFEST_UNKNOWN`),
    );
    assert.deepEqual([...Deno.readDirSync(home)].filter((d) => !d.name.startsWith(".")), []);
    ok(await m("create", list, src("linux-amd64")), "a later create starts afresh");
    fails(
      await m("create", "--amend", list, `${H}/mc/missing:v1`),
      1,
      /404 Not Found/,
    );
    assert.equal(
      JSON.parse((await m("inspect", list)).stdout).manifests.length,
      1,
      "amend changed nothing",
    );
  });
});

Deno.test("manifest rm removes every list it can, then names the missing ones", async () => {
  await withWorld(async ({ H, m, src }) => {
    const a = `${H}/mc/rm-a:v1`;
    const b = `${H}/mc/rm-b:v1`;
    ok(await m("create", a, src("linux-amd64")), "create a");
    ok(await m("create", b, src("linux-amd64")), "create b");
    const r = await m("rm", a, `${H}/mc/never:v1`, b, `${H}/mc/nor:v1`);
    fails(
      r,
      1,
      new RegExp(`^manifest-tool: No such manifest lists "${H}/mc/never:v1", "${H}/mc/nor:v1"\n$`),
    );
    fails(await m("inspect", a, src("linux-amd64")), 1, /No such manifest list/);
    fails(await m("push", b), 1, /No such manifest list/);
  });
});

Deno.test("manifest commands refuse bad input with exit 2 before touching the store or a registry", async () => {
  const home = await Deno.makeTempDir({ prefix: "mt-manifest-usage-" });
  try {
    const m = (...args: string[]) =>
      runCli(["manifest", ...args], { env: { MANIFEST_TOOL_HOME: home } });
    const R = "127.0.0.1:9";
    const cases: [string[], RegExp][] = [
      [["create", `${R}/a:1`], /manifest create takes a list and at least one source/],
      [["create", `${R}/a@sha256:${"a".repeat(64)}`, `${R}/b`], /must name a tag, not a digest/],
      [
        ["create", `${R}/a:1`, "Bad/Ref"],
        /Cannot parse reference "Bad\/Ref": repository must be lowercase/,
      ],
      [["create", "--frob", `${R}/a:1`, `${R}/b`], /manifest create: unknown flag "--frob"/],
      [["annotate", `${R}/a:1`], /manifest annotate takes a list and one of its sources/],
      [["push", `${R}/a:1`, `${R}/b:1`], /manifest push takes one list/],
      [["push", "--type", "v1", `${R}/a:1`], /Invalid --type "v1": expected docker or oci/],
      [["inspect"], /manifest inspect takes \[LIST\] MANIFEST/],
      [["rm"], /manifest rm takes at least one list/],
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
    const help = await m("--help");
    assert.equal(help.code, 0);
    for (
      const flag of [
        "--amend",
        "--insecure",
        "--os",
        "--arch",
        "--variant",
        "--os-version",
        "--os-features",
        "--purge",
        "--type",
        "--verbose",
      ]
    ) {
      assert.ok(help.stdout.includes(flag), `help names ${flag}`);
    }
    assert.deepEqual([...Deno.readDirSync(home)], [], "nothing written");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("manifest --insecure after the sub-command reaches a TLS registry whose CA is not trusted", async () => {
  await using reg = await startRegistry({ tls: true });
  await pushFixtures(reg, { layout: "repos", repository: "tls/src", format: "docker" });
  const home = await Deno.makeTempDir({ prefix: "mt-manifest-tls-" });
  try {
    const m = (...args: string[]) =>
      runCli(["manifest", ...args], { env: { MANIFEST_TOOL_HOME: home } });
    const list = `${reg.host}/tls/list:v1`;
    const sources = [`${reg.host}/tls/src-linux-amd64`, `${reg.host}/tls/src-linux-arm-v7`];
    fails(
      await m("create", list, ...sources),
      1,
      /is not trusted: use --ca-file, .* or --insecure\n$/,
    );
    ok(await m("create", "--insecure", list, ...sources), "create --insecure");
    const pushed = await m("push", "--insecure", list);
    ok(pushed, "push --insecure");
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
    // Go's json.Indent: tokens as written, white space after the document kept.
    assert.ok(
      raw.stdout.includes('"b": "x<y&z> \\u003c",\n\t\t"10": "n",\n\t\t"2": "m",'),
      raw.stdout,
    );
    assert.ok(raw.stdout.includes('\t"layers": [],\n') && raw.stdout.includes('"x-empty": {}'));
    assert.ok(raw.stdout.includes('"x-num": 1.50E+3,') && raw.stdout.endsWith("}\n\n"));
    // -v: the manifest as encoding/json re-encodes a Marshaler's output: compacted, HTML-escaped.
    const v = await m("inspect", "--insecure", "-v", odd);
    ok(v, "inspect -v");
    assert.ok(v.stdout.includes('"b": "x\\u003cy\\u0026z\\u003e \\u003c",'), v.stdout);
    assert.ok(v.stdout.includes('"u": "a\\u2028b",') && v.stdout.includes('"e": "\\u00e9 \u00e9"'));
    assert.ok(v.stdout.includes('\t\t"x-num": 1.50E+3,') && v.stdout.endsWith("\t}\n}\n"));
    // A stored entry prints as docker stored it: compacted and escaped, then indented.
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

/** `docker manifest ...args` with its own config directory, or why it cannot run here. */
async function docker(config: string, ...args: string[]): Promise<CliResult | string> {
  try {
    const out = await new Deno.Command("docker", {
      args: ["manifest", ...args],
      env: { DOCKER_CONFIG: config },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } catch (e) {
    return `the docker CLI cannot run here (${(e as Error).message})`;
  }
}

Deno.test("manifest create, annotate, inspect and push print what docker manifest prints", async () => {
  const config = await Deno.makeTempDir({ prefix: "mt-docker-config-" });
  try {
    const probe = await docker(config, "--help");
    if (typeof probe === "string" || probe.code !== 0) {
      console.log(
        `skipped: ${
          typeof probe === "string"
            ? probe
            : `docker manifest --help failed: ${probe.stderr.trim()}`
        }`,
      );
      return;
    }
    await withWorld(async ({ reg, H, repos, m, src }) => {
      const ours = `${H}/cmp/ours:v1`;
      const theirs = `${H}/cmp/theirs:v1`;
      const sources = [
        src("linux-amd64"),
        src("linux-arm64-v8"),
        `${H}/mc/tags:linux-ppc64le`,
        src("windows-amd64"),
      ];
      // Each step as docker runs it, then as we do; outputs compared with the list name swapped.
      const both = async (args: (list: string) => string[], what: string) => {
        const d = await docker(config, ...args(theirs)) as CliResult;
        const o = await m(...args(ours));
        if (d.code !== 0) {
          console.log(`skipped: docker manifest ${what} failed here: ${d.stderr.trim()}`);
          return false;
        }
        ok(o, what);
        assert.equal(o.stdout, d.stdout.replaceAll(theirs, ours), what);
        return true;
      };
      if (!await both((l) => ["create", "--insecure", l, ...sources], "create")) return;
      const refused = await docker(config, "create", theirs, src("linux-s390x")) as CliResult;
      const ourRefusal = await m("create", ours, src("linux-s390x"));
      assert.equal(ourRefusal.code, refused.code, "both refuse to amend without --amend");
      await both(
        (l) => ["annotate", "--variant", "v2", "--os-features", "f1,f2", l, src("linux-amd64")],
        "annotate",
      );
      await both(
        (l) => ["annotate", "--os-features", "f3", l, src("linux-amd64")],
        "annotate again",
      );
      await both(
        (l) => ["create", "--insecure", "--amend", l, src("linux-s390x")],
        "create --amend",
      );
      await both((l) => ["inspect", l], "inspect LIST (local)");
      await both((l) => ["inspect", "-v", l], "inspect -v LIST (local)");
      await both((l) => ["inspect", l, src("windows-amd64")], "inspect LIST ENTRY");
      await both(
        (l) => ["inspect", "-v", l, `${H}/mc/tags:linux-ppc64le`],
        "inspect -v LIST ENTRY (OCI)",
      );
      await both((_) => ["inspect", "--insecure", `${H}/mc/tags:multi`], "inspect INDEX (remote)");
      await both(
        (_) => ["inspect", "--insecure", "-v", `${H}/mc/tags:multi`],
        "inspect -v INDEX (remote)",
      );
      await both((_) => ["inspect", "--insecure", src("windows-amd64")], "inspect IMAGE (remote)");
      await both(
        (_) => ["inspect", "--insecure", "-v", src("windows-amd64")],
        "inspect -v IMAGE (remote)",
      );

      // Push: docker prints "Pushed ref" lines, then the digest; we print the digest alone.
      const d = await docker(config, "push", "--insecure", "--purge", theirs) as CliResult;
      const o = await m("push", "--insecure", "--purge", ours);
      ok(o, "push");
      assert.equal(d.code, 0, d.stderr);
      assert.equal(o.stdout.trim(), o.stdout.trim().split("\n").pop());
      assert.match(d.stdout.trim().split("\n").pop()!, /^sha256:[0-9a-f]{64}$/);
      // The pushed lists, read back from the registry, print alike.
      for (const flags of [[], ["-v"]]) {
        const dl = await docker(config, "inspect", "--insecure", ...flags, ours) as CliResult;
        const ol = await m("inspect", "--insecure", ...flags, ours);
        ok(ol, `inspect ${flags.join(" ")} of our pushed list`);
        assert.equal(
          ol.stdout,
          dl.stdout,
          `docker and we print our pushed list alike (${flags.join(" ")})`,
        );
        const dt = await docker(config, "inspect", "--insecure", ...flags, theirs) as CliResult;
        const ot = await m("inspect", "--insecure", ...flags, theirs);
        assert.equal(
          ot.stdout,
          dt.stdout,
          `docker and we print docker's pushed list alike (${flags.join(" ")})`,
        );
      }
      // Same entries, same platforms: the two lists differ only in their JSON spacing.
      const a = JSON.parse((await m("inspect", "--insecure", ours)).stdout);
      const b = JSON.parse((await m("inspect", "--insecure", theirs)).stdout);
      assert.deepEqual(a, b);

      // A manifest a JSON round trip would change prints alike, from the registry and stored.
      const odd = await pushOdd(reg, "mc/src-linux-amd64", repos.images[0].config);
      await both((_) => ["inspect", "--insecure", odd], "inspect of a hand-written manifest");
      await both((_) => ["inspect", "--insecure", "-v", odd], "inspect -v of it");
      if (await both((l) => ["create", "--insecure", l, odd], "create a list of it")) {
        await both((l) => ["inspect", l, odd], "inspect LIST ENTRY of it");
        await both((l) => ["inspect", "-v", l, odd], "inspect -v LIST ENTRY of it");
        await both((l) => ["inspect", "-v", l], "inspect -v LIST of it");
        await both((l) => ["rm", l], "rm");
      }
    });
  } finally {
    await Deno.remove(config, { recursive: true });
  }
});
