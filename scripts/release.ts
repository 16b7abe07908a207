/**
 * Release builds: `deno compile` of cli.ts for every supported OS/arch, named
 * `manifest-tool-<os>-<arch>[.exe]`, with the git commit stamped into `lib/version.ts` for the
 * build (and restored after), and a `SHA256SUMS` file.
 *
 *   deno run -A scripts/release.ts [--out dist/release] [--target TRIPLE]... [--plan]
 *
 * `--plan` prints what would be built, as JSON, and builds nothing (used by the tests). Compiling
 * needs the Deno runtime for each target (downloaded by deno, or DENORT_BIN for the host).
 */

import { parseArgs } from "node:util";
import { createHash } from "node:crypto";

/** A build target: deno's target triple and the asset name. */
export interface ReleaseTarget {
  triple: string;
  os: string;
  arch: string;
  asset: string;
}

/** Every target a release ships. */
export const TARGETS: readonly ReleaseTarget[] = [
  ["x86_64-unknown-linux-gnu", "linux", "amd64"],
  ["aarch64-unknown-linux-gnu", "linux", "arm64"],
  ["x86_64-apple-darwin", "darwin", "amd64"],
  ["aarch64-apple-darwin", "darwin", "arm64"],
  ["x86_64-pc-windows-msvc", "windows", "amd64"],
].map(([triple, os, arch]) => ({
  triple,
  os,
  arch,
  asset: `manifest-tool-${os}-${arch}${os === "windows" ? ".exe" : ""}`,
}));

const ROOT = new URL("../", import.meta.url).pathname;
const VERSION_FILE = `${ROOT}lib/version.ts`;

async function git(args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd: ROOT, stdout: "piped", stderr: "null" })
    .output();
  return out.success ? new TextDecoder().decode(out.stdout).trim() : "unknown";
}

/** Returns `lib/version.ts` text with COMMIT set to `commit`. */
export function stampCommit(source: string, commit: string): string {
  if (!/^[0-9a-f]{7,40}$|^unknown$/.test(commit)) throw new Error(`Invalid commit "${commit}"`);
  const out = source.replace(
    /export const COMMIT = "[^"]*";/,
    `export const COMMIT = "${commit}";`,
  );
  if (out === source && !source.includes(`COMMIT = "${commit}"`)) {
    throw new Error("lib/version.ts has no COMMIT constant to stamp");
  }
  return out;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      out: { type: "string", default: "dist/release" },
      target: { type: "string", multiple: true },
      plan: { type: "boolean" },
    },
    strict: true,
  });
  const wanted = values.target?.length
    ? TARGETS.filter((t) => values.target!.includes(t.triple))
    : TARGETS;
  if (values.target?.length && wanted.length !== values.target.length) {
    console.error(
      `release: unknown target among ${values.target.join(", ")}; known: ${
        TARGETS.map((t) => t.triple).join(", ")
      }`,
    );
    Deno.exit(2);
  }
  const commit = await git(["rev-parse", "--short=12", "HEAD"]);
  if (values.plan) {
    console.log(JSON.stringify({ commit, out: values.out, targets: wanted }, null, 2));
    Deno.exit(0);
  }
  const original = await Deno.readTextFile(VERSION_FILE);
  await Deno.mkdir(`${ROOT}${values.out}`, { recursive: true });
  const sums: string[] = [];
  try {
    await Deno.writeTextFile(VERSION_FILE, stampCommit(original, commit));
    for (const t of wanted) {
      const output = `${ROOT}${values.out}/${t.asset}`;
      console.error(`release: compiling ${t.asset} (${t.triple})`);
      const r = await new Deno.Command(Deno.execPath(), {
        args: ["compile", "-A", "--target", t.triple, "--output", output, `${ROOT}cli.ts`],
        cwd: ROOT,
      }).output();
      if (!r.success) throw new Error(`deno compile for ${t.triple} failed`);
      const hash = createHash("sha256");
      for await (const chunk of (await Deno.open(output)).readable) hash.update(chunk);
      sums.push(`${hash.digest("hex")}  ${t.asset}`);
    }
  } finally {
    await Deno.writeTextFile(VERSION_FILE, original);
  }
  await Deno.writeTextFile(`${ROOT}${values.out}/SHA256SUMS`, sums.join("\n") + "\n");
  console.log(sums.join("\n"));
}
