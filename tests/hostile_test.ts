// Issue #13: what a hostile registry must not get from us, and how long it may hold us. Each
// test fails on the code before the fix. Real registries (harness) where they can play the part;
// the in-process hostile server (tests/_helpers/hostile.ts) or the harness recorder for the rest.
import assert from "node:assert/strict";
import {
  type Fault,
  pushFixtures,
  type Recorder,
  startProxy,
  startRecorder,
  startRegistry,
} from "../scripts/harness/mod.ts";
import { RegistryClient } from "../lib/registry/client.ts";
import { digestOf } from "../lib/digest.ts";
import { runCli } from "./_helpers/cli.ts";
import { startHostile, trickle } from "./_helpers/hostile.ts";
import { runBounded } from "./_helpers/bounded_cli.ts";

/** Another origin playing upload storage: PATCH 202 (Location back to itself), PUT 201. */
function uploadSink(): Promise<Recorder> {
  return startRecorder({
    serve: async (req) => {
      await req.body?.pipeTo(new WritableStream()).catch(() => {});
      const path = new URL(req.url).pathname;
      if (req.method === "PATCH") {
        return new Response(null, { status: 202, headers: { location: path, range: "0-0" } });
      }
      if (req.method === "PUT") return new Response(null, { status: 201 });
      return new Response(null, { status: 204 });
    },
  });
}

/** A proxy fault: every upload POST (mounts too) answers 202 with a Location on `sink`. */
function sendUploadsTo(sink: Recorder): Fault {
  return {
    type: "respond",
    respond: () =>
      new Response(null, {
        status: 202,
        headers: { location: `${sink.url}/upload/x?_state=abc`, "docker-upload-uuid": "x" },
      }),
  };
}

Deno.test("an upload Location on another origin gets no Authorization (library: monolithic, streamed, chunked)", async () => {
  await using reg = await startRegistry({ auth: "basic" });
  await using sink = await uploadSink();
  await using proxy = await startProxy({
    upstream: reg.url,
    faults: [{ method: "POST", kind: "upload", fault: sendUploadsTo(sink) }],
  });
  await using client = new RegistryClient({
    plainHttp: [proxy.host],
    username: reg.username,
    password: reg.password,
    flagRegistries: [proxy.host],
    noConfig: true,
  });
  const repo = client.repository(proxy.host, "a/b");
  const bytes = new TextEncoder().encode("hello hostile world");
  const expected = { digest: digestOf(bytes), size: bytes.byteLength };
  // Learn the registry's challenge first, so that every request to it carries credentials.
  assert.equal(await repo.headBlob(expected.digest), undefined);
  await repo.uploadBlob(bytes, expected);
  await repo.uploadBlob(new Blob([bytes]).stream());
  await repo.uploadBlob(bytes, expected, { chunkSize: 5 });
  assert.ok(sink.requests.length >= 6, JSON.stringify(sink.requests));
  assert.ok(sink.requests.some((r) => r.method === "PATCH"));
  assert.equal(sink.sawAuthorization(), false, JSON.stringify(sink.requests));
  assert.ok(proxy.log.some((e) => e.authorization), "the registry itself still gets credentials");
});

Deno.test("push and check-registry send no credentials to an upload Location on another origin", async () => {
  await using reg = await startRegistry({ auth: "basic" });
  const set = await pushFixtures(reg, {
    repository: "src/app",
    platforms: [{ os: "linux", architecture: "amd64" }],
  });
  await using sink = await uploadSink();
  await using proxy = await startProxy({
    upstream: reg.url,
    faults: [{ method: "POST", kind: "upload", fault: sendUploadsTo(sink) }],
  });
  const creds = ["--username", reg.username!, "--password", reg.password!];
  const push = await runCli([
    "--plain-http",
    ...creds,
    "push",
    "from-args",
    "--platforms",
    "linux/amd64",
    "--template",
    `${proxy.host}/${set.images[0].repository}:${set.images[0].tag.replace("amd64", "ARCH")}`,
    "--target",
    `${proxy.host}/dst/app:1`,
  ]);
  const afterPush = sink.requests.length;
  assert.ok(afterPush > 0, `the push uploaded to the sink: ${push.stderr}`);
  const check = await runCli(["--plain-http", ...creds, "check-registry", `${proxy.host}/chk`]);
  assert.ok(
    sink.requests.length > afterPush,
    `check-registry uploaded to the sink: ${check.stderr}`,
  );
  assert.equal(sink.sawAuthorization(), false, JSON.stringify(sink.requests));
  for (const r of [push, check]) {
    assert.ok(!r.stderr.includes(reg.password!), "no password in messages");
  }
});

const MANIFEST = JSON.stringify({
  schemaVersion: 2,
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: {
    mediaType: "application/vnd.oci.image.config.v1+json",
    digest: "sha256:" + "a".repeat(64),
    size: 2,
  },
  layers: [],
});

/** One line on stderr (a trailing newline allowed). */
function oneLine(stderr: string): boolean {
  return stderr.trim().split("\n").length === 1;
}

Deno.test("--timeout 2: a manifest trickling one byte a second fails near the timeout", async () => {
  await using server = await startHostile((req, _seen, s) => {
    if (new URL(req.url).pathname === "/v2/") return Response.json({});
    return new Response(trickle(MANIFEST, 1000, s.stopping, true), {
      headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
    });
  });
  const r = await runBounded(["--plain-http", "--timeout", "2", "inspect", `${server.host}/a/b:1`]);
  assert.equal(r.code, 1, r.stderr);
  assert.ok(oneLine(r.stderr), r.stderr);
  assert.match(r.stderr, /--timeout/);
  assert.ok(r.ms < 30_000, `took ${Math.round(r.ms)} ms`);
});

Deno.test("--timeout 2: a token response trickling one byte a second fails near the timeout", async () => {
  await using server = await startHostile((req, _seen, s) => {
    const path = new URL(req.url).pathname;
    if (path === "/token") {
      return new Response(trickle(`{"token":"${"t".repeat(64)}"}`, 1000, s.stopping, true));
    }
    return new Response(null, {
      status: 401,
      headers: {
        "www-authenticate": `Bearer realm="${s.url}/token",service="hostile"`,
      },
    });
  });
  const r = await runBounded(["--plain-http", "--timeout", "2", "inspect", `${server.host}/a/b:1`]);
  assert.equal(r.code, 1, r.stderr);
  assert.ok(oneLine(r.stderr), r.stderr);
  assert.match(r.stderr, /--timeout/);
  assert.ok(r.ms < 30_000, `took ${Math.round(r.ms)} ms`);
});

Deno.test("a blob body trickling one byte a second fails with a TimeoutError near timeoutMs", async () => {
  await using server = await startHostile((_req, _seen, s) =>
    new Response(trickle("blob", 1000, s.stopping, true))
  );
  await using client = new RegistryClient({
    plainHttp: [server.host],
    noConfig: true,
    timeoutMs: 2000,
  });
  const started = performance.now();
  const stream = await client.repository(server.host, "a/b").fetchBlob({
    digest: "sha256:" + "b".repeat(64),
  });
  const err = await new Response(stream).arrayBuffer().catch((e) => e);
  assert.equal(err?.name, "TimeoutError", String(err));
  assert.match(err.message, /bytes\/s/);
  assert.ok(performance.now() - started < 30_000);
});

Deno.test("a docker config registrytoken with a line break is refused naming the file, never printed", async () => {
  await using server = await startHostile((req) => {
    const auth = req.headers.get("authorization");
    if (auth) return new Response("{}", { status: 404 });
    return new Response(null, {
      status: 401,
      headers: { "www-authenticate": `Bearer realm="http://127.0.0.1:9/token",service="x"` },
    });
  });
  const dir = await Deno.makeTempDir({ prefix: "mt-cfg-" });
  const cfg = `${dir}/config.json`;
  const secret = "SECRET-REGISTRY-TOKEN-TEXT";
  await Deno.writeTextFile(
    cfg,
    JSON.stringify({ auths: { [server.host]: { registrytoken: `ok\n${secret}` } } }),
  );
  const r = await runBounded([
    "--plain-http",
    "--docker-cfg",
    cfg,
    "--debug",
    "inspect",
    `${server.host}/a/b:1`,
  ]);
  await Deno.remove(dir, { recursive: true });
  assert.equal(r.code, 1, r.stderr);
  assert.ok(
    r.stderr.includes(
      `docker config ${cfg}: registrytoken for ${server.host} is not a valid header value`,
    ),
    r.stderr,
  );
  assert.ok(!r.stderr.includes(secret) && !r.stdout.includes(secret), "the token is never shown");
  assert.ok(server.log.every((e) => !e.headers.has("authorization")), "nor sent");
});

Deno.test("a token server's token with CR/LF is refused naming the token server, never printed", async () => {
  const secret = "SECRET-TOKEN-FROM-SERVER";
  await using server = await startHostile((req, _seen, s) => {
    if (new URL(req.url).pathname === "/token") {
      return Response.json({ token: `abc\r\n${secret}` });
    }
    return new Response(null, {
      status: 401,
      headers: { "www-authenticate": `Bearer realm="${s.url}/token",service="hostile"` },
    });
  });
  const r = await runBounded(["--plain-http", "--debug", "inspect", `${server.host}/a/b:1`]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /Token server 127\.0\.0\.1:\d+ for .* not a valid header value/);
  assert.ok(!r.stderr.includes(secret) && !r.stdout.includes(secret), "the token is never shown");
});

Deno.test("an upload whose source goes silent waits for the source's own verdict, past --timeout once", async () => {
  await using target = await startRegistry();
  await using client = new RegistryClient({
    plainHttp: [target.host],
    noConfig: true,
    timeoutMs: 300,
    retries: 0,
  });
  // 10 bytes, then silence; the source gives up after 1.5 timeouts (as a download's watchdog that
  // fires late would): its error is what went wrong, not the upload's "no response".
  let timer: ReturnType<typeof setTimeout> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array(10));
    },
    pull() {
      return new Promise<void>((_, reject) => {
        timer = setTimeout(() => reject(new Error("the source sent no data")), 450);
      });
    },
    cancel() {
      clearTimeout(timer);
    },
  }, { highWaterMark: 0 });
  const digest = "sha256:" + "c".repeat(64);
  const err = await client.repository(target.host, "a/b").uploadBlob(body, { digest, size: 1000 })
    .catch((e) => e);
  clearTimeout(timer);
  assert.match(String(err?.message), /the source sent no data/, String(err));
});

Deno.test("an index entry whose digest cannot be checked (md5, uppercase hex) is refused, never fetched as a tag", async () => {
  const entries = [
    "md5:d41d8cd98f00b204e9800998ecf8427e",
    `sha256:${"3C13DEA90F66ACF4E313B73E0409CB77D44133D26F2CB434311A95387A5CC09C"}`,
  ];
  for (const digest of entries) {
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [{
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest,
        size: MANIFEST.length,
        platform: { os: "linux", architecture: "amd64" },
      }],
    });
    // Whatever is asked for other than the index gets a valid manifest: a tag fetch would pass.
    await using server = await startHostile((req) => {
      const path = new URL(req.url).pathname;
      if (path === "/v2/") return Response.json({});
      const body = path.endsWith("/manifests/t") ? index : MANIFEST;
      const type = path.endsWith("/manifests/t")
        ? "application/vnd.oci.image.index.v1+json"
        : "application/vnd.oci.image.manifest.v1+json";
      return new Response(body, { headers: { "content-type": type } });
    });
    for (const command of [["verify"], ["verify", "--blobs=full"], ["inspect"]]) {
      const r = await runBounded(["--plain-http", ...command, `${server.host}/app:t`]);
      assert.equal(r.code, 1, `${command}: registry content is no usage error: ${r.stderr}`);
      assert.ok(oneLine(r.stderr), r.stderr);
      assert.match(r.stderr, /cannot verify digest/);
      assert.doesNotMatch(r.stderr + r.stdout, /^OK |--help/m);
    }
    assert.ok(
      server.log.every((s) => !s.path.includes(digest)),
      "nothing was fetched by that digest",
    );
  }
});

Deno.test("--plain-http: error lines name the http:// URL that was requested", async () => {
  await using server = await startHostile((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/v2/") return Response.json({});
    // A redirect loop: the transport gives up after its limit, naming the request.
    return new Response(null, { status: 307, headers: { location: path } });
  });
  const r = await runBounded(["--plain-http", "inspect", `${server.host}/app:t`]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`GET http://${server.host}/v2/app/manifests/t: more than`));
  assert.doesNotMatch(r.stderr, /https:/);
});

Deno.test("an upload Location that is no URL or not http(s) is refused in one line naming the POST", async () => {
  await using src = await startRegistry();
  await pushFixtures(src, {
    repository: "s/app",
    platforms: [{ os: "linux", architecture: "amd64" }],
  });
  for (const loc of ["file:///tmp/pwned", "data:text/plain,x", "http://[::1"]) {
    await using dst = await startHostile((req) => {
      if (new URL(req.url).pathname === "/v2/") return Response.json({});
      if (req.method === "POST") {
        return new Response(null, { status: 202, headers: { location: loc } });
      }
      return new Response("{}", { status: 404 });
    });
    const r = await runBounded([
      "--plain-http",
      "push",
      "--type",
      "oci",
      "from-args",
      "--platforms",
      "linux/amd64",
      "--template",
      `${src.host}/s/app:OS-ARCH`,
      "--target",
      `${dst.host}/d/app:1`,
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(oneLine(r.stderr), r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`POST http://${dst.host}/v2/d/app/blobs/uploads/: 202 with an upload Location`),
    );
    assert.ok(r.stderr.includes(loc), r.stderr);
    assert.ok(dst.log.every((s) => s.method !== "PUT"), "nothing committed");
  }
});

Deno.test("user and password a registry writes into its token realm are not sent: only the user's", async () => {
  const realmAuth = `Basic ${btoa("u:registry-chosen")}`;
  const ours = `Basic ${btoa("alice:s3cret")}`;
  await using server = await startHostile((req, seen, s) => {
    const path = new URL(req.url).pathname;
    if (path === "/token") return Response.json({ token: "t".repeat(32) });
    if (seen.headers.get("authorization") === `Bearer ${"t".repeat(32)}`) {
      return new Response("{}", { status: 404 });
    }
    return new Response(null, {
      status: 401,
      headers: {
        "www-authenticate": `Bearer realm="http://u:registry-chosen@${s.host}/token",service="x"`,
      },
    });
  });
  await runBounded([
    "--plain-http",
    "--username",
    "alice",
    "--password",
    "s3cret",
    "inspect",
    `${server.host}/app:t`,
  ]);
  const tokens = server.log.filter((s) => s.path.startsWith("/token"));
  assert.ok(tokens.length > 0, "a token was asked for");
  for (const t of tokens) {
    assert.equal(t.headers.get("authorization"), ours);
    assert.ok(!t.headers.get("authorization")?.includes(realmAuth.slice(6)));
  }
});

Deno.test("a status that is no error but not the answer due is named with the one expected", async () => {
  await using server = await startHostile((req) => {
    if (new URL(req.url).pathname === "/v2/") return Response.json({});
    return new Response(null, { status: 204 });
  });
  const r = await runBounded(["--plain-http", "inspect", `${server.host}/app:t`]);
  assert.equal(r.code, 1, r.stderr);
  assert.ok(oneLine(r.stderr), r.stderr);
  assert.match(r.stderr, /GET http:\/\/.*\/v2\/app\/manifests\/t: 204 No Content: expected 200$/m);
});

Deno.test("referrers without end are bounded: pages past MAX_REFERRERS, and a tree verify --referrers walks", async () => {
  const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
  const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
  const fake = (seed: string) => digestOf(new TextEncoder().encode(seed));
  const PAGED = fake("paged");
  // Every digest has 40 referrers of its own (none of them there): 40, 1,600, 64,000 by level.
  // PAGED's list goes on page after page, each linking to the next.
  const listed = (subject: string, page: number) =>
    Array.from({ length: 40 }, (_, i) => ({
      mediaType: OCI_MANIFEST,
      digest: fake(`${subject} ${page} ${i}`),
      size: 500,
      artifactType: "application/example",
    }));
  await using server = await startHostile((req) => {
    const u = new URL(req.url);
    if (u.pathname === "/v2/") return Response.json({});
    if (u.pathname.endsWith("/manifests/t")) {
      return new Response(MANIFEST, { headers: { "content-type": OCI_MANIFEST } });
    }
    const m = /\/referrers\/(.+)$/.exec(u.pathname);
    if (!m) return new Response("{}", { status: 404 });
    const page = Number(u.searchParams.get("page") ?? 0);
    const headers: Record<string, string> = { "content-type": OCI_INDEX };
    if (m[1] === PAGED) headers.link = `<${u.pathname}?page=${page + 1}>; rel="next"`;
    return new Response(
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: listed(m[1], page) }),
      { headers },
    );
  });
  const r = await runBounded(["--plain-http", "verify", "--referrers", `${server.host}/app:t`]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /more than 1000 referrers within 2 levels: the rest not verified/);
  const lists = server.log.filter((x) => x.path.includes("/referrers/")).length;
  assert.ok(lists < 1_700, `${lists} lists read: the third level is not`);
  // A page chain is cut once it lists more than MAX_REFERRERS, naming the subject.
  await using client = new RegistryClient({ plainHttp: true });
  await assert.rejects(
    () => client.repository(server.host, "app").referrers(PAGED),
    /Referrers of .*app@sha256:[0-9a-f]{64}: more than 1000 listed/,
  );
});
