import assert from "node:assert/strict";
import {
  credentialKeys,
  DOCKER_HUB,
  isLoopbackRegistry,
  normalizeConfigKey,
  parseReference,
  Reference,
  registryApiHost,
} from "../lib/reference.ts";
import { InvalidReferenceError } from "../lib/errors.ts";

const D = "sha256:" + "a".repeat(64);
const D512 = "sha512:" + "b".repeat(128);

type Fields = { registry: string; repository: string; tag?: string; digest?: string };

function fields(r: Reference): Fields {
  const f: Fields = { registry: r.registry, repository: r.repository };
  if (r.tag !== undefined) f.tag = r.tag;
  if (r.digest !== undefined) f.digest = r.digest;
  return f;
}

Deno.test("parseReference() normalises every reference form as docker does", () => {
  const cases: [string, Fields][] = [
    ["alpine", { registry: "docker.io", repository: "library/alpine", tag: "latest" }],
    ["alpine:3.20", { registry: "docker.io", repository: "library/alpine", tag: "3.20" }],
    ["library/alpine", { registry: "docker.io", repository: "library/alpine", tag: "latest" }],
    ["docker.io/alpine", { registry: "docker.io", repository: "library/alpine", tag: "latest" }],
    [
      "docker.io/library/alpine",
      { registry: "docker.io", repository: "library/alpine", tag: "latest" },
    ],
    [
      "index.docker.io/library/alpine",
      { registry: "docker.io", repository: "library/alpine", tag: "latest" },
    ],
    ["index.docker.io/alpine:3", { registry: "docker.io", repository: "library/alpine", tag: "3" }],
    ["user/app", { registry: "docker.io", repository: "user/app", tag: "latest" }],
    ["user/team/app", { registry: "docker.io", repository: "user/team/app", tag: "latest" }],
    ["ghcr.io/o/r:tag", { registry: "ghcr.io", repository: "o/r", tag: "tag" }],
    ["localhost:5000/x", { registry: "localhost:5000", repository: "x", tag: "latest" }],
    ["localhost/x", { registry: "localhost", repository: "x", tag: "latest" }],
    ["127.0.0.1:5000/a/b:tag", { registry: "127.0.0.1:5000", repository: "a/b", tag: "tag" }],
    ["[::1]:5000/x", { registry: "[::1]:5000", repository: "x", tag: "latest" }],
    ["[::1]/x:v1", { registry: "[::1]", repository: "x", tag: "v1" }],
    ["Registry.Example:443/x", {
      registry: "Registry.Example:443",
      repository: "x",
      tag: "latest",
    }],
    [`r.io/x:1.0@${D}`, { registry: "r.io", repository: "x", tag: "1.0", digest: D }],
    [`r.io/x@${D}`, { registry: "r.io", repository: "x", digest: D }],
    [`alpine@${D512}`, { registry: "docker.io", repository: "library/alpine", digest: D512 }],
    ["r.io/a__b/c-d.e_f:T_1.x-y", { registry: "r.io", repository: "a__b/c-d.e_f", tag: "T_1.x-y" }],
    ["r.io/a--b/c---d", { registry: "r.io", repository: "a--b/c---d", tag: "latest" }],
    ["localhost:5000", { registry: "docker.io", repository: "library/localhost", tag: "5000" }],
  ];
  for (const [input, want] of cases) {
    assert.deepEqual(fields(parseReference(input)), want, input);
  }
});

Deno.test("parseReference() keeps the port of localhost:5000", () => {
  const r = parseReference("localhost:5000/team/app:1.0");
  assert.equal(r.registry, "localhost:5000");
  assert.equal(r.name, "localhost:5000/team/app");
});

Deno.test("parseReference() sets no default tag when a digest is given or defaultTag is false", () => {
  assert.equal(parseReference(`r.io/x@${D}`).tag, undefined);
  assert.equal(parseReference("r.io/x", { defaultTag: false }).tag, undefined);
  assert.equal(parseReference("r.io/x", { defaultTag: "stable" }).tag, "stable");
  assert.equal(parseReference("r.io/x:1", { defaultTag: "stable" }).tag, "1");
  assert.throws(
    () => parseReference("r.io/x", { defaultTag: "bad tag" }),
    /invalid tag "bad tag"/,
  );
});

Deno.test("parseReference() with defaultTag false keeps a given tag or digest and adds none", () => {
  const cases: [string, Fields][] = [
    ["alpine", { registry: "docker.io", repository: "library/alpine" }],
    ["alpine:3", { registry: "docker.io", repository: "library/alpine", tag: "3" }],
    [`r.io/x@${D}`, { registry: "r.io", repository: "x", digest: D }],
    [`r.io/x:1@${D512}`, { registry: "r.io", repository: "x", tag: "1", digest: D512 }],
  ];
  for (const [input, want] of cases) {
    const r = parseReference(input, { defaultTag: false });
    assert.deepEqual(fields(r), want, input);
    assert.equal(r.identifier, want.digest ?? want.tag ?? "latest", input);
  }
});

Deno.test("Reference.toString() round-trips through parseReference()", () => {
  const cases = [
    "docker.io/library/alpine:latest",
    "docker.io/user/app:1",
    "ghcr.io/o/r:tag",
    "localhost:5000/x:latest",
    "127.0.0.1:5000/a/b:tag",
    "[::1]:5000/a/b:v1",
    `r.io/x:1@${D}`,
    `r.io/x@${D512}`,
  ];
  for (const s of cases) {
    const r = parseReference(s, { defaultTag: false });
    assert.equal(r.toString(), s);
    assert.deepEqual(fields(parseReference(r.toString(), { defaultTag: false })), fields(r), s);
  }
  assert.equal(parseReference("alpine").toString(), "docker.io/library/alpine:latest");
  assert.equal(
    parseReference("index.docker.io/alpine").toString(),
    "docker.io/library/alpine:latest",
  );
});

Deno.test("Reference.name and .identifier give the repository and what to fetch", () => {
  const cases: [string, string, string][] = [
    ["alpine", "docker.io/library/alpine", "latest"],
    ["r.io/x:1", "r.io/x", "1"],
    [`r.io/x:1@${D}`, "r.io/x", D],
    [`r.io/x@${D}`, "r.io/x", D],
  ];
  for (const [input, name, identifier] of cases) {
    const r = parseReference(input);
    assert.equal(r.name, name, input);
    assert.equal(r.identifier, identifier, input);
  }
  const bare = new Reference({ registry: "r.io", repository: "x" });
  assert.equal(bare.identifier, "latest");
  assert.equal(bare.toString(), "r.io/x");
});

Deno.test("Reference.withTag() replaces the tag, drops the digest and validates", () => {
  const r = parseReference(`r.io/x:1@${D}`);
  assert.equal(r.withTag("2").toString(), "r.io/x:2");
  assert.throws(() => r.withTag("bad tag"), (e: unknown) => {
    assert.ok(e instanceof InvalidReferenceError);
    assert.equal(
      e.message,
      'Cannot parse reference "r.io/x:bad tag": invalid tag "bad tag": must match ' +
        "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}",
    );
    return true;
  });
  assert.throws(() => r.withTag("t".repeat(129)), /tag is longer than 128 characters/);
});

Deno.test("Reference.withDigest() pins the digest, keeps the tag and validates", () => {
  const r = parseReference("r.io/x:1");
  assert.equal(r.withDigest(D).toString(), `r.io/x:1@${D}`);
  assert.equal(r.withDigest(D).identifier, D);
  assert.equal(parseReference(`r.io/x@${D}`).withDigest(D512).toString(), `r.io/x@${D512}`);
  assert.throws(
    () => r.withDigest("sha256:abc"),
    /^InvalidReferenceError: Cannot parse reference "r.io\/x:1@sha256:abc": invalid digest/,
  );
});

Deno.test("parseReference() rejects bad references with the rule in the message", () => {
  const cases: [string, string][] = [
    ["", "empty reference"],
    ["   ", "empty reference"],
    [" alpine", "must not start or end with white space"],
    ["alpine\n", "must not start or end with white space"],
    ["http://r.io/x", "must not include a scheme"],
    ["https://r.io/x:1", "must not include a scheme"],
    ["oci://r.io/x", "must not include a scheme"],
    ["a".repeat(64), "a 64-character hex string is an image ID, not a name"],
    ["Foo/bar", "repository must be lowercase"],
    ["r.io/App:v1", "repository must be lowercase"],
    ["ALPINE", "repository must be lowercase"],
    ["r.io/x:Bad Tag", 'invalid tag "Bad Tag": must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}'],
    ["r.io/x y", 'invalid repository component "x y"'],
    ["r.io/x:a\tb", 'invalid tag "a\tb"'],
    ["r.io/x:tag/more", 'invalid tag "tag/more"'],
    ["r.io/x:1:2", 'invalid repository component "x:1"'],
    ["r.io/x:bad!tag", 'invalid tag "bad!tag"'],
    ["r.io/x:.dot", 'invalid tag ".dot"'],
    ["r.io/x:-dash", 'invalid tag "-dash"'],
    ["r.io/x:", 'missing tag after ":"'],
    [`r.io/x:${"t".repeat(129)}`, "tag is longer than 128 characters"],
    ["r.io/x@sha256:abc", 'invalid digest "sha256:abc": sha256 needs 64 hex characters, got 3'],
    [`r.io/x@sha512:${"a".repeat(64)}`, "sha512 needs 128 hex characters, got 64"],
    [`r.io/x@md5:${"a".repeat(32)}`, 'unsupported algorithm "md5"'],
    [`r.io/x@sha256:${"A".repeat(64)}`, "encoded part must be lowercase hex"],
    [`r.io/x@SHA256:${"a".repeat(64)}`, 'algorithm "SHA256" must match'],
    [`r.io/x@sha512:${"b".repeat(127)}`, "sha512 needs 128 hex characters, got 127"],
    [`r.io/x@${D}@${D}`, 'invalid digest "sha256:'],
    ["r.io/x@", 'invalid digest "": expected "algorithm:hex"'],
    ["r.io/x@latest", 'invalid digest "latest"'],
    ["r.io:0/x", 'invalid registry port "0": must be a number from 1 to 65535'],
    ["r.io:70000/x", 'invalid registry port "70000"'],
    ["r.io:65536/x", 'invalid registry port "65536"'],
    ["localhost:0/x", 'invalid registry port "0"'],
    ["[::1]:70000/x", 'invalid registry port "70000"'],
    ["r.io:/x", 'invalid registry port ""'],
    ["r.io:abc/x", 'invalid registry port "abc"'],
    ["[::1]:x/y", 'invalid registry port "x"'],
    ["-r.io/x", 'invalid registry host "-r.io"'],
    ["r..io/x", 'invalid registry host "r..io"'],
    ["[zz::1]:5000/x", 'invalid registry host "[zz::1]"'],
    ["[::1/x", 'invalid registry host "[::1"'],
    ["[fe80::1%eth0]:5000/x", 'invalid registry host "[fe80::1%eth0]"'],
    ["[::1]5000/x", 'invalid registry "[::1]5000"'],
    ["r.io/-x", 'invalid repository component "-x"'],
    ["r.io/x_", 'invalid repository component "x_"'],
    ["r.io/a___b", 'invalid repository component "a___b"'],
    ["r.io/a/ b", 'invalid repository component " b"'],
    ["r.io/a//b", 'repository "a//b" has an empty path component'],
    ["r.io/x/", 'repository "x/" has an empty path component'],
    ["/x", 'repository "/x" has an empty path component'],
    ["r.io/", "missing repository name"],
    ["r.io/:tag", "missing repository name"],
    [`r.io/${"a".repeat(251)}`, "name is longer than 255 characters"],
    [`${"a".repeat(248)}`, "name is longer than 255 characters"], // docker.io/library/ counts
  ];
  for (const [input, reason] of cases) {
    assert.throws(() => parseReference(input), (e: unknown) => {
      assert.ok(e instanceof InvalidReferenceError, `${JSON.stringify(input)}: ${e}`);
      assert.equal(e.reference, input);
      assert.equal(e.message, `Cannot parse reference "${input}": ${e.reason}`);
      assert.ok(e.reason.includes(reason), `${JSON.stringify(input)}: got ${e.reason}`);
      assert.ok(!e.message.endsWith("."), e.message);
      return true;
    });
  }
});

Deno.test("parseReference() accepts names of exactly 255 characters and tags of 128", () => {
  const repo = "a".repeat(255 - "r.io/".length);
  assert.equal(parseReference(`r.io/${repo}`).name.length, 255);
  assert.equal(parseReference(`r.io/x:${"t".repeat(128)}`).tag?.length, 128);
});

Deno.test("registryApiHost() sends Docker Hub requests to registry-1.docker.io", () => {
  const cases: [string, string][] = [
    [DOCKER_HUB, "registry-1.docker.io"],
    ["index.docker.io", "registry-1.docker.io"],
    ["ghcr.io", "ghcr.io"],
    ["localhost:5000", "localhost:5000"],
    ["[::1]:5000", "[::1]:5000"],
  ];
  for (const [registry, host] of cases) assert.equal(registryApiHost(registry), host, registry);
});

Deno.test("isLoopbackRegistry() is true only for localhost, 127.0.0.0/8 and ::1", () => {
  const cases: [string, boolean][] = [
    ["localhost", true],
    ["localhost:5000", true],
    ["LOCALHOST:5000", true],
    ["127.0.0.1", true],
    ["127.0.0.1:1", true],
    ["127.1.2.3:5000", true],
    ["[::1]", true],
    ["[::1]:5000", true],
    ["[0:0:0:0:0:0:0:1]:5000", true],
    ["127.0.0.256:5000", false],
    ["127.0.0.1.example.com", false],
    ["128.0.0.1", false],
    ["10.0.0.1:5000", false],
    ["localhost.example.com", false],
    ["[::2]:5000", false],
    ["[0::1]:5000", true],
    ["[0000:0000:0000:0000:0000:0000:0000:0001]", true],
    ["[::ffff:127.0.0.1]:5000", true],
    ["[::ffff:10.0.0.1]:5000", false],
    ["[::1:0]", false],
    ["[1::1]", false],
    ["[::1]x", false],
    ["[::1].example.com", false],
    ["[::1]:", false],
    ["[::1", false],
    ["localhost:abc", false],
    ["localhost:5000/x", false],
    ["", false],
    ["ghcr.io", false],
    ["docker.io", false],
  ];
  for (const [registry, want] of cases) assert.equal(isLoopbackRegistry(registry), want, registry);
});

Deno.test("credentialKeys() lists docker config.json keys in lookup order", () => {
  assert.deepEqual(credentialKeys("docker.io"), [
    "https://index.docker.io/v1/",
    "index.docker.io",
    "docker.io",
    "registry-1.docker.io",
  ]);
  assert.deepEqual(credentialKeys("index.docker.io"), credentialKeys("docker.io"));
  assert.deepEqual(credentialKeys("ghcr.io"), ["ghcr.io", "https://ghcr.io", "http://ghcr.io"]);
  assert.deepEqual(credentialKeys("localhost:5000"), [
    "localhost:5000",
    "https://localhost:5000",
    "http://localhost:5000",
  ]);
});

Deno.test("normalizeConfigKey() strips scheme and path so config keys match hosts", () => {
  const cases: [string, string][] = [
    ["https://index.docker.io/v1/", "index.docker.io"],
    ["http://r.io:5000/v2/", "r.io:5000"],
    ["r.io:5000/v2", "r.io:5000"],
    ["https://R.Example", "r.example"],
    ["ghcr.io", "ghcr.io"],
    ["[::1]:5000", "[::1]:5000"],
    ["https://[::1]:5000/v2/", "[::1]:5000"],
  ];
  for (const [key, want] of cases) assert.equal(normalizeConfigKey(key), want, key);
  for (const registry of ["docker.io", "ghcr.io", "localhost:5000"]) {
    const keys = new Set(credentialKeys(registry).map(normalizeConfigKey));
    assert.ok(
      keys.has(
        normalizeConfigKey(
          registry === "docker.io" ? "https://index.docker.io/v1/" : `https://${registry}/v2/`,
        ),
      ),
    );
  }
});
