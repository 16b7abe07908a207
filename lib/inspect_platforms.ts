/**
 * What the `platforms` view needs of a reference: {@link inspect} without the children of an
 * index (an index lists its platforms itself), plus the documents of the indexes nested in it,
 * whose entries hold the platforms of their images (a platform entry may be an index: OCI
 * image-spec `image-index.md` allows any manifest media type).
 *
 * @module
 */

import { RegistryError } from "./errors.ts";
import { inspect, type Inspected, type InspectedIndex } from "./inspect.ts";
import { isIndexMediaType } from "./media_types.ts";
import type { Descriptor } from "./manifest.ts";
import type { Reference } from "./reference.ts";
import type { RegistryClient, Repository } from "./registry/client.ts";

/** Levels of nested indexes read by {@link inspectPlatforms}, as `inspect`'s default depth. */
export const PLATFORMS_DEPTH = 2;

/**
 * Inspects `ref` for its platforms: an image with its config, an index with only its own document
 * and (to {@link PLATFORMS_DEPTH} levels) those of its nested indexes, as `children` at their
 * entries' positions (`undefined` for images, which are not fetched).
 *
 * @example
 * ```ts ignore
 * import { inspectPlatforms } from "./inspect_platforms.ts";
 * import { RegistryClient } from "./registry/client.ts";
 * import { parseReference } from "./reference.ts";
 * await using client = new RegistryClient();
 * const r = await inspectPlatforms(client, parseReference("127.0.0.1:5000/app:multi"));
 * console.log(r.kind);
 * ```
 */
export async function inspectPlatforms(
  client: RegistryClient,
  ref: Reference,
): Promise<Inspected> {
  const top = await inspect(client, ref, { children: false });
  if (top.kind === "image") return top;
  try {
    return await nested(client.repositoryOf(ref), top, PLATFORMS_DEPTH);
  } catch (e) {
    // Name the reference the user gave, as inspect() does for its own requests.
    throw e instanceof RegistryError ? e.withContext(`"${ref}"`) : e;
  }
}

/**
 * Adds the nested indexes of `node`, `depth` levels down. `known` holds each nested index read, by
 * digest and level: one listed again is read once and is the same node (an index naming one nested
 * index N times costs one request, not N).
 */
async function nested(
  repo: Repository,
  node: InspectedIndex,
  depth: number,
  known = new Map<string, Promise<InspectedIndex | undefined>>(),
): Promise<InspectedIndex> {
  if (depth <= 0) return node;
  const child = async (d: Descriptor): Promise<InspectedIndex | undefined> => {
    const m = await repo.getManifest(d.digest, d);
    if (m.parsed.kind !== "index") return undefined;
    const index: InspectedIndex = {
      kind: "index",
      descriptor: d,
      index: m.parsed.index,
      bytes: m.bytes,
      children: [],
    };
    return await nested(repo, index, depth - 1, known);
  };
  node.children = await Promise.all(node.index.manifests.map((d) => {
    if (!isIndexMediaType(d.mediaType)) return undefined;
    const key = `${d.digest} ${d.size} ${depth}`;
    if (!known.has(key)) known.set(key, child(d));
    return known.get(key);
  }));
  return node;
}
