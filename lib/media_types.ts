/**
 * OCI and Docker media types, the `Accept` header every manifest request sends, and the
 * classification of a media type as index, image manifest or other.
 *
 * @module
 */

/** OCI image index (image-spec `image-index.md`). */
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
/** OCI image manifest (image-spec `manifest.md`). */
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
/** OCI image config. */
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
/** OCI gzip'd tar layer. */
export const OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
/** OCI empty descriptor media type (artifacts). */
export const OCI_EMPTY = "application/vnd.oci.empty.v1+json";
/** Docker manifest list (schema 2). */
export const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
/** Docker image manifest (schema 2). */
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
/** Docker image config. */
export const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
/** Docker gzip'd tar layer. */
export const DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/** Docker foreign (non-distributable) layer, e.g. Windows base layers. */
export const DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
/** Docker schema 1 signed manifest: only ever seen when a registry converts down. */
export const DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws";

/**
 * The `Accept` header sent with every manifest request. distribution 2.8 answers an OCI manifest
 * asked for without its type with 404, and converts a Docker manifest to schema 1 (a different
 * digest) when its type is missing, so all four are always sent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MANIFEST_ACCEPT } from "./media_types.ts";
 * assert(MANIFEST_ACCEPT.includes("application/vnd.oci.image.index.v1+json"));
 * ```
 */
export const MANIFEST_ACCEPT: string = [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST]
  .join(", ");

/**
 * True for an OCI index or a Docker manifest list.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isIndexMediaType } from "./media_types.ts";
 * assert(isIndexMediaType("application/vnd.oci.image.index.v1+json"));
 * ```
 */
export function isIndexMediaType(mediaType: string | undefined): boolean {
  return mediaType === OCI_INDEX || mediaType === DOCKER_LIST;
}

/**
 * True for an OCI or Docker schema 2 image manifest.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isImageManifestMediaType } from "./media_types.ts";
 * assert(isImageManifestMediaType("application/vnd.docker.distribution.manifest.v2+json"));
 * ```
 */
export function isImageManifestMediaType(mediaType: string | undefined): boolean {
  return mediaType === OCI_MANIFEST || mediaType === DOCKER_MANIFEST;
}

/**
 * True for a manifest media type this tool reads (index, list or image manifest).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isManifestMediaType } from "./media_types.ts";
 * assert(!isManifestMediaType("application/octet-stream"));
 * ```
 */
export function isManifestMediaType(mediaType: string | undefined): boolean {
  return isIndexMediaType(mediaType) || isImageManifestMediaType(mediaType);
}

/**
 * True for layers that must not be copied between registries (Docker foreign layers and OCI
 * non-distributable layers, deprecated but still found on Windows images).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isNonDistributable } from "./media_types.ts";
 * assert(isNonDistributable("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"));
 * ```
 */
export function isNonDistributable(mediaType: string | undefined): boolean {
  return mediaType === DOCKER_FOREIGN_LAYER ||
    (mediaType ?? "").startsWith("application/vnd.oci.image.layer.nondistributable.");
}

/** The format of a pushed index: `docker` (manifest list) or `oci` (image index). */
export type IndexFormat = "docker" | "oci";

/**
 * The index media type for a format.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { indexMediaType } from "./media_types.ts";
 * assert(indexMediaType("docker") === "application/vnd.docker.distribution.manifest.list.v2+json");
 * ```
 */
export function indexMediaType(format: IndexFormat): string {
  return format === "docker" ? DOCKER_LIST : OCI_INDEX;
}
