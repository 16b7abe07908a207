/**
 * The first TLS handshake of a Deno 2.9.6 process spends about 18 ms of CPU on the main thread
 * before its ClientHello (20 ms for a handshake on loopback where the next takes 1–2 ms, measured
 * with `Deno.connectTls` and with `fetch`, whatever the CA store): the first use of the
 * cryptographic library under rustls, which Deno's Web Crypto shares. Web Crypto runs key
 * generation on a blocking thread, so one key generated at start-up does that work there, while
 * the main thread loads the command and reads its input; the handshake then takes 2.5 ms.
 *
 * @module
 */

let started: Promise<unknown> | undefined;

/**
 * Starts, on a thread of its own, the one-time work of the process's first TLS handshake (see the
 * module doc). Call it early in a process that will likely speak TLS; calls after the first do
 * nothing. It never fails, and it keeps the process alive for at most the ~20 ms it takes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { prepareTls } from "./tls_prepare.ts";
 * assert.equal(await prepareTls(), undefined);
 * ```
 */
export function prepareTls(): Promise<void> {
  started ??= crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, [
    "deriveBits",
  ]).catch(() => {});
  return started.then(() => {});
}
