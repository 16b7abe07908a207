/**
 * Registry text made safe for a terminal, applied by every view at render time: a registry (or a
 * man in the middle of a plain-HTTP one) chooses every platform field, media type, annotation and
 * config value we show, and an ESC, OSC, CR, BEL or bidirectional override in them would otherwise
 * reach the terminal (retitle it, hide or reorder lines). The JSON views keep values exact (they
 * parse back to what the registry sent) but write the characters JSON leaves raw as `\uXXXX`.
 *
 * @module
 */

import { printable } from "../registry/transport.ts";

/** Escaped text is never cut: views show whole values (a cap only guards against runaway input). */
const NO_CUT = 1 << 20;

/**
 * One value from a registry, printable on one terminal line: control characters and bidi
 * overrides become `\u{…}` (as {@link printable} writes them), nothing is cut.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { esc } from "./escape.ts";
 * assert.equal(esc("linux\u001b]0;x\u0007"), "linux\\u{1b}]0;x\\u{7}");
 * assert.equal(esc(42), "42");
 * ```
 */
export function esc(value: string | number | undefined | null): string {
  return printable(String(value ?? ""), NO_CUT);
}

// Characters JSON.stringify leaves raw that a terminal acts on: DEL and the C1 controls (U+009B is
// a one-byte CSI on many terminals), and the bidirectional marks (U+061C, U+200E, U+200F),
// embeddings, overrides and isolates. JSON_RAW adds the line and paragraph separators.
const TERMINAL_RAW = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const JSON_RAW = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
const uEscape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

/**
 * `JSON.stringify(value, null, indent)`, with the characters it leaves raw that a terminal would
 * act on written as `\uXXXX` escapes, so the text is still JSON that parses to the same value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonText } from "./escape.ts";
 * const text = jsonText({ os: "linux\u009b2J\u202e" });
 * assert.equal(text, '{"os":"linux\\u009b2J\\u202e"}');
 * assert.deepEqual(JSON.parse(text), { os: "linux\u009b2J\u202e" });
 * ```
 */
export function jsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(JSON_RAW, uEscape);
}

/**
 * JSON text with the characters a terminal acts on that JSON leaves raw (DEL, C1 controls, bidi
 * marks and overrides) written as `\uXXXX`: the same JSON once parsed. For JSON made elsewhere
 * (docker's encoding of a manifest's own bytes), where {@link jsonText} cannot be used; line and
 * paragraph separators stay as docker prints them (no terminal acts on them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeJsonText } from "./escape.ts";
 * const text = escapeJsonText('{"os": "linux\u202e"}');
 * assert.equal(text, '{"os": "linux\\u202e"}');
 * assert.deepEqual(JSON.parse(text), { os: "linux\u202e" });
 * ```
 */
export function escapeJsonText(text: string): string {
  return text.replace(TERMINAL_RAW, uEscape);
}

/**
 * An error as one printable line: its message with line breaks folded to spaces, then every
 * control character and bidi override escaped. Messages quote registry text (media types,
 * platforms, error bodies) and what the user typed; whatever the source, none of it acts on the
 * terminal. Shown whole (the cap is only a guard).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorLine } from "./escape.ts";
 * assert.equal(errorLine(new Error('Unknown os "a\u001b[2Jb"\n  more')), 'Unknown os "a\\u{1b}[2Jb" more');
 * ```
 */
export function errorLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return printable(msg.replace(/\s*\n\s*/g, " "), 16_384);
}
