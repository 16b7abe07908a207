// Unit tests of the write engine's stages on an in-memory registry (tests/_helpers/fake_registry.ts):
// what is read once, what is isolated, what is refused. Integration on real registries is in
// tests/push_test.ts and tests/push_batch_test.ts.
import assert from "node:assert/strict";
import {
  ConflictError,
  InterruptedError,
  NotFoundError,
  SpecError,
  UsageError,
} from "../lib/errors.ts";
import { ManifestFormatError, serializeIndex } from "../lib/manifest.ts";
import { parseImageConfig } from "../lib/image_config.ts";
import { planPush, pushIndex, pushIndexes, type PushSpec, resolveSources } from "../lib/push.ts";
import { FakeRegistries } from "./_helpers/fake_registry.ts";

const R = "reg.test";
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

function world(): FakeRegistries {
  const f = new FakeRegistries();
  f.image(`${R}/src/a`, "amd64", { os: "linux", architecture: "amd64" });
  f.image(`${R}/src/a`, "arm64", { os: "linux", architecture: "arm64", variant: "v8" });
  f.image(`${R}/src/b`, "s390x", { os: "linux", architecture: "s390x" });
  return f;
}

Deno.test("pushIndexes() fetches each repeated identical source once per run", async () => {
  const f = world();
  const sources = [`${R}/src/a:amd64`, `${R}/src/a:arm64`];
  const specs: PushSpec[] = Array.from({ length: 5 }, (_, i) => ({
    image: `${R}/dst/app${i}:v1`,
    manifests: sources.map((image) => ({ image })),
  }));
  // One spec at a time: the document is kept until the last spec naming it is done.
  const outcomes = await pushIndexes(f.client(), specs, { format: "oci", specConcurrency: 1 });
  assert.deepEqual(outcomes.map((o) => o.status), Array(5).fill("pushed"));
  assert.equal(f.count(/^getManifest reg.test\/src\/a amd64$/), 1);
  assert.equal(f.count(/^getManifest reg.test\/src\/a arm64$/), 1);
  assert.equal(f.count(/^getManifest .* sha256:/), 0, "children by digest come from the cache");
  assert.equal(f.count(/^fetchBlobBytes /), 2, "one config read per source image");
  // Each target repository mounts each blob once: 2 configs + 1 shared layer, 5 targets.
  assert.equal(f.count(/^mountBlob /), 3 * 5);
});

Deno.test("pushIndexes() mounts a blob shared by two specs once per target repository", async () => {
  const f = world();
  const spec = (tag: string, image: string): PushSpec => ({
    image: `${R}/dst/one:${tag}`,
    manifests: [{ image }],
  });
  const outcomes = await pushIndexes(f.client(), [
    spec("a", `${R}/src/a:amd64`),
    spec("b", `${R}/src/b:s390x`),
  ]);
  assert.deepEqual(outcomes.map((o) => o.status), ["pushed", "pushed"]);
  const layer = outcomes[0].result!.blobs.find((b) => b.mediaType.endsWith("tar"))!;
  assert.equal(f.count(new RegExp(`^mountBlob reg.test/dst/one ${layer.digest}$`)), 1);
});

Deno.test("pushIndexes() isolates a failed spec: the others are pushed, its tag is not written", async () => {
  const f = world();
  const seen: string[] = [];
  const outcomes = await pushIndexes(f.client(), [
    { image: `${R}/dst/x:1`, manifests: [{ image: `${R}/src/a:amd64` }] },
    { image: `${R}/dst/y:1`, manifests: [{ image: `${R}/src/gone:1` }] },
    { image: `${R}/dst/z:1`, manifests: [{ image: `${R}/src/b:s390x` }] },
  ], { onOutcome: (o) => seen.push(`${o.position}:${o.status}`) });
  assert.deepEqual(seen, ["0:pushed", "1:failed", "2:pushed"], "reported in input order");
  assert.ok(outcomes[1].error instanceof NotFoundError, String(outcomes[1].error));
  assert.match(outcomes[1].error!.message, /src\/gone:1/);
  assert.equal(f.count(/^putManifest reg.test\/dst\/y /), 0, "nothing of the failed spec tagged");
});

Deno.test("pushIndexes() with failFast starts no spec after the first failure", async () => {
  const f = world();
  const outcomes = await pushIndexes(f.client(), [
    { image: `${R}/dst/y:1`, manifests: [{ image: `${R}/src/gone:1` }] },
    { image: `${R}/dst/z:1`, manifests: [{ image: `${R}/src/b:s390x` }] },
  ], { failFast: true, specConcurrency: 1 });
  assert.deepEqual(outcomes.map((o) => o.status), ["failed", "skipped"]);
  assert.equal(f.count(/dst\/z/), 0);
});

Deno.test("pushIndex() refuses two images with the same platform with a ConflictError", async () => {
  const f = world();
  f.image(`${R}/src/c`, "amd64", { os: "linux", architecture: "amd64", author: "other" });
  await assert.rejects(
    pushIndex(f.client(), {
      image: `${R}/dst/dup:1`,
      manifests: [{ image: `${R}/src/a:amd64` }, { image: `${R}/src/c:amd64` }],
    }),
    (e) => e instanceof ConflictError && /same platform linux\/amd64/.test(e.message),
  );
  assert.equal(f.count(/^putManifest/), 0);
});

Deno.test("pushIndex() reports a config with a non-string os as registry content naming the image", async () => {
  const f = world();
  for (
    const [tag, config] of [["obj", { os: {}, architecture: "amd64" }], ["arr", {
      os: "linux",
      architecture: ["a"],
    }]] as const
  ) {
    f.image(`${R}/src/bad`, tag, config);
    await assert.rejects(
      pushIndex(f.client(), {
        image: `${R}/dst/bad:1`,
        manifests: [{ image: `${R}/src/bad:${tag}` }],
      }),
      (e) =>
        e instanceof ManifestFormatError && !(e instanceof UsageError) &&
        e.message.includes(`${R}/src/bad:${tag}`) && /not a string/.test(e.message),
    );
  }
  const nul = f.blob(`${R}/src/bad`, enc(null), "application/vnd.oci.image.config.v1+json");
  f.manifest(
    `${R}/src/bad`,
    "null",
    enc({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: nul,
      layers: [],
    }),
  );
  await assert.rejects(
    pushIndex(f.client(), { image: `${R}/dst/bad:1`, manifests: [{ image: `${R}/src/bad:null` }] }),
    (e) => e instanceof ManifestFormatError && /not a JSON object/.test(e.message),
  );
});

Deno.test("pushIndex() reports an index entry with an invalid digest as registry content", async () => {
  const f = world();
  for (const digest of ["sha256:" + "A".repeat(64), "md5:" + "a".repeat(32)]) {
    f.manifest(
      `${R}/src/idx`,
      "1",
      enc({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest, size: 10 }],
      }),
    );
    await assert.rejects(
      pushIndex(f.client(), { image: `${R}/dst/i:1`, manifests: [{ image: `${R}/src/idx:1` }] }),
      (e) =>
        e instanceof ManifestFormatError && !(e instanceof UsageError) &&
        e.message.includes(`${R}/src/idx:1`) && e.message.includes("manifests[0]"),
    );
  }
});

Deno.test("pushIndex() keeps an exactPlatform as given and never reads the config", async () => {
  const f = world();
  const r = await pushIndex(f.client(), {
    image: `${R}/dst/exact:1`,
    manifests: [{
      image: `${R}/src/a:arm64`,
      platform: { os: "linux", architecture: "arm64" },
      exactPlatform: true,
    }],
  });
  assert.deepEqual(r.index.manifests[0].platform, { os: "linux", architecture: "arm64" });
  assert.equal(f.count(/^fetchBlobBytes/), 0);
});

Deno.test("pushIndex() encodes the index with encodeIndex", async () => {
  const f = world();
  const indent = (i: Parameters<typeof serializeIndex>[0]) =>
    new TextEncoder().encode(
      JSON.stringify(JSON.parse(new TextDecoder().decode(serializeIndex(i))), null, 3),
    );
  const r = await pushIndex(f.client(), {
    image: `${R}/dst/enc:1`,
    manifests: [{ image: `${R}/src/a:amd64` }],
  }, { encodeIndex: indent });
  assert.match(new TextDecoder().decode(r.bytes), /^\{\n {3}"schemaVersion": 2/);
  assert.deepEqual(f.manifests.get(`${R}/dst/enc@1`), r.bytes);
});

Deno.test("pushIndexes() aborted before its commit writes no tag and throws InterruptedError", async () => {
  const f = world();
  const ac = new AbortController();
  f.fault = (call) => {
    if (call.startsWith("mountBlob")) ac.abort(new DOMException("Interrupted", "AbortError"));
  };
  await assert.rejects(
    pushIndexes(f.client(), [{
      image: `${R}/dst/ab:1`,
      manifests: [{ image: `${R}/src/a:amd64` }],
    }], {
      signal: ac.signal,
    }),
    (e) => e instanceof InterruptedError && e.committed.length === 0,
  );
  assert.equal(f.count(/^putManifest reg.test\/dst\/ab 1$/), 0);
});

Deno.test("planPush() refuses two specs owning one tag, before any request", () => {
  assert.throws(
    () =>
      planPush([
        { image: `${R}/dst/a:1`, tags: ["latest"], manifests: [{ image: `${R}/s:1` }] },
        { image: `${R}/dst/a:latest`, manifests: [{ image: `${R}/s:2` }] },
      ]),
    (e) => e instanceof UsageError && !(e instanceof SpecError) && /both push/.test(e.message),
  );
});

Deno.test("planPush() needs os and architecture for an exact platform", () => {
  assert.throws(
    () =>
      planPush([{
        image: `${R}/dst/a:1`,
        manifests: [{ image: `${R}/s:1`, platform: { os: "linux" }, exactPlatform: true }],
      }]),
    /needs both os and architecture/,
  );
});

Deno.test("parseImageConfig() treats null fields as absent and rejects other non-strings", () => {
  const c = parseImageConfig(enc({ os: "linux", architecture: "amd64", variant: null }), "x");
  assert.equal(c.variant, undefined);
  assert.throws(() => parseImageConfig(enc({ "os.features": "x" }), "x"), /os.features/);
  assert.throws(() => parseImageConfig(enc([1]), "x"), /not a JSON object/);
});

Deno.test("resolveSources() flattens an index source into its images, attestations apart", async () => {
  const f = world();
  const amd = f.image(`${R}/src/a`, "amd64", { os: "linux", architecture: "amd64" });
  const arm = f.image(`${R}/src/a`, "arm64", { os: "linux", architecture: "arm64", variant: "v8" });
  const att = f.image(`${R}/src/a`, "att", { os: "unknown", architecture: "unknown" });
  f.manifest(
    `${R}/src/a`,
    "idx",
    enc({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        { ...amd, platform: { os: "linux", architecture: "amd64" } },
        { ...arm },
        {
          ...att,
          platform: { os: "unknown", architecture: "unknown" },
          annotations: {
            "vnd.docker.reference.type": "attestation-manifest",
            "vnd.docker.reference.digest": amd.digest,
          },
        },
      ],
    }),
  );
  const r = await resolveSources(f.client(), [{ image: `${R}/src/a:idx` }]);
  assert.deepEqual(r.images.map((e) => e.descriptor.platform), [
    { os: "linux", architecture: "amd64" },
    { os: "linux", architecture: "arm64", variant: "v8" },
  ]);
  assert.deepEqual(r.attestations.map((e) => e.descriptor.digest), [att.digest]);
  assert.equal(r.images[0].repository, `${R}/src/a`);
});

Deno.test("resolveSources() keeps an image whose config names no platform only when asked, with its manifest", async () => {
  const f = world();
  const img = f.image(`${R}/src/c`, "none", { variant: "v7" });
  const sources = [{ image: `${R}/src/c:none` }];
  await assert.rejects(resolveSources(f.client(), sources), ManifestFormatError);
  const r = await resolveSources(f.client(), sources, {
    keepUnknownPlatform: true,
    manifests: true,
  });
  assert.deepEqual(r.images[0].descriptor.platform, { os: "", architecture: "", variant: "v7" });
  assert.equal(r.images[0].index, undefined, "an image source is listed by no index");
  assert.equal(r.images[0].manifest?.descriptor.digest, img.digest);
  assert.equal(f.count(/^getManifest reg.test\/src\/c /), 2, "one read per call, bytes included");
});
