/**
 * Base64 (RFC 4648 §4, with padding) of bytes and back: the one implementation used for Basic
 * credentials, docker config `auth` fields and docker's `Raw` manifest field.
 *
 * @module
 */

/** Bytes per `String.fromCharCode` call: spreading a whole blob into one call overflows the stack. */
const CHUNK = 0x8000;

/**
 * Base64 of `bytes`, built in chunks so any size works.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeBase64 } from "./base64.ts";
 * assert.equal(encodeBase64(new TextEncoder().encode("u:p")), "dTpw");
 * ```
 */
export function encodeBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += CHUNK) {
    s += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(s);
}

/**
 * Bytes of base64 `text`; throws a `DOMException` (`InvalidCharacterError`) when it is not base64.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBase64 } from "./base64.ts";
 * assert.equal(new TextDecoder().decode(decodeBase64("dTpw")), "u:p");
 * ```
 */
export function decodeBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
