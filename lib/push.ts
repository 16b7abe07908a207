/**
 * Pushes multi-platform indexes: the public face of the write engine in `lib/push/`. A run goes
 * through five stages (see docs/ARCHITECTURE.md): plan (specs checked, no request) → resolve
 * (sources read once per run, indexes flattened, platforms completed from configs) → assemble (the
 * index bytes, duplicate platforms refused) → transfer (every child and blob brought into the
 * target repository: present, mounted, copied or foreign) → commit (the index, then its tags).
 * Nothing is half-pushed: a spec that fails before its commit leaves its tags untouched.
 *
 * @module
 */

import type { RegistryClient } from "./registry/client.ts";
import { pushIndexes } from "./push/run.ts";
import type { PushOptions, PushResult, PushSpec } from "./push/types.ts";

export type {
  BlobAction,
  CopiedReferrer,
  CopyReferrersOptions,
  CopyReferrersResult,
  ManifestAction,
  ProgressEvent,
  PushOptions,
  PushResult,
  PushRunOptions,
  PushSource,
  PushSpec,
  SpecOutcome,
} from "./push/types.ts";
export {
  planPush,
  planSources,
  type RunPlan,
  type SourcePlan,
  type SpecPlan,
} from "./push/plan.ts";
export {
  type ResolvedEntry,
  resolveSources,
  type ResolveSourcesOptions,
} from "./push/resolve_sources.ts";
export { pushIndexes, PushRun } from "./push/run.ts";
export { SourceError } from "./push/source_error.ts";
export type { Descriptor, ImageManifest, Index, ParsedManifest } from "./manifest.ts";
export type { IndexFormat } from "./media_types.ts";
export type { Platform } from "./platform.ts";
export type { Reference } from "./reference.ts";
export type * from "./registry/client_types.ts";

/**
 * Pushes an index assembled from `spec` to `spec.image` and its `tags`: a run of one spec. Throws
 * what made it fail (`UsageError` for bad input before any request, `NotFoundError`,
 * `ConflictError`, `RegistryError`, …; `InterruptedError` when `options.signal` aborts it; a
 * `ReferrersCopyError` when, with `options.referrers`, the index is pushed but its referrers could
 * not all be copied).
 *
 * @example
 * ```ts ignore
 * import { pushIndex } from "./push.ts";
 * import { RegistryClient } from "./registry/client.ts";
 * await using client = new RegistryClient();
 * const result = await pushIndex(client, {
 *   image: "127.0.0.1:5000/app:1.0",
 *   manifests: [
 *     { image: "127.0.0.1:5000/app:1.0-amd64", platform: { os: "linux", architecture: "amd64" } },
 *     { image: "127.0.0.1:5000/app:1.0-arm64" },
 *   ],
 * }, { format: "oci" });
 * console.log(`Digest: ${result.descriptor.digest} ${result.descriptor.size}`);
 * ```
 */
export async function pushIndex(
  client: RegistryClient,
  spec: PushSpec,
  options: PushOptions = {},
): Promise<PushResult> {
  const [outcome] = await pushIndexes(client, [spec], options);
  if (outcome.status === "failed") throw outcome.error;
  // With `referrers`: the index is pushed, but a failure copying them is this call's failure.
  if (outcome.result!.referrersError) throw outcome.result!.referrersError;
  return outcome.result!;
}
