#!/usr/bin/env -S deno run -A
/**
 * The `manifest-tool` command line: inspect image manifests and push multi-platform manifest
 * lists / OCI image indexes. This file is the only place that reads `Deno.args`, prints and exits;
 * each command lives in `cli/<command>.ts` and returns its exit code.
 *
 * Exit codes: 0 success, 1 failure, 2 usage error (what the user typed or wrote), 130 interrupted.
 *
 * @example
 * ```sh
 * deno run -A jsr:@manifest-tool/manifest-tool/cli inspect alpine
 * ```
 *
 * @module
 */

import { InterruptedError, UsageError } from "./lib/errors.ts";
import { errorLine } from "./lib/format/escape.ts";
import { COMMIT, VERSION } from "./lib/version.ts";
import { type Command, type CommandContext, GLOBAL_HELP, parseGlobalArgs } from "./cli/context.ts";
import { COMMANDS } from "./cli/commands.ts";
import { prepareTls } from "./lib/registry/tls_prepare.ts";

/** Text of `manifest-tool --help`. */
export const HELP: string = `manifest-tool ${VERSION}: inspect container image manifests and push
multi-platform manifest lists / OCI image indexes to any OCI distribution registry.

Usage: manifest-tool [global flags] COMMAND [flags] [args]

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(16)} ${c.summary}`).join("\n")}

${GLOBAL_HELP}

Run 'manifest-tool COMMAND --help' for a command's flags and examples.
`;

/** Streams and environment `main` works with (tests pass their own). */
export interface CliIO {
  /** Standard output. */
  out(text: string): void;
  /** Standard error. */
  err(text: string): void;
  /** Whether standard output is a terminal. */
  isTerminal: boolean;
  /** Whether standard error is a terminal (the progress view draws there); false when absent. */
  errIsTerminal?: boolean;
  /** Environment lookup. */
  env(name: string): string | undefined;
}

/**
 * Runs the CLI with `args` and returns the exit code: 0 success, 1 failure, 2 usage error, 130 interrupted.
 * Errors print as one line; `--debug` adds the stack and the cause chain.
 *
 * @example
 * ```ts ignore
 * import { main } from "./cli.ts";
 * const code = await main(["--version"]);
 * ```
 */
export async function main(args: string[], io: CliIO = denoIO()): Promise<number> {
  let debug = args.includes("--debug");
  try {
    const { globals, rest, help, version } = parseGlobalArgs(args);
    debug = globals.debug;
    if (version) {
      io.out(`manifest-tool version ${VERSION} (commit: ${COMMIT})\n`);
      return 0;
    }
    if (rest.length === 0) {
      if (help) {
        io.out(HELP);
        return 0;
      }
      io.err(HELP);
      return 2;
    }
    const [name, ...commandArgs] = rest;
    const entry = COMMANDS[name];
    if (!entry) {
      throw new UsageError(
        `Unknown command "${name}": expected one of ${Object.keys(COMMANDS).join(", ")}`,
      );
    }
    // Over --plain-http no TLS is spoken; elsewhere its one-time set-up runs while the command loads.
    if (!globals.plainHttp && entry.network?.(commandArgs)) prepareTls();
    return await run(entry.run, { args: commandArgs, globals, ...io });
  } catch (e) {
    io.err(`manifest-tool: ${oneLine(e)}\n`);
    if (debug) io.err(trace(e));
    if (e instanceof InterruptedError) return 130;
    if (e instanceof UsageError) {
      // A flag or argument mistake gets the way to the usage; a spec file's error (FILE:LINE:COL)
      // or a reference's is the one line that names it.
      if (e.usage) io.err(`Run 'manifest-tool --help' for usage.\n`);
      return 2;
    }
    return 1;
  }
}

function run(command: Command, ctx: CommandContext): Promise<number> {
  return command(ctx);
}

function oneLine(e: unknown): string {
  // Escapes control characters and bidi overrides of the whole line, whatever their source.
  return errorLine(e);
}

function trace(e: unknown): string {
  let out = "";
  let cur: unknown = e;
  for (let depth = 0; cur && depth < 10; depth++) {
    out += depth === 0 ? "" : "caused by: ";
    out += cur instanceof Error ? `${cur.stack ?? cur.message}\n` : `${String(cur)}\n`;
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return out;
}

function denoIO(): CliIO {
  const enc = new TextEncoder();
  return {
    out: (t) => writeAll(Deno.stdout, enc.encode(t)),
    err: (t) => writeAll(Deno.stderr, enc.encode(t)),
    isTerminal: Deno.stdout.isTerminal(),
    errIsTerminal: Deno.stderr.isTerminal(),
    env: (n) => Deno.env.get(n),
  };
}

function writeAll(w: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += w.writeSync(bytes.subarray(off));
}

if (import.meta.main) {
  Deno.exitCode = await main(Deno.args);
}
