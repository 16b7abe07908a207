/**
 * The `--raw` JSON view. Keeps manifest-tool v2's field names (`name`, `digest`, `schemaVersion`,
 * `mediaType`, `manifests`, `annotations` for an index, each entry being the child manifest; `name`,
 * `digest`, `os`, `architecture` and the manifest's fields for an image) and adds what it lacks
 * (manifest-tool issue #223): per entry `descriptor` (`mediaType`, `digest`, `size`, `platform`,
 * `annotations`) and top-level `size`. With `expandConfig` the image config(s) are embedded as
 * `config`, for an index too. With referrers inspected, the top object and each entry get a
 * `referrers` array (empty for none): `artifactType`, `mediaType`, `digest`, `size`, `created`,
 * `annotations` and their own `referrers`. A nested index that appears again in the same view is
 * written once; later entries naming it carry `shownAbove: true` instead of its `manifests`.
 *
 * @module
 */

import { entryName, type Inspected, type InspectedImage } from "../inspect.ts";
import type { Referrer } from "../referrers_list.ts";

/**
 * Builds the raw JSON object of an inspect result.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatRaw } from "./raw.ts";
 * import type { Inspected } from "../inspect.ts";
 * const result: Inspected = {
 *   kind: "image",
 *   descriptor: { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: "sha256:aa", size: 400 },
 *   manifest: {
 *     schemaVersion: 2,
 *     config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: "sha256:cc", size: 40 },
 *     layers: [],
 *   },
 *   bytes: new Uint8Array(400),
 *   config: { os: "linux", architecture: "arm", variant: "v7" },
 * };
 * const doc = formatRaw("r.example/app:1", result, true);
 * assert(doc.digest === "sha256:aa" && doc.architecture === "arm");
 * ```
 */
export function formatRaw(
  name: string,
  result: Inspected,
  expandConfig: boolean,
  shown: Set<string> = new Set(),
): Record<string, unknown> {
  if (result.kind === "image") return imageJson(name, result, expandConfig);
  shown.add(result.descriptor.digest);
  return {
    name,
    digest: result.descriptor.digest,
    size: result.descriptor.size,
    schemaVersion: result.index.schemaVersion,
    mediaType: result.descriptor.mediaType,
    manifests: result.index.manifests.map((d, i) => {
      const child = result.children[i];
      const descriptor = { ...d };
      const base: Record<string, unknown> = child?.kind === "image"
        ? imageBody(child, expandConfig)
        : child?.kind === "index" && shown.has(d.digest)
        // A nested index listed again is not written again (`shownAbove`): N entries of one
        // index of N entries would be N² in the output.
        ? { name: entryName(name, d.digest), shownAbove: true }
        : child?.kind === "index"
        ? formatRaw(entryName(name, d.digest), child, expandConfig, shown)
        : {};
      return {
        ...base,
        // Added beside manifest-tool's fields so scripts can find each entry's descriptor.
        digest: d.digest,
        size: d.size,
        mediaType: d.mediaType,
        ...(d.platform ? { platform: d.platform } : {}),
        descriptor,
        ...referrersJson(child?.referrers),
      };
    }),
    ...(result.index.annotations ? { annotations: result.index.annotations } : {}),
    ...referrersJson(result.referrers),
  };
}

/** `{referrers: […]}` when referrers were inspected, else nothing (v2's JSON unchanged). */
function referrersJson(list: Referrer[] | undefined): { referrers?: unknown[] } {
  if (!list) return {};
  const walk = (nodes: Referrer[]): unknown[] =>
    nodes.map((x) => ({
      artifactType: x.artifactType,
      mediaType: x.descriptor.mediaType,
      digest: x.descriptor.digest,
      size: x.descriptor.size,
      ...(x.created ? { created: x.created } : {}),
      ...(x.descriptor.annotations ? { annotations: x.descriptor.annotations } : {}),
      referrers: walk(x.referrers),
    }));
  return { referrers: walk(list) };
}

function imageJson(
  name: string,
  r: InspectedImage,
  expandConfig: boolean,
): Record<string, unknown> {
  return {
    name,
    digest: r.descriptor.digest,
    size: r.descriptor.size,
    ...(r.config?.os ? { os: r.config.os } : {}),
    ...(r.config?.architecture ? { architecture: r.config.architecture } : {}),
    ...(r.config?.variant ? { variant: r.config.variant } : {}),
    ...(r.config?.["os.version"] ? { "os.version": r.config["os.version"] } : {}),
    ...imageBody(r, expandConfig),
    mediaType: r.descriptor.mediaType,
    ...referrersJson(r.referrers),
  };
}

function imageBody(r: InspectedImage, expandConfig: boolean): Record<string, unknown> {
  const m = r.manifest;
  return {
    schemaVersion: m.schemaVersion,
    ...(m.mediaType ? { mediaType: m.mediaType } : {}),
    ...(m.artifactType ? { artifactType: m.artifactType } : {}),
    config: expandConfig && r.config ? r.config : m.config,
    ...(expandConfig ? { configDescriptor: m.config } : {}),
    layers: m.layers,
    ...(m.subject ? { subject: m.subject } : {}),
    ...(m.annotations ? { annotations: m.annotations } : {}),
  };
}
