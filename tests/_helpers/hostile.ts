/**
 * An in-process hostile HTTP server on 127.0.0.1, for faults a real registry cannot produce: it
 * answers whatever its handler says (lies, redirects, trickles) and logs every request with its
 * headers, so a test can check what reached it (an `Authorization` it must never see, say).
 * Bounded: loopback only, a free port, every trickle ends when the server stops.
 */

/** A request as the server saw it. */
export interface SeenRequest {
  method: string;
  /** Path and query. */
  path: string;
  headers: Headers;
}

/** A running hostile server. */
export interface Hostile {
  /** `127.0.0.1:PORT`. */
  host: string;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** Every request seen, in order. */
  log: SeenRequest[];
  /** Aborted when the server stops: trickles and stalls end on it. */
  stopping: AbortSignal;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Handles one request; the request body may be read (uploads) or left alone. */
export type HostileHandler = (req: Request, seen: SeenRequest, server: Hostile) =>
  | Response
  | Promise<Response>;

/** Starts a server answering with `handler`. */
export async function startHostile(handler: HostileHandler): Promise<Hostile> {
  const ac = new AbortController();
  const stopping = new AbortController();
  const log: SeenRequest[] = [];
  const holder: { me?: Hostile } = {};
  const { promise: ready, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: ac.signal,
    onListen: (addr) => resolve(addr as Deno.NetAddr),
    onError: () => new Response("hostile: handler failed", { status: 500 }),
  }, async (req) => {
    const u = new URL(req.url);
    const seen = {
      method: req.method,
      path: u.pathname + u.search,
      headers: new Headers(req.headers),
    };
    log.push(seen);
    return await handler(req, seen, holder.me!);
  });
  const addr = await ready;
  const host = `127.0.0.1:${addr.port}`;
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      stopping.abort();
      ac.abort();
      await server.finished;
    })();
    return stopped;
  };
  const me: Hostile = {
    host,
    url: `http://${host}`,
    log,
    stopping: stopping.signal,
    stop,
    [Symbol.asyncDispose]: stop,
  };
  holder.me = me;
  return me;
}

/**
 * A body that sends `text` one byte every `everyMs`, for ever if `repeat` (until the server stops
 * or the client goes away).
 */
export function trickle(
  text: string,
  everyMs: number,
  stop: AbortSignal,
  repeat = false,
): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let i = 0;
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      if (stop.aborted || (!repeat && i >= bytes.length)) return c.close();
      await new Promise((r) => setTimeout(r, everyMs));
      c.enqueue(bytes.subarray(i % bytes.length, (i % bytes.length) + 1));
      i++;
    },
  }, { highWaterMark: 0 });
}

/** A registry-style JSON error response. */
export function registryError(status: number, code: string): Response {
  return Response.json({ errors: [{ code, message: code.toLowerCase() }] }, { status });
}
