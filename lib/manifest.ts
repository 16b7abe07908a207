/**
 * Descriptor, image manifest, index and image config types (OCI image-spec `descriptor.md`,
 * `manifest.md`, `image-index.md`, `config.md`; Docker schema 2 is the same shape), and parsing of
 * verified manifest bytes. Bytes are never re-serialised before hashing: a digest is over the exact
 * bytes a registry served.
 *
 * @module
 */

import { isIndexMediaType, isManifestMediaType, OCI_INDEX, OCI_MANIFEST } from "./media_types.ts";
import type { Platform } from "./platform.ts";

export type { Platform } from "./platform.ts";

/** A content descriptor: what, how big, which digest (image-spec `descriptor.md`). */
export interface Descriptor {
  /** Media type of the content. */
  mediaType: string;
  /** Digest of the content, e.g. `sha256:…`. */
  digest: string;
  /** Size of the content in bytes. */
  size: number;
  /** Platform of an index entry. */
  platform?: Platform;
  /** Annotations. */
  annotations?: Record<string, string>;
  /** Alternate download URLs (foreign layers). */
  urls?: string[];
  /** Artifact type of the content (OCI 1.1). */
  artifactType?: string;
}

/** An image manifest (OCI or Docker schema 2). */
export interface ImageManifest {
  /** Always 2. */
  schemaVersion: number;
  /** Media type, optional in OCI, required in Docker. */
  mediaType?: string;
  /** Artifact type (OCI 1.1). */
  artifactType?: string;
  /** The image config. */
  config: Descriptor;
  /** The layers, base first. */
  layers: Descriptor[];
  /** Manifest this one refers to (OCI 1.1). */
  subject?: Descriptor;
  /** Annotations. */
  annotations?: Record<string, string>;
}

/** An image index or Docker manifest list. */
export interface Index {
  /** Always 2. */
  schemaVersion: number;
  /** Media type. */
  mediaType?: string;
  /** Artifact type (OCI 1.1). */
  artifactType?: string;
  /** The entries. */
  manifests: Descriptor[];
  /** Manifest this one refers to (OCI 1.1). */
  subject?: Descriptor;
  /** Annotations. */
  annotations?: Record<string, string>;
}

/** The parts of an image config this tool reads (image-spec `config.md`). */
export interface ImageConfig {
  /** CPU architecture. */
  architecture?: string;
  /** Operating system. */
  os?: string;
  /** CPU variant. */
  variant?: string;
  /** OS version (Windows). */
  "os.version"?: string;
  /** OS features (Windows). */
  "os.features"?: string[];
  /** Creation time. */
  created?: string;
  /** Root filesystem. */
  rootfs?: { type: string; diff_ids: string[] };
  /** Execution parameters. */
  config?: Record<string, unknown>;
  /** Anything else. */
  [key: string]: unknown;
}

/** A manifest parsed from bytes: either an index or an image manifest. */
export type ParsedManifest =
  | { kind: "index"; mediaType: string; index: Index }
  | { kind: "image"; mediaType: string; manifest: ImageManifest };

/**
 * Parses manifest bytes. The media type is taken from the document's `mediaType` field, else from
 * `contentType` (the response header), else from the shape (`manifests` → OCI index, `config` →
 * OCI manifest). Throws {@link ManifestFormatError} naming `what` when the bytes are not a
 * manifest this tool reads.
 *
 * Descriptors are checked for what this tool relies on: a digest, a non-negative integer size, a
 * media type, and, when present, a platform with string `os` and `architecture`, string
 * annotations and string URLs (image-spec `descriptor.md`, `image-index.md`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseManifest } from "./manifest.ts";
 * const bytes = new TextEncoder().encode('{"schemaVersion":2,"manifests":[]}');
 * const m = parseManifest(bytes);
 * assert(m.kind === "index" && m.mediaType === "application/vnd.oci.image.index.v1+json");
 * ```
 */
export function parseManifest(
  bytes: Uint8Array,
  contentType?: string,
  what = "manifest",
): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new ManifestFormatError(`${what} is not valid JSON`, { cause: e });
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new ManifestFormatError(`${what} is not a JSON object`);
  }
  const o = doc as Record<string, unknown>;
  const header = contentType?.split(";")[0].trim();
  let mediaType = typeof o.mediaType === "string" ? o.mediaType : undefined;
  if (!mediaType && isManifestMediaType(header)) mediaType = header;
  if (!mediaType) {
    if (Array.isArray(o.manifests)) mediaType = OCI_INDEX;
    else if (o.config && typeof o.config === "object") mediaType = OCI_MANIFEST;
  }
  if (!isManifestMediaType(mediaType)) {
    throw new ManifestFormatError(
      `${what} has unsupported media type "${mediaType ?? header ?? "unknown"}"`,
    );
  }
  if (o.schemaVersion !== 2) {
    throw new ManifestFormatError(
      `${what} has schemaVersion ${JSON.stringify(o.schemaVersion)}, expected 2`,
    );
  }
  if (isIndexMediaType(mediaType)) {
    if (!Array.isArray(o.manifests)) {
      throw new ManifestFormatError(`${what} has no "manifests" array`);
    }
    for (const [i, d] of (o.manifests as unknown[]).entries()) {
      checkDescriptor(d, `${what} manifests[${i}]`);
    }
    checkCommon(o, what);
    return { kind: "index", mediaType: mediaType!, index: o as unknown as Index };
  }
  checkDescriptor(o.config, `${what} config`);
  if (!Array.isArray(o.layers)) throw new ManifestFormatError(`${what} has no "layers" array`);
  for (const [i, d] of (o.layers as unknown[]).entries()) {
    checkDescriptor(d, `${what} layers[${i}]`);
  }
  checkCommon(o, what);
  return { kind: "image", mediaType: mediaType!, manifest: o as unknown as ImageManifest };
}

/**
 * Bytes that do not form a manifest this tool understands.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ManifestFormatError, parseManifest } from "./manifest.ts";
 * assert.throws(() => parseManifest(new TextEncoder().encode("[]")), ManifestFormatError);
 * ```
 */
export class ManifestFormatError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ManifestFormatError";
  }
}

function checkDescriptor(d: unknown, what: string): void {
  if (!d || typeof d !== "object") throw new ManifestFormatError(`${what} is not a descriptor`);
  const o = d as Record<string, unknown>;
  if (
    typeof o.digest !== "string" ||
    !/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(o.digest)
  ) {
    throw new ManifestFormatError(`${what} has an invalid digest ${JSON.stringify(o.digest)}`);
  }
  if (typeof o.size !== "number" || !Number.isSafeInteger(o.size) || o.size < 0) {
    throw new ManifestFormatError(`${what} has an invalid size ${JSON.stringify(o.size)}`);
  }
  if (typeof o.mediaType !== "string") {
    throw new ManifestFormatError(`${what} has no mediaType`);
  }
  if (o.urls !== undefined && !isStringArray(o.urls)) {
    throw new ManifestFormatError(`${what} has "urls" that are not a list of strings`);
  }
  checkCommon(o, what);
  if (o.platform !== undefined) checkPlatform(o.platform, what);
}

/** What descriptors and manifests share: annotations, artifactType, subject. */
function checkCommon(o: Record<string, unknown>, what: string): void {
  const a = o.annotations;
  if (
    a !== undefined &&
    (a === null || typeof a !== "object" || Array.isArray(a) ||
      Object.values(a).some((v) => typeof v !== "string"))
  ) {
    throw new ManifestFormatError(`${what} has "annotations" that are not a map of strings`);
  }
  if (o.artifactType !== undefined && typeof o.artifactType !== "string") {
    throw new ManifestFormatError(`${what} has an "artifactType" that is not a string`);
  }
  if (o.subject !== undefined) checkDescriptor(o.subject, `${what} subject`);
}

// Code downstream formats, normalises and matches platforms: a missing os would surface as a
// TypeError far from the bytes that caused it.
function checkPlatform(p: unknown, what: string): void {
  if (!p || typeof p !== "object" || Array.isArray(p)) {
    throw new ManifestFormatError(`${what} has a platform that is not an object`);
  }
  const o = p as Record<string, unknown>;
  for (const field of ["os", "architecture"]) {
    if (typeof o[field] !== "string") {
      throw new ManifestFormatError(`${what} platform has no string "${field}"`);
    }
  }
  for (const field of ["variant", "os.version"]) {
    if (o[field] !== undefined && typeof o[field] !== "string") {
      throw new ManifestFormatError(`${what} platform has a "${field}" that is not a string`);
    }
  }
  for (const field of ["os.features", "features"]) {
    if (o[field] !== undefined && !isStringArray(o[field])) {
      throw new ManifestFormatError(
        `${what} platform has "${field}" that are not a list of strings`,
      );
    }
  }
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}

/**
 * The annotation buildx puts on attestation manifests in an index, with the value
 * `attestation-manifest`; `vnd.docker.reference.digest` names the image attested.
 */
export const REFERENCE_TYPE_ANNOTATION = "vnd.docker.reference.type";
/** The annotation naming the digest an attestation manifest attests. */
export const REFERENCE_DIGEST_ANNOTATION = "vnd.docker.reference.digest";

/**
 * True for an index entry that is a buildx attestation manifest (not a runnable image).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isAttestation } from "./manifest.ts";
 * assert(isAttestation({
 *   mediaType: "application/vnd.oci.image.manifest.v1+json",
 *   digest: "sha256:00",
 *   size: 1,
 *   annotations: { "vnd.docker.reference.type": "attestation-manifest" },
 * }));
 * ```
 */
export function isAttestation(d: Descriptor): boolean {
  return d.annotations?.[REFERENCE_TYPE_ANNOTATION] === "attestation-manifest";
}

/**
 * Serialises an index deterministically (fixed key order, no whitespace), so re-pushing the same
 * entries gives the same digest.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serializeIndex } from "./manifest.ts";
 * const bytes = serializeIndex({ manifests: [], mediaType: "application/vnd.oci.image.index.v1+json", schemaVersion: 2 });
 * assert.equal(
 *   new TextDecoder().decode(bytes),
 *   '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}',
 * );
 * ```
 */
export function serializeIndex(index: Index): Uint8Array {
  const out: Record<string, unknown> = { schemaVersion: index.schemaVersion };
  if (index.mediaType) out.mediaType = index.mediaType;
  if (index.artifactType) out.artifactType = index.artifactType;
  out.manifests = index.manifests.map(orderDescriptor);
  if (index.subject) out.subject = orderDescriptor(index.subject);
  if (index.annotations && Object.keys(index.annotations).length > 0) {
    out.annotations = sortedObject(index.annotations);
  }
  return new TextEncoder().encode(JSON.stringify(out));
}

function orderDescriptor(d: Descriptor): Record<string, unknown> {
  const o: Record<string, unknown> = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.urls?.length) o.urls = d.urls;
  if (d.annotations && Object.keys(d.annotations).length > 0) {
    o.annotations = sortedObject(d.annotations);
  }
  if (d.artifactType) o.artifactType = d.artifactType;
  if (d.platform) {
    const p = d.platform;
    const po: Record<string, unknown> = { architecture: p.architecture, os: p.os };
    if (p["os.version"]) po["os.version"] = p["os.version"];
    if (p["os.features"]?.length) po["os.features"] = p["os.features"];
    if (p.variant) po.variant = p.variant;
    if (p.features?.length) po.features = p.features;
    o.platform = po;
  }
  return o;
}

function sortedObject(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0));
}
