/**
 * A small HTTP proxy on 127.0.0.1 in front of a harness registry, for what a real registry cannot
 * do by itself: faults (tampered or truncated bodies, resets, 5xx, 429, stalls, redirects),
 * latency and bandwidth limits, and counting requests by method and path kind. Loopback only; it
 * stops with `stop()` or `await using`.
 *
 * @module
 */

/** What an interceptor may do with a request. */
export interface ProxyContext {
  /** The incoming request (URL rewritten to the upstream). */
  request: Request;
  /** Sends the request upstream unchanged and returns the upstream response. */
  forward(request?: Request): Promise<Response>;
  /** 0-based index of this request among all the proxy has seen. */
  index: number;
}

/** Decides the response for a request; return undefined to forward it unchanged. */
export type Interceptor = (
  ctx: ProxyContext,
) => Promise<Response | undefined> | Response | undefined;

/** Options of {@link startProxy}. */
export interface ProxyOptions {
  /** Upstream base URL, e.g. `http://127.0.0.1:5000`. */
  upstream: string;
  /** Fault injection. */
  intercept?: Interceptor;
  /** Delay added before each response, in ms (one RTT's worth). */
  latencyMs?: number;
  /** Cap on response body throughput, bytes per second. */
  bytesPerSecond?: number;
  /** Client used to reach an HTTPS upstream. */
  client?: Deno.HttpClient;
}

/** A request as the proxy logged it. */
export interface LoggedRequest {
  /** Method. */
  method: string;
  /** Path and query. */
  path: string;
  /** Kind: ping, manifest, blob, upload, tags, referrers, token, other. */
  kind: string;
  /** Status sent back. */
  status: number;
  /** Whether an Authorization header came with it. */
  authorization: boolean;
  /** When it arrived (performance.now()). */
  at: number;
}

/** A running proxy. */
export interface RunningProxy {
  /** `127.0.0.1:PORT`. */
  host: string;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** Every request seen, in order. */
  log: LoggedRequest[];
  /** Counts by `METHOD kind`. */
  counts(): Record<string, number>;
  /** Stops the proxy. Idempotent. */
  stop(): Promise<void>;
  /** Same as stop. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Classifies a registry API path. */
export function pathKind(path: string): string {
  if (/^\/v2\/?$/.test(path)) return "ping";
  if (/\/manifests\//.test(path)) return "manifest";
  if (/\/blobs\/uploads/.test(path)) return "upload";
  if (/\/blobs\//.test(path)) return "blob";
  if (/\/tags\/list/.test(path)) return "tags";
  if (/\/referrers\//.test(path)) return "referrers";
  return "other";
}

/**
 * Starts a proxy in front of `options.upstream`.
 *
 * @example
 * ```ts ignore
 * await using proxy = await startProxy({ upstream: reg.url, latencyMs: 25 });
 * ```
 */
export function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const upstream = new URL(options.upstream);
  const log: LoggedRequest[] = [];
  let index = 0;
  const ac = new AbortController();
  let resolveAddr!: (a: Deno.NetAddr) => void;
  const ready = new Promise<Deno.NetAddr>((r) => resolveAddr = r);
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: ac.signal,
    onListen: (addr) => resolveAddr(addr as Deno.NetAddr),
  }, async (req) => {
    const inUrl = new URL(req.url);
    const target = new URL(inUrl.pathname + inUrl.search, upstream);
    const headers = new Headers(req.headers);
    headers.delete("host");
    const body = req.body ? new Uint8Array(await req.arrayBuffer()) : undefined;
    const upstreamReq = new Request(target, {
      method: req.method,
      headers,
      body,
      redirect: "manual",
    });
    const forward = (r: Request = upstreamReq) =>
      fetch(r, { redirect: "manual", ...(options.client ? { client: options.client } : {}) });
    const entry: LoggedRequest = {
      method: req.method,
      path: inUrl.pathname + inUrl.search,
      kind: pathKind(inUrl.pathname),
      status: 0,
      authorization: req.headers.has("authorization"),
      at: performance.now(),
    };
    log.push(entry);
    let res = await options.intercept?.({ request: upstreamReq, forward, index: index++ });
    res ??= await forward();
    if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));
    entry.status = res.status;
    // Rewrite absolute upstream Locations so clients keep talking through the proxy.
    const out = new Headers(res.headers);
    const loc = out.get("location");
    if (loc?.startsWith(upstream.origin)) out.set("location", loc.slice(upstream.origin.length));
    let resBody: ReadableStream<Uint8Array> | null = res.body;
    if (resBody && options.bytesPerSecond) {
      resBody = resBody.pipeThrough(throttle(options.bytesPerSecond));
    }
    return new Response(resBody as BodyInit | null, {
      status: res.status,
      statusText: res.statusText,
      headers: out,
    });
  });
  return ready.then((addr) => {
    const host = `127.0.0.1:${addr.port}`;
    let stopped: Promise<void> | undefined;
    const stop = () => {
      stopped ??= (async () => {
        ac.abort();
        await server.finished;
      })();
      return stopped;
    };
    return {
      host,
      url: `http://${host}`,
      log,
      counts() {
        const c: Record<string, number> = {};
        for (const e of log) c[`${e.method} ${e.kind}`] = (c[`${e.method} ${e.kind}`] ?? 0) + 1;
        return c;
      },
      stop,
      [Symbol.asyncDispose]: stop,
    };
  });
}

function throttle(bytesPerSecond: number): TransformStream<Uint8Array, Uint8Array> {
  const start = performance.now();
  let sent = 0;
  return new TransformStream({
    async transform(chunk, controller) {
      for (let off = 0; off < chunk.byteLength; off += 64 * 1024) {
        const piece = chunk.subarray(off, off + 64 * 1024);
        sent += piece.byteLength;
        const due = start + (sent / bytesPerSecond) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        controller.enqueue(piece);
      }
    },
  });
}
