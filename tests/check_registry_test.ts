// check-registry against the harness registries and a proxy that refuses features.
import assert from "node:assert/strict";
import { startProxy, startRegistry } from "../scripts/harness/mod.ts";
import { runCli } from "./_helpers/cli.ts";

const line = (out: string, name: string) =>
  out.split("\n").find((l) => l.slice(6).startsWith(name)) ?? "";

Deno.test("check-registry passes everything on a plain registry and cleans up", async () => {
  await using reg = await startRegistry();
  const r = await runCli(["--plain-http", "check-registry", `${reg.host}/ns`]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  for (
    const name of [
      "blob upload (monolithic)",
      "blob upload (chunked PATCH)",
      "cross-repository mount",
      "Docker manifest list push",
      "OCI index push",
      "OCI index with annotations",
      "extra tags",
      "read back the exact bytes by tag",
      "referrers",
      "delete by digest",
    ]
  ) {
    assert.match(line(r.stdout, name), /^PASS /, `${name}: ${r.stdout}`);
  }
  assert.match(
    line(r.stdout, "referrers"),
    /tag-schema fallback/,
    "distribution 2.8 has no referrers API",
  );
  assert.match(r.stdout, /Clean-up: deleted \d+ manifest/);
  assert.doesNotMatch(r.stdout, /could not delete/);
  const json = await runCli(["--plain-http", "check-registry", "--json", `${reg.host}/ns`]);
  const doc = JSON.parse(json.stdout);
  assert.equal(doc.supported, true);
  assert.ok(doc.results.every((x: { status: string }) => x.status === "PASS"));
});

Deno.test("check-registry over TLS with --ca-file and with token auth", async () => {
  await using tls = await startRegistry({ tls: true });
  const a = await runCli(["--ca-file", tls.caFile!, "check-registry", `${tls.host}/ns`]);
  assert.equal(a.code, 0, a.stdout + a.stderr);
  await using tok = await startRegistry({ auth: "token" });
  const b = await runCli([
    "--plain-http",
    "--username",
    tok.username!,
    "--password",
    tok.password!,
    "check-registry",
    `${tok.host}/ns`,
  ]);
  assert.equal(b.code, 0, b.stdout + b.stderr);
  assert.match(line(b.stdout, "cross-repository mount"), /^PASS /);
  const c = await runCli([
    "--plain-http",
    "--username",
    tok.username!,
    "--password",
    "wrong",
    "check-registry",
    `${tok.host}/ns`,
  ]);
  assert.equal(c.code, 1);
  assert.match(line(c.stdout, "blob upload (monolithic)"), /^FAIL .*401 Unauthorized/);
  assert.match(line(c.stdout, "OCI index push"), /^SKIP +OCI index push +needs /);
});

Deno.test("check-registry reports deletes disabled and what it left behind, still exit 0", async () => {
  await using reg = await startRegistry({ deletes: false });
  const r = await runCli(["--plain-http", "check-registry", `${reg.host}/ns`]);
  assert.equal(r.code, 0, r.stdout);
  assert.match(line(r.stdout, "delete by digest"), /^FAIL .*405 UNSUPPORTED/);
  assert.match(r.stdout, /could not delete sha256:[0-9a-f]{64}: 405 UNSUPPORTED/);
});

Deno.test("check-registry: refused index types FAIL with the reason and exit 1; refused mounts FAIL alone", async () => {
  await using reg = await startRegistry();
  await using proxy = await startProxy({
    upstream: reg.url,
    intercept({ request }) {
      const type = request.headers.get("content-type") ?? "";
      if (request.method === "PUT" && /manifest\.list|image\.index/.test(type)) {
        return Response.json({
          errors: [{ code: "MANIFEST_INVALID", message: "index types not allowed" }],
        }, { status: 400 });
      }
      return undefined;
    },
  });
  const r = await runCli(["--plain-http", "check-registry", `${proxy.host}/ns`]);
  assert.equal(r.code, 1, r.stdout);
  assert.match(line(r.stdout, "Docker manifest list push"), /^FAIL .*400 MANIFEST_INVALID/);
  assert.match(line(r.stdout, "OCI index push"), /^FAIL .*400 MANIFEST_INVALID/);
  assert.match(line(r.stdout, "read back the exact bytes by tag"), /^SKIP/);
  assert.match(r.stdout, /cannot hold multi-platform images/);

  await using noMount = await startProxy({
    upstream: reg.url,
    async intercept({ request, forward }) {
      const url = new URL(request.url);
      if (request.method === "POST" && url.searchParams.has("mount")) {
        // Drop the mount: the registry opens a plain upload session (202) instead.
        url.searchParams.delete("mount");
        url.searchParams.delete("from");
        return await forward(new Request(url, { method: "POST", headers: request.headers }));
      }
      return undefined;
    },
  });
  const m = await runCli(["--plain-http", "check-registry", `${noMount.host}/ns`]);
  assert.equal(m.code, 0, m.stdout);
  assert.match(line(m.stdout, "cross-repository mount"), /^FAIL .*202 Accepted: mount refused/);
});

Deno.test("check-registry input errors are exit 2", async () => {
  const r = await runCli(["check-registry"]);
  assert.equal(r.code, 2);
  const b = await runCli(["check-registry", "127.0.0.1:9/NS"]);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /lowercase/);
});

Deno.test("check-registry's chunked upload honours the registry's OCI-Chunk-Min-Length and says so", async () => {
  const { startMinChunkRegistry } = await import("./_helpers/min_chunk_proxy.ts");
  await using reg = await startRegistry();
  const { proxy, patches } = await startMinChunkRegistry(reg.url, 100);
  await using _ = proxy;
  const r = await runCli(["--plain-http", "check-registry", `${proxy.host}/ns`]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(
    line(r.stdout, "blob upload (chunked PATCH)"),
    /^PASS .*PATCH.* \(chunks of at least 100 bytes, as the registry asks\) then PUT/,
  );
  assert.ok(patches.length > 0 && patches.slice(0, -1).every((n) => n >= 100), String(patches));
});

Deno.test("check-registry: a registry that accepts DELETE and keeps the manifest fails the delete check and is not counted as cleaned up", async () => {
  await using reg = await startRegistry();
  await using proxy = await startProxy({
    upstream: reg.url,
    intercept: ({ request }) =>
      request.method === "DELETE" ? new Response(null, { status: 202 }) : undefined,
  });
  const r = await runCli(["--plain-http", "check-registry", "--json", `${proxy.host}/ns`]);
  const doc = JSON.parse(r.stdout);
  const del = doc.results.find((x: { name: string }) => x.name === "delete by digest");
  assert.equal(del.status, "FAIL", JSON.stringify(del));
  assert.match(del.detail, /still there/);
  assert.deepEqual(doc.deleted, []);
  assert.ok(doc.leftBehind.length > 0);
  assert.ok(
    doc.leftBehind.every((l: { reason: string }) => /still/.test(l.reason)),
    JSON.stringify(doc.leftBehind),
  );
});
