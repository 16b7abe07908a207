// Registry content that is not valid (#13 items 7 and 8) is reported as such: exit 1, one line
// naming the source and the entry, never the usage hint. A proxy in front of a real registry
// serves the crafted documents (a real registry would refuse to store some of them).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startProxy, startRegistry } from "../scripts/harness/mod.ts";
import { runCli } from "./_helpers/cli.ts";

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const sha = (b: Uint8Array) => "sha256:" + createHash("sha256").update(b).digest("hex");
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

Deno.test("push reports hostile registry content with exit 1, naming the source and entry", async (t) => {
  await using reg = await startRegistry();
  const docs = new Map<string, { bytes: Uint8Array; type: string }>();
  const serve = (path: string, bytes: Uint8Array, type: string) => docs.set(path, { bytes, type });
  await using proxy = await startProxy({
    upstream: reg.url,
    intercept: ({ request }) => {
      const doc = docs.get(new URL(request.url).pathname);
      if (!doc || (request.method !== "GET" && request.method !== "HEAD")) return undefined;
      return new Response(request.method === "HEAD" ? null : doc.bytes as Uint8Array<ArrayBuffer>, {
        headers: {
          "content-type": doc.type,
          "docker-content-digest": sha(doc.bytes),
          "content-length": String(doc.bytes.byteLength),
        },
      });
    },
  });
  const P = proxy.host;
  const push = async (source: string) => {
    const spec = await Deno.makeTempFile({ suffix: ".yaml" });
    await Deno.writeTextFile(spec, `image: ${P}/dst/app:1\nmanifests:\n  - image: ${source}\n`);
    try {
      return await runCli(["--plain-http", "push", "--type", "oci", "from-spec", spec]);
    } finally {
      await Deno.remove(spec);
    }
  };
  const assertContentError = (r: { code: number; stderr: string }, ...names: RegExp[]) => {
    assert.equal(r.code, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /--help/);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    for (const re of names) assert.match(r.stderr, re);
  };
  /** Serves `repo:ref` as an OCI image with no layers whose config blob is `cfg`. */
  const serveImage = (repo: string, ref: string, cfg: Uint8Array) => {
    serve(`/v2/${repo}/blobs/${sha(cfg)}`, cfg, "application/octet-stream");
    serve(
      `/v2/${repo}/manifests/${ref}`,
      enc({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: {
          mediaType: "application/vnd.oci.image.config.v1+json",
          digest: sha(cfg),
          size: cfg.length,
        },
        layers: [],
      }),
      OCI_MANIFEST,
    );
  };

  for (
    const [name, digest] of [["uppercase", "sha256:" + "A".repeat(64)], [
      "md5",
      "md5:" + "a".repeat(32),
    ]]
  ) {
    await t.step(`an index entry with an ${name} digest`, async () => {
      serve(
        `/v2/evil/${name}/manifests/1`,
        enc({
          schemaVersion: 2,
          mediaType: OCI_INDEX,
          manifests: [{ mediaType: OCI_MANIFEST, digest, size: 10 }],
        }),
        OCI_INDEX,
      );
      assertContentError(
        await push(`${P}/evil/${name}:1`),
        new RegExp(`evil/${name}:1`),
        /manifests\[0\]/,
      );
    });
  }

  for (
    const [name, config] of [["object-os", { os: {}, architecture: "amd64" }], ["array-arch", {
      os: "linux",
      architecture: ["a"],
    }], ["null", null]] as const
  ) {
    await t.step(`a config that is ${name}`, async () => {
      serveImage("evil/cfg", name, enc(config));
      assertContentError(
        await push(`${P}/evil/cfg:${name}`),
        new RegExp(`evil/cfg:${name}`),
        /config/,
      );
    });
  }

  await t.step("a config naming an unknown architecture", async () => {
    serveImage("evil/arch", "1", enc({ os: "linux", architecture: "amd46" }));
    assertContentError(
      await push(`${P}/evil/arch:1`),
      /evil\/arch:1/,
      /Unknown architecture "amd46"/,
    );
  });

  await t.step(
    "inspect says the same of hostile content: exit 1, naming it, no usage hint",
    async () => {
      for (
        const args of [
          ["inspect", `${P}/evil/uppercase:1`],
          ["inspect", "--raw", `${P}/evil/md5:1`],
          ["inspect", `${P}/evil/cfg:object-os`],
          ["inspect", `${P}/evil/cfg:null`],
        ]
      ) {
        const r = await runCli(["--plain-http", ...args]);
        assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
        assert.doesNotMatch(r.stderr, /--help/, args.join(" "));
        assert.match(r.stderr, /evil\//, args.join(" "));
      }
    },
  );
});
