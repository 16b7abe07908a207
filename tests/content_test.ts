import assert from "node:assert/strict";
import {
  Digester,
  digestingStream,
  LIMITS,
  readCapped,
  readVerified,
  verifyingStream,
} from "../lib/content.ts";
import { digestOf } from "../lib/digest.ts";
import {
  DigestMismatchError,
  SizeMismatchError,
  TooLargeError,
  UnverifiableDigestError,
} from "../lib/errors.ts";

const bytes = new TextEncoder().encode("hello, registry");
const DIGEST = digestOf(bytes);

/** A stream of `parts`, one chunk per pull, that counts how many chunks were pulled. */
function chunks(...parts: Uint8Array[]): ReadableStream<Uint8Array> & { pulled: () => number } {
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull: (c) => i < parts.length ? c.enqueue(parts[i++]) : c.close(),
  });
  return Object.assign(stream, { pulled: () => i });
}

/** An endless stream of 10-byte chunks that records whether it was cancelled. */
function endless(): ReadableStream<Uint8Array> & {
  pulled: () => number;
  cancelled: () => boolean;
} {
  let pulled = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull: (c) => {
      pulled++;
      c.enqueue(new Uint8Array(10));
    },
    cancel: () => {
      cancelled = true;
    },
  });
  return Object.assign(stream, { pulled: () => pulled, cancelled: () => cancelled });
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("verifyingStream() passes good bytes through unchanged, whatever the chunking", async () => {
  const splits: Uint8Array[][] = [
    [bytes],
    [bytes.subarray(0, 5), bytes.subarray(5)],
    [...bytes].map((b) => new Uint8Array([b])),
    [new Uint8Array(0), bytes, new Uint8Array(0)],
  ];
  for (const parts of splits) {
    const out = chunks(...parts).pipeThrough(
      verifyingStream({ digest: DIGEST, size: bytes.length }),
    );
    assert.deepEqual(await drain(out), bytes, `${parts.length} chunks`);
  }
  const noSize = chunks(bytes).pipeThrough(verifyingStream({ digest: DIGEST }));
  assert.deepEqual(await drain(noSize), bytes, "size is optional");
  const sha512 = digestOf(bytes, "sha512");
  const out512 = chunks(bytes).pipeThrough(verifyingStream({ digest: sha512, size: bytes.length }));
  assert.deepEqual(await drain(out512), bytes, "sha512 digests are verified with sha512");
});

Deno.test("verifyingStream() fails with SizeMismatchError as soon as the size is exceeded", async () => {
  const source = endless();
  await assert.rejects(
    drain(source.pipeThrough(verifyingStream({ digest: DIGEST, size: 25, what: "blob b" }))),
    (e: unknown) => {
      assert.ok(e instanceof SizeMismatchError);
      assert.equal(e.expected, 25);
      assert.equal(e.actual, 30, "the third 10-byte chunk passes 25");
      assert.equal(e.message, "Size mismatch for blob b: more than 25 bytes");
      return true;
    },
  );
  assert.ok(source.pulled() < 10, `stopped early (${source.pulled()} chunks)`);
  assert.ok(source.cancelled(), "the source is cancelled");
});

Deno.test("verifyingStream() fails at the end when the content is short or the digest differs", async () => {
  const cases: [string, ReadableStream<Uint8Array>, (e: unknown) => boolean][] = [
    [
      "short",
      chunks(bytes.subarray(1)).pipeThrough(
        verifyingStream({ digest: DIGEST, size: bytes.length }),
      ),
      (e) =>
        e instanceof SizeMismatchError && e.expected === bytes.length &&
        e.actual === bytes.length - 1 &&
        e.message === `Size mismatch for content: expected 15 bytes, got 14`,
    ],
    [
      "empty",
      chunks().pipeThrough(verifyingStream({ digest: DIGEST, size: bytes.length })),
      (e) => e instanceof SizeMismatchError && e.actual === 0,
    ],
    [
      "wrong digest, right size",
      chunks(bytes).pipeThrough(
        verifyingStream({ digest: digestOf(new Uint8Array(1)), size: bytes.length, what: "m" }),
      ),
      (e) =>
        e instanceof DigestMismatchError && e.expected === digestOf(new Uint8Array(1)) &&
        e.actual === DIGEST && e.message.startsWith("Digest mismatch for m: expected sha256:"),
    ],
    [
      "wrong digest, no size",
      chunks(bytes.subarray(1)).pipeThrough(verifyingStream({ digest: DIGEST })),
      (e) => e instanceof DigestMismatchError && e.actual === digestOf(bytes.subarray(1)),
    ],
  ];
  for (const [why, stream, check] of cases) {
    await assert.rejects(drain(stream), (e: unknown) => {
      assert.ok(check(e), `${why}: ${e}`);
      return true;
    });
  }
});

Deno.test("verifyingStream() refuses an expected digest it cannot check up front (registry content: no usage error)", () => {
  for (const digest of ["sha256:abc", "md5:" + "a".repeat(32), ""]) {
    assert.throws(() => verifyingStream({ digest }), UnverifiableDigestError, digest);
  }
});

Deno.test("Digester and digestingStream() compute digest and size of what passes", async () => {
  const d = new Digester("sha512");
  d.update(bytes.subarray(0, 3));
  d.update(bytes.subarray(3));
  assert.equal(d.size, bytes.length);
  assert.equal(d.digest(), digestOf(bytes, "sha512"));

  const cases: [Uint8Array[], "sha256" | "sha512" | undefined][] = [
    [[bytes], undefined],
    [[bytes.subarray(0, 4), bytes.subarray(4)], "sha256"],
    [[], undefined],
    [[bytes], "sha512"],
  ];
  for (const [parts, algorithm] of cases) {
    const t = digestingStream(algorithm);
    const out = await drain(chunks(...parts).pipeThrough(t.stream));
    assert.deepEqual(await t.result, {
      digest: digestOf(out, algorithm ?? "sha256"),
      size: out.length,
    });
  }
});

Deno.test("digestingStream() rejects its result when the stream fails or is cancelled", async () => {
  const failing = new ReadableStream<Uint8Array>({
    start: (c) => c.error(new Error("connection reset")),
  });
  const t = digestingStream();
  await assert.rejects(drain(failing.pipeThrough(t.stream)), /connection reset/);
  await assert.rejects(t.result, /connection reset/);

  const c = digestingStream();
  const reader = endless().pipeThrough(c.stream).getReader();
  await reader.read();
  await reader.cancel(new Error("consumer gave up"));
  await assert.rejects(c.result, /consumer gave up/);
});

Deno.test("readCapped() returns the bytes up to the cap and fails past it, cancelling the source", async () => {
  assert.deepEqual(await readCapped(chunks(bytes), bytes.length), bytes, "exactly the cap");
  assert.deepEqual(
    await readCapped(chunks(bytes.subarray(0, 5), bytes.subarray(5)), 100),
    bytes,
    "chunks are joined",
  );
  assert.deepEqual(await readCapped(null, 10), new Uint8Array(0), "no body is empty");
  assert.deepEqual(await readCapped(chunks(), 0), new Uint8Array(0));

  await assert.rejects(readCapped(chunks(bytes), bytes.length - 1, "token response"), (e) => {
    assert.ok(e instanceof TooLargeError);
    assert.equal(
      e.message,
      `token response is larger than the ${bytes.length - 1}-byte cap`,
    );
    return true;
  });
  const source = endless();
  await assert.rejects(readCapped(source, 25), TooLargeError);
  assert.ok(source.pulled() <= 4, `stops at the chunk that passes the cap (${source.pulled()})`);
  assert.ok(source.cancelled(), "the source is cancelled");
  assert.ok(LIMITS.manifest === 4 * 1024 * 1024 && LIMITS.errorBody === 8 * 1024);
});

Deno.test("readVerified() verifies digest and size, or computes the digest when none is expected", async () => {
  const computed = await readVerified(chunks(bytes), { cap: 100 });
  assert.deepEqual(computed, { bytes, digest: DIGEST });

  const sha512 = digestOf(bytes, "sha512");
  const v = await readVerified(chunks(bytes), { cap: 100, expected: { digest: sha512 } });
  assert.equal(v.digest, sha512);

  const cases: [string, Promise<unknown>, (e: unknown) => boolean][] = [
    [
      "wrong digest",
      readVerified(chunks(bytes), { cap: 100, expected: { digest: digestOf(new Uint8Array()) } }),
      (e) => e instanceof DigestMismatchError && e.actual === DIGEST,
    ],
    [
      "longer than expected",
      readVerified(chunks(bytes), { cap: 100, expected: { digest: DIGEST, size: 3 } }),
      (e) => e instanceof SizeMismatchError && e.expected === 3 && e.actual > 3,
    ],
    [
      "shorter than expected",
      readVerified(chunks(bytes), { cap: 100, expected: { digest: DIGEST, size: 20, what: "c" } }),
      (e) =>
        e instanceof SizeMismatchError && e.expected === 20 && e.actual === bytes.length &&
        e.message === "Size mismatch for c: expected 20 bytes, got 15",
    ],
    [
      "over the cap without an expected size",
      readVerified(chunks(bytes), { cap: 4, what: "tag list" }),
      (e) =>
        e instanceof TooLargeError && e.cap === 4 &&
        e.message === "tag list is larger than the 4-byte cap",
    ],
  ];
  for (const [why, promise, check] of cases) {
    await assert.rejects(promise, (e: unknown) => {
      assert.ok(check(e), `${why}: ${e}`);
      return true;
    });
  }
});

Deno.test("readVerified() refuses content whose expected size is over the cap without reading it", async () => {
  // The descriptor says 15 bytes, the cap is 10: the error is the cap, not a short read of 11.
  const source = chunks(bytes);
  await assert.rejects(
    readVerified(source, { cap: 10, expected: { digest: DIGEST, size: bytes.length, what: "m" } }),
    (e: unknown) => {
      assert.ok(e instanceof TooLargeError);
      assert.equal(e.cap, 10);
      assert.equal(e.actual, bytes.length);
      assert.equal(e.message, "m is larger than the 10-byte cap");
      return true;
    },
  );
  assert.equal(source.pulled(), 0, "nothing was read");
  const bad = chunks(bytes);
  await assert.rejects(
    readVerified(bad, { cap: 100, expected: { digest: "sha256:abc" } }),
    UnverifiableDigestError,
    "an invalid expected digest is refused before reading",
  );
  assert.equal(bad.pulled(), 0);
});

/** Counts the chunks hashed by every Digester while `f` runs. */
async function countHashed(f: () => Promise<unknown>): Promise<number> {
  const original = Digester.prototype.update;
  let n = 0;
  Digester.prototype.update = function (this: Digester, chunk: Uint8Array) {
    n++;
    return original.call(this, chunk);
  };
  try {
    await f();
  } finally {
    Digester.prototype.update = original;
  }
  return n;
}

Deno.test("verifyingStream() after a verifying stream of the same digest (a download piped into an upload) hashes the bytes once", async () => {
  const parts = [bytes.subarray(0, 5), bytes.subarray(5)];
  const twice = () =>
    chunks(...parts)
      .pipeThrough(verifyingStream({ digest: DIGEST, size: bytes.length }))
      .pipeThrough(verifyingStream({ digest: DIGEST, size: bytes.length }));
  let out: Uint8Array = new Uint8Array();
  assert.equal(await countHashed(async () => out = await drain(twice())), parts.length);
  assert.deepEqual(out, bytes);
  // Another digest downstream: nothing to share, both hash (and the second one fails).
  const other = digestOf(new TextEncoder().encode("other"));
  const n = await countHashed(() =>
    assert.rejects(
      drain(
        chunks(...parts)
          .pipeThrough(verifyingStream({ digest: DIGEST }))
          .pipeThrough(verifyingStream({ digest: other })),
      ),
      DigestMismatchError,
    )
  );
  assert.equal(n, 2 * parts.length);
});

Deno.test("verifyingStream() after a verifying stream still fails on bad content, a short end and foreign chunks", async () => {
  const bad = new TextEncoder().encode("hello, registrx");
  // Bad bytes fail upstream: the downstream stream never ends cleanly.
  await assert.rejects(
    drain(
      chunks(bad)
        .pipeThrough(verifyingStream({ digest: DIGEST }))
        .pipeThrough(verifyingStream({ digest: DIGEST })),
    ),
    DigestMismatchError,
  );
  // The downstream size check is its own.
  await assert.rejects(
    drain(
      chunks(bytes)
        .pipeThrough(verifyingStream({ digest: DIGEST }))
        .pipeThrough(verifyingStream({ digest: DIGEST, size: bytes.length - 1 })),
    ),
    SizeMismatchError,
  );
  // A chunk that did not come from the upstream verifier cannot ride on its verdict.
  // (An upstream that never ends: it is still streaming when its chunk is taken elsewhere.)
  const verified = new ReadableStream<Uint8Array>({ pull: (c) => c.enqueue(bytes.slice(0, 5)) })
    .pipeThrough(verifyingStream({ digest: DIGEST }));
  const reader = verified.getReader();
  const first = (await reader.read()).value!;
  const mixed = chunks(first, bytes.subarray(5)).pipeThrough(verifyingStream({ digest: DIGEST }));
  await assert.rejects(drain(mixed), /interleaved/);
  await reader.cancel().catch(() => {});
});
