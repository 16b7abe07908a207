/**
 * A minimal `fetch` over `node:https` that skips certificate verification. Deno's own fetch has no
 * per-client switch for that (only the process-wide `--unsafely-ignore-certificate-errors`), and
 * `--insecure` must apply to the registries the user named, not to every host the process talks
 * to. Redirects are not followed here: the transport follows them itself.
 *
 * @module
 */

import type { Agent, ClientRequest, IncomingMessage } from "node:http";

// node:https is imported on the first call, not when this module loads: `deno bundle` inlines
// this module into the single file and hoists its static `node:` imports to the top, where they
// would run at every start-up (tens of milliseconds under Deno).
let https: typeof import("node:https") | undefined;
let agent: Agent | undefined;

/**
 * Sends one request without verifying the server's certificate and returns a Web `Response`
 * whose body streams from the socket.
 *
 * @example
 * ```ts ignore
 * import { insecureFetch } from "./insecure_fetch.ts";
 * const res = await insecureFetch("https://127.0.0.1:5443/v2/", { method: "GET" });
 * await res.body?.cancel();
 * ```
 */
export async function insecureFetch(
  url: string | URL,
  init: {
    method: string;
    headers?: Headers;
    body?: Uint8Array | ReadableStream<Uint8Array> | null;
    signal?: AbortSignal;
  },
): Promise<Response> {
  https ??= await import("node:https");
  agent ??= new https.Agent({ keepAlive: true, rejectUnauthorized: false });
  const { request } = https;
  const u = new URL(url);
  const headers: Record<string, string> = {};
  init.headers?.forEach((v, k) => headers[k] = v);
  if (init.body instanceof Uint8Array) headers["content-length"] = String(init.body.byteLength);
  else if (init.body) headers["transfer-encoding"] = "chunked";
  return await new Promise<Response>((resolve, reject) => {
    const req = request(u, { method: init.method, headers, agent }, (res) => {
      resolve(toResponse(res, init.method));
    });
    req.on(
      "error",
      (e) =>
        reject(new TypeError(`error sending request for url (${u}): ${e.message}`, { cause: e })),
    );
    if (init.signal) {
      // The caller's signal ends the request and its body, as it does for Deno's fetch.
      if (init.signal.aborted) req.destroy(init.signal.reason);
      init.signal.addEventListener("abort", () => req.destroy(init.signal!.reason), { once: true });
    }
    sendBody(req, init.body);
  });
}

/** A Web `Response` whose body streams from `res`, pausing the socket when the reader lags. */
function toResponse(res: IncomingMessage, method: string): Response {
  const out = new Headers();
  for (const [k, v] of Object.entries(res.headers)) {
    if (Array.isArray(v)) v.forEach((x) => out.append(k, x));
    else if (v !== undefined) out.set(k, String(v));
  }
  const status = res.statusCode ?? 0;
  const noBody = method === "HEAD" || status === 204 || status === 304;
  let ended = false;
  const body = noBody ? null : new ReadableStream<Uint8Array>({
    start(controller) {
      res.on("data", (c: Uint8Array) => {
        // A body cancelled (a 401 whose answer is not read) may still see data already received.
        if (ended) return;
        controller.enqueue(new Uint8Array(c));
        // Backpressure: a slow reader pauses the socket instead of buffering the body.
        if ((controller.desiredSize ?? 1) <= 0) res.pause();
      });
      res.on("end", () => {
        if (ended) return;
        ended = true;
        controller.close();
      });
      const fail = (e: Error) => {
        if (ended) return;
        ended = true;
        controller.error(e);
      };
      res.on("error", fail);
      // A connection that closes before the end of the body must not leave the reader waiting.
      res.on("close", () => {
        if (!res.complete) fail(new Error("connection closed before the end of the body"));
      });
    },
    pull() {
      res.resume();
    },
    cancel() {
      ended = true;
      res.destroy();
    },
  }, { highWaterMark: 4 });
  if (noBody) res.resume();
  return new Response(body, { status, statusText: res.statusMessage, headers: out });
}

/** Writes the request body (bytes at once, a stream with backpressure) and ends the request. */
function sendBody(
  req: ClientRequest,
  body: Uint8Array | ReadableStream<Uint8Array> | null | undefined,
): void {
  if (!body) req.end();
  else if (body instanceof Uint8Array) {
    // A Uint8Array is what node:http writes (a Buffer is one).
    req.end(body);
  } else {
    (async () => {
      const reader = body.getReader();
      try {
        while (true) {
          const { done, value } = await reader.read();
          if (done) break;
          if (!req.write(value)) await new Promise((r) => req.once("drain", r));
        }
        req.end();
      } catch (e) {
        req.destroy(e as Error);
      }
    })();
  }
}
