/**
 * Runs the CLI like tests/_helpers/cli.ts, but kills it after {@link RUN_BOUND_MS}: a run that
 * might never end on a broken build (a trickle, /dev/zero) fails its test instead of hanging it.
 */

import { cliArgs, cliEnv } from "./cli.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
/** Longest a bounded run may take before it is killed, ms. */
export const RUN_BOUND_MS = 45_000;

/** Runs `manifest-tool ...args` with `env` added, killed after {@link RUN_BOUND_MS}. */
export async function runBounded(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stderr: string; stdout: string; ms: number }> {
  const home = await Deno.makeTempDir({ prefix: "mt-home-" });
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: cliArgs(args),
    cwd: ROOT,
    clearEnv: true,
    env: cliEnv(home, env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), RUN_BOUND_MS);
  const out = await child.output();
  clearTimeout(timer);
  await Deno.remove(home, { recursive: true }).catch(() => {});
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
    ms: performance.now() - started,
  };
}
