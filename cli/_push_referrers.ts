/**
 * `push … --referrers[=TYPES]`: after the index is committed, copy the referrers of every image
 * it names (and of each source index) into the target, to a depth of 3. A failure here leaves the
 * index pushed and is reported with its digest (exit 1).
 *
 * @module
 */

import { copyReferrers, type CopyReferrersResult, pushSubjects } from "../lib/referrers.ts";
import type { Descriptor } from "../lib/manifest.ts";
import type { RegistryClient } from "../lib/registry/client.ts";

/**
 * The referrers could not all be copied; the index named by `digest` is pushed all the same.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReferrersCopyError } from "./_push_referrers.ts";
 * const e = new ReferrersCopyError("r/x:1", "sha256:aa", new Error("boom"));
 * assert.equal(e.message, "Pushed r/x:1 (sha256:aa), but copying its referrers failed: boom");
 * ```
 */
export class ReferrersCopyError extends Error {
  /** The index pushed. */
  readonly target: string;
  /** Its digest. */
  readonly digest: string;
  /** Wraps `cause`. */
  constructor(target: string, digest: string, cause: unknown) {
    super(
      `Pushed ${target} (${digest}), but copying its referrers failed: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      { cause },
    );
    this.name = "ReferrersCopyError";
    this.target = target;
    this.digest = digest;
  }
}

/** Copies the referrers of a push result's images; throws {@link ReferrersCopyError}. */
export async function copyPushReferrers(
  client: RegistryClient,
  result: {
    target: string;
    descriptor: Descriptor;
    manifests: readonly { descriptor: Descriptor; source: string }[];
  },
  options: { artifactTypes?: string[] },
): Promise<CopyReferrersResult> {
  try {
    return await copyReferrers(client, await pushSubjects(client, result), options);
  } catch (e) {
    throw new ReferrersCopyError(result.target, result.descriptor.digest, e);
  }
}

/** The line `push` prints about the referrers copied. */
export function referrersLine(r: CopyReferrersResult): string {
  const put = r.referrers.filter((x) => x.action === "put").length;
  const how = r.referrers.length === 0
    ? ""
    : r.api
    ? " (registry lists them by its referrers API)"
    : ` (fallback tags: ${r.fallbackTags.reduce((n, t) => n + t.added, 0)} entries added)`;
  return `Referrers: ${r.referrers.length} in ${r.target}, ${put} copied${how}\n`;
}
