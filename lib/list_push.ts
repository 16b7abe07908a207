/**
 * `manifest push`: a local list published through the push engine (`pushIndex`: mounts, streamed
 * copies, children by digest, nothing half-pushed). Without a type the index is the one `docker
 * manifest push` sends for the same stored list, byte for byte (so the digest is docker's): its
 * media type rule (an OCI index when the first entry is an OCI manifest, else a Docker manifest
 * list) and its encoding (three-space indentation, no final new line). With `oci`, our OCI index,
 * carrying the entries' annotations. Each platform is the stored one, final: an image config is
 * never consulted, so what `annotate` set or cleared is what gets published.
 *
 * @module
 */

import { dockerListJson, dockerListMediaType } from "./format/docker_json.ts";
import type { LocalEntry } from "./local_store.ts";
import { type Index, serializeIndex } from "./manifest.ts";
import { DOCKER_LIST, type IndexFormat, OCI_INDEX } from "./media_types.ts";
import { pushIndex, type PushOptions, type PushResult } from "./push.ts";
import { parseReference, Reference } from "./reference.ts";
import type { RegistryClient } from "./registry/client.ts";

/**
 * A list entry without os or architecture; docker's words.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PlatformMissingError } from "./list_push.ts";
 * assert.equal(
 *   new PlatformMissingError("r.io/a:1").message,
 *   "manifest r.io/a:1 must have an OS and Architecture to be pushed to a registry",
 * );
 * ```
 */
export class PlatformMissingError extends Error {
  /** The entry. */
  readonly ref: string;
  /** Creates the error. */
  constructor(ref: string, options?: ErrorOptions) {
    super(`manifest ${ref} must have an OS and Architecture to be pushed to a registry`, options);
    this.name = "PlatformMissingError";
    this.ref = ref;
  }
}

/** What {@link pushList} did. */
export interface PushListResult {
  /** Digest of the index pushed. */
  digest: string;
  /** Its media type. */
  mediaType: string;
  /** The exact bytes pushed. */
  bytes: Uint8Array;
  /**
   * Entries from another repository, pushed by digest into the list's, in list order: docker
   * prints `Pushed ref <ref> with digest: <digest>` for each.
   */
  pushedRefs: { ref: string; digest: string }[];
  /** What the engine did (children, blobs), for `--json` and progress. */
  push: PushResult;
}

/**
 * Pushes local list `list` (its `entries`, as the store gives them) to the registry: `type`
 * undefined for docker's bytes, `docker` for a Docker manifest list in docker's encoding, `oci`
 * for an OCI index.
 */
export async function pushList(
  client: RegistryClient,
  list: Reference,
  entries: LocalEntry[],
  type?: IndexFormat,
  options: Omit<PushOptions, "format" | "encodeIndex"> = {},
): Promise<PushListResult> {
  const name = list.toString();
  if (entries.length === 0) throw new Error(`${name} not found`);
  for (const e of entries) {
    if (!e.descriptor.platform.os || !e.descriptor.platform.architecture) {
      throw new PlatformMissingError(e.ref);
    }
  }
  const mediaType = type === "oci"
    ? OCI_INDEX
    : type === "docker"
    ? DOCKER_LIST
    : dockerListMediaType(entries.map((e) => e.descriptor));
  const format: IndexFormat = mediaType === OCI_INDEX ? "oci" : "docker";
  const sources = entries.map((e) => parseReference(e.ref));
  const result = await pushIndex(client, {
    image: name,
    // By digest: exactly the manifests stored, whatever their tags point at now.
    manifests: entries.map((e, i) => ({
      image: new Reference({
        registry: sources[i].registry,
        repository: sources[i].repository,
        digest: e.descriptor.digest,
      }).toString(),
      platform: e.descriptor.platform,
      exactPlatform: true,
      // The bytes docker stored are the ones pushed, as docker pushes them: no GET, and a source
      // whose manifest is gone since (its blobs still there) is pushed all the same.
      manifest: { bytes: e.raw, mediaType: e.descriptor.mediaType },
    })),
    // Docker's list: a manifest stored twice, or two of one platform, are pushed as stored.
    verbatim: true,
  }, {
    ...options,
    format,
    encodeIndex: type === "oci"
      ? (index) => serializeIndex(withAnnotations(index, entries))
      : (index) => new TextEncoder().encode(dockerListJson(mediaType, index.manifests)),
  });
  const pushedRefs = entries
    .filter((_, i) =>
      sources[i].registry !== list.registry || sources[i].repository !== list.repository
    )
    .map((e) => ({ ref: `${list.name}@${e.descriptor.digest}`, digest: e.descriptor.digest }));
  return {
    digest: result.descriptor.digest,
    mediaType,
    bytes: result.bytes,
    pushedRefs,
    push: result,
  };
}

/**
 * The index with each entry's stored annotations (OCI only: a Docker list has none). The index
 * is verbatim: its i-th manifest is the i-th entry.
 */
function withAnnotations(index: Index, entries: LocalEntry[]): Index {
  return {
    ...index,
    manifests: index.manifests.map((d, i) => {
      const annotations = entries[i].descriptor.annotations;
      return annotations ? { ...d, annotations: { ...annotations, ...d.annotations } } : d;
    }),
  };
}
