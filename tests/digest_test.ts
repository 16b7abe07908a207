import assert from "node:assert/strict";
import { DIGEST_HEX_LENGTH, digestOf, isDigest, parseDigest } from "../lib/digest.ts";
import { UsageError } from "../lib/errors.ts";

const SHA256 = "sha256:" + "0123456789abcdef".repeat(4);
const SHA512 = "sha512:" + "0123456789abcdef".repeat(8);

Deno.test("parseDigest() splits sha256 and sha512 digests into algorithm and hex", () => {
  const cases: [string, string, string][] = [
    [SHA256, "sha256", "0123456789abcdef".repeat(4)],
    [SHA512, "sha512", "0123456789abcdef".repeat(8)],
  ];
  for (const [input, algorithm, hex] of cases) {
    assert.deepEqual(parseDigest(input), { algorithm, hex }, input);
    assert.equal(hex.length, DIGEST_HEX_LENGTH[algorithm as "sha256" | "sha512"]);
  }
});

Deno.test("parseDigest() rejects digests that break the OCI grammar or the algorithm's rules", () => {
  const cases: [string, RegExp][] = [
    ["", /expected "algorithm:hex"/],
    ["latest", /expected "algorithm:hex"/],
    ["a".repeat(64), /expected "algorithm:hex"/],
    [":" + "a".repeat(64), /missing algorithm before ":"/],
    ["SHA256:" + "a".repeat(64), /algorithm "SHA256" must match/],
    ["sha256+:" + "a".repeat(64), /algorithm "sha256\+" must match/],
    ["md5:" + "a".repeat(32), /unsupported algorithm "md5": expected sha256 or sha512/],
    ["sha384:" + "a".repeat(96), /unsupported algorithm "sha384"/],
    ["sha256+b64u:" + "a".repeat(43), /unsupported algorithm "sha256\+b64u"/],
    ["sha256:", /missing hex after ":"/],
    ["sha256:" + "a".repeat(63) + "/", /encoded part must match \[a-zA-Z0-9=_-\]\+/],
    ["sha256:abc", /sha256 needs 64 hex characters, got 3/],
    ["sha256:" + "a".repeat(65), /sha256 needs 64 hex characters, got 65/],
    ["sha512:" + "a".repeat(64), /sha512 needs 128 hex characters, got 64/],
    ["sha256:" + "A".repeat(64), /encoded part must be lowercase hex/],
    ["sha256:" + "g".repeat(64), /encoded part must be lowercase hex/],
    ["sha256:" + "a".repeat(63) + ":", /encoded part must match/],
  ];
  for (const [input, re] of cases) {
    assert.throws(() => parseDigest(input), (e: unknown) => {
      assert.ok(e instanceof UsageError, `${input}: ${e}`);
      assert.ok(e.message.startsWith(`Invalid digest "${input}": `), e.message);
      assert.match(e.message, re, input);
      assert.ok(!e.message.endsWith("."), e.message);
      return true;
    });
    assert.equal(isDigest(input), false, input);
  }
});

Deno.test("isDigest() accepts exactly what parseDigest() accepts", () => {
  const cases: [string, boolean][] = [
    [SHA256, true],
    [SHA512, true],
    ["sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", true],
    [SHA256 + "0", false],
    [SHA256.slice(0, -1), false],
    [" " + SHA256, false],
    [SHA256 + "\n", false],
    [SHA256.toUpperCase(), false],
    ["sha256:" + "0123456789abcdef".repeat(8), false],
    ["sha512:" + "0123456789abcdef".repeat(4), false],
    ["latest", false],
    ["", false],
  ];
  for (const [s, want] of cases) {
    assert.equal(isDigest(s), want, s);
    if (want) assert.doesNotThrow(() => parseDigest(s));
    else assert.throws(() => parseDigest(s), UsageError);
  }
});

Deno.test("digestOf() hashes bytes with sha256 by default and sha512 when asked", () => {
  const cases: [Uint8Array, "sha256" | "sha512" | undefined, string][] = [
    [
      new Uint8Array(),
      undefined,
      "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ],
    [
      new Uint8Array(),
      "sha512",
      "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce" +
      "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
    ],
    [
      new TextEncoder().encode("abc"),
      "sha256",
      "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    ],
    [
      new TextEncoder().encode("abc"),
      "sha512",
      "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a" +
      "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    ],
  ];
  for (const [bytes, algorithm, want] of cases) {
    const got = digestOf(bytes, algorithm);
    assert.equal(got, want);
    assert.ok(isDigest(got), got);
  }
});

Deno.test("digestOf() hashes only the view's bytes of a subarray", () => {
  const whole = new TextEncoder().encode("xxabcxx");
  assert.equal(digestOf(whole.subarray(2, 5)), digestOf(new TextEncoder().encode("abc")));
});
