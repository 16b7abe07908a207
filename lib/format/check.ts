/**
 * Text rendering of a `check-registry` report: one line per check, then clean-up and verdict.
 *
 * @module
 */

import type { CheckReport } from "../check_registry.ts";

/**
 * Renders a report.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatCheckReport } from "./check.ts";
 * const text = formatCheckReport({
 *   registry: "r", repository: "ns/x", deleted: [], leftBehind: [], supported: true,
 *   results: [{ name: "OCI index push", status: "PASS", detail: "201 Created" }],
 * });
 * assert(text.includes("PASS  OCI index push"));
 * ```
 */
export function formatCheckReport(r: CheckReport): string {
  const width = Math.max(...r.results.map((x) => x.name.length));
  const lines = [`Checking ${r.registry} in repository ${r.repository}`];
  for (const x of r.results) {
    lines.push(`${x.status.padEnd(4)}  ${x.name.padEnd(width)}  ${x.detail}`);
  }
  lines.push(`Clean-up: deleted ${r.deleted.length} manifest(s)`);
  for (const l of r.leftBehind) {
    const what = l.tag ? `tag ${l.tag} (${l.digest})` : l.digest;
    lines.push(`  could not delete ${what}: ${l.reason}`);
  }
  lines.push(
    r.supported
      ? "Result: this registry can hold multi-platform images"
      : "Result: this registry cannot hold multi-platform images (see the FAIL lines)",
  );
  return lines.join("\n") + "\n";
}
