/**
 * Warnings a registry sends its user in `Warning` headers (OCI distribution spec, "Warnings":
 * warn-code 299, warn-agent `-`, a quoted text, at most 4096 bytes in all of a response's
 * headers). A client should show each once and never act on them; other warn-codes come from
 * caches on the way and are left out.
 *
 * @module
 */

import type { Logger } from "./transport.ts";

/** The longest warning text passed on, in characters. */
const MAX_WARNING_TEXT = 300;

/** The most distinct warnings shown in one run: a registry cannot flood the terminal. */
export const MAX_WARNINGS = 10;
/** What is read of a response's `Warning` headers (the spec's bound for registries). */
const MAX_WARNING_BYTES = 4096;
/** One warning-value (RFC 7234 §5.5): code, agent, quoted text, optional quoted date. */
const WARNING_VALUE = /\s*(\d{3})\s+([^\s",]+)\s+"((?:[^"\\]|\\.)*)"(?:\s+"[^"]*")?\s*(?:,|$)/y;

/**
 * The texts of the 299 warnings in a `Warning` header (its values joined by commas, as
 * `Headers.get` gives them); reading stops at the first malformed value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { registryWarnings } from "./warnings.ts";
 * assert.deepEqual(
 *   registryWarnings('299 - "Token expires soon, renew it", 110 cache "Response is stale"'),
 *   ["Token expires soon, renew it"],
 * );
 * ```
 */
export function registryWarnings(value: string | null): string[] {
  if (!value) return [];
  const text = value.slice(0, MAX_WARNING_BYTES);
  const out: string[] = [];
  for (let at = 0; at < text.length;) {
    WARNING_VALUE.lastIndex = at;
    const m = WARNING_VALUE.exec(text);
    if (!m || WARNING_VALUE.lastIndex === at) break;
    at = WARNING_VALUE.lastIndex;
    if (m[1] === "299") out.push(m[3].replace(/\\(.)/g, "$1"));
  }
  return out;
}

/** Shows each distinct registry warning of a run once, as a warning line naming the registry. */
export class WarningRelay {
  readonly #logger: Logger;
  readonly #seen = new Set<string>();

  /** A relay writing to `logger`. */
  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Shows the warnings of `res`, from `host`, that were not shown yet. */
  relay(res: Response, host: string): void {
    for (const text of registryWarnings(res.headers.get("warning"))) {
      const key = `${host} ${text}`;
      if (!text.trim() || this.#seen.has(key) || this.#seen.size >= MAX_WARNINGS) continue;
      this.#seen.add(key);
      const shown = text.length > MAX_WARNING_TEXT ? `${text.slice(0, MAX_WARNING_TEXT)}…` : text;
      // Registry text: the logger escapes it before it reaches a terminal (the CLI's does).
      this.#logger.warn(`${host} says: ${shown}`);
    }
  }
}
