/**
 * The target side of a referrers copy (OCI distribution spec 1.1, "Pushing Manifests with
 * Subject" and "Referrers Tag Schema"): whether a registry answers the referrers API, and, where it
 * does not, the `<alg>-<hex>` tag whose index lists a subject's referrers, maintained as the spec
 * asks a client to (read it, add the new descriptors, write it back, never drop what is there).
 *
 * @module
 */

import type { Descriptor } from "./manifest.ts";
import { OCI_INDEX } from "./media_types.ts";
import { registryApiHost } from "./reference.ts";
import type { Repository } from "./registry/client.ts";
import { noReferrersApi } from "./registry/referrers.ts";

/**
 * The fallback tag of a subject holds something other than an index of referrers; it is left as
 * it is rather than overwritten.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FallbackTagError } from "./referrers_fallback.ts";
 * const e = new FallbackTagError("r/x", "sha256-aa", "an image manifest");
 * assert.equal(e.message, 'Tag "sha256-aa" of r/x holds an image manifest, not a referrers index: left as it is');
 * ```
 */
export class FallbackTagError extends Error {
  /** The repository (`registry/name`). */
  readonly repository: string;
  /** The tag. */
  readonly tag: string;
  /** Creates the error; `found` says what the tag holds. */
  constructor(repository: string, tag: string, found: string, options?: ErrorOptions) {
    super(
      `Tag "${tag}" of ${repository} holds ${found}, not a referrers index: left as it is`,
      options,
    );
    this.name = "FallbackTagError";
    this.repository = repository;
    this.tag = tag;
  }
}

/**
 * Whether `repo`'s registry answers the referrers API, asked with `GET …/referrers/<digest>`: an
 * OCI index (200) says yes; 404 (distribution 2.8/3.x, crane), 400, 405, 406 or 501, or a 200 that
 * is not an index, say no (the spec's signal to use the tag schema). Other failures are thrown.
 *
 * @example
 * ```ts ignore
 * import { hasReferrersApi } from "./referrers_fallback.ts";
 * console.log(await hasReferrersApi(repo, "sha256:…"));
 * ```
 */
export async function hasReferrersApi(repo: Repository, digest: string): Promise<boolean> {
  const url = `https://${registryApiHost(repo.registry)}/v2/${repo.name}/referrers/${digest}`;
  const res = await repo.send("GET", url, ["pull"], { headers: { accept: OCI_INDEX } });
  if (noReferrersApi(res.status, res.headers.get("content-type") ?? "")) {
    await res.body?.cancel().catch(() => {});
    return false;
  }
  await repo.expect(res, "GET", url, [200]);
  await res.body?.cancel().catch(() => {});
  return true;
}

/** The tag of the tag-schema fallback index of `digest`: `<alg>-<hex>` (`sha256:ab…` → `sha256-ab…`). */
export function fallbackTag(digest: string): string {
  return digest.replace(":", "-");
}

/** What {@link updateFallbackIndex} did. */
export interface FallbackUpdate {
  /** The tag. */
  tag: string;
  /** Descriptors added (already listed ones are not added twice). */
  added: number;
  /** Entries that were there before and are kept. */
  kept: number;
}

/**
 * Adds `descriptors` to the fallback index of `subject` in `repo`: reads the `<alg>-<hex>` tag (an
 * OCI index; absent means empty), appends each descriptor whose digest it does not list yet, and
 * puts it back under the tag. Entries already there are kept byte for byte (fields this tool does
 * not know included); nothing is written when nothing is new. Calls for one subject must not
 * overlap (the spec's read-modify-write has no lock): callers serialise them.
 *
 * @example
 * ```ts ignore
 * import { updateFallbackIndex } from "./referrers_fallback.ts";
 * const { added, kept } = await updateFallbackIndex(repo, "sha256:…", [signatureDescriptor]);
 * ```
 */
export async function updateFallbackIndex(
  repo: Repository,
  subject: string,
  descriptors: readonly Descriptor[],
): Promise<FallbackUpdate> {
  const tag = fallbackTag(subject);
  const doc = await readFallback(repo, tag);
  const old = doc.manifests as Record<string, unknown>[];
  const listed = new Set(old.map((d) => d?.digest));
  const fresh: Record<string, unknown>[] = [];
  for (const d of descriptors) {
    if (listed.has(d.digest)) continue;
    listed.add(d.digest);
    fresh.push(entryOf(d));
  }
  if (fresh.length > 0) {
    const bytes = new TextEncoder().encode(
      JSON.stringify({
        ...doc,
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [...old, ...fresh],
      }),
    );
    await repo.putManifest(tag, bytes, OCI_INDEX);
  }
  return { tag, added: fresh.length, kept: old.length };
}

/** The fallback index as a JSON object (`{manifests: []}` when the tag does not exist). */
async function readFallback(repo: Repository, tag: string): Promise<Record<string, unknown>> {
  if (!(await repo.headManifest(tag))) {
    return { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] };
  }
  // getManifest caps, verifies the bytes against the registry's digest and parses them.
  const m = await repo.getManifest(tag);
  if (m.parsed.kind !== "index") throw new FallbackTagError(`${repo}`, tag, "an image manifest");
  if (m.parsed.mediaType !== OCI_INDEX) {
    throw new FallbackTagError(`${repo}`, tag, `a ${m.parsed.mediaType}`);
  }
  return JSON.parse(new TextDecoder().decode(m.bytes)) as Record<string, unknown>;
}

/** A referrers-list entry (spec: mediaType, digest, size, artifactType, annotations). */
function entryOf(d: Descriptor): Record<string, unknown> {
  const e: Record<string, unknown> = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.artifactType) e.artifactType = d.artifactType;
  if (d.annotations && Object.keys(d.annotations).length > 0) e.annotations = d.annotations;
  return e;
}
