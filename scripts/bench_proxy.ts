/**
 * The benchmark's network: a TCP proxy on 127.0.0.1 in front of one registry that delays bytes the
 * way a link with a round-trip time does, optionally caps its bandwidth, and counts connections and
 * HTTP requests (method and path kind) by reading the request heads that pass through it.
 *
 * Why TCP and not HTTP: a tool's own connection handling is part of what is measured. Every client
 * connection here is one connection to the registry, a new connection costs one round trip more
 * (the TCP handshake), a TLS probe sent to a plain-HTTP registry costs what it costs, and request
 * bytes reach the registry exactly as the tool framed them (Content-Length, chunked, keep-alive).
 *
 * The model: each direction delays every chunk by half the RTT (in order, pipelined, so latency
 * does not cut throughput); the first bytes of a connection wait one RTT more; with a bandwidth cap
 * each direction is a link of that many bytes per second shared by all connections. Each
 * direction buffers at most 8 MiB in flight per connection. Loopback only; `stop()` closes the
 * listener and every connection.
 *
 * @module
 */

/** Options of {@link startBenchProxy}. */
export interface BenchProxyOptions {
  /** The registry, `127.0.0.1:PORT` or `http://127.0.0.1:PORT`. */
  upstream: string;
  /** Round-trip time to add, in ms (half each way; one more on a new connection). */
  rttMs?: number;
  /** Bandwidth of each direction, bytes per second (unlimited when absent). */
  bytesPerSecond?: number;
}

/** A request seen going through. */
export interface SeenRequest {
  /** Method, or `TLS` for a TLS ClientHello and `?` for bytes that are not HTTP/1.x. */
  method: string;
  /** Request target (path and query). */
  path: string;
  /** `ping`, `manifest`, `blob`, `mount`, `upload`, `tags`, `referrers`, `token`, `other`. */
  kind: string;
  /** Connection number (1-based). */
  conn: number;
  /** When its head arrived from the client (performance.now()). */
  at: number;
}

/** Totals of a slice of traffic, see {@link BenchProxy.since}. */
export interface TrafficTotals {
  /** HTTP requests. */
  requests: number;
  /** TCP connections opened. */
  connections: number;
  /** Requests by `METHOD kind`. */
  kinds: Record<string, number>;
  /** Bytes client → registry. */
  bytesUp: number;
  /** Bytes registry → client. */
  bytesDown: number;
  /** Dependent round trips: see {@link countWaves} (0 when the RTT is 0). */
  waves: number;
}

/** A position in the proxy's counters. */
export interface TrafficMark {
  /** Requests seen before it. */
  requests: number;
  /** Connections seen before it. */
  connections: number;
  /** Bytes up before it. */
  bytesUp: number;
  /** Bytes down before it. */
  bytesDown: number;
}

/** A running proxy. */
export interface BenchProxy {
  /** `127.0.0.1:PORT`. */
  host: string;
  /** Every request seen, in order. */
  requests: SeenRequest[];
  /** Now's counters, to pass to {@link BenchProxy.since} later. */
  mark(): TrafficMark;
  /** Traffic since `mark`. */
  since(mark: TrafficMark): TrafficTotals;
  /** Requests since `mark`. */
  slice(mark: TrafficMark): SeenRequest[];
  /** Closes the listener and every connection; idempotent. */
  stop(): Promise<void>;
  /** Same as stop. */
  [Symbol.asyncDispose](): Promise<void>;
}

const IN_FLIGHT = 8 << 20;
const CHUNK = 64 << 10;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Classifies a request target of the distribution API. */
export function requestKind(method: string, target: string): string {
  const q = target.indexOf("?");
  const path = q < 0 ? target : target.slice(0, q);
  if (/^\/v2\/?$/.test(path)) return "ping";
  if (path.includes("/manifests/")) return "manifest";
  if (path.includes("/blobs/uploads")) {
    return method === "POST" && /[?&]mount=/.test(target) ? "mount" : "upload";
  }
  if (path.includes("/blobs/")) return "blob";
  if (path.includes("/tags/list")) return "tags";
  if (path.includes("/referrers/")) return "referrers";
  if (path.includes("token")) return "token";
  return "other";
}

/**
 * Counts waves of requests: a wave starts with the first request sent at least 0.9 RTT after the
 * start of the one before. A request that needs an earlier one's answer comes at least one RTT
 * after it, so this is the number of dependent round trips; requests sent together (or staggered
 * by new connections' handshakes) fall in one wave. 0 when the RTT is 0.
 */
export function countWaves(times: number[], rttMs: number): number {
  if (rttMs <= 0) return 0;
  let waves = 0;
  let start = -Infinity;
  for (const t of [...times].sort((a, b) => a - b)) {
    if (t - start >= 0.9 * rttMs) {
      waves++;
      start = t;
    }
  }
  return waves;
}

/** A link direction of limited bandwidth, shared by every connection using it. */
class Link {
  #cursor = 0;
  #msPerByte: number;

  constructor(bytesPerSecond: number) {
    this.#msPerByte = 1000 / bytesPerSecond;
  }

  /**
   * Waits until `n` bytes have been "sent" after everything queued before them. Up to 20 ms of
   * idle time is credited, so timers that fire late do not lower the rate below the cap.
   */
  async take(n: number): Promise<void> {
    const now = performance.now();
    this.#cursor = Math.max(now - 20, this.#cursor) + n * this.#msPerByte;
    const wait = this.#cursor - now;
    if (wait >= 1) await sleep(wait);
  }
}

/**
 * Reads HTTP/1.x request heads out of the client's byte stream: skips bodies by Content-Length or
 * by chunk sizes, so only heads are decoded. Anything it cannot frame ends the sniffing for that
 * connection (the bytes still pass).
 */
class RequestSniffer {
  #state: "head" | "length" | "size" | "data" | "crlf" | "trailer" | "dead" = "head";
  #text = "";
  #remaining = 0;
  #decoder = new TextDecoder("latin1");
  #onRequest: (method: string, target: string) => void;

  constructor(onRequest: (method: string, target: string) => void) {
    this.#onRequest = onRequest;
  }

  feed(b: Uint8Array): void {
    let i = 0;
    while (i < b.length && this.#state !== "dead") {
      switch (this.#state) {
        case "head": {
          if (this.#text === "" && b[i] === 0x16) {
            this.#onRequest("TLS", "");
            this.#state = "dead";
            return;
          }
          const end = this.#line(b, i, "\r\n\r\n", 64 << 10);
          if (end < 0) return;
          i = end;
          this.#head(this.#text);
          this.#text = "";
          break;
        }
        case "length":
        case "data": {
          const n = Math.min(this.#remaining, b.length - i);
          i += n;
          this.#remaining -= n;
          if (this.#remaining === 0) {
            if (this.#state === "data") {
              this.#state = "crlf";
              this.#remaining = 2;
            } else this.#state = "head";
          }
          break;
        }
        case "crlf": {
          const n = Math.min(this.#remaining, b.length - i);
          i += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = "size";
          break;
        }
        case "size": {
          const end = this.#line(b, i, "\r\n", 1024);
          if (end < 0) return;
          i = end;
          const size = parseInt(this.#text.split(";")[0].trim(), 16);
          this.#text = "";
          if (Number.isNaN(size)) this.#state = "dead";
          else if (size === 0) this.#state = "trailer";
          else {
            this.#state = "data";
            this.#remaining = size;
          }
          break;
        }
        case "trailer": {
          const end = this.#line(b, i, "\r\n", 64 << 10);
          if (end < 0) return;
          i = end;
          if (this.#text === "\r\n") this.#state = "head";
          this.#text = "";
          break;
        }
      }
    }
  }

  /**
   * Appends bytes to the text until `stop` ends it; returns the index after it in `b`, or -1 when
   * more bytes are needed. The text keeps `stop`.
   */
  #line(b: Uint8Array, from: number, stop: string, cap: number): number {
    const before = this.#text.length;
    const take = Math.min(b.length - from, cap);
    this.#text += this.#decoder.decode(b.subarray(from, from + take));
    const at = this.#text.indexOf(stop, Math.max(0, before - stop.length + 1));
    if (at < 0) {
      if (this.#text.length >= cap) this.#state = "dead";
      return -1;
    }
    const end = at + stop.length;
    this.#text = this.#text.slice(0, end);
    return from + (end - before);
  }

  #head(text: string): void {
    const [first, ...lines] = text.split("\r\n");
    const m = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(first);
    if (!m) {
      this.#onRequest("?", first.slice(0, 40));
      this.#state = "dead";
      return;
    }
    this.#onRequest(m[1], m[2]);
    let length = 0;
    let chunked = false;
    for (const l of lines) {
      const c = l.indexOf(":");
      if (c < 0) continue;
      const name = l.slice(0, c).trim().toLowerCase();
      const value = l.slice(c + 1).trim().toLowerCase();
      if (name === "content-length") length = Number(value);
      if (name === "transfer-encoding" && value.includes("chunked")) chunked = true;
    }
    if (chunked) this.#state = "size";
    else if (length > 0) {
      this.#state = "length";
      this.#remaining = length;
    } else this.#state = "head";
  }
}

async function writeAll(w: Deno.Conn, b: Uint8Array): Promise<void> {
  for (let off = 0; off < b.length;) off += await w.write(b.subarray(off));
}

/** Moves bytes from `src` to `dst` with the delay and cap of one direction. */
async function pump(
  src: Deno.Conn,
  dst: Deno.Conn,
  opts: { delayMs: number; firstExtraMs: number; link?: Link; onData(b: Uint8Array): void },
): Promise<void> {
  if (!opts.delayMs && !opts.firstExtraMs && !opts.link) {
    const buf = new Uint8Array(4 * CHUNK);
    for (;;) {
      const n = await src.read(buf);
      if (n === null) break;
      opts.onData(buf.subarray(0, n));
      await writeAll(dst, buf.subarray(0, n));
    }
  } else {
    const queue: { chunk: Uint8Array; due: number }[] = [];
    let queued = 0;
    let ended = false;
    let failed: unknown;
    let wakeWriter: (() => void) | undefined;
    let wakeReader: (() => void) | undefined;
    const writer = (async () => {
      try {
        for (;;) {
          const item = queue.shift();
          if (!item) {
            if (ended) return;
            await new Promise<void>((r) => wakeWriter = r);
            continue;
          }
          const wait = item.due - performance.now();
          if (wait >= 1) await sleep(wait);
          await writeAll(dst, item.chunk);
          queued -= item.chunk.length;
          wakeReader?.();
        }
      } catch (e) {
        failed = e;
        wakeReader?.();
      }
    })();
    let first = true;
    try {
      for (;;) {
        while (queued > IN_FLIGHT && failed === undefined) {
          await new Promise<void>((r) => wakeReader = r);
        }
        if (failed !== undefined) throw failed;
        const buf = new Uint8Array(CHUNK);
        const n = await src.read(buf);
        if (n === null) break;
        const chunk = buf.subarray(0, n);
        opts.onData(chunk);
        if (opts.link) await opts.link.take(n);
        queue.push({
          chunk,
          due: performance.now() + opts.delayMs + (first ? opts.firstExtraMs : 0),
        });
        first = false;
        queued += n;
        wakeWriter?.();
      }
    } finally {
      ended = true;
      wakeWriter?.();
      await writer;
    }
    if (failed !== undefined) throw failed;
  }
  await dst.closeWrite().catch(() => {});
}

/**
 * Starts a proxy in front of `options.upstream` on a free 127.0.0.1 port.
 *
 * @example
 * ```ts ignore
 * await using proxy = await startBenchProxy({ upstream: reg.host, rttMs: 50 });
 * const m = proxy.mark();
 * // … run a tool against proxy.host …
 * console.log(proxy.since(m).requests);
 * ```
 */
export function startBenchProxy(options: BenchProxyOptions): Promise<BenchProxy> {
  const up = new URL(
    options.upstream.includes("://") ? options.upstream : `http://${options.upstream}`,
  );
  if (!["127.0.0.1", "localhost", "[::1]"].includes(up.hostname)) {
    return Promise.reject(new Error(`Upstream "${options.upstream}" is not on loopback`));
  }
  const rtt = options.rttMs ?? 0;
  const upLink = options.bytesPerSecond ? new Link(options.bytesPerSecond) : undefined;
  const downLink = options.bytesPerSecond ? new Link(options.bytesPerSecond) : undefined;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const requests: SeenRequest[] = [];
  let connections = 0;
  let bytesUp = 0;
  let bytesDown = 0;
  const handlers = new Set<Promise<void>>();

  const handle = async (client: Deno.TcpConn) => {
    const conn = ++connections;
    open.add(client);
    let server: Deno.TcpConn | undefined;
    try {
      server = await Deno.connect({
        hostname: up.hostname.replace(/^\[|\]$/g, ""),
        port: Number(up.port || 80),
      });
      open.add(server);
      // The proxy stands for a network path, which holds no bytes back: without TCP_NODELAY its
      // own sockets would add Nagle's algorithm (a small write waits for the ACK of the previous
      // one, up to the peer's 40 ms delayed ACK), a stall no real path has, and one that falls on
      // multiplexed HTTP/2 (several small frames in a row) more than on one request at a time.
      client.setNoDelay(true);
      server.setNoDelay(true);
      const sniffer = new RequestSniffer((method, target) =>
        requests.push({
          method,
          path: target,
          kind: method === "TLS"
            ? "tls"
            : method === "?"
            ? "unparsed"
            : requestKind(method, target),
          conn,
          at: performance.now(),
        })
      );
      const toServer = pump(client, server, {
        delayMs: rtt / 2,
        firstExtraMs: rtt,
        link: upLink,
        onData: (b) => {
          bytesUp += b.length;
          sniffer.feed(b);
        },
      });
      const toClient = pump(server, client, {
        delayMs: rtt / 2,
        firstExtraMs: 0,
        link: downLink,
        onData: (b) => bytesDown += b.length,
      });
      await Promise.allSettled([toServer, toClient]);
    } catch {
      // the upstream refused or a side reset: close both below
    } finally {
      for (const c of [client, server]) {
        if (!c) continue;
        open.delete(c);
        try {
          c.close();
        } catch { /* already closed */ }
      }
    }
  };

  const accepting = (async () => {
    try {
      for await (const c of listener) {
        const h = handle(c);
        handlers.add(h);
        h.finally(() => handlers.delete(h));
      }
    } catch { /* listener closed */ }
  })();

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      try {
        listener.close();
      } catch { /* closed */ }
      await accepting;
      for (const c of open) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await Promise.allSettled([...handlers]);
    })();
    return stopped;
  };

  const host = `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  return Promise.resolve({
    host,
    requests,
    mark: () => ({ requests: requests.length, connections, bytesUp, bytesDown }),
    since(m: TrafficMark): TrafficTotals {
      const slice = requests.slice(m.requests).filter((r) => r.kind !== "tls");
      const kinds: Record<string, number> = {};
      for (const r of requests.slice(m.requests)) {
        const k = `${r.method} ${r.kind}`;
        kinds[k] = (kinds[k] ?? 0) + 1;
      }
      return {
        requests: slice.length,
        connections: connections - m.connections,
        kinds,
        bytesUp: bytesUp - m.bytesUp,
        bytesDown: bytesDown - m.bytesDown,
        waves: countWaves(slice.map((r) => r.at), rtt),
      };
    },
    slice: (m: TrafficMark) => requests.slice(m.requests),
    stop,
    [Symbol.asyncDispose]: stop,
  });
}
