// The harness itself: each registry variant really answers, fixtures are retrievable by digest.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { HarnessError, pushFixtures, startRegistry } from "../scripts/harness/mod.ts";

const sha256 = (b: Uint8Array) => "sha256:" + createHash("sha256").update(b).digest("hex");
const ACCEPT =
  "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json";

Deno.test("plain registry answers /v2/ with 200, serves fixtures by digest and stops its process", async () => {
  const reg = await startRegistry();
  try {
    const res = await fetch(`${reg.url}/v2/`);
    await res.body?.cancel();
    assert.equal(res.status, 200);
    for (const format of ["oci", "docker"] as const) {
      const set = await pushFixtures(reg, {
        format,
        repository: `h/${format}`,
        index: { tag: "all" },
      });
      assert.equal(set.images.length, 6);
      for (const img of set.images) {
        const m = await fetch(`${reg.url}/v2/${img.repository}/manifests/${img.digest}`, {
          headers: { accept: ACCEPT },
        });
        const bytes = new Uint8Array(await m.arrayBuffer());
        assert.equal(m.status, 200);
        assert.equal(sha256(bytes), img.digest);
        assert.equal(m.headers.get("content-type"), img.mediaType);
        const c = await fetch(`${reg.url}/v2/${img.repository}/blobs/${img.config.digest}`);
        const config = JSON.parse(await c.text());
        assert.equal(config.architecture, img.platform.architecture);
        assert.equal(config.os, img.platform.os);
        assert.equal(config.variant, img.platform.variant);
        assert.equal(config["os.version"], img.platform["os.version"]);
        assert.equal(config.rootfs.diff_ids.length, img.layers.length);
      }
      const idx = await fetch(`${reg.url}/v2/${set.index!.repository}/manifests/all`, {
        headers: { accept: ACCEPT },
      });
      assert.equal(sha256(new Uint8Array(await idx.arrayBuffer())), set.index!.digest);
    }
  } finally {
    await reg.stop();
  }
  const gone = await fetch(`${reg.url}/v2/`).then(() => "answered", () => "refused");
  assert.equal(gone, "refused", "the registry is stopped");
});

Deno.test("basic-auth registry challenges with a Basic realm and takes the harness credentials", async () => {
  await using reg = await startRegistry({ auth: "basic" });
  const res = await fetch(`${reg.url}/v2/`);
  await res.body?.cancel();
  assert.equal(res.status, 401);
  assert.match(res.headers.get("www-authenticate") ?? "", /^Basic realm="harness"/);
  const ok = await fetch(`${reg.url}/v2/`, {
    headers: { authorization: "Basic " + btoa(`${reg.username}:${reg.password}`) },
  });
  await ok.body?.cancel();
  assert.equal(ok.status, 200);
});

Deno.test("token registry challenges with Bearer realm and service of the harness token server", async () => {
  await using reg = await startRegistry({ auth: "token" });
  const res = await fetch(`${reg.url}/v2/`);
  await res.body?.cancel();
  assert.equal(res.status, 401);
  const h = res.headers.get("www-authenticate") ?? "";
  assert.ok(h.startsWith("Bearer "), h);
  assert.ok(h.includes(`realm="${reg.tokenServer!.realm}"`), h);
  assert.ok(h.includes(`service="${reg.tokenServer!.service}"`), h);
  const set = await pushFixtures(reg, {
    repository: "tok/x",
    platforms: [{ os: "linux", architecture: "amd64" }],
  });
  const u = new URL(reg.tokenServer!.realm);
  u.searchParams.set("service", reg.tokenServer!.service);
  u.searchParams.set("scope", "repository:tok/x:pull");
  const tok = await (await fetch(u, {
    headers: { authorization: "Basic " + btoa(`${reg.username}:${reg.password}`) },
  })).json();
  const m = await fetch(`${reg.url}/v2/tok/x/manifests/${set.images[0].digest}`, {
    headers: { authorization: `Bearer ${tok.token}`, accept: ACCEPT },
  });
  assert.equal(sha256(new Uint8Array(await m.arrayBuffer())), set.images[0].digest);
  const bad = await fetch(u, {
    headers: { authorization: "Basic " + btoa(`${reg.username}:wrong`) },
  });
  await bad.body?.cancel();
  assert.equal(bad.status, 401);
});

Deno.test("TLS registry is trusted with the harness CA and refused without it", async () => {
  await using reg = await startRegistry({ tls: true });
  assert.ok(reg.url.startsWith("https://"));
  const client = Deno.createHttpClient({ caCerts: [reg.caPem!] });
  try {
    const res = await fetch(`${reg.url}/v2/`, { client });
    await res.body?.cancel();
    assert.equal(res.status, 200);
  } finally {
    client.close();
  }
  const err = await fetch(`${reg.url}/v2/`).then(() => undefined, (e) => e);
  assert.ok(err instanceof Error, "an unknown CA must be refused");
});

Deno.test("startRegistry fails with one line naming docker-registry when no binary is found", async () => {
  const err = await startRegistry({ binary: "/nonexistent/registry" }).then(
    () => undefined,
    (e) => e,
  );
  assert.ok(err instanceof HarnessError, String(err));
  assert.match(err.message, /apt-get install -y docker-registry/);
  assert.ok(!err.message.includes("\n"));
});
