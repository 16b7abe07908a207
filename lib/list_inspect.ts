/**
 * `manifest inspect` of a reference in a registry, printed as `docker manifest inspect [-v]`
 * prints it: an image's own bytes re-indented with tabs (with `-v`: the entry docker builds, its
 * platform read from the config); a list rebuilt as docker's manifest list of its entries (with
 * `-v`: every image entry with its manifest and the platform the list gives it).
 *
 * @module
 */

import {
  dockerListJson,
  dockerListMediaType,
  goIndent,
  imageManifestJson,
  verboseJson,
} from "./format/docker_json.ts";
import { entryName, inspect } from "./inspect.ts";
import { configPlatform, sourceError } from "./list_sources.ts";
import { parseManifest } from "./manifest.ts";
import { isImageManifestMediaType } from "./media_types.ts";
import { mapConcurrent } from "./pool.ts";
import type { Reference } from "./reference.ts";
import type { RegistryClient } from "./registry/client.ts";

/**
 * The text `docker manifest inspect [-v] REF` prints for `ref` in its registry;
 * `NoSuchManifestError` when the registry does not have it.
 */
export async function inspectRemote(
  client: RegistryClient,
  ref: Reference,
  verbose: boolean,
): Promise<string> {
  const name = ref.toString();
  let top;
  try {
    top = await inspect(client, ref, { configs: verbose, children: false });
  } catch (e) {
    throw sourceError(name, e);
  }
  if (top.kind === "image") {
    if (!verbose) return goIndent(new TextDecoder().decode(top.bytes), "\t") + "\n";
    // docker fills the platform from the config, empty when the config names none.
    const platform = configPlatform(top.config);
    return verboseJson([
      imageManifestJson(
        { ref: name, descriptor: { ...top.descriptor, platform }, raw: top.bytes },
        { typed: parses(top.bytes) },
      ),
    ], false);
  }
  if (!verbose) {
    // docker rebuilds the list from its entries: its own field order, no annotations.
    const entries = top.index.manifests;
    return dockerListJson(dockerListMediaType(entries), entries) + "\n";
  }
  // Every image entry, attestations too, with the platform the list gives it.
  const repo = client.repositoryOf(ref);
  const images = top.index.manifests.filter((d) => isImageManifestMediaType(d.mediaType));
  try {
    const items = await mapConcurrent(images, 8, async (d) => {
      const m = await repo.getManifest(d.digest, d);
      const descriptor = {
        mediaType: m.descriptor.mediaType,
        digest: m.descriptor.digest,
        size: m.descriptor.size,
        platform: d.platform ?? { os: "", architecture: "" },
      };
      return imageManifestJson(
        { ref: entryName(name, d.digest), descriptor, raw: m.bytes },
        { typed: parses(m.bytes) },
      );
    });
    return verboseJson(items, true);
  } catch (e) {
    throw sourceError(name, e);
  }
}

/** Whether docker would hold a typed copy of the manifest (it decodes). */
function parses(bytes: Uint8Array): boolean {
  try {
    parseManifest(bytes);
    return true;
  } catch {
    return false;
  }
}
