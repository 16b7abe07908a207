/**
 * The HTTP layer under the registry client: scheme choice (HTTPS by default, HTTP where allowed),
 * TLS trust (system roots, `--ca-file`, docker's `certs.d/<host>/ca.crt`, `--insecure` for the
 * named registries only), bounded concurrency per host, redirects followed by hand (credentials
 * never cross to another origin), retries with exponential backoff and jitter for replayable
 * requests, and a debug log of every request line and status with no secrets.
 *
 * @module
 */

import { RegistryError } from "../errors.ts";
import { isLoopbackRegistry } from "../reference.ts";
import { Semaphore } from "../pool.ts";
// node:https costs tens of milliseconds at start-up under Deno: loaded on the first --insecure request.
const insecureFetch: typeof import("./insecure_fetch.ts").insecureFetch = async (...args) =>
  (await import("./insecure_fetch.ts")).insecureFetch(...args);

/** Where the library writes its diagnostics; the CLI decides what to show. */
export interface Logger {
  /** A debug line (request lines, statuses, decisions). Never contains secrets. */
  debug(message: string): void;
  /** A warning a user should see (e.g. a skipped source). */
  warn(message: string): void;
}

/** A logger that drops everything. */
export const SILENT: Logger = { debug() {}, warn() {} };

/** Options of a {@link Transport}. */
export interface TransportOptions {
  /** Registries (`host[:port]`) reached over plain HTTP (`--plain-http`), or `true` for all. */
  plainHttp?: boolean | readonly string[];
  /**
   * Registries whose certificate is not verified (`--insecure`). Like docker's insecure
   * registries they also fall back to HTTP when HTTPS fails.
   */
  insecure?: readonly string[];
  /**
   * Loopback registries (localhost, 127.0.0.0/8, ::1) fall back to HTTP when HTTPS fails to
   * connect, as docker does. Default true.
   */
  loopbackHttpFallback?: boolean;
  /** PEM files of extra CAs trusted for every registry (`--ca-file`). */
  caFiles?: readonly string[];
  /** Directories holding `<host>/ca.crt` (docker's certs.d). Default: /etc/docker/certs.d, ~/.docker/certs.d. */
  certsDirs?: readonly string[];
  /** Attempts after the first for retryable failures. Default 3. */
  retries?: number;
  /** Base delay of the exponential backoff, in ms. Default 200. */
  retryBaseMs?: number;
  /** Longest delay between attempts (also caps `Retry-After`), in ms. Default 10000. */
  retryMaxMs?: number;
  /**
   * Longest wait, in ms, for a connection and response headers once the request is sent (a
   * request body that is still flowing keeps it alive). Default 60000 (`--timeout`).
   */
  timeoutMs?: number;
  /**
   * Longest pause, in ms, within a response body before the transfer fails: a stalled download
   * fails instead of hanging. Default: `timeoutMs`.
   */
  idleTimeoutMs?: number;
  /** Requests in flight per host (until headers arrive). Default 16. */
  maxConcurrencyPerHost?: number;
  /** Diagnostics. */
  logger?: Logger;
  /** User-Agent header. */
  userAgent?: string;
}

/** A request body: bytes (replayable), a factory of streams (replayable), or a one-shot stream. */
export type RequestBody =
  | Uint8Array
  | (() => ReadableStream<Uint8Array>)
  | ReadableStream<Uint8Array>;

/** One HTTP request as the transport takes it. */
export interface TransportRequest {
  /** HTTP method. */
  method: string;
  /** Absolute URL; an `https:` URL is sent over HTTP when the host's scheme is HTTP. */
  url: string | URL;
  /** Headers. `Authorization` is dropped when a redirect leaves the origin. */
  headers?: HeadersInit;
  /** Body. */
  body?: RequestBody;
  /** Whether the request may be repeated. Default: true for GET, HEAD, PUT, DELETE. */
  idempotent?: boolean;
  /** Follow redirects (default true; GET and HEAD only). */
  followRedirects?: boolean;
}

const RETRY_STATUS = new Set([429, 502, 503, 504]);
const MAX_REDIRECTS = 5;
const SAFE_QUERY = new Set([
  "digest",
  "mount",
  "from",
  "n",
  "last",
  "scope",
  "service",
  "artifactType",
]);

/**
 * Sends requests to registries. One per CLI run (or library user); close it when done.
 *
 * @example
 * ```ts ignore
 * import { Transport } from "./transport.ts";
 * await using t = new Transport({ plainHttp: ["127.0.0.1:5000"] });
 * const res = await t.fetch({ method: "GET", url: "https://127.0.0.1:5000/v2/" });
 * await res.body?.cancel();
 * ```
 */
export class Transport {
  readonly #opts: TransportOptions;
  readonly #logger: Logger;
  readonly #schemes = new Map<string, "https" | "http">();
  readonly #probes = new Map<string, Promise<void>>();
  readonly #clients = new Map<string, Deno.HttpClient | null>();
  readonly #hostLimits = new Map<string, Semaphore>();
  #caPems?: Promise<string[]>;
  /** Number of HTTP requests sent (each attempt and redirect hop counts). */
  requests = 0;

  /** Creates a transport. */
  constructor(options: TransportOptions = {}) {
    this.#opts = options;
    this.#logger = options.logger ?? SILENT;
  }

  /** The logger requests are reported to. */
  get logger(): Logger {
    return this.#logger;
  }

  /**
   * Sends a request, following redirects and retrying what is safe to retry. Returns the
   * response whatever its status; throws {@link RegistryError} with status 0 when no response
   * came.
   */
  async fetch(req: TransportRequest): Promise<Response> {
    const method = req.method.toUpperCase();
    checkScheme(method, req.url);
    const idempotent = req.idempotent ?? ["GET", "HEAD", "PUT", "DELETE"].includes(method);
    const replayable = !(req.body instanceof ReadableStream);
    const retries = idempotent && replayable ? (this.#opts.retries ?? 3) : 0;
    for (let attempt = 0;; attempt++) {
      let res: Response;
      try {
        res = await this.#followRedirects(method, req);
      } catch (e) {
        // Only a lost connection is worth another try: a timeout already waited --timeout, and
        // content that failed verification would fail again.
        if (attempt < retries && isConnectionLost(e)) {
          await this.#sleep(attempt, null, `${method} ${redact(req.url)}: ${errorText(e)}`);
          continue;
        }
        throw e;
      }
      if (attempt < retries && RETRY_STATUS.has(res.status)) {
        await res.body?.cancel().catch(() => {});
        await this.#sleep(
          attempt,
          res.headers.get("retry-after"),
          `${method} ${redact(req.url)}: ${res.status}`,
        );
        continue;
      }
      return res;
    }
  }

  /**
   * Runs `read` (a request and the reading of its whole response) again when the connection broke
   * in the middle of the response body, up to the configured retries with the same backoff. For documents read whole
   * (manifests, configs): a reset in the middle of a body costs a new request, not the operation.
   */
  async retryingReads<T>(what: string, read: () => Promise<T>): Promise<T> {
    const retries = this.#opts.retries ?? 3;
    for (let attempt = 0;; attempt++) {
      try {
        return await read();
      } catch (e) {
        // The transport retried what failed before a response; this is for bodies that broke.
        if (attempt >= retries || !(e as Record<symbol, unknown>)?.[BODY_BROKEN]) throw e;
        await this.#sleep(attempt, null, `${what}: ${errorText(e)}`);
      }
    }
  }

  /** `url` with the scheme its host is talked to with (for messages: `--plain-http` shows http). */
  displayUrl(url: string | URL): string {
    const u = new URL(url);
    if (u.protocol === "https:" && this.#scheme(u) === "http") u.protocol = "http:";
    return redact(u);
  }

  /** Closes the per-host HTTP clients. */
  close(): void {
    for (const c of this.#clients.values()) c?.close();
    this.#clients.clear();
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  async #followRedirects(method: string, req: TransportRequest): Promise<Response> {
    let url = new URL(req.url);
    const headers = new Headers(req.headers);
    const follow = (req.followRedirects ?? true) && (method === "GET" || method === "HEAD");
    for (let hop = 0;; hop++) {
      const res = await this.#send(method, url, headers, req.body);
      if (!follow || res.status < 300 || res.status >= 400 || res.status === 304) return res;
      const location = res.headers.get("location");
      if (!location) return res;
      await res.body?.cancel().catch(() => {});
      if (hop >= MAX_REDIRECTS) {
        throw new RegistryError({
          method,
          url: redact(req.url),
          status: res.status,
          message: `${method} ${redact(req.url)}: more than ${MAX_REDIRECTS} redirects`,
        });
      }
      const next = new URL(location, url);
      if (next.protocol !== "https:" && next.protocol !== "http:") {
        // A registry must not make us read local files (file:) or anything else that is not HTTP.
        throw new RegistryError({
          method,
          url: redact(req.url),
          status: res.status,
          message: `${method} ${redact(req.url)}: refusing a redirect to a ${next.protocol} URL`,
        });
      }
      // Credentials are for the registry only: a redirect to blob storage never carries them.
      if (next.origin !== url.origin) headers.delete("authorization");
      url = next;
    }
  }

  async #send(
    method: string,
    url: URL,
    headers: Headers,
    body: RequestBody | undefined,
  ): Promise<Response> {
    const host = url.host;
    if (
      url.protocol === "https:" && this.#scheme(url) === "https" && !this.#schemes.has(host) &&
      this.#fallbackAllowed(host)
    ) {
      const probe = this.#probes.get(host);
      if (probe) await probe;
      else if (body instanceof ReadableStream) await this.#probe(host);
      else {
        // The first request to a host that may speak HTTP decides its scheme.
        let done!: () => void;
        this.#probes.set(host, new Promise<void>((r) => done = r));
        try {
          return await this.#sendOnce(method, url, headers, body, "https");
        } catch (e) {
          // Fall back only when the server answered TLS with something that is not TLS: a
          // certificate problem must stay an error, not turn into a plain-HTTP request.
          if (!(e instanceof RegistryError) || e.status !== 0 || !NOT_TLS.test(causeText(e))) {
            throw e;
          }
          this.#logger.debug(`${host}: HTTPS failed (${errorText(e.cause ?? e)}), trying HTTP`);
          const res = await this.#sendOnce(method, url, headers, body, "http");
          this.#schemes.set(host, "http");
          return res;
        } finally {
          if (!this.#schemes.has(host)) this.#schemes.set(host, "https");
          done();
        }
      }
    }
    return await this.#sendOnce(method, url, headers, body, this.#scheme(url));
  }

  async #probe(host: string): Promise<void> {
    const url = new URL(`https://${host}/v2/`);
    const res = await this.#send("GET", url, new Headers(), undefined);
    await res.body?.cancel().catch(() => {});
  }

  #fallbackAllowed(host: string): boolean {
    if (this.#opts.insecure?.includes(host)) return true;
    return (this.#opts.loopbackHttpFallback ?? true) && isLoopbackRegistry(host);
  }

  #scheme(url: URL): "https" | "http" {
    if (url.protocol === "http:") return "http";
    const host = url.host;
    const plain = this.#opts.plainHttp;
    if (plain === true || (Array.isArray(plain) && plain.includes(host))) return "http";
    return this.#schemes.get(host) ?? "https";
  }

  async #sendOnce(
    method: string,
    url: URL,
    headers: Headers,
    body: RequestBody | undefined,
    scheme: "https" | "http",
  ): Promise<Response> {
    const target = new URL(url);
    target.protocol = scheme + ":";
    const what = `${method} ${redact(target)}`;
    if (this.#opts.userAgent && !headers.has("user-agent")) {
      headers.set("user-agent", this.#opts.userAgent);
    }
    const insecure = scheme === "https" && this.#opts.insecure?.includes(target.host);
    const client = insecure ? undefined : await this.#client(target.host, scheme);
    const limit = this.#limit(target.host);
    const release = await limit.acquire();
    const controller = new AbortController();
    const timeoutMs = this.#opts.timeoutMs ?? 60_000;
    let timedOut = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // The clock runs from the last sign of progress: the request sent, or a chunk of its body
    // taken. A long upload is not a slow server.
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort(new Error(`no response within ${timeoutMs} ms`));
      }, timeoutMs);
    };
    const raw = typeof body === "function" ? body() : body;
    const sending = raw instanceof ReadableStream ? tracked(raw, arm) : undefined;
    const payload = sending?.stream ?? raw as Uint8Array | undefined;
    arm();
    const started = performance.now();
    this.requests++;
    try {
      let res: Response;
      if (insecure) {
        res = await insecureFetch(target, {
          method,
          headers,
          body: payload ?? null,
          signal: controller.signal,
        });
      } else {
        res = await fetch(target, {
          method,
          headers,
          body: (payload ?? null) as BodyInit | null,
          redirect: "manual",
          signal: controller.signal,
          ...(client ? { client } : {}),
        });
      }
      // A server may answer (a 401, a 5xx) before it has read the body: stop sending it, so the
      // source it streams from is closed rather than pumped into a dead request.
      sending?.dispose();
      this.#logger.debug(
        `${what} -> ${res.status} (${Math.round(performance.now() - started)} ms)`,
      );
      return withIdleTimeout(
        res,
        this.#opts.idleTimeoutMs ?? timeoutMs,
        method,
        target,
        controller,
      );
    } catch (e) {
      sending?.dispose();
      this.#logger.debug(`${what} -> ${errorText(e)}`);
      // A body that failed on its way out (content that did not verify, a source download that
      // broke off or stalled, a source that refused us) is the real cause: say that, not "fetch
      // failed".
      const root = sending?.failure instanceof Error ? sending.failure : rootCause(e);
      if (root) throw root;
      if (timedOut) {
        throw mark(
          new RegistryError({
            method,
            url: redact(target),
            status: 0,
            message: `${what}: no response within ${timeoutMs} ms (see --timeout)`,
          }, { cause: e }),
          TIMEOUT,
        );
      }
      const err = new RegistryError({
        method,
        url: redact(target),
        status: 0,
        message: `${what}: ${connectionHint(e, target, scheme)}`,
      }, { cause: e });
      // A request the runtime refuses to send (a blocked port, an invalid URL) fails the same way
      // every time: not worth a retry.
      throw PERMANENT.test(causeText(e)) ? err : mark(err, CONNECTION_LOST);
    } finally {
      clearTimeout(timer);
      release();
    }
  }

  #limit(host: string): Semaphore {
    let s = this.#hostLimits.get(host);
    if (!s) {
      s = new Semaphore(this.#opts.maxConcurrencyPerHost ?? 16);
      this.#hostLimits.set(host, s);
    }
    return s;
  }

  async #client(host: string, scheme: "https" | "http"): Promise<Deno.HttpClient | undefined> {
    if (scheme === "http") return undefined;
    if (!this.#clients.has(host)) {
      const pems = [...await this.#globalCas(), ...await readCertsDirs(host, this.#certsDirs())];
      // Another request may have created it while we read files.
      if (!this.#clients.has(host)) {
        this.#clients.set(host, pems.length > 0 ? Deno.createHttpClient({ caCerts: pems }) : null);
      }
    }
    return this.#clients.get(host) ?? undefined;
  }

  #globalCas(): Promise<string[]> {
    this.#caPems ??= Promise.all((this.#opts.caFiles ?? []).map(async (f) => {
      try {
        return await Deno.readTextFile(f);
      } catch (e) {
        throw new RegistryError({
          method: "READ",
          url: f,
          status: 0,
          message: `Cannot read CA file "${f}": ${errorText(e)}`,
        }, { cause: e });
      }
    }));
    return this.#caPems;
  }

  #certsDirs(): readonly string[] {
    if (this.#opts.certsDirs) return this.#opts.certsDirs;
    const home = Deno.env.get("HOME");
    return ["/etc/docker/certs.d", ...(home ? [`${home}/.docker/certs.d`] : [])];
  }

  async #sleep(attempt: number, retryAfter: string | null, why: string): Promise<void> {
    const max = this.#opts.retryMaxMs ?? 10_000;
    const base = this.#opts.retryBaseMs ?? 200;
    let ms = Math.min(max, base * 2 ** attempt) * (0.5 + Math.random() / 2);
    const after = parseRetryAfter(retryAfter);
    if (after !== undefined) ms = Math.min(max, after);
    this.#logger.debug(`${why}; retrying in ${Math.round(ms)} ms`);
    await new Promise((r) => setTimeout(r, ms));
  }
}

const TIMEOUT = Symbol("timeout");
const CONNECTION_LOST = Symbol("connectionLost");
const BODY_BROKEN = Symbol("bodyBroken");

function mark<E extends Error>(e: E, tag: symbol): E {
  Object.defineProperty(e, tag, { value: true });
  return e;
}

/**
 * True for a request or a response body that broke off (reset, refused, closed early): worth
 * another try when the request may be repeated. False for timeouts, statuses and verification.
 */
export function isConnectionLost(e: unknown): boolean {
  return e instanceof RegistryError &&
    (e as unknown as Record<symbol, unknown>)[CONNECTION_LOST] ===
      true;
}

/** True for a request that got no response, or a body that got no data, within the timeout. */
export function isTimeout(e: unknown): boolean {
  return e instanceof RegistryError && (e as unknown as Record<symbol, unknown>)[TIMEOUT] === true;
}

function checkScheme(method: string, url: string | URL): void {
  const u = new URL(url);
  if (u.protocol !== "https:" && u.protocol !== "http:") {
    throw new TypeError(
      `Cannot send ${method} to "${redact(u)}": only http and https URLs are supported`,
    );
  }
}

/**
 * In the cause chain of a failed request, an error that names the real cause: a verification
 * error (DigestMismatchError, SizeMismatchError), or the timeout or broken connection of the
 * download a body streams from.
 */
function rootCause(e: unknown): Error | undefined {
  for (let c: unknown = e, i = 0; c instanceof Error && i < 10; i++, c = c.cause) {
    if (c.name === "DigestMismatchError" || c.name === "SizeMismatchError") return c;
    if (isTimeout(c) || isConnectionLost(c)) return c;
  }
  return undefined;
}

/**
 * A request body stream that reports each chunk taken (progress), and that can be stopped once the
 * response is in: the source is cancelled and the sending side sees the stream end in an error.
 */
function tracked(
  source: ReadableStream<Uint8Array>,
  onProgress: () => void,
): { stream: ReadableStream<Uint8Array>; dispose(): void; readonly failure: unknown } {
  const reader = source.getReader();
  let finished = false;
  let failure: unknown;
  let ctrl!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      ctrl = c;
    },
    async pull(c) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (e) {
        // Kept as thrown: fetch hands the sending side's error back as a plain Error.
        failure = e;
        throw e;
      }
      if (finished) return;
      onProgress();
      if (r.done) {
        finished = true;
        c.close();
      } else c.enqueue(r.value);
    },
    cancel(reason) {
      finished = true;
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  return {
    stream,
    get failure() {
      return failure;
    },
    dispose() {
      if (finished) return;
      finished = true;
      const why = new Error("the response came before the request body was sent");
      reader.cancel(why).catch(() => {});
      try {
        ctrl.error(why);
      } catch {
        // Already closed.
      }
    },
  };
}

/**
 * A response whose body fails with a {@link RegistryError} (status 0) when no data arrives for
 * `ms` (a timeout) or the connection breaks (connection lost), and closes the connection: a
 * stalled transfer must fail, not hang, and a broken one must say so in one line.
 */
function withIdleTimeout(
  res: Response,
  ms: number,
  method: string,
  url: URL,
  abort: AbortController,
): Response {
  if (!res.body) return res;
  const what = `${method} ${redact(url)}`;
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const idle = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(mark(
              new RegistryError({
                method,
                url: redact(url),
                status: 0,
                message: `${what}: no data for ${ms} ms (see --timeout)`,
              }),
              TIMEOUT,
            )),
          ms,
        );
      });
      try {
        const r = await Promise.race([reader.read(), idle]);
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      } catch (e) {
        const err = e instanceof RegistryError ? e : mark(
          new RegistryError({
            method,
            url: redact(url),
            status: 0,
            message: `${what}: connection lost while reading the response: ${errorText(e)}`,
          }, { cause: e }),
          CONNECTION_LOST,
        );
        if (!(e instanceof RegistryError)) mark(err, BODY_BROKEN);
        abort.abort(err);
        reader.cancel(err).catch(() => {});
        controller.error(err);
      } finally {
        clearTimeout(timer);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  const out = new Response(body, {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
  Object.defineProperty(out, "url", { value: res.url || url.href });
  return out;
}

async function readCertsDirs(host: string, dirs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const dir of dirs) {
    // docker looks in certs.d/<host:port>/ for *.crt files (CAs).
    const d = `${dir}/${host.replace(/^\[|\]/g, "")}`;
    try {
      for await (const e of Deno.readDir(d)) {
        if (e.isFile && e.name.endsWith(".crt")) {
          out.push(await Deno.readTextFile(`${d}/${e.name}`));
        }
      }
    } catch {
      // Absent or unreadable directories are normal.
    }
  }
  return out;
}

/** Parses `Retry-After` (seconds or HTTP date) into ms. */
function parseRetryAfter(v: string | null): number | undefined {
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

/**
 * A URL as it may be shown: query values other than well-known harmless ones (digest, mount,
 * from, n, last, scope, service) are replaced by `…`, user info is dropped.
 *
 * @example
 * ```ts
 * import { redact } from "./transport.ts";
 * console.assert(redact("https://r/v2/x/blobs/uploads/u?_state=secret&digest=sha256:aa")
 *   === "https://r/v2/x/blobs/uploads/u?_state=…&digest=sha256:aa");
 * ```
 */
export function redact(url: string | URL): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return String(url).replace(/\?.*$/, "?…");
  }
  u.username = "";
  u.password = "";
  const parts: string[] = [];
  for (const [k, v] of u.searchParams) parts.push(`${k}=${SAFE_QUERY.has(k) ? v : "…"}`);
  return `${u.origin}${u.pathname}${parts.length ? "?" + parts.join("&") : ""}`;
}

/**
 * Text from a server made safe to print on one terminal line: control characters (escape
 * sequences, line breaks) and bidirectional overrides become `\u{…}`, and it is cut to `max`
 * characters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { printable } from "./transport.ts";
 * assert.equal(printable("a\u001b[31mb"), "a\\u{1b}[31mb");
 * assert.equal(printable("x".repeat(300), 10), "xxxxxxxxxx…");
 * ```
 */
export function printable(text: string, max = 200): string {
  const safe = text.replace(
    // deno-lint-ignore no-control-regex -- control characters are what this removes
    /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g,
    (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`,
  );
  return safe.length > max ? `${safe.slice(0, max)}…` : safe;
}

const PERMANENT = /are blocked|invalid url|relative url|invalid header/i;

const NOT_TLS =
  /InvalidContentType|corrupt message|wrong version number|packet length too long|http request to an https/i;

/** The most telling message of an error and its causes (fetch says only "fetch failed"). */
function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  let msg = e.message;
  const cause = e.cause instanceof Error ? errorText(e.cause) : "";
  if (cause && (msg === "fetch failed" || msg.startsWith("error sending request"))) msg = cause;
  return msg.replace(/^error sending request for url \([^)]*\): /, "").replace(
    /^client error \(Connect\): /,
    "",
  );
}

function causeText(e: unknown): string {
  let out = "";
  for (let c: unknown = e, i = 0; c && i < 10; i++) {
    out += " " + (c instanceof Error ? c.message : String(c));
    c = c instanceof Error ? c.cause : undefined;
  }
  return out;
}

function connectionHint(e: unknown, url: URL, scheme: string): string {
  const text = errorText(e);
  const all = causeText(e);
  if (/certificate|UnknownIssuer|invalid peer|self.signed/i.test(all)) {
    return `${text}: the certificate of ${url.host} is not trusted: use --ca-file, docker's certs.d/${url.host}/ca.crt, or --insecure`;
  }
  if (scheme === "https" && NOT_TLS.test(all)) {
    return `${text}: ${url.host} does not speak HTTPS: use --plain-http for a registry served over HTTP`;
  }
  if (/refused/i.test(all)) return `${text}: is a registry listening at ${url.host}?`;
  return text;
}
