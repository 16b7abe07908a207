import assert from "node:assert/strict";
import { MAX_SPEC_BYTES, readSpecFile } from "../lib/spec.ts";
import { parseSpec } from "../lib/spec_parse.ts";
import { SpecError } from "../lib/errors.ts";

const SPECS = new URL("./testdata/specs/", import.meta.url).pathname;
const DENO_JSON = new URL("../deno.json", import.meta.url).pathname;
const SPEC_TS = new URL("../lib/spec.ts", import.meta.url).href;

/** Asserts that `fn` throws a SpecError at `file:line:column` whose detail matches `detail`. */
function assertSpecError(
  fn: () => unknown,
  where: string,
  detail: RegExp,
  label = where,
): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SpecError, `${label}: ${e}`);
    assert.ok(e.message.startsWith(`${where}: `), `${label}: got ${e.message}`);
    assert.match(e.detail, detail, label);
    assert.ok(!e.message.endsWith("."), e.message);
    return true;
  });
}

Deno.test("parseSpec() reads every key of manifest-tool's spec in both spellings", async () => {
  const spec = await readSpecFile(SPECS + "valid.yaml");
  assert.deepEqual(spec, {
    image: "registry.example:5000/team/app:1.0",
    tags: ["1.0", "1.10", "2", "latest", "0x1F"],
    annotations: {
      "org.opencontainers.image.source": "https://example.com/app",
      build: "42",
      ratio: "1.50",
    },
    manifests: [
      {
        image: "registry.example:5000/team/app:1.0-amd64",
        platform: { architecture: "amd64", os: "linux" },
      },
      {
        image: "registry.example:5000/team/app:1.0-arm",
        platform: { architecture: "arm", os: "linux", variant: "v7" },
      },
      {
        image: "registry.example:5000/team/app:1.0-win",
        platform: {
          architecture: "amd64",
          os: "windows",
          "os.version": "10.0.17763.1234",
          "os.features": ["win32k"],
        },
      },
      {
        image: "registry.example:5000/team/app:1.0-win2",
        platform: {
          architecture: "amd64",
          os: "windows",
          "os.version": "10.0.20348.1",
          "os.features": ["win32k"],
          features: ["sse4"],
        },
      },
      { image: "registry.example:5000/team/app:1.0-auto" },
    ],
  });
});

Deno.test("parseSpec() keeps scalars as written: the tag 1.0 is the text 1.0, not a float", () => {
  const cases: [string, string][] = [
    ["1.0", "1.0"],
    ["1.10", "1.10"],
    ["01", "01"],
    ["1e3", "1e3"],
    ["true", "true"],
    ['"1.0"', "1.0"],
    ["'v1'", "v1"],
  ];
  for (const [yaml, want] of cases) {
    const spec = parseSpec(
      `image: r.io/x:${yaml.replace(/["']/g, "")}\ntags: [${yaml}]\nannotations: {k: ${yaml}}\n` +
        `manifests:\n  - image: r.io/x:a\n    platform: {os: windows, architecture: amd64, osversion: ${yaml}}\n`,
      "s.yaml",
    );
    assert.deepEqual(spec.tags, [want], yaml);
    assert.deepEqual(spec.annotations, { k: want }, yaml);
    assert.equal(spec.manifests[0].platform?.["os.version"], want, yaml);
  }
});

Deno.test("parseSpec() keeps an annotation named __proto__ as an ordinary key", () => {
  const spec = parseSpec(
    "image: r.io/x:1\nannotations: {__proto__: x, a: b}\nmanifests:\n  - image: r.io/x:a\n",
    "s.yaml",
  );
  assert.deepEqual(Object.entries(spec.annotations ?? {}), [["__proto__", "x"], ["a", "b"]]);
});

Deno.test("parseSpec() accepts a single tag or feature without a list", () => {
  const spec = parseSpec(
    "image: r.io/x:1\ntags: 1.0\nmanifests:\n  - image: r.io/x:a\n" +
      "    platform: {os: windows, architecture: amd64, osfeatures: win32k}\n",
    "s.yaml",
  );
  assert.deepEqual(spec.tags, ["1.0"]);
  assert.deepEqual(spec.manifests[0].platform?.["os.features"], ["win32k"]);
});

Deno.test("parseSpec() resolves anchors shared between entries", async () => {
  const spec = await readSpecFile(SPECS + "anchors.yaml");
  assert.deepEqual(spec.manifests.map((m) => m.platform), [
    { os: "linux", architecture: "amd64" },
    { os: "linux", architecture: "amd64" },
  ]);
});

Deno.test("readSpecFile() errors are SpecErrors at file:line:column naming the problem", async () => {
  const cases: [string, string, RegExp][] = [
    ["imgae.yaml", "1:1", /^unknown key "imgae": expected image, tags, annotations or manifests$/],
    [
      "platform-key.yaml",
      "6:7",
      /^unknown key "arch" in manifests\[0\]\.platform: expected architecture, os, variant, osversion, osfeatures or features$/,
    ],
    ["tags-map.yaml", "3:3", /^tags must be a list of strings$/],
    ["image-list.yaml", "2:3", /^image must be a string$/],
    ["missing-image.yaml", "1:1", /^missing key "image" \(the target reference\)$/],
    ["empty-manifests.yaml", "2:12", /^manifests is empty: list the source images$/],
    ["syntax.yaml", "5:1", /^invalid YAML: Flow map .* end with a }$/],
    ["duplicate.yaml", "4:1", /^duplicate key "image"$/],
    ["billion-laughs.yaml", "4:8", /^tags\[0\] must be a string$/],
    ["alias-fanout.yaml", "56:5", /^aliases expand the spec to more than \d+ nodes$/],
  ];
  for (const [name, at, detail] of cases) {
    const file = SPECS + name;
    await assert.rejects(readSpecFile(file), (e: unknown) => {
      assert.ok(e instanceof SpecError, `${name}: ${e}`);
      assert.equal(e.file, file);
      assert.equal(`${e.line}:${e.column}`, at, `${name}: ${e.message}`);
      assert.ok(e.message.startsWith(`${file}:${at}: `), e.message);
      assert.match(e.detail, detail, name);
      return true;
    });
  }
});

Deno.test("parseSpec() names the problem and where it is for each kind of mistake", () => {
  const cases: [string, string, RegExp][] = [
    [
      "image: r.io/x:1\nmanifests:\n  - image: a\n    platfrom: {}\n",
      "4:5",
      /^unknown key "platfrom" in manifests\[0\]: expected image or platform$/,
    ],
    ["image: [a]\nmanifests:\n  - image: a\n", "1:8", /^image must be a string$/],
    ["image: {a: b}\nmanifests:\n  - image: a\n", "1:8", /^image must be a string$/],
    ["image: ''\nmanifests:\n  - image: a\n", "1:8", /^image must not be empty$/],
    ["image:\nmanifests:\n  - image: a\n", "1:7", /^image must be a string$/],
    ["{image}\n", "1:2", /^image must be a string$/],
    ["image: r.io/x:1\ntags: [a, [b]]\nmanifests:\n  - image: a\n", "2:11", /^tags\[1\] must be/],
    ["image: r.io/x:1\ntags: ~\nmanifests:\n  - image: a\n", "2:7", /^tags must be a list/],
    [
      "image: r.io/x:1\nannotations: [a]\nmanifests:\n  - image: a\n",
      "2:14",
      /^annotations must be a mapping of strings$/,
    ],
    [
      "image: r.io/x:1\nannotations: {a: [b]}\nmanifests:\n  - image: a\n",
      "2:18",
      /^annotations\["a"\] must be a string$/,
    ],
    [
      "image: r.io/x:1\nannotations: {a: 1, 'a': 2}\nmanifests:\n  - image: a\n",
      "2:21",
      /^duplicate key "a"$/,
    ],
    ["image: r.io/x:1\n", "1:1", /^missing key "manifests" \(the source images\)$/],
    ["image: r.io/x:1\nmanifests: none\n", "2:12", /^manifests must be a list$/],
    ["image: r.io/x:1\nmanifests:\n", "2:11", /^manifests must be a list$/],
    [
      "image: r.io/x:1\nmanifests:\n  - r.io/x:a\n",
      "3:5",
      /^manifests\[0\] must be a mapping with image and platform$/,
    ],
    ["image: r.io/x:1\nmanifests:\n  - platform: {}\n", "3:5", /^manifests\[0\] has no image$/],
    [
      "image: r.io/x:1\nmanifests:\n  - image:\n",
      "3:11",
      /^manifests\[0\]\.image must be a string$/,
    ],
    [
      "image: r.io/x:1\nmanifests:\n  - image: a\n    platform: linux/amd64\n",
      "4:15",
      /^manifests\[0\]\.platform must be a mapping$/,
    ],
    [
      "image: r.io/x:1\nmanifests:\n  - image: a\n    platform: {os: [linux]}\n",
      "4:20",
      /^manifests\[0\]\.platform\.os must be a string$/,
    ],
    [
      "image: r.io/x:1\nmanifests:\n  - image: a\n    platform: {osversion: '1', os.version: '2'}\n",
      "4:32",
      /^duplicate key "os\.version": same field as "osversion"$/,
    ],
    ["image: r.io/x:1\n1: x\nmanifests:\n  - image: a\n", "2:1", /^keys must be strings$/],
    ["image: *nowhere\nmanifests:\n  - image: a\n", "1:8", /^unknown alias "\*nowhere"$/],
    ["- a\n- b\n", "1:1", /^the spec must be a mapping with image and manifests$/],
    ["just text\n", "1:1", /^the spec must be a mapping/],
    ["image: a\n---\nimage: b\n", "2:1", /^invalid YAML: .*multiple documents/i],
    ["image: r.io/x:1\n  bad: indent\n", "1:8", /^invalid YAML: Nested mappings/],
    ['image: "unclosed\n', "2:1", /^invalid YAML: Missing closing "quote$/],
    ["image: !!binary aGVsbG8=\nmanifests:\n  - image: a\n", "1:17", /^image must be a string$/],
    [`tags: ${"[".repeat(5000)}${"]".repeat(5000)}\n`, "1:1", /^the YAML is nested too deeply$/],
  ];
  for (const [text, at, detail] of cases) {
    assertSpecError(() => parseSpec(text, "s.yaml"), `s.yaml:${at}`, detail, JSON.stringify(text));
  }
});

Deno.test("parseSpec() says an empty spec is empty, with no position to point at", () => {
  for (const text of ["", "\n\n", "# only a comment\n", "---\n", "~\n", "''\n"]) {
    assert.throws(() => parseSpec(text, "e.yaml"), (e: unknown) => {
      assert.ok(e instanceof SpecError, JSON.stringify(text));
      assert.equal(e.message, "e.yaml: the spec is empty");
      return true;
    });
  }
});

Deno.test("parseSpec() fails fast on alias bombs small enough to run in-process", () => {
  const texts = [
    Deno.readTextFileSync(SPECS + "billion-laughs.yaml"),
    Deno.readTextFileSync(SPECS + "alias-fanout.yaml"),
    // A self-referencing anchor: the entry is a list holding itself.
    "image: r.io/x:1\nmanifests: &m [*m]\n",
    "image: r.io/x:1\nmanifests:\n  - &e {image: a, platform: {features: *e}}\n",
  ];
  for (const text of texts) {
    const started = performance.now();
    assert.throws(() => parseSpec(text, "bomb.yaml"), SpecError);
    assert.ok(performance.now() - started < 2000, "no expansion");
  }
});

/**
 * Runs readSpecFile(file) in a child process with a small heap, killed after `seconds`: a hang or
 * a memory blow-up fails the test instead of the test run.
 */
async function readSpecInChild(
  file: string,
  seconds: number,
): Promise<{ ok: boolean; out: string; ms: number }> {
  const code = `
    const { readSpecFile } = await import(${JSON.stringify(SPEC_TS)});
    try {
      const spec = await readSpecFile(${JSON.stringify(file)});
      console.log("parsed " + spec.manifests.length);
    } catch (e) {
      console.log(e.name + ": " + e.message);
    }`;
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      "--ext=ts",
      `--config=${DENO_JSON}`,
      // The yaml package holds about 1.5 KB per node: a 1 MiB spec of tiny nodes needs ~400 MB.
      "--v8-flags=--max-old-space-size=1024",
      `--allow-read=${file}`,
      code,
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), seconds * 1000);
  const { success, stdout, stderr } = await child.output();
  clearTimeout(timer);
  const out = new TextDecoder().decode(stdout).trim() + new TextDecoder().decode(stderr).trim();
  return { ok: success, out, ms: performance.now() - started };
}

Deno.test({
  name:
    "readSpecFile() stays linear on 1 MiB hostile specs: alias fan-out, many aliases, many keys",
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const n = 100_000;
      const hostile: [string, string, RegExp][] = [
        [
          "fanout.yaml",
          "image: r.io/x:1\nmanifests:\n  - &e {image: r.io/x:a, platform: {os: linux, " +
          `architecture: amd64, features: [${Array(n).fill("a").join(", ")}]}}\n` +
          Array(n).fill("  - *e\n").join(""),
          /^SpecError: .*fanout\.yaml:\d+:\d+: aliases expand the spec to more than \d+ nodes$/,
        ],
        [
          // Every alias resolution used to walk the whole document: quadratic.
          "aliases.yaml",
          `image: &i r.io/x:1\ntags: [${Array(2 * n).fill("*i").join(", ")}]\n` +
          "manifests:\n  - image: r.io/x:a\n",
          /^parsed 1$/,
        ],
        [
          // The yaml package's duplicate-key check compares every pair of keys: quadratic.
          "keys.yaml",
          "image: r.io/x:1\nannotations:\n" +
          Array.from({ length: n }, (_, i) => `  ${i.toString(36)}: v\n`).join("") +
          "manifests:\n  - image: r.io/x:a\n",
          /^parsed 1$/,
        ],
      ];
      for (const [name, text, want] of hostile) {
        const file = `${dir}/${name}`;
        await Deno.writeTextFile(file, text);
        assert.ok(text.length <= MAX_SPEC_BYTES, `${name} is ${text.length} bytes`);
        const { out, ms } = await readSpecInChild(file, 60);
        assert.match(out, want, `${name} after ${Math.round(ms)} ms: ${out.slice(0, 300)}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("readSpecFile() names a missing file, a directory, an oversized and a binary file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const big = `${dir}/big.yaml`;
    await Deno.writeTextFile(big, "#".repeat(MAX_SPEC_BYTES + 1));
    const binary = `${dir}/binary.yaml`;
    await Deno.writeFile(binary, new Uint8Array([0x69, 0x6d, 0xff, 0xfe, 0x00]));
    const atCap = `${dir}/at-cap.yaml`;
    const body = "image: r.io/x:1\nmanifests:\n  - image: r.io/x:a\n";
    await Deno.writeTextFile(atCap, body + "#".repeat(MAX_SPEC_BYTES - body.length));
    const cases: [string, string][] = [
      ["/nonexistent/x.yaml", "/nonexistent/x.yaml: cannot read spec: no such file"],
      [dir, `${dir}: is a directory, not a YAML file`],
      [big, `${big}: is larger than 1048576 bytes`],
      [binary, `${binary}: is not UTF-8 text`],
    ];
    for (const [file, message] of cases) {
      await assert.rejects(readSpecFile(file), (e: unknown) => {
        assert.ok(e instanceof SpecError, `${file}: ${e}`);
        assert.equal(e.message, message);
        assert.equal(e.file, file);
        return true;
      });
    }
    assert.equal((await readSpecFile(atCap)).image, "r.io/x:1", "exactly the cap is read");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "readSpecFile() reads no more than the cap from a file that reports no size",
  ignore: Deno.build.os === "windows",
  async fn() {
    await assert.rejects(readSpecFile("/dev/zero"), /\/dev\/zero: is larger than 1048576 bytes/);
  },
});

Deno.test("parseSpec() prints nothing with yaml's LOG_TOKENS/LOG_STREAM set, and needs no env permission", async () => {
  const spec = "image: r.example/app:1\nmanifests:\n  - image: r.example/app:1-amd64\n" +
    "    platform: {os: linux, architecture: amd64}\n";
  const run = async (permissions: string[], env: Record<string, string>) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", ...permissions, "tests/_helpers/parse_spec.ts"],
      cwd: new URL("../", import.meta.url).pathname,
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(spec));
    await w.close();
    const out = await child.output();
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
  };
  // With every permission and the variables set: the Node build would print its tokens.
  const loud = await run(["-A"], { LOG_TOKENS: "1", LOG_STREAM: "1" });
  assert.deepEqual(loud, { code: 0, stdout: "1\n", stderr: "" });
  // Without env permission, set or not: no NotCapable error, no prompt.
  for (const env of [{}, { LOG_TOKENS: "1" }] as Record<string, string>[]) {
    const r = await run(["--allow-read"], env);
    assert.deepEqual(r, { code: 0, stdout: "1\n", stderr: "" });
  }
});
