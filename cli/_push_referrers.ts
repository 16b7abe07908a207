/**
 * `push … --referrers[=TYPES]`: the line printed about the referrers the run copied after the
 * index was committed (the copy itself is the engine's: `PushOptions.referrers`).
 *
 * @module
 */

import type { CopyReferrersResult } from "../lib/referrers.ts";

/** The line `push` prints about the referrers copied. */
export function referrersLine(r: CopyReferrersResult): string {
  if (r.inTarget) {
    return `Referrers: the images are in ${r.target}, and their referrers with them\n`;
  }
  const put = r.referrers.filter((x) => x.action === "put").length;
  const how = r.referrers.length === 0
    ? ""
    : r.api
    ? " (registry lists them by its referrers API)"
    : ` (fallback tags: ${entries(r.fallbackTags.reduce((n, t) => n + t.added, 0))} added)`;
  const skipped = r.skipped.length === 0
    ? ""
    : `; ${r.skipped.length} not copied: listed for a subject they do not name`;
  return `Referrers: ${r.referrers.length} in ${r.target}, ${put} copied${how}${skipped}\n`;
}

const entries = (n: number) => `${n} ${n === 1 ? "entry" : "entries"}`;
