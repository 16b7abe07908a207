/**
 * The test and demo harness: real registries on 127.0.0.1 (plain or TLS; no auth, Basic or Bearer
 * token auth with the harness token server; four implementations, see `kinds.ts`), fixtures pushed through the registry API
 * independently of `lib/`, and a fault/latency proxy.
 *
 * @example
 * ```ts ignore
 * import { pushFixtures, startRegistry } from "./scripts/harness/mod.ts";
 * await using reg = await startRegistry({ auth: "token" });
 * const set = await pushFixtures(reg, { index: { tag: "multi" } });
 * // other implementations, picked by capability; skipped, saying why, when not installed:
 * for (const kind of await installedKinds(["mount"])) {
 *   await using other = await startRegistry({ kind });
 * }
 * ```
 *
 * @module
 */

export * from "./registry.ts";
export * from "./kinds.ts";
export * from "./fixtures.ts";
export * from "./proxy.ts";
export {
  startTokenServer,
  type TokenRequest,
  type TokenServer,
  type TokenServerOptions,
} from "./token_server.ts";
export { makeServerTls, makeSigningKey, type SigningMaterial, type TlsMaterial } from "./tls.ts";
