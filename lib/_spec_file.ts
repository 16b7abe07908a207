/**
 * Reading spec files as capped UTF-8 text, and the caps. Private to the spec modules.
 *
 * @module
 */

import { SizeMismatchError, SpecError } from "./errors.ts";
import { readFileCapped } from "./files.ts";

/** Largest spec document (and largest single-spec file), in bytes. */
export const MAX_SPEC_BYTES = 1024 * 1024;

/** Largest file of several spec documents, in bytes; each document is still capped. */
export const MAX_SPEC_FILE_BYTES = 16 * MAX_SPEC_BYTES;

/**
 * Reads `file` as UTF-8 text of at most `cap` bytes, whatever the file is (a pipe or `/dev/zero`
 * reports no size). Unreadable, oversized or non-UTF-8 files and directories are a
 * {@link SpecError} naming the file.
 */
export async function readSpecText(file: string, cap: number): Promise<string> {
  let bytes: Uint8Array;
  try {
    const info = await Deno.stat(file);
    if (info.isDirectory) throw new SpecError("is a directory, not a YAML file", file);
    if (info.size > cap) throw new SpecError(`is larger than ${cap} bytes`, file);
    bytes = await readFileCapped(file, cap, file);
  } catch (e) {
    if (e instanceof SpecError) throw e;
    if (e instanceof SizeMismatchError) {
      throw new SpecError(`is larger than ${cap} bytes`, file, 0, 0, { cause: e });
    }
    const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
    throw new SpecError(`cannot read spec: ${why}`, file, 0, 0, { cause: e });
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (e) {
    throw new SpecError("is not UTF-8 text", file, 0, 0, { cause: e });
  }
}
