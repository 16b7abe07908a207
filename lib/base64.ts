/**
 * Standard base64 with padding (RFC 4648 §4), as Go's encoding/json writes a `[]byte`: the `Raw`
 * manifest bytes of docker's manifest store and of `docker manifest inspect -v`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBase64, encodeBase64 } from "./base64.ts";
 * assert.equal(encodeBase64(new TextEncoder().encode("{}")), "e30=");
 * assert.deepEqual(decodeBase64("e30="), new TextEncoder().encode("{}"));
 * ```
 *
 * @module
 */

/** Base64 of bytes, in chunks (one `String.fromCharCode` over a large manifest overflows). */
export function encodeBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** Bytes of base64 text; throws a `DOMException` when the text is not base64. */
export function decodeBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
