/**
 * Referrers (OCI distribution spec 1.1; image-spec `manifest.md` `subject`): the signatures,
 * SBOMs and attestations attached to a manifest. Listed to a depth by {@link listReferrers} (used
 * by `inspect --referrers`), copied into a push's target by {@link copyReferrers} (used by
 * `push --referrers`), with the tag-schema fallback maintained where the target has no referrers
 * API ({@link updateFallbackIndex}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fallbackTag, parseArtifactTypes } from "./referrers.ts";
 * assert.equal(fallbackTag("sha256:ab"), "sha256-ab");
 * assert.deepEqual(parseArtifactTypes("a/b,c/d"), ["a/b", "c/d"]);
 * ```
 *
 * @module
 */

export {
  checkReferrer,
  CREATED_ANNOTATION,
  dedupeByDigest,
  listReferrers,
  type ListReferrersOptions,
  parseArtifactTypes,
  type Referrer,
  REFERRERS_DEPTH,
} from "./referrers_list.ts";
export {
  type CopiedReferrer,
  copyReferrers,
  type CopyReferrersOptions,
  type CopyReferrersResult,
  pushSubjects,
  ReferrersCopyError,
  type ReferrerSubject,
} from "./referrers_copy.ts";
export {
  fallbackTag,
  FallbackTagError,
  type FallbackUpdate,
  hasReferrersApi,
  updateFallbackIndex,
} from "./referrers_fallback.ts";
export type { Descriptor, ImageManifest, Index, ParsedManifest } from "./manifest.ts";
export type { Platform } from "./platform.ts";
export type { Semaphore } from "./pool.ts";
export type { Reference } from "./reference.ts";
export type * from "./registry/client_types.ts";
