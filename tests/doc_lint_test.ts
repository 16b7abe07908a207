// Every module of deno.json's exports map is an entry point of its own on JSR: its documentation
// must hold alone. `deno doc --lint` checks that each documents its exports (JSDoc, explicit
// types) and exports every type its public types reference (`private-type-ref`), which `mod.ts`
// re-exporting everything does not prove for a subpath such as `./manifest`.
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/** `deno doc --lint file`: its exit code and what it printed on stderr. */
async function docLint(file: string): Promise<{ file: string; code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", file],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return { file, code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

// One run per file: given several files, `deno doc --lint` counts a type exported by any of them as
// exported by all, so `deno doc --lint lib/manifest.ts mod.ts` passes while `./manifest` alone
// references a type it does not export.
Deno.test("deno doc --lint passes on each module of deno.json's exports map, linted alone", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const files = Object.values(config.exports as Record<string, string>);
  assert.ok(files.includes("./mod.ts") && files.length >= 10, `exports: ${files.join(", ")}`);
  const runs = await Promise.all(files.map(docLint));
  const failed = runs.filter((r) => r.code !== 0);
  assert.deepEqual(
    failed.map((r) => r.file),
    [],
    failed.map((r) => `${r.file} (exit ${r.code}):\n${r.stderr}`).join("\n"),
  );
});
