/**
 * Listing referrers (OCI distribution spec 1.1, "Listing Referrers"): {@link listReferrers} walks
 * them to a depth (a signature of an SBOM of an image is depth 2), concurrently, through
 * `Repository.referrers()` (the referrers API, else the `<alg>-<hex>` tag-schema fallback; neither
 * gives none; every entry checked and given its real artifact type there).
 *
 * @module
 */

import type { Descriptor } from "./manifest.ts";
import type { Semaphore } from "./pool.ts";
import type { Repository } from "./registry/client.ts";

/** The annotation a referrer's creation time is read from (image-spec `annotations.md`). */
export const CREATED_ANNOTATION = "org.opencontainers.image.created";

/** Default depth of {@link listReferrers}: referrers, theirs, and theirs. */
export const REFERRERS_DEPTH = 3;

import { MAX_REFERRERS } from "./registry/referrers.ts";
/** Most referrers one listing gathers, all levels together (see `lib/registry/referrers.ts`). */
export { MAX_REFERRERS };

/** One manifest that refers to a subject, and (to the depth asked) the ones that refer to it. */
export interface Referrer {
  /** Its descriptor as the referrers list gives it (annotations), with its real artifactType. */
  descriptor: Descriptor;
  /** `artifactType`, else its config media type (read from the manifest when the list lacks it). */
  artifactType: string;
  /** Its `org.opencontainers.image.created` annotation, when present. */
  created?: string;
  /** Manifests that refer to this one (empty at the depth limit). */
  referrers: Referrer[];
}

/** Options of {@link listReferrers}. */
export interface ListReferrersOptions {
  /** Levels to follow (1: direct referrers only). Default {@link REFERRERS_DEPTH}. */
  depth?: number;
  /** Keep only these artifact types, at every level (default all). */
  artifactTypes?: readonly string[];
  /**
   * A bound shared with the caller's other requests (inspect's). Default none beyond the client's
   * per-host limit, which bounds every request of a run.
   */
  slots?: Semaphore;
}

/**
 * Lists the referrers of `digest` in `repo`, and theirs, to `depth` levels, each level's lists
 * fetched concurrently (the semaphore bounds the requests). A registry with neither the referrers
 * API nor a fallback tag gives `[]`. Every descriptor is checked (a listed digest goes into URLs).
 *
 * @example
 * ```ts ignore
 * import { listReferrers } from "./referrers_list.ts";
 * import { RegistryClient } from "./registry/client.ts";
 * await using client = new RegistryClient();
 * const repo = client.repository("127.0.0.1:5000", "app");
 * const tree = await listReferrers(repo, "sha256:…", { artifactTypes: ["application/spdx+json"] });
 * console.log(tree.map((r) => `${r.artifactType} ${r.descriptor.digest}`));
 * ```
 */
export async function listReferrers(
  repo: Repository,
  digest: string,
  options: ListReferrersOptions = {},
): Promise<Referrer[]> {
  const depth = options.depth ?? REFERRERS_DEPTH;
  const walk: Walk = { lists: new Map(), left: MAX_REFERRERS, top: digest, depth };
  return await level(repo, digest, options, options.slots, depth, new Set(), walk);
}

/** What one listing shares across its levels: each digest's list read once, and the budget. */
interface Walk {
  lists: Map<string, Promise<Descriptor[]>>;
  left: number;
  top: string;
  depth: number;
}

async function level(
  repo: Repository,
  digest: string,
  options: ListReferrersOptions,
  slots: Semaphore | undefined,
  depth: number,
  seen: ReadonlySet<string>,
  walk: Walk,
): Promise<Referrer[]> {
  if (depth <= 0) return [];
  // referrers() checks every entry, lists each digest once and gives each its real artifactType
  // (read from the manifest where the list lacks it or names the empty config's type).
  const read = () => repo.referrers(digest);
  if (!walk.lists.has(digest)) walk.lists.set(digest, slots ? slots.run(read) : read());
  const listed = await walk.lists.get(digest)!;
  walk.left -= listed.length;
  if (walk.left < 0) {
    throw new Error(
      `${repo}@${walk.top}: more than ${MAX_REFERRERS} referrers within ${walk.depth} levels: not listed`,
    );
  }
  const types = options.artifactTypes?.length ? new Set(options.artifactTypes) : undefined;
  // A list that names its own subject again (a lying fallback index) is not followed round.
  const path = new Set([...seen, digest]);
  const unique = listed.filter((d) => !path.has(d.digest));
  const nodes = await Promise.all(unique.map(async (d): Promise<Referrer | undefined> => {
    const artifactType = d.artifactType ?? "";
    if (types && !types.has(artifactType)) return undefined;
    const created = d.annotations?.[CREATED_ANNOTATION];
    return {
      descriptor: d,
      artifactType,
      ...(created ? { created } : {}),
      referrers: await level(repo, d.digest, options, slots, depth - 1, path, walk),
    };
  }));
  return nodes.filter((n) => n !== undefined);
}

/** Checks one entry of a referrers list; see `lib/registry/referrers.ts`. */
export { checkReferrer } from "./registry/referrers.ts";

/**
 * Entries with distinct digests, first one kept (a fallback index written by two tools may list
 * one manifest twice).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dedupeByDigest } from "./referrers_list.ts";
 * const a = { mediaType: "m", digest: "sha256:aa", size: 1 };
 * assert.deepEqual(dedupeByDigest([a, { ...a, size: 2 }]), [a]);
 * ```
 */
export function dedupeByDigest<T extends { digest: string }>(list: readonly T[]): T[] {
  const seen = new Set<string>();
  return list.filter((d) => !seen.has(d.digest) && seen.add(d.digest) !== undefined);
}

/**
 * Parses an `--referrers=TYPE,TYPE` filter: the artifact types, trimmed, empties dropped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseArtifactTypes } from "./referrers_list.ts";
 * assert.deepEqual(parseArtifactTypes(" application/spdx+json, ,x/y "), ["application/spdx+json", "x/y"]);
 * ```
 */
export function parseArtifactTypes(list: string): string[] {
  return list.split(",").map((s) => s.trim()).filter(Boolean);
}
