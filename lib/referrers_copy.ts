/**
 * Copies the referrers of pushed images into the target repository (issue 18: signatures made for
 * `app-amd64@sha256:…` in one repository verify the same digest in the target only when they are
 * there too). `push --referrers` does it inside its run (`PushOptions.referrers`); this is the
 * same copy on its own, through the engine's transfer (lib/push/referrers.ts): each referrer's
 * blobs mounted within a registry or streamed across registries, then its manifest by digest;
 * where the target has no referrers API, the subject's `<alg>-<hex>` fallback index extended; then
 * the referrers of each referrer, to the depth asked. Every manifest and blob is handled once.
 *
 * @module
 */

import type { Descriptor } from "./manifest.ts";
import { isIndexMediaType } from "./media_types.ts";
import { parseReference } from "./reference.ts";
import type { RegistryClient, Repository } from "./registry/client.ts";
import { Graph } from "./push/graph.ts";
import { transferReferrers } from "./push/referrers.ts";
import { Transfer } from "./push/transfer.ts";
import type { CopyReferrersOptions, CopyReferrersResult, ReferrerSubject } from "./push/types.ts";

export { ReferrersCopyError } from "./push/referrers.ts";
export type {
  CopiedReferrer,
  CopyReferrersOptions,
  CopyReferrersResult,
  ReferrerSubject,
} from "./push/types.ts";

/**
 * Copies the referrers of every subject (and theirs, to `depth`) from its repository into
 * `target`. Subjects already in the target repository are skipped (their referrers are there).
 * Listing runs first, for all subjects at once; nothing is written when there is nothing to copy.
 *
 * @example
 * ```ts ignore
 * import { copyReferrers } from "./referrers.ts";
 * import { RegistryClient } from "./registry/client.ts";
 * await using client = new RegistryClient();
 * const r = await copyReferrers(client, {
 *   target: client.repository("127.0.0.1:5001", "app"),
 *   subjects: [{ repository: client.repository("127.0.0.1:5000", "app-amd64"), digest: "sha256:…" }],
 * }, { artifactTypes: ["application/vnd.dev.cosign.artifact.sig.v1+json"] });
 * console.log(r.referrers.length, r.api);
 * ```
 */
export async function copyReferrers(
  client: RegistryClient,
  input: { target: Repository; subjects: readonly ReferrerSubject[] },
  options: CopyReferrersOptions = {},
): Promise<CopyReferrersResult> {
  const transfer = new Transfer(new Graph(client), { logger: client.logger });
  return await transferReferrers(transfer, input.target, input.subjects, options);
}

/**
 * The subjects of a push whose referrers `push --referrers` copies: every image the index names,
 * from the source it was read from, and each source that is itself an index (its own referrers).
 * Takes the parts of a push result it needs (the target and each entry's digest and source).
 *
 * @example
 * ```ts ignore
 * import { copyReferrers, pushSubjects } from "./referrers.ts";
 * const result = await pushIndex(client, spec, { format: "oci" });
 * await copyReferrers(client, await pushSubjects(client, result));
 * ```
 */
export async function pushSubjects(
  client: RegistryClient,
  result: { target: string; manifests: readonly { descriptor: Descriptor; source: string }[] },
): Promise<{ target: Repository; subjects: ReferrerSubject[] }> {
  const target = client.repositoryOf(parseReference(result.target));
  const subjects: ReferrerSubject[] = result.manifests.map((m) => ({
    repository: client.repositoryOf(parseReference(m.source)),
    digest: m.descriptor.digest,
  }));
  const sources = [...new Set(result.manifests.map((m) => m.source))];
  const indexes = await Promise.all(sources.map(async (s) => {
    const ref = parseReference(s);
    const repo = client.repositoryOf(ref);
    const head = await repo.headManifest(ref.identifier);
    if (!head || !isIndexMediaType(head.mediaType)) return undefined;
    // The digest a subject is named by must be the one of the bytes: read and verify the index.
    const m = await repo.getManifest(ref.identifier);
    return m.parsed.kind === "index"
      ? { repository: repo, digest: m.descriptor.digest }
      : undefined;
  }));
  return { target, subjects: [...subjects, ...indexes.filter((x) => x !== undefined)] };
}
