import assert from "node:assert/strict";
import { parseSpec, readSpecFile } from "../lib/spec.ts";
import { SpecError } from "../lib/errors.ts";

Deno.test("parseSpec() reads manifest-tool's YAML with both spellings of os.version and os.features", () => {
  const spec = parseSpec(
    `image: r.io/app:1.0
tags: [1.0, latest]
annotations: {a: "b=c", n: 1}
manifests:
  - image: r.io/app:amd64
    platform:
      architecture: amd64
      os: linux
  - image: r.io/app:win
    platform:
      architecture: amd64
      os: windows
      osversion: 10.0.17763.1234
      osfeatures: [win32k]
  - image: r.io/app:win2
    platform: {architecture: amd64, os: windows, os.version: "10.0.20348.1", os.features: [a], features: [sse4]}
  - image: r.io/app:auto
`,
    "spec.yaml",
  );
  assert.equal(spec.image, "r.io/app:1.0");
  assert.deepEqual(spec.tags, ["1.0", "latest"], "1.0 stays the text 1.0");
  assert.deepEqual(spec.annotations, { a: "b=c", n: "1" });
  assert.equal(spec.manifests.length, 4);
  assert.equal(spec.manifests[1].platform?.["os.version"], "10.0.17763.1234");
  assert.deepEqual(spec.manifests[1].platform?.["os.features"], ["win32k"]);
  assert.equal(spec.manifests[2].platform?.["os.version"], "10.0.20348.1");
  assert.deepEqual(spec.manifests[2].platform?.features, ["sse4"]);
  assert.equal(spec.manifests[3].platform, undefined);
});

Deno.test("parseSpec() errors name file:line:column and the problem", () => {
  const cases: [string, RegExp][] = [
    ["imgae: r.io/x:1\nmanifests: []\n", /^s\.yaml:1:1: unknown key "imgae"/],
    [
      "image: r.io/x:1\nmanifests:\n  - image: a\n    platfrom: {}\n",
      /^s\.yaml:4:5: unknown key "platfrom" in manifests\[0\]/,
    ],
    [
      "image: r.io/x:1\nmanifests:\n  - image: a\n    platform: {arch: amd64}\n",
      /^s\.yaml:4:16: unknown key "arch" in manifests\[0\]\.platform/,
    ],
    ["image: [a]\nmanifests:\n  - image: a\n", /^s\.yaml:1:8: image must be a string/],
    [
      "image: r.io/x:1\ntags: {a: b}\nmanifests:\n  - image: a\n",
      /^s\.yaml:2:7: tags must be a list of strings/,
    ],
    ["manifests:\n  - image: a\n", /missing key "image"/],
    ["image: r.io/x:1\nmanifests: []\n", /missing or empty "manifests"/],
    [
      "image: r.io/x:1\nimage: r.io/y:1\nmanifests:\n  - image: a\n",
      /^s\.yaml:2:1: invalid YAML: Map keys must be unique/,
    ],
    ["", /^s\.yaml: the spec is empty/],
    ["- a\n- b\n", /must be a mapping/],
    ["image: r.io/x:1\nmanifests:\n  - image:\n", /manifests\[0\]\.image must be a string/],
  ];
  for (const [text, re] of cases) {
    assert.throws(() => parseSpec(text, "s.yaml"), (e: unknown) => {
      assert.ok(e instanceof SpecError, `${JSON.stringify(text)}: ${e}`);
      assert.match(e.message, re, JSON.stringify(text));
      return true;
    });
  }
});

Deno.test("parseSpec() survives an alias bomb quickly", () => {
  const bomb = [
    "a: &a [x, x, x, x, x, x, x, x, x, x]",
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]",
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]",
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]",
    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]",
    "image: r.io/x:1",
    "tags: *f",
    "manifests:",
    "  - image: r.io/x:a",
  ].join("\n");
  const started = performance.now();
  assert.throws(() => parseSpec(bomb, "bomb.yaml"), SpecError);
  assert.ok(performance.now() - started < 5000, "no exponential expansion");
});

Deno.test("readSpecFile() names a missing file, a directory and an oversized file", async () => {
  await assert.rejects(
    readSpecFile("/nonexistent/x.yaml"),
    /\/nonexistent\/x\.yaml: cannot read spec: no such file/,
  );
  const dir = await Deno.makeTempDir();
  await assert.rejects(readSpecFile(dir), /is a directory/);
  const big = `${dir}/big.yaml`;
  await Deno.writeTextFile(big, "#".repeat(1024 * 1024 + 10));
  await assert.rejects(readSpecFile(big), /is larger than 1048576 bytes/);
  await Deno.remove(dir, { recursive: true });
});
