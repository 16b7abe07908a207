/**
 * A second connection to an HTTPS registry, over HTTP/1.1, for request bodies of 1 KiB and more.
 *
 * Deno 2.9.6's `fetch` leaves Nagle's algorithm on, and over HTTP/2 under TLS it writes a DATA
 * frame's payload of 1 KiB or more apart from the frames before it (the `h2` crate chains such a
 * payload instead of copying it, and the TLS stream writes each part on its own). That second
 * write waits until the registry acknowledges the first, which it delays: it has nothing to
 * answer before the body. So a manifest `PUT` of an index over HTTP/2 costs a round trip plus the
 * registry's delayed ACK more than it should (48 ms on loopback, 100 instead of 60 ms at 50 ms
 * RTT, measured; smaller bodies travel with their HEADERS and do not wait). Over HTTP/1.1 the
 * request's head and a body held in memory leave in one write.
 *
 * A lane is opened ahead of need (a `GET /v2/` while a push reads its sources, so the connection's
 * TCP and TLS handshakes overlap that work) and lent to one request at a time; every other request
 * stays on HTTP/2. Remove it once Deno's `createHttpClient` can set `TCP_NODELAY`
 * (denoland/deno#35581).
 *
 * @module
 */

/** Bodies held in memory of at least this many bytes take a free lane. */
export const LANE_MIN_BODY = 1024;

/** A lane lent to one request: its client, and how to give it back. */
export interface LentLane {
  /** The lane's HTTP/1.1 client. */
  readonly client: Deno.HttpClient;
  /** Gives the lane back once the response was read; `ok` false retires it (a broken connection). */
  giveBack(ok: boolean): void;
}

/**
 * One HTTP/1.1 connection to one registry, opened in the background and lent to one request at a
 * time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BodyLane } from "./body_lane.ts";
 * const lane = new BodyLane(Promise.resolve([]), () => Promise.resolve());
 * await lane.opened;
 * const lent = lane.borrow(new Uint8Array(2048));
 * assert.ok(lent);
 * assert.equal(lane.borrow(new Uint8Array(2048)), undefined); // busy
 * lent.giveBack(true);
 * assert.equal(lane.borrow(new Uint8Array(10)), undefined); // small bodies stay on HTTP/2
 * // A request that failed on the lane retires it: what follows goes over HTTP/2.
 * lane.borrow(new Uint8Array(2048))!.giveBack(false);
 * assert.equal(lane.borrow(new Uint8Array(2048)), undefined);
 * assert.equal(lane.usable, false);
 * await lane.close();
 * ```
 */
export class BodyLane {
  #state: "opening" | "idle" | "busy" | "closed" = "opening";
  #client: Deno.HttpClient | undefined;
  readonly #abort = new AbortController();
  /** Settles (never rejects) once the lane is open or failed to open. */
  readonly opened: Promise<void>;

  /**
   * Starts opening a lane: an HTTP/1.1 client trusting `caCerts`, on which `warm` sends a request
   * and reads its whole response (so that its connection stays open and idle), cancelled by the
   * signal it is given when the lane closes. The lane is lent only once `warm` succeeded.
   */
  constructor(
    caCerts: Promise<string[]>,
    warm: (client: Deno.HttpClient, signal: AbortSignal) => Promise<void>,
  ) {
    this.opened = (async () => {
      const pems = await caCerts;
      if (this.#state === "closed") return;
      this.#client = Deno.createHttpClient({ caCerts: pems, http2: false });
      await warm(this.#client, this.#abort.signal);
      if (this.#state === "opening") this.#state = "idle";
    })().catch(() => this.#retire());
  }

  /** Whether the lane is open or opening (not failed, retired or closed). */
  get usable(): boolean {
    return this.#state !== "closed";
  }

  /** The lane for a request with `body`, when the body qualifies and the lane is free. */
  borrow(body: unknown): LentLane | undefined {
    if (this.#state !== "idle" || !(body instanceof Uint8Array)) return undefined;
    if (body.byteLength < LANE_MIN_BODY) return undefined;
    this.#state = "busy";
    let given = false;
    return {
      client: this.#client!,
      giveBack: (ok) => {
        if (given) return;
        given = true;
        if (!ok) this.#retire();
        else if (this.#state === "busy") this.#state = "idle";
      },
    };
  }

  /** Stops opening the lane, waits for that to settle, and closes its client. */
  async close(): Promise<void> {
    this.#retire();
    await this.opened;
    this.#client?.close();
    this.#client = undefined;
  }

  #retire(): void {
    this.#state = "closed";
    this.#abort.abort();
  }
}
