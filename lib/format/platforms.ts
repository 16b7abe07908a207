/**
 * The `platforms` view (mquery's answer): whether a reference is a manifest list / index (with its
 * media type and digest) and the platforms it supports, e.g. `linux/arm/v7` or
 * `windows/amd64:10.0.17763.1234`.
 *
 * @module
 */

import { type Inspected, type InspectedIndex, platformOfConfig } from "../inspect.ts";
import { isAttestation } from "../manifest.ts";
import { formatPlatform, type Platform } from "../platform.ts";
import { esc } from "./escape.ts";

/** The platform summary of one reference. */
export interface PlatformSummary {
  /** The reference as given. */
  reference: string;
  /** True for a manifest list or OCI index. */
  isIndex: boolean;
  /** Media type of the top manifest. */
  mediaType: string;
  /** Digest of the top manifest. */
  digest: string;
  /** Supported platforms (attestations left out). */
  platforms: string[];
}

/**
 * Summarises an inspect result (an index needs only its own document and those of the indexes
 * nested in it, as `lib/inspect_platforms.ts` fetches them; an image its config).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarizePlatforms } from "./platforms.ts";
 * import type { Inspected } from "../inspect.ts";
 * const result: Inspected = {
 *   kind: "image",
 *   descriptor: { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: "sha256:aa", size: 400 },
 *   manifest: {
 *     schemaVersion: 2,
 *     config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: "sha256:cc", size: 40 },
 *     layers: [],
 *   },
 *   bytes: new Uint8Array(400),
 *   config: { os: "linux", architecture: "arm", variant: "v7" },
 * };
 * const s = summarizePlatforms("r.example/app:1", result);
 * assert(!s.isIndex && s.platforms[0] === "linux/arm/v7");
 * ```
 */
export function summarizePlatforms(reference: string, r: Inspected): PlatformSummary {
  let platforms: Platform[];
  if (r.kind === "index") {
    platforms = indexPlatforms(r);
  } else {
    const p = platformOfConfig(r.config);
    platforms = p ? [p] : [];
  }
  return {
    reference,
    isIndex: r.kind === "index",
    mediaType: r.descriptor.mediaType,
    digest: r.descriptor.digest,
    platforms: platforms.map((p) => formatPlatform(p, { osVersion: true })),
  };
}

/**
 * The platforms an index lists, attestations left out; a nested index whose document was fetched
 * (an `InspectedIndex` among `children`) contributes its own entries' platforms in its place, once
 * however often it is listed (`seen`: the nested indexes walked already).
 */
function indexPlatforms(r: InspectedIndex, seen = new Set<string>()): Platform[] {
  seen.add(r.descriptor.digest);
  return r.index.manifests.flatMap((d, i) => {
    const child = r.children[i];
    if (child?.kind === "index") return seen.has(d.digest) ? [] : indexPlatforms(child, seen);
    return !isAttestation(d) && d.platform ? [d.platform] : [];
  });
}

/**
 * Renders summaries as mquery does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPlatformSummary } from "./platforms.ts";
 * const text = formatPlatformSummary({
 *   reference: "r/x:1", isIndex: true, digest: "sha256:aa",
 *   mediaType: "application/vnd.oci.image.index.v1+json", platforms: ["linux/amd64"],
 * });
 * assert(text.includes("Manifest List: Yes"));
 * ```
 */
export function formatPlatformSummary(s: PlatformSummary): string {
  // Registry text (media type, platform fields) is escaped here, at render time.
  const lines = [`Image: ${esc(s.reference)}`];
  lines.push(` * Manifest List: ${s.isIndex ? "Yes" : "No"} (Image type: ${esc(s.mediaType)})`);
  lines.push(` * Digest: ${esc(s.digest)}`);
  lines.push(` * Supported platforms:`);
  for (const p of s.platforms) lines.push(`   - ${esc(p)}`);
  return lines.join("\n") + "\n";
}
