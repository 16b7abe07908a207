/**
 * Fetches a reference and everything the inspect views need, concurrently and once: the top
 * manifest (one request; digest computed from the bytes), then the children of an index and the
 * configs of images in parallel with a bound. Every document is digest-verified. The result is
 * plain data for `lib/format/`.
 *
 * @module
 */

import { RegistryError, UsageError } from "./errors.ts";
import {
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
  type Index,
  isAttestation,
} from "./manifest.ts";
import { isImageManifestMediaType, isIndexMediaType } from "./media_types.ts";
import { type Platform, platformMatches } from "./platform.ts";
import { mapConcurrent } from "./pool.ts";
import type { Reference } from "./reference.ts";
import type { RegistryClient, Repository } from "./registry/client.ts";

/** An image: its manifest and (when fetched) its config. */
export interface InspectedImage {
  /** Kind tag. */
  kind: "image";
  /** Descriptor of the manifest (as listed in the parent index, or as fetched). */
  descriptor: Descriptor;
  /** The manifest. */
  manifest: ImageManifest;
  /** The exact manifest bytes. */
  bytes: Uint8Array;
  /** The image config, when fetched. */
  config?: ImageConfig;
  /** The exact config bytes, when fetched. */
  configBytes?: Uint8Array;
}

/** An index and its children. */
export interface InspectedIndex {
  /** Kind tag. */
  kind: "index";
  /** Descriptor of the index. */
  descriptor: Descriptor;
  /** The index document. */
  index: Index;
  /** The exact bytes. */
  bytes: Uint8Array;
  /** Children, in index order (nested indexes as {@link InspectedIndex}, unknown types as undefined). */
  children: (InspectedImage | InspectedIndex | undefined)[];
}

/** Result of {@link inspect}. */
export type Inspected = InspectedImage | InspectedIndex;

/** Options of {@link inspect}. */
export interface InspectOptions {
  /** Fetch image configs (needed for platform and OS details of single images). Default true. */
  configs?: boolean;
  /** Fetch the children of an index. Default true. */
  children?: boolean;
  /** Pick the entry of an index that matches this platform and inspect that image. */
  platform?: Platform;
  /** Requests in flight at once. Default 8. */
  concurrency?: number;
  /** Depth to which nested indexes are followed. Default 2. */
  maxDepth?: number;
}

/**
 * Inspects `ref`: an image (manifest + config) or an index (with every child manifest and, for
 * images, their configs).
 *
 * @example
 * ```ts ignore
 * import { inspect } from "./inspect.ts";
 * import { RegistryClient } from "./registry/client.ts";
 * import { parseReference } from "./reference.ts";
 * await using client = new RegistryClient();
 * const result = await inspect(client, parseReference("127.0.0.1:5000/app:1.0"));
 * console.log(result.kind, result.descriptor.digest);
 * ```
 */
export async function inspect(
  client: RegistryClient,
  ref: Reference,
  options: InspectOptions = {},
): Promise<Inspected> {
  const repo = client.repositoryOf(ref);
  const top = await fetchNode(repo, ref.identifier, undefined, {
    ...options,
    children: false,
    configs: false,
  }, 0).catch((e) => {
    throw e instanceof RegistryError ? e.withContext(`"${ref}"`) : e;
  });
  if (options.platform) {
    if (top.kind !== "index") {
      throw new UsageError(`"${ref}" is a single image, not an index: --platform does not apply`);
    }
    const want = options.platform;
    const match = top.index.manifests.find((d) =>
      !isAttestation(d) && d.platform && platformMatches(want, d.platform)
    );
    if (!match) {
      const have = top.index.manifests.filter((d) => d.platform && !isAttestation(d))
        .map((d) =>
          [d.platform!.os, d.platform!.architecture, d.platform!.variant].filter(Boolean).join("/")
        );
      throw new UsageError(
        `"${ref}" has no entry for platform ${
          [want.os, want.architecture, want.variant].filter(Boolean).join("/")
        }: it has ${have.join(", ") || "none"}`,
      );
    }
    return await fetchNode(repo, match.digest, match, options, 1);
  }
  return await expand(repo, top, options, 0);
}

async function fetchNode(
  repo: Repository,
  reference: string,
  expected: Descriptor | undefined,
  options: InspectOptions,
  depth: number,
): Promise<Inspected> {
  const m = await repo.getManifest(reference, expected);
  const descriptor: Descriptor = expected
    ? { ...expected, digest: m.descriptor.digest, size: m.descriptor.size }
    : m.descriptor;
  const node: Inspected = m.parsed.kind === "index"
    ? { kind: "index", descriptor, index: m.parsed.index, bytes: m.bytes, children: [] }
    : { kind: "image", descriptor, manifest: m.parsed.manifest, bytes: m.bytes };
  return await expand(repo, node, options, depth);
}

async function expand(
  repo: Repository,
  node: Inspected,
  options: InspectOptions,
  depth: number,
): Promise<Inspected> {
  const limit = options.concurrency ?? 8;
  if (node.kind === "image") {
    if (options.configs !== false && !node.config) {
      node.configBytes = await repo.fetchBlobBytes(node.manifest.config);
      node.config = JSON.parse(new TextDecoder().decode(node.configBytes)) as ImageConfig;
    }
    return node;
  }
  if (options.children === false || depth >= (options.maxDepth ?? 2)) return node;
  // Children and their configs are fetched together: each child's config request starts as soon
  // as its manifest is in, with every child in flight at once (bounded).
  node.children = await mapConcurrent(node.index.manifests, limit, async (d) => {
    if (!isIndexMediaType(d.mediaType) && !isImageManifestMediaType(d.mediaType)) return undefined;
    const childOptions = isAttestation(d) ? { ...options, configs: false } : options;
    return await fetchNode(repo, d.digest, d, childOptions, depth + 1);
  });
  return node;
}
