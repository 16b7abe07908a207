/**
 * Listing referrers (OCI distribution spec 1.1, "Listing Referrers"): {@link listReferrers} walks
 * them to a depth (a signature of an SBOM of an image is depth 2), concurrently, through
 * `Repository.referrers()` (the referrers API, else the `<alg>-<hex>` tag-schema fallback; neither
 * gives none), checking every listed descriptor.
 *
 * @module
 */

import { isDigest } from "./digest.ts";
import { type Descriptor, ManifestFormatError } from "./manifest.ts";
import { isManifestMediaType, OCI_EMPTY } from "./media_types.ts";
import { Semaphore } from "./pool.ts";
import type { Repository } from "./registry/client.ts";
import { printable } from "./registry/transport.ts";

/** The annotation a referrer's creation time is read from (image-spec `annotations.md`). */
export const CREATED_ANNOTATION = "org.opencontainers.image.created";

/** Default depth of {@link listReferrers}: referrers, theirs, and theirs. */
export const REFERRERS_DEPTH = 3;

/** One manifest that refers to a subject, and (to the depth asked) the ones that refer to it. */
export interface Referrer {
  /** Its descriptor as the referrers list gives it (artifactType, annotations). */
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
  /** Bounds the requests in flight (shared with the caller's other requests). Default 8. */
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
  const slots = options.slots ?? new Semaphore(8);
  return await level(repo, digest, options, slots, options.depth ?? REFERRERS_DEPTH, new Set());
}

async function level(
  repo: Repository,
  digest: string,
  options: ListReferrersOptions,
  slots: Semaphore,
  depth: number,
  seen: ReadonlySet<string>,
): Promise<Referrer[]> {
  if (depth <= 0) return [];
  const listed = await slots.run(() => repo.referrers(digest)).catch((e) => {
    // The API's body is parsed as it is sent: a registry's bad JSON is its content's fault.
    if (e instanceof SyntaxError) {
      throw new ManifestFormatError(`Referrers of ${repo}@${digest} are not valid JSON`, {
        cause: e,
      });
    }
    throw e;
  });
  if (!Array.isArray(listed)) {
    throw new ManifestFormatError(`Referrers of ${repo}@${digest} have no "manifests" array`);
  }
  const types = options.artifactTypes?.length ? new Set(options.artifactTypes) : undefined;
  // A list that names its own subject again (a lying fallback index) is not followed round.
  const path = new Set([...seen, digest]);
  const unique = dedupeByDigest(listed.map((d) => checkReferrer(d, repo, digest)))
    .filter((d) => !path.has(d.digest));
  const nodes = await Promise.all(unique.map(async (d): Promise<Referrer | undefined> => {
    // A listed type that is the empty config's is wrong by the spec (an artifact with an empty
    // config MUST set artifactType): go-containerregistry v0.22.1's referrers API lists the config
    // media type regardless. Read the manifest then, as when the type is missing.
    const artifactType = d.artifactType && d.artifactType !== OCI_EMPTY
      ? d.artifactType
      : await configType(repo, d, slots);
    if (types && !types.has(artifactType)) return undefined;
    const created = d.annotations?.[CREATED_ANNOTATION];
    return {
      descriptor: d,
      artifactType,
      ...(created ? { created } : {}),
      referrers: await level(repo, d.digest, options, slots, depth - 1, path),
    };
  }));
  return nodes.filter((n) => n !== undefined);
}

/** The config media type of a referrer whose list entry has no artifactType (spec: its default). */
async function configType(repo: Repository, d: Descriptor, slots: Semaphore): Promise<string> {
  const m = await slots.run(() => repo.getManifest(d.digest, d));
  return m.parsed.kind === "image"
    ? m.parsed.manifest.artifactType || m.parsed.manifest.config.mediaType
    : m.parsed.index.artifactType ?? "";
}

/**
 * Checks one entry of a referrers list (registry content): a manifest media type, a valid digest
 * and a size. Throws {@link ManifestFormatError} naming the subject otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkReferrer } from "./referrers_list.ts";
 * const d = { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: "sha256:" + "a".repeat(64), size: 3 };
 * assert.equal(checkReferrer(d, "r/x", "sha256:" + "b".repeat(64)), d);
 * assert.throws(() => checkReferrer({ ...d, digest: "../x" }, "r/x", "sha256:" + "b".repeat(64)));
 * ```
 */
export function checkReferrer(d: unknown, repo: Repository | string, subject: string): Descriptor {
  const o = (d ?? {}) as Record<string, unknown>;
  const ok = typeof o === "object" && typeof o.mediaType === "string" &&
    isManifestMediaType(o.mediaType) && typeof o.digest === "string" && isDigest(o.digest) &&
    Number.isSafeInteger(o.size) && (o.size as number) >= 0 &&
    (o.artifactType === undefined || typeof o.artifactType === "string") &&
    (o.annotations === undefined || isStringRecord(o.annotations));
  if (!ok) {
    throw new ManifestFormatError(
      `Referrers of ${repo}@${subject} list an invalid descriptor: ${
        printable(JSON.stringify(d) ?? String(d), 200)
      }`,
    );
  }
  return o as unknown as Descriptor;
}

function isStringRecord(v: unknown): boolean {
  return !!v && typeof v === "object" && !Array.isArray(v) &&
    Object.values(v).every((x) => typeof x === "string");
}

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
