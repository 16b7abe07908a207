/** Doc examples must fail when they are wrong: `deno test --doc` passes a false console.assert. */

import assert from "node:assert/strict";

async function* sources(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) yield* sources(path);
    else if (e.name.endsWith(".ts")) yield path;
  }
}

Deno.test("doc examples in lib/, cli/, cli.ts and mod.ts assert with node:assert, never console.assert", async () => {
  const root = new URL("..", import.meta.url).pathname;
  const offenders: string[] = [];
  const files = ["cli.ts", "mod.ts"];
  for (const dir of ["lib", "cli"]) {
    for await (const f of sources(`${root}${dir}`)) files.push(f.slice(root.length));
  }
  for (const f of files) {
    const text = await Deno.readTextFile(`${root}${f}`);
    text.split("\n").forEach((l, i) => {
      if (l.includes("console.assert")) offenders.push(`${f}:${i + 1}`);
    });
  }
  assert.deepEqual(offenders, []);
});
