/**
 * Digests (OCI image-spec `descriptor.md#digests`): `algorithm:encoded`, validated for the
 * algorithms registries use (sha256, sha512), and computed over exact bytes.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { UsageError } from "./errors.ts";

/** Supported digest algorithms. */
export type Algorithm = "sha256" | "sha512";

/** Length of the hex encoding per algorithm. */
export const DIGEST_HEX_LENGTH: Readonly<Record<Algorithm, number>> = { sha256: 64, sha512: 128 };

/** A digest split into its parts. */
export interface ParsedDigest {
  /** The algorithm. */
  algorithm: Algorithm;
  /** Lowercase hex of the hash. */
  hex: string;
}

/**
 * Parses and validates a digest; throws {@link UsageError} naming the digest and the rule.
 *
 * @example
 * ```ts
 * import { parseDigest } from "./digest.ts";
 * const d = parseDigest("sha256:" + "a".repeat(64));
 * console.assert(d.algorithm === "sha256");
 * ```
 */
export function parseDigest(digest: string): ParsedDigest {
  const i = digest.indexOf(":");
  if (i <= 0) throw new UsageError(`Invalid digest "${digest}": expected algorithm:hex`);
  const algorithm = digest.slice(0, i);
  const hex = digest.slice(i + 1);
  if (algorithm !== "sha256" && algorithm !== "sha512") {
    throw new UsageError(
      `Invalid digest "${digest}": unsupported algorithm "${algorithm}" (sha256 or sha512)`,
    );
  }
  const want = DIGEST_HEX_LENGTH[algorithm];
  if (hex.length !== want) {
    throw new UsageError(
      `Invalid digest "${digest}": ${algorithm} needs ${want} hex characters, got ${hex.length}`,
    );
  }
  if (!/^[0-9a-f]+$/.test(hex)) {
    throw new UsageError(`Invalid digest "${digest}": the encoded part must be lowercase hex`);
  }
  return { algorithm, hex };
}

/**
 * True when `s` is a valid digest.
 *
 * @example
 * ```ts
 * import { isDigest } from "./digest.ts";
 * console.assert(!isDigest("latest"));
 * ```
 */
export function isDigest(s: string): boolean {
  try {
    parseDigest(s);
    return true;
  } catch {
    return false;
  }
}

/**
 * The digest of `bytes`.
 *
 * @example
 * ```ts
 * import { digestOf } from "./digest.ts";
 * console.assert(digestOf(new Uint8Array()) ===
 *   "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
 * ```
 */
export function digestOf(bytes: Uint8Array, algorithm: Algorithm = "sha256"): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
}
