// Faults a real registry cannot produce, injected by the harness proxy: every operation either
// succeeds after bounded retries or fails with one clear line, and never writes an index whose
// children are missing, accepts mismatched content, prints a stack or leaks credentials.
import assert from "node:assert/strict";
import {
  type Interceptor,
  pushFixtures,
  startProxy,
  startRegistry,
} from "../scripts/harness/mod.ts";
import { runCli } from "./_helpers/cli.ts";

const ACCEPT =
  "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";
const summary: string[][] = [];

/** Applies `fault` once per matching path (or always with `always`). */
function once(
  match: (r: Request) => boolean,
  fault: (r: Request, forward: () => Promise<Response>) => Promise<Response> | Response,
  always = false,
): Interceptor {
  const seen = new Set<string>();
  return ({ request, forward }) => {
    if (!match(request)) return undefined;
    const key = `${request.method} ${new URL(request.url).pathname}`;
    if (!always && seen.has(key)) return undefined;
    seen.add(key);
    return fault(request, () => forward());
  };
}
const isGet = (kind: RegExp) => (r: Request) =>
  r.method === "GET" && kind.test(new URL(r.url).pathname);

async function status(url: string, repo: string, ref: string): Promise<number> {
  const res = await fetch(`${url}/v2/${repo}/manifests/${ref}`, { headers: { accept: ACCEPT } });
  await res.body?.cancel();
  return res.status;
}

function assertCleanFailure(r: { code: number; stderr: string }, re: RegExp, label: string) {
  assert.equal(r.code, 1, `${label}: ${r.stderr}`);
  assert.match(r.stderr, re, label);
  assert.equal(r.stderr.trim().split("\n").length, 1, `${label}: one line: ${r.stderr}`);
  assert.ok(!/\n\s+at /.test(r.stderr), `${label}: no stack trace`);
}

Deno.test("faults during inspect and push", async (t) => {
  await using reg = await startRegistry();
  await using other = await startRegistry();
  const set = await pushFixtures(reg, {
    format: "oci",
    repository: "f/app",
    index: { tag: "multi" },
  });
  await pushFixtures(other, {
    format: "oci",
    repository: "f/src",
    platforms: [{ os: "linux", architecture: "amd64" }],
    largeLayerBytes: 8 * 1024 * 1024,
    seed: "big",
  });
  const P = ["--plain-http", "--timeout", "3"];

  const inspectWith = async (name: string, intercept: Interceptor, expect: "ok" | RegExp) => {
    await using proxy = await startProxy({ upstream: reg.url, intercept });
    const started = performance.now();
    const r = await runCli([...P, "inspect", `${proxy.host}/f/app:multi`]);
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    if (expect === "ok") {
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.ok(r.stdout.includes(set.index!.digest));
    } else assertCleanFailure(r, expect, name);
    summary.push([
      name,
      "inspect",
      expect === "ok" ? "ok after retry" : "clean failure",
      `${secs}s`,
    ]);
  };

  await t.step(
    "503 once on every manifest GET: retried, succeeds",
    () =>
      inspectWith(
        "503 once",
        once(isGet(/manifests/), () => new Response("busy", { status: 503 })),
        "ok",
      ),
  );
  await t.step(
    "429 with Retry-After once: waits and succeeds",
    () =>
      inspectWith(
        "429 Retry-After",
        once(
          isGet(/manifests/),
          () => new Response("", { status: 429, headers: { "retry-after": "1" } }),
        ),
        "ok",
      ),
  );
  await t.step(
    "500 always: one line with the status",
    () =>
      inspectWith(
        "500 always",
        once(
          isGet(/manifests/),
          () => Response.json({ errors: [{ code: "UNKNOWN", message: "boom" }] }, { status: 500 }),
          true,
        ),
        /500 Internal Server Error: UNKNOWN \(boom\)/,
      ),
  );
  await t.step(
    "a child manifest with changed bytes: digest mismatch",
    () =>
      inspectWith(
        "tampered child",
        once(isGet(/manifests\/sha256:/), async (_r, fwd) => {
          const res = await fwd();
          const b = new Uint8Array(await res.arrayBuffer());
          b[b.length - 3] ^= 1;
          return new Response(b, {
            status: 200,
            headers: { "content-type": res.headers.get("content-type")! },
          });
        }, true),
        /Digest mismatch for manifest/,
      ),
  );
  await t.step(
    "a manifest over the 4 MiB cap is refused",
    () =>
      inspectWith(
        "oversized manifest",
        once(isGet(/manifests\/multi/), () =>
          new Response(new Uint8Array(5 * 1024 * 1024).fill(32), {
            status: 200,
            headers: { "content-type": "application/vnd.oci.image.index.v1+json" },
          }), true),
        /more than 4194304 bytes/,
      ),
  );
  await t.step(
    "a config download that stalls fails after --timeout",
    () =>
      inspectWith(
        "stalled body",
        once(isGet(/blobs\//), () =>
          new Response(
            new ReadableStream({
              start(c) {
                c.enqueue(new Uint8Array([123]));
              },
            }),
            { status: 200 },
          ), true),
        /no data for 3000 ms/,
      ),
  );

  await t.step(
    "push from another registry: a reset mid-blob is retried in a new session",
    async () => {
      await using proxy = await startProxy({
        upstream: other.url,
        intercept: once(isGet(/blobs\//), async (_r, fwd) => {
          const res = await fwd();
          const reader = res.body!.getReader();
          let sent = 0;
          return new Response(
            new ReadableStream({
              async pull(c) {
                const { done, value } = await reader.read();
                if (done || sent > 1024 * 1024) {
                  await reader.cancel();
                  c.error(new Error("connection reset"));
                  return;
                }
                sent += value.length;
                c.enqueue(value);
              },
            }),
            { status: 200, headers: res.headers },
          );
        }),
      });
      const spec = await Deno.makeTempFile({ suffix: ".yaml" });
      await Deno.writeTextFile(
        spec,
        `image: ${reg.host}/f/copied:v1\nmanifests:\n  - image: ${proxy.host}/f/src:linux-amd64\n`,
      );
      const r = await runCli([...P, "push", "from-spec", spec]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await status(reg.url, "f/copied", "v1"), 200);
      summary.push(["reset mid-blob", "push (cross-registry)", "ok after retry", ""]);
    },
  );

  await t.step(
    "push from another registry: a blob with changed bytes is refused, target untouched",
    async () => {
      await using proxy = await startProxy({
        upstream: other.url,
        intercept: once(isGet(/blobs\//), async (_r, fwd) => {
          const res = await fwd();
          const b = new Uint8Array(await res.arrayBuffer());
          b[0] ^= 1;
          return new Response(b, { status: 200 });
        }, true),
      });
      const spec = await Deno.makeTempFile({ suffix: ".yaml" });
      await Deno.writeTextFile(
        spec,
        `image: ${reg.host}/f/tampered:v1\nmanifests:\n  - image: ${proxy.host}/f/src:linux-amd64\n    platform: {os: linux, architecture: amd64}\n`,
      );
      const r = await runCli([...P, "push", "from-spec", spec]);
      assertCleanFailure(r, /Digest mismatch|Size mismatch/, "tampered blob");
      assert.equal(await status(reg.url, "f/tampered", "v1"), 404, "no index written");
      summary.push([
        "tampered blob",
        "push (cross-registry)",
        "clean failure, nothing written",
        "",
      ]);
    },
  );

  await t.step("same-repo push: the index PUT fails with 500, no tag is written", async () => {
    await using proxy = await startProxy({
      upstream: reg.url,
      intercept: once(
        (r) => r.method === "PUT" && /manifests\/v9$/.test(new URL(r.url).pathname),
        () => new Response("", { status: 500 }),
        true,
      ),
    });
    const r = await runCli([
      ...P,
      "push",
      "from-args",
      "--platforms",
      "linux/amd64,linux/s390x",
      "--template",
      `${proxy.host}/f/app:OS-ARCH`,
      "--target",
      `${proxy.host}/f/app:v9`,
    ]);
    assertCleanFailure(r, /500 Internal Server Error/, "index PUT 500");
    assert.equal(await status(reg.url, "f/app", "v9"), 404);
    summary.push(["index PUT 500", "push (same-repo)", "clean failure, nothing written", ""]);
  });

  await t.step(
    "cross-repo push: a child manifest PUT refused leaves the target tag untouched",
    async () => {
      const before = await status(reg.url, "f/cross", "v1");
      await using proxy = await startProxy({
        upstream: reg.url,
        intercept: once(
          (r) => r.method === "PUT" && /manifests\/sha256:/.test(new URL(r.url).pathname),
          () => Response.json({ errors: [{ code: "DENIED", message: "no" }] }, { status: 403 }),
          true,
        ),
      });
      const spec = await Deno.makeTempFile({ suffix: ".yaml" });
      await Deno.writeTextFile(
        spec,
        `image: ${proxy.host}/f/cross:v1\nmanifests:\n${
          set.images.slice(0, 3).map((i) =>
            `  - image: ${proxy.host}/f/app@${i.digest}\n    platform: {os: ${i.platform.os}, architecture: ${i.platform.architecture}${
              i.platform.variant ? `, variant: ${i.platform.variant}` : ""
            }}`
          ).join("\n")
        }\n`,
      );
      const r = await runCli([...P, "push", "from-spec", spec]);
      assertCleanFailure(r, /403 Forbidden: DENIED/, "child PUT 403");
      assert.equal(await status(reg.url, "f/cross", "v1"), before);
      summary.push(["child PUT 403", "push (cross-repo)", "clean failure, nothing written", ""]);
    },
  );
  console.log(
    "\nFault matrix:\n" +
      summary.map((r) => "  " + r.map((c, i) => c.padEnd([22, 24, 32, 6][i])).join(" ")).join("\n"),
  );
});

Deno.test("a token that expires mid-push is renewed, and a redirect to storage gets no credentials", async () => {
  await using reg = await startRegistry({ auth: "token" });
  const set = await pushFixtures(reg, { repository: "t/app", format: "docker" });
  let side = { authorization: false, hits: 0 };
  const ac = new AbortController();
  const storage = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    async (req) => {
      side.hits++;
      if (req.headers.has("authorization")) side.authorization = true;
      // Serve the blob by fetching it from the registry with a token of its own.
      const u = new URL(reg.tokenServer!.realm);
      u.searchParams.set("service", reg.tokenServer!.service);
      u.searchParams.set("scope", "repository:t/app:pull");
      const tok = (await (await fetch(u, {
        headers: { authorization: "Basic " + btoa(`${reg.username}:${reg.password}`) },
      })).json()).token;
      return await fetch(`${reg.url}${new URL(req.url).pathname}`, {
        headers: { authorization: `Bearer ${tok}` },
      });
    },
  );
  const storageUrl = `http://127.0.0.1:${(storage.addr as Deno.NetAddr).port}`;
  let expired = false;
  await using proxy = await startProxy({
    upstream: reg.url,
    intercept: async ({ request, forward }) => {
      const path = new URL(request.url).pathname;
      if (request.method === "GET" && path.includes("/blobs/")) {
        return new Response(null, { status: 307, headers: { location: `${storageUrl}${path}` } });
      }
      if (request.method === "PUT" && path.endsWith("/manifests/v1") && !expired) {
        expired = true;
        await (await forward()).body?.cancel();
        return new Response("", {
          status: 401,
          headers: {
            "www-authenticate": `Bearer realm="${reg.tokenServer!.realm}",service="${
              reg.tokenServer!.service
            }",scope="repository:t/app:pull,push",error="invalid_token"`,
          },
        });
      }
      return undefined;
    },
  });
  const spec = await Deno.makeTempFile({ suffix: ".yaml" });
  // No platforms given: the configs are downloaded, through the redirect to "storage".
  await Deno.writeTextFile(
    spec,
    `image: ${proxy.host}/t/app:v1\nmanifests:\n  - image: ${proxy.host}/t/app:linux-amd64\n  - image: ${proxy.host}/t/app:linux-arm-v7\n`,
  );
  const r = await runCli([
    "--plain-http",
    "--username",
    reg.username!,
    "--password",
    reg.password!,
    "push",
    "from-spec",
    spec,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(expired, "the 401 was served");
  assert.equal(side.hits, 2, "both config downloads went to storage");
  assert.equal(set.images.length, 6);
  assert.equal(side.authorization, false, "no Authorization header reached the storage origin");
  ac.abort();
  await storage.finished;
  side = { authorization: false, hits: 0 };
});
