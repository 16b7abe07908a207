/**
 * Push specs from files: manifest-tool's YAML (`image`, `tags`, `annotations`, `manifests:
 * [{image, platform}]`), one spec per file with {@link readSpecFile}, or many (files of several
 * `---`-separated documents, directories, CI shards) with {@link loadSpecs}. Every error is a
 * {@link SpecError} naming the file, line and column.
 *
 * The parser (`spec_parse.ts`, which exports `parseSpec` for text) is imported on first use: the
 * yaml package costs tens of milliseconds at start-up, which commands that read no spec should not
 * pay.
 *
 * @module
 */

import type { PushSpec } from "./push.ts";
import { MAX_SPEC_BYTES, readSpecText } from "./_spec_file.ts";

export { MAX_SPEC_BYTES, MAX_SPEC_FILE_BYTES } from "./_spec_file.ts";
export {
  type LoadedSpec,
  loadSpecs,
  type LoadSpecsOptions,
  parseShard,
  type Shard,
  shardSelects,
} from "./spec_load.ts";
export type { IndexFormat } from "./media_types.ts";
export type { Platform } from "./platform.ts";
export type { PushSource, PushSpec } from "./push/types.ts";

/**
 * Reads and parses a spec file holding one spec. At most {@link MAX_SPEC_BYTES} are read,
 * whatever the file is (a pipe or `/dev/zero` reports no size); unreadable, oversized or
 * non-UTF-8 files are a {@link SpecError} naming the file.
 *
 * @example
 * ```ts ignore
 * import { readSpecFile } from "./spec.ts";
 * const spec = await readSpecFile("push.yaml");
 * ```
 */
export async function readSpecFile(file: string): Promise<PushSpec> {
  const text = await readSpecText(file, MAX_SPEC_BYTES);
  const { parseSpec } = await import("./spec_parse.ts");
  return parseSpec(text, file);
}
