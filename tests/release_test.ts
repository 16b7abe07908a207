import assert from "node:assert/strict";
import { stampCommit, TARGETS } from "../scripts/release.ts";

Deno.test("release targets cover Linux, macOS (amd64, arm64) and Windows amd64 with manifest-tool-<os>-<arch> names", () => {
  assert.deepEqual(TARGETS.map((t) => t.asset), [
    "manifest-tool-linux-amd64",
    "manifest-tool-linux-arm64",
    "manifest-tool-darwin-amd64",
    "manifest-tool-darwin-arm64",
    "manifest-tool-windows-amd64.exe",
  ]);
});

Deno.test("stampCommit() writes the commit into lib/version.ts and refuses junk", async () => {
  const src = await Deno.readTextFile(new URL("../lib/version.ts", import.meta.url));
  assert.match(stampCommit(src, "0123456789ab"), /export const COMMIT = "0123456789ab";/);
  assert.throws(() => stampCommit(src, 'x"; evil'), /Invalid commit/);
});

Deno.test("workflows are valid YAML and pin every action to a commit", async () => {
  const { parse } = await import("npm:yaml@2.9.1");
  for (const name of ["ci.yml", "release.yml"]) {
    const text = await Deno.readTextFile(new URL(`../.github/workflows/${name}`, import.meta.url));
    const doc = parse(text) as {
      jobs: Record<string, { steps: { uses?: string; run?: string }[] }>;
    };
    const steps = Object.values(doc.jobs).flatMap((j) => j.steps);
    assert.ok(steps.some((s) => s.run?.includes("bash .ci/run")), `${name} runs the tests`);
    for (const s of steps.filter((s) => s.uses)) {
      assert.match(s.uses!, /@[0-9a-f]{40}$/, `${name}: ${s.uses} must be pinned to a commit`);
    }
  }
});
