/**
 * Credentials checked before use: whatever goes into a request header must be a valid header
 * value, and an error names where the credential came from (the docker config file, the helper,
 * the token server), never its value.
 *
 * @module
 */

import { AuthError } from "../errors.ts";
import type { Credential } from "./credentials.ts";

/**
 * Throws an {@link AuthError} naming `source` and the field (never the value) when a credential
 * cannot be sent: a token that goes into a header as is must be a valid header value, and a user
 * name, password or refresh token must hold no control character (a pasted line break, a NUL).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkCredential } from "./credential_check.ts";
 * assert.throws(
 *   () => checkCredential({ registryToken: "a\nsecret" }, "docker config /c.json", "r.io"),
 *   { message: "docker config /c.json: registrytoken for r.io is not a valid header value" },
 * );
 * ```
 */
export function checkCredential(c: Credential, source: string, host: string): void {
  const fields: [keyof Credential, string, RegExp][] = [
    ["registryToken", "registrytoken", TOKEN],
    ["identityToken", "identitytoken", TEXT],
    ["username", "username", TEXT],
    ["password", "password", TEXT],
  ];
  for (const [field, name, valid] of fields) {
    const v = c[field];
    if (v !== undefined && !valid.test(v)) {
      throw new AuthError(`${source}: ${name} for ${host} is not a valid header value`, { host });
    }
  }
}

/** A token sent as is in `Authorization: Bearer …`: visible ASCII (RFC 6750 b64token and more). */
const TOKEN: RegExp = /^[\x21-\x7e]+$/;
/** Text that is encoded before it is sent (Basic, a form): anything but control characters. */
// deno-lint-ignore no-control-regex -- control characters are what it refuses
const TEXT = /^[^\u0000-\u001f\u007f]*$/;

/**
 * Whether `token` may be sent as is after `Bearer ` in an `Authorization` header.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isHeaderToken } from "./credential_check.ts";
 * assert.ok(isHeaderToken("eyJhbGciOi.x-y_z"));
 * assert.ok(!isHeaderToken("abc\ndef"));
 * ```
 */
export function isHeaderToken(token: string): boolean {
  return TOKEN.test(token);
}
