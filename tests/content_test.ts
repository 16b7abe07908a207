import assert from "node:assert/strict";
import { digestingStream, readCapped, readVerified, verifyingStream } from "../lib/content.ts";
import { digestOf } from "../lib/digest.ts";
import { DigestMismatchError, SizeMismatchError } from "../lib/errors.ts";
import { ManifestFormatError, parseManifest, serializeIndex } from "../lib/manifest.ts";
import { parseChallenge } from "../lib/registry/auth.ts";

const bytes = new TextEncoder().encode("hello, registry");

function chunks(...parts: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({ pull: (c) => i < parts.length ? c.enqueue(parts[i++]) : c.close() });
}

Deno.test("verifyingStream() passes good bytes and fails on digest, short and long content", async () => {
  const ok = chunks(bytes.subarray(0, 5), bytes.subarray(5)).pipeThrough(
    verifyingStream({ digest: digestOf(bytes), size: bytes.length }),
  );
  assert.deepEqual(new Uint8Array(await new Response(ok).arrayBuffer()), bytes);
  const wrong = chunks(bytes).pipeThrough(
    verifyingStream({ digest: digestOf(new Uint8Array(1)), size: bytes.length }),
  );
  await assert.rejects(new Response(wrong).arrayBuffer(), DigestMismatchError);
  const short = chunks(bytes.subarray(1)).pipeThrough(
    verifyingStream({ digest: digestOf(bytes), size: bytes.length }),
  );
  await assert.rejects(new Response(short).arrayBuffer(), SizeMismatchError);
  // Too long: fails at the chunk that passes the size, before the stream ends.
  let pulled = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull: (c) => {
      pulled++;
      c.enqueue(new Uint8Array(10));
    },
  });
  await assert.rejects(
    new Response(endless.pipeThrough(verifyingStream({ digest: digestOf(bytes), size: 25 })))
      .arrayBuffer(),
    SizeMismatchError,
  );
  assert.ok(pulled < 10, `stopped early (${pulled} chunks)`);
});

Deno.test("digestingStream(), readCapped() and readVerified()", async () => {
  const t = digestingStream();
  await new Response(chunks(bytes).pipeThrough(t.stream)).arrayBuffer();
  assert.deepEqual(await t.result, { digest: digestOf(bytes), size: bytes.length });
  assert.equal((await readCapped(chunks(bytes), 100)).length, bytes.length);
  await assert.rejects(readCapped(chunks(bytes, bytes), bytes.length + 1), SizeMismatchError);
  const v = await readVerified(chunks(bytes), { cap: 100, expected: { digest: digestOf(bytes) } });
  assert.equal(v.digest, digestOf(bytes));
  await assert.rejects(
    readVerified(chunks(bytes), { cap: 100, expected: { digest: digestOf(bytes), size: 3 } }),
    SizeMismatchError,
  );
});

Deno.test("parseManifest() classifies by field, header or shape and rejects what is not a manifest", () => {
  const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
  const d = { mediaType: "x", digest: digestOf(bytes), size: 1 };
  assert.equal(parseManifest(enc({ schemaVersion: 2, manifests: [d] })).kind, "index");
  assert.equal(
    parseManifest(enc({ schemaVersion: 2, config: d, layers: [] })).mediaType,
    "application/vnd.oci.image.manifest.v1+json",
  );
  assert.equal(
    parseManifest(
      enc({ schemaVersion: 2, manifests: [] }),
      "application/vnd.docker.distribution.manifest.list.v2+json",
    ).mediaType,
    "application/vnd.docker.distribution.manifest.list.v2+json",
  );
  for (
    const bad of [
      new TextEncoder().encode("{"),
      enc([]),
      enc({ schemaVersion: 1, config: d, layers: [] }),
      enc({ schemaVersion: 2, config: { ...d, size: -1 }, layers: [] }),
    ]
  ) {
    assert.throws(() => parseManifest(bad), ManifestFormatError);
  }
});

Deno.test("serializeIndex() is deterministic whatever the key order of its input", () => {
  const a = serializeIndex({
    schemaVersion: 2,
    mediaType: "m",
    manifests: [{
      size: 1,
      digest: "sha256:0",
      mediaType: "t",
      platform: { os: "linux", architecture: "arm", variant: "v7" },
    }],
    annotations: { b: "2", a: "1" },
  });
  const b = serializeIndex({
    annotations: { a: "1", b: "2" },
    manifests: [{
      mediaType: "t",
      platform: { variant: "v7", architecture: "arm", os: "linux" },
      digest: "sha256:0",
      size: 1,
    }],
    mediaType: "m",
    schemaVersion: 2,
  });
  assert.deepEqual(a, b);
});

Deno.test("parseChallenge() keeps quoted commas and space-separated scopes", () => {
  const c = parseChallenge(
    'Bearer realm="https://a/token",service="reg",scope="repository:a:pull,push repository:b:pull",error="insufficient_scope"',
  );
  assert.equal(c?.scheme, "bearer");
  assert.equal(c?.params.scope, "repository:a:pull,push repository:b:pull");
  assert.equal(c?.params.error, "insufficient_scope");
  assert.equal(parseChallenge('Basic realm="x"')?.scheme, "basic");
  assert.equal(parseChallenge(null), undefined);
});
