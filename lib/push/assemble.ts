/**
 * Stage 3, assemble: the index document and its exact bytes from a spec's resolved entries, after
 * checking what can only be checked once every source is read: each platform is a known one and
 * no two images share a platform ({@link ConflictError}).
 *
 * @module
 */

import { ConflictError } from "../errors.ts";
import { digestOf } from "../digest.ts";
import { manifestToolIndexJson } from "../format/docker_json.ts";
import { type Descriptor, type Index, ManifestFormatError } from "../manifest.ts";
import { isIndexMediaType, OCI_MANIFEST } from "../media_types.ts";
import { platformKey, validatePlatform } from "../platform.ts";
import { type Logger, printable } from "../registry/transport.ts";
import { messageOf, platformText } from "./_text.ts";
import type { SpecPlan } from "./plan.ts";
import type { Entry, ResolvedSpec } from "./resolve.ts";

/** An assembled index: the document, its bytes, its descriptor, and the entries it lists. */
export interface AssembledIndex {
  /** The document. */
  index: Index;
  /** Its exact bytes, as `encodeIndex` made them. */
  bytes: Uint8Array;
  /** Media type, digest and size of {@link bytes}. */
  descriptor: Descriptor;
  /** The children, in index order, each digest once (a verbatim spec: each source once). */
  entries: Entry[];
}

/**
 * Assembles the index of `spec`. A Docker list leaves attestations out (it cannot carry their
 * annotations) with a warning through `logger`.
 *
 * @example
 * ```ts ignore
 * const assembled = assembleIndex(plan.specs[0], resolved, { logger: SILENT });
 * ```
 */
export function assembleIndex(
  spec: SpecPlan,
  resolved: ResolvedSpec,
  options: { encodeIndex?: (index: Index) => Uint8Array; logger: Logger },
): AssembledIndex {
  if (!spec.verbatim) checkPlatforms(resolved.images);
  const oci = spec.format === "oci";
  const ociImages = resolved.images.filter((e) => e.descriptor.mediaType === OCI_MANIFEST);
  if (!oci && !spec.verbatim && ociImages.length > 0) {
    // Registries and clients take it, but the Docker list schema names Docker manifests only
    // (docker manifest push makes such lists without a word: its rule, verbatim, says nothing).
    // The same words for every spec of a run, so that a logger can say them once.
    options.logger.warn(
      "A Docker manifest list naming OCI image manifests: --type oci pushes an OCI index",
    );
  }
  if (!oci && resolved.attestations.length > 0) {
    options.logger.warn(
      `Leaving out ${resolved.attestations.length} attestation manifest(s): a Docker manifest list cannot carry them (use --type oci)`,
    );
  }
  const all = [...resolved.images, ...oci ? resolved.attestations : []];
  const entries = spec.verbatim ? all : dedupe(all);
  const index: Index = {
    schemaVersion: 2,
    mediaType: spec.mediaType,
    manifests: entries.map((e) => {
      const d: Descriptor = {
        mediaType: e.descriptor.mediaType,
        digest: e.descriptor.digest,
        size: e.descriptor.size,
      };
      if (e.descriptor.platform) d.platform = e.descriptor.platform;
      if (oci && e.descriptor.annotations) d.annotations = e.descriptor.annotations;
      return d;
    }),
  };
  if (spec.annotations) index.annotations = spec.annotations;
  const bytes = (options.encodeIndex ?? manifestToolIndex)(index);
  const descriptor = { mediaType: spec.mediaType, digest: digestOf(bytes), size: bytes.byteLength };
  return { index, bytes, descriptor, entries };
}

/**
 * Every image platform is a known one (those the user gave were checked by the plan, so a
 * failure here is the registry's content) and no two images share one.
 */
function checkPlatforms(images: Entry[]): void {
  const seen = new Map<string, string>();
  for (const e of images) {
    const p = e.descriptor.platform!;
    if (!isIndexMediaType(e.descriptor.mediaType)) {
      try {
        validatePlatform(p);
      } catch (err) {
        throw new ManifestFormatError(
          `Source "${e.sourceName}" entry ${e.descriptor.digest}: ${printable(messageOf(err))}`,
          { cause: err },
        );
      }
    }
    const key = platformKey(p);
    const other = seen.get(key);
    if (other && other !== e.descriptor.digest) {
      throw new ConflictError(
        `Two manifests have the same platform ${
          printable(platformText(p))
        }: ${other} and ${e.descriptor.digest} (from "${e.sourceName}")`,
        { key, digests: [other, e.descriptor.digest] },
      );
    }
    seen.set(key, e.descriptor.digest);
  }
}

/** manifest-tool v2's bytes for `index` (its digest for the same spec). */
function manifestToolIndex(index: Index): Uint8Array {
  return new TextEncoder().encode(manifestToolIndexJson(index));
}

/**
 * One entry per digest and platform: a manifest two sources name for one platform is listed once,
 * one image given for several platforms (a platform-neutral image) once per platform.
 */
function dedupe(entries: Entry[]): Entry[] {
  const seen = new Set<string>();
  return entries.filter((e) => {
    const p = e.descriptor.platform;
    const key = `${e.descriptor.digest} ${p ? platformKey(p) : ""}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
