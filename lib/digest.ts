/**
 * Digests as the OCI image spec defines them (`descriptor.md#digests`): `algorithm:encoded`,
 * checked against the grammar and then against the rules of the two registered algorithms
 * registries use (sha256, sha512: lowercase hex of a fixed length), and computed over exact bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { digestOf, isDigest, parseDigest } from "./digest.ts";
 * const d = digestOf(new TextEncoder().encode("hello"));
 * assert(isDigest(d) && parseDigest(d).algorithm === "sha256");
 * ```
 *
 * @module
 */

import { createSha2, toHex } from "./_sha2.ts";
import { UnverifiableDigestError, UsageError } from "./errors.ts";

/** Digest algorithms this tool verifies and computes. */
export type Algorithm = "sha256" | "sha512";

/**
 * Length of the hex encoding per algorithm (image-spec "Registered algorithms").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DIGEST_HEX_LENGTH } from "./digest.ts";
 * assert(DIGEST_HEX_LENGTH.sha256 === 64 && DIGEST_HEX_LENGTH.sha512 === 128);
 * ```
 */
export const DIGEST_HEX_LENGTH: Readonly<Record<Algorithm, number>> = Object.freeze({
  sha256: 64,
  sha512: 128,
});

/** A digest split into its parts. */
export interface ParsedDigest {
  /** The algorithm. */
  algorithm: Algorithm;
  /** Lowercase hex of the hash. */
  hex: string;
}

// image-spec descriptor.md: algorithm ::= algorithm-component (algorithm-separator
// algorithm-component)*, algorithm-component ::= [a-z0-9]+, algorithm-separator ::= [+._-];
// encoded ::= [a-zA-Z0-9=_-]+.
const ALGORITHM = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*$/;
const ENCODED = /^[a-zA-Z0-9=_-]+$/;
const LOWER_HEX = /^[0-9a-f]+$/;

/**
 * Parses and validates a digest. Throws a {@link UsageError} `Invalid digest "<digest>": <rule>`
 * when the `:` is missing, the algorithm breaks the grammar or is not sha256 or sha512, or the
 * encoded part is not lowercase hex of the algorithm's length.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDigest } from "./digest.ts";
 * const d = parseDigest("sha256:" + "a".repeat(64));
 * assert(d.algorithm === "sha256" && d.hex === "a".repeat(64));
 * ```
 */
export function parseDigest(digest: string): ParsedDigest {
  const i = digest.indexOf(":");
  if (i < 0) throw invalid(digest, 'expected "algorithm:hex"');
  const algorithm = digest.slice(0, i);
  const encoded = digest.slice(i + 1);
  if (!algorithm) throw invalid(digest, 'missing algorithm before ":"');
  if (!ALGORITHM.test(algorithm)) {
    throw invalid(digest, `algorithm "${algorithm}" must match [a-z0-9]+([+._-][a-z0-9]+)*`);
  }
  if (algorithm !== "sha256" && algorithm !== "sha512") {
    throw invalid(digest, `unsupported algorithm "${algorithm}": expected sha256 or sha512`);
  }
  if (!encoded) throw invalid(digest, 'missing hex after ":"');
  if (!ENCODED.test(encoded)) throw invalid(digest, "encoded part must match [a-zA-Z0-9=_-]+");
  const want = DIGEST_HEX_LENGTH[algorithm];
  if (encoded.length !== want) {
    throw invalid(digest, `${algorithm} needs ${want} hex characters, got ${encoded.length}`);
  }
  if (!LOWER_HEX.test(encoded)) throw invalid(digest, "encoded part must be lowercase hex");
  return { algorithm, hex: encoded };
}

/**
 * The algorithm of a digest that content is to be checked against, which came from a registry (or
 * was checked as the user's before): {@link UnverifiableDigestError}, not a usage error, when it
 * is not one this tool can verify. `what` names the content.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnverifiableDigestError } from "./errors.ts";
 * import { checkableAlgorithm } from "./digest.ts";
 * assert.equal(checkableAlgorithm("sha512:" + "0".repeat(128), "x"), "sha512");
 * assert.throws(() => checkableAlgorithm("md5:" + "0".repeat(32), "x"), UnverifiableDigestError);
 * ```
 */
export function checkableAlgorithm(digest: string, what: string): Algorithm {
  try {
    return parseDigest(digest).algorithm;
  } catch (e) {
    const reason = (e as Error).message.replace(/^Invalid digest "[^"]*": /, "");
    throw new UnverifiableDigestError(digest, what, reason, { cause: e });
  }
}

function invalid(digest: string, reason: string): UsageError {
  return new UsageError(`Invalid digest "${digest}": ${reason}`);
}

/**
 * True when `s` is a valid digest by the rules of {@link parseDigest}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isDigest } from "./digest.ts";
 * assert(isDigest("sha512:" + "0".repeat(128)));
 * assert(!isDigest("latest"));
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
 * The digest of `bytes`, `algorithm:hex` (sha256 unless told). Synchronous and computed in plain
 * TypeScript: meant for documents held in memory (capped at a few MiB); stream blobs through
 * `content.ts`, which uses `node:crypto`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { digestOf } from "./digest.ts";
 * assert(digestOf(new Uint8Array()) ===
 *   "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
 * assert(digestOf(new Uint8Array(), "sha512").startsWith("sha512:cf83e1357eefb8bd"));
 * ```
 */
export function digestOf(bytes: Uint8Array, algorithm: Algorithm = "sha256"): string {
  const hash = createSha2(algorithm);
  hash.update(bytes);
  return `${algorithm}:${toHex(hash.digest())}`;
}
