/**
 * Views of `verify` results: one line per problem, then a summary line per reference; or one JSON
 * record per reference. Problem messages quote registry content, so every line is escaped
 * (`printable()`): a registry cannot move the cursor or hide text on the user's terminal.
 *
 * @module
 */

import { printable } from "../registry/transport.ts";
import type { VerifyProblem, VerifyResult } from "../verify.ts";

/**
 * The text view of one reference: `error: REF: SUBJECT: MESSAGE` (or `warning: …`) per problem,
 * then `OK REF (N manifests, M blobs checked)` when there is no error, else
 * `REF: N errors, M warnings`. `name` is the reference as the user wrote it; `quiet` leaves the
 * warning lines out (`--quiet`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatVerifyText } from "./verify.ts";
 * const text = formatVerifyText("r.example/app:1", {
 *   reference: "r.example/app:1",
 *   manifests: 3,
 *   blobs: 2,
 *   problems: [],
 *   errors: 0,
 *   warnings: 0,
 *   ok: true,
 * });
 * assert.equal(text, "OK r.example/app:1 (3 manifests, 2 blobs checked)\n");
 * ```
 */
export function formatVerifyText(
  name: string,
  r: VerifyResult,
  options: { quiet?: boolean } = {},
): string {
  const shown = options.quiet ? r.problems.filter((p) => p.severity === "error") : r.problems;
  const lines = shown.map((p) => formatProblem(name, p));
  lines.push(
    r.ok
      ? `OK ${name} (${plural(r.manifests, "manifest")}, ${plural(r.blobs, "blob")} checked)`
      : `${name}: ${plural(r.errors, "error")}, ${plural(r.warnings, "warning")}`,
  );
  return lines.join("\n") + "\n";
}

/**
 * One problem as a line: `error: REF: SUBJECT: MESSAGE`, escaped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatProblem } from "./verify.ts";
 * const line = formatProblem("r/app:1", {
 *   severity: "warning",
 *   kind: "media-type-mix",
 *   subject: "sha256:aa",
 *   message: "say \u001b[31mred",
 * });
 * assert.equal(line, "warning: r/app:1: sha256:aa: say \\u{1b}[31mred");
 * ```
 */
export function formatProblem(name: string, p: VerifyProblem): string {
  return `${p.severity}: ${name}: ${printable(p.subject, 300)}: ${printable(p.message, 1000)}`;
}

/** The JSON record of one reference (`--json`): the result, named as the user wrote it. */
export interface VerifyRecord extends Partial<VerifyResult> {
  /** The reference as given. */
  reference: string;
  /** True when verified without error. */
  ok: boolean;
  /** Why it could not be verified at all (authentication, connection…), when that happened. */
  failure?: string;
}

/**
 * The JSON record of one reference: the result, or `{reference, ok: false, failure}` when it
 * could not be verified.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { verifyRecord } from "./verify.ts";
 * const rec = verifyRecord("r/app:1", new Error("401 Unauthorized"));
 * assert.deepEqual(rec, { reference: "r/app:1", ok: false, failure: "401 Unauthorized" });
 * ```
 */
export function verifyRecord(name: string, outcome: VerifyResult | Error): VerifyRecord {
  if (outcome instanceof Error) {
    return { reference: name, ok: false, failure: outcome.message.replace(/\s*\n\s*/g, " ") };
  }
  return { ...outcome, reference: name };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
