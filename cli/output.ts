/**
 * The global output flags (`--quiet`, `--progress`, `--no-color`) and the decisions that follow
 * from them and the terminal: colours, the progress mode, and the JSON record of a push.
 *
 * @module
 */

import { UsageError } from "../lib/errors.ts";
import { ANSI, type Colors, PLAIN, wantColor } from "../lib/format/colors.ts";

/** How progress is shown: `auto` decides from the terminal. */
export type ProgressFlag = "auto" | "tty" | "plain" | "none";

/** What the progress view does once `auto` is decided. */
export type ProgressMode = "tty" | "plain" | "none";

/** The output flags among the global options. */
export interface OutputGlobals {
  /** `--quiet`: only the result on stdout, no warnings; errors still on stderr. */
  quiet: boolean;
  /** `--progress`. */
  progress: ProgressFlag;
  /** `--no-color`. */
  noColor: boolean;
}

/** Option definitions of the output flags (see cli/_flags.ts). */
export const OUTPUT_OPTIONS = {
  quiet: { type: "boolean", short: "q" },
  progress: { type: "string" },
  "no-color": { type: "boolean" },
} as const;

/** Help lines of the output flags. */
export const OUTPUT_HELP =
  `  -q, --quiet            print only the result (the Digest line; nothing for rm), no warnings
  --progress MODE        auto (default: live on a terminal, nothing otherwise or in CI), tty, plain, none
  --no-color             no colours and no redrawn lines (also NO_COLOR=1)`;

/** The output flags from parsed values, on top of `base` (the flags before the command). */
export function mergeOutputGlobals(
  base: Partial<OutputGlobals> | undefined,
  v: Record<string, unknown>,
): OutputGlobals {
  const progress = (v.progress as string | undefined) ?? base?.progress ?? "auto";
  if (!["auto", "tty", "plain", "none"].includes(progress)) {
    throw new UsageError(`Invalid --progress "${progress}": expected auto, tty, plain or none`);
  }
  return {
    quiet: v.quiet === true || (base?.quiet ?? false),
    progress: progress as ProgressFlag,
    noColor: v["no-color"] === true || (base?.noColor ?? false),
  };
}

/** What the decisions read: the flags, the terminal and the environment. */
export interface OutputEnv {
  /** The output flags (absent fields: defaults). */
  globals: Partial<OutputGlobals>;
  /** Whether standard output is a terminal. */
  isTerminal: boolean;
  /** Whether standard error is a terminal. */
  errIsTerminal?: boolean;
  /** Environment lookup. */
  env(name: string): string | undefined;
}

/** Colours for what goes to stdout: only on a terminal, without `NO_COLOR` or `--no-color`. */
export function colorsFor(o: OutputEnv): Colors {
  return wantColor(o.isTerminal, o.env, o.globals.noColor === true) ? ANSI : PLAIN;
}

/**
 * The progress mode. `auto`: the live view when stderr is a terminal that takes colours and
 * cursor moves (no `NO_COLOR`, no `--no-color`, `TERM` not `dumb`), plain lines on such a terminal
 * that does not, nothing when stderr is not a terminal, in CI (`CI` set, as CI services do, some of
 * them on a pseudo-terminal) or with `--quiet`. `tty`, `plain` and `none` are obeyed as given.
 */
export function progressMode(o: OutputEnv): ProgressMode {
  const flag = o.globals.progress ?? "auto";
  if (flag !== "auto") return flag;
  const ci = o.env("CI");
  if (o.globals.quiet || !o.errIsTerminal || (ci && ci !== "false")) return "none";
  const redraws = wantColor(true, o.env, o.globals.noColor === true) && o.env("TERM") !== "dumb";
  return redraws ? "tty" : "plain";
}
