// The per-registry bound of --concurrency, observed by a counting proxy in front of a real
// registry: a request counts from its arrival until its response body has been sent whole (or
// dropped), so bodies still streaming are counted. The push runs through the CLI.
import assert from "node:assert/strict";
import {
  type Interceptor,
  pushFixtures,
  type RunningRegistry,
  startProxy,
  startRegistry,
} from "../scripts/harness/mod.ts";
import { runCli } from "./_helpers/cli.ts";

/** An interceptor that forwards every request (after `delayMs`) and tracks how many are open. */
function counting(delayMs: number, rewrite?: (r: Request) => Request | undefined) {
  const state = { open: 0, max: 0 };
  const intercept: Interceptor = async ({ request, forward }) => {
    state.open++;
    state.max = Math.max(state.max, state.open);
    let closed = false;
    const close = () => {
      if (!closed) state.open--;
      closed = true;
    };
    let res: Response;
    try {
      // A little latency lets requests pile up, so a missing bound would show.
      await new Promise((r) => setTimeout(r, delayMs));
      res = await forward(rewrite?.(request) ?? request);
    } catch (e) {
      close();
      throw e;
    }
    if (!res.body) {
      close();
      return res;
    }
    const reader = res.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        const r = await reader.read().catch((e) => {
          close();
          throw e;
        });
        if (r.done) {
          close();
          c.close();
        } else c.enqueue(r.value);
      },
      cancel(reason) {
        close();
        return reader.cancel(reason);
      },
    });
    return new Response(body, {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
  };
  return { state, intercept };
}

async function specFile(text: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "mt-sched-" });
  const path = `${dir}/spec.yaml`;
  await Deno.writeTextFile(path, text);
  return path;
}

async function sixPlatformSources(reg: RunningRegistry) {
  return await pushFixtures(reg, { repository: "src/app", layout: "repos", format: "oci" });
}

Deno.test("--concurrency 2: a 6-platform cross-repo push with 13 mounts never has more than 2 requests in flight", async () => {
  await using reg = await startRegistry();
  const set = await sixPlatformSources(reg);
  const { state, intercept } = counting(15);
  await using proxy = await startProxy({ upstream: reg.url, intercept });
  const spec = await specFile(`image: ${proxy.host}/dst/app:1.0
manifests:
${set.images.map((i) => `  - image: ${proxy.host}/${i.repository}:latest`).join("\n")}
`);
  const r = await runCli(["--plain-http", "--concurrency", "2", "push", "from-spec", spec]);
  assert.equal(r.code, 0, r.stderr);
  const unique = new Set(
    set.images.flatMap((i) => [i.config.digest, ...i.layers.map((l) => l.digest)]),
  );
  const mounts = proxy.log.filter((e) => e.method === "POST" && e.path.includes("mount="));
  assert.equal(unique.size, 13);
  assert.equal(mounts.length, 13, "every blob mounted");
  assert.ok(mounts.every((e) => e.status === 201));
  assert.ok(state.max <= 2, `the proxy saw ${state.max} requests in flight at once`);
  assert.equal(state.max, 2, "the bound is used, not just respected");
  assert.equal(state.open, 0);
  await Deno.remove(spec.replace(/\/spec\.yaml$/, ""), { recursive: true });
});

Deno.test("--concurrency 1: copies within one registry (mounts refused) finish, each upload sharing its slot with the download it streams", async () => {
  await using reg = await startRegistry();
  const set = await pushFixtures(reg, {
    repository: "src/one",
    layout: "repos",
    format: "oci",
    platforms: [{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm64" }],
  });
  // Refuse every mount as a registry may (spec: 202 opens a session instead): the upstream gets
  // the POST without its mount parameters, so each blob is copied by a streamed upload.
  const refuseMounts = (r: Request) => {
    const u = new URL(r.url);
    if (r.method !== "POST" || !u.searchParams.has("mount")) return undefined;
    return new Request(`${u.origin}${u.pathname}`, {
      method: "POST",
      headers: r.headers,
      redirect: "manual",
    });
  };
  const { state, intercept } = counting(5, refuseMounts);
  await using proxy = await startProxy({ upstream: reg.url, intercept });
  const spec = await specFile(`image: ${proxy.host}/dst/one:1.0
manifests:
${set.images.map((i) => `  - image: ${proxy.host}/${i.repository}:latest`).join("\n")}
`);
  const r = await runCli(["--plain-http", "--concurrency", "1", "push", "from-spec", spec]);
  assert.equal(r.code, 0, r.stderr);
  const patches = proxy.log.filter((e) => e.method === "PATCH" || e.method === "PUT");
  assert.ok(patches.some((e) => e.kind === "upload"), "blobs were copied, not mounted");
  // The rule: an upload and the download its body streams from, on the same registry, count as
  // one; nothing else runs beside them.
  assert.ok(state.max <= 2, `the proxy saw ${state.max} requests in flight at once`);
  await Deno.remove(spec.replace(/\/spec\.yaml$/, ""), { recursive: true });
});

Deno.test("--concurrency 1 and 2: copies between registries finish in bound, each blob's download under way while its upload session opens", async () => {
  await using src = await startRegistry();
  await using dst = await startRegistry();
  const set = await pushFixtures(src, {
    repository: "src/far",
    format: "oci",
    index: { tag: "multi" },
    platforms: [{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm64" }],
  });
  const blobs = new Set(
    set.images.flatMap((i) => [i.config.digest, ...i.layers.map((l) => l.digest)]),
  );
  for (const n of [1, 2]) {
    let gets = 0;
    let posts = 0;
    let late = 0;
    const source = counting(0);
    await using srcProxy = await startProxy({
      upstream: src.url,
      intercept: (ctx) => {
        if (ctx.request.method === "GET" && ctx.request.url.includes("/blobs/")) gets++;
        return source.intercept(ctx);
      },
    });
    const target = counting(0);
    await using dstProxy = await startProxy({
      upstream: dst.url,
      intercept: async (ctx) => {
        const u = new URL(ctx.request.url);
        if (ctx.request.method === "POST" && u.pathname.endsWith("/blobs/uploads/")) {
          // Answer an upload's POST only once as many blob downloads as POSTs have started (at
          // most 10 s): a copy that reads its source after the session opened is late each time.
          const mine = ++posts;
          const until = performance.now() + 10_000;
          while (gets < mine && performance.now() < until) {
            await new Promise((r) => setTimeout(r, 5));
          }
          if (gets < mine) late++;
        }
        return await target.intercept(ctx);
      },
    });
    const spec = await specFile(
      `image: ${dstProxy.host}/dst/far${n}:1\nmanifests:\n  - image: ${srcProxy.host}/src/far:multi\n`,
    );
    const r = await runCli(["--plain-http", "--concurrency", String(n), "push", "from-spec", spec]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(posts, blobs.size, `every blob copied (--concurrency ${n})`);
    assert.equal(
      late,
      0,
      `--concurrency ${n}: ${late} of ${posts} uploads opened before their download`,
    );
    assert.ok(
      source.state.max <= n && target.state.max <= n,
      `${source.state.max}, ${target.state.max}`,
    );
    await Deno.remove(spec.replace(/\/spec\.yaml$/, ""), { recursive: true });
  }
});
