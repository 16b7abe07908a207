/**
 * The test and demo harness: real registries on 127.0.0.1 (plain, TLS, Basic, token auth),
 * fixtures pushed through the registry API independently of `lib/`, and a fault/latency proxy.
 *
 * @module
 */

export * from "./registry.ts";
export * from "./fixtures.ts";
export * from "./proxy.ts";
export type { TokenServer } from "./token_server.ts";
