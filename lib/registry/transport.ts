/**
 * The HTTP layer under the registry client: scheme choice (HTTPS by default, HTTP where allowed),
 * TLS trust (system roots, `--ca-file`, docker's `certs.d/<host>/ca.crt`, `--insecure` for the
 * named registries only), bounded concurrency per host, redirects followed by hand (credentials
 * never cross to another origin), retries with exponential backoff and jitter for replayable
 * requests, and a debug log of every request line and status with no secrets.
 *
 * @module
 */

import type { AsyncLocalStorage } from "node:async_hooks";
import { RegistryError, SizeMismatchError, TimeoutError } from "../errors.ts";
import { CA_FILE_CAP, readTextFileCapped } from "../files.ts";
import { isLoopbackRegistry } from "../reference.ts";
import { Semaphore } from "../pool.ts";
import { Alarm, sleep } from "../_timer.ts";
import { BodyLane } from "./body_lane.ts";
import { readCapped } from "../content.ts";
import { WarningRelay } from "./warnings.ts";
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
  /**
   * Loopback registries whose certificate does not verify are talked to without verification, as
   * docker treats them (its default insecure registries are 127.0.0.0/8 and ::1): `manifest`'s
   * rule. Default false: a certificate that does not verify is an error.
   */
  loopbackUnverified?: boolean;
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
  /**
   * Requests in flight per host (`--concurrency`): a request counts from its start until its
   * response body is consumed, cancelled or fails. Default 8.
   */
  maxConcurrencyPerHost?: number;
  /**
   * Minimum rate of a response body, in bytes per second of waiting, checked over each
   * `timeoutMs` spent waiting for data. Default 1024.
   */
  minBytesPerSecond?: number;
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
  /**
   * Cancels the request: waiting for a slot, for the response, or reading or sending its body.
   * An aborted request throws the signal's reason (an `AbortError` when it is not an `Error`) and
   * is never retried.
   */
  signal?: AbortSignal;
}

const RETRY_STATUS = new Set([429, 502, 503, 504]);
const DEFAULT_CONCURRENCY = 8;
/** A body slower than this (per second of waiting, over a window of --timeout) fails. */
const MIN_BYTES_PER_SECOND = 1024;
/**
 * The upload, if any, whose body the current async context is reading (see Transport.#slot).
 * Created by the first upload: node:async_hooks costs milliseconds at start-up under Deno (and
 * `deno bundle` would hoist a static import of it to the top of the single file); before any
 * upload there is no upload context to find.
 */
let UPLOADS: AsyncLocalStorage<SlotScope> | undefined;

/**
 * Requests that share a slot already held: an upload's downloads from its own host (`all` false:
 * GET and HEAD), or every request to the host of a {@link Transport.holdSlot} (`all` true).
 */
interface SlotScope {
  host: string;
  all: boolean;
}
const MAX_REDIRECTS = 5;
/** The most of a `GET /v2/` body read when opening a lane (`{}`, or an error document). */
const LANE_PROBE_CAP = 64 * 1024;
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

/** What {@link Transport} hands to `fetch` besides the method, URL and headers. */
interface DispatchInit {
  body: Uint8Array | ReadableStream<Uint8Array> | undefined;
  insecure: boolean;
  client: Deno.HttpClient | undefined;
  signal: AbortSignal;
}

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
  /** Loopback hosts whose certificate did not verify, talked to unverified (`loopbackUnverified`). */
  readonly #unverifiedLoopback = new Set<string>();
  readonly #probes = new Map<string, Promise<void>>();
  readonly #clients = new Map<string, Deno.HttpClient | null>();
  readonly #hostLimits = new Map<string, Semaphore>();
  readonly #lanes = new Map<string, BodyLane>();
  /** Shows what registries say in `Warning` headers, once each. */
  readonly #warnings: WarningRelay;
  /** Work waiting for the next request to be sent, see {@link whileWaiting}. */
  #afterSend: (() => Promise<unknown>)[] = [];
  #caPems?: Promise<string[]>;
  /** Number of HTTP requests sent (each attempt and redirect hop counts). */
  requests = 0;

  /** Creates a transport. */
  constructor(options: TransportOptions = {}) {
    this.#opts = options;
    this.#logger = options.logger ?? SILENT;
    this.#warnings = new WarningRelay(this.#logger);
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
    const signal = req.signal;
    throwIfAborted(signal);
    for (let attempt = 0;; attempt++) {
      let res: Response;
      try {
        res = await this.#followRedirects(method, req);
      } catch (e) {
        // An abort is the caller's decision, never a reason to try again.
        throwIfAborted(signal);
        // Only a lost connection is worth another try: a timeout already waited --timeout, and
        // content that failed verification would fail again.
        if (attempt < retries && isConnectionLost(e)) {
          await this.#sleep(
            attempt,
            null,
            `${method} ${this.displayUrl(req.url)}: ${errorText(e)}`,
            signal,
          );
          continue;
        }
        throw e;
      }
      if (attempt < retries && RETRY_STATUS.has(res.status)) {
        await res.body?.cancel().catch(() => {});
        await this.#sleep(
          attempt,
          res.headers.get("retry-after"),
          `${method} ${this.displayUrl(req.url)}: ${res.status}`,
          signal,
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
  async retryingReads<T>(
    what: string,
    read: () => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const retries = this.#opts.retries ?? 3;
    for (let attempt = 0;; attempt++) {
      try {
        return await read();
      } catch (e) {
        throwIfAborted(signal);
        // The transport retried what failed before a response; this is for bodies that broke.
        if (attempt >= retries || !(e as Record<symbol, unknown>)?.[BODY_BROKEN]) throw e;
        await this.#sleep(attempt, null, `${what}: ${errorText(e)}`, signal);
      }
    }
  }

  /** `url` with the scheme its host is talked to with (for messages: `--plain-http` shows http). */
  displayUrl(url: string | URL): string {
    const u = new URL(url);
    if (u.protocol === "https:" && this.#scheme(u) === "http") u.protocol = "http:";
    return redact(u);
  }

  /**
   * Opens, in the background, a second connection to `host` over HTTP/1.1 for request bodies of
   * 1 KiB and more (see {@link BodyLane}: it spares them a stall of Deno's HTTP/2), with a
   * `GET /v2/`. Nothing when one is open, or `host` is talked to over plain HTTP or without
   * verification. The promise settles (never rejects) when the lane is open or failed to open;
   * `signal` stops the opening (a lane that is open stays).
   */
  openBodyLane(host: string, signal?: AbortSignal): Promise<void> {
    const open = this.#lanes.get(host);
    if (open?.usable) return open.opened;
    // One that failed or was stopped makes way for a new one (its client closed, not leaked).
    open?.close();
    if (this.#unverified(host)) return Promise.resolve();
    const url = new URL(`https://${host}/v2/`);
    if (this.#scheme(url) !== "https") return Promise.resolve();
    const lane = new BodyLane(this.#pems(host), async (client, closing) => {
      const stop = signal ? AbortSignal.any([closing, signal]) : closing;
      const res = await this.#sendOnce("GET", url, new Headers(), undefined, "https", stop, client);
      // Read to the end (only then does the connection go back to the client's pool), but no more
      // than an answer to /v2/ needs: a registry that sends more loses the lane, nothing else.
      await readCapped(res.body, LANE_PROBE_CAP, "GET /v2/", {
        deadlineMs: this.documentDeadlineMs,
      });
      // A server that closes the connection after each answer keeps none open for a body.
      if (/\bclose\b/i.test(res.headers.get("connection") ?? "")) {
        throw new Error(`${host} closes its HTTP/1.1 connections`);
      }
    });
    this.#lanes.set(host, lane);
    return lane.opened;
  }

  /** Closes the per-host HTTP clients. */
  close(): void {
    for (const c of this.#clients.values()) c?.close();
    this.#clients.clear();
    for (const lane of this.#lanes.values()) lane.close();
    this.#lanes.clear();
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Same as {@link close}, and waits until the lanes being opened have stopped. */
  async [Symbol.asyncDispose](): Promise<void> {
    const lanes = [...this.#lanes.values()];
    this.close();
    await Promise.all(lanes.map((l) => l.opened));
  }

  async #followRedirects(method: string, req: TransportRequest): Promise<Response> {
    let url = new URL(req.url);
    const headers = new Headers(req.headers);
    const follow = (req.followRedirects ?? true) && (method === "GET" || method === "HEAD");
    for (let hop = 0;; hop++) {
      const res = await this.#send(method, url, headers, req.body, req.signal);
      if (!follow || res.status < 300 || res.status >= 400 || res.status === 304) return res;
      const location = res.headers.get("location");
      if (!location) return res;
      await res.body?.cancel().catch(() => {});
      if (hop >= MAX_REDIRECTS) {
        throw new RegistryError({
          method,
          url: this.displayUrl(req.url),
          status: res.status,
          message: `${method} ${this.displayUrl(req.url)}: more than ${MAX_REDIRECTS} redirects`,
        });
      }
      const next = new URL(location, url);
      if (next.protocol !== "https:" && next.protocol !== "http:") {
        // A registry must not make us read local files (file:) or anything else that is not HTTP.
        throw new RegistryError({
          method,
          url: this.displayUrl(req.url),
          status: res.status,
          message: `${method} ${
            this.displayUrl(req.url)
          }: refusing a redirect to a ${next.protocol} URL`,
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
    signal?: AbortSignal,
  ): Promise<Response> {
    const host = url.host;
    if (
      url.protocol === "https:" && this.#scheme(url) === "https" && !this.#schemes.has(host) &&
      this.#fallbackAllowed(host)
    ) {
      // A streamed body cannot be sent twice: its request waits until a probe knows the scheme.
      if (body instanceof ReadableStream) await this.#probe(host);
      // Others do not wait for each other (a first wave of requests costs one round trip, not
      // two): each tries HTTPS and falls back to HTTP on its own.
      else return await this.#sendEitherScheme(method, url, headers, body, signal);
    }
    return await this.#sendOnce(method, url, headers, body, this.#scheme(url), signal);
  }

  /** Sends over HTTPS, or over HTTP when the server answered TLS with something that is not TLS. */
  async #sendEitherScheme(
    method: string,
    url: URL,
    headers: Headers,
    body: Exclude<RequestBody, ReadableStream<Uint8Array>> | undefined,
    signal?: AbortSignal,
  ): Promise<Response> {
    const host = url.host;
    try {
      const res = await this.#sendOnce(method, url, headers, body, "https", signal);
      if (!this.#schemes.has(host)) this.#schemes.set(host, "https");
      return res;
    } catch (e) {
      if (this.#mayIgnoreCertificate(host, e, signal)) {
        this.#logger.debug(`${host}: certificate not verified (a loopback registry, as docker)`);
        this.#unverifiedLoopback.add(host);
        const res = await this.#sendOnce(method, url, headers, body, "https", signal);
        this.#schemes.set(host, "https");
        return res;
      }
      // A certificate problem must stay an error, not turn into a plain-HTTP request.
      if (
        signal?.aborted || !(e instanceof RegistryError) || e.status !== 0 ||
        !NOT_TLS.test(causeText(e))
      ) {
        throw e;
      }
      this.#logger.debug(`${host}: HTTPS failed (${errorText(e.cause ?? e)}), trying HTTP`);
      const res = await this.#sendOnce(method, url, headers, body, "http", signal);
      this.#schemes.set(host, "http");
      return res;
    }
  }

  /** Learns the scheme of `host` with one `GET /v2/` (shared by the requests that wait for it). */
  #probe(host: string): Promise<void> {
    let probe = this.#probes.get(host);
    if (!probe) {
      probe = (async () => {
        const url = new URL(`https://${host}/v2/`);
        const res = await this.#sendEitherScheme("GET", url, new Headers(), undefined);
        await res.body?.cancel().catch(() => {});
      })().finally(() => this.#probes.delete(host));
      this.#probes.set(host, probe);
    }
    return probe;
  }

  /** Whether `host`'s certificate is not verified: `--insecure`, or a loopback one that failed. */
  #unverified(host: string): boolean {
    return this.#opts.insecure?.includes(host) === true || this.#unverifiedLoopback.has(host);
  }

  /** Whether `e` is a certificate that did not verify, from a loopback host docker would trust. */
  #mayIgnoreCertificate(host: string, e: unknown, signal?: AbortSignal): boolean {
    return this.#opts.loopbackUnverified === true && !signal?.aborted &&
      isLoopbackRegistry(host) && !this.#unverified(host) && e instanceof RegistryError &&
      e.status === 0 && CERTIFICATE.test(causeText(e));
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
    signal?: AbortSignal,
    via?: Deno.HttpClient,
  ): Promise<Response> {
    const target = new URL(url);
    target.protocol = scheme + ":";
    if (this.#opts.userAgent && !headers.has("user-agent")) {
      headers.set("user-agent", this.#opts.userAgent);
    }
    const insecure = scheme === "https" && this.#unverified(target.host);
    // Before the slot: a CA file that cannot be read is its own error, not a request's failure.
    const client = via ?? (insecure ? undefined : await this.#client(target.host, scheme));
    const slot = await this.#slot(method, target.host, signal);
    const raw = typeof body === "function" ? body() : body;
    const lent = via || scheme !== "https" ? undefined : this.#lanes.get(target.host)?.borrow(raw);
    const release = lent
      ? () => {
        slot();
        lent.giveBack(true);
      }
      : slot;
    let handedOver = false;
    const timeoutMs = this.#opts.timeoutMs ?? 60_000;
    const clock = new Deadline(timeoutMs);
    // The clock runs from the last sign of progress: the request sent, or a chunk of its body
    // taken. A long upload is not a slow server.
    const sending = raw instanceof ReadableStream ? tracked(raw, () => clock.arm()) : undefined;
    if (sending) clock.graceWhile(() => sending.waiting);
    const onAbort = () => sending?.dispose(abortReason(signal!));
    signal?.addEventListener("abort", onAbort, { once: true });
    const started = performance.now();
    this.requests++;
    try {
      const res = await this.#dispatch(method, target, headers, {
        body: sending?.stream ?? raw as Uint8Array | undefined,
        insecure,
        client: lent?.client ?? client,
        signal: signal ? AbortSignal.any([clock.signal, signal]) : clock.signal,
      }, clock);
      // A server may answer (a 401, a 5xx) before it has read the body: stop sending it, so the
      // source it streams from is closed rather than pumped into a dead request.
      sending?.dispose();
      const ms = Math.round(performance.now() - started);
      const lane = via || lent ? ", HTTP/1.1 lane" : "";
      this.#logger.debug(`${method} ${redact(target)} -> ${res.status} (${ms} ms${lane})`);
      this.#warnings.relay(res, target.host);
      handedOver = true;
      return meteredResponse(res, {
        idleMs: this.#opts.idleTimeoutMs ?? timeoutMs,
        windowMs: timeoutMs,
        minBytesPerSecond: this.#opts.minBytesPerSecond ?? MIN_BYTES_PER_SECOND,
        method,
        url: target,
        abort: clock.controller,
        signal,
        release,
      });
    } catch (e) {
      sending?.dispose();
      lent?.giveBack(false);
      throw this.#failure(e, method, target, scheme, { clock, sending, signal });
    } finally {
      signal?.removeEventListener("abort", onAbort);
      clock.clear();
      if (!handedOver) release();
    }
  }

  /**
   * Runs `work` (loading a module the run will need soon, say) one turn of the event loop after the
   * next request is handed to the runtime, instead of now. Deno writes a request from its event
   * loop: a module evaluated in the same turn as the `fetch()` holds the request back until it is
   * done (node:crypto: 12–16 ms on a fresh process), while one evaluated a turn later runs as the
   * registry answers. `work` that fails is ignored: whoever needs it does it again.
   */
  whileWaiting(work: () => Promise<unknown>): void {
    this.#afterSend.push(work);
  }

  /** Starts the work {@link whileWaiting} holds, a turn after a request was handed over. */
  #startAfterSend(): void {
    if (this.#afterSend.length === 0) return;
    const work = this.#afterSend.splice(0);
    new Alarm(() => {
      for (const w of work) w().catch(() => {});
    }).arm(0);
  }

  /** Starts the request's clock, hands the request over, then starts what waited for that. */
  #dispatch(
    method: string,
    target: URL,
    headers: Headers,
    init: DispatchInit,
    clock: Deadline,
  ): Promise<Response> {
    clock.arm();
    try {
      return this.#fetch(method, target, headers, init);
    } finally {
      this.#startAfterSend();
    }
  }

  /** Sends one request over Deno's fetch, or node:https for `--insecure` registries. */
  #fetch(
    method: string,
    target: URL,
    headers: Headers,
    init: DispatchInit,
  ): Promise<Response> {
    if (init.insecure) {
      return insecureFetch(target, {
        method,
        headers,
        body: init.body ?? null,
        signal: init.signal,
      });
    }
    return fetch(target, {
      method,
      headers,
      body: (init.body ?? null) as BodyInit | null,
      redirect: "manual",
      signal: init.signal,
      ...(init.client ? { client: init.client } : {}),
    });
  }

  /** The error to throw for a request that got no response. */
  #failure(
    e: unknown,
    method: string,
    target: URL,
    scheme: "https" | "http",
    ctx: { clock: Deadline; sending?: { readonly failure: unknown }; signal?: AbortSignal },
  ): unknown {
    const what = `${method} ${redact(target)}`;
    this.#logger.debug(`${what} -> ${errorText(e)}`);
    if (ctx.signal?.aborted) return abortReason(ctx.signal);
    // A body that failed on its way out (content that did not verify, a source download that
    // broke off or stalled, a source that refused us) is the real cause: say that, not "fetch
    // failed".
    const root = ctx.sending?.failure instanceof Error ? ctx.sending.failure : rootCause(e);
    if (root) return root;
    if (ctx.clock.expired) {
      return new TimeoutError(
        `${what}: no response within ${ctx.clock.ms} ms (see --timeout)`,
        { method, url: redact(target), timeoutMs: ctx.clock.ms },
        { cause: e },
      );
    }
    // The runtime quotes a refused header value in its message, and that may be a credential.
    const text = /invalid header/i.test(causeText(e))
      ? "a request header value was refused (not shown: it may hold a credential)"
      : connectionHint(e, target, scheme);
    const err = new RegistryError({
      method,
      url: redact(target),
      status: 0,
      message: `${what}: ${text}`,
    }, { cause: /invalid header/i.test(causeText(e)) ? undefined : e });
    // A request the runtime refuses to send (a blocked port, an invalid URL) fails the same way
    // every time: not worth a retry.
    return PERMANENT.test(causeText(e)) ? err : mark(err, CONNECTION_LOST);
  }

  /**
   * A slot among the requests in flight to `host`, held until the response body is consumed,
   * cancelled or fails. A download (GET, HEAD) made while an upload to the same host streams its
   * body (see {@link streamingUpload}) rides on that upload's slot: the blob it reads is the body
   * of the upload, so the pair counts as one, and a copy within one registry cannot wait for a
   * slot its own upload holds. Every request inside a {@link holdSlot} for `host` rides on it.
   */
  #slot(method: string, host: string, signal: AbortSignal | undefined): Promise<() => void> {
    const scope = UPLOADS?.getStore();
    if (scope?.host === host && (scope.all || method === "GET" || method === "HEAD")) {
      throwIfAborted(signal);
      return Promise.resolve(() => {});
    }
    let s = this.#hostLimits.get(host);
    if (!s) {
      s = new Semaphore(this.#opts.maxConcurrencyPerHost ?? DEFAULT_CONCURRENCY);
      this.#hostLimits.set(host, s);
    }
    return acquire(s, signal);
  }

  /**
   * Runs `upload` (the requests of one blob upload to `host`, and whatever reads its body) so that
   * downloads its body streams from on the same host share its slot (see {@link #slot}).
   */
  async streamingUpload<T>(host: string, upload: () => Promise<T>): Promise<T> {
    if (await this.#holding(host)) return await upload();
    return await UPLOADS!.run({ host, all: false }, upload);
  }

  /**
   * Runs `work` (the requests of one upload session to `host`: its POST, its PATCHes and PUT) on
   * one slot of `host`, taken first and held until `work` settles: every request to `host` inside
   * rides on it. Whatever `work` reads from another host meanwhile takes that host's slots after
   * this one, never the reverse, so two full limiters cannot wait on each other. Inside a hold for
   * the same host, `work` just runs.
   */
  async holdSlot<T>(host: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (await this.#holding(host)) return await work();
    const release = await this.#slot("POST", host, signal);
    try {
      return await UPLOADS!.run({ host, all: true }, work);
    } finally {
      release();
    }
  }

  /** Whether the caller runs inside a {@link holdSlot} for `host` (loading the upload context). */
  async #holding(host: string): Promise<boolean> {
    await this.prepareStreamingUploads();
    const scope = UPLOADS!.getStore();
    return scope?.host === host && scope.all;
  }

  /**
   * Loads what {@link streamingUpload} needs (`node:async_hooks`, a few ms of Deno start-up) ahead
   * of the first upload, so that it loads while earlier requests are in flight.
   */
  async prepareStreamingUploads(): Promise<void> {
    UPLOADS ??= new (await import("node:async_hooks")).AsyncLocalStorage();
  }

  /** The `--timeout` of this transport, in ms. */
  get timeoutMs(): number {
    return this.#opts.timeoutMs ?? 60_000;
  }

  /**
   * How long a document read whole (manifest, config, token, error body, tag list) may take from
   * its headers to its last byte: twice `--timeout`. A stall is reported first as "no data" (after
   * --timeout) and a trickle fails the minimum rate after --timeout of waiting; this bounds the
   * rest (a 4 MiB manifest sent just above the minimum rate).
   */
  get documentDeadlineMs(): number {
    return 2 * this.timeoutMs;
  }

  /** The CA certificates to trust for `host`: --ca-file's and its certs.d directories'. */
  async #pems(host: string): Promise<string[]> {
    return [...await this.#globalCas(), ...await readCertsDirs(host, this.#certsDirs())];
  }

  async #client(host: string, scheme: "https" | "http"): Promise<Deno.HttpClient | undefined> {
    if (scheme === "http") return undefined;
    if (!this.#clients.has(host)) {
      const pems = await this.#pems(host);
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
        return await readTextFileCapped(f, CA_FILE_CAP, `CA file "${f}"`);
      } catch (e) {
        const why = e instanceof SizeMismatchError
          ? `larger than ${CA_FILE_CAP / 1024 / 1024} MiB`
          : errorText(e);
        throw new RegistryError({
          method: "READ",
          url: f,
          status: 0,
          message: `Cannot read CA file "${f}": ${why}`,
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

  async #sleep(
    attempt: number,
    retryAfter: string | null,
    why: string,
    signal?: AbortSignal,
  ): Promise<void> {
    const max = this.#opts.retryMaxMs ?? 10_000;
    const base = this.#opts.retryBaseMs ?? 200;
    let ms = Math.min(max, base * 2 ** attempt) * (0.5 + Math.random() / 2);
    const after = parseRetryAfter(retryAfter);
    if (after !== undefined) ms = Math.min(max, after);
    this.#logger.debug(`${why}; retrying in ${Math.round(ms)} ms`);
    await delay(ms, signal);
  }
}

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
  return e instanceof TimeoutError;
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
    if (
      c.name === "DigestMismatchError" || c.name === "SizeMismatchError" ||
      c.name === "TooLargeError"
    ) return c;
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
): {
  stream: ReadableStream<Uint8Array>;
  dispose(reason?: Error): void;
  readonly failure: unknown;
  /** Whether a read of `source` is pending: the body waits for its source. */
  readonly waiting: boolean;
} {
  const reader = source.getReader();
  let finished = false;
  let waiting = false;
  let failure: unknown;
  let ctrl!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      ctrl = c;
    },
    async pull(c) {
      let r: ReadableStreamReadResult<Uint8Array>;
      waiting = true;
      try {
        r = await reader.read();
      } catch (e) {
        // Kept as thrown: fetch hands the sending side's error back as a plain Error.
        failure = e;
        throw e;
      } finally {
        waiting = false;
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
    get waiting() {
      return waiting;
    },
    dispose(reason?: Error) {
      if (finished) return;
      finished = true;
      const why = reason ?? new Error("the response came before the request body was sent");
      reader.cancel(why).catch(() => {});
      try {
        ctrl.error(why);
      } catch {
        // Already closed.
      }
    },
  };
}

/** What {@link meteredResponse} watches, and the slot it gives back. */
interface Meter {
  /** Longest pause within the body, ms. */
  idleMs: number;
  /** Window of waiting time over which the minimum rate is checked, ms. */
  windowMs: number;
  /** Minimum rate, bytes per second of waiting. */
  minBytesPerSecond: number;
  method: string;
  url: URL;
  /** Closes the connection when the body fails. */
  abort: AbortController;
  /** The caller's signal. */
  signal?: AbortSignal;
  /** Gives back the request's slot: called once, when the body ends, fails or is cancelled. */
  release: () => void;
}

/**
 * A response whose body fails with a {@link TimeoutError} when no data arrives for `idleMs`, or
 * when, over each `windowMs` spent waiting for data, fewer than `minBytesPerSecond` per second
 * came (a trickle must fail near --timeout, not keep a download alive for ever; only time spent
 * waiting counts, so a reader slowed by its own consumer is never blamed); with a
 * {@link RegistryError} (connection lost) when the connection breaks; with the abort reason when
 * `signal` aborts. Any of these closes the connection. The slot is given back when the body ends,
 * fails or is cancelled: a request counts as in flight until then.
 */
function meteredResponse(res: Response, m: Meter): Response {
  if (!res.body) {
    m.release();
    return res;
  }
  const body = new MeteredBody(res.body, m).stream;
  const out = new Response(body, {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
  Object.defineProperty(out, "url", { value: res.url || m.url.href });
  return out;
}

/** The body stream of {@link meteredResponse}. */
class MeteredBody {
  readonly stream: ReadableStream<Uint8Array>;
  readonly #m: Meter;
  readonly #what: string;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #ctrl!: ReadableStreamDefaultController<Uint8Array>;
  #settled = false;
  /** Time spent waiting for data, and bytes received, in the current window. */
  #waited = 0;
  #got = 0;
  /** When the pending read started (none pending: undefined), and the timer watching it. */
  #waitingSince: number | undefined;
  /** Armed while a read waits for data; goes off after idleMs of waiting. */
  readonly #watchdog = new Alarm(() => this.#watch());
  readonly #onAbort = () => this.#stop(abortReason(this.#m.signal!));

  constructor(source: ReadableStream<Uint8Array>, m: Meter) {
    this.#m = m;
    this.#what = `${m.method} ${redact(m.url)}`;
    this.#reader = source.getReader();
    m.signal?.addEventListener("abort", this.#onAbort, { once: true });
    this.stream = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.#ctrl = c;
      },
      pull: (c) => this.#pull(c),
      cancel: (reason) => {
        if (!this.#settled) this.#finish();
        return this.#reader.cancel(reason);
      },
    });
  }

  async #pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    const m = this.#m;
    const started = performance.now();
    // One alarm per body, moved by each read rather than a timer per chunk (a 64 MiB blob comes
    // in ~1000 chunks). It is disarmed between reads: a body left unread keeps nothing alive.
    this.#waitingSince = started;
    this.#watchdog.arm(m.idleMs);
    try {
      const r = await this.#reader.read();
      this.#waitingSince = undefined;
      this.#watchdog.disarm();
      if (this.#settled) return;
      if (r.done) {
        this.#finish();
        return controller.close();
      }
      this.#checkRate(performance.now() - started, r.value.byteLength);
      controller.enqueue(r.value);
    } catch (e) {
      this.#waitingSince = undefined;
      this.#watchdog.disarm();
      if (this.#settled) return;
      if (m.signal?.aborted) return this.#stop(abortReason(m.signal));
      this.#stop(e instanceof RegistryError ? e : this.#broken(e));
    }
  }

  /** The watchdog of {@link #pull}: fails the body when a read waited `idleMs` for data. */
  #watch(): void {
    if (this.#settled || this.#waitingSince === undefined) return;
    const idle = this.#m.idleMs;
    this.#stop(this.#timeout(`no data for ${idle} ms`, idle));
  }

  /** Counts a read; throws when a full window of waiting brought less than the minimum rate. */
  #checkRate(waitedMs: number, bytes: number): void {
    this.#waited += waitedMs;
    this.#got += bytes;
    if (this.#waited < this.#m.windowMs) return;
    const rate = this.#m.minBytesPerSecond;
    if (this.#got < (rate * this.#waited) / 1000) {
      throw this.#timeout(
        `${this.#got} bytes in ${Math.round(this.#waited)} ms, under ${rate} bytes/s`,
        this.#m.windowMs,
      );
    }
    this.#waited = 0;
    this.#got = 0;
  }

  #timeout(message: string, ms: number): TimeoutError {
    return new TimeoutError(`${this.#what}: ${message} (see --timeout)`, {
      method: this.#m.method,
      url: redact(this.#m.url),
      timeoutMs: ms,
    });
  }

  /** A connection that broke mid-body: worth reading again (see Transport.retryingReads). */
  #broken(e: unknown): RegistryError {
    const err = new RegistryError({
      method: this.#m.method,
      url: redact(this.#m.url),
      status: 0,
      message: `${this.#what}: connection lost while reading the response: ${errorText(e)}`,
    }, { cause: e });
    return mark(mark(err, CONNECTION_LOST), BODY_BROKEN);
  }

  #finish(): void {
    this.#settled = true;
    this.#watchdog.disarm();
    this.#m.signal?.removeEventListener("abort", this.#onAbort);
    this.#m.release();
  }

  #stop(err: unknown): void {
    if (this.#settled) return;
    this.#finish();
    this.#m.abort.abort(err);
    this.#reader.cancel(err).catch(() => {});
    try {
      this.#ctrl.error(err);
    } catch {
      // Already closed.
    }
  }
}

/** A timer that aborts a request when nothing progressed for `ms`; re-armed on progress. */
class Deadline {
  readonly ms: number;
  readonly controller = new AbortController();
  expired = false;
  /** Whether the request's body is waiting for its source (see {@link Deadline.graceWhile}). */
  #waiting: () => boolean = () => false;
  #graced = false;
  readonly #alarm = new Alarm(() => {
    if (!this.#graced && this.#waiting()) {
      this.#graced = true;
      this.#alarm.arm(this.ms);
      return;
    }
    this.expired = true;
    this.controller.abort(new Error(`no response within ${this.ms} ms`));
  });
  constructor(ms: number) {
    this.ms = ms;
  }
  /**
   * While `waiting()` says the request's body is waiting for its source, the deadline gives it
   * `ms` more before it expires, once per chunk. A source that stalls then fails first, by its own
   * watchdog (a download's "no data for …"), and is reported as what went wrong, not this
   * request's timeout: with the same --timeout for both, which timer fired first was a race.
   */
  graceWhile(waiting: () => boolean): void {
    this.#waiting = waiting;
  }
  get signal(): AbortSignal {
    return this.controller.signal;
  }
  /**
   * Moves the deadline to `ms` from now. It is called for every chunk of an upload: moving an
   * armed alarm later starts no new timer.
   */
  arm(): void {
    this.#graced = false;
    this.#alarm.arm(this.ms);
  }
  clear(): void {
    this.#alarm.disarm();
  }
}

/**
 * The error an aborted signal stands for: its reason when that is an `Error` (a `DOMException`
 * named `AbortError` by default), else an `AbortError` carrying it as cause.
 */
export function abortReason(signal: AbortSignal): Error {
  const r = signal.reason;
  if (r instanceof Error) return r;
  return Object.assign(new DOMException("The operation was aborted", "AbortError"), { cause: r });
}

/** Throws the abort reason of `signal` when it is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

/**
 * `promise`, or the abort reason of `signal` when it aborts first; `onLate` receives the value if
 * it comes after the abort (to give back a slot taken too late, say).
 */
export function abortable<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  onLate: (value: T) => void,
): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.then(onLate, () => {});
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      reject(abortReason(signal));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then((v) => {
      signal.removeEventListener("abort", onAbort);
      if (aborted) onLate(v);
      else resolve(v);
    }, (e) => {
      signal.removeEventListener("abort", onAbort);
      reject(e);
    });
  });
}

/** Waits `ms`, or rejects with the abort reason as soon as `signal` aborts. */
function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return sleep(ms, signal, abortReason);
}

/** A slot of `limit`, given up at once (or given back when it comes late) if `signal` aborts. */
function acquire(limit: Semaphore, signal: AbortSignal | undefined): Promise<() => void> {
  return abortable(limit.acquire(), signal, (release) => release());
}

async function readCertsDirs(host: string, dirs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const dir of dirs) {
    // docker looks in certs.d/<host:port>/ for *.crt files (CAs).
    const d = `${dir}/${host.replace(/^\[|\]/g, "")}`;
    try {
      for await (const e of Deno.readDir(d)) {
        if (e.isFile && e.name.endsWith(".crt")) {
          out.push(await readTextFileCapped(`${d}/${e.name}`, CA_FILE_CAP, `CA file ${e.name}`));
        }
      }
    } catch (e) {
      // Absent or unreadable directories are normal; a bundle over the cap is not.
      if (e instanceof SizeMismatchError) {
        throw new RegistryError({
          method: "READ",
          url: d,
          status: 0,
          message: `Cannot read CA files in "${d}": one is larger than ${
            CA_FILE_CAP / 1024 / 1024
          } MiB`,
        }, { cause: e });
      }
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
 * import assert from "node:assert/strict";
 * import { redact } from "./transport.ts";
 * assert.ok(redact("https://r/v2/x/blobs/uploads/u?_state=secret&digest=sha256:aa")
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
    /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g,
    (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`,
  );
  return safe.length > max ? `${safe.slice(0, max)}…` : safe;
}

const PERMANENT = /are blocked|invalid url|relative url|invalid header/i;

const CERTIFICATE = /certificate|UnknownIssuer|invalid peer|self.signed/i;

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
  if (CERTIFICATE.test(all)) {
    return `${text}: the certificate of ${url.host} is not trusted: use --ca-file, docker's certs.d/${url.host}/ca.crt, or --insecure`;
  }
  if (scheme === "https" && NOT_TLS.test(all)) {
    return `${text}: ${url.host} does not speak HTTPS: use --plain-http for a registry served over HTTP`;
  }
  if (/refused/i.test(all)) return `${text}: is a registry listening at ${url.host}?`;
  if (/Requests to port \d+ are blocked/i.test(all)) {
    // Deno's fetch applies the browsers' list of bad ports (WHATWG fetch), with no way around it.
    return `${text}: Deno refuses the ports browsers block (10080, 6000, 6665-6669, 5060 and others): serve the registry on another port`;
  }
  return text;
}
