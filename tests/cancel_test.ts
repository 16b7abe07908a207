// Cancellation through RequestOptions.signal: every Repository call stops when its signal aborts,
// throws the signal's reason, is never retried, and cancels the bodies it had in flight.
import assert from "node:assert/strict";
import { RegistryClient } from "../lib/registry/client.ts";
import { digestOf } from "../lib/digest.ts";
import { startHostile, trickle } from "./_helpers/hostile.ts";
import { makeServerTls } from "../scripts/harness/mod.ts";

function clientFor(host: string): RegistryClient {
  return new RegistryClient({ plainHttp: [host], noConfig: true, retryBaseMs: 1 });
}

/** Waits until `cond` holds (bounded: 500 checks, 10 ms apart). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), "condition not reached");
}

Deno.test("getManifest() aborted while waiting for headers throws the signal's reason, not retried", async () => {
  await using server = await startHostile(async (_req, _seen, s) => {
    // Never answers: the response waits until the server stops.
    await new Promise((r) => s.stopping.addEventListener("abort", r, { once: true }));
    return new Response(null, { status: 503 });
  });
  await using client = clientFor(server.host);
  const ac = new AbortController();
  const why = new Error("stopped by the test");
  const call = client.repository(server.host, "a/b").getManifest("latest", undefined, {
    signal: ac.signal,
  });
  await until(() => server.log.length === 1);
  ac.abort(why);
  await assert.rejects(call, (e) => e === why);
  assert.equal(server.log.length, 1, "an aborted request is not sent again");
});

Deno.test("an already aborted signal sends nothing and throws an AbortError", async () => {
  await using server = await startHostile(() => new Response("{}"));
  await using client = clientFor(server.host);
  const err = await client.repository(server.host, "a/b").headBlob("sha256:" + "0".repeat(64), {
    signal: AbortSignal.abort(),
  }).catch((e) => e);
  assert.equal(err?.name, "AbortError");
  assert.equal(server.log.length, 0);
});

Deno.test("fetchBlob() stream errors with the abort reason when the signal aborts mid-body", async () => {
  await using server = await startHostile((_req, _seen, s) =>
    new Response(trickle("x", 20, s.stopping, true), { status: 200 })
  );
  await using client = clientFor(server.host);
  const ac = new AbortController();
  const stream = await client.repository(server.host, "a/b").fetchBlob(
    { digest: digestOf(new TextEncoder().encode("never")) },
    { signal: ac.signal },
  );
  const reader = stream.getReader();
  await reader.read();
  ac.abort();
  await assert.rejects(
    (async () => {
      for (let i = 0; i < 1000; i++) if ((await reader.read()).done) return;
    })(),
    { name: "AbortError" },
  );
});

Deno.test("uploadBlob() aborted mid-upload cancels its source stream and throws the reason", async () => {
  await using server = await startHostile(async (req) => {
    if (req.method === "POST") {
      return new Response(null, { status: 202, headers: { location: "/v2/a/b/blobs/uploads/u1" } });
    }
    if (req.method === "DELETE") return new Response(null, { status: 204 });
    // Reads the upload as it comes; the client must stop sending.
    await req.body?.pipeTo(new WritableStream()).catch(() => {});
    return new Response(null, { status: 400 });
  });
  await using client = clientFor(server.host);
  const ac = new AbortController();
  let pulled = 0;
  let cancelled: unknown;
  const source = new ReadableStream<Uint8Array>({
    async pull(c) {
      pulled++;
      await new Promise((r) => setTimeout(r, 5));
      c.enqueue(new Uint8Array(1024));
    },
    cancel(reason) {
      cancelled = reason ?? "cancelled";
    },
  });
  const why = new Error("user pressed Ctrl-C");
  const call = client.repository(server.host, "a/b").uploadBlob(source, undefined, {
    signal: ac.signal,
  });
  await until(() => pulled > 3);
  ac.abort(why);
  await assert.rejects(call, (e) => e === why);
  await until(() => cancelled !== undefined);
});

Deno.test("--insecure (node:https) requests stop on abort too, mid-body included", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mt-tls-" });
  const tls = await makeServerTls(dir);
  const stop = new AbortController();
  let seen = 0;
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: await Deno.readTextFile(tls.certFile),
    key: await Deno.readTextFile(tls.keyFile),
    signal: stop.signal,
    onListen() {},
  }, async (req) => {
    seen++;
    if (new URL(req.url).pathname.includes("/blobs/")) {
      return new Response(trickle("x", 20, stop.signal, true));
    }
    await new Promise((r) => stop.signal.addEventListener("abort", r, { once: true }));
    return new Response(null, { status: 503 });
  });
  const host = `127.0.0.1:${server.addr.port}`;
  try {
    await using client = new RegistryClient({ insecure: [host], noConfig: true });
    const repo = client.repository(host, "a/b");
    const ac = new AbortController();
    const call = repo.getManifest("latest", undefined, { signal: ac.signal });
    await until(() => seen === 1);
    ac.abort();
    await assert.rejects(call, { name: "AbortError" });

    const ac2 = new AbortController();
    const stream = await repo.fetchBlob({ digest: "sha256:" + "c".repeat(64) }, {
      signal: ac2.signal,
    });
    const reader = stream.getReader();
    await reader.read();
    ac2.abort();
    await assert.rejects(
      (async () => {
        for (let i = 0; i < 1000; i++) if ((await reader.read()).done) return;
      })(),
      { name: "AbortError" },
    );
  } finally {
    stop.abort();
    await server.finished;
    await Deno.remove(dir, { recursive: true });
  }
});
