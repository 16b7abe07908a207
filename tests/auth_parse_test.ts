import assert from "node:assert/strict";
import { type Challenge, parseChallenge, repositoryScope } from "../lib/registry/auth.ts";

Deno.test("parseChallenge() reads Bearer and Basic challenges with lowercase scheme and keys", () => {
  const cases: [string, Challenge][] = [
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",' +
      'scope="repository:library/alpine:pull"',
      {
        scheme: "bearer",
        params: {
          realm: "https://auth.docker.io/token",
          service: "registry.docker.io",
          scope: "repository:library/alpine:pull",
        },
      },
    ],
    ['Basic realm="Registry Realm"', { scheme: "basic", params: { realm: "Registry Realm" } }],
    ['basic realm="x"', { scheme: "basic", params: { realm: "x" } }],
    [
      "BEARER Realm=https://r.example/token, Service=reg",
      { scheme: "bearer", params: { realm: "https://r.example/token", service: "reg" } },
    ],
    [
      'Bearer realm = "https://a/t" , service = "s"',
      { scheme: "bearer", params: { realm: "https://a/t", service: "s" } },
    ],
    ['Bearer realm="a\\"b\\\\c"', { scheme: "bearer", params: { realm: 'a"b\\c' } }],
    ['Bearer realm="",service=', { scheme: "bearer", params: { realm: "", service: "" } }],
    ["Basic", { scheme: "basic", params: {} }],
    ["  Bearer  ", { scheme: "bearer", params: {} }],
  ];
  for (const [header, want] of cases) assert.deepEqual(parseChallenge(header), want, header);
});

Deno.test("parseChallenge() keeps commas and spaces inside a quoted scope", () => {
  const c = parseChallenge(
    'Bearer realm="https://a/token",service="reg",' +
      'scope="repository:a:pull,push repository:b:pull",error="insufficient_scope"',
  );
  assert.deepEqual(c, {
    scheme: "bearer",
    params: {
      realm: "https://a/token",
      service: "reg",
      scope: "repository:a:pull,push repository:b:pull",
      error: "insufficient_scope",
    },
  });
  assert.equal(
    parseChallenge('Bearer scope="repository:a:pull,push",realm="https://a/t"')?.params.realm,
    "https://a/t",
    "a parameter after a quoted comma is still read",
  );
});

Deno.test("parseChallenge() returns undefined for a missing or unusable header", () => {
  for (const header of [null, "", "   ", "=,=", '"Bearer"', "123 realm=x", ", realm=x"]) {
    assert.equal(parseChallenge(header), undefined, JSON.stringify(header));
  }
});

Deno.test("parseChallenge() gives garbage an unknown scheme and no parameters, quickly", () => {
  assert.deepEqual(parseChallenge("garbage"), { scheme: "garbage", params: {} });
  assert.deepEqual(parseChallenge("Negotiate !!!"), { scheme: "negotiate", params: {} });
  const hostile = [
    'Bearer realm="' + "\\".repeat(100_000),
    "Bearer " + "a=".repeat(50_000),
    "Bearer " + ",".repeat(100_000),
    'Bearer realm="' + '\\"'.repeat(50_000),
  ];
  for (const header of hostile) {
    const started = performance.now();
    const c = parseChallenge(header);
    assert.equal(c?.scheme, "bearer");
    assert.ok(performance.now() - started < 1000, "linear in the header length");
  }
});

Deno.test("repositoryScope() builds the token scope for a repository and its actions", () => {
  const cases: [string, string[], string][] = [
    ["library/alpine", ["pull"], "repository:library/alpine:pull"],
    ["team/app", ["pull", "push"], "repository:team/app:pull,push"],
    ["a/b/c", ["*"], "repository:a/b/c:*"],
  ];
  for (const [name, actions, want] of cases) assert.equal(repositoryScope(name, actions), want);
  const c = parseChallenge(`Bearer realm="r",scope="${repositoryScope("x/y", ["pull", "push"])}"`);
  assert.equal(c?.params.scope, "repository:x/y:pull,push", "round-trips through a challenge");
});
