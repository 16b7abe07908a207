// TLS options and credential sources, through the CLI as users run it.
import assert from "node:assert/strict";
import { makeServerTls, pushFixtures, startRegistry } from "../scripts/harness/mod.ts";
import { runCli } from "./_helpers/cli.ts";
import { startProxy } from "../scripts/harness/proxy.ts";
import { startBenchProxy } from "../scripts/bench_proxy.ts";
import { RegistryClient } from "../lib/registry/client.ts";
import { RegistryError } from "../lib/errors.ts";
import { digestOf } from "../lib/digest.ts";
import { pushIndexes } from "../lib/push.ts";
import { LANE_MIN_BODY } from "../lib/registry/body_lane.ts";
import { Transport } from "../lib/registry/transport.ts";
import { testEachKind } from "./_helpers/kinds.ts";

const ONE = [{ os: "linux", architecture: "amd64" }] as const;

async function tempHome(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "mt-home-" });
}

Deno.test("TLS: --ca-file, docker certs.d and --insecure are trusted; nothing else is", async (t) => {
  await using reg = await startRegistry({ tls: true });
  const set = await pushFixtures(reg, { repository: "tls/app", platforms: ONE });
  const ref = `${reg.host}/tls/app:${set.images[0].tag}`;
  const digest = set.images[0].digest;

  await t.step("without a CA or --insecure: exit 1, one line naming the remedies", async () => {
    const r = await runCli(["inspect", ref]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /not trusted: use --ca-file, docker's certs\.d\/.*\/ca\.crt, or --insecure/,
    );
    assert.doesNotMatch(r.stderr, /http:\/\//, "a certificate error must not fall back to HTTP");
  });
  await t.step(
    "manifest commands, as docker, do not verify a loopback registry's certificate",
    async () => {
      const config = await Deno.makeTempDir({ prefix: "mt-tls-docker-config-" });
      try {
        const env = { env: { DOCKER_CONFIG: config } };
        const inspect = await runCli(["manifest", "inspect", ref], env);
        assert.equal(inspect.code, 0, inspect.stderr);
        assert.ok(inspect.stdout.includes('"schemaVersion": 2'), inspect.stdout);
        const list = `${reg.host}/tls/list:1`;
        const created = await runCli(["manifest", "create", list, ref], env);
        assert.equal(created.code, 0, created.stderr);
        const pushed = await runCli(["manifest", "push", list], env);
        assert.equal(pushed.code, 0, pushed.stderr);
        assert.match(pushed.stdout, /^sha256:[0-9a-f]{64}$/m);
      } finally {
        await Deno.remove(config, { recursive: true });
      }
    },
  );
  await t.step("--ca-file", async () => {
    const r = await runCli(["--ca-file", reg.caFile!, "inspect", ref]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(digest));
  });
  await t.step("SSL_CERT_FILE, as Go tools read it", async () => {
    const r = await runCli(["inspect", ref], { env: { SSL_CERT_FILE: reg.caFile! } });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(digest));
    const missing = await runCli(["inspect", ref], { env: { SSL_CERT_FILE: "/nonexistent.pem" } });
    assert.equal(missing.code, 1, "a file that is not there adds nothing");
  });
  await t.step("~/.docker/certs.d/<host>/ca.crt", async () => {
    const home = await tempHome();
    await Deno.mkdir(`${home}/.docker/certs.d/${reg.host}`, { recursive: true });
    await Deno.copyFile(reg.caFile!, `${home}/.docker/certs.d/${reg.host}/ca.crt`);
    const r = await runCli(["inspect", ref], { env: { HOME: home } });
    await Deno.remove(home, { recursive: true });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(digest));
  });
  await t.step("--insecure skips verification for the registry named", async () => {
    const r = await runCli(["--insecure", "inspect", ref]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(digest));
  });
  await t.step("--plain-http to it: the registry's 400 is explained", async () => {
    const r = await runCli(["--plain-http", "inspect", ref]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /400 Bad Request: the registry speaks HTTPS on this port, not plain HTTP \(--plain-http\)/,
    );
  });
});

Deno.test("plain HTTP: loopback falls back as docker does; without fallback the error names --plain-http", async () => {
  await using reg = await startRegistry();
  const set = await pushFixtures(reg, { repository: "plain/app", platforms: ONE });
  await using strict = new RegistryClient({ loopbackHttpFallback: false, retries: 0 });
  const err = await strict.repository(reg.host, "plain/app").getManifest(set.images[0].tag).catch((
    e,
  ) => e);
  assert.ok(err instanceof RegistryError, String(err));
  assert.match(err.message, /does not speak HTTPS: use --plain-http/);
  await using plain = new RegistryClient({ loopbackHttpFallback: false, plainHttp: [reg.host] });
  const m = await plain.repository(reg.host, "plain/app").getManifest(set.images[0].tag);
  assert.equal(m.descriptor.digest, set.images[0].digest);
  // A first wave of requests does not wait for one of them to learn the scheme: each tries HTTPS
  // (a TLS hello the counting TCP proxy sees) and falls back on its own.
  await using tcp = await startBenchProxy({ upstream: reg.host, rttMs: 0 });
  await using loopback = new RegistryClient({ retries: 0 });
  const repo = loopback.repository(tcp.host, "plain/app");
  const wave = await Promise.all(
    Array.from({ length: 4 }, () => repo.getManifest(set.images[0].tag)),
  );
  assert.deepEqual(wave.map((w) => w.descriptor.digest), Array(4).fill(set.images[0].digest));
  const seen = tcp.requests.map((r) => r.kind === "tls" ? "TLS hello" : `${r.method} ${r.kind}`);
  assert.deepEqual(seen.filter((k) => k === "TLS hello").length, 4, seen.join(", "));
  assert.deepEqual(seen.filter((k) => k !== "TLS hello").length, 4, seen.join(", "));
  // A streamed upload to a host whose scheme is not known yet.
  await using fresh = new RegistryClient({ retries: 0 });
  const bytes = new TextEncoder().encode("streamed once");
  const up = await fresh.repository(reg.host, "plain/up").uploadBlob(new Blob([bytes]).stream(), {
    size: bytes.length,
    digest: digestOf(bytes),
  });
  assert.equal(up.digest, digestOf(bytes));
});

Deno.test("credentials: flags, config auths, DOCKER_CONFIG, --docker-cfg, helpers, REGISTRY_AUTH_FILE", async (t) => {
  await using reg = await startRegistry({ auth: "basic" });
  const set = await pushFixtures(reg, { repository: "cred/app", platforms: ONE });
  const ref = `${reg.host}/cred/app:${set.images[0].tag}`;
  const digest = set.images[0].digest;
  const auth = btoa(`${reg.username}:${reg.password}`);
  const ok = (r: { code: number; stdout: string; stderr: string }) => {
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(digest), r.stdout);
    assert.ok(!r.stderr.includes(reg.password!) && !r.stdout.includes(reg.password!));
  };

  await t.step("no credentials: 401 with a hint to log in", async () => {
    const r = await runCli(["inspect", ref]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /401 Unauthorized from 127\.0\.0\.1:\d+: check --username\/--password or docker login/,
    );
  });
  await t.step("--username/--password", async () => {
    ok(await runCli(["--username", reg.username!, "--password", reg.password!, "inspect", ref]));
  });
  await t.step("a wrong password is refused and never printed, --debug included", async () => {
    const r = await runCli([
      "--debug",
      "--username",
      reg.username!,
      "--password",
      "s3cret-wrong",
      "inspect",
      ref,
    ]);
    assert.equal(r.code, 1);
    assert.ok(!r.stderr.includes("s3cret-wrong") && !r.stdout.includes("s3cret-wrong"));
    assert.ok(!/authorization:/i.test(r.stderr), "no Authorization header in debug output");
  });
  await t.step("~/.docker/config.json auths", async () => {
    const home = await tempHome();
    await Deno.mkdir(`${home}/.docker`);
    await Deno.writeTextFile(
      `${home}/.docker/config.json`,
      JSON.stringify({ auths: { [reg.host]: { auth } } }),
    );
    ok(await runCli(["inspect", ref], { env: { HOME: home } }));
    await Deno.remove(home, { recursive: true });
  });
  await t.step(
    "DOCKER_CONFIG and --docker-cfg (directory and file), keys with a scheme",
    async () => {
      const dir = await Deno.makeTempDir();
      await Deno.writeTextFile(
        `${dir}/config.json`,
        JSON.stringify({ auths: { [`https://${reg.host}/v2/`]: { auth } } }),
      );
      ok(await runCli(["inspect", ref], { env: { DOCKER_CONFIG: dir } }));
      ok(await runCli(["--docker-cfg", dir, "inspect", ref]));
      ok(await runCli(["--docker-cfg", `${dir}/config.json`, "inspect", ref]));
      await Deno.remove(dir, { recursive: true });
    },
  );
  await t.step("REGISTRY_AUTH_FILE (podman)", async () => {
    const f = await Deno.makeTempFile({ suffix: ".json" });
    await Deno.writeTextFile(f, JSON.stringify({ auths: { [reg.host]: { auth } } }));
    ok(await runCli(["inspect", ref], { env: { REGISTRY_AUTH_FILE: f } }));
    await Deno.remove(f);
  });
  await t.step("credHelpers: a docker-credential-* script on PATH", async () => {
    const dir = await Deno.makeTempDir();
    const bin = `${dir}/bin`;
    await Deno.mkdir(bin);
    await Deno.writeTextFile(
      `${bin}/docker-credential-harness`,
      `#!/bin/sh\nread host\n[ "$1" = get ] || exit 3\n[ "$host" = "${reg.host}" ] || { echo "credentials not found in native keychain"; exit 1; }\nprintf '{"ServerURL":"%s","Username":"${reg.username}","Secret":"${reg.password}"}' "$host"\n`,
    );
    await Deno.writeTextFile(
      `${bin}/docker-credential-broken`,
      "#!/bin/sh\necho 'not json at all'\n",
    );
    await Deno.writeTextFile(
      `${bin}/docker-credential-failing`,
      "#!/bin/sh\necho 'boom' >&2\nexit 4\n",
    );
    for (const n of ["harness", "broken", "failing"]) {
      await Deno.chmod(`${bin}/docker-credential-${n}`, 0o755);
    }
    const path = `${bin}:${Deno.env.get("PATH")}`;
    await Deno.writeTextFile(
      `${dir}/config.json`,
      JSON.stringify({ credHelpers: { [reg.host]: "harness" } }),
    );
    ok(await runCli(["inspect", ref], { env: { DOCKER_CONFIG: dir, PATH: path } }));
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ credsStore: "harness" }));
    ok(await runCli(["inspect", ref], { env: { DOCKER_CONFIG: dir, PATH: path } }));

    await Deno.writeTextFile(
      `${dir}/config.json`,
      JSON.stringify({ credHelpers: { [reg.host]: "broken" } }),
    );
    const broken = await runCli(["inspect", ref], { env: { DOCKER_CONFIG: dir, PATH: path } });
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /docker-credential-broken" printed something that is not JSON/);
    await Deno.writeTextFile(
      `${dir}/config.json`,
      JSON.stringify({ credHelpers: { [reg.host]: "failing" } }),
    );
    const failing = await runCli(["inspect", ref], { env: { DOCKER_CONFIG: dir, PATH: path } });
    assert.equal(failing.code, 1);
    assert.match(failing.stderr, /docker-credential-failing" failed .*exit code 4/);
    await Deno.writeTextFile(
      `${dir}/config.json`,
      JSON.stringify({ credHelpers: { [reg.host]: "absent" } }),
    );
    const absent = await runCli(["inspect", ref], { env: { DOCKER_CONFIG: dir, PATH: path } });
    assert.equal(absent.code, 1);
    assert.match(absent.stderr, /docker-credential-absent" named in ".*config.json" cannot be run/);
    await Deno.remove(dir, { recursive: true });
  });
  await t.step("a corrupt config.json is one line naming the file", async () => {
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(`${dir}/config.json`, "{ not json");
    const r = await runCli(["inspect", ref], { env: { DOCKER_CONFIG: dir } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`Cannot parse docker config "${dir}/config.json"`));
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    await Deno.remove(dir, { recursive: true });
  });
  await t.step(
    "flag credentials of a push go to the target's registry only, not to a source's",
    async () => {
      await using other = await startRegistry();
      const o = await pushFixtures(other, { repository: "cred/other", platforms: ONE });
      await using proxy = await startProxy({ upstream: other.url });
      const spec = await Deno.makeTempFile({ suffix: ".yaml" });
      await Deno.writeTextFile(
        spec,
        `image: ${reg.host}/cred/dst:v1\nmanifests:\n  - image: ${proxy.host}/cred/other:${
          o.images[0].tag
        }\n`,
      );
      const r = await runCli([
        "--username",
        reg.username!,
        "--password",
        reg.password!,
        "push",
        "from-spec",
        spec,
      ]);
      await Deno.remove(spec);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(proxy.log.length > 0);
      assert.ok(
        proxy.log.every((l) => !l.authorization),
        "no Authorization header reached the source registry",
      );
    },
  );
});

Deno.test("token auth: identity tokens from config use the OAuth2 refresh grant", async () => {
  await using reg = await startRegistry({ auth: "token" });
  const set = await pushFixtures(reg, { repository: "idt/app", platforms: ONE });
  const form = new URLSearchParams({
    grant_type: "password",
    username: reg.username!,
    password: reg.password!,
    access_type: "offline",
    service: reg.tokenServer!.service,
    client_id: "test",
  });
  const res = await fetch(reg.tokenServer!.realm, { method: "POST", body: form });
  const { refresh_token } = await res.json();
  assert.ok(refresh_token);
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/config.json`,
    JSON.stringify({ auths: { [reg.host]: { identitytoken: refresh_token } } }),
  );
  const r = await runCli(["inspect", `${reg.host}/idt/app:${set.images[0].tag}`], {
    env: { DOCKER_CONFIG: dir },
  });
  await Deno.remove(dir, { recursive: true });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(reg.tokenServer!.log.some((l) => l.method === "POST" && l.status === 200));
});

await testEachKind(
  "push over TLS with token auth sends bodies of 1 KiB and more on a warm HTTP/1.1 connection, the rest over HTTP/2",
  async (_t, kind) => {
    await using reg = await startRegistry({ kind, tls: true, auth: "token" });
    const set = await pushFixtures(reg, { repository: "lane/app" });
    const lines: string[] = [];
    const logger = { debug: (m: string) => lines.push(m), warn: () => {} };
    const options = {
      caFiles: [reg.caFile!],
      logger,
      retries: 0,
      username: reg.username,
      password: reg.password,
      flagRegistries: [reg.host],
      noConfig: true,
    };
    const spec = (tag: string) => ({
      image: `${reg.host}/lane/app:${tag}`,
      manifests: set.images.map((i) => ({ image: `${reg.host}/lane/app:${i.tag}` })),
    });
    await using client = new RegistryClient(options);
    // A push opens the lane itself while it reads its sources; on loopback the GETs can win that
    // race (the PUT then goes over HTTP/2), so here the lane is open before the push starts.
    await client.transport.openBodyLane(reg.host);
    const [outcome] = await pushIndexes(client, [spec("all")]);
    assert.equal(outcome.status, "pushed", String(outcome.error));
    const index = await client.repository(reg.host, "lane/app").getManifest("all");
    assert.equal(index.descriptor.digest, outcome.result!.descriptor.digest);
    assert.ok(index.descriptor.size >= LANE_MIN_BODY, "the index is large enough for the lane");
    const laned = lines.filter((l) => l.endsWith(", HTTP/1.1 lane)"));
    assert.deepEqual(
      laned.map((l) => l.replace(/https:\/\/[^/]+/, "").replace(/ \(.*/, "")),
      ["GET /v2/ -> 401", "PUT /v2/lane/app/manifests/all -> 201"],
      lines.join("\n"),
    );

    // A push opens it by itself, once per registry (and stops opening it when it is done first).
    lines.length = 0;
    await using fresh = new RegistryClient(options);
    const [again] = await pushIndexes(fresh, [spec("again")]);
    assert.equal(again.status, "pushed", String(again.error));
    assert.equal(lines.filter((l) => /^GET https:\/\/[^/]+\/v2\/ -> /.test(l)).length, 1);
    // The next run on the same client uses that lane, or opens a new one in place of a stopped one.
    const [third] = await pushIndexes(fresh, [spec("third")]);
    assert.equal(third.status, "pushed", String(third.error));
  },
  { needs: ["tls", "auth"] },
);

Deno.test("a push to a registry reached over plain HTTP opens no HTTP/1.1 lane and sends no GET /v2/ for one", async () => {
  const lines: string[] = [];
  const logger = { debug: (m: string) => lines.push(m), warn: () => {} };
  await using plain = await startRegistry();
  const small = await pushFixtures(plain, { repository: "lane/app" });
  await using plainClient = new RegistryClient({ plainHttp: [plain.host], logger });
  const [pushed] = await pushIndexes(plainClient, [{
    image: `${plain.host}/lane/app:all`,
    manifests: small.images.map((i) => ({ image: `${plain.host}/lane/app:${i.tag}` })),
  }]);
  assert.equal(pushed.status, "pushed", String(pushed.error));
  assert.deepEqual(
    lines.filter((l) => / \/v2\/ |lane\)/.test(l.replace(/https?:\/\/[^/]+/, " "))),
    [],
  );
});

/**
 * A TLS server (the harness's certificate) answering `GET /v2/` with `v2` and any other request with
 * 201 once its body is read, and a transport that trusts it and keeps its debug lines.
 */
async function laneServer(v2: () => Response) {
  const dir = await Deno.makeTempDir({ prefix: "mt-lane-" });
  const tls = await makeServerTls(dir);
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: await Deno.readTextFile(tls.certFile),
    key: await Deno.readTextFile(tls.keyFile),
    onListen: resolve,
  }, async (req) => {
    if (new URL(req.url).pathname === "/v2/") return v2();
    await req.arrayBuffer();
    return new Response(null, { status: 201 });
  });
  const host = `127.0.0.1:${(await listening).port}`;
  const lines: string[] = [];
  const logger = { debug: (m: string) => lines.push(m), warn: () => {} };
  const transport = new Transport({ caFiles: [tls.caFile], logger, retries: 0 });
  return {
    host,
    lines,
    transport,
    /** PUTs a 2 KiB manifest and returns its debug line. */
    async put(): Promise<string> {
      const res = await transport.fetch({
        method: "PUT",
        url: `https://${host}/v2/a/manifests/t`,
        body: new Uint8Array(2048),
      });
      await res.body?.cancel();
      assert.equal(res.status, 201);
      const put = lines.filter((l) => l.startsWith("PUT "));
      assert.equal(put.length, 1, lines.join("\n"));
      return put[0];
    },
    async [Symbol.asyncDispose]() {
      await transport[Symbol.asyncDispose]();
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("a registry whose GET /v2/ answer is more than a document, or closes the connection, gets no HTTP/1.1 lane; its PUTs go over HTTP/2", async (t) => {
  const answers: Record<string, () => Response> = {
    // 1 MiB of answer, more than any /v2/ needs.
    "a 1 MiB answer": () => new Response(new Blob([new Uint8Array(1 << 20)]).stream()),
    "Connection: close": () => new Response("{}", { headers: { connection: "close" } }),
  };
  for (const [what, answer] of Object.entries(answers)) {
    await t.step(what, async () => {
      await using s = await laneServer(answer);
      await s.transport.openBodyLane(s.host);
      assert.ok(s.lines.some((l) => l.startsWith("GET ")), s.lines.join("\n"));
      assert.doesNotMatch(await s.put(), /lane/);
    });
  }
});

Deno.test("a lane whose opening was stopped makes way for a new one that bodies then take", async () => {
  await using s = await laneServer(() => new Response("{}"));
  await s.transport.openBodyLane(s.host, AbortSignal.abort());
  await s.transport.openBodyLane(s.host);
  assert.match(await s.put(), /HTTP\/1\.1 lane/, s.lines.join("\n"));
});

Deno.test("a push to a registry none of its sources is on readies it (GET /v2/: connection, token) while it reads the sources; not otherwise", async () => {
  await using src = await startRegistry({ tls: true });
  await using dst = await startRegistry({ tls: true, auth: "token" });
  const two = [{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm64" }];
  await pushFixtures(src, {
    repository: "s/app",
    format: "oci",
    index: { tag: "multi" },
    platforms: two,
  });
  const dir = await tempHome();
  const push = async (target: string, source: string) => {
    await Deno.writeTextFile(
      `${dir}/s.yaml`,
      `image: ${target}\nmanifests:\n  - image: ${source}\n`,
    );
    const r = await runCli([
      "--debug",
      ...["--ca-file", src.caFile!, "--ca-file", dst.caFile!],
      ...["--username", dst.username!, "--password", dst.password!],
      ...["push", "from-spec", `${dir}/s.yaml`],
    ]);
    assert.equal(r.code, 0, r.stderr);
    // The target's requests over its shared connection: `METHOD /v2/path STATUS`.
    const host = target.split("/")[0];
    return r.stderr.split("\n")
      .filter((l) =>
        l.includes(`//${host}/`) && /-> \d{3} \(/.test(l) && !l.includes("HTTP/1.1 lane")
      )
      .map((l) => l.replace(/^debug: (\w+) \S+\/v2\/(\S*) -> (\d+).*$/, "$1 /v2/$2 $3"));
  };
  const tokens = dst.tokenServer!.requests;
  const across = await push(`${dst.host}/d/app:1`, `${src.host}/s/app:multi`);
  assert.deepEqual(across.filter((l) => l.startsWith("GET /v2/ ")), [
    "GET /v2/ 401",
    "GET /v2/ 200",
  ], across.join("\n"));
  // Requests that left before the warm-up's token came back wait for it on their 401.
  assert.equal(dst.tokenServer!.requests - tokens, 1, "one token for the whole push");

  const within = await push(`${src.host}/d/app:1`, `${src.host}/s/app:multi`);
  assert.ok(
    !within.some((l) => l.startsWith("GET /v2/ ")),
    "reading the sources readies it: " + within.join("\n"),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("--insecure with token auth: the 401 answers whose bodies go unread end cleanly (inspect, and a push readying its target)", async () => {
  await using src = await startRegistry({ tls: true });
  await using reg = await startRegistry({ tls: true, auth: "token" });
  const set = await pushFixtures(reg, {
    repository: "i/app",
    format: "oci",
    index: { tag: "multi" },
    platforms: ONE,
  });
  await pushFixtures(src, {
    repository: "s/app",
    format: "oci",
    index: { tag: "multi" },
    platforms: ONE,
  });
  const login = ["--insecure", "--username", reg.username!, "--password", reg.password!];
  const r = await runCli([...login, "inspect", `${reg.host}/i/app:multi`]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.includes(set.index!.digest), r.stdout);
  assert.doesNotMatch(r.stderr, /Uncaught|TypeError/);

  const dir = await tempHome();
  await Deno.writeTextFile(
    `${dir}/s.yaml`,
    `image: ${reg.host}/i/copy:1\nmanifests:\n  - image: ${src.host}/s/app:multi\n`,
  );
  const p = await runCli([...login, "push", "from-spec", `${dir}/s.yaml`]);
  await Deno.remove(dir, { recursive: true });
  assert.equal(p.code, 0, p.stderr);
  assert.doesNotMatch(p.stderr, /Uncaught|TypeError/);
});
