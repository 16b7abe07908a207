import assert from "node:assert/strict";
import {
  credentialKeys,
  isLoopbackRegistry,
  normalizeConfigKey,
  parseReference,
  registryApiHost,
} from "../lib/reference.ts";
import { InvalidReferenceError } from "../lib/errors.ts";
import { digestOf, isDigest, parseDigest } from "../lib/digest.ts";

const D = "sha256:" + "a".repeat(64);

Deno.test("parseReference() normalises like docker", () => {
  const cases: [string, string, string, string | undefined, string | undefined][] = [
    ["alpine", "docker.io", "library/alpine", "latest", undefined],
    ["library/alpine", "docker.io", "library/alpine", "latest", undefined],
    ["docker.io/alpine", "docker.io", "library/alpine", "latest", undefined],
    ["index.docker.io/library/alpine:3", "docker.io", "library/alpine", "3", undefined],
    ["user/app", "docker.io", "user/app", "latest", undefined],
    ["ghcr.io/o/r:tag", "ghcr.io", "o/r", "tag", undefined],
    ["localhost:5000/x", "localhost:5000", "x", "latest", undefined],
    ["localhost/x", "localhost", "x", "latest", undefined],
    ["127.0.0.1:5000/a/b:tag", "127.0.0.1:5000", "a/b", "tag", undefined],
    ["[::1]:5000/x", "[::1]:5000", "x", "latest", undefined],
    [`r.io/x:1.0@${D}`, "r.io", "x", "1.0", D],
    [`r.io/x@${D}`, "r.io", "x", undefined, D],
    ["r.io/a__b/c-d.e_f:T_1.x-y", "r.io", "a__b/c-d.e_f", "T_1.x-y", undefined],
  ];
  for (const [input, registry, repository, tag, digest] of cases) {
    const r = parseReference(input);
    assert.deepEqual([r.registry, r.repository, r.tag, r.digest], [
      registry,
      repository,
      tag,
      digest,
    ], input);
  }
});

Deno.test("parseReference() keeps the port of localhost:5000 and round-trips through toString()", () => {
  for (
    const s of [
      "localhost:5000/x:latest",
      "[::1]:5000/a/b:v1",
      `r.io/x:1@${D}`,
      "docker.io/library/alpine:latest",
    ]
  ) {
    assert.equal(parseReference(s).toString(), s);
  }
  assert.equal(parseReference("alpine").identifier, "latest");
  assert.equal(parseReference(`r.io/x:1@${D}`).identifier, D);
  assert.equal(parseReference("r.io/x", { defaultTag: false }).tag, undefined);
  assert.equal(parseReference("r.io/x:1").withTag("2").toString(), "r.io/x:2");
  assert.equal(parseReference("r.io/x:1").withDigest(D).toString(), `r.io/x:1@${D}`);
});

Deno.test("parseReference() rejects bad references naming the rule", () => {
  const cases: [string, RegExp][] = [
    ["", /empty reference/],
    ["Foo/bar", /repository must be lowercase/],
    ["r.io/x:bad tag", /white space/],
    ["r.io/x:bad!tag", /invalid tag "bad!tag"/],
    [`r.io/x:${"t".repeat(129)}`, /tag is longer than 128 characters/],
    ["r.io/x@sha256:abc", /invalid digest .*needs 64 hex characters/],
    [`r.io/x@md5:${"a".repeat(32)}`, /unsupported algorithm "md5"/],
    [`r.io/x@sha256:${"A".repeat(64)}`, /lowercase hex/],
    ["https://r.io/x", /must not include a scheme/],
    ["r.io:0/x", /invalid registry port/],
    ["r.io:70000/x", /invalid registry port/],
    ["r.io/-x", /invalid repository component "-x"/],
    [`r.io/${"a".repeat(260)}`, /longer than 255/],
    ["r.io/", /missing repository name/],
  ];
  for (const [input, re] of cases) {
    assert.throws(() => parseReference(input), (e: unknown) => {
      assert.ok(e instanceof InvalidReferenceError, `${input}: ${e}`);
      assert.match(e.message, re, input);
      assert.ok(e.message.startsWith(`Cannot parse reference "${input}"`));
      return true;
    });
  }
});

Deno.test("registry helpers: API host, loopback, config keys", () => {
  assert.equal(registryApiHost("docker.io"), "registry-1.docker.io");
  assert.equal(registryApiHost("ghcr.io"), "ghcr.io");
  for (const h of ["localhost", "localhost:5000", "127.0.0.1:1", "127.1.2.3", "[::1]:5000"]) {
    assert.ok(isLoopbackRegistry(h), h);
  }
  for (const h of ["ghcr.io", "10.0.0.1:5000", "localhost.example.com"]) {
    assert.ok(!isLoopbackRegistry(h), h);
  }
  assert.equal(credentialKeys("docker.io")[0], "https://index.docker.io/v1/");
  assert.equal(normalizeConfigKey("https://r.io:5000/v2/"), "r.io:5000");
});

Deno.test("digests: parse, validate and compute sha256 and sha512", () => {
  assert.equal(
    digestOf(new Uint8Array()),
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assert.ok(digestOf(new Uint8Array(), "sha512").startsWith("sha512:cf83e1357eefb8bd"));
  assert.equal(parseDigest(D).hex, "a".repeat(64));
  assert.ok(isDigest(`sha512:${"0".repeat(128)}`));
  for (
    const bad of [
      "sha256",
      "sha256:",
      `sha384:${"a".repeat(96)}`,
      `sha256:${"g".repeat(64)}`,
      "latest",
    ]
  ) {
    assert.ok(!isDigest(bad), bad);
  }
});
