// The pure pieces of the `manifest` commands: docker's JSON (checked against bytes the docker CLI
// 28.2 wrote, kept in tests/testdata/docker/), annotate's rules, and platforms read from configs.
import assert from "node:assert/strict";
import { UsageError } from "../lib/errors.ts";
import {
  dockerListJson,
  dockerListMediaType,
  goCompact,
  goIndent,
  imageManifestJson,
} from "../lib/format/docker_json.ts";
import { annotatePlatform } from "../lib/list_annotate.ts";
import { configPlatform } from "../lib/list_sources.ts";
import { parseStoreFile } from "../lib/local_store_file.ts";

const DATA = new URL("./testdata/docker/", import.meta.url);
const read = (name: string) => Deno.readTextFile(new URL(name, DATA));

Deno.test("dockerListJson() gives the exact bytes docker manifest push sent for the same entries", async () => {
  const pushed = await read("pushed-list.json");
  const doc = JSON.parse(pushed);
  assert.equal(dockerListJson(doc.mediaType, doc.manifests), pushed);
  assert.equal(dockerListMediaType(doc.manifests), doc.mediaType);
});

Deno.test("dockerListMediaType() follows docker: an OCI index when the first entry is an OCI manifest", () => {
  const d = (mediaType: string) => ({ mediaType, digest: "sha256:ab", size: 1 });
  const OCI = "application/vnd.oci.image.manifest.v1+json";
  const V2 = "application/vnd.docker.distribution.manifest.v2+json";
  assert.equal(dockerListMediaType([d(OCI), d(V2)]), "application/vnd.oci.image.index.v1+json");
  assert.equal(
    dockerListMediaType([d(V2), d(OCI)]),
    "application/vnd.docker.distribution.manifest.list.v2+json",
  );
  assert.equal(
    dockerListMediaType([]),
    "application/vnd.docker.distribution.manifest.list.v2+json",
  );
});

Deno.test("a store file docker wrote reads back and is written again byte for byte", async () => {
  for (const name of ["store-entry-oci", "store-entry-v2"]) {
    const text = await read(name);
    const { entry, list } = parseStoreFile(name, text);
    assert.equal(list, undefined, "docker writes no ManifestList");
    assert.equal(entry.source, entry.ref);
    assert.equal(imageManifestJson(entry, { features: true }), text, name);
  }
});

Deno.test("goIndent() and goCompact() keep string contents and Go's escapes", () => {
  const cases: [string, string, string][] = [
    ['{"a" : [ ], "b":{ }}', '{\n\t"a": [],\n\t"b": {}\n}', '{"a":[],"b":{}}'],
    ['["x y", 1.50E+3]\n', '[\n\t"x y",\n\t1.50E+3\n]\n', '["x y",1.50E+3]'],
    [
      '{"k":"<&>\\"\u2028"}',
      '{\n\t"k": "<&>\\"\u2028"\n}',
      '{"k":"\\u003c\\u0026\\u003e\\"\\u2028"}',
    ],
  ];
  for (const [text, indented, compact] of cases) {
    assert.equal(goIndent(text, "\t"), indented, text);
    assert.equal(goCompact(text), compact, text);
  }
});

Deno.test("annotatePlatform() sets as docker does, clears with an empty value, and validates what is typed", () => {
  const base = {
    os: "windows",
    architecture: "amd64",
    "os.version": "10.0.17763.1234",
    "os.features": ["win32k"],
  };
  const cases: [Parameters<typeof annotatePlatform>[1], Record<string, unknown>][] = [
    [{ os: "", arch: "" }, base],
    [{ osVersion: "" }, { os: "windows", architecture: "amd64", "os.features": ["win32k"] }],
    [{ osFeatures: ["a,win32k", "b"] }, { ...base, "os.features": ["win32k", "a", "b"] }],
    [{ osFeatures: [""] }, {
      os: "windows",
      architecture: "amd64",
      "os.version": base["os.version"],
    }],
    [{ os: "linux", osVersion: "", osFeatures: [] }, { os: "linux", architecture: "amd64" }],
    [{ os: "linux", variant: "v2", osVersion: "", osFeatures: [] }, {
      os: "linux",
      architecture: "amd64",
      variant: "v2",
    }],
  ];
  for (const [a, want] of cases) {
    assert.deepEqual(annotatePlatform(base, a), want, JSON.stringify(a));
  }
  assert.throws(() => annotatePlatform(base, { arch: "x86_64" }), UsageError);
  // A variant the entry had is kept as docker keeps it, even where the new architecture has no
  // such variant; a variant typed is validated.
  const arm = { os: "linux", architecture: "arm", variant: "v7" };
  assert.deepEqual(annotatePlatform(arm, { arch: "arm64" }), { ...arm, architecture: "arm64" });
  assert.throws(() => annotatePlatform(arm, { arch: "arm64", variant: "v7" }), UsageError);
  assert.throws(() => annotatePlatform(arm, { arch: "nonesuch" }), UsageError);
});

Deno.test("configPlatform() reads only string fields of a config, as registry content", () => {
  const cases: [unknown, Record<string, unknown>][] = [
    [{ os: "linux", architecture: "arm", variant: "v7", "os.features": ["f"] }, {
      os: "linux",
      architecture: "arm",
      variant: "v7",
      "os.features": ["f"],
    }],
    [{ os: {}, architecture: ["a"], variant: 1 }, { os: "", architecture: "" }],
    [null, { os: "", architecture: "" }],
    ["linux", { os: "", architecture: "" }],
    [{ os: "linux", architecture: "amd64", "os.features": [1] }, {
      os: "linux",
      architecture: "amd64",
    }],
  ];
  for (const [config, want] of cases) assert.deepEqual(configPlatform(config), want);
});
