/** The tests docs/SECURITY.md names as proof must exist, under the names it gives. */

import assert from "node:assert/strict";

const root = new URL("..", import.meta.url).pathname;

/** Each `tests/x.ts`: "name", "name" of a table cell, names cut with "…" kept as their pieces. */
function namedTests(cell: string): { file: string; pieces: string[] }[] {
  const out: { file: string; pieces: string[] }[] = [];
  for (const part of cell.split(/(?=`tests\/)/)) {
    const file = /^`(tests\/[^`]+\.ts)`/.exec(part)?.[1];
    if (!file) continue;
    for (const m of part.matchAll(/"([^"]+)"/g)) {
      out.push({ file, pieces: m[1].split("…").map((s) => s.trim()).filter(Boolean) });
    }
  }
  return out;
}

Deno.test("every test docs/SECURITY.md names for issue #13 exists in the file it names", async () => {
  const doc = await Deno.readTextFile(`${root}docs/SECURITY.md`);
  const section = doc.split("## Threats of issue #13")[1].split("\n## ")[0];
  const missing: string[] = [];
  let named = 0;
  for (const row of section.split("\n").filter((l) => /^\| \d+ /.test(l))) {
    const cell = row.split("|")[4];
    for (const { file, pieces } of namedTests(cell)) {
      named++;
      const text = await Deno.readTextFile(`${root}${file}`).catch(() => "");
      const found = text.split("\n").some((line) => {
        let at = 0;
        return pieces.every((p) => (at = line.indexOf(p, at)) >= 0 && (at += p.length) > 0);
      });
      if (!found) missing.push(`${file}: ${pieces.join(" … ")}`);
    }
  }
  assert.ok(named >= 20, `only ${named} tests named`);
  assert.deepEqual(missing, []);
});
