import assert from "node:assert/strict";
import { loadSpecs, MAX_SPEC_BYTES, parseShard, shardSelects } from "../lib/spec.ts";
import { parseSpecDocuments } from "../lib/spec_parse.ts";
import { SpecError, UsageError } from "../lib/errors.ts";

/** A spec document pushing `image` (plus `tags`) from one source. */
function spec(image: string, tags: string[] = []): string {
  const t = tags.length > 0 ? `tags: [${tags.join(", ")}]\n` : "";
  return `image: ${image}\n${t}manifests:\n  - image: r.io/src:1\n`;
}

/** Writes `files` (name → text; a name ending in "/" is a directory) under a new temp dir. */
async function tree(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir();
  for (const [name, text] of Object.entries(files)) {
    if (name.endsWith("/")) await Deno.mkdir(`${dir}/${name}`, { recursive: true });
    else {
      await Deno.mkdir(`${dir}/${name}`.replace(/\/[^/]*$/, ""), { recursive: true });
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
  }
  return dir;
}

async function withTree(
  files: Record<string, string>,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await tree(files);
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Asserts that `p` rejects with a SpecError whose message is `${where}: ` + text matching `detail`. */
async function rejectsAt(p: Promise<unknown>, where: string, detail: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof SpecError, `${where}: ${e}`);
    assert.ok(e.message.startsWith(`${where}: `), `want ${where}, got ${e.message}`);
    assert.match(e.detail, detail, e.message);
    return true;
  });
}

Deno.test("loadSpecs() reads every document of a file as one spec, skipping empty documents", async () => {
  const text = `# leading comment\n${spec("r.io/a:1")}---\n---\n# only a comment\n---\n${
    spec("r.io/b:1")
  }...\n---\n${spec("r.io/c:1")}---\n`;
  await withTree({ "all.yaml": text }, async (dir) => {
    const specs = await loadSpecs([`${dir}/all.yaml`]);
    assert.deepEqual(
      specs.map((s) => [s.spec.image, s.document, s.position, s.line, s.column, s.file]),
      [
        ["r.io/a:1", 1, 1, 2, 1, `${dir}/all.yaml`],
        ["r.io/b:1", 4, 2, 9, 1, `${dir}/all.yaml`],
        ["r.io/c:1", 5, 3, 14, 1, `${dir}/all.yaml`],
      ],
    );
    assert.deepEqual(specs[0].spec, {
      image: "r.io/a:1",
      manifests: [{ image: "r.io/src:1" }],
    });
  });
});

Deno.test("loadSpecs() reads a directory's *.yaml and *.yml files in name order, not recursively", async () => {
  await withTree({
    "specs/b.yaml": spec("r.io/b:1"),
    "specs/a.yml": spec("r.io/a:1"),
    "specs/C.yaml": spec("r.io/upper:1"),
    "specs/c.yaml": `${spec("r.io/c:1")}---\n${spec("r.io/c:2")}`,
    "specs/notes.txt": "not a spec",
    "specs/x.yaml.bak": "not a spec",
    "specs/sub/": "",
    "specs/sub/d.yaml": spec("r.io/d:1"),
    "specs/dir.yaml/": "",
    "one.yaml": spec("r.io/one:1"),
  }, async (dir) => {
    const specs = await loadSpecs([`${dir}/one.yaml`, `${dir}/specs`]);
    assert.deepEqual(specs.map((s) => [s.position, s.file.slice(dir.length), s.spec.image]), [
      [1, "/one.yaml", "r.io/one:1"],
      [2, "/specs/C.yaml", "r.io/upper:1"],
      [3, "/specs/a.yml", "r.io/a:1"],
      [4, "/specs/b.yaml", "r.io/b:1"],
      [5, "/specs/c.yaml", "r.io/c:1"],
      [6, "/specs/c.yaml", "r.io/c:2"],
    ]);
    const slash = await loadSpecs([`${dir}/specs/`]);
    assert.equal(slash[0].file, `${dir}/specs/C.yaml`, "no doubled slash");
  });
});

Deno.test("loadSpecs() normalises each target reference", async () => {
  await withTree({ "s.yaml": `${spec("alpine:3")}---\n${spec("r.io/x")}` }, async (dir) => {
    const specs = await loadSpecs([`${dir}/s.yaml`]);
    assert.deepEqual(specs.map((s) => s.target), [
      "docker.io/library/alpine:3",
      "r.io/x:latest",
    ]);
  });
});

Deno.test("parseShard() accepts I/N with 1 <= I <= N and names --shard otherwise", () => {
  const good: [string, [number, number]][] = [["1/1", [1, 1]], ["1/3", [1, 3]], ["3/3", [3, 3]], [
    "12/40",
    [12, 40],
  ]];
  for (const [text, [index, count]] of good) {
    assert.deepEqual(parseShard(text), { index, count }, text);
  }
  for (
    const text of ["0/3", "4/3", "3", "a/b", "1/0", "-1/2", "1/3/4", " 1/3", "1/ 3", "", "01/3"]
  ) {
    assert.throws(() => parseShard(text), (e: unknown) => {
      assert.ok(e instanceof UsageError, text);
      assert.ok(!(e instanceof SpecError), text);
      assert.match(e.message, /--shard/, text);
      assert.ok(e.message.includes(JSON.stringify(text)), e.message);
      return true;
    });
  }
});

Deno.test("shardSelects() with shards 1/N..N/N takes every position exactly once", () => {
  for (const count of [1, 2, 3, 5, 8]) {
    for (let position = 1; position <= 20; position++) {
      const owners = Array.from({ length: count }, (_, i) => i + 1)
        .filter((index) => shardSelects(position, { index, count }));
      assert.deepEqual(owners, [((position - 1) % count) + 1], `${position} of ${count}`);
    }
  }
});

Deno.test("loadSpecs() with --shard 1/3..3/3 returns every spec exactly once, positions kept", async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 4; i++) files[`d/${i}.yaml`] = spec(`r.io/d${i}:1`);
  files["multi.yaml"] = [1, 2, 3].map((i) => spec(`r.io/m${i}:1`)).join("---\n");
  await withTree(files, async (dir) => {
    const paths = [`${dir}/multi.yaml`, `${dir}/d`];
    const all = await loadSpecs(paths);
    assert.equal(all.length, 7);
    const seen: number[] = [];
    const want: Record<number, number[]> = { 1: [1, 4, 7], 2: [2, 5], 3: [3, 6] };
    for (const index of [1, 2, 3]) {
      const part = await loadSpecs(paths, { shard: parseShard(`${index}/3`) });
      assert.deepEqual(part.map((s) => s.position), want[index], `${index}/3`);
      for (const s of part) assert.deepEqual(s, all[s.position - 1]);
      seen.push(...part.map((s) => s.position));
    }
    assert.deepEqual(seen.sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7]);
    const many = await loadSpecs(paths, { shard: { index: 9, count: 9 } });
    assert.deepEqual(many, [], "a shard past the last spec is empty");
  });
});

Deno.test("loadSpecs() checks every spec, even those outside the shard", async () => {
  await withTree(
    { "s.yaml": `${spec("r.io/a:1")}---\n${spec("r.io/b:1")}---\nimage: [x]\n` },
    async (dir) => {
      await rejectsAt(
        loadSpecs([`${dir}/s.yaml`], { shard: { index: 1, count: 3 } }),
        `${dir}/s.yaml:9:8`,
        /^image must be a string$/,
      );
    },
  );
});

Deno.test("loadSpecs() refuses two specs that push the same tag, naming both places", async () => {
  const cases: [string, Record<string, string>, string, RegExp][] = [
    [
      "same image in two files",
      { "a.yaml": spec("r.io/x:1"), "b.yaml": spec("r.io/x:1") },
      "b.yaml:1:8",
      /^r\.io\/x:1 is also pushed by the spec at .*\/a\.yaml:1:8$/,
    ],
    [
      "an extra tag equal to another spec's image",
      { "a.yaml": spec("r.io/x:2", ["0", "1"]), "b.yaml": spec("r.io/x:1") },
      "b.yaml:1:8",
      /^r\.io\/x:1 is also pushed by the spec at .*\/a\.yaml:2:11$/,
    ],
    [
      "two documents of one file, written differently",
      { "a.yaml": `${spec("alpine:3")}---\n${spec("r.io/y:1", ["x", "3"])}`, "b.yaml": "" },
      "",
      /./,
    ],
    [
      "docker.io spellings of one repository",
      { "a.yaml": spec("alpine:3"), "b.yaml": spec("docker.io/library/alpine:3") },
      "b.yaml:1:8",
      /^docker\.io\/library\/alpine:3 is also pushed by the spec at .*\/a\.yaml:1:8$/,
    ],
    [
      "an implicit latest",
      { "a.yaml": spec("r.io/x"), "b.yaml": spec("r.io/x:2", ["latest"]) },
      "b.yaml:2:8",
      /^r\.io\/x:latest is also pushed by the spec at .*\/a\.yaml:1:8$/,
    ],
  ];
  for (const [name, files, where, detail] of cases) {
    await withTree(files, async (dir) => {
      const paths = Object.keys(files).filter((f) => files[f] !== "").map((f) => `${dir}/${f}`);
      if (where === "") {
        // Different repositories or registries: no conflict.
        assert.ok((await loadSpecs(paths)).length >= 2, name);
        return;
      }
      await rejectsAt(loadSpecs(paths), `${dir}/${where}`, detail);
    });
  }
});

Deno.test("loadSpecs() allows a tag repeated within one spec and equal tags in other repositories", async () => {
  await withTree({
    "a.yaml": spec("r.io/x:1", ["1", "2", "2"]),
    "b.yaml": spec("r.io/y:1", ["2"]),
    "c.yaml": spec("other.io/x:1", ["2"]),
  }, async (dir) => {
    const specs = await loadSpecs([`${dir}/a.yaml`, `${dir}/b.yaml`, `${dir}/c.yaml`]);
    assert.equal(specs.length, 3);
  });
});

Deno.test("loadSpecs() reports a bad spec at FILE:LINE:COL of the file it is in", async () => {
  const big = "#".repeat(MAX_SPEC_BYTES + 10) + "\n";
  const cases: [string, string, string, RegExp][] = [
    ["syntax in document 2", `${spec("r.io/a:1")}---\nimage: {a\n`, "6:1", /^invalid YAML: /],
    ["unknown key", `${spec("r.io/a:1")}---\nimgae: r.io/b:1\n`, "5:1", /^unknown key "imgae"/],
    [
      "invalid target",
      `${spec("r.io/a:1")}---\n${spec("r.io/B:1")}`,
      "5:8",
      /^Cannot parse reference "r\.io\/B:1": repository must be lowercase$/,
    ],
    [
      "digest target",
      spec(`r.io/a@sha256:${"a".repeat(64)}`),
      "1:8",
      /^image "r\.io\/a@sha256:a+" must name a tag, not a digest$/,
    ],
    ["invalid tag", spec("r.io/a:1", ["ok", "'-bad'"]), "2:12", /^tags\[1\]: Cannot parse/],
    [
      "invalid source",
      "image: r.io/a:1\nmanifests:\n  - image: r.io/s:1\n  - {image: 'http://r.io/s:2'}\n",
      "4:13",
      /^Cannot parse reference "http:\/\/r\.io\/s:2": must not include a scheme$/,
    ],
    [
      "alias bomb in document 2",
      `${spec("r.io/a:1")}---\n` + Deno.readTextFileSync(
        new URL("./testdata/specs/alias-fanout.yaml", import.meta.url),
      ),
      "",
      /^aliases expand the spec to more than \d+ nodes$/,
    ],
    [
      "document over the cap",
      `${spec("r.io/a:1")}---\n${big}${spec("r.io/b:1")}`,
      "4:1",
      /^a document is larger than 1048576 bytes$/,
    ],
    ["only empty documents", "---\n# nothing\n---\n~\n", "", /^the spec is empty$/],
    ["an empty file", "", "", /^the spec is empty$/],
  ];
  for (const [name, text, at, detail] of cases) {
    await withTree({ "s.yaml": text }, async (dir) => {
      const file = `${dir}/s.yaml`;
      if (name.startsWith("alias")) {
        await assert.rejects(loadSpecs([file]), (e: unknown) => {
          assert.ok(e instanceof SpecError && e.line > 4, `${name}: ${e}`);
          assert.match(e.detail, detail, name);
          return true;
        });
        return;
      }
      await rejectsAt(loadSpecs([file]), at ? `${file}:${at}` : file, detail);
    });
  }
});

Deno.test("loadSpecs() names a missing path, an empty directory and a file over the file cap", async () => {
  await withTree({ "empty/": "", "empty/x.txt": "", "huge.yaml": "" }, async (dir) => {
    const huge = `${dir}/huge.yaml`;
    await Deno.writeTextFile(huge, (spec("r.io/a:1") + "---\n").repeat(17 * 1024 * 1024 / 50));
    const cases: [string, string][] = [
      [`${dir}/missing`, `${dir}/missing: cannot read spec: no such file`],
      [`${dir}/empty`, `${dir}/empty: holds no *.yaml or *.yml files`],
      [huge, `${huge}: is larger than ${16 * MAX_SPEC_BYTES} bytes`],
    ];
    for (const [path, message] of cases) {
      await assert.rejects(loadSpecs([path]), (e: unknown) => {
        assert.ok(e instanceof SpecError, `${path}: ${e}`);
        assert.equal(e.message, message);
        return true;
      });
    }
    await assert.rejects(loadSpecs([]), UsageError);
  });
});

Deno.test("parseSpecDocuments() reports where each spec's references are written", () => {
  const docs = parseSpecDocuments(
    "---\nimage: r.io/a:1\ntags: [x, 'y']\nmanifests:\n  - image: r.io/s:1\n  - {image: r.io/s:2}\n",
    "s.yaml",
  );
  assert.equal(docs.length, 1);
  const d = docs[0];
  assert.deepEqual(
    [d.document, d.at, d.image, d.tags, d.sources],
    [1, { line: 2, column: 1 }, { line: 2, column: 8 }, [{ line: 3, column: 8 }, {
      line: 3,
      column: 11,
    }], [{ line: 5, column: 12 }, { line: 6, column: 13 }]],
  );
});

Deno.test("loadSpecs() refuses platforms the push would refuse, at the platform key", async () => {
  const entry = (platform: string) =>
    `image: r.io/a:1\nmanifests:\n  - image: r.io/s:1\n  - image: r.io/s:2\n    platform: ${platform}\n`;
  const cases: [string, RegExp][] = [
    ["{os: linux}", /^manifests\[1\]\.platform: needs both os and architecture$/],
    ["{architecture: amd64}", /^manifests\[1\]\.platform: needs both os and architecture$/],
    ["{os: Linux, architecture: amd64}", /^manifests\[1\]\.platform: Unknown os "Linux"/],
    ["{os: linux, architecture: amd46}", /^manifests\[1\]\.platform: Unknown architecture "amd46"/],
    ["{os: linux, architecture: amd64, variant: v9}", /Unknown variant "v9"/],
  ];
  for (const [platform, detail] of cases) {
    await withTree({ "s.yaml": entry(platform) }, async (dir) => {
      await rejectsAt(loadSpecs([`${dir}/s.yaml`]), `${dir}/s.yaml:5:5`, detail);
    });
  }
  await withTree({
    "ok.yaml": entry("{os: linux, architecture: arm, variant: v7}") + "---\n" +
      "image: r.io/b:1\nmanifests:\n  - image: r.io/s:1\n    platform: {}\n",
  }, async (dir) => {
    assert.equal((await loadSpecs([`${dir}/ok.yaml`])).length, 2, "valid and empty platforms");
  });
});

Deno.test("loadSpecs() with format docker refuses annotations, which only an OCI index carries", async () => {
  const text = "image: r.io/a:1\nannotations: {a: b}\nmanifests:\n  - image: r.io/s:1\n";
  await withTree({ "s.yaml": text }, async (dir) => {
    const file = `${dir}/s.yaml`;
    await rejectsAt(
      loadSpecs([file], { format: "docker" }),
      `${file}:2:1`,
      /^a Docker manifest list cannot carry annotations: use --type oci$/,
    );
    assert.equal((await loadSpecs([file], { format: "oci" })).length, 1);
    assert.equal((await loadSpecs([file])).length, 1, "unchecked without a format");
  });
});
