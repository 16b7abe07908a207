// Many indexes in one run (`push from-spec FILE|DIR …`) and Ctrl-C, through the CLI against real
// harness registries; requests counted by the harness proxy, results read back with plain HTTP
// (and skopeo when installed).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { pushFixtures, startProxy, startRegistry } from "../scripts/harness/mod.ts";
import { runCli } from "./_helpers/cli.ts";

const sha256 = (b: Uint8Array) => "sha256:" + createHash("sha256").update(b).digest("hex");
const HAVE_SKOPEO =
  new Deno.Command("sh", { args: ["-c", "command -v skopeo"] }).outputSync().success;
const ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
].join(", ");

async function raw(url: string, repo: string, ref: string) {
  const res = await fetch(`${url}/v2/${repo}/manifests/${ref}`, { headers: { accept: ACCEPT } });
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) };
}

function spec(target: string, sources: string[]): string {
  return `image: ${target}\nmanifests:\n${sources.map((s) => `  - image: ${s}`).join("\n")}\n`;
}

/** `Digest: sha256:<hex> <size> <target>` lines, in order. */
function digestLines(stdout: string): { digest: string; size: number; target: string }[] {
  return [...stdout.matchAll(/^Digest: (sha256:[0-9a-f]{64}) (\d+) (\S+)$/gm)].map((m) => ({
    digest: m[1],
    size: Number(m[2]),
    target: m[3],
  }));
}

Deno.test("push from-spec with a 3-document file and a directory of 4 specs pushes every index", async () => {
  await using reg = await startRegistry();
  const H = reg.host;
  const set = await pushFixtures(reg, { format: "oci", layout: "repos", repository: "bsrc/app" });
  const src = set.images.map((i) => `${H}/${i.repository}:latest`);
  const dir = await Deno.makeTempDir({ prefix: "mt-batch-" });
  try {
    const file = `${dir}/three.yaml`;
    await Deno.writeTextFile(
      file,
      [
        spec(`${H}/b/one:1`, src.slice(0, 2)),
        spec(`${H}/b/two:1`, src.slice(1, 4)),
        spec(
          `${H}/b/three:1`,
          src.slice(3),
        ),
      ].join("---\n"),
    );
    await Deno.mkdir(`${dir}/more`);
    for (let i = 0; i < 4; i++) {
      await Deno.writeTextFile(
        `${dir}/more/${i}.yaml`,
        spec(`${H}/b/dir${i}:1`, [src[i], src[i + 1]]),
      );
    }
    const r = await runCli([
      "--plain-http",
      "push",
      "--type",
      "oci",
      "from-spec",
      file,
      `${dir}/more`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = digestLines(r.stdout);
    const targets = ["b/one", "b/two", "b/three", "b/dir0", "b/dir1", "b/dir2", "b/dir3"];
    assert.deepEqual(lines.map((l) => l.target), targets.map((t) => `${H}/${t}:1`), "input order");
    assert.match(r.stdout.trim().split("\n").at(-1)!, /^7 pushed, 0 failed$/);
    for (const [i, l] of lines.entries()) {
      const m = await raw(reg.url, targets[i], "1");
      assert.equal(m.status, 200, targets[i]);
      assert.equal(sha256(m.bytes), l.digest);
      assert.equal(m.bytes.byteLength, l.size);
    }
    const two = JSON.parse(new TextDecoder().decode((await raw(reg.url, "b/two", "1")).bytes));
    assert.deepEqual(
      two.manifests.map((m: { digest: string }) => m.digest),
      set.images.slice(1, 4).map((i) => i.digest),
    );
    if (!HAVE_SKOPEO) console.log("skipped the skopeo check: skopeo is not installed");
    else {
      const out = await new Deno.Command("skopeo", {
        args: ["inspect", "--raw", "--tls-verify=false", `docker://${H}/b/dir3:1`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.equal(sha256(out.stdout), lines[6].digest);
    }

    const json = await runCli([
      "--plain-http",
      "push",
      "--type",
      "oci",
      "from-spec",
      "--json",
      file,
    ]);
    assert.equal(json.code, 0, json.stderr);
    const records = JSON.parse(json.stdout);
    assert.equal(records.length, 3);
    assert.deepEqual(Object.keys(records[0]).sort(), [
      "blobs",
      "digest",
      "error",
      "mediaType",
      "size",
      "skipped",
      "status",
      "tags",
      "target",
    ]);
    assert.deepEqual(
      records.map((x: { digest: string }) => x.digest),
      lines.slice(0, 3).map((l) => l.digest),
    );

    const shards = [];
    for (const s of ["1/3", "2/3", "3/3"]) {
      const d = await runCli([
        "--plain-http",
        "push",
        "--type",
        "oci",
        "from-spec",
        "--dry-run",
        "--json",
        "--shard",
        s,
        file,
        `${dir}/more`,
      ]);
      assert.equal(d.code, 0, d.stderr);
      shards.push(...JSON.parse(d.stdout).map((x: { target: string }) => x.target));
    }
    assert.deepEqual(shards.sort(), targets.map((t) => `${H}/${t}:1`).sort(), "each spec once");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("push from-spec with one missing source pushes the other specs and exits 1", async () => {
  await using reg = await startRegistry();
  const H = reg.host;
  const set = await pushFixtures(reg, { format: "docker", repository: "msrc/app" });
  const src = set.images.map((i) => `${H}/${i.repository}:${i.tag}`);
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  try {
    await Deno.writeTextFile(
      file,
      [
        spec(`${H}/m/a:1`, src.slice(0, 2)),
        spec(`${H}/m/b:1`, [src[2], `${H}/nowhere/app:gone`]),
        spec(`${H}/m/c:1`, src.slice(3, 5)),
      ].join("---\n"),
    );
    const r = await runCli(["--plain-http", "push", "from-spec", file]);
    assert.equal(r.code, 1, r.stderr);
    const out = r.stdout.trim().split("\n");
    assert.equal(digestLines(r.stdout).length, 2);
    assert.match(out[1], new RegExp(`^Failed: ${H}/m/b:1: .*nowhere/app:gone`));
    assert.equal(out.at(-1), "2 pushed, 1 failed");
    assert.equal((await raw(reg.url, "m/a", "1")).status, 200);
    assert.equal((await raw(reg.url, "m/b", "1")).status, 404, "the failed spec is not pushed");
    assert.equal((await raw(reg.url, "m/c", "1")).status, 200);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("two specs sharing sources fetch each source manifest once and mount each blob once per target repository", async () => {
  await using reg = await startRegistry();
  const set = await pushFixtures(reg, { format: "oci", layout: "repos", repository: "ssrc/app" });
  await using proxy = await startProxy({ upstream: reg.url });
  const P = proxy.host;
  const src = set.images.slice(0, 4).map((i) => `${P}/${i.repository}:latest`);
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  try {
    await Deno.writeTextFile(
      file,
      [
        spec(`${P}/s/one:1`, src),
        spec(`${P}/s/one:2`, src.slice(1)),
        spec(`${P}/s/two:1`, src),
      ].join("---\n"),
    );
    const r = await runCli(["--plain-http", "push", "--type", "oci", "from-spec", file]);
    assert.equal(r.code, 0, r.stderr);
    for (const s of set.images.slice(0, 4)) {
      const gets = proxy.log.filter((l) =>
        l.method === "GET" && l.path === `/v2/${s.repository}/manifests/latest`
      );
      assert.equal(gets.length, 1, `one GET of ${s.repository}:latest`);
    }
    const mounts = proxy.log.filter((l) => l.method === "POST" && /mount=/.test(l.path));
    const perTarget = new Map<string, number>();
    for (const m of mounts) {
      const key = `${/^\/v2\/(.+)\/blobs\/uploads/.exec(m.path)![1]} ${
        decodeURIComponent(/mount=([^&]+)/.exec(m.path)![1])
      }`;
      perTarget.set(key, (perTarget.get(key) ?? 0) + 1);
    }
    const unique = new Set(
      set.images.slice(0, 4).flatMap((i) => [i.config.digest, ...i.layers.map((l) => l.digest)]),
    );
    assert.equal(
      perTarget.size,
      unique.size * 2,
      "every blob into each of the 2 target repositories",
    );
    assert.ok([...perTarget.values()].every((n) => n === 1), JSON.stringify([...perTarget]));
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("specs copying one source to several repositories of another registry: one copy, then mounts", async () => {
  await using srcReg = await startRegistry();
  await using dst = await startRegistry();
  const set = await pushFixtures(srcReg, {
    format: "oci",
    repository: "far/app",
    platforms: [{ os: "linux", architecture: "amd64" }],
    largeLayerBytes: 4 * 1024 * 1024,
  });
  await using src = await startProxy({ upstream: srcReg.url });
  const image = set.images[0];
  const blobs = [image.config.digest, ...image.layers.map((l) => l.digest)];
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  try {
    const targets = ["a", "b", "c"].map((r) => `${dst.host}/team/${r}:1`);
    await Deno.writeTextFile(
      file,
      targets.map((t) => spec(t, [`${src.host}/far/app:linux-amd64`])).join("---\n"),
    );
    const r = await runCli(["--plain-http", "push", "--type", "oci", "from-spec", "--json", file]);
    assert.equal(r.code, 0, r.stderr);
    // Each layer read from the source once, however many target repositories need it (the config
    // is also read whole, for the platform).
    for (const b of image.layers.map((l) => l.digest)) {
      const gets = src.log.filter((l) => l.method === "GET" && l.path.endsWith(`/blobs/${b}`));
      assert.equal(gets.length, 1, `${b}: ${gets.length} downloads`);
    }
    const records = JSON.parse(r.stdout) as { blobs: { digest: string; action: string }[] }[];
    const actions = records.map((x) => x.blobs.map((b) => b.action).sort().join(","));
    assert.equal(actions.filter((a) => a === blobs.map(() => "copy").join(",")).length, 1);
    assert.equal(actions.filter((a) => a === blobs.map(() => "mount").join(",")).length, 2);
    for (const t of targets) {
      const [repo] = t.slice(dst.host.length + 1).split(":");
      assert.equal((await raw(dst.url, repo, "1")).status, 200, t);
      for (const b of blobs) {
        const head = await fetch(`${dst.url}/v2/${repo}/blobs/${b}`, { method: "HEAD" });
        assert.equal(head.status, 200, `${t} has ${b}`);
      }
    }
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("a target registry that answers those mounts with an error gets copies instead", async () => {
  await using srcReg = await startRegistry();
  await using dstReg = await startRegistry();
  await pushFixtures(srcReg, {
    format: "oci",
    repository: "far/app",
    platforms: [{ os: "linux", architecture: "amd64" }],
  });
  for (const status of [500, 404]) {
    await using dst = await startProxy({
      upstream: dstReg.url,
      intercept: ({ request }) =>
        request.method === "POST" && request.url.includes("mount=")
          ? Response.json({ errors: [{ code: "UNKNOWN", message: "no mounts" }] }, { status })
          : undefined,
    });
    const file = await Deno.makeTempFile({ suffix: ".yaml" });
    try {
      const targets = ["a", "b", "c"].map((r) => `${dst.host}/m${status}/${r}:1`);
      await Deno.writeTextFile(
        file,
        targets.map((t) => spec(t, [`${srcReg.host}/far/app:linux-amd64`])).join("---\n"),
      );
      const r = await runCli(["--plain-http", "push", "--type", "oci", "from-spec", file]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /^3 pushed, 0 failed$/m);
    } finally {
      await Deno.remove(file);
    }
  }
});
