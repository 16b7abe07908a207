// Registry client core against real registries: verified fetches, mounts, streamed uploads, auth.
import assert from "node:assert/strict";
import { pushFixtures, startRegistry } from "../scripts/harness/mod.ts";
import { startProxy } from "../scripts/harness/proxy.ts";
import { RegistryClient } from "../lib/registry/client.ts";
import { AuthError, DigestMismatchError, RegistryError, SizeMismatchError } from "../lib/errors.ts";
import { digestOf } from "../lib/digest.ts";
import { Digester } from "../lib/content.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("client reads fixtures verified, by tag and by digest, in both media types", async (t) => {
  await using reg = await startRegistry();
  const oci = await pushFixtures(reg, {
    format: "oci",
    repository: "core/oci",
    index: { tag: "multi" },
  });
  const docker = await pushFixtures(reg, {
    format: "docker",
    repository: "core/docker",
    seed: "d",
  });
  await using client = new RegistryClient();

  for (const [label, set] of [["OCI", oci], ["Docker", docker]] as const) {
    const img = set.images[0];
    await t.step(`${label} manifest by tag has the digest of the exact bytes pushed`, async () => {
      const m = await client.repository(reg.host, img.repository).getManifest(img.tag);
      assert.equal(m.descriptor.digest, img.digest);
      assert.equal(m.descriptor.mediaType, img.mediaType);
      assert.deepEqual(m.bytes, img.manifest);
      assert.equal(m.parsed.kind, "image");
    });
    await t.step(`${label} manifest by digest is verified against the digest`, async () => {
      const m = await client.repository(reg.host, img.repository).getManifest(img.digest);
      assert.equal(m.descriptor.size, img.size);
    });
    await t.step(`${label} config blob is fetched whole and verified`, async () => {
      const bytes = await client.repository(reg.host, img.repository).fetchBlobBytes(img.config);
      assert.deepEqual(bytes, img.config.bytes);
      assert.equal(JSON.parse(text(bytes)).architecture, img.platform.architecture);
    });
    await t.step(`${label} layer blob streams and hashes to its digest`, async () => {
      const layer = img.layers[0];
      const stream = await client.repository(reg.host, img.repository).fetchBlob(layer);
      const d = new Digester();
      for await (const chunk of stream) d.update(chunk);
      assert.equal(d.digest(), layer.digest);
      assert.equal(d.size, layer.size);
    });
  }

  await t.step("index by tag parses as an index with every platform", async () => {
    const m = await client.repository(reg.host, oci.index!.repository).getManifest("multi");
    assert.equal(m.descriptor.digest, oci.index!.digest);
    assert.equal(m.parsed.kind, "index");
    if (m.parsed.kind === "index") assert.equal(m.parsed.index.manifests.length, oci.images.length);
  });

  await t.step("unknown tag is a RegistryError with 404 and MANIFEST_UNKNOWN", async () => {
    const err = await client.repository(reg.host, "core/oci").getManifest("nope").catch((e) => e);
    assert.ok(err instanceof RegistryError, String(err));
    assert.equal(err.status, 404);
    assert.ok(err.hasCode("MANIFEST_UNKNOWN"), err.message);
  });

  await t.step("headManifest and headBlob answer undefined for what is absent", async () => {
    const repo = client.repository(reg.host, "core/oci");
    assert.equal(await repo.headManifest("absent"), undefined);
    assert.equal(await repo.headBlob(digestOf(new TextEncoder().encode("absent"))), undefined);
    const img = oci.images[1];
    assert.equal((await repo.headManifest(img.tag))?.digest, img.digest);
  });

  await t.step("listTags returns every tag of the repository", async () => {
    const tags = await client.repository(reg.host, "core/oci").listTags();
    for (const img of oci.images) assert.ok(tags.includes(img.tag), img.tag);
    assert.ok(tags.includes("multi"));
  });
});

Deno.test("tampered and truncated bodies are rejected", async (t) => {
  await using reg = await startRegistry();
  const set = await pushFixtures(reg, {
    format: "oci",
    repository: "tamper/x",
    platforms: undefined,
  });
  const img = set.images[0];
  await using proxy = await startProxy({
    upstream: reg.url,
    async intercept({ request, forward }) {
      const url = new URL(request.url);
      if (request.method !== "GET") return undefined;
      const res = await forward();
      const body = new Uint8Array(await res.arrayBuffer());
      if (
        url.pathname.endsWith(`/manifests/${img.digest}`) ||
        url.pathname.endsWith(`/manifests/${img.tag}`)
      ) {
        body[body.length - 2] ^= 1;
      } else if (url.pathname.endsWith(`/blobs/${img.layers[0].digest}`)) {
        return new Response(body.subarray(0, body.length - 5), {
          status: 200,
          headers: res.headers,
        });
      } else if (url.pathname.endsWith(`/blobs/${img.config.digest}`)) {
        body[0] ^= 1;
      }
      const headers = new Headers(res.headers);
      headers.delete("content-length");
      return new Response(body, { status: res.status, headers });
    },
  });
  await using client = new RegistryClient();
  const repo = client.repository(proxy.host, "tamper/x");

  await t.step("a manifest by digest whose bytes changed is a DigestMismatchError", async () => {
    const err = await repo.getManifest(img.digest).catch((e) => e);
    assert.ok(err instanceof DigestMismatchError, String(err));
    assert.equal(err.expected, img.digest);
  });
  await t.step(
    "a manifest by tag whose bytes disagree with Docker-Content-Digest is rejected",
    async () => {
      const err = await repo.getManifest(img.tag).catch((e) => e);
      assert.ok(err instanceof DigestMismatchError, String(err));
      assert.equal(err.expected, img.digest, "the header's digest is what was expected");
    },
  );
  await t.step("a truncated layer stream errors with SizeMismatchError", async () => {
    const stream = await repo.fetchBlob(img.layers[0]);
    const err = await new Response(stream).arrayBuffer().catch((e) => e);
    assert.ok(err instanceof SizeMismatchError, String(err));
  });
  await t.step("a config with a flipped byte is a DigestMismatchError", async () => {
    const err = await repo.fetchBlobBytes(img.config).catch((e) => e);
    assert.ok(err instanceof DigestMismatchError, String(err));
  });
});

Deno.test("mount answers 201 when the blob is in the source repo and 202 with a session otherwise", async () => {
  await using reg = await startRegistry();
  const set = await pushFixtures(reg, { format: "oci", repository: "mnt/src" });
  await using client = new RegistryClient();
  const target = client.repository(reg.host, "mnt/dst");
  const layer = set.images[0].layers[0];

  assert.equal(await target.mountBlob(layer.digest, "mnt/src"), undefined);
  assert.equal((await target.headBlob(layer.digest))?.size, layer.size);

  const absent = new TextEncoder().encode("not in the source repo");
  const session = await target.mountBlob(digestOf(absent), "mnt/src");
  assert.ok(session, "a 202 must give an upload session");
  const d = await session.upload(absent, { digest: digestOf(absent), size: absent.byteLength });
  assert.equal(d.digest, digestOf(absent));
  assert.equal((await target.headBlob(digestOf(absent)))?.size, absent.byteLength);
});

Deno.test("uploads: monolithic, chunked PATCH and streamed with the digest computed on the way", async () => {
  await using reg = await startRegistry();
  await using client = new RegistryClient();
  const repo = client.repository(reg.host, "up/x");
  const bytes = new Uint8Array(300_000).map((_, i) => (i * 7) % 251);
  const digest = digestOf(bytes);

  const a = await repo.uploadBlob(bytes, { digest, size: bytes.length });
  assert.equal(a.digest, digest);

  const other = bytes.map((b) => b ^ 0x55);
  const b = await repo.uploadBlob(new Blob([other]).stream(), undefined, { chunkSize: 64 * 1024 });
  assert.equal(b.digest, digestOf(other));
  assert.equal(b.size, other.length);
  assert.equal((await repo.headBlob(b.digest))?.size, other.length);

  const third = bytes.map((b) => b ^ 0x33);
  const c = await repo.uploadBlob(() => new Blob([third]).stream());
  assert.equal(c.digest, digestOf(third));

  const wrong = await repo.uploadBlob(new Blob([third]).stream(), { digest, size: third.length })
    .catch((e) => e);
  assert.ok(wrong instanceof Error, "uploading bytes under another digest must fail");
  const back = await repo.fetchBlobBytes({ digest: c.digest, size: c.size }, { cap: 1 << 20 });
  assert.deepEqual(back, third);
});

Deno.test("a 256 MiB streamed upload keeps peak RSS growth far below the blob size", async () => {
  await using reg = await startRegistry();
  const probe = new URL("./_helpers/upload_probe.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", probe, reg.host, String(256 * 1024 * 1024)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = text(out.stdout);
  assert.equal(out.code, 0, text(out.stderr));
  const r = JSON.parse(stdout) as {
    digest: string;
    growth: number;
    size: number;
    remoteSize: number;
  };
  assert.equal(r.remoteSize, r.size);
  assert.ok(
    r.growth < 96 * 1024 * 1024,
    `peak RSS grew by ${r.growth} bytes for a ${r.size}-byte blob`,
  );
});

Deno.test("auth: anonymous, Basic and Bearer with one multi-repository token", async (t) => {
  await t.step(
    "Basic: right credentials read, wrong ones fail with AuthError naming the flags",
    async () => {
      await using reg = await startRegistry({ auth: "basic" });
      const set = await pushFixtures(reg, { repository: "b/x", platforms: undefined });
      {
        await using client = new RegistryClient({
          username: reg.username,
          password: reg.password,
          flagRegistries: [reg.host],
          noConfig: true,
        });
        const m = await client.repository(reg.host, "b/x").getManifest(set.images[0].tag);
        assert.equal(m.descriptor.digest, set.images[0].digest);
      }
      await using bad = new RegistryClient({
        username: reg.username,
        password: "wrong",
        flagRegistries: [reg.host],
        noConfig: true,
      });
      const err = await bad.repository(reg.host, "b/x").getManifest("x").catch((e) => e);
      assert.ok(err instanceof AuthError, String(err));
      assert.match(err.message, /401 Unauthorized/);
      assert.match(err.message, /--username\/--password/);
      assert.ok(!err.message.includes("wrong"), "the password must not appear in errors");
    },
  );

  await t.step("Bearer: one token serves a push and mounts from several source repos", async () => {
    await using reg = await startRegistry({ auth: "token" });
    const a = await pushFixtures(reg, { repository: "t/a", platforms: undefined });
    const b = await pushFixtures(reg, { repository: "t/b", seed: "b", platforms: undefined });
    await using client = new RegistryClient({
      username: reg.username,
      password: reg.password,
      flagRegistries: [reg.host],
      noConfig: true,
    });
    const dst = client.repository(reg.host, "t/dst").withOptions({
      scopes: ["repository:t/dst:pull,push", "repository:t/a:pull", "repository:t/b:pull"],
    });
    const before = reg.tokenServer!.requests;
    assert.equal(await dst.mountBlob(a.images[0].layers[0].digest, "t/a"), undefined);
    assert.equal(await dst.mountBlob(b.images[0].layers[0].digest, "t/b"), undefined);
    await dst.putManifest("x", a.images[0].manifest, a.images[0].mediaType).catch(() => {});
    assert.equal(reg.tokenServer!.requests - before, 1, "one token for every scope");
    assert.equal(client.auth.tokenRequests, 1);
  });

  await t.step("Bearer: anonymous pull works where the token server allows it", async () => {
    await using reg = await startRegistry({ auth: "token", anonymousPull: true });
    const set = await pushFixtures(reg, { repository: "anon/x", platforms: undefined });
    await using client = new RegistryClient({ noConfig: true });
    const m = await client.repository(reg.host, "anon/x").getManifest(set.images[0].tag);
    assert.equal(m.descriptor.digest, set.images[0].digest);
    const err = await client.repository(reg.host, "anon/x").putManifest(
      "y",
      set.images[0].manifest,
      set.images[0].mediaType,
    )
      .catch((e) => e);
    assert.ok(err instanceof AuthError, String(err));
    assert.match(
      err.message,
      // distribution lists the actions in map order: either way round.
      /insufficient scope \(repository:anon\/x:(pull,push|push,pull)\): no credentials for 127\.0\.0\.1:\d+ were found \(docker login 127\.0\.0\.1:\d+\)/,
    );
  });
});

Deno.test("chunked uploads send chunks of at least the registry's OCI-Chunk-Min-Length, or one PATCH when that is too large to hold", async () => {
  const { startMinChunkRegistry } = await import("./_helpers/min_chunk_proxy.ts");
  await using reg = await startRegistry();
  const bytes = new Uint8Array(10_000).map((_, i) => (i * 13) % 251);
  for (
    const [min, expected] of [
      [4096, [4096, 4096, 1808]],
      [6 * 2 ** 30, [-1]],
    ] as const
  ) {
    const { proxy, patches } = await startMinChunkRegistry(reg.url, min);
    await using _ = proxy;
    await using client = new RegistryClient();
    const repo = client.repository(proxy.host, `min/c${min}`);
    const d = await repo.uploadBlob(new Blob([bytes]).stream(), undefined, { chunkSize: 1000 });
    assert.equal(d.digest, digestOf(bytes));
    assert.deepEqual(patches, expected, `min ${min}`);
    assert.equal((await repo.headBlob(d.digest))?.size, bytes.length);
  }
});

Deno.test("an upload completed with 204 (the Docker registry API v2 spec's answer) is complete", async () => {
  await using reg = await startRegistry();
  await using proxy = await rewriteUploadEnd(
    reg.url,
    (res) =>
      new Response(null, { status: res.status === 201 ? 204 : res.status, headers: res.headers }),
  );
  await using client = new RegistryClient();
  const repo = client.repository(proxy.host, "up/done");
  const bytes = new TextEncoder().encode("done with 204");
  const monolithic = await repo.uploadBlob(bytes, { digest: digestOf(bytes), size: bytes.length });
  assert.equal(monolithic.digest, digestOf(bytes));
  const other = new TextEncoder().encode("streamed, then 204");
  const streamed = await repo.uploadBlob(new Blob([other]).stream());
  assert.equal(streamed.digest, digestOf(other));
  assert.equal((await repo.headBlob(streamed.digest))?.size, other.length);
});

Deno.test("an upload the registry says it stored under another digest fails, as a manifest PUT does", async () => {
  await using reg = await startRegistry();
  const lie = `sha256:${"0".repeat(64)}`;
  await using proxy = await rewriteUploadEnd(reg.url, (res) => {
    const headers = new Headers(res.headers);
    headers.set("docker-content-digest", lie);
    return new Response(null, { status: res.status, headers });
  });
  await using client = new RegistryClient();
  const repo = client.repository(proxy.host, "up/lie");
  const bytes = new TextEncoder().encode("stored as something else");
  await assert.rejects(
    () => repo.uploadBlob(bytes, { digest: digestOf(bytes), size: bytes.length }),
    (e) => e instanceof DigestMismatchError && e.message.includes(lie),
  );
  await assert.rejects(
    () => repo.uploadBlob(new Blob([bytes]).stream()),
    (e) => e instanceof DigestMismatchError && e.message.includes(lie),
  );
});

/** A proxy in front of `upstream` whose answers to upload-completing PUTs `rewrite` replaces. */
function rewriteUploadEnd(upstream: string, rewrite: (res: Response) => Response) {
  return startProxy({
    upstream,
    async intercept({ request, forward }) {
      const res = await forward();
      if (request.method !== "PUT" || !request.url.includes("/blobs/uploads/")) return res;
      await res.body?.cancel();
      return rewrite(res);
    },
  });
}
