/**
 * Hash-as-you-go content streams. Every byte fetched from or sent to a registry passes through a
 * hasher (node:crypto incremental SHA-256/SHA-512, ~1 GB/s; Web Crypto cannot hash incrementally)
 * and a byte counter, and is checked against its descriptor: the size as soon as it is exceeded,
 * the digest at the end. Nothing here buffers a whole blob; only {@link readCapped} collects bytes,
 * and it refuses more than its cap.
 *
 * @module
 */

import { createSha2, toHex } from "./_sha2.ts";
import { DigestMismatchError, SizeMismatchError, TimeoutError, TooLargeError } from "./errors.ts";
import { type Algorithm, checkableAlgorithm } from "./digest.ts";
import { Alarm } from "./_timer.ts";

/** Caps on what is read into memory (bytes), after oras-go. */
export const LIMITS: {
  readonly manifest: number;
  readonly errorBody: number;
  readonly token: number;
  readonly config: number;
} = {
  manifest: 4 * 1024 * 1024,
  errorBody: 8 * 1024,
  token: 128 * 1024,
  config: 4 * 1024 * 1024,
};

/** What a verified stream must match. */
export interface Expected {
  /** The digest the bytes must hash to. */
  digest: string;
  /** The exact size, when known. */
  size?: number;
  /** Names the content in error messages, e.g. a URL. */
  what?: string;
}

/** The part of a `node:crypto` Hash a {@link Digester} uses. */
type Hash = { update(chunk: Uint8Array): unknown; digest(encoding: "hex"): string };

// node:crypto costs tens of milliseconds at start-up under Deno: it is imported when the first
// stream is hashed, not when this module loads. Until then a Digester hashes in plain TypeScript.
let nativeHash: ((algorithm: Algorithm) => Hash) | undefined;

/**
 * Loads `node:crypto` so that every {@link Digester} created afterwards hashes natively (about 10×
 * faster than the plain TypeScript fallback). The streams of this module call it themselves.
 *
 * @example
 * ```ts
 * import { loadNativeHashing } from "./content.ts";
 * await loadNativeHashing();
 * ```
 */
export async function loadNativeHashing(): Promise<void> {
  if (!nativeHash) {
    const { createHash } = await import("node:crypto");
    nativeHash = (algorithm) => createHash(algorithm);
  }
}

function fallbackHash(algorithm: Algorithm): Hash {
  const h = createSha2(algorithm);
  return {
    update: (chunk) => h.update(chunk),
    digest: () => toHex(h.digest()),
  };
}

const WEB_CRYPTO_NAMES: Record<Algorithm, string> = { sha256: "SHA-256", sha512: "SHA-512" };

/**
 * The digest (`algorithm:hex`) of bytes held whole: by `node:crypto` once it is loaded, else by
 * Web Crypto's one-shot digest, which is native too and loads nothing (a document read before any
 * blob is streamed, as in `inspect`, costs neither `node:crypto` nor a hash in plain TypeScript).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { digestBytes } from "./content.ts";
 * assert.equal(
 *   await digestBytes(new TextEncoder().encode("a")),
 *   "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
 * );
 * ```
 */
export async function digestBytes(
  bytes: Uint8Array,
  algorithm: Algorithm = "sha256",
): Promise<string> {
  if (nativeHash) {
    const h = nativeHash(algorithm);
    h.update(bytes);
    return `${algorithm}:${h.digest("hex")}`;
  }
  const hash = await crypto.subtle.digest(WEB_CRYPTO_NAMES[algorithm], bytes as BufferSource);
  return `${algorithm}:${toHex(new Uint8Array(hash))}`;
}

/**
 * A running digest: feed chunks, read the digest at the end. Native (`node:crypto`) once
 * {@link loadNativeHashing} has run, plain TypeScript before; {@link Digester.create} does both.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Digester } from "./content.ts";
 * const d = new Digester();
 * d.update(new TextEncoder().encode("a"));
 * assert.equal(d.size, 1);
 * assert.equal(
 *   d.digest(),
 *   "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
 * );
 * ```
 */
export class Digester {
  /** The algorithm in use. */
  readonly algorithm: Algorithm;
  #hash: Hash;
  #size = 0;
  /** Starts a digest with `algorithm` (sha256 by default). */
  constructor(algorithm: Algorithm = "sha256") {
    this.algorithm = algorithm;
    this.#hash = nativeHash ? nativeHash(algorithm) : fallbackHash(algorithm);
  }
  /** A native Digester: loads `node:crypto` first. */
  static async create(algorithm: Algorithm = "sha256"): Promise<Digester> {
    await loadNativeHashing();
    return new Digester(algorithm);
  }
  /** Adds a chunk. */
  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.#size += chunk.byteLength;
  }
  /** Bytes seen so far. */
  get size(): number {
    return this.#size;
  }
  /** The digest (`algorithm:hex`); ends the hash. */
  digest(): string {
    return `${this.algorithm}:${this.#hash.digest("hex")}`;
  }
}

/**
 * A pass-through stream that hashes and counts every chunk and errors the stream with
 * {@link SizeMismatchError} as soon as more than `expected.size` bytes pass, or at the end when
 * fewer did, and with {@link DigestMismatchError} at the end when the digest differs. The consumer
 * therefore never sees a clean end of stream for bad content.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { verifyingStream } from "./content.ts";
 * const digest = "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb";
 * const ok = new Blob(["a"]).stream().pipeThrough(verifyingStream({ digest, size: 1 }));
 * assert.equal(await new Response(ok).text(), "a");
 * const bad = new Blob(["b"]).stream().pipeThrough(verifyingStream({ digest, size: 1 }));
 * await assert.rejects(new Response(bad).text(), { name: "DigestMismatchError" });
 * ```
 */
export function verifyingStream(expected: Expected): TransformStream<Uint8Array, Uint8Array> {
  const algorithm = checkableAlgorithm(expected.digest, expected.what ?? "content");
  let d: Digester | undefined;
  const what = expected.what ?? "content";
  const run: VerifiedRun = { digest: expected.digest, verified: false };
  // Set while every chunk so far came, in order, from one upstream verifier of the same digest.
  let upstream: VerifiedRun | undefined;
  let size = 0;
  return new TransformStream({
    // No chunk is transformed before start() settles.
    async start() {
      await loadNativeHashing();
    },
    transform(chunk, controller) {
      const tag = VERIFIED.get(chunk);
      // Only a verifier still streaming can be upstream of this one: a finished one's tags are
      // those of a chunk object used again elsewhere, and this stream hashes that itself.
      if (
        size === 0 && tag?.offset === 0 && tag.run.digest === expected.digest && !tag.run.verified
      ) upstream = tag.run;
      if (upstream && !(tag?.run === upstream && tag.offset === size)) {
        throw new Error(`${what}: the verified stream it was read from was interleaved`);
      }
      if (!upstream) (d ??= new Digester(algorithm)).update(chunk);
      size += chunk.byteLength;
      if (expected.size !== undefined && size > expected.size) {
        throw new SizeMismatchError(expected.size, size, what);
      }
      VERIFIED.set(chunk, { run, offset: size - chunk.byteLength });
      controller.enqueue(chunk);
    },
    flush() {
      if (expected.size !== undefined && size !== expected.size) {
        throw new SizeMismatchError(expected.size, size, what);
      }
      if (upstream) {
        // The same bytes, hashed once upstream: its verdict stands (it errors before it ends).
        if (!upstream.verified || upstream.size !== size) {
          throw new Error(`${what}: the verified stream it was read from did not end cleanly`);
        }
      } else {
        const actual = (d ?? new Digester(algorithm)).digest();
        if (actual !== expected.digest) {
          throw new DigestMismatchError(expected.digest, actual, what);
        }
      }
      run.size = size;
      run.verified = true;
    },
  });
}

/** One {@link verifyingStream}: what it checks, and whether (and at which size) it verified. */
interface VerifiedRun {
  readonly digest: string;
  verified: boolean;
  size?: number;
}

/**
 * The chunks that passed a {@link verifyingStream}, with the run and the offset they passed at: a
 * verifying stream downstream of it for the same digest (a download piped into an upload) that
 * receives exactly those chunks, in order, takes the upstream verdict instead of hashing the same
 * bytes again. Weak: a chunk leaves the map when it is collected.
 */
const VERIFIED = new WeakMap<Uint8Array, { run: VerifiedRun; offset: number }>();

/**
 * A pass-through stream that computes the digest and size of what passes; read them from
 * `result` once the stream has ended. `result` rejects when the stream is cancelled or its source
 * fails, so a caller awaiting it is never left waiting for an end that will not come.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { digestingStream } from "./content.ts";
 * const t = digestingStream();
 * await new Response(new Blob(["a"]).stream().pipeThrough(t.stream)).arrayBuffer();
 * const { digest, size } = await t.result;
 * assert(size === 1 && digest.startsWith("sha256:ca97"));
 * ```
 */
export function digestingStream(
  algorithm: Algorithm = "sha256",
): {
  stream: TransformStream<Uint8Array, Uint8Array>;
  result: Promise<{ digest: string; size: number }>;
} {
  let d: Digester;
  const { promise: result, resolve, reject } = Promise.withResolvers<
    { digest: string; size: number }
  >();
  // A rejection nobody awaits (the pipe failed first) must not crash the process.
  result.catch(() => {});
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    async start() {
      d = await Digester.create(algorithm);
    },
    transform(chunk, controller) {
      d.update(chunk);
      controller.enqueue(chunk);
    },
    flush() {
      resolve({ digest: d.digest(), size: d.size });
    },
    // Called when the reader cancels or the writer aborts (the source failed).
    cancel(reason) {
      reject(reason ?? new Error("Stream cancelled before its end"));
    },
  });
  return { stream, result };
}

/**
 * Reads a stream into memory, refusing more than `cap` bytes (the stream is cancelled and a
 * {@link TooLargeError} thrown as soon as the cap is passed). With `deadlineMs`, the whole
 * document must arrive within that time, else the stream is cancelled and a
 * {@link TimeoutError} thrown: a server trickling a document cannot hold a run for ever.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readCapped } from "./content.ts";
 * assert.equal((await readCapped(new Blob(["hello"]).stream(), 10)).length, 5);
 * await assert.rejects(readCapped(new Blob(["hello"]).stream(), 4), { name: "TooLargeError" });
 * ```
 */
export async function readCapped(
  stream: ReadableStream<Uint8Array> | null,
  cap: number,
  what = "content",
  options: { deadlineMs?: number } = {},
): Promise<Uint8Array> {
  if (!stream) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  const ms = options.deadlineMs;
  let alarm: Alarm | undefined;
  const late = ms === undefined ? undefined : new Promise<never>((_, reject) => {
    alarm = new Alarm(() => {
      const err = new TimeoutError(`${what}: not read whole within ${ms} ms (see --timeout)`, {
        timeoutMs: ms,
      });
      reader.cancel(err).catch(() => {});
      reject(err);
    });
    alarm.arm(ms);
  });
  late?.catch(() => {});
  try {
    while (true) {
      const { done, value } = late
        ? await Promise.race([reader.read(), late])
        : await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > cap) {
        await reader.cancel().catch(() => {});
        throw new TooLargeError(cap, total, what);
      }
      chunks.push(value);
    }
  } finally {
    alarm?.disarm();
    reader.releaseLock();
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

/**
 * Reads a stream into memory (capped) and verifies it against `expected`, or, when no digest is
 * expected, computes it. Used for manifests and configs, the only documents held whole. Content
 * whose expected size is over `cap` is refused before a byte is read; `deadlineMs` bounds the
 * read as in {@link readCapped}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readVerified } from "./content.ts";
 * const { bytes, digest } = await readVerified(new Blob(["a"]).stream(), { cap: 10 });
 * assert(bytes.length === 1 && digest.startsWith("sha256:"));
 * ```
 */
export async function readVerified(
  stream: ReadableStream<Uint8Array> | null,
  options: { cap: number; expected?: Expected; what?: string; deadlineMs?: number },
): Promise<{ bytes: Uint8Array; digest: string }> {
  const what = options.expected?.what ?? options.what ?? "content";
  const size = options.expected?.size;
  let algorithm: Algorithm = "sha256";
  try {
    if (options.expected) algorithm = checkableAlgorithm(options.expected.digest, what);
    if (size !== undefined && size > options.cap) {
      // Said before reading: reading up to the cap would report a short read of valid content.
      throw new TooLargeError(options.cap, size, what);
    }
  } catch (e) {
    await stream?.cancel().catch(() => {});
    throw e;
  }
  // Past the expected size the content is wrong already: stop reading there (a mismatch, not the
  // cap: the size expected is within the cap).
  const bytes = await readCapped(stream, size ?? options.cap, what, {
    deadlineMs: options.deadlineMs,
  }).catch((e) => {
    if (size !== undefined && e instanceof TooLargeError) {
      throw new SizeMismatchError(size, e.actual, what, { cause: e });
    }
    throw e;
  });
  const digest = await digestBytes(bytes, algorithm);
  if (options.expected) {
    if (options.expected.size !== undefined && bytes.byteLength !== options.expected.size) {
      throw new SizeMismatchError(options.expected.size, bytes.byteLength, what);
    }
    if (digest !== options.expected.digest) {
      throw new DigestMismatchError(options.expected.digest, digest, what);
    }
  }
  return { bytes, digest };
}
