/**
 * The resolve stage on its own, for callers that read sources without pushing an index (e.g.
 * `manifest create`, which stores what sources resolve to): the same source reading, index
 * flattening and platform completion as a push, with no target.
 *
 * @module
 */

import type { FetchedManifest, RegistryClient } from "../registry/client.ts";
import { SILENT } from "../registry/transport.ts";
import { Graph } from "./graph.ts";
import { planSources } from "./plan.ts";
import { type Entry, resolveSpec, sourceError } from "./resolve.ts";
import { settleAll } from "./transfer.ts";
import type { PushSource } from "./types.ts";
import type { Descriptor } from "../manifest.ts";

/** One entry a source resolved to. */
export interface ResolvedEntry {
  /** The source as given. */
  image: string;
  /** Its repository (`registry/repository`). */
  repository: string;
  /** As an index would list it: platform completed, annotations kept. */
  descriptor: Descriptor;
  /** Digest of the index source that lists it; absent for an image source. */
  index?: string;
  /** The manifest itself, as the registry serves it (with `manifests`). */
  manifest?: FetchedManifest;
}

/** Options of {@link resolveSources}. */
export interface ResolveSourcesOptions {
  /** Cancels the reads. */
  signal?: AbortSignal;
  /** Skip (with a warning) sources that are missing or not readable. */
  ignoreMissing?: boolean;
  /**
   * Keep an image whose config names no os and architecture (empty ones, to be set later) instead
   * of refusing it.
   */
  keepUnknownPlatform?: boolean;
  /** Also return each entry's manifest (read through the same cache: one request at most). */
  manifests?: boolean;
}

/**
 * Resolves `sources` as a push would: images with their platforms (completed from their configs
 * unless `exactPlatform`), index sources flattened into their images; attestations apart. Throws
 * as the resolve stage does (`NotFoundError`, `ManifestFormatError`, …).
 *
 * @example
 * ```ts ignore
 * const { images } = await resolveSources(client, [{ image: "127.0.0.1:5000/app:1" }]);
 * console.log(images.map((e) => e.descriptor.platform));
 * ```
 */
export async function resolveSources(
  client: RegistryClient,
  sources: readonly PushSource[],
  options: ResolveSourcesOptions = {},
): Promise<{
  images: ResolvedEntry[];
  attestations: ResolvedEntry[];
  skipped: { image: string; reason: string }[];
}> {
  const plan = planSources(sources);
  const graph = new Graph(client, { signal: options.signal });
  const resolved = await resolveSpec(graph, {
    position: 0,
    target: "",
    registry: "",
    repository: "",
    tags: [],
    format: "oci",
    mediaType: "",
    sources: plan,
    verbatim: false,
  }, {
    ignoreMissing: options.ignoreMissing,
    keepUnknownPlatform: options.keepUnknownPlatform,
    logger: client.logger ?? SILENT,
  });
  const out = async (e: Entry): Promise<ResolvedEntry> => ({
    image: e.sourceName,
    repository: e.source.toString(),
    descriptor: e.descriptor,
    ...(e.index ? { index: e.index } : {}),
    ...(options.manifests
      ? {
        manifest: await graph.manifest(e.source, e.descriptor.digest, e.descriptor).catch(
          (err) => {
            throw sourceError(e.sourceName, err);
          },
        ),
      }
      : {}),
  });
  return {
    images: await settleAll(resolved.images.map(out)),
    attestations: await settleAll(resolved.attestations.map(out)),
    skipped: resolved.skipped,
  };
}
