/**
 * The few colours of the human views (manifest-tool's: bold green, yellow, red, blue). The CLI
 * picks {@link ANSI} only on a terminal without `NO_COLOR`; otherwise {@link PLAIN}.
 *
 * @module
 */

/** Colour functions applied to values in the human views. */
export interface Colors {
  /** Names and types. */
  green(s: string | number): string;
  /** Digests. */
  yellow(s: string | number): string;
  /** Counts and layer numbers. */
  red(s: string | number): string;
  /** Sizes. */
  blue(s: string | number): string;
}

const wrap = (code: number) => (s: string | number) => `\x1b[1;${code}m${s}\x1b[0m`;

/**
 * Bold ANSI colours.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ANSI } from "./colors.ts";
 * assert(ANSI.green("x") === "\x1b[1;32mx\x1b[0m");
 * ```
 */
export const ANSI: Colors = { green: wrap(32), yellow: wrap(33), red: wrap(31), blue: wrap(34) };

/**
 * No colour.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PLAIN } from "./colors.ts";
 * assert(PLAIN.red(3) === "3");
 * ```
 */
export const PLAIN: Colors = {
  green: String,
  yellow: String,
  red: String,
  blue: String,
};

/**
 * Whether to colour: only on a terminal, never with `--no-color` or a non-empty `NO_COLOR`
 * (https://no-color.org: "present and not an empty string").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wantColor } from "./colors.ts";
 * assert.equal(wantColor(true, () => undefined, false), true);
 * assert.equal(wantColor(true, (n) => (n === "NO_COLOR" ? "1" : undefined), false), false);
 * assert.equal(wantColor(true, () => undefined, true), false);
 * assert.equal(wantColor(false, () => undefined, false), false);
 * ```
 */
export function wantColor(
  isTerminal: boolean,
  env: (name: string) => string | undefined,
  noColorFlag: boolean,
): boolean {
  return isTerminal && !noColorFlag && !env("NO_COLOR");
}
