import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createSha2, toHex } from "../lib/_sha2.ts";
import { digestOf } from "../lib/digest.ts";

const enc = new TextEncoder();

function sha(algorithm: "sha256" | "sha512", data: Uint8Array): string {
  const h = createSha2(algorithm);
  h.update(data);
  return toHex(h.digest());
}

/** A deterministic pseudo-random byte source (xorshift32), so failures reproduce. */
function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

Deno.test("createSha2() gives the FIPS 180-4 example digests (NIST CSRC examples)", () => {
  const abc = "abc";
  const two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  const four =
    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
  const cases: ["sha256" | "sha512", string, string][] = [
    ["sha256", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["sha256", abc, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    ["sha256", two, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"],
    ["sha256", four, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"],
    [
      "sha512",
      "",
      "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
    ],
    [
      "sha512",
      abc,
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    ],
    [
      "sha512",
      four,
      "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909",
    ],
  ];
  for (const [algorithm, text, want] of cases) {
    assert.equal(sha(algorithm, enc.encode(text)), want, `${algorithm}("${text.slice(0, 8)}…")`);
  }
  const million = new Uint8Array(1_000_000).fill(0x61);
  assert.equal(
    sha("sha256", million),
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
  );
  assert.equal(
    sha("sha512", million),
    "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b",
  );
});

Deno.test("createSha2() agrees with node:crypto on every length 0..300 and on larger inputs", () => {
  const lengths = [...Array(301).keys(), 511, 512, 513, 1023, 1024, 4095, 65_537, 1_048_583];
  for (const algorithm of ["sha256", "sha512"] as const) {
    for (const length of lengths) {
      const data = bytes(length, length + 7);
      const want = createHash(algorithm).update(data).digest("hex");
      assert.equal(sha(algorithm, data), want, `${algorithm} of ${length} bytes`);
    }
  }
});

Deno.test("createSha2() gives the same digest however the input is split into updates", () => {
  const data = bytes(1000, 42);
  for (const algorithm of ["sha256", "sha512"] as const) {
    const want = createHash(algorithm).update(data).digest("hex");
    for (const step of [1, 3, 63, 64, 65, 127, 128, 129, 500]) {
      const h = createSha2(algorithm);
      for (let i = 0; i < data.length; i += step) h.update(data.subarray(i, i + step));
      h.update(new Uint8Array(0));
      assert.equal(toHex(h.digest()), want, `${algorithm} in steps of ${step}`);
    }
  }
});

Deno.test("createSha2() refuses to be read twice or updated after reading", () => {
  const h = createSha2("sha256");
  h.digest();
  assert.throws(() => h.digest(), /already been read/);
  assert.throws(() => h.update(new Uint8Array(1)), /already been read/);
});

Deno.test("digestOf() hashes in memory without node:crypto and matches it", () => {
  for (const length of [0, 1, 55, 56, 64, 4097]) {
    const data = bytes(length, 3);
    for (const algorithm of ["sha256", "sha512"] as const) {
      assert.equal(
        digestOf(data, algorithm),
        `${algorithm}:${createHash(algorithm).update(data).digest("hex")}`,
      );
    }
  }
});
