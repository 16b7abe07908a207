// push from-spec / from-args through the CLI against real registries, read back by skopeo and by
// our own inspect.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { pushFixtures, startRegistry } from "../scripts/harness/mod.ts";
import { runCli } from "./_helpers/cli.ts";

const sha256 = (b: Uint8Array) => "sha256:" + createHash("sha256").update(b).digest("hex");
const HAVE_SKOPEO =
  new Deno.Command("sh", { args: ["-c", "command -v skopeo"] }).outputSync().success;

/** Debug lines of a run that match `re`. */
function requests(stderr: string, re: RegExp): string[] {
  return stderr.split("\n").filter((l) =>
    l.startsWith("debug: ") && / -> \d{3} /.test(l) && re.test(l)
  );
}

/** The index bytes at `ref`, fetched with plain fetch (independent of lib/). */
async function rawManifest(
  url: string,
  repo: string,
  ref: string,
): Promise<{ status: number; bytes: Uint8Array; type: string }> {
  const res = await fetch(`${url}/v2/${repo}/manifests/${ref}`, {
    headers: {
      accept: [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
      ].join(", "),
    },
  });
  return {
    status: res.status,
    bytes: new Uint8Array(await res.arrayBuffer()),
    type: res.headers.get("content-type") ?? "",
  };
}

async function writeSpec(text: string): Promise<string> {
  const f = await Deno.makeTempFile({ prefix: "mt-spec-", suffix: ".yaml" });
  await Deno.writeTextFile(f, text);
  return f;
}

function lastDigest(stdout: string): { digest: string; size: number } {
  const m = /^Digest: (sha256:[0-9a-f]{64}) (\d+)$/m.exec(stdout.trim().split("\n").at(-1) ?? "");
  assert.ok(m, `last line must be "Digest: sha256:<hex> <size>", got: ${stdout}`);
  return { digest: m[1], size: Number(m[2]) };
}

Deno.test("push within one registry", async (t) => {
  await using reg = await startRegistry();
  const H = reg.host;
  const same = await pushFixtures(reg, { format: "docker", repository: "same/app" });
  const repos = await pushFixtures(reg, {
    format: "oci",
    layout: "repos",
    repository: "src/app",
    seed: "r",
  });
  const withIndex = await pushFixtures(reg, {
    format: "oci",
    repository: "multi/app",
    index: { tag: "idx", attestations: true },
    seed: "i",
  });

  await t.step(
    "same-repo from-args with given platforms: N GETs + 1 PUT + T tags, nothing else",
    async () => {
      const r = await runCli([
        "--plain-http",
        "--debug",
        "push",
        "from-args",
        "--platforms",
        "linux/amd64,linux/arm64/v8,linux/arm/v7,linux/ppc64le,linux/s390x",
        "--template",
        `${H}/same/app:OS-ARCH-VARIANT`,
        "--target",
        `${H}/same/app:v1`,
        "--tags",
        "latest,1",
      ]);
      assert.equal(r.code, 1, "the template leaves a trailing '-' for platforms without a variant");
      assert.match(r.stderr, /linux-amd64-/);

      const ok = await runCli([
        "--plain-http",
        "--debug",
        "push",
        "from-args",
        "--platforms",
        "linux/amd64,linux/ppc64le,linux/s390x",
        "--template",
        `${H}/same/app:OS-ARCHVARIANT`,
        "--target",
        `${H}/same/app:v1`,
        "--tags",
        "latest,1",
      ]);
      assert.equal(ok.code, 0, ok.stderr);
      const { digest, size } = lastDigest(ok.stdout);
      const all = requests(ok.stderr, /./);
      assert.equal(requests(ok.stderr, /^debug: GET .*\/manifests\//).length, 3, all.join("\n"));
      assert.equal(requests(ok.stderr, /^debug: PUT .*\/manifests\//).length, 3, all.join("\n"));
      assert.equal(all.length, 6, `N + 1 + T requests, got:\n${all.join("\n")}`);
      for (const tag of ["v1", "latest", "1"]) {
        const m = await rawManifest(reg.url, "same/app", tag);
        assert.equal(sha256(m.bytes), digest, tag);
        assert.equal(m.bytes.length, size);
      }
      const index = JSON.parse(
        new TextDecoder().decode((await rawManifest(reg.url, "same/app", "v1")).bytes),
      );
      assert.equal(index.mediaType, "application/vnd.docker.distribution.manifest.list.v2+json");
      assert.deepEqual(
        index.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture),
        ["amd64", "ppc64le", "s390x"],
      );
      const amd = same.images.find((i) => i.platform.architecture === "amd64")!;
      assert.equal(index.manifests[0].digest, amd.digest);
      assert.equal(index.manifests[0].size, amd.size);
    },
  );

  await t.step(
    "cross-repo from-spec: platforms filled from configs, one mount per blob, all at once",
    async () => {
      const spec = await writeSpec(`image: ${H}/dst/app:1.0
tags: ["1", latest]
annotations:
  org.opencontainers.image.source: https://example.com/app
  note: "a=b=c"
manifests:
${repos.images.map((i) => `  - image: ${H}/${i.repository}:latest`).join("\n")}
`);
      const r = await runCli([
        "--plain-http",
        "--debug",
        "push",
        "--type",
        "oci",
        "from-spec",
        spec,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const { digest } = lastDigest(r.stdout);
      const mounts = requests(r.stderr, /^debug: POST .*mount=/);
      const unique = new Set(
        repos.images.flatMap((i) => [i.config.digest, ...i.layers.map((l) => l.digest)]),
      );
      assert.equal(mounts.length, unique.size, "each unique blob mounted exactly once");
      assert.equal(requests(r.stderr, /^debug: HEAD /).length, 0, "no HEAD before a mount");
      assert.ok(mounts.every((l) => / -> 201 /.test(l)), mounts.join("\n"));
      const m = await rawManifest(reg.url, "dst/app", "latest");
      assert.equal(sha256(m.bytes), digest);
      const index = JSON.parse(new TextDecoder().decode(m.bytes));
      assert.equal(index.mediaType, "application/vnd.oci.image.index.v1+json");
      assert.equal(index.annotations.note, "a=b=c");
      const arm = index.manifests.find((e: { platform: { architecture: string } }) =>
        e.platform.architecture === "arm"
      );
      assert.equal(arm.platform.variant, "v7", "variant filled from the config");
      const win = index.manifests.find((e: { platform: { os: string } }) =>
        e.platform.os === "windows"
      );
      assert.equal(
        win.platform["os.version"],
        "10.0.17763.1234",
        "os.version filled from the config",
      );
      for (const img of repos.images) {
        const child = await rawManifest(reg.url, "dst/app", img.digest);
        assert.equal(child.status, 200, `child ${img.digest} is in the target repo`);
      }

      const again = await runCli(["--plain-http", "push", "--type", "oci", "from-spec", spec]);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(
        lastDigest(again.stdout).digest,
        digest,
        "re-pushing the same spec gives the same digest",
      );
    },
  );

  if (!HAVE_SKOPEO) console.log("skipped: skopeo is not installed (apt-get install -y skopeo)");
  await t.step({
    name: "skopeo reads the pushed index and picks the arm/v7 child",
    ignore: !HAVE_SKOPEO,
    fn: async () => {
      const dir = await Deno.makeTempDir();
      try {
        const out = await new Deno.Command("skopeo", {
          args: [
            "copy",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            "--override-os",
            "linux",
            "--override-arch",
            "arm",
            "--override-variant",
            "v7",
            `docker://${H}/dst/app:1.0`,
            `dir:${dir}/img`,
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
        const manifest = await Deno.readFile(`${dir}/img/manifest.json`);
        const arm = repos.images.find((i) => i.platform.variant === "v7")!;
        assert.equal(sha256(manifest), arm.digest);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });

  await t.step(
    "an index source is flattened with its attestations; our inspect reads it back",
    async () => {
      const spec = await writeSpec(`image: ${H}/flat/app:v1
manifests:
  - image: ${H}/multi/app:idx
`);
      const r = await runCli(["--plain-http", "push", "--type", "oci", "from-spec", spec]);
      assert.equal(r.code, 0, r.stderr);
      const index = JSON.parse(
        new TextDecoder().decode((await rawManifest(reg.url, "flat/app", "v1")).bytes),
      );
      assert.equal(index.manifests.length, 12);
      const att = index.manifests.filter((m: { annotations?: Record<string, string> }) =>
        m.annotations?.["vnd.docker.reference.type"] === "attestation-manifest"
      );
      assert.equal(att.length, 6, "attestations kept with their annotations");
      const ins = await runCli(["--plain-http", "inspect", `${H}/flat/app:v1`]);
      assert.equal(ins.code, 0, ins.stderr);
      assert.match(ins.stdout, /Contains 12 manifest references \(6 images, 6 attestations\)/);

      const docker = await runCli(["--plain-http", "push", "from-spec", spec]);
      assert.equal(docker.code, 0, docker.stderr);
      assert.match(
        docker.stderr,
        /attestation/i,
        "a Docker list warns that attestations are left out",
      );
      const list = JSON.parse(
        new TextDecoder().decode((await rawManifest(reg.url, "flat/app", "v1")).bytes),
      );
      assert.equal(list.manifests.length, 6);
      assert.equal(withIndex.images.length, 6);
    },
  );

  await t.step(
    "two sources with the same platform fail naming both digests, before any write",
    async () => {
      const spec = await writeSpec(`image: ${H}/dup/app:v1
manifests:
  - image: ${H}/src/app-linux-amd64
  - image: ${H}/same/app:linux-amd64
`);
      const r = await runCli(["--plain-http", "push", "from-spec", spec]);
      assert.equal(r.code, 1, "found after reading the registry: not a usage error; " + r.stderr);
      assert.doesNotMatch(r.stderr, /--help/);
      assert.match(r.stderr, /same platform linux\/amd64/);
      assert.ok(
        r.stderr.includes(repos.images[0].digest) && r.stderr.includes(same.images[0].digest),
        r.stderr,
      );
      assert.equal((await rawManifest(reg.url, "dup/app", "v1")).status, 404);
    },
  );

  await t.step(
    "a Docker list naming OCI manifests is pushed with a warning; --type oci has none",
    async () => {
      const spec = await writeSpec(`image: ${H}/mixed/app:v1
manifests:
  - image: ${H}/src/app-linux-amd64
`);
      const docker = await runCli(["--plain-http", "push", "from-spec", spec]);
      assert.equal(docker.code, 0, docker.stderr);
      assert.match(
        docker.stderr,
        /warning: A Docker manifest list naming OCI image manifests: --type oci/,
      );
      const oci = await runCli(["--plain-http", "push", "--type", "oci", "from-spec", spec]);
      assert.equal(oci.code, 0, oci.stderr);
      assert.equal(oci.stderr, "");
      const quiet = await runCli(["--plain-http", "-q", "push", "from-spec", spec]);
      assert.equal(quiet.stderr, "");
    },
  );

  await t.step(
    "one image given for two platforms is two entries; given twice for one platform, one",
    async () => {
      // A platform-neutral image published for several platforms (manifest-tool v2 lists both).
      const spec = await writeSpec(`image: ${H}/noarch/app:v1
manifests:
  - image: ${H}/same/app:linux-amd64
    platform: {os: linux, architecture: amd64}
  - image: ${H}/same/app:linux-amd64
    platform: {os: linux, architecture: "386"}
  - image: ${H}/same/app@${same.images[0].digest}
    platform: {os: linux, architecture: amd64}
`);
      const r = await runCli(["--plain-http", "push", "from-spec", spec]);
      assert.equal(r.code, 0, r.stderr);
      const index = JSON.parse(
        new TextDecoder().decode((await rawManifest(reg.url, "noarch/app", "v1")).bytes),
      );
      assert.deepEqual(
        index.manifests.map((d: { digest: string; platform: { architecture: string } }) => [
          d.digest,
          d.platform.architecture,
        ]),
        [[same.images[0].digest, "amd64"], [same.images[0].digest, "386"]],
      );
      // The same with from-args: a template without OS or ARCH names one image (as v2 takes it).
      const args = await runCli([
        "--plain-http",
        "push",
        "from-args",
        "--platforms",
        "linux/amd64,linux/386",
        "--template",
        `${H}/same/app:linux-amd64`,
        "--target",
        `${H}/noarch/app:v2`,
      ]);
      assert.equal(args.code, 0, args.stderr);
      assert.equal(lastDigest(args.stdout).digest, lastDigest(r.stdout).digest);
    },
  );

  await t.step(
    "a missing source fails with exit 1 and leaves the target tag untouched",
    async () => {
      const before = await rawManifest(reg.url, "same/app", "v1");
      const spec = await writeSpec(`image: ${H}/same/app:v1
manifests:
  - image: ${H}/same/app:linux-s390x
  - image: ${H}/src/app-linux-amd64
  - image: ${H}/nowhere/app:gone
`);
      const r = await runCli(["--plain-http", "push", "from-spec", spec]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /nowhere\/app:gone/);
      assert.match(r.stderr, /MANIFEST_UNKNOWN|NAME_UNKNOWN|not found/);
      assert.equal(r.stderr.trim().split("\n").length, 1, `one line: ${r.stderr}`);
      const after = await rawManifest(reg.url, "same/app", "v1");
      assert.deepEqual(after.bytes, before.bytes);

      const skip = await runCli(["--plain-http", "push", "from-spec", "--ignore-missing", spec]);
      assert.equal(skip.code, 0, skip.stderr);
      assert.match(skip.stderr, /warning: .*nowhere\/app:gone/);
      const index = JSON.parse(
        new TextDecoder().decode((await rawManifest(reg.url, "same/app", "v1")).bytes),
      );
      assert.equal(index.manifests.length, 2);

      const none = await writeSpec(`image: ${H}/none/app:v1
manifests:
  - image: ${H}/nowhere/a:1
  - image: ${H}/nowhere/b:1
`);
      const all = await runCli(["--plain-http", "push", "from-spec", "--ignore-missing", none]);
      assert.notEqual(all.code, 0);
      assert.match(all.stderr, /All entries were skipped/);
      // The warnings come in spec order, whichever read ended first.
      const warned = all.stderr.split("\n").filter((l) => l.startsWith("warning: "));
      assert.equal(warned.length, 2, all.stderr);
      assert.match(warned[0], /nowhere\/a:1/);
      assert.match(warned[1], /nowhere\/b:1/);
    },
  );

  await t.step("--dry-run prints the index and the plan and writes nothing", async () => {
    const spec = await writeSpec(`image: ${H}/dry/app:v1
manifests:
  - image: ${H}/src/app-linux-amd64
    platform: {os: linux, architecture: amd64}
`);
    const r = await runCli([
      "--plain-http",
      "push",
      "--type",
      "oci",
      "from-spec",
      "--dry-run",
      spec,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /mount from .*src\/app-linux-amd64/);
    assert.equal((await rawManifest(reg.url, "dry/app", "v1")).status, 404);
    const json = await runCli([
      "--plain-http",
      "push",
      "--type",
      "oci",
      "from-spec",
      "--dry-run",
      "--json",
      spec,
    ]);
    const doc = JSON.parse(json.stdout);
    assert.equal(doc.dryRun, true);
    assert.equal(doc.index.manifests.length, 1);
  });
});

Deno.test("push across registries streams blobs with bounded memory and skips what is there", async () => {
  await using src = await startRegistry();
  await using dst = await startRegistry();
  const layerBytes = 320 * 1024 * 1024;
  const set = await pushFixtures(src, {
    format: "docker",
    repository: "big/app",
    platforms: [{ os: "linux", architecture: "amd64" }, {
      os: "linux",
      architecture: "arm64",
      variant: "v8",
    }],
    largeLayerBytes: layerBytes,
  });
  const spec = await writeSpec(`image: ${dst.host}/copied/app:v1
manifests:
${set.images.map((i) => `  - image: ${src.host}/${i.repository}:${i.tag}`).join("\n")}
`);
  const entry = Deno.env.get("MANIFEST_TOOL_BUNDLE") ??
    new URL("../cli.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", entry, "--plain-http", "push", "from-spec", "--json", spec],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let peakKiB = 0;
  const poll = setInterval(() => {
    try {
      const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
      peakKiB = Math.max(peakKiB, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
    } catch {
      // exited
    }
  }, 25);
  const out = await child.output();
  clearInterval(poll);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  const result = JSON.parse(new TextDecoder().decode(out.stdout));
  const copied = result.blobs.filter((b: { action: string }) => b.action === "copy");
  assert.ok(
    copied.some((b: { size: number }) => b.size === layerBytes),
    "the large layer was copied",
  );
  if (Deno.build.os === "linux") {
    assert.ok(peakKiB > 0, "RSS was sampled");
    assert.ok(
      peakKiB * 1024 < layerBytes / 2,
      `peak RSS ${peakKiB} KiB for a ${layerBytes}-byte layer`,
    );
  }
  const m = await rawManifest(dst.url, "copied/app", "v1");
  assert.equal(sha256(m.bytes), result.descriptor.digest);
  const big = set.images[0].layers.find((l) => l.size === layerBytes)!;
  const head = await fetch(`${dst.url}/v2/copied/app/blobs/${big.digest}`, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(Number(head.headers.get("content-length")), layerBytes);

  const again = await runCli(["--plain-http", "push", "from-spec", "--json", spec]);
  assert.equal(again.code, 0, again.stderr);
  const second = JSON.parse(again.stdout);
  assert.equal(second.descriptor.digest, result.descriptor.digest);
  assert.ok(
    second.manifests.every((m: { action: string }) => m.action === "present"),
    "children already there",
  );
  assert.equal(second.blobs.length, 0, "nothing copied twice");
});

Deno.test("push to a token-auth registry mounts with one token for every scope", async () => {
  await using reg = await startRegistry({ auth: "token" });
  const set = await pushFixtures(reg, { format: "oci", layout: "repos", repository: "tok/src" });
  const args = ["--plain-http", "--username", reg.username!, "--password", reg.password!];
  const before = reg.tokenServer!.requests;
  const r = await runCli([
    ...args,
    "push",
    "--type",
    "oci",
    "from-args",
    "--platforms",
    set.images.map((i) =>
      [i.platform.os, i.platform.architecture, i.platform.variant].filter(Boolean).join("/")
    ).join(","),
    "--template",
    `${reg.host}/tok/src-OS-ARCH-VARIANT:latest`,
    "--target",
    `${reg.host}/tok/dst:v1`,
  ]);
  // The template yields "...-linux-amd64-" for platforms without a variant: a usage error.
  assert.equal(r.code, 2, r.stderr);
  const spec = await writeSpec(`image: ${reg.host}/tok/dst:v1
manifests:
${set.images.map((i) => `  - image: ${reg.host}/${i.repository}`).join("\n")}
`);
  const ok = await runCli([...args, "push", "--type", "oci", "from-spec", spec]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(reg.tokenServer!.requests - before, 1, "one token serves the whole push");
  assert.ok(!ok.stderr.includes(reg.password!) && !ok.stdout.includes(reg.password!));

  const bad = await runCli([
    "--plain-http",
    "--username",
    reg.username!,
    "--password",
    "nope",
    "push",
    "from-spec",
    spec,
  ]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /401 Unauthorized/);
  assert.ok(!bad.stderr.includes("nope"), "the password is never printed");
});

Deno.test("bad push input fails with exit 2 and one line, before any request", async (t) => {
  // 127.0.0.1:9 (discard) is never a registry: a request would fail with exit 1, not 2.
  const cases: [string, string[], RegExp, string?][] = [
    ["docker type with annotations", [
      "push",
      "from-args",
      "--platforms",
      "linux/amd64",
      "--template",
      "127.0.0.1:9/a:OS-ARCH",
      "--target",
      "127.0.0.1:9/a:v1",
      "--annotations",
      "k=v",
    ], /annotations: use --type oci/],
    ["annotation without =", [
      "push",
      "--type",
      "oci",
      "from-args",
      "--platforms",
      "linux/amd64",
      "--template",
      "127.0.0.1:9/a:OS-ARCH",
      "--target",
      "127.0.0.1:9/a:v1",
      "--annotations",
      "novalue",
    ], /--annotations "novalue"/],
    ["unknown platform", [
      "push",
      "from-args",
      "--platforms",
      "linux/amd46",
      "--template",
      "127.0.0.1:9/a:OS-ARCH",
      "--target",
      "127.0.0.1:9/a:v1",
    ], /Unknown architecture "amd46"/],
    ["bad platform form", [
      "push",
      "from-args",
      "--platforms",
      "linux",
      "--template",
      "127.0.0.1:9/a:OS-ARCH",
      "--target",
      "127.0.0.1:9/a:v1",
    ], /Invalid platform "linux"/],
    ["missing --target", [
      "push",
      "from-args",
      "--platforms",
      "linux/amd64",
      "--template",
      "127.0.0.1:9/a:OS-ARCH",
    ], /--target/],
    [
      "unknown flag",
      ["push", "from-args", "--platfroms", "linux/amd64"],
      /unknown flag "--platfroms"/,
    ],
    ["bad --type", ["push", "--type", "helm", "from-spec", "x.yaml"], /Invalid --type "helm"/],
    ["no mode", ["push"], /needs a mode/],
    [
      "missing spec file",
      ["push", "from-spec", "/nonexistent/spec.yaml"],
      /\/nonexistent\/spec.yaml: cannot read spec/,
    ],
    [
      "yaml unknown key",
      ["push", "from-spec", "SPEC"],
      /SPEC:3:5: unknown key "imgae" in manifests\[0\]/,
      `image: 127.0.0.1:9/a:v1
manifests:
  - imgae: 127.0.0.1:9/a:amd64
`,
    ],
    [
      "yaml syntax",
      ["push", "from-spec", "SPEC"],
      /SPEC:3:1: invalid YAML: Flow map/,
      `image: 127.0.0.1:9/a:v1
manifests: [ {image: x
`,
    ],
    [
      "uppercase target",
      ["push", "from-spec", "SPEC"],
      /Cannot parse reference "127.0.0.1:9\/App:v1": repository must be lowercase/,
      `image: 127.0.0.1:9/App:v1
manifests:
  - image: 127.0.0.1:9/a:amd64
`,
    ],
  ];
  for (const [name, args, re, yaml] of cases) {
    await t.step(name, async () => {
      let file: string | undefined;
      if (yaml !== undefined) file = await writeSpec(yaml);
      const r = await runCli(args.map((a) => a === "SPEC" ? file! : a));
      const err = r.stderr.replaceAll(file ?? "\0", "SPEC");
      assert.equal(r.code, 2, err);
      assert.match(err, re);
      assert.equal(err.trim().split("\n").filter((l) => !l.startsWith("Run '")).length, 1, err);
      assert.ok(!/\n\s+at /.test(err), "no stack trace without --debug");
    });
  }
});
