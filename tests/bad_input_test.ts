// Bad input: a corpus of hostile and malformed specs (tests/testdata/bad/), bad references,
// platforms and flags, unreadable files, corrupt docker configs and credential helpers that fail
// or print garbage, each with its one-line error and exit code (2 for usage, 1 for failure); and a
// seeded property test: random bytes as spec files or as references never crash the CLI.
// Everything stays on this machine: references name 127.0.0.1:9, a port Deno refuses to connect
// to, so anything that parses fails at once without a packet leaving.
import assert from "node:assert/strict";
import { main } from "../cli.ts";
import { parseSpec } from "../lib/spec_parse.ts";
import { parseReference } from "../lib/reference.ts";
import { runCli } from "./_helpers/cli.ts";

const BAD = new URL("./testdata/bad/", import.meta.url).pathname;
const HINT = "Run 'manifest-tool --help' for usage.";

/** Runs the CLI in-process (no subprocess: fast enough for hundreds of cases). */
async function cli(args: string[], env: Record<string, string> = {}) {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    out: (t) => stdout += t,
    err: (t) => stderr += t,
    isTerminal: false,
    env: (n) => env[n],
  });
  return { code, stdout, stderr };
}

/**
 * Asserts a clean failure: the exit code, nothing on stdout, one line on stderr (a usage error
 * adds the fixed hint line), no stack trace, the expected message.
 */
function assertFails(
  r: { code: number; stdout: string; stderr: string },
  code: 1 | 2,
  re: RegExp,
  label: string,
): void {
  assert.equal(r.code, code, `${label}: exit ${r.code}: ${r.stderr}`);
  assert.equal(r.stdout, "", `${label}: nothing on stdout`);
  const lines = r.stderr.replace(/\n$/, "").split("\n").filter((l) => l !== HINT);
  assert.equal(lines.length, 1, `${label}: one line: ${JSON.stringify(r.stderr)}`);
  assert.ok(lines[0].startsWith("manifest-tool: "), `${label}: ${lines[0]}`);
  assert.ok(!/^\s+at /m.test(r.stderr), `${label}: stack trace`);
  assert.match(lines[0], re, label);
}

Deno.test("the bad-spec corpus: each file is one line naming file:line:column, exit 2", async () => {
  const cases: [string, RegExp][] = [
    ["empty.yaml", /empty\.yaml: the spec is empty$/],
    ["comments-only.yaml", /comments-only\.yaml: the spec is empty$/],
    ["syntax.yaml", /syntax\.yaml:1:1: invalid YAML: Tabs are not allowed as indentation/],
    ["tab-indent.yaml", /tab-indent\.yaml:3:1: invalid YAML: Tabs are not allowed/],
    ["unclosed-quote.yaml", /unclosed-quote\.yaml:4:1: invalid YAML: Missing closing "quote/],
    // Several documents are several specs (#16): each is checked, the second lacks its sources.
    ["two-documents.yaml", /two-documents\.yaml:5:1: missing key "manifests"/],
    ["tags-map.yaml", /tags-map\.yaml:2:7: tags must be a list of strings$/],
    ["manifests-string.yaml", /manifests-string\.yaml:2:12: manifests must be a list$/],
    ["image-number-list.yaml", /image-number-list\.yaml:1:8: image must be a string$/],
    [
      "manifest-entry-string.yaml",
      /manifest-entry-string\.yaml:3:5: manifests\[0\] must be a mapping with image and platform$/,
    ],
    [
      "platform-string.yaml",
      /platform-string\.yaml:4:15: manifests\[0\]\.platform must be a mapping$/,
    ],
    [
      "annotations-nested.yaml",
      /annotations-nested\.yaml:3:36: annotations\["org\.opencontainers\.image\.source"\] must be a string$/,
    ],
    ["binary-tag.yaml", /binary-tag\.yaml:1:17: image must be a string$/],
    [
      "unknown-key.yaml",
      /unknown-key\.yaml:4:5: unknown key "platfrom" in manifests\[0\]: expected image or platform$/,
    ],
    [
      "unknown-platform-key.yaml",
      /unknown-platform-key\.yaml:4:27: unknown key "arch" in manifests\[0\]\.platform/,
    ],
    ["duplicate-key.yaml", /duplicate-key\.yaml:4:1: duplicate key "image"$/],
    ["alias-unknown.yaml", /alias-unknown\.yaml:1:8: unknown alias "\*target"$/],
    // The bomb is never expanded: the first alias in a place that wants a mapping stops it.
    ["alias-bomb.yaml", /alias-bomb\.yaml:7:8: manifests\[1\] must be a mapping/],
    ["not-utf8.yaml", /not-utf8\.yaml: is not UTF-8 text$/],
    // The NUL is printed escaped: no error line carries a raw control character (issue 13.2).
    ["nul-byte.yaml", /Cannot parse reference "127\.0\.0\.1:9\/a:v1\\u\{0\}": invalid tag/],
    [
      "target-uppercase.yaml",
      /Cannot parse reference "127\.0\.0\.1:9\/App:v1": repository must be lowercase$/,
    ],
    [
      "target-digest.yaml",
      /target-digest\.yaml:1:8: image "127\.0\.0\.1:9\/a@sha256:0{64}" must name a tag, not a digest$/,
    ],
    [
      "source-bad-digest.yaml",
      /invalid digest "sha256:1234": sha256 needs 64 hex characters, got 4$/,
    ],
    [
      "source-spaces.yaml",
      /Cannot parse reference "127\.0\.0\.1:9\/a:amd 64": invalid tag "amd 64"/,
    ],
    ["bad-arch.yaml", /bad-arch\.yaml:4:5: manifests\[0\]\.platform: Unknown architecture "amd46"/],
    ["bad-os.yaml", /Unknown os "linuz" in platform "linuz\/amd64"/],
    ["bad-variant.yaml", /Unknown variant "v7 extra" for architecture "arm"/],
    [
      "half-platform.yaml",
      /half-platform\.yaml:4:5: manifests\[0\]\.platform: needs both os and architecture/,
    ],
  ];
  const files = [...Deno.readDirSync(BAD)].filter((e) => e.isFile && e.name.endsWith(".yaml"))
    .map((e) => e.name).sort();
  assert.deepEqual(files, cases.map(([f]) => f).sort(), "every corpus file has its expected error");
  for (const [file, re] of cases) {
    const r = await cli(["push", "from-spec", `${BAD}${file}`]);
    assertFails(r, 2, re, file);
    // An error that names its place in the file is the whole of stderr: no usage hint after it.
    if (r.stderr.includes(`${file}:`)) {
      assert.equal(r.stderr.trimEnd().split("\n").length, 1, `${file}: ${r.stderr}`);
    }
  }
});

Deno.test("hostile specs made at test time: over 1 MiB, an endless file, alias fan-out, deep nesting, a directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mt-bad-" });
  try {
    const entry =
      "  - image: 127.0.0.1:9/a:amd64\n    platform: {os: linux, architecture: amd64}\n";
    const huge = "image: 127.0.0.1:9/a:v1\nmanifests:\n" +
      entry.repeat(Math.ceil((1.5 * 1024 * 1024) / entry.length));
    await Deno.writeTextFile(`${dir}/huge.yaml`, huge);
    const features = Array.from({ length: 1000 }, () => "sse4").join(", ");
    const fanout = "image: 127.0.0.1:9/a:v1\nmanifests:\n" +
      `  - &e {image: 127.0.0.1:9/a:amd64, platform: {os: linux, architecture: amd64, features: [${features}]}}\n` +
      "  - *e\n".repeat(1000);
    await Deno.writeTextFile(`${dir}/fanout.yaml`, fanout);
    await Deno.writeTextFile(
      `${dir}/deep.yaml`,
      `tags: ${"[".repeat(20_000)}${"]".repeat(20_000)}\n`,
    );
    await Deno.mkdir(`${dir}/a-directory.yaml`);
    const cases: [string, RegExp][] = [
      [`${dir}/huge.yaml`, /huge\.yaml:1:1: a document is larger than 1048576 bytes$/],
      // A device that never ends reports size 0: the read is capped all the same.
      ["/dev/zero", /\/dev\/zero: is larger than 16777216 bytes$/],
      [
        `${dir}/fanout.yaml`,
        /fanout\.yaml:\d+:\d+: aliases expand the spec to more than \d+ nodes$/,
      ],
      [`${dir}/deep.yaml`, /deep\.yaml:1:1: the YAML is nested too deeply$/],
      // A directory stands for its specs (#16): this one has none.
      [`${dir}/a-directory.yaml`, /a-directory\.yaml: holds no \*\.yaml or \*\.yml files$/],
      [`${dir}/missing.yaml`, /missing\.yaml: cannot read spec: no such file$/],
    ];
    for (const [file, re] of cases) {
      const started = performance.now();
      assertFails(await cli(["push", "from-spec", file]), 2, re, file);
      assert.ok(performance.now() - started < 10_000, `${file}: fails fast`);
    }
    if (Deno.uid() === 0) {
      console.log(
        "skipped: unreadable spec and CA files (chmod 000): tests run as root, where chmod does not stop reads",
      );
    } else {
      await Deno.writeTextFile(`${dir}/locked.yaml`, "image: 127.0.0.1:9/a:v1\n");
      await Deno.chmod(`${dir}/locked.yaml`, 0o000);
      assertFails(
        await cli(["push", "from-spec", `${dir}/locked.yaml`]),
        2,
        /locked\.yaml: cannot read spec: .*(denied|permission)/i,
        "unreadable spec",
      );
      await Deno.writeTextFile(`${dir}/ca.pem`, "x");
      await Deno.chmod(`${dir}/ca.pem`, 0o000);
      assertFails(
        await cli(["--ca-file", `${dir}/ca.pem`, "inspect", "127.0.0.1:9/a:b"]),
        2,
        /--ca-file ".*ca\.pem": .*(denied|permission)/i,
        "unreadable CA file",
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad references, platforms and flags: one line each, exit 2 (or 1 where only a registry can tell)", async () => {
  const R = "127.0.0.1:9";
  const cases: [string[], 1 | 2, RegExp][] = [
    // References.
    [["inspect", "Foo/bar"], 2, /Cannot parse reference "Foo\/bar": repository must be lowercase$/],
    [["inspect", ""], 2, /Cannot parse reference "": empty reference$/],
    [["inspect", `${R}/a b`], 2, /invalid repository component "a b"/],
    [["inspect", `${R}/x@sha256:zz`], 2, /invalid digest "sha256:zz": sha256 needs 64 hex/],
    [["inspect", `${R}/a@sha512:abc`], 2, /sha512 needs 128 hex characters, got 3$/],
    [["inspect", `${R}/a:`], 2, /missing tag after ":"$/],
    [["inspect", "127.0.0.1:99999/a:b"], 2, /invalid registry port "99999"/],
    [["inspect", ":tag"], 2, /missing repository name$/],
    [["inspect", `${R}/a:b:c`], 2, /invalid repository component "a:b"/],
    [["inspect", `${R}/${"a".repeat(300)}`], 2, /name is longer than 255 characters$/],
    [["inspect", `http://${R}/a:b`], 2, /must not include a scheme$/],
    [["inspect", `${R}/a`, `${R}/b`], 2, /inspect takes one image reference, got 2$/],
    [["inspect"], 2, /inspect takes one image reference, got none$/],
    [["platforms"], 2, /platforms takes at least one image reference$/],
    [["check-registry", `${R}/NS`], 2, /repository must be lowercase$/],
    // Platforms.
    [
      ["inspect", "--platform", "linux", `${R}/a:b`],
      2,
      /Invalid platform "linux": expected os\/arch/,
    ],
    [
      [
        "push",
        "from-args",
        "--platforms",
        "linux/arm/v9",
        "--template",
        `${R}/a:OS-ARCH`,
        "--target",
        `${R}/a:v1`,
      ],
      2,
      /Unknown variant "v9" for architecture "arm"/,
    ],
    [
      [
        "push",
        "from-args",
        "--platforms",
        "linux/amd64/v1/x",
        "--template",
        `${R}/a:OS-ARCH`,
        "--target",
        `${R}/a:v1`,
      ],
      2,
      /Invalid platform "linux\/amd64\/v1\/x"/,
    ],
    [
      [
        "push",
        "from-args",
        "--platforms",
        ",",
        "--template",
        `${R}/a:OS-ARCH`,
        "--target",
        `${R}/a:v1`,
      ],
      2,
      /push from-args needs "--platforms/,
    ],
    // Flags.
    [["--nope"], 2, /unknown flag "--nope"$/],
    [["inspect", "--nope", "x"], 2, /inspect: unknown flag "--nope"$/],
    [
      ["--timeout", "abc", "inspect", "x"],
      2,
      /Invalid --timeout "abc": expected a positive number/,
    ],
    [["--timeout", "0", "inspect", "x"], 2, /Invalid --timeout "0"/],
    [["--timeout", "-1", "inspect", "x"], 2, /--timeout/],
    [["inspect", `${R}/a:b`, "--timeout"], 2, /flag "--timeout" needs a value$/],
    [["--username"], 2, /flag "--username" needs a value$/],
    [
      ["push", "--type", "xml", "from-spec", "f"],
      2,
      /Invalid --type "xml": expected docker or oci$/,
    ],
    [["push", "from-spec"], 2, /push from-spec takes YAML files or directories, got none$/],
    [["push", "from-spec", "a", "b"], 2, /a: cannot read spec: no such file$/],
    [["push", "from-spec", "f.yaml", "--target", "x"], 2, /flag "--target" belongs to from-args$/],
    [["push", "frob"], 2, /Unknown push mode "frob"/],
    [["push", "from-args"], 2, /push from-args needs "--platforms/],
    [
      [
        "push",
        "from-args",
        "--platforms",
        "linux/amd64",
        "--template",
        `${R}/a:OS-ARCH`,
        "--target",
        `${R}/a:v`,
        "--annotations",
        "k",
      ],
      2,
      /Invalid --annotations "k": expected key=value$/,
    ],
    [["completions", "tcsh"], 2, /completions takes one shell: bash, zsh or fish, got "tcsh"$/],
    [["manifest", "frob"], 2, /Unknown manifest command "frob"/],
    // A file named by a flag is checked before any request, as a spec file is.
    [
      ["--ca-file", "/nonexistent/ca.pem", "inspect", `${R}/a:b`],
      2,
      /--ca-file "\/nonexistent\/ca\.pem": no such file$/,
    ],
    [
      ["--ca-file", new URL(import.meta.url).pathname, "inspect", `${R}/a:b`],
      2,
      /--ca-file ".*bad_input_test\.ts": holds no PEM certificate/,
    ],
  ];
  for (const [args, code, re] of cases) {
    assertFails(await cli(args), code, re, JSON.stringify(args));
  }
});

/** A registry stand-in that asks every request for Basic credentials, so credentials are looked up. */
function challenger(): { host: string; close(): Promise<void> } {
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    () =>
      Response.json({ errors: [{ code: "UNAUTHORIZED" }] }, {
        status: 401,
        headers: { "www-authenticate": 'Basic realm="bad-input"' },
      }),
  );
  return {
    host: `127.0.0.1:${(server.addr as Deno.NetAddr).port}`,
    close: async () => {
      ac.abort();
      await server.finished;
    },
  };
}

Deno.test("corrupt docker configs and credential helpers that fail or print garbage: one line, exit 1, no secret", async () => {
  const reg = challenger();
  const dir = await Deno.makeTempDir({ prefix: "mt-cfg-" });
  try {
    const cases: [string, RegExp][] = [
      ["not-json", /Cannot parse docker config ".*config\.json": /],
      ["array", /Cannot parse docker config ".*config\.json": not a JSON object$/],
      ["auth-not-base64", /auths\["127\.0\.0\.1:\d+"\]\.auth is not base64$/],
      ["auth-no-colon", /auths\["127\.0\.0\.1:\d+"\]\.auth is not base64 of user:password$/],
      [
        "helper-fails",
        /Credential helper "docker-credential-fail" failed for 127\.0\.0\.1:\d+ \(exit code 1\)$/,
      ],
      [
        "helper-garbage",
        /Credential helper "docker-credential-garbage" printed something that is not JSON/,
      ],
      [
        "helper-nosecret",
        /Credential helper "docker-credential-nosecret" printed JSON without a "Secret"/,
      ],
      // Nothing for this host: the request goes on without credentials, and is refused.
      [
        "helper-notfound",
        /401 Unauthorized from 127\.0\.0\.1:\d+: check --username\/--password or docker login 127\.0\.0\.1:\d+$/,
      ],
      [
        "store-missing",
        /Credential helper "docker-credential-does-not-exist" named in ".*" cannot be run/,
      ],
    ];
    for (const [name, re] of cases) {
      const cfg = `${dir}/${name}`;
      await Deno.mkdir(cfg);
      const text = await Deno.readTextFile(`${BAD}docker/${name}/config.json`);
      await Deno.writeTextFile(`${cfg}/config.json`, text.replaceAll("{{HOST}}", reg.host));
      // Spawned: credential helpers are found on PATH, which only a new process can be given.
      const r = await runCli(
        ["--plain-http", "--timeout", "5", "--docker-cfg", cfg, "inspect", `${reg.host}/a:b`],
        { env: { PATH: `${BAD}helpers:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}` } },
      );
      assertFails(r, 1, re, name);
      assert.ok(!/S3CRET/.test(r.stderr), `${name}: a secret was printed: ${r.stderr}`);
    }
  } finally {
    await reg.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** mulberry32: a small seeded PRNG, so every run tries the same cases. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALID_SPEC = `image: 127.0.0.1:9/app:v1
tags: [latest, "1.0"]
annotations: {a: b}
manifests:
  - image: 127.0.0.1:9/app:amd64
    platform: {os: linux, architecture: amd64}
  - &arm
    image: 127.0.0.1:9/app:arm
    platform:
      os: linux
      architecture: arm
      variant: v7
`;
const YAMLISH = [..."abcxyz019:/@._-[]{}&*!|>'\"#%`~?, \n\n\t\\"].concat([
  "image",
  "manifests",
  "platform",
  "tags",
  "- ",
  ": ",
  "&a ",
  "*a",
  "127.0.0.1:9/a:b",
  "sha256:",
  "\u00e9",
  "\u202e",
  "\u0000",
]);
const REFISH = [..."abcXYZ0189:/@._-+[]% \t\n\u00e9"].concat([
  "127.0.0.1:9/",
  "sha256:",
  "localhost",
]);

/** Whether running the CLI on `text` as a reference stays on 127.0.0.1:9 (or never connects). */
function refStaysHere(text: string): boolean {
  try {
    return parseReference(text).registry === "127.0.0.1:9";
  } catch {
    return true;
  }
}

/** Whether pushing `text` as a spec stays on 127.0.0.1:9 (or never connects). */
function specStaysHere(text: string): boolean {
  let spec;
  try {
    spec = parseSpec(text, "s.yaml");
  } catch {
    return true;
  }
  return [spec.image, ...(spec.manifests ?? []).map((m) => m.image)].every(refStaysHere);
}

Deno.test("property: 200 random byte strings as spec files or references never crash the CLI", async () => {
  const rand = prng(0x5eed_2026);
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]) => xs[int(xs.length)];
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(256));
  const mutate = (s: string) => {
    let out = s;
    for (let k = int(3); k > 0; k--) {
      const at = int(out.length + 1);
      const op = int(3);
      if (op === 0) out = out.slice(0, at) + out.slice(at + 1 + int(8));
      else if (op === 1) out = out.slice(0, at) + pick(YAMLISH) + out.slice(at);
      else out = out.slice(0, at) + out.slice(int(out.length)).slice(0, 20) + out.slice(at);
    }
    return out;
  };
  const dir = await Deno.makeTempDir({ prefix: "mt-prop-" });
  const tally = { cases: 0, exit1: 0, exit2: 0, skipped: 0 };
  const started = performance.now();
  try {
    while (tally.cases < 200) {
      const kind = tally.cases % 4;
      let args: string[];
      let shown: string;
      if (kind < 3) {
        // A spec file: random bytes, YAML-looking noise, or a valid spec with a few edits.
        const data = kind === 0 ? bytes(int(200)) : new TextEncoder().encode(
          kind === 1
            ? Array.from({ length: int(60) }, () => pick(YAMLISH)).join("")
            : mutate(VALID_SPEC),
        );
        const text = new TextDecoder().decode(data);
        if (!specStaysHere(text)) {
          tally.skipped++;
          continue;
        }
        await Deno.writeFile(`${dir}/s.yaml`, data);
        args = ["push", "from-spec", `${dir}/s.yaml`];
        shown = JSON.stringify(text);
      } else {
        // A reference: noise, random bytes, or a valid one with edits; offline either way.
        const r = int(3);
        let text = r === 0
          ? Array.from({ length: int(40) }, () => pick(REFISH)).join("")
          : r === 1
          ? new TextDecoder().decode(bytes(int(40)))
          : mutate("127.0.0.1:9/app/x:v1.0@sha256:" + "ab".repeat(32));
        if (!refStaysHere(text)) text = `127.0.0.1:9/${text}`;
        if (!refStaysHere(text)) {
          tally.skipped++;
          continue;
        }
        args = ["--timeout", "2", "inspect", text];
        shown = JSON.stringify(text);
      }
      tally.cases++;
      const res = await cli(args);
      assert.ok(res.code === 1 || res.code === 2, `${shown}: exit ${res.code}: ${res.stderr}`);
      if (res.code === 1) tally.exit1++;
      else tally.exit2++;
      const lines = res.stderr.replace(/\n$/, "").split("\n").filter((l) => l !== HINT);
      assert.equal(lines.length, 1, `${shown}: one line: ${JSON.stringify(res.stderr)}`);
      assert.ok(lines[0].startsWith("manifest-tool: "), `${shown}: ${res.stderr}`);
      assert.ok(!/^\s+at /m.test(res.stderr), `${shown}: stack trace: ${res.stderr}`);
      assert.equal(res.stdout, "", `${shown}: nothing on stdout`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `property: ${tally.cases} cases (${tally.exit2} usage errors, ${tally.exit1} failures; ` +
      `${tally.skipped} candidates skipped as they would leave 127.0.0.1:9) in ${secs}s`,
  );
  assert.ok(tally.exit1 > 0 && tally.exit2 > 0, "both outcomes are exercised");
});
