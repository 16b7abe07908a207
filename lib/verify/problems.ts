/**
 * What `verify` finds wrong, as data: a severity, a kind code a program can switch on, the subject
 * (the entry's digest, or a platform) and a one-line message. Messages may quote registry content;
 * renderers escape them (`printable()`), the data keeps them as sent.
 *
 * @module
 */

/** `error` makes a reference fail verification; `warning` does not. */
export type VerifySeverity = "error" | "warning";

/**
 * Kind codes of {@link VerifyProblem}:
 *
 * - `manifest-missing`, `manifest-digest-mismatch`, `manifest-size-mismatch`,
 *   `manifest-media-type-mismatch`, `manifest-invalid`: a manifest named by an index (or the
 *   reference itself) is absent from the repository, does not hash to its digest, has another size
 *   or media type than its descriptor says, or is not a manifest;
 * - `blob-missing`, `blob-digest-mismatch`, `blob-size-mismatch`, `config-invalid`: a config or
 *   layer is absent, is not what its descriptor says, or (a config) is not JSON;
 * - `platform-mismatch`: an index entry's platform disagrees with its image's config;
 * - `platform-duplicate`: two image entries of one index share a platform;
 * - `platform-unknown`: an os/architecture/variant Go does not know;
 * - `platform-missing`: an image entry of an index has no platform (an error in a Docker list,
 *   where it is required; a warning in an OCI index);
 * - `platform-not-found`: a platform asked for with `platforms` has no entry;
 * - `attestation-subject-missing`: an attestation manifest names an image that is not in its index;
 * - `attestation-platform`: an attestation manifest's platform is not `unknown/unknown`;
 * - `media-type-mix` (warning): a Docker list naming OCI manifests, or an OCI index naming Docker
 *   ones; `docker-layer-in-oci` (warning): Docker layer media types in an OCI manifest or index;
 *   `docker-list-annotations` (warning): annotations on a Docker list, whose schema has none;
 * - `referrer-subject-mismatch`: a referrer listed for a digest names another digest (or none) as
 *   its `subject`;
 * - `nesting-too-deep`: indexes nested deeper than verify follows: what is below was not checked,
 *   so the reference is not proved whole;
 * - `referrers-too-many`: a manifest lists more referrers than verify checks (`MAX_REFERRERS`).
 */
export type VerifyProblemKind =
  | "manifest-missing"
  | "manifest-digest-mismatch"
  | "manifest-size-mismatch"
  | "manifest-media-type-mismatch"
  | "manifest-invalid"
  | "blob-missing"
  | "blob-digest-mismatch"
  | "blob-size-mismatch"
  | "config-invalid"
  | "platform-mismatch"
  | "platform-duplicate"
  | "platform-unknown"
  | "platform-missing"
  | "platform-not-found"
  | "attestation-subject-missing"
  | "attestation-platform"
  | "media-type-mix"
  | "docker-layer-in-oci"
  | "docker-list-annotations"
  | "referrer-subject-mismatch"
  | "nesting-too-deep"
  | "referrers-too-many";

/** One thing wrong with a published reference. */
export interface VerifyProblem {
  /** Whether it fails the reference. */
  severity: VerifySeverity;
  /** What kind of problem. */
  kind: VerifyProblemKind;
  /** What it is about: an entry's digest, or a platform (`linux/arm/v7`). */
  subject: string;
  /** What is wrong, one line, e.g. `index says linux/arm64, config says linux/amd64`. */
  message: string;
  /** The digest of the manifest or blob concerned, when there is one. */
  digest?: string;
  /** The platform concerned (`os/arch[/variant][:os.version]`), when there is one. */
  platform?: string;
}

/**
 * Builds a problem; the subject is the digest when given, else the platform.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { problem } from "./problems.ts";
 * const p = problem("error", "manifest-missing", "not in the repository", { digest: "sha256:aa" });
 * assert.equal(p.subject, "sha256:aa");
 * ```
 */
export function problem(
  severity: VerifySeverity,
  kind: VerifyProblemKind,
  message: string,
  about: { digest?: string; platform?: string; subject?: string },
): VerifyProblem {
  const p: VerifyProblem = {
    severity,
    kind,
    subject: about.subject ?? about.digest ?? about.platform ?? "",
    message,
  };
  if (about.digest) p.digest = about.digest;
  if (about.platform) p.platform = about.platform;
  return p;
}
