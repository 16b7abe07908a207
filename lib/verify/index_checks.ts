/**
 * Checks of an index document alone, before any child is fetched: media types of the entries
 * against the index's own, annotations on a Docker list, the platforms of the entries (known to
 * Go, not repeated, present where required) and the buildx attestation manifests (each names an
 * image of the index and has the platform `unknown/unknown`). Pure functions of the document.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import {
  type Descriptor,
  type Index,
  isAttestation,
  REFERENCE_DIGEST_ANNOTATION,
} from "../manifest.ts";
import {
  DOCKER_LIST,
  DOCKER_MANIFEST,
  isIndexMediaType,
  OCI_INDEX,
  OCI_MANIFEST,
} from "../media_types.ts";
import {
  formatPlatform,
  isAttestationPlatform,
  platformKey,
  validatePlatform,
} from "../platform.ts";
import { problem, type VerifyProblem } from "./problems.ts";

/**
 * Every problem the index document itself shows: {@link mediaTypeProblems},
 * {@link platformProblems} and {@link attestationProblems}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { indexProblems } from "./index_checks.ts";
 * const entry = (digest: string) => ({
 *   mediaType: "application/vnd.oci.image.manifest.v1+json",
 *   digest,
 *   size: 1,
 *   platform: { os: "linux", architecture: "amd64" },
 * });
 * const problems = indexProblems("sha256:ii", "application/vnd.oci.image.index.v1+json", {
 *   schemaVersion: 2,
 *   manifests: [entry("sha256:aa"), entry("sha256:bb")],
 * });
 * assert.deepEqual(problems.map((p) => p.kind), ["platform-duplicate"]);
 * ```
 */
export function indexProblems(digest: string, mediaType: string, index: Index): VerifyProblem[] {
  return [
    ...mediaTypeProblems(digest, mediaType, index),
    ...platformProblems(mediaType, index),
    ...attestationProblems(index),
  ];
}

/**
 * Warnings about media types: a Docker list naming OCI manifests or indexes, an OCI index naming
 * Docker ones (clients that read one family may refuse the other), and annotations on a Docker
 * list, whose schema has no such field (docker drops them).
 */
export function mediaTypeProblems(
  digest: string,
  mediaType: string,
  index: Index,
): VerifyProblem[] {
  const out: VerifyProblem[] = [];
  const docker = mediaType === DOCKER_LIST;
  const foreign = docker ? [OCI_MANIFEST, OCI_INDEX] : [DOCKER_MANIFEST, DOCKER_LIST];
  for (const d of index.manifests) {
    if (foreign.includes(d.mediaType)) {
      out.push(problem(
        "warning",
        "media-type-mix",
        `${
          docker ? "Docker manifest list" : "OCI index"
        } names an entry of media type ${d.mediaType}`,
        { digest: d.digest },
      ));
    }
    if (docker && d.annotations && Object.keys(d.annotations).length > 0) {
      out.push(problem(
        "warning",
        "docker-list-annotations",
        "entry of a Docker manifest list has annotations (the schema has none)",
        { digest: d.digest },
      ));
    }
  }
  if (docker && index.annotations && Object.keys(index.annotations).length > 0) {
    out.push(problem(
      "warning",
      "docker-list-annotations",
      "Docker manifest list has annotations (the schema has none)",
      { digest },
    ));
  }
  return out;
}

/** Image entries: not attestations, not nested indexes. */
function imageEntries(index: Index): Descriptor[] {
  return index.manifests.filter((d) => !isAttestation(d) && !isIndexMediaType(d.mediaType));
}

/**
 * Errors about the platforms of image entries: an os/architecture/variant Go does not know, two
 * entries for one platform (a client would pick either), and an entry without a platform (an
 * error in a Docker list, where `platform` is required; a warning in an OCI index, where it is
 * optional but no client can select the entry by platform).
 */
export function platformProblems(mediaType: string, index: Index): VerifyProblem[] {
  const out: VerifyProblem[] = [];
  const byKey = new Map<string, Descriptor>();
  for (const d of imageEntries(index)) {
    if (!d.platform) {
      const docker = mediaType === DOCKER_LIST;
      out.push(problem(
        docker ? "error" : "warning",
        "platform-missing",
        docker
          ? "entry of a Docker manifest list has no platform (required)"
          : "entry has no platform: no client can select it",
        { digest: d.digest },
      ));
      continue;
    }
    // buildx writes unknown/unknown for entries that are not images to run.
    if (isAttestationPlatform(d.platform)) continue;
    const text = formatPlatform(d.platform, { osVersion: true });
    try {
      validatePlatform(d.platform);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      out.push(problem("error", "platform-unknown", e.message, {
        subject: d.digest,
        digest: d.digest,
        platform: text,
      }));
    }
    const key = platformKey(d.platform);
    const first = byKey.get(key);
    if (!first) {
      byKey.set(key, d);
      continue;
    }
    out.push(problem(
      "error",
      "platform-duplicate",
      `entries ${first.digest} and ${d.digest} both claim this platform`,
      { subject: text, digest: d.digest, platform: text },
    ));
  }
  return out;
}

/**
 * Errors about buildx attestation manifests (`vnd.docker.reference.type: attestation-manifest`):
 * the image they name (`vnd.docker.reference.digest`) must be an entry of the same index, and
 * their platform must be `unknown/unknown` so that no client runs them.
 */
export function attestationProblems(index: Index): VerifyProblem[] {
  const out: VerifyProblem[] = [];
  const images = new Set(imageEntries(index).map((d) => d.digest));
  for (const d of index.manifests.filter(isAttestation)) {
    const attests = d.annotations?.[REFERENCE_DIGEST_ANNOTATION];
    if (!attests || !images.has(attests)) {
      out.push(problem(
        "error",
        "attestation-subject-missing",
        attests
          ? `attestation names image ${attests}, which is not in the index`
          : `attestation has no "${REFERENCE_DIGEST_ANNOTATION}" annotation`,
        { digest: d.digest },
      ));
    }
    if (!d.platform || !isAttestationPlatform(d.platform)) {
      out.push(problem(
        "error",
        "attestation-platform",
        `attestation has platform ${
          d.platform ? formatPlatform(d.platform, { osVersion: true }) : "none"
        }, expected unknown/unknown`,
        { digest: d.digest },
      ));
    }
  }
  return out;
}
