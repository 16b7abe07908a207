/**
 * The walk of a verification: from a fetched manifest down through nested indexes to every image,
 * its config and (with `blobs`) its layers. Every entry's manifest is fetched from the same
 * repository by digest (the client verifies the hash) and compared with its descriptor (size,
 * media type); siblings are checked concurrently, under the run's bound.
 *
 * @module
 */

import {
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
  type Index,
  isAttestation,
  REFERENCE_DIGEST_ANNOTATION,
} from "../manifest.ts";
import {
  DOCKER_CONFIG,
  isIndexMediaType,
  isManifestMediaType,
  isNonDistributable,
  OCI_CONFIG,
} from "../media_types.ts";
import { formatPlatform, type Platform, platformMatches } from "../platform.ts";
import type { FetchedManifest } from "../registry/client.ts";
import {
  configPlatformProblems,
  entryPlatformProblems,
  layerMediaTypeProblems,
} from "./image_checks.ts";
import { indexProblems } from "./index_checks.ts";
import { problem, type VerifyProblem } from "./problems.ts";
import { settleAll, type VerifyRun } from "./run.ts";
import { parseConfigObject } from "../image_config.ts";

/** Nested indexes deeper than this are not followed (a real index nests one level, if at all). */
export const MAX_DEPTH = 8;

/**
 * Verifies a fetched manifest and everything under it. `entry` is the descriptor that named it in
 * `parentMediaType` (an index), undefined for the reference itself.
 */
export async function verifyDocument(
  run: VerifyRun,
  m: FetchedManifest,
  entry: Descriptor | undefined,
  parentMediaType: string | undefined,
  depth: number,
): Promise<void> {
  const digest = m.descriptor.digest;
  run.manifests.add(digest);
  if (m.parsed.kind === "index") {
    await verifyIndex(run, digest, m.parsed.mediaType, m.parsed.index, depth);
  } else {
    await verifyImage(run, digest, m.parsed.mediaType, m.parsed.manifest, entry, parentMediaType);
  }
}

async function verifyIndex(
  run: VerifyRun,
  digest: string,
  mediaType: string,
  index: Index,
  depth: number,
): Promise<void> {
  run.report(...indexProblems(digest, mediaType, index));
  if (depth >= MAX_DEPTH) {
    if (index.manifests.length > 0) {
      run.report(problem(
        "error",
        "nesting-too-deep",
        `indexes nested more than ${MAX_DEPTH} deep: its ${index.manifests.length} entries were not checked`,
        { digest },
      ));
    }
    return;
  }
  const followed = selectEntries(index, run.options.platforms);
  await settleAll(followed.map((d) => verifyEntry(run, d, mediaType, depth + 1)));
}

/**
 * The entries to follow: all, or with `platforms` the image entries for one of them, their
 * attestations, and nested indexes (whose own entries are selected the same way).
 */
export function selectEntries(index: Index, platforms: Platform[] | undefined): Descriptor[] {
  if (!platforms?.length) return index.manifests;
  const images = new Set(
    index.manifests.filter((d) =>
      !isAttestation(d) && d.platform && platforms.some((p) => platformMatches(p, d.platform!))
    ).map((d) => d.digest),
  );
  return index.manifests.filter((d) =>
    isIndexMediaType(d.mediaType) || images.has(d.digest) ||
    (isAttestation(d) && images.has(d.annotations?.[REFERENCE_DIGEST_ANNOTATION] ?? ""))
  );
}

/** One entry of an index: present, the size and media type its descriptor says, then its content. */
async function verifyEntry(
  run: VerifyRun,
  d: Descriptor,
  parentMediaType: string,
  depth: number,
): Promise<void> {
  if (!isAttestation(d) && !isIndexMediaType(d.mediaType) && d.platform) {
    run.platforms.push(d.platform);
  }
  if (!isManifestMediaType(d.mediaType)) return await verifyOpaqueEntry(run, d);
  let m: FetchedManifest;
  try {
    m = await run.manifest(d.digest);
  } catch (e) {
    return run.failed(e, d.digest, "manifest", entryWhat(d), entryPlatform(d));
  }
  run.report(...descriptorProblems(d, m, entryWhat(d)));
  const key = `${d.digest} ${parentMediaType} ${d.platform ? JSON.stringify(d.platform) : ""}`;
  await run.document(key, () => verifyDocument(run, m, d, parentMediaType, depth));
}

/** An entry of a media type this tool does not parse (an artifact): present, with its size. */
async function verifyOpaqueEntry(run: VerifyRun, d: Descriptor): Promise<void> {
  let head: Descriptor | undefined;
  try {
    head = await run.headManifest(d.digest);
  } catch (e) {
    return run.failed(e, d.digest, "manifest", entryWhat(d));
  }
  run.manifests.add(d.digest);
  if (!head) {
    run.report(problem("error", "manifest-missing", `${entryWhat(d)} not in ${run.repo}`, {
      digest: d.digest,
    }));
  } else if (head.size >= 0 && head.size !== d.size) {
    run.report(sizeProblem("manifest-size-mismatch", d, head.size, entryWhat(d)));
  }
}

/**
 * How an entry is named in messages: `manifest (linux/arm64/v8)`, `attestation manifest`, `index`.
 */
export function entryWhat(d: Descriptor): string {
  if (isAttestation(d)) return "attestation manifest";
  const platform = entryPlatform(d);
  const noun = isIndexMediaType(d.mediaType) ? "index" : "manifest";
  return platform ? `${noun} (${platform})` : noun;
}

/** The platform of an entry as text, for messages and {@link VerifyProblem.platform}. */
function entryPlatform(d: Descriptor): string | undefined {
  return d.platform && !isAttestation(d)
    ? formatPlatform(d.platform, { osVersion: true })
    : undefined;
}

/** A manifest's bytes against the descriptor that names it (as `what`): size and media type. */
export function descriptorProblems(
  d: Descriptor,
  m: FetchedManifest,
  what: string,
): VerifyProblem[] {
  const out: VerifyProblem[] = [];
  if (m.bytes.byteLength !== d.size) {
    out.push(sizeProblem("manifest-size-mismatch", d, m.bytes.byteLength, what));
  }
  if (m.parsed.mediaType !== d.mediaType) {
    out.push(problem(
      "error",
      "manifest-media-type-mismatch",
      `${what}: descriptor says ${d.mediaType}, manifest is ${m.parsed.mediaType}`,
      { digest: d.digest, platform: entryPlatform(d) },
    ));
  }
  return out;
}

function sizeProblem(
  kind: "manifest-size-mismatch" | "blob-size-mismatch",
  d: Descriptor,
  actual: number,
  what?: string,
): VerifyProblem {
  const of = what ? `${what}: ` : "";
  return problem("error", kind, `${of}descriptor says ${d.size} bytes, registry has ${actual}`, {
    digest: d.digest,
    platform: kind === "manifest-size-mismatch" ? entryPlatform(d) : undefined,
  });
}

async function verifyImage(
  run: VerifyRun,
  digest: string,
  mediaType: string,
  manifest: ImageManifest,
  entry: Descriptor | undefined,
  parentMediaType: string | undefined,
): Promise<void> {
  run.report(...layerMediaTypeProblems(digest, mediaType, manifest, parentMediaType));
  const layers = run.options.blobs
    ? manifest.layers.filter((l) => !isNonDistributable(l.mediaType))
    : [];
  await settleAll([
    verifyConfig(run, digest, manifest.config, entry),
    ...layers.map((l) => verifyBlob(run, l, `layer of ${digest}`)),
  ]);
}

/**
 * An image's config: fetched and verified (digest, size), and its platform compared with the
 * entry's; a single image's platform must be one Go knows. Attestations and artifacts have configs
 * of other kinds: those are only checked like layers.
 */
async function verifyConfig(
  run: VerifyRun,
  digest: string,
  c: Descriptor,
  entry: Descriptor | undefined,
): Promise<void> {
  const imageConfig = c.mediaType === OCI_CONFIG || c.mediaType === DOCKER_CONFIG;
  if ((entry && isAttestation(entry)) || !imageConfig) {
    if (run.options.blobs) await verifyBlob(run, c, `config of ${digest}`);
    return;
  }
  let bytes: Uint8Array;
  try {
    bytes = await run.config(c);
  } catch (e) {
    return run.failed(e, c.digest, "config", `config of ${digest}`);
  }
  const config = parseConfig(bytes, c.digest);
  if (!config) {
    run.report(problem("error", "config-invalid", "config is not a JSON object", {
      digest: c.digest,
    }));
  } else if (entry?.platform) {
    run.report(...entryPlatformProblems(digest, entry.platform, config));
  } else if (!entry) {
    run.report(...configPlatformProblems(digest, config));
    if (typeof config.os === "string" && typeof config.architecture === "string") {
      const p: Platform = { os: config.os, architecture: config.architecture };
      if (typeof config.variant === "string" && config.variant) p.variant = config.variant;
      run.platforms.push(p);
    }
  }
}

/** The config as an object, its fields unchecked (the checks report them); undefined if none. */
function parseConfig(bytes: Uint8Array, digest: string): ImageConfig | undefined {
  try {
    return parseConfigObject(bytes, digest) as ImageConfig;
  } catch {
    return undefined;
  }
}

/** A layer (or a config not read): `HEAD` with its size, or with `full` downloaded and hashed. */
async function verifyBlob(run: VerifyRun, d: Descriptor, what: string): Promise<void> {
  if (run.options.blobs === "full") {
    try {
      await run.fullBlob(d);
    } catch (e) {
      run.failed(e, d.digest, "blob", what);
    }
    return;
  }
  let head: Descriptor | undefined;
  try {
    head = await run.headBlob(d.digest);
  } catch (e) {
    return run.failed(e, d.digest, "blob", what);
  }
  if (!head) {
    run.report(problem("error", "blob-missing", `${what} not in ${run.repo}`, {
      digest: d.digest,
    }));
  } else if (head.size >= 0 && head.size !== d.size) {
    run.report(sizeProblem("blob-size-mismatch", d, head.size, what));
  }
}
