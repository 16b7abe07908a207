/**
 * Reading small local files the user names (docker config, CA bundles, specs) with a cap: a file, a
 * device such as `/dev/zero` or a FIFO that never ends is read in chunks and refused as soon as it
 * passes the cap, instead of growing memory without end.
 *
 * @module
 */

import { SizeMismatchError } from "./errors.ts";

/** Largest docker config / `auth.json` read, bytes. */
export const CONFIG_FILE_CAP: number = 1024 * 1024;
/** Largest CA bundle read (`--ca-file`, certs.d), bytes. */
export const CA_FILE_CAP: number = 4 * 1024 * 1024;

const CHUNK = 64 * 1024;

/**
 * The bytes of `path`, read in chunks; throws {@link SizeMismatchError} (naming `what`) when it
 * holds more than `cap` bytes, and the file system's error when it cannot be opened or read. A
 * loop of reads rather than the file's `readable` stream: the first stream of a process costs
 * Deno milliseconds of start-up.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readFileCapped } from "./files.ts";
 * await assert.rejects(readFileCapped("/dev/zero", 1024, "zeros"), {
 *   name: "SizeMismatchError",
 * });
 * ```
 */
export async function readFileCapped(path: string, cap: number, what: string): Promise<Uint8Array> {
  using file = await Deno.open(path, { read: true });
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    // Never more than cap + 1 bytes held: one past the cap proves it is over.
    const buf = new Uint8Array(Math.min(CHUNK, cap + 1 - total));
    const n = await file.read(buf);
    if (n === null) break;
    total += n;
    chunks.push(buf.subarray(0, n));
    if (total > cap) throw new SizeMismatchError(cap, total, what);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

/**
 * The text of `path` ({@link readFileCapped}, decoded as UTF-8).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readTextFileCapped } from "./files.ts";
 * await assert.rejects(readTextFileCapped("/dev/zero", 1024, "zeros"), {
 *   name: "SizeMismatchError",
 * });
 * ```
 */
export async function readTextFileCapped(path: string, cap: number, what: string): Promise<string> {
  return new TextDecoder().decode(await readFileCapped(path, cap, what));
}
