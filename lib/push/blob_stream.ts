/**
 * The body of a streamed cross-registry copy: a factory of verified downloads from the source (so
 * a retry, or a 401 in the middle of an upload, can send the blob again instead of failing on a
 * spent stream), reporting progress as bytes pass and erroring at once when the run is aborted,
 * which cancels the upload that reads it.
 *
 * @module
 */

import type { Descriptor } from "../manifest.ts";
import type { Repository } from "../registry/client.ts";
import type { ProgressEvent } from "./types.ts";

/** Options of {@link sourceBlobBody}. */
export interface SourceBlobOptions {
  /** Progress of the copy. */
  onProgress?: (event: ProgressEvent) => void;
  /** Aborts the download and errors the stream. */
  signal?: AbortSignal;
  /** Opens the verified download (default `source.fetchBlob(d)`). */
  open?: () => Promise<ReadableStream<Uint8Array>>;
}

/**
 * A replayable body for blob `d` of `source`: each call opens a new download.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sourceBlobBody } from "./blob_stream.ts";
 * import type { Repository } from "../registry/client.ts";
 * const body = sourceBlobBody({} as Repository, { digest: "sha256:00", size: 3, mediaType: "x" }, {
 *   open: () => Promise.resolve(new Blob([new Uint8Array([1, 2, 3])]).stream()),
 * });
 * assert.equal((await new Response(body()).arrayBuffer()).byteLength, 3);
 * ```
 */
export function sourceBlobBody(
  source: Repository,
  d: Descriptor,
  options: SourceBlobOptions = {},
): () => ReadableStream<Uint8Array> {
  const { onProgress, signal } = options;
  const open = options.open ?? (() => source.fetchBlob(d));
  return () => {
    // The download, opened by the first pull (which a new stream makes at once).
    let reader: Promise<ReadableStreamDefaultReader<Uint8Array>> | undefined;
    let sent = 0;
    let onAbort: (() => void) | undefined;
    const stop = () => onAbort && signal?.removeEventListener("abort", onAbort);
    // Cancels the download, also one still being opened.
    const drop = (reason: unknown) => reader?.then((r) => r.cancel(reason)).catch(() => {});
    return new ReadableStream<Uint8Array>({
      start(controller) {
        if (!signal) return;
        // Error the stream the moment the run is aborted, even while a read is pending: the
        // upload reading it fails at once and the download is cancelled.
        onAbort = () => {
          controller.error(signal.reason);
          drop(signal.reason);
        };
        signal.addEventListener("abort", onAbort, { once: true });
      },
      async pull(controller) {
        signal?.throwIfAborted();
        reader ??= open().then((s) => s.getReader());
        const { done, value } = await (await reader).read();
        if (done) {
          stop();
          onProgress?.({ digest: d.digest, bytes: sent, total: d.size, done: true });
          controller.close();
          return;
        }
        sent += value.byteLength;
        onProgress?.({ digest: d.digest, bytes: sent, total: d.size, done: false });
        controller.enqueue(value);
      },
      async cancel(reason) {
        stop();
        await drop(reason);
      },
    });
  };
}
