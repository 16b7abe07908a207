/**
 * Independent judges: peer CLIs (skopeo, crane, regctl, oras) that read a manifest back from a
 * plain-HTTP harness registry, each in its own process with an empty HOME, bounded in time.
 * Those not installed are left out (the caller says so); `.tools/go/bin` is searched before PATH.
 */

import { createHash } from "node:crypto";
import { findTool } from "../../scripts/harness/mod.ts";

/** A peer CLI that can read a manifest's exact bytes. */
export interface Judge {
  /** Its name: `skopeo`, `crane`, `regctl` or `oras`. */
  name: string;
  /** Its binary. */
  bin: string;
  /** Arguments that print the raw manifest at `host/repo:ref` (or `@digest`). */
  args(host: string, ref: string): string[];
}

/** What a peer CLI printed. */
export interface ToolRun {
  /** Exit code. */
  code: number;
  /** Exact bytes printed (a raw manifest is hashed as printed). */
  stdout: Uint8Array;
  /** Error text. */
  stderr: string;
}

const TOOL_TIMEOUT_MS = 120_000;

const KNOWN: Omit<Judge, "bin">[] = [
  {
    name: "skopeo",
    args: (_h, ref) => ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`],
  },
  // crane speaks plain HTTP to loopback registries by itself; --insecure allows it elsewhere.
  { name: "crane", args: (_h, ref) => ["manifest", "--insecure", ref] },
  {
    name: "regctl",
    args: (
      h,
      ref,
    ) => ["--host", `reg=${h},tls=disabled`, "manifest", "get", "--format", "raw-body", ref],
  },
  { name: "oras", args: (_h, ref) => ["manifest", "fetch", "--plain-http", ref] },
];

let home: Promise<string> | undefined;

/** One empty HOME for every peer CLI run of this test module, removed when the module unloads. */
function judgeHome(): Promise<string> {
  return home ??= Deno.makeTempDir({ prefix: "mt-judge-home-" }).then((dir) => {
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // already gone
      }
    });
    return dir;
  });
}

/** Runs a peer CLI with an empty HOME (no docker config, no regctl config of the user's). */
export async function runTool(
  bin: string,
  args: string[],
  stdin?: Uint8Array,
  cwd?: string,
): Promise<ToolRun> {
  const dir = await judgeHome();
  const child = new Deno.Command(bin, {
    args,
    ...(cwd ? { cwd } : {}),
    env: { HOME: dir, DOCKER_CONFIG: `${dir}/.docker` },
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(TOOL_TIMEOUT_MS),
  }).spawn();
  if (stdin) {
    const w = child.stdin.getWriter();
    await w.write(stdin);
    await w.close();
  }
  const out = await child.output();
  return { code: out.code, stdout: out.stdout, stderr: new TextDecoder().decode(out.stderr) };
}

/** The judges installed here, and one line naming those that are not. */
export async function installedJudges(): Promise<{ judges: Judge[]; missing: string[] }> {
  const judges: Judge[] = [];
  const missing: string[] = [];
  for (const j of KNOWN) {
    const bin = await findTool(j.name);
    if (bin) judges.push({ ...j, bin });
    else missing.push(j.name);
  }
  return { judges, missing };
}

const sha256 = (b: Uint8Array) => "sha256:" + createHash("sha256").update(b).digest("hex");

/**
 * The digest of the manifest each installed judge reads at `host/repo:ref` (or `@digest`): a
 * judge that fails gives its error text instead, so a mismatch names the tool and what it said.
 * `atMost` limits how many judges are asked (the first installed ones: skopeo, crane, …).
 */
export async function judgeDigests(
  host: string,
  ref: string,
  atMost = Infinity,
): Promise<Record<string, string>> {
  const judges = (await installedJudges()).judges.slice(0, atMost);
  const out: Record<string, string> = {};
  await Promise.all(judges.map(async (j) => {
    const r = await runTool(j.bin, j.args(host, `${host}/${ref}`));
    out[j.name] = r.code === 0 ? sha256(r.stdout) : `exit ${r.code}: ${r.stderr.trim()}`;
  }));
  return out;
}
