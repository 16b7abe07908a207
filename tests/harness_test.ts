// The harness itself: each registry variant really answers, fixtures are retrievable by digest,
// and nothing outlives stop(). These tests check the harness with fetch alone, never with lib/.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash, X509Certificate } from "node:crypto";
import { gunzipSync } from "node:zlib";
import {
  type FixtureSet,
  HarnessError,
  KIND_CAPABILITIES,
  kindStatus,
  pushFixtures,
  REGISTRY_KINDS,
  registryKinds,
  type RunningRegistry,
  skipReason,
  startRegistry,
} from "../scripts/harness/mod.ts";
import { testEachKind } from "./_helpers/kinds.ts";

const sha256 = (b: Uint8Array) => "sha256:" + createHash("sha256").update(b).digest("hex");
const ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

function basic(user: string, password: string): string {
  return "Basic " + Buffer.from(`${user}:${password}`).toString("base64");
}

/** GET a manifest or blob; returns status, headers and the exact bytes. */
async function get(
  reg: RunningRegistry,
  path: string,
  init: { authorization?: string; client?: Deno.HttpClient; method?: string } = {},
): Promise<{ status: number; headers: Headers; bytes: Uint8Array }> {
  const headers: Record<string, string> = { accept: ACCEPT };
  if (init.authorization) headers.authorization = init.authorization;
  const res = await fetch(`${reg.url}${path}`, {
    method: init.method ?? "GET",
    headers,
    ...(init.client ? { client: init.client } : {}),
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, bytes };
}

/** The token server's answer for `scopes`, with Basic credentials when given. */
async function token(
  reg: RunningRegistry,
  scopes: string[],
  authorization?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const ts = reg.tokenServer!;
  const u = new URL(ts.realm);
  u.searchParams.set("service", ts.service);
  for (const s of scopes) u.searchParams.append("scope", s);
  const res = await fetch(u, { headers: authorization ? { authorization } : {} });
  return { status: res.status, body: await res.json() };
}

function jwtParts(
  jwt: string,
): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [h, c] = jwt.split(".");
  const decode = (s: string) => JSON.parse(Buffer.from(s, "base64url").toString());
  return { header: decode(h), claims: decode(c) };
}

/** The one file of a fixture layer: gunzip, then read the ustar header by hand. */
function tarEntry(gz: Uint8Array): { tar: Uint8Array; name: string; content: string } {
  const tar = new Uint8Array(gunzipSync(gz));
  const text = (a: number, b: number) =>
    new TextDecoder().decode(tar.subarray(a, b)).replace(/\0.*$/s, "");
  assert.equal(text(257, 262), "ustar");
  const size = parseInt(text(124, 136), 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : tar[i];
  assert.equal(parseInt(text(148, 156), 8), sum, "tar header checksum");
  return { tar, name: text(0, 100), content: text(512, 512 + size) };
}

const PLATFORMS_2 = [
  { os: "linux", architecture: "amd64" },
  { os: "linux", architecture: "arm64", variant: "v8" },
];

async function registryProcessRunning(reg: RunningRegistry): Promise<boolean | undefined> {
  try {
    // distribution: `serve DIR/config.yml`; go-containerregistry: `--disk DIR/data`.
    const out = await new Deno.Command("pgrep", {
      args: ["-f", `(serve ${reg.dir}/config.yml|--disk ${reg.dir}/data)`],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.code === 0;
  } catch {
    return undefined; // no pgrep here: nothing to say
  }
}

/** Checks every image and the index of `set` by digest: bytes, media types, configs, layers. */
async function assertRetrievable(reg: RunningRegistry, set: FixtureSet, format: "oci" | "docker") {
  const types = format === "oci"
    ? {
      manifest: "application/vnd.oci.image.manifest.v1+json",
      config: "application/vnd.oci.image.config.v1+json",
      layer: "application/vnd.oci.image.layer.v1.tar+gzip",
      index: "application/vnd.oci.image.index.v1+json",
    }
    : {
      manifest: "application/vnd.docker.distribution.manifest.v2+json",
      config: "application/vnd.docker.container.image.v1+json",
      layer: "application/vnd.docker.image.rootfs.diff.tar.gzip",
      index: "application/vnd.docker.distribution.manifest.list.v2+json",
    };
  for (const img of set.images) {
    assert.equal(img.mediaType, types.manifest);
    const m = await get(reg, `/v2/${img.repository}/manifests/${img.digest}`);
    assert.equal(m.status, 200);
    assert.equal(m.headers.get("content-type"), img.mediaType);
    assert.equal(m.headers.get("docker-content-digest"), img.digest);
    assert.deepEqual(m.bytes, img.manifest, "the exact bytes pushed");
    assert.equal(sha256(m.bytes), img.digest);
    assert.equal(m.bytes.length, img.size);
    assert.equal(m.bytes.at(-1), 0x0a, "manifests end with a newline by default");
    const byTag = await get(reg, `/v2/${img.repository}/manifests/${img.tag}`);
    assert.equal(sha256(byTag.bytes), img.digest, `tag ${img.tag} names the image`);

    const manifest = JSON.parse(new TextDecoder().decode(m.bytes));
    assert.equal(manifest.schemaVersion, 2);
    assert.equal(manifest.mediaType, types.manifest);
    assert.deepEqual(manifest.config, {
      mediaType: types.config,
      digest: img.config.digest,
      size: img.config.size,
    });
    assert.deepEqual(manifest.layers, img.layers);

    const c = await get(reg, `/v2/${img.repository}/blobs/${img.config.digest}`);
    assert.equal(c.status, 200);
    assert.equal(sha256(c.bytes), img.config.digest);
    assert.deepEqual(c.bytes, img.config.bytes);
    const config = JSON.parse(new TextDecoder().decode(c.bytes));
    assert.equal(config.os, img.platform.os);
    assert.equal(config.architecture, img.platform.architecture);
    assert.equal(config.variant, img.platform.variant);
    assert.equal(config["os.version"], img.platform["os.version"]);
    assert.equal(config.rootfs.type, "layers");
    assert.ok(Array.isArray(config.config.Cmd));
    assert.equal(config.rootfs.diff_ids.length, img.layers.length);

    const names: string[] = [];
    for (const [i, layer] of img.layers.entries()) {
      assert.equal(layer.mediaType, types.layer);
      const l = await get(reg, `/v2/${img.repository}/blobs/${layer.digest}`);
      assert.equal(l.status, 200);
      assert.equal(sha256(l.bytes), layer.digest);
      assert.equal(l.bytes.length, layer.size);
      const entry = tarEntry(l.bytes);
      assert.equal(sha256(entry.tar), config.rootfs.diff_ids[i], "diff_id is the tar's digest");
      names.push(entry.name);
    }
    const p = img.platform;
    assert.deepEqual(names, [
      "etc/fixture-base",
      `etc/fixture-${[p.os, p.architecture, p.variant].filter(Boolean).join("-")}`,
    ]);
  }
  const base = new Set(set.images.map((i) => i.layers[0].digest));
  assert.equal(base.size, 1, "every image shares its base layer");

  const index = set.index!;
  assert.equal(index.mediaType, types.index);
  const ix = await get(reg, `/v2/${index.repository}/manifests/${index.tag}`);
  assert.equal(ix.status, 200);
  assert.equal(ix.headers.get("content-type"), types.index);
  assert.deepEqual(ix.bytes, index.bytes);
  assert.equal(sha256(ix.bytes), index.digest);
  const byDigest = await get(reg, `/v2/${index.repository}/manifests/${index.digest}`);
  assert.equal(byDigest.status, 200);
  const doc = JSON.parse(new TextDecoder().decode(ix.bytes));
  assert.equal(doc.mediaType, types.index);
  const images = doc.manifests.filter(
    (d: { annotations?: Record<string, string> }) =>
      d.annotations?.["vnd.docker.reference.type"] !== "attestation-manifest",
  );
  assert.deepEqual(
    images.map((d: { digest: string; platform: unknown }) => [d.digest, d.platform]),
    set.images.map((i) => [i.digest, i.platform]),
  );
  for (const d of doc.manifests) {
    const child = await get(reg, `/v2/${index.repository}/manifests/${d.digest}`);
    assert.equal(child.status, 200, `child ${d.digest} is in the index's repository`);
    assert.equal(sha256(child.bytes), d.digest);
    assert.equal(child.bytes.length, d.size);
  }
  return doc;
}

Deno.test("plain registry answers /v2/ with 200, logs to a file and leaves nothing after stop()", async () => {
  const reg = await startRegistry();
  try {
    assert.equal(reg.tls, false);
    assert.equal(reg.auth, "none");
    assert.match(reg.host, /^127\.0\.0\.1:\d+$/);
    assert.equal(reg.url, `http://${reg.host}`);
    assert.equal(reg.username, undefined);
    const res = await get(reg, "/v2/");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("docker-distribution-api-version"), "registry/2.0");
    const missing = await get(reg, "/v2/no/such/manifests/latest");
    assert.equal(missing.status, 404);
    assert.equal(await registryProcessRunning(reg) ?? true, true);
  } finally {
    await reg.stop();
  }
  await reg.stop(); // idempotent
  const gone = await fetch(`${reg.url}/v2/`).then((r) => r.body?.cancel(), (e) => e);
  assert.ok(gone instanceof Error, "the port no longer answers");
  await assert.rejects(Deno.stat(reg.dir), Deno.errors.NotFound);
  assert.equal(await registryProcessRunning(reg) ?? false, false, "no docker-registry survives");
});

Deno.test("registry stderr goes to registry.log in its directory, not the console", async () => {
  await using reg = await startRegistry();
  await get(reg, "/v2/no/such/manifests/latest");
  // The registry logs request errors at warn level asynchronously: give it a moment.
  let log = "";
  for (let i = 0; i < 40 && !log.includes("manifest unknown"); i++) {
    log = await Deno.readTextFile(`${reg.dir}/registry.log`);
    if (!log.includes("manifest unknown")) await new Promise((r) => setTimeout(r, 25));
  }
  assert.match(log, /manifest unknown/);
});

Deno.test("basic-auth registry challenges with Basic realm and takes the harness credentials", async () => {
  await using reg = await startRegistry({ auth: "basic" });
  assert.equal(reg.username, "testuser");
  assert.ok(reg.password && reg.password.length >= 16, "a random password");
  const res = await get(reg, "/v2/");
  assert.equal(res.status, 401);
  assert.match(res.headers.get("www-authenticate") ?? "", /^Basic realm="harness"/);
  const ok = await get(reg, "/v2/", { authorization: basic(reg.username!, reg.password!) });
  assert.equal(ok.status, 200);
  const wrong = await get(reg, "/v2/", { authorization: basic(reg.username!, "wrong") });
  assert.equal(wrong.status, 401);
  const set = await pushFixtures(reg, {
    repository: "b/app",
    platforms: [{ os: "linux", architecture: "amd64" }],
  });
  const m = await get(reg, `/v2/b/app/manifests/${set.images[0].digest}`, {
    authorization: basic(reg.username!, reg.password!),
  });
  assert.equal(sha256(m.bytes), set.images[0].digest);
  await assert.rejects(
    pushFixtures(reg, { repository: "b/x", auth: { username: "testuser", password: "wrong" } }),
    /401/,
  );
});

Deno.test("token registry challenges with Bearer realm and service of the harness token server", async (t) => {
  await using reg = await startRegistry({ auth: "token" });
  const ts = reg.tokenServer!;
  const user = basic(reg.username!, reg.password!);
  const set = await pushFixtures(reg, {
    repository: "tok/app",
    platforms: [{ os: "linux", architecture: "amd64" }],
  });
  const img = set.images[0];

  await t.step("GET /v2/ names realm and service, no scope", async () => {
    const res = await get(reg, "/v2/");
    assert.equal(res.status, 401);
    const h = res.headers.get("www-authenticate") ?? "";
    assert.match(h, /^Bearer /);
    assert.ok(h.includes(`realm="${ts.realm}"`), h);
    assert.ok(h.includes(`service="${ts.service}"`), h);
    assert.ok(!h.includes("scope="), h);
    assert.ok(ts.realm.startsWith("http://127.0.0.1:"));
  });

  await t.step("a manifest GET is challenged for repository:R:pull", async () => {
    const res = await get(reg, `/v2/tok/app/manifests/${img.digest}`);
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate") ?? "", /scope="repository:tok\/app:pull"/);
  });

  await t.step("the user's token opens the repository; each token request is counted", async () => {
    const before = ts.requests;
    const tok = await token(reg, ["repository:tok/app:pull"], user);
    assert.equal(tok.status, 200);
    assert.equal(ts.requests, before + 1);
    assert.equal(tok.body.token, tok.body.access_token);
    assert.equal(tok.body.expires_in, 300);
    assert.ok(!Number.isNaN(Date.parse(tok.body.issued_at as string)));
    const m = await get(reg, `/v2/tok/app/manifests/${img.digest}`, {
      authorization: `Bearer ${tok.body.token}`,
    });
    assert.equal(m.status, 200);
    assert.equal(sha256(m.bytes), img.digest);
    assert.equal(ts.log.at(-1)?.status, 200);
    assert.equal(ts.log.at(-1)?.user, "testuser");
  });

  await t.step(
    "JWT: RS256 with x5c, aud is the service as a string, every scope asked",
    async () => {
      const tok = await token(reg, [
        "repository:tok/app:pull,push repository:tok/other:pull",
        "repository:tok/third:delete",
      ], user);
      const { header, claims } = jwtParts(tok.body.token as string);
      assert.equal(header.alg, "RS256");
      assert.equal(header.typ, "JWT");
      assert.ok(Array.isArray(header.x5c) && header.x5c.length === 1);
      assert.equal(claims.aud, ts.service);
      assert.equal(claims.sub, "testuser");
      for (const k of ["iss", "exp", "nbf", "iat", "jti"]) assert.ok(k in claims, k);
      assert.deepEqual(claims.access, [
        { type: "repository", name: "tok/app", actions: ["pull", "push"] },
        { type: "repository", name: "tok/other", actions: ["pull"] },
        { type: "repository", name: "tok/third", actions: ["delete"] },
      ]);
    },
  );

  await t.step("bad credentials get 401 from the token server", async () => {
    const bad = await token(reg, ["repository:tok/app:pull"], basic(reg.username!, "wrong"));
    assert.equal(bad.status, 401);
    assert.equal(ts.log.at(-1)?.status, 401);
  });

  await t.step(
    "an anonymous token has no access: the registry answers insufficient_scope",
    async () => {
      const anon = await token(reg, ["repository:tok/app:pull"]);
      assert.equal(anon.status, 200);
      assert.deepEqual(jwtParts(anon.body.token as string).claims.access, []);
      const m = await get(reg, `/v2/tok/app/manifests/${img.digest}`, {
        authorization: `Bearer ${anon.body.token}`,
      });
      assert.equal(m.status, 401);
      assert.match(m.headers.get("www-authenticate") ?? "", /error="insufficient_scope"/);
    },
  );

  await t.step(
    "OAuth2 POST: password grant with offline access, then refresh_token grant",
    async () => {
      const post = (form: Record<string, string>) =>
        fetch(ts.realm, { method: "POST", body: new URLSearchParams(form) })
          .then(async (r) => ({ status: r.status, body: await r.json() }));
      const first = await post({
        grant_type: "password",
        username: reg.username!,
        password: reg.password!,
        service: ts.service,
        scope: "repository:tok/app:pull",
        access_type: "offline",
        client_id: "harness-test",
      });
      assert.equal(first.status, 200);
      assert.equal(typeof first.body.refresh_token, "string");
      const refreshed = await post({
        grant_type: "refresh_token",
        refresh_token: first.body.refresh_token,
        service: ts.service,
        scope: "repository:tok/app:pull",
      });
      assert.equal(refreshed.status, 200);
      const m = await get(reg, `/v2/tok/app/manifests/${img.digest}`, {
        authorization: `Bearer ${refreshed.body.access_token}`,
      });
      assert.equal(m.status, 200);
      // docker's identity-token form: GET with Basic `<token>:<refresh token>`.
      const viaGet = await token(
        reg,
        ["repository:tok/app:pull"],
        basic("<token>", first.body.refresh_token),
      );
      assert.equal(viaGet.status, 200);
      assert.equal(
        (await post({ grant_type: "refresh_token", refresh_token: "nope" })).status,
        401,
      );
      assert.equal(
        (await post({ grant_type: "password", username: "x", password: "y" })).status,
        401,
      );
      assert.equal((await post({ grant_type: "client_credentials" })).status, 400);
    },
  );

  await t.step("a token from another registry's token server is refused", async () => {
    await using other = await startRegistry({ auth: "token" });
    const foreign = await token(
      other,
      ["repository:tok/app:pull"],
      basic(other.username!, other.password!),
    );
    const m = await get(reg, `/v2/tok/app/manifests/${img.digest}`, {
      authorization: `Bearer ${foreign.body.token}`,
    });
    assert.equal(m.status, 401);
  });
});

Deno.test("token registry with anonymousPull lets anonymous clients pull but not push", async () => {
  await using reg = await startRegistry({ auth: "token", anonymousPull: true });
  const set = await pushFixtures(reg, {
    repository: "anon/app",
    platforms: [{ os: "linux", architecture: "arm64", variant: "v8" }],
  });
  const anon = await token(reg, ["repository:anon/app:pull,push"]);
  assert.deepEqual(jwtParts(anon.body.token as string).claims.access, [
    { type: "repository", name: "anon/app", actions: ["pull"] },
  ]);
  const authorization = `Bearer ${anon.body.token}`;
  const m = await get(reg, `/v2/anon/app/manifests/${set.images[0].digest}`, { authorization });
  assert.equal(m.status, 200);
  const upload = await fetch(`${reg.url}/v2/anon/app/blobs/uploads/`, {
    method: "POST",
    headers: { authorization },
  });
  await upload.body?.cancel();
  assert.equal(upload.status, 401);
});

Deno.test("TLS registry is trusted with the harness CA and refused without it", async (t) => {
  await using reg = await startRegistry({ tls: true });
  assert.equal(reg.tls, true);
  assert.equal(reg.url, `https://${reg.host}`);
  assert.equal(await Deno.readTextFile(reg.caFile!), reg.caPem);
  const port = reg.host.split(":")[1];

  await t.step("trusted with the CA, by IP and by localhost", async () => {
    const client = Deno.createHttpClient({ caCerts: [reg.caPem!] });
    try {
      for (const url of [reg.url, `https://localhost:${port}`]) {
        const res = await fetch(`${url}/v2/`, { client });
        await res.body?.cancel();
        assert.equal(res.status, 200, url);
      }
    } finally {
      client.close();
    }
  });

  await t.step("refused without it", async () => {
    const err = await fetch(`${reg.url}/v2/`).then((r) => r.body?.cancel(), (e) => e);
    assert.ok(err instanceof TypeError, `an unknown CA must be refused: ${err}`);
    assert.match(String(err.cause ?? err.message), /certificate|UnknownIssuer/i);
  });

  await t.step("the certificate names 127.0.0.1, localhost and ::1 and is signed by the CA", () => {
    const cert = new X509Certificate(Deno.readTextFileSync(`${reg.dir}/server.crt`));
    const ca = new X509Certificate(reg.caPem!);
    assert.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey));
    assert.equal(cert.checkIP("127.0.0.1"), "127.0.0.1");
    assert.equal(cert.checkIP("::1"), "::1");
    assert.equal(cert.checkHost("localhost"), "localhost");
    assert.ok(ca.ca && !cert.ca);
  });

  await t.step("plain HTTP to the TLS port gets no registry answer", async () => {
    const res = await fetch(`http://${reg.host}/v2/`).then(
      async (r) => ({ status: r.status, body: await r.text() }),
      (e) => e,
    );
    assert.ok(res instanceof Error || res.status === 400, JSON.stringify(res));
  });
});

Deno.test("TLS and token auth together carry fixtures", async () => {
  await using reg = await startRegistry({ tls: true, auth: "token" });
  const set = await pushFixtures(reg, {
    repository: "tt/app",
    platforms: [{ os: "linux", architecture: "s390x" }],
  });
  const client = Deno.createHttpClient({ caCerts: [reg.caPem!] });
  try {
    const tok = await token(reg, ["repository:tt/app:pull"], basic(reg.username!, reg.password!));
    const m = await get(reg, `/v2/tt/app/manifests/${set.images[0].digest}`, {
      client,
      authorization: `Bearer ${tok.body.token}`,
    });
    assert.equal(m.status, 200);
    assert.equal(sha256(m.bytes), set.images[0].digest);
  } finally {
    client.close();
  }
});

Deno.test("fixtures are retrievable by digest in OCI and Docker media types", async (t) => {
  await using reg = await startRegistry();
  await t.step("OCI images, index and buildx-style attestations", async () => {
    const set = await pushFixtures(reg, {
      format: "oci",
      repository: "fx/oci",
      index: { tag: "multi", attestations: true },
    });
    assert.equal(set.images.length, 6);
    assert.deepEqual(set.images.map((i) => i.tag), [
      "linux-amd64",
      "linux-arm64-v8",
      "linux-arm-v7",
      "linux-ppc64le",
      "linux-s390x",
      "windows-amd64",
    ]);
    assert.equal(set.images[5].platform["os.version"], "10.0.17763.1234");
    const doc = await assertRetrievable(reg, set, "oci");
    const atts = doc.manifests.slice(6);
    assert.equal(atts.length, 6);
    assert.deepEqual(
      set.index!.attestations.map((a) => a.attests),
      set.images.map((i) => i.digest),
    );
    for (const [i, a] of atts.entries()) {
      assert.deepEqual(a.platform, { architecture: "unknown", os: "unknown" });
      assert.equal(a.annotations["vnd.docker.reference.type"], "attestation-manifest");
      assert.equal(a.annotations["vnd.docker.reference.digest"], set.images[i].digest);
      assert.equal(a.digest, set.index!.attestations[i].digest);
    }
  });

  await t.step("Docker v2.2 images and manifest list", async () => {
    const set = await pushFixtures(reg, {
      format: "docker",
      repository: "fx/docker",
      index: { tag: "multi" },
    });
    await assertRetrievable(reg, set, "docker");
    assert.deepEqual(set.index!.attestations, []);
  });

  await t.step(
    "repos layout: one repository per platform, children copied under the index",
    async () => {
      const set = await pushFixtures(reg, {
        format: "docker",
        layout: "repos",
        repository: "fx/per",
        index: { tag: "all" },
        seed: "per",
      });
      assert.deepEqual(set.images.map((i) => `${i.repository}:${i.tag}`).slice(0, 3), [
        "fx/per-linux-amd64:latest",
        "fx/per-linux-arm64-v8:latest",
        "fx/per-linux-arm-v7:latest",
      ]);
      await assertRetrievable(reg, set, "docker");
      for (const img of set.images) {
        for (const b of [img.config, ...img.layers]) {
          const h = await get(reg, `/v2/fx/per/blobs/${b.digest}`, { method: "HEAD" });
          assert.equal(h.status, 200, `${b.digest} mounted into fx/per`);
        }
      }
    },
  );

  await t.step(
    "same seed, same digests; another seed, other digests; no newline on request",
    async () => {
      const one = [{ os: "linux", architecture: "amd64" }];
      const a = await pushFixtures(reg, { repository: "fx/seed", platforms: one });
      const b = await pushFixtures(reg, { repository: "fx/seed", platforms: one });
      const c = await pushFixtures(reg, { repository: "fx/seed", platforms: one, seed: "c" });
      assert.equal(a.images[0].digest, b.images[0].digest);
      assert.notEqual(a.images[0].digest, c.images[0].digest);
      assert.notEqual(a.images[0].layers[0].digest, c.images[0].layers[0].digest);
      const bare = await pushFixtures(reg, {
        repository: "fx/bare",
        platforms: one,
        trailingNewline: false,
        sharedBaseLayer: false,
      });
      assert.notEqual(bare.images[0].manifest.at(-1), 0x0a);
      assert.equal(bare.images[0].layers.length, 1);
      const m = await get(reg, `/v2/fx/bare/manifests/${bare.images[0].digest}`);
      assert.deepEqual(m.bytes, bare.images[0].manifest);
    },
  );

  await t.step("attestations in a Docker list are refused", async () => {
    await assert.rejects(
      pushFixtures(reg, { format: "docker", index: { tag: "x", attestations: true } }),
      /OCI only/,
    );
  });
});

Deno.test("a large fixture layer is streamed and retrievable by digest", async () => {
  await using reg = await startRegistry();
  const bytes = 5 * 1024 * 1024 + 3;
  const set = await pushFixtures(reg, {
    repository: "fx/large",
    platforms: [{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm64" }],
    largeLayerBytes: bytes,
    index: { tag: "multi" },
  });
  const [first, second] = set.images;
  assert.equal(second.layers.length, 2, "only the first image gets the large layer");
  const large = first.layers[2];
  assert.equal(large.size, bytes);
  assert.equal(large.mediaType, "application/vnd.oci.image.layer.v1.tar");
  const config = JSON.parse(new TextDecoder().decode(first.config.bytes));
  assert.equal(config.rootfs.diff_ids[2], large.digest, "uncompressed: digest is the diff_id");
  const res = await fetch(`${reg.url}/v2/fx/large/blobs/${large.digest}`);
  assert.equal(res.status, 200);
  const hash = createHash("sha256");
  let size = 0;
  const distinct = new Set<string>();
  for await (const chunk of res.body!) {
    hash.update(chunk);
    size += chunk.length;
    if (distinct.size < 64) distinct.add(Buffer.from(chunk.subarray(0, 16)).toString("hex"));
  }
  assert.equal(size, bytes);
  assert.equal("sha256:" + hash.digest("hex"), large.digest);
  const again = await pushFixtures(reg, {
    repository: "fx/large2",
    platforms: [{ os: "linux", architecture: "amd64" }],
    largeLayerBytes: bytes,
  });
  assert.equal(again.images[0].layers[2].digest, large.digest, "deterministic content");
});

Deno.test("deletes are enabled by default and refused when disabled", async (t) => {
  for (const deletes of [true, false]) {
    await t.step(`deletes: ${deletes}`, async () => {
      await using reg = await startRegistry({ deletes });
      const set = await pushFixtures(reg, {
        repository: "del/app",
        platforms: [{ os: "linux", architecture: "amd64" }],
      });
      const res = await fetch(`${reg.url}/v2/del/app/manifests/${set.images[0].digest}`, {
        method: "DELETE",
      });
      await res.body?.cancel();
      assert.equal(res.status, deletes ? 202 : 405);
    });
  }
});

Deno.test("startRegistry fails with one line naming docker-registry when no binary is found", async () => {
  const saved = Deno.env.get("REGISTRY_BIN");
  Deno.env.set("REGISTRY_BIN", "/nonexistent/docker-registry");
  try {
    const err = await startRegistry().then(() => undefined, (e) => e);
    assert.ok(err instanceof HarnessError, String(err));
    assert.match(err.message, /docker-registry/);
    assert.match(err.message, /apt-get install -y docker-registry/);
    assert.match(err.message, /REGISTRY_BIN/);
    assert.ok(!err.message.includes("\n"), err.message);
  } finally {
    if (saved === undefined) Deno.env.delete("REGISTRY_BIN");
    else Deno.env.set("REGISTRY_BIN", saved);
  }
  const viaOption = await startRegistry({ binary: "/nonexistent/registry" }).then(
    () => undefined,
    (e) => e,
  );
  assert.ok(viaOption instanceof HarnessError);
  assert.ok(!viaOption.message.includes("\n"));
});

Deno.test("a registry that cannot start fails with one line holding the tail of its log", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mt-fake-registry-" });
  try {
    const fake = `${dir}/registry`;
    await Deno.writeTextFile(fake, "#!/bin/sh\necho 'configuration error: nope' >&2\nexit 1\n");
    await Deno.chmod(fake, 0o755);
    const err = await startRegistry({ binary: fake }).then(() => undefined, (e) => e);
    assert.ok(err instanceof HarnessError, String(err));
    assert.match(err.message, /did not start.*configuration error: nope/);
    assert.ok(!err.message.includes("\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const SKOPEO = (() => {
  try {
    return new Deno.Command("skopeo", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "skopeo reads fixtures from the token registry with the harness credentials",
  ignore: !SKOPEO,
  async fn() {
    await using reg = await startRegistry({ auth: "token" });
    const set = await pushFixtures(reg, {
      repository: "sk/app",
      platforms: [{ os: "linux", architecture: "arm", variant: "v7" }],
      index: { tag: "multi" },
    });
    const skopeo = async (...args: string[]) => {
      const out = await new Deno.Command("skopeo", {
        args: ["inspect", "--tls-verify=false", ...args],
        stdin: "null",
      }).output();
      const text = (b: Uint8Array) => new TextDecoder().decode(b);
      return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
    };
    const creds = `--creds=${reg.username}:${reg.password}`;
    const raw = await skopeo("--raw", creds, `docker://${reg.host}/sk/app:multi`);
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(sha256(new TextEncoder().encode(raw.stdout)), set.index!.digest);
    const info = await skopeo(creds, `docker://${reg.host}/sk/app:linux-arm-v7`);
    assert.equal(info.code, 0, info.stderr);
    assert.equal(JSON.parse(info.stdout).Digest, set.images[0].digest);
    const wrong = await skopeo("--creds=testuser:wrong", `docker://${reg.host}/sk/app:multi`);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /unauthorized|invalid username\/password/i);
  },
});

Deno.test("registryKinds() lists the four kinds, each installed with a binary or with a reason", async () => {
  const kinds = await registryKinds();
  assert.deepEqual(kinds.map((k) => k.kind), [...REGISTRY_KINDS]);
  for (const k of kinds) {
    assert.deepEqual(k.capabilities, KIND_CAPABILITIES[k.kind]);
    if (k.installed) assert.ok(k.binary && (await Deno.stat(k.binary)).isFile, k.kind);
    else assert.match(k.reason ?? "", new RegExp(`^${k.kind}.*(install|go)`), k.kind);
  }
  assert.equal((await kindStatus("distribution-2")).installed, true, "the default kind is here");
  assert.equal(await skipReason("distribution-2", ["auth", "tls", "mount"]), undefined);
  const ggcr = await kindStatus("ggcr");
  if (ggcr.installed) {
    assert.equal(await skipReason("ggcr", ["mount", "auth"]), "ggcr has no mount, auth");
  }
});

Deno.test("go-containerregistry kinds refuse TLS, auth and disabled deletes with one line", async () => {
  for (const kind of ["ggcr", "ggcr-referrers"] as const) {
    if (!(await kindStatus(kind)).installed) continue;
    for (const opts of [{ tls: true }, { auth: "token" as const }, { deletes: false }]) {
      const err = await startRegistry({ kind, ...opts }).then(() => undefined, (e) => e);
      assert.ok(err instanceof HarnessError, String(err));
      assert.ok(err.message.includes(kind) && !err.message.includes("\n"), err.message);
    }
  }
});

/** POST a cross-repo mount of `digest` from `from` into `to`; cancels any session it opened. */
async function mountStatus(reg: RunningRegistry, digest: string, from: string, to: string) {
  const res = await fetch(
    `${reg.url}/v2/${to}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${from}`,
    { method: "POST" },
  );
  await res.body?.cancel();
  const loc = res.headers.get("location");
  if (res.status === 202 && loc) {
    await fetch(new URL(loc, reg.url), { method: "DELETE" }).then((r) => r.body?.cancel());
  }
  return res.status;
}

await testEachKind(
  "starts, carries fixtures, does what KIND_CAPABILITIES says and leaves no process",
  async (t, kind) => {
    const reg = await startRegistry({ kind });
    try {
      assert.equal(reg.kind, kind);
      assert.deepEqual(reg.capabilities, KIND_CAPABILITIES[kind]);
      assert.match(reg.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(await registryProcessRunning(reg) ?? true, true);
      const set = await pushFixtures(reg, {
        layout: "repos",
        repository: "kinds/app",
        platforms: PLATFORMS_2,
        index: { tag: "multi", attestations: true },
      });
      await t.step("fixtures are retrievable by digest", async () => {
        await assertRetrievable(reg, set, "oci");
      });
      const layer = set.images[0].layers[1].digest; // the image's own layer, in its repo only
      await t.step(`mount: ${reg.capabilities!.mount ? "201" : "202"}`, async () => {
        const status = await mountStatus(reg, layer, set.images[0].repository, "kinds/other");
        assert.equal(status, reg.capabilities!.mount ? 201 : 202);
      });
      await t.step(`referrers API: ${reg.capabilities!.referrers ? "200" : "404"}`, async () => {
        const res = await get(reg, `/v2/kinds/app/referrers/${set.index!.digest}`);
        assert.equal(res.status, reg.capabilities!.referrers ? 200 : 404);
      });
      await t.step("DELETE of a manifest by digest: 202", async () => {
        const res = await get(reg, `/v2/kinds/app/manifests/${set.index!.digest}`, {
          method: "DELETE",
        });
        assert.equal(res.status, 202);
        assert.equal((await get(reg, `/v2/kinds/app/manifests/${set.index!.digest}`)).status, 404);
      });
    } finally {
      await reg.stop();
    }
    await assert.rejects(Deno.stat(reg.dir), Deno.errors.NotFound);
    assert.equal(await registryProcessRunning(reg) ?? false, false, `no ${kind} process survives`);
  },
);

await testEachKind("serves TLS with the harness CA and token auth", async (_t, kind) => {
  await using reg = await startRegistry({ kind, tls: true, auth: "token" });
  const client = Deno.createHttpClient({ caCerts: [reg.caPem!] });
  try {
    const res = await fetch(`${reg.url}/v2/`, { client });
    await res.body?.cancel();
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer realm=/);
  } finally {
    client.close();
  }
  const set = await pushFixtures(reg, { repository: "tls/app", platforms: PLATFORMS_2 });
  assert.equal(set.images.length, 2);
}, { needs: ["tls", "auth"] });
