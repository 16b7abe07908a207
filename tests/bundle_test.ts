// What ships is what is tested: the single-file bundle (the module graph `deno compile` uses)
// runs `inspect` against a real registry, and a compiled binary does too where Deno's compile
// runtime can be had.
import assert from "node:assert/strict";
import { pushFixtures, startRegistry } from "../scripts/harness/mod.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function run(
  cmd: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("the bundled CLI prints its version and inspects an index in a real registry", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mt-bundle-" });
  try {
    const out = `${dir}/manifest-tool.mjs`;
    const b = await run(Deno.execPath(), [
      "bundle",
      "--quiet",
      // As `deno task bundle`: the browser platform picks the yaml package's ES module build; its
      // Node (CommonJS) build would make the bundle load node:module at every start.
      "--platform=browser",
      "-o",
      out,
      "cli.ts",
    ]);
    assert.equal(b.code, 0, b.stderr);
    const v = await run(Deno.execPath(), ["run", "-A", out, "--version"]);
    assert.equal(v.code, 0, v.stderr);
    const version = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).version;
    assert.match(
      v.stdout,
      new RegExp(`^manifest-tool version ${version.replaceAll(".", "\\.")} \\(commit: `),
    );

    // The yaml parser in the bundle reads a spec and reports where it is wrong.
    await Deno.writeTextFile(`${dir}/bad.yaml`, "image: a/b:c\nmanifests:\n  - image: [\n");
    const y = await run(Deno.execPath(), [
      "run",
      "-A",
      out,
      "push",
      "from-spec",
      `${dir}/bad.yaml`,
    ]);
    assert.equal(y.code, 2, y.stderr);
    assert.match(y.stderr, /bad\.yaml:4:1: invalid YAML/);

    await using reg = await startRegistry();
    const set = await pushFixtures(reg, { repository: "bundle/app", index: { tag: "multi" } });
    const r = await run(Deno.execPath(), [
      "run",
      "-A",
      out,
      "--plain-http",
      "inspect",
      `${reg.host}/bundle/app:multi`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(set.index!.digest));
    assert.match(r.stdout, /Contains 6 manifest references \(6 images, 0 attestation\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// deno compile downloads its runtime (denort) unless DENORT_BIN names one; this machine cannot
// reach the download, so the test runs only where a runtime is at hand.
const DENORT = Deno.env.get("DENORT_BIN");
Deno.test({
  name: "deno compile builds a binary that runs --version (needs DENORT_BIN)",
  ignore: !DENORT,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "mt-compile-" });
    try {
      const c = await run(Deno.execPath(), [
        "compile",
        "-A",
        "--output",
        `${dir}/manifest-tool`,
        "cli.ts",
      ]);
      assert.equal(c.code, 0, c.stderr);
      const v = await run(`${dir}/manifest-tool`, ["--version"]);
      assert.equal(v.code, 0, v.stderr);
      assert.match(v.stdout, /^manifest-tool version /);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
if (!DENORT) {
  console.log(
    "skipped: deno compile test: DENORT_BIN is not set and the Deno runtime download is unreachable here",
  );
}
