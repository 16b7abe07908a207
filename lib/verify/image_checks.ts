/**
 * Checks of one image against what names it: the platform its index entry claims against the one
 * its config declares, and the layer media types of an image in the OCI family. Pure functions.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import type { ImageConfig, ImageManifest } from "../manifest.ts";
import { OCI_INDEX, OCI_MANIFEST } from "../media_types.ts";
import {
  formatPlatform,
  normalizePlatform,
  type Platform,
  platformMatches,
  validatePlatform,
} from "../platform.ts";
import { problem, type VerifyProblem } from "./problems.ts";

/**
 * Compares an index entry's platform with its image's config: os and architecture must be the
 * same (after the usual aliases), a variant the config names must be the entry's (`arm` ≡
 * `arm/v7`, `arm64` ≡ `arm64/v8`; a config without a variant is fine, as buildx writes them), and
 * an `os.version` both name must be the same. Returns the problems, none when they agree.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { entryPlatformProblems } from "./image_checks.ts";
 * const arm64 = { os: "linux", architecture: "arm64", variant: "v8" };
 * assert.equal(entryPlatformProblems("sha256:aa", arm64, { os: "linux", architecture: "arm64" }).length, 0);
 * const p = entryPlatformProblems("sha256:aa", arm64, { os: "linux", architecture: "amd64" });
 * assert.equal(p[0].kind, "platform-mismatch");
 * ```
 */
export function entryPlatformProblems(
  digest: string,
  entry: Platform,
  config: ImageConfig,
): VerifyProblem[] {
  const said = formatPlatform(entry, { osVersion: true });
  if (typeof config.os !== "string" || typeof config.architecture !== "string") {
    return [problem("error", "platform-mismatch", `index says ${said}, config names no platform`, {
      digest,
      platform: said,
    })];
  }
  const have: Platform = { os: config.os, architecture: config.architecture };
  if (typeof config.variant === "string" && config.variant) have.variant = config.variant;
  if (typeof config["os.version"] === "string" && config["os.version"]) {
    have["os.version"] = config["os.version"];
  }
  const e = normalizePlatform(entry);
  const c = normalizePlatform(have);
  const agree = e.os === c.os && e.architecture === c.architecture &&
    (!c.variant || platformMatches({ ...c, "os.version": undefined }, e)) &&
    (!e["os.version"] || !c["os.version"] || e["os.version"] === c["os.version"]);
  if (agree) return [];
  return [problem(
    "error",
    "platform-mismatch",
    `index says ${said}, config says ${formatPlatform(have, { osVersion: true })}`,
    { digest, platform: said },
  )];
}

/**
 * The platform a single image's config declares must be one Go knows (there is no index entry to
 * compare it with).
 */
export function configPlatformProblems(digest: string, config: ImageConfig): VerifyProblem[] {
  if (typeof config.os !== "string" || typeof config.architecture !== "string") return [];
  const p: Platform = { os: config.os, architecture: config.architecture };
  if (typeof config.variant === "string" && config.variant) p.variant = config.variant;
  try {
    validatePlatform(p);
    return [];
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return [problem("error", "platform-unknown", `config: ${e.message}`, {
      digest,
      platform: formatPlatform(p),
    })];
  }
}

/**
 * A warning for Docker layer media types in an OCI manifest (`mediaType` is the manifest's, as
 * parsed), or in any image of an OCI index: OCI-only clients may refuse them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { layerMediaTypeProblems } from "./image_checks.ts";
 * const manifest = {
 *   schemaVersion: 2,
 *   mediaType: "application/vnd.oci.image.manifest.v1+json",
 *   config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: "sha256:cc", size: 2 },
 *   layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", digest: "sha256:ll", size: 3 }],
 * };
 * assert.equal(layerMediaTypeProblems("sha256:aa", manifest.mediaType, manifest, undefined)[0].kind, "docker-layer-in-oci");
 * ```
 */
export function layerMediaTypeProblems(
  digest: string,
  mediaType: string,
  manifest: ImageManifest,
  parentMediaType: string | undefined,
): VerifyProblem[] {
  const oci = mediaType === OCI_MANIFEST || parentMediaType === OCI_INDEX;
  if (!oci) return [];
  const docker = manifest.layers.filter((l) => l.mediaType.startsWith("application/vnd.docker."));
  if (docker.length === 0) return [];
  return [problem(
    "warning",
    "docker-layer-in-oci",
    `${docker.length} layer(s) of Docker media type ${docker[0].mediaType} in an ${
      mediaType === OCI_MANIFEST ? "OCI manifest" : "image of an OCI index"
    }`,
    { digest },
  )];
}
