/**
 * Views of push results: the dry-run plan as text, and the lines and records of a run of several
 * specs (the `--json` record of one push is `cli/output.ts`'s).
 *
 * @module
 */

import type { PushResult, SpecOutcome } from "../push/types.ts";

/**
 * The plan of a push as text: each child manifest and blob with its action, skipped sources, tags.
 *
 * @example
 * ```ts ignore
 * console.log(pushPlanText(result));
 * ```
 */
export function pushPlanText(r: PushResult): string {
  const lines = [`Plan for ${r.target} (dry run, nothing written):`];
  for (const m of r.manifests) {
    lines.push(
      `  manifest ${m.descriptor.digest} ${
        m.action === "present" ? "already present" : "put"
      } (${m.source})`,
    );
  }
  for (const b of r.blobs) lines.push(`  blob ${b.digest} ${b.size} ${b.action} from ${b.from}`);
  for (const s of r.skipped) lines.push(`  skipped ${s.image}: ${s.reason}`);
  lines.push(`  tags: ${r.tags.join(", ")}`);
  return lines.join("\n") + "\n";
}

/** One record of the `--json` array of a run of several specs. */
export interface OutcomeRecord {
  /** Target reference. */
  target: string;
  /** Tags written (or that would be). */
  tags: string[];
  /** Index digest, when assembled. */
  digest: string | null;
  /** Index size, when assembled. */
  size: number | null;
  /** Index media type, when assembled. */
  mediaType: string | null;
  /** `pushed`, `planned`, `failed` or `skipped`. */
  status: SpecOutcome["status"];
  /** Why it failed or was skipped, one line. */
  error: string | null;
  /** Per-blob actions. */
  blobs: PushResult["blobs"];
  /** Sources left out with `--ignore-missing`, with the reason (as a single push's record). */
  skipped: PushResult["skipped"];
}

/**
 * The `--json` record of one spec's outcome.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { outcomeRecord } from "./push.ts";
 * const r = outcomeRecord({ position: 0, target: "r/x:1", status: "failed", error: new Error("gone") });
 * assert.equal(r.error, "gone");
 * assert.equal(r.digest, null);
 * ```
 */
export function outcomeRecord(o: SpecOutcome): OutcomeRecord {
  const r = o.result;
  return {
    target: o.target,
    tags: r?.tags ?? [],
    digest: r?.descriptor.digest ?? null,
    size: r?.descriptor.size ?? null,
    mediaType: r?.descriptor.mediaType ?? null,
    status: o.status,
    error: o.error ? oneLine(o.error.message) : null,
    blobs: r?.blobs ?? [],
    skipped: r?.skipped ?? [],
  };
}

/**
 * The line of one spec's outcome in a run of several: `Digest: sha256:<hex> <size> <target>` when
 * pushed or planned, else `Failed: <target>: <reason>` (or `Skipped: …`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { outcomeLine } from "./push.ts";
 * const line = outcomeLine({ position: 0, target: "r/x:1", status: "failed", error: new Error("gone") });
 * assert.equal(line, "Failed: r/x:1: gone");
 * ```
 */
export function outcomeLine(o: SpecOutcome): string {
  if (o.result && (o.status === "pushed" || o.status === "planned")) {
    return `Digest: ${o.result.descriptor.digest} ${o.result.descriptor.size} ${o.target}`;
  }
  const word = o.status === "skipped" ? "Skipped" : "Failed";
  return `${word}: ${o.target}: ${oneLine(o.error?.message ?? "unknown error")}`;
}

/**
 * The last line of a run of several specs: `N pushed, M failed` (and skipped ones, if any).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { outcomeSummary } from "./push.ts";
 * assert.equal(outcomeSummary([]), "0 pushed, 0 failed");
 * ```
 */
export function outcomeSummary(outcomes: readonly SpecOutcome[]): string {
  const count = (s: SpecOutcome["status"]) => outcomes.filter((o) => o.status === s).length;
  const planned = count("planned");
  let line = `${count("pushed")} pushed, ${count("failed")} failed`;
  if (planned > 0) line = `${planned} planned, ${count("failed")} failed`;
  if (count("skipped") > 0) line += `, ${count("skipped")} not started`;
  return line;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ");
}

/**
 * The `--json` record of a push (`push` and `manifest push`): the index's `digest`, `size` and
 * `mediaType` at the top (what scripts and the GitHub Action read), then the details.
 */
export function pushResultJson(r: PushResult): Record<string, unknown> {
  return {
    digest: r.descriptor.digest,
    size: r.descriptor.size,
    mediaType: r.descriptor.mediaType,
    target: r.target,
    tags: r.tags,
    dryRun: r.dryRun,
    descriptor: r.descriptor,
    index: r.index,
    manifests: r.manifests,
    blobs: r.blobs,
    skipped: r.skipped,
  };
}
