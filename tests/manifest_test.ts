import assert from "node:assert/strict";
import {
  type Descriptor,
  type Index,
  isAttestation,
  ManifestFormatError,
  parseManifest,
  REFERENCE_DIGEST_ANNOTATION,
  REFERENCE_TYPE_ANNOTATION,
  serializeIndex,
} from "../lib/manifest.ts";
import {
  DOCKER_CONFIG,
  DOCKER_LAYER_GZIP,
  DOCKER_LIST,
  DOCKER_MANIFEST,
  DOCKER_SCHEMA1_SIGNED,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYER_GZIP,
  OCI_MANIFEST,
} from "../lib/media_types.ts";
import { digestOf } from "../lib/digest.ts";

const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
const D1 = digestOf(enc("one"));
const D2 = digestOf(enc("two"));

const config: Descriptor = { mediaType: OCI_CONFIG, digest: D1, size: 100 };
const layer: Descriptor = { mediaType: OCI_LAYER_GZIP, digest: D2, size: 2000 };
const amd64: Descriptor = {
  mediaType: OCI_MANIFEST,
  digest: D1,
  size: 500,
  platform: { architecture: "amd64", os: "linux" },
};
const attestation: Descriptor = {
  mediaType: OCI_MANIFEST,
  digest: D2,
  size: 800,
  platform: { architecture: "unknown", os: "unknown" },
  annotations: {
    [REFERENCE_TYPE_ANNOTATION]: "attestation-manifest",
    [REFERENCE_DIGEST_ANNOTATION]: D1,
  },
};

Deno.test("parseManifest() reads OCI and Docker indexes and image manifests", () => {
  const cases: [string, unknown, "index" | "image", string][] = [
    [
      "OCI index",
      { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [amd64, attestation] },
      "index",
      OCI_INDEX,
    ],
    [
      "Docker manifest list",
      {
        schemaVersion: 2,
        mediaType: DOCKER_LIST,
        manifests: [{ ...amd64, mediaType: DOCKER_MANIFEST }],
      },
      "index",
      DOCKER_LIST,
    ],
    [
      "OCI image manifest",
      { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer] },
      "image",
      OCI_MANIFEST,
    ],
    [
      "Docker image manifest",
      {
        schemaVersion: 2,
        mediaType: DOCKER_MANIFEST,
        config: { ...config, mediaType: DOCKER_CONFIG },
        layers: [{ ...layer, mediaType: DOCKER_LAYER_GZIP, urls: ["https://x/l"] }],
      },
      "image",
      DOCKER_MANIFEST,
    ],
    [
      "OCI 1.1 artifact with subject and empty layers",
      {
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: "application/vnd.example+json",
        config,
        layers: [],
        subject: amd64,
        annotations: { "org.opencontainers.image.created": "2024-01-01T00:00:00Z" },
      },
      "image",
      OCI_MANIFEST,
    ],
  ];
  for (const [why, doc, kind, mediaType] of cases) {
    const m = parseManifest(enc(doc));
    assert.equal(m.kind, kind, why);
    assert.equal(m.mediaType, mediaType, why);
    assert.deepEqual(m.kind === "index" ? m.index : m.manifest, doc, why);
  }
});

Deno.test("parseManifest() takes the media type from the document, else the header, else the shape", () => {
  const index = { schemaVersion: 2, manifests: [amd64] };
  const image = { schemaVersion: 2, config, layers: [layer] };
  const cases: [string, unknown, string | undefined, string][] = [
    ["field wins over header", { ...index, mediaType: DOCKER_LIST }, OCI_INDEX, DOCKER_LIST],
    ["header when no field", index, DOCKER_LIST, DOCKER_LIST],
    ["header with parameters", image, `${DOCKER_MANIFEST}; charset=utf-8`, DOCKER_MANIFEST],
    ["shape: manifests is an OCI index", index, undefined, OCI_INDEX],
    ["shape: config is an OCI manifest", image, undefined, OCI_MANIFEST],
    ["shape when the header is generic", index, "application/json", OCI_INDEX],
    ["shape when the header is octet-stream", image, "application/octet-stream", OCI_MANIFEST],
  ];
  for (const [why, doc, header, want] of cases) {
    assert.equal(parseManifest(enc(doc), header).mediaType, want, why);
  }
});

Deno.test("parseManifest() rejects what is not a manifest, naming what was read", () => {
  const raw = (s: string) => new TextEncoder().encode(s);
  const cases: [string, Uint8Array, string | undefined, RegExp][] = [
    ["not JSON", raw("{"), undefined, /^m is not valid JSON$/],
    ["not UTF-8", new Uint8Array([0x7b, 0xff, 0x7d]), undefined, /^m is not valid JSON$/],
    ["empty", raw(""), undefined, /^m is not valid JSON$/],
    ["array", enc([]), undefined, /^m is not a JSON object$/],
    ["null", enc(null), undefined, /^m is not a JSON object$/],
    ["string", enc("x"), undefined, /^m is not a JSON object$/],
    [
      "schema 1 by header",
      enc({ schemaVersion: 1, name: "x", tag: "1", fsLayers: [] }),
      DOCKER_SCHEMA1_SIGNED,
      /^m has unsupported media type "application\/vnd\.docker\.distribution\.manifest\.v1\+prettyjws"$/,
    ],
    [
      "schemaVersion 1 in an image shape",
      enc({ schemaVersion: 1, config, layers: [] }),
      undefined,
      /^m has schemaVersion 1, expected 2$/,
    ],
    ["no schemaVersion", enc({ manifests: [] }), undefined, /^m has schemaVersion undefined/],
    [
      "unknown media type",
      enc({ schemaVersion: 2, mediaType: "text/plain" }),
      undefined,
      /^m has unsupported media type "text\/plain"$/,
    ],
    ["no shape", enc({ schemaVersion: 2 }), undefined, /^m has unsupported media type "unknown"$/],
    [
      "index without manifests",
      enc({ schemaVersion: 2, mediaType: OCI_INDEX, config }),
      undefined,
      /^m has no "manifests" array$/,
    ],
    [
      "image without layers",
      enc({ schemaVersion: 2, config }),
      undefined,
      /^m has no "layers" array$/,
    ],
    [
      "image without config",
      enc({ schemaVersion: 2, mediaType: OCI_MANIFEST, layers: [] }),
      undefined,
      /^m config is not a descriptor$/,
    ],
  ];
  for (const [why, bytes, header, re] of cases) {
    assert.throws(() => parseManifest(bytes, header, "m"), (e: unknown) => {
      assert.ok(e instanceof ManifestFormatError, `${why}: ${e}`);
      assert.match(e.message, re, why);
      return true;
    });
  }
});

Deno.test("parseManifest() rejects bad descriptors, naming the entry and the field", () => {
  const index = (d: unknown) => enc({ schemaVersion: 2, manifests: [amd64, d] });
  const cases: [string, unknown, RegExp][] = [
    ["not an object", "sha256:x", /^m manifests\[1\] is not a descriptor$/],
    [
      "no digest",
      { ...amd64, digest: undefined },
      /manifests\[1\] has an invalid digest undefined/,
    ],
    ["bad digest", { ...amd64, digest: "sha256" }, /has an invalid digest "sha256"/],
    ["uppercase algorithm", { ...amd64, digest: "SHA256:aa" }, /has an invalid digest/],
    ["negative size", { ...amd64, size: -1 }, /manifests\[1\] has an invalid size -1$/],
    ["fractional size", { ...amd64, size: 1.5 }, /has an invalid size 1\.5$/],
    ["string size", { ...amd64, size: "1" }, /has an invalid size "1"$/],
    ["huge size", { ...amd64, size: 2 ** 60 }, /has an invalid size/],
    ["no mediaType", { ...amd64, mediaType: undefined }, /manifests\[1\] has no mediaType$/],
    ["platform a string", { ...amd64, platform: "linux/amd64" }, /platform that is not an object/],
    ["platform null", { ...amd64, platform: null }, /platform that is not an object/],
    ["platform without os", { ...amd64, platform: { architecture: "amd64" } }, /no string "os"/],
    [
      "platform architecture a number",
      { ...amd64, platform: { os: "linux", architecture: 64 } },
      /platform has no string "architecture"$/,
    ],
    [
      "variant a number",
      { ...amd64, platform: { os: "linux", architecture: "arm", variant: 7 } },
      /platform has a "variant" that is not a string$/,
    ],
    [
      "os.features a string",
      { ...amd64, platform: { os: "windows", architecture: "amd64", "os.features": "win32k" } },
      /platform has "os\.features" that are not a list of strings$/,
    ],
    [
      "annotation value a number",
      { ...amd64, annotations: { a: 1 } },
      /manifests\[1\] has "annotations" that are not a map of strings$/,
    ],
    ["annotations a list", { ...amd64, annotations: ["a"] }, /"annotations" that are not a map/],
    ["urls a string", { ...amd64, urls: "https://x" }, /has "urls" that are not a list of strings/],
    ["artifactType a number", { ...amd64, artifactType: 1 }, /"artifactType" that is not a string/],
  ];
  for (const [why, d, re] of cases) {
    assert.throws(() => parseManifest(index(d), undefined, "m"), (e: unknown) => {
      assert.ok(e instanceof ManifestFormatError, `${why}: ${e}`);
      assert.match(e.message, re, why);
      return true;
    });
  }
  const image = (o: Record<string, unknown>) =>
    enc({ schemaVersion: 2, config, layers: [layer], ...o });
  const imageCases: [string, Uint8Array, RegExp][] = [
    [
      "bad config",
      image({ config: { ...config, size: -5 } }),
      /^ManifestFormatError: m config has an invalid size -5$/,
    ],
    [
      "bad layer",
      image({ layers: [layer, { digest: D1 }] }),
      /^ManifestFormatError: m layers\[1\] has an invalid size/,
    ],
    [
      "bad subject",
      image({ subject: { digest: D1 } }),
      /^ManifestFormatError: m subject has an invalid size/,
    ],
    [
      "bad annotations",
      image({ annotations: { a: null } }),
      /^ManifestFormatError: m has "annotations" that are not/,
    ],
  ];
  for (const [why, bytes, re] of imageCases) {
    assert.throws(() => parseManifest(bytes, undefined, "m"), re, why);
  }
});

Deno.test("serializeIndex() gives the same bytes for the same index, whatever its key order", () => {
  const a: Index = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [{
      mediaType: OCI_MANIFEST,
      digest: D1,
      size: 1,
      platform: { os: "linux", architecture: "arm", variant: "v7" },
      annotations: { z: "1", a: "2" },
    }],
    annotations: { b: "2", a: "1" },
  };
  const b = {
    annotations: { a: "1", b: "2" },
    manifests: [{
      annotations: { a: "2", z: "1" },
      platform: { variant: "v7", architecture: "arm", os: "linux" },
      size: 1,
      digest: D1,
      mediaType: OCI_MANIFEST,
    }],
    mediaType: OCI_INDEX,
    schemaVersion: 2,
  } as Index;
  assert.deepEqual(serializeIndex(a), serializeIndex(b));
  assert.deepEqual(serializeIndex(a), serializeIndex(a), "same input, same bytes");
  assert.equal(
    new TextDecoder().decode(serializeIndex(a)),
    `{"schemaVersion":2,"mediaType":"${OCI_INDEX}","manifests":[{"mediaType":"${OCI_MANIFEST}",` +
      `"digest":"${D1}","size":1,"annotations":{"a":"2","z":"1"},` +
      `"platform":{"architecture":"arm","os":"linux","variant":"v7"}}],` +
      `"annotations":{"a":"1","b":"2"}}`,
  );
});

Deno.test("serializeIndex() writes every field in a fixed order and omits empty ones", () => {
  const index = {
    annotations: {},
    subject: { size: 3, digest: D2, mediaType: OCI_MANIFEST },
    manifests: [{
      platform: {
        features: ["sse4"],
        variant: "v1",
        "os.features": ["win32k"],
        "os.version": "10.0.17763.1234",
        os: "windows",
        architecture: "amd64",
      },
      artifactType: "application/x",
      annotations: {},
      urls: ["https://x/1"],
      size: 2,
      digest: D1,
      mediaType: OCI_MANIFEST,
    }],
    artifactType: "application/y",
    mediaType: OCI_INDEX,
    schemaVersion: 2,
  } as Index;
  const json = new TextDecoder().decode(serializeIndex(index));
  assert.equal(
    json,
    `{"schemaVersion":2,"mediaType":"${OCI_INDEX}","artifactType":"application/y",` +
      `"manifests":[{"mediaType":"${OCI_MANIFEST}","digest":"${D1}","size":2,` +
      `"urls":["https://x/1"],"artifactType":"application/x","platform":{"architecture":"amd64",` +
      `"os":"windows","os.version":"10.0.17763.1234","os.features":["win32k"],"variant":"v1",` +
      `"features":["sse4"]}}],"subject":{"mediaType":"${OCI_MANIFEST}","digest":"${D2}",` +
      `"size":3}}`,
  );
  const parsed = parseManifest(serializeIndex(index));
  assert.equal(parsed.kind, "index", "what serializeIndex() writes, parseManifest() reads");
  const list = serializeIndex({ schemaVersion: 2, mediaType: DOCKER_LIST, manifests: [] });
  assert.equal(
    new TextDecoder().decode(list),
    `{"schemaVersion":2,"mediaType":"${DOCKER_LIST}","manifests":[]}`,
  );
});

Deno.test("isAttestation() is true only for buildx attestation-manifest entries", () => {
  const cases: [Descriptor, boolean][] = [
    [attestation, true],
    [amd64, false],
    [{ ...amd64, annotations: {} }, false],
    [{ ...amd64, annotations: { [REFERENCE_TYPE_ANNOTATION]: "something-else" } }, false],
    [{ ...amd64, annotations: { [REFERENCE_DIGEST_ANNOTATION]: D1 } }, false],
  ];
  for (const [d, want] of cases) assert.equal(isAttestation(d), want, JSON.stringify(d));
});
