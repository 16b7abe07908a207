/**
 * A small HTTP proxy on 127.0.0.1 in front of a harness registry, for what a real registry cannot
 * do by itself: faults, latency and bandwidth limits, and counting requests by method and path kind.
 *
 * Faults are declared per request pattern ({@link FaultRule}): latency, a connection reset in the
 * middle of a body, a truncated body, any status (500/502/503, 429 with `Retry-After`), a 401 with
 * a given challenge (once, mid-push), a stall before the headers or within the body, a body whose
 * bytes no longer match its digest, a manifest over the 4 MiB cap, and a redirect to another
 * origin. {@link startRecorder} is that other origin: a second small server that records whether an
 * `Authorization` header reached it (it must not), and can play blob storage or a token realm.
 *
 * Bounded: both servers listen on 127.0.0.1 only and refuse non-loopback upstreams and redirect
 * targets; request bodies are streamed through, never held; a fault that must see a whole body
 * holds at most {@link MAX_FAULT_BODY} bytes; stalls end after `stallMs` or when the proxy stops;
 * the servers stop themselves after `lifetimeMs`. `stop()` (or `await using`) ends everything,
 * stalled connections included.
 *
 * @module
 */

/** What an interceptor may do with a request. */
export interface ProxyContext {
  /** The incoming request (URL rewritten to the upstream). Its body can be read once. */
  request: Request;
  /** Sends the request upstream (once: its body is a stream) and returns the upstream response. */
  forward(request?: Request): Promise<Response>;
  /** 0-based index of this request among all the proxy has seen. */
  index: number;
}

/** Decides the response for a request; return undefined to forward it unchanged. */
export type Interceptor = (
  ctx: ProxyContext,
) => Promise<Response | undefined> | Response | undefined;

/**
 * A fault the proxy injects.
 *
 * - `latency`: wait `ms`, then forward.
 * - `status`: answer `status` without forwarding (`retryAfter` sets `Retry-After`; a registry-style
 *   JSON error body unless `body` is given).
 * - `reset`: forward, send the headers and `afterBytes` of the body (default half), then drop the
 *   connection.
 * - `truncate`: forward, send `bytes` of the body (default half) and end it cleanly. With
 *   `keepLength` (default) `Content-Length` still promises the whole body, so the client sees the
 *   connection end early; without it the short body looks complete and only its digest tells.
 * - `stall`: forward, then hold: before the headers when `afterBytes` is undefined, else after that
 *   many body bytes; the connection drops after `stallMs` or when the proxy stops.
 * - `tamper`: forward, change one byte of the body (a hex digit of the last digest it names, so a
 *   manifest stays valid JSON; else a byte in the middle), same length, same headers.
 * - `oversize`: answer 200 with a manifest of `bytes` bytes (default 5 MiB), streamed without a
 *   `Content-Length`, of the media type the upstream gives (an index when it has none).
 * - `redirect`: answer `status` (default 307) to `to` + the request's path and query.
 * - `unauthorized`: answer 401 with `WWW-Authenticate: challenge` without forwarding (the request
 *   body is never read, as a registry answers).
 * - `respond`: answer with what `respond` returns.
 */
export type Fault =
  | { type: "latency"; ms: number }
  | { type: "status"; status: number; retryAfter?: string; body?: string }
  | { type: "reset"; afterBytes?: number }
  | { type: "truncate"; bytes?: number; keepLength?: boolean }
  | { type: "stall"; afterBytes?: number; stallMs?: number }
  | { type: "tamper" }
  | { type: "oversize"; bytes?: number }
  | { type: "redirect"; to: string; status?: number }
  | { type: "unauthorized"; challenge: string }
  | { type: "respond"; respond: (request: Request) => Response | Promise<Response> };

/** Which requests get a fault, and how many of them. Every condition given must hold. */
export interface FaultRule {
  /** HTTP method(s). */
  method?: string | readonly string[];
  /** Path kind(s), as {@link pathKind} names them (`manifest`, `blob`, `upload`, …). */
  kind?: string | readonly string[];
  /** Tested against the path and query. */
  path?: RegExp;
  /** Any other condition. */
  when?: (request: Request) => boolean;
  /** Matching requests that get the fault (default: all). */
  times?: number;
  /** Count `times` per method and path, e.g. "503 once on every manifest". */
  perPath?: boolean;
  /** The fault. */
  fault: Fault;
}

/** Options of {@link startProxy}. */
export interface ProxyOptions {
  /** Upstream base URL on a loopback host, e.g. `http://127.0.0.1:5000`. */
  upstream: string;
  /** Faults by request pattern; the first rule that matches (with budget left) applies. */
  faults?: readonly FaultRule[];
  /** Anything else, decided per request; consulted when no rule applies. */
  intercept?: Interceptor;
  /** Delay added before each response, in ms (one RTT's worth). */
  latencyMs?: number;
  /** Cap on response body throughput, bytes per second. */
  bytesPerSecond?: number;
  /** Client used to reach an HTTPS upstream. */
  client?: Deno.HttpClient;
  /** Longest stall, in ms (default 30000). */
  stallMs?: number;
  /** The proxy stops itself after this many ms (default 600000). */
  lifetimeMs?: number;
}

/** A request as the proxy logged it. */
export interface LoggedRequest {
  /** Method. */
  method: string;
  /** Path and query. */
  path: string;
  /** Kind: ping, manifest, blob, upload, tags, referrers, token, other. */
  kind: string;
  /** Status sent back (0 until the headers are sent, and for a stall before them). */
  status: number;
  /** Whether an Authorization header came with it. */
  authorization: boolean;
  /** When it arrived (performance.now()). */
  at: number;
  /** The fault applied, if any. */
  fault?: Fault["type"];
}

/** A running proxy. */
export interface RunningProxy {
  /** `127.0.0.1:PORT`. */
  host: string;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** Every request seen, in order. */
  log: LoggedRequest[];
  /** How many times each of `options.faults` fired, by index. */
  fired: number[];
  /** Counts by `METHOD kind`. */
  counts(): Record<string, number>;
  /** Stops the proxy, dropping stalled connections. Idempotent. */
  stop(): Promise<void>;
  /** Same as stop. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Most bytes of one body a fault holds in memory (tamper, truncate). */
export const MAX_FAULT_BODY: number = 64 * 1024 * 1024;

/** Classifies a registry API path. */
export function pathKind(path: string): string {
  if (/^\/v2\/?$/.test(path)) return "ping";
  if (/\/manifests\//.test(path)) return "manifest";
  if (/\/blobs\/uploads/.test(path)) return "upload";
  if (/\/blobs\//.test(path)) return "blob";
  if (/\/tags\/list/.test(path)) return "tags";
  if (/\/referrers\//.test(path)) return "referrers";
  if (/\/token\b/.test(path)) return "token";
  return "other";
}

/** Throws unless `url` is on a loopback host: the harness never talks to another machine. */
function assertLoopback(url: string | URL, what: string): URL {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (!(host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host))) {
    throw new Error(`${what} "${u.origin}" is not on a loopback host`);
  }
  return u;
}

const asList = (v: string | readonly string[] | undefined) =>
  v === undefined ? undefined : typeof v === "string" ? [v] : v;

/**
 * Starts a proxy in front of `options.upstream`.
 *
 * @example
 * ```ts ignore
 * await using proxy = await startProxy({
 *   upstream: reg.url,
 *   faults: [{ method: "GET", kind: "manifest", perPath: true, times: 1,
 *     fault: { type: "status", status: 503 } }],
 * });
 * ```
 */
export function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const upstream = assertLoopback(options.upstream, "Proxy upstream");
  const rules = options.faults ?? [];
  for (const r of rules) {
    if (r.fault.type === "redirect") assertLoopback(r.fault.to, "Redirect target");
  }
  const fired = rules.map(() => 0);
  const firedPerPath = rules.map(() => new Map<string, number>());
  const log: LoggedRequest[] = [];
  let index = 0;
  const ac = new AbortController();
  // Aborted on stop: ends every stall.
  const stopping = new AbortController();
  let resolveAddr!: (a: Deno.NetAddr) => void;
  const ready = new Promise<Deno.NetAddr>((r) => resolveAddr = r);

  const pick = (req: Request, path: string, kind: string): number => {
    for (const [i, r] of rules.entries()) {
      if (r.method && !asList(r.method)!.includes(req.method)) continue;
      if (r.kind && !asList(r.kind)!.includes(kind)) continue;
      if (r.path && !r.path.test(path)) continue;
      if (r.when && !r.when(req)) continue;
      const times = r.times ?? Infinity;
      if (r.perPath) {
        const key = `${req.method} ${new URL(req.url).pathname}`;
        const n = firedPerPath[i].get(key) ?? 0;
        if (n >= times) continue;
        firedPerPath[i].set(key, n + 1);
      } else if (fired[i] >= times) continue;
      fired[i]++;
      return i;
    }
    return -1;
  };

  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: ac.signal,
    onListen: (addr) => resolveAddr(addr as Deno.NetAddr),
    // A body that errors on purpose (reset, stall) lands here: that is the fault, not news.
    onError: (e) => new Response(`proxy: ${e instanceof Error ? e.message : e}`, { status: 502 }),
  }, async (req) => {
    const inUrl = new URL(req.url);
    const path = inUrl.pathname + inUrl.search;
    const target = new URL(path, upstream);
    const headers = new Headers(req.headers);
    headers.delete("host");
    // The body streams through: an upload is never held, and a fault that answers without
    // forwarding leaves it unread, as a registry that refuses a request does.
    const upstreamReq = new Request(target, {
      method: req.method,
      headers,
      body: req.body,
      redirect: "manual",
    });
    const forward = (r: Request = upstreamReq) =>
      fetch(r, { redirect: "manual", ...(options.client ? { client: options.client } : {}) });
    const kind = pathKind(inUrl.pathname);
    const entry: LoggedRequest = {
      method: req.method,
      path,
      kind,
      status: 0,
      authorization: req.headers.has("authorization"),
      at: performance.now(),
    };
    log.push(entry);
    const n = index++;
    const rule = pick(upstreamReq, path, kind);
    let res: Response | undefined;
    if (rule >= 0) {
      const fault = rules[rule].fault;
      entry.fault = fault.type;
      res = await applyFault(fault, upstreamReq, forward, {
        stallMs: options.stallMs ?? 30_000,
        signal: stopping.signal,
      });
    }
    res ??= await options.intercept?.({ request: upstreamReq, forward, index: n });
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
    let lifetime: ReturnType<typeof setTimeout> | undefined = undefined;
    const stop = () => {
      stopped ??= (async () => {
        clearTimeout(lifetime);
        stopping.abort();
        ac.abort();
        await server.finished;
      })();
      return stopped;
    };
    const timer = setTimeout(stop, options.lifetimeMs ?? 600_000);
    Deno.unrefTimer(timer);
    lifetime = timer;
    return {
      host,
      url: `http://${host}`,
      log,
      fired,
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

/** Waits `ms` or until `signal` aborts. */
function hold(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

async function applyFault(
  fault: Fault,
  request: Request,
  forward: () => Promise<Response>,
  o: { stallMs: number; signal: AbortSignal },
): Promise<Response> {
  switch (fault.type) {
    case "latency":
      await hold(fault.ms, o.signal);
      return await forward();
    case "status": {
      const headers = new Headers({ "content-type": "application/json" });
      if (fault.retryAfter !== undefined) headers.set("retry-after", fault.retryAfter);
      await request.body?.cancel().catch(() => {});
      return new Response(
        fault.body ??
          JSON.stringify({ errors: [{ code: "UNKNOWN", message: `injected ${fault.status}` }] }),
        { status: fault.status, headers },
      );
    }
    case "unauthorized":
      return Response.json(
        { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] },
        { status: 401, headers: { "www-authenticate": fault.challenge } },
      );
    case "redirect": {
      await request.body?.cancel().catch(() => {});
      const u = new URL(request.url);
      return new Response(null, {
        status: fault.status ?? 307,
        headers: { location: `${fault.to.replace(/\/$/, "")}${u.pathname}${u.search}` },
      });
    }
    case "respond":
      return await fault.respond(request);
    case "oversize": {
      const res = await forward();
      await res.body?.cancel().catch(() => {});
      const type = res.headers.get("content-type") ?? "application/vnd.oci.image.index.v1+json";
      return new Response(oversized(fault.bytes ?? 5 * 1024 * 1024, type), {
        status: 200,
        headers: { "content-type": type },
      });
    }
    case "stall": {
      if (fault.afterBytes === undefined) {
        await hold(fault.stallMs ?? o.stallMs, o.signal);
        throw new Error("stalled request dropped");
      }
      const res = await forward();
      return cut(res, fault.afterBytes, () => hold(fault.stallMs ?? o.stallMs, o.signal));
    }
    case "reset": {
      const res = await forward();
      const length = Number(res.headers.get("content-length") ?? NaN);
      const after = fault.afterBytes ?? (Number.isFinite(length) ? Math.floor(length / 2) : 1024);
      return cut(res, after, () => Promise.resolve());
    }
    case "truncate": {
      const res = await forward();
      const body = await readAll(res);
      const keep = Math.min(body.byteLength, fault.bytes ?? Math.floor(body.byteLength / 2));
      const headers = new Headers(res.headers);
      const short = body.slice(0, keep);
      if (!(fault.keepLength ?? true)) {
        headers.set("content-length", String(keep));
        return new Response(short, { status: res.status, headers });
      }
      // Streamed, so the server keeps the Content-Length that promises the whole body.
      headers.set("content-length", String(body.byteLength));
      return new Response(
        new ReadableStream({
          start(c) {
            c.enqueue(short);
            c.close();
          },
        }),
        { status: res.status, headers },
      );
    }
    case "tamper": {
      const res = await forward();
      const body = await readAll(res);
      tamper(body);
      return new Response(body, { status: res.status, headers: res.headers });
    }
  }
}

/** The response with its body passed through up to `after` bytes, then `wait`, then a drop. */
function cut(res: Response, after: number, wait: () => Promise<void>): Response {
  const reader = res.body?.getReader();
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (reader && sent < after) {
        const { done, value } = await reader.read();
        if (!done) {
          const piece = value.subarray(0, after - sent);
          sent += piece.byteLength;
          c.enqueue(piece);
          return;
        }
      }
      await reader?.cancel().catch(() => {});
      await wait();
      c.error(new Error("connection dropped by the fault proxy"));
    },
    cancel(reason) {
      return reader?.cancel(reason);
    },
  });
  return new Response(body, {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
}

async function readAll(res: Response): Promise<Uint8Array<ArrayBuffer>> {
  const length = Number(res.headers.get("content-length") ?? 0);
  if (length > MAX_FAULT_BODY) {
    await res.body?.cancel().catch(() => {});
    throw new Error(`fault proxy: body of ${length} bytes is over ${MAX_FAULT_BODY}`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const c of res.body ?? []) {
    total += c.byteLength;
    if (total > MAX_FAULT_BODY) throw new Error(`fault proxy: body over ${MAX_FAULT_BODY} bytes`);
    chunks.push(c);
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

/** Changes one byte: a hex digit of the last `sha256:` digest named, else one in the middle. */
function tamper(body: Uint8Array): void {
  if (body.byteLength === 0) return;
  const text = new TextDecoder("latin1").decode(body);
  const at = text.lastIndexOf("sha256:");
  if (at >= 0 && at + 7 < body.byteLength) {
    const i = at + 7;
    body[i] = body[i] === 0x30 ? 0x31 : 0x30; // '0' <-> '1' (or anything -> '0')
    return;
  }
  body[Math.floor(body.byteLength / 2)] ^= 0x01;
}

/** A manifest document of exactly `bytes` bytes, streamed in 64 KiB pieces. */
function oversized(bytes: number, mediaType: string): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  const head = enc.encode(
    `{"schemaVersion":2,"mediaType":${
      JSON.stringify(mediaType)
    },"manifests":[],"annotations":{"pad":"`,
  );
  const tail = enc.encode(`"}}`);
  const padding = Math.max(0, bytes - head.byteLength - tail.byteLength);
  let sent = 0;
  let stage = 0;
  return new ReadableStream({
    pull(c) {
      if (stage === 0) {
        stage = 1;
        return c.enqueue(head);
      }
      if (stage === 1 && sent < padding) {
        const n = Math.min(64 * 1024, padding - sent);
        sent += n;
        return c.enqueue(new Uint8Array(n).fill(0x78));
      }
      if (stage === 1) {
        stage = 2;
        return c.enqueue(tail);
      }
      c.close();
    },
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

/** A request as {@link startRecorder} saw it. */
export interface RecordedRequest {
  /** Method. */
  method: string;
  /** Path and query. */
  path: string;
  /** Whether an Authorization header arrived (the point of the recorder: it must not). */
  authorization: boolean;
  /** Whether a Cookie header arrived. */
  cookie: boolean;
}

/** Options of {@link startRecorder}. */
export interface RecorderOptions {
  /** Loopback address to listen on (default 127.0.0.1; 127.0.0.2 makes "another host"). */
  hostname?: string;
  /** The answer (default 404). E.g. serve a blob as storage would, or play a token realm. */
  serve?: (request: Request) => Response | Promise<Response>;
  /** It stops itself after this many ms (default 600000). */
  lifetimeMs?: number;
}

/** A running recorder. */
export interface Recorder {
  /** `http://HOST:PORT`. */
  url: string;
  /** `HOST:PORT`. */
  host: string;
  /** Every request seen. */
  requests: RecordedRequest[];
  /** Whether any request carried an Authorization header. */
  sawAuthorization(): boolean;
  /** Stops it. Idempotent. */
  stop(): Promise<void>;
  /** Same as stop. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts "another origin" on a loopback address: blob storage a registry redirects to, or a token
 * realm a hostile registry names. It records each request and whether credentials came with it.
 *
 * @example
 * ```ts ignore
 * await using storage = await startRecorder({ serve: (r) => fetch(reg.url + new URL(r.url).pathname) });
 * ```
 */
export function startRecorder(options: RecorderOptions = {}): Promise<Recorder> {
  const hostname = options.hostname ?? "127.0.0.1";
  assertLoopback(`http://${hostname.includes(":") ? `[${hostname}]` : hostname}/`, "Recorder");
  const requests: RecordedRequest[] = [];
  const ac = new AbortController();
  let resolveAddr!: (a: Deno.NetAddr) => void;
  const ready = new Promise<Deno.NetAddr>((r) => resolveAddr = r);
  const server = Deno.serve({
    hostname,
    port: 0,
    signal: ac.signal,
    onListen: (a) => resolveAddr(a as Deno.NetAddr),
    onError: (e) =>
      new Response(`recorder: ${e instanceof Error ? e.message : e}`, { status: 502 }),
  }, async (req) => {
    const u = new URL(req.url);
    requests.push({
      method: req.method,
      path: u.pathname + u.search,
      authorization: req.headers.has("authorization"),
      cookie: req.headers.has("cookie"),
    });
    if (options.serve) return await options.serve(req);
    await req.body?.cancel().catch(() => {});
    return new Response("not here", { status: 404 });
  });
  return ready.then((addr) => {
    const host = `${hostname.includes(":") ? `[${hostname}]` : hostname}:${addr.port}`;
    let stopped: Promise<void> | undefined;
    let lifetime: ReturnType<typeof setTimeout> | undefined = undefined;
    const stop = () => {
      stopped ??= (async () => {
        clearTimeout(lifetime);
        ac.abort();
        await server.finished;
      })();
      return stopped;
    };
    const timer = setTimeout(stop, options.lifetimeMs ?? 600_000);
    Deno.unrefTimer(timer);
    lifetime = timer;
    return {
      url: `http://${host}`,
      host,
      requests,
      sawAuthorization: () => requests.some((r) => r.authorization),
      stop,
      [Symbol.asyncDispose]: stop,
    };
  });
}
