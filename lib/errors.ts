/**
 * Typed errors of the library. Each carries the data a caller needs to act on it; the CLI maps
 * {@link UsageError} (and its subclasses) to exit code 2 and everything else to exit code 1.
 *
 * Messages are in sentence case, with no closing period and the bad value quoted.
 *
 * @module
 */

/**
 * Bad input from the user: a flag, an argument, a reference or a spec file. Exit code 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UsageError } from "./errors.ts";
 * const err = new UsageError('Unknown flag "--foo"');
 * assert(err.name === "UsageError");
 * ```
 */
export class UsageError extends Error {
  /**
   * Whether the command's usage helps (a flag or argument mistake); false for an error that names
   * its place itself (a spec file's FILE:LINE:COL, a file a flag names, a reference).
   */
  readonly usage: boolean;
  /** Creates a usage error with a one-line message. */
  constructor(message: string, options?: ErrorOptions & { usage?: boolean }) {
    super(message, options);
    this.name = "UsageError";
    this.usage = options?.usage ?? true;
  }
}

/**
 * A string that is not a valid image reference, with the rule it breaks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidReferenceError } from "./errors.ts";
 * const err = new InvalidReferenceError("Foo/bar", "repository must be lowercase");
 * assert(err.message === 'Cannot parse reference "Foo/bar": repository must be lowercase');
 * ```
 */
export class InvalidReferenceError extends UsageError {
  /** The reference as given. */
  readonly reference: string;
  /** The rule it breaks. */
  readonly reason: string;
  /** Creates the error for `reference` breaking `reason`. */
  constructor(reference: string, reason: string, options?: ErrorOptions) {
    super(`Cannot parse reference "${reference}": ${reason}`, { ...options, usage: false });
    this.name = "InvalidReferenceError";
    this.reference = reference;
    this.reason = reason;
  }
}

/**
 * An error in a push spec (YAML) file, located by file, line and column (1-based).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SpecError } from "./errors.ts";
 * const err = new SpecError("unknown key \"imgae\"", "spec.yaml", 3, 1);
 * assert(err.message === 'spec.yaml:3:1: unknown key "imgae"');
 * ```
 */
export class SpecError extends UsageError {
  /** The file name as given. */
  readonly file: string;
  /** 1-based line, 0 when unknown. */
  readonly line: number;
  /** 1-based column, 0 when unknown. */
  readonly column: number;
  /** The message without the location. */
  readonly detail: string;
  /** Creates the error; the message is prefixed with `file:line:column`. */
  constructor(detail: string, file: string, line = 0, column = 0, options?: ErrorOptions) {
    const where = line > 0 ? (column > 0 ? `${file}:${line}:${column}` : `${file}:${line}`) : file;
    super(`${where}: ${detail}`, { ...options, usage: false });
    this.name = "SpecError";
    this.file = file;
    this.line = line;
    this.column = column;
    this.detail = detail;
  }
}

/** One entry of a registry's error body (`{"errors":[{code,message,detail}]}`), OCI spec. */
export interface RegistryErrorCode {
  /** The code, e.g. `MANIFEST_UNKNOWN`. */
  code: string;
  /** The registry's message. */
  message?: string;
  /** Free-form detail. */
  detail?: unknown;
}

/**
 * A registry answered with an unexpected status. Carries the method, the URL (with no query
 * secrets), the status and the error codes parsed from the body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RegistryError } from "./errors.ts";
 * const err = new RegistryError({
 *   method: "GET",
 *   url: "https://r.example/v2/x/manifests/latest",
 *   status: 404,
 *   codes: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }],
 * });
 * assert(err.hasCode("MANIFEST_UNKNOWN"));
 * ```
 */
export class RegistryError extends Error {
  /** HTTP method of the failed request. */
  readonly method: string;
  /** URL of the failed request, query secrets removed. */
  readonly url: string;
  /** HTTP status, 0 for a connection-level failure. */
  readonly status: number;
  /** Error codes from the body, possibly empty. */
  readonly codes: RegistryErrorCode[];
  /** True when retrying the same request may succeed (429, 502, 503, 504, connection). */
  readonly temporary: boolean;
  /** Creates the error; `message` defaults to a summary of the fields. */
  constructor(
    init: {
      method: string;
      url: string;
      status: number;
      codes?: RegistryErrorCode[];
      message?: string;
      hint?: string;
    },
    options?: ErrorOptions,
  ) {
    const codes = init.codes ?? [];
    super(
      init.message ?? RegistryError.describe(init.method, init.url, init.status, codes, init.hint),
      options,
    );
    this.name = "RegistryError";
    this.method = init.method;
    this.url = init.url;
    this.status = init.status;
    this.codes = codes;
    this.temporary = init.status === 0 || init.status === 429 || init.status === 502 ||
      init.status === 503 || init.status === 504;
  }

  /**
   * The same error with `context` (e.g. the reference a user gave) in front of its message, the
   * original kept as `cause`; the error itself when its message starts with that context already.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { RegistryError } from "./errors.ts";
   * const e = new RegistryError({ method: "GET", url: "u", status: 500, message: "GET u: 500" });
   * const named = e.withContext('"r.io/a:1"');
   * assert.equal(named.message, '"r.io/a:1": GET u: 500');
   * assert.equal(named.withContext('"r.io/a:1"'), named);
   * ```
   */
  withContext(context: string): RegistryError {
    // Said once: a caller that adds what an inner call added already changes nothing.
    if (this.message.startsWith(`${context}: `)) return this;
    return new RegistryError({
      method: this.method,
      url: this.url,
      status: this.status,
      codes: this.codes,
      message: `${context}: ${this.message}`,
    }, { cause: this });
  }

  /** True when the registry sent `code` among its errors. */
  hasCode(code: string): boolean {
    return this.codes.some((c) => c.code === code);
  }

  /** Builds the one-line message used when none is given. */
  static describe(
    method: string,
    url: string,
    status: number,
    codes: RegistryErrorCode[],
    hint?: string,
  ): string {
    const text = STATUS_TEXT[status] ?? "";
    let s = `${method} ${url}: ${status}${text ? " " + text : ""}`;
    if (codes.length > 0) {
      s += ": " + codes.map((c) => c.message ? `${c.code} (${c.message})` : c.code).join(", ");
    }
    if (hint) s += `: ${hint}`;
    return s;
  }
}

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Payload Too Large",
  416: "Range Not Satisfiable",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/**
 * Authentication failed or was refused: bad credentials, a token server that did not answer, or
 * a scope that was not granted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AuthError } from "./errors.ts";
 * const err = new AuthError("401 Unauthorized from 127.0.0.1:5443", { host: "127.0.0.1:5443" });
 * assert(err.host === "127.0.0.1:5443");
 * ```
 */
export class AuthError extends Error {
  /** Registry host the credentials were for. */
  readonly host: string;
  /** HTTP status that signalled the failure, if any. */
  readonly status?: number;
  /** Creates the error. */
  constructor(message: string, init: { host: string; status?: number }, options?: ErrorOptions) {
    super(message, options);
    this.name = "AuthError";
    this.host = init.host;
    this.status = init.status;
  }
}

/**
 * A digest from registry content (an index entry, a layer) that this tool cannot check: another
 * algorithm than sha256 and sha512, uppercase hex, a wrong length. Nothing is fetched by it: a
 * registry could answer anything. Registry content, so not a usage error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnverifiableDigestError } from "./errors.ts";
 * const err = new UnverifiableDigestError("md5:00", "entry of r/x:1", "unsupported algorithm");
 * assert.equal(err.message, 'entry of r/x:1: cannot verify digest "md5:00": unsupported algorithm');
 * ```
 */
export class UnverifiableDigestError extends Error {
  /** The digest as the content gives it. */
  readonly digest: string;
  /** Creates the error: `what` names the content, `reason` the rule the digest breaks. */
  constructor(digest: string, what: string, reason: string, options?: ErrorOptions) {
    super(`${what}: cannot verify digest "${digest}": ${reason}`, options);
    this.name = "UnverifiableDigestError";
    this.digest = digest;
  }
}

/**
 * Content did not hash to the digest it was asked for.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DigestMismatchError } from "./errors.ts";
 * const err = new DigestMismatchError("sha256:aa", "sha256:bb", "blob from r/x");
 * assert(err.expected === "sha256:aa" && err.actual === "sha256:bb");
 * ```
 */
export class DigestMismatchError extends Error {
  /** The digest asked for. */
  readonly expected: string;
  /** The digest of the bytes received. */
  readonly actual: string;
  /** Creates the error; `what` names the content (e.g. the URL). */
  constructor(expected: string, actual: string, what = "content", options?: ErrorOptions) {
    super(`Digest mismatch for ${what}: expected ${expected}, got ${actual}`, options);
    this.name = "DigestMismatchError";
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * Content was longer or shorter than its descriptor said, or over a cap.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SizeMismatchError } from "./errors.ts";
 * const err = new SizeMismatchError(10, 11, "blob");
 * assert(err.expected === 10 && err.actual === 11);
 * ```
 */
export class SizeMismatchError extends Error {
  /** The size expected, or the cap. */
  readonly expected: number;
  /** The number of bytes seen (for an overrun, at least this many). */
  readonly actual: number;
  /** Creates the error; `what` names the content. */
  constructor(expected: number, actual: number, what = "content", options?: ErrorOptions) {
    super(
      actual > expected
        ? `Size mismatch for ${what}: more than ${expected} bytes`
        : `Size mismatch for ${what}: expected ${expected} bytes, got ${actual}`,
      options,
    );
    this.name = "SizeMismatchError";
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * Something a run needs is not in the registry: a source image, a manifest an index names, or an
 * entry of an index for the platform asked. `reference` names it as the user (or the index) gave
 * it; `cause` holds the registry's answer when there was one. Exit code 1: what a registry holds is
 * never bad input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NotFoundError } from "./errors.ts";
 * const err = new NotFoundError("r.example/app:1", 'Source image "r.example/app:1": 404 Not Found');
 * assert.equal(err.reference, "r.example/app:1");
 * ```
 */
export class NotFoundError extends Error {
  /** What was not found, as named by the user or by the index that lists it. */
  readonly reference: string;
  /** Creates the error; `message` is the whole one-line message. */
  constructor(reference: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NotFoundError";
    this.reference = reference;
  }
}

/**
 * Two things a run would write cannot both be: two manifests of one index with the same platform,
 * or two specs of one run that own the same tag. Found after reading the registry, so exit code 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConflictError } from "./errors.ts";
 * const err = new ConflictError("Two manifests have the same platform linux/amd64", {
 *   key: "linux/amd64",
 *   digests: ["sha256:aa", "sha256:bb"],
 * });
 * assert.deepEqual(err.digests, ["sha256:aa", "sha256:bb"]);
 * ```
 */
export class ConflictError extends Error {
  /** What the two share (a platform key, a tag). */
  readonly key: string;
  /** The digests (or references) in conflict. */
  readonly digests: string[];
  /** Creates the error. */
  constructor(message: string, init: { key: string; digests: string[] }, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConflictError";
    this.key = init.key;
    this.digests = init.digests;
  }
}

/**
 * A run was cancelled through its `AbortSignal` (Ctrl-C in the CLI). `committed` lists the targets
 * whose index was written before the abort (none for a single push that was interrupted before its
 * commit); nothing else was tagged. The CLI exits 130.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InterruptedError } from "./errors.ts";
 * assert.equal(new InterruptedError([]).message, "Interrupted: nothing was committed");
 * ```
 */
export class InterruptedError extends Error {
  /** Targets committed before the abort, in input order. */
  readonly committed: string[];
  /** Creates the error. */
  constructor(committed: string[], options?: ErrorOptions) {
    super(
      committed.length === 0
        ? "Interrupted: nothing was committed"
        : committed.length <= 3
        ? `Interrupted: only ${committed.join(", ")} committed, nothing else was`
        : `Interrupted: ${committed.length} indexes committed (${
          committed.slice(0, 3).join(", ")
        }, …), nothing else was`,
      options,
    );
    this.name = "InterruptedError";
    this.committed = committed;
  }
}

/**
 * A registry took too long: no response, no data, a transfer slower than the minimum rate, or a
 * document not read whole within its deadline (see `--timeout`). A {@link RegistryError} with
 * status 0, so callers that handle registry failures handle it too; never retried by the
 * transport (it has already waited).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RegistryError, TimeoutError } from "./errors.ts";
 * const err = new TimeoutError("GET https://r/v2/: no response within 1000 ms", { timeoutMs: 1000 });
 * assert.ok(err instanceof RegistryError && err.status === 0 && err.timeoutMs === 1000);
 * ```
 */
export class TimeoutError extends RegistryError {
  /** The limit that was passed, in ms. */
  readonly timeoutMs: number;
  /** Creates the error with a one-line message. */
  constructor(
    message: string,
    init: { method?: string; url?: string; timeoutMs: number },
    options?: ErrorOptions,
  ) {
    super({ method: init.method ?? "", url: init.url ?? "", status: 0, message }, options);
    this.name = "TimeoutError";
    this.timeoutMs = init.timeoutMs;
  }
}

/**
 * A document was larger than the cap it is read under (a manifest's 4 MiB, an error body's
 * 8 KiB…): refused before it is held whole. Not a {@link SizeMismatchError}: nothing said the
 * document's size, it is just too large to accept.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TooLargeError } from "./errors.ts";
 * const err = new TooLargeError(4 * 1024 * 1024, 4 * 1024 * 1024 + 1, "manifest r/x:1");
 * assert.equal(err.message, "manifest r/x:1 is larger than the 4 MiB (4194304 bytes) cap");
 * ```
 */
export class TooLargeError extends Error {
  /** The cap, in bytes. */
  readonly cap: number;
  /** The number of bytes seen or declared (at least this many). */
  readonly actual: number;
  /** Creates the error; `what` names the document. */
  constructor(cap: number, actual: number, what = "content", options?: ErrorOptions) {
    super(`${what} is larger than the ${formatCap(cap)} cap`, options);
    this.name = "TooLargeError";
    this.cap = cap;
    this.actual = actual;
  }
}

/** `4 MiB (4194304 bytes)`, `8 KiB (8192 bytes)`, else `10-byte`. */
function formatCap(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / 1024 / 1024} MiB (${n} bytes)`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB (${n} bytes)`;
  return `${n}-byte`;
}
