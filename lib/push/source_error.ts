/**
 * The error for a source image that could not be read for a reason other than its absence (that
 * is a `NotFoundError`).
 *
 * @module
 */

/**
 * A source image of a push could not be read; `cause` holds the registry's answer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SourceError } from "./source_error.ts";
 * const e = new SourceError("r/x:1", new Error("500 Internal Server Error"));
 * assert.equal(e.message, 'Source image "r/x:1": 500 Internal Server Error');
 * ```
 */
export class SourceError extends Error {
  /** The source as the spec names it. */
  readonly image: string;
  /** Wraps `cause`. */
  constructor(image: string, cause: unknown) {
    super(`Source image "${image}": ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = "SourceError";
    this.image = image;
  }
}
