// The same spec pushed by manifest-tool v2 and by us gives the same index bytes, so the same digest
// (a pipeline that moves from one tool to the other does not change its tags' digests). Run where
// manifest-tool v2 is installed (`.tools/go/bin` or PATH; docs/BENCHMARKS.md says how to build it),
// skipped, saying so, elsewhere.
import assert from "node:assert/strict";
import { findTool, pushFixtures, startRegistry } from "../scripts/harness/mod.ts";
import { runCli } from "./_helpers/cli.ts";

const MANIFEST_TOOL = await findTool("manifest-tool");

/** The `Digest: sha256:… SIZE` line of a push, or the whole output when there is none. */
function digestLine(out: string): string {
  return /^Digest: sha256:[0-9a-f]{64} \d+$/m.exec(out)?.[0] ?? out;
}

Deno.test("push from-spec gives manifest-tool v2's digest for the same spec (Docker list and OCI index)", async () => {
  if (!MANIFEST_TOOL) {
    console.log("skipped: manifest-tool v2 is not installed (docs/BENCHMARKS.md: how to build it)");
    return;
  }
  await using reg = await startRegistry();
  const H = reg.host;
  await pushFixtures(reg, { repository: "d/app", format: "docker" });
  await pushFixtures(reg, {
    repository: "o/app",
    format: "oci",
    index: { tag: "multi", attestations: true },
    seed: "o",
  });
  const dir = await Deno.makeTempDir({ prefix: "mt-compat-" });
  try {
    const cases: [string, string[], string][] = [
      // Platforms read from the configs: arm variants, Windows os.version.
      ["d/app", ["linux-amd64", "linux-arm64-v8", "linux-arm-v7", "windows-amd64"], ""],
      ["o/app", ["linux-amd64", "linux-s390x"], 'annotations:\n  org.example.a: "x<y&z"\n'],
      // An index source: its images and their attestations (OCI only: manifest-tool v2 also puts
      // the attestations, annotated, in a Docker list, whose schema has no annotations; we leave
      // them out of one, saying so).
      ["o/app", ["multi"], "oci-only"],
    ];
    for (const [repo, tags, extra] of cases) {
      for (const type of ["docker", "oci"]) {
        if (extra && type === "docker") continue; // annotations: OCI only
        const spec = async (tag: string) => {
          const file = `${dir}/${tag}.yaml`;
          await Deno.writeTextFile(
            file,
            `image: ${H}/${repo}:${tag}\nmanifests:\n` +
              tags.map((t) => `  - image: ${H}/${repo}:${t}\n`).join("") +
              (extra === "oci-only" ? "" : extra),
          );
          return file;
        };
        const label = `${repo} ${tags.join(",")} --type ${type}`;
        const theirs = await new Deno.Command(MANIFEST_TOOL, {
          args: ["--plain-http", "push", "--type", type, "from-spec", await spec(`v2-${type}`)],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const text = new TextDecoder().decode(theirs.stdout) +
          new TextDecoder().decode(theirs.stderr);
        assert.equal(theirs.code, 0, `manifest-tool: ${label}: ${text}`);
        const ours = await runCli([
          "--plain-http",
          "push",
          "--type",
          type,
          "from-spec",
          await spec(`ours-${type}`),
        ]);
        assert.equal(ours.code, 0, `${label}: ${ours.stderr}`);
        assert.equal(digestLine(ours.stdout), digestLine(text), label);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
