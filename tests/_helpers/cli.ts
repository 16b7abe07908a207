/**
 * Runs the CLI as a user would: a separate `deno run` process (or the bundled file when
 * `MANIFEST_TOOL_BUNDLE` names it), with its own environment, capturing exit code and output.
 */

const ROOT = new URL("../../", import.meta.url).pathname;

/** What a CLI run gave. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The `deno` arguments that run `manifest-tool ...args` (the bundle when one is named). */
export function cliArgs(args: string[]): string[] {
  const entry = Deno.env.get("MANIFEST_TOOL_BUNDLE") ?? `${ROOT}cli.ts`;
  return ["run", "-A", "--quiet", entry, ...args];
}

/** The minimal environment a CLI run gets: PATH, `home` as HOME, the Deno cache, no colour. */
export function cliEnv(home: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: home,
    DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`,
    NO_COLOR: "1",
    ...env,
  };
}

/** Runs `manifest-tool ...args`. `env` is added to a minimal environment (HOME set to a temp dir). */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; stdin?: string } = {},
): Promise<CliResult> {
  const home = options.env?.HOME ?? await Deno.makeTempDir({ prefix: "mt-home-" });
  const cmd = new Deno.Command(Deno.execPath(), {
    args: cliArgs(args),
    cwd: options.cwd ?? ROOT,
    clearEnv: true,
    env: cliEnv(home, options.env),
    stdin: options.stdin !== undefined ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  });
  const child = cmd.spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const out = await child.output();
  if (!options.env?.HOME) await Deno.remove(home, { recursive: true }).catch(() => {});
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}
