/**
 * Loading many push specs for one run: files of several YAML documents, directories of spec
 * files, and CI shards. Everything is read and checked before anything is returned, so a caller
 * can refuse the whole batch before any request: YAML and spec errors, invalid references, and two
 * specs that would push the same tag.
 *
 * @module
 */

import { InvalidReferenceError, SpecError, UsageError } from "./errors.ts";
import type { IndexFormat } from "./media_types.ts";
import { type Platform, validatePlatform } from "./platform.ts";
import type { PushSpec } from "./push.ts";
import { parseReference, type Reference } from "./reference.ts";
import { MAX_SPEC_FILE_BYTES, readSpecText } from "./_spec_file.ts";
import type { ParsedSpecDocument, SpecPosition } from "./spec_parse.ts";

/** One spec of a batch, with where it was read. */
export interface LoadedSpec {
  /** The spec, as {@link readSpecFile} returns it. */
  spec: PushSpec;
  /** The file it was read from (for a directory, `DIR/NAME.yaml`). */
  file: string;
  /** 1-based number of its YAML document in the file, counting empty documents. */
  document: number;
  /** 1-based position across all specs, files in the order given, documents in file order. */
  position: number;
  /** Line where the document's content starts. */
  line: number;
  /** Column where the document's content starts. */
  column: number;
  /** The target reference, normalised (`docker.io/library/app:1.0`). */
  target: string;
}

/** A CI shard: this job is number `index` (1-based) of `count`. */
export interface Shard {
  /** 1-based index of this job, 1 ≤ index ≤ count. */
  index: number;
  /** Number of jobs. */
  count: number;
}

/** Options of {@link loadSpecs}. */
export interface LoadSpecsOptions {
  /** Return only the specs of this shard (all specs are still read and checked). */
  shard?: Shard;
  /**
   * The index format the specs will be pushed as: with `docker` (a Docker manifest list) a spec
   * with annotations is refused, as the push would refuse it. Unchecked when absent.
   */
  format?: IndexFormat;
}

/**
 * Parses `--shard I/N` (1 ≤ I ≤ N). Throws a {@link UsageError} naming `--shard` otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseShard } from "./spec_load.ts";
 * assert.deepEqual(parseShard("2/3"), { index: 2, count: 3 });
 * assert.throws(() => parseShard("4/3"), { name: "UsageError" });
 * ```
 */
export function parseShard(text: string): Shard {
  const m = /^([1-9][0-9]{0,8})\/([1-9][0-9]{0,8})$/.exec(text);
  const shard = m ? { index: Number(m[1]), count: Number(m[2]) } : undefined;
  if (!shard || shard.index > shard.count) {
    throw new UsageError(`Invalid --shard "${text}": expected I/N with 1 <= I <= N, e.g. 1/3`);
  }
  return shard;
}

/**
 * Whether the spec at 1-based `position` belongs to `shard`: `(position - 1) mod count ==
 * index - 1`, so the shards 1/N..N/N together take every spec exactly once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shardSelects } from "./spec_load.ts";
 * const picked = [1, 2, 3, 4, 5].filter((k) => shardSelects(k, { index: 2, count: 2 }));
 * assert.deepEqual(picked, [2, 4]);
 * ```
 */
export function shardSelects(position: number, shard: Shard): boolean {
  return (position - 1) % shard.count === shard.index - 1;
}

/**
 * Reads every spec of `paths`: a FILE may hold several YAML documents separated by `---` (each
 * one spec; empty documents are skipped), a DIR stands for its `*.yaml` and `*.yml` files in name
 * order (not recursive). Every spec is parsed, its references and platforms checked (and, given
 * `options.format`, its annotations) before this returns;
 * the first problem is a {@link SpecError} at `FILE:LINE:COL`. Two specs that push the same tag
 * (their images or extra tags naming the same registry, repository and tag) are a
 * {@link SpecError} naming both places. With `options.shard`, only that shard's specs are
 * returned, positions still counted across all of them.
 *
 * @example
 * ```ts ignore
 * import { loadSpecs, parseShard } from "./spec_load.ts";
 * const specs = await loadSpecs(["specs/", "extra.yaml"], { shard: parseShard("1/3") });
 * for (const s of specs) console.log(s.position, s.file, s.target);
 * ```
 */
export async function loadSpecs(
  paths: string[],
  options: LoadSpecsOptions = {},
): Promise<LoadedSpec[]> {
  if (paths.length === 0) throw new UsageError("No spec file or directory given");
  const { parseSpecDocuments } = await import("./spec_parse.ts");
  const all: LoadedSpec[] = [];
  const owners = new Map<string, { file: string; at: SpecPosition }>();
  for (const file of await expandPaths(paths)) {
    const text = await readSpecText(file, MAX_SPEC_FILE_BYTES);
    for (const doc of parseSpecDocuments(text, file)) {
      const target = checkReferences(doc, file);
      checkPlatforms(doc, file);
      checkFormat(doc, file, options.format);
      claimTags(owners, target, doc, file);
      all.push({
        spec: doc.spec,
        file,
        document: doc.document,
        position: all.length + 1,
        line: doc.at.line,
        column: doc.at.column,
        target: target.toString(),
      });
    }
  }
  const shard = options.shard;
  return shard ? all.filter((s) => shardSelects(s.position, shard)) : all;
}

/** The files `paths` stand for: files as given, directories as their spec files by name. */
async function expandPaths(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await statOrFail(path);
    if (!info.isDirectory) {
      files.push(path);
      continue;
    }
    const names: string[] = [];
    for await (const entry of Deno.readDir(path)) {
      if (!/\.ya?ml$/.test(entry.name) || entry.isDirectory) continue;
      const file = joinPath(path, entry.name);
      // A symbolic link counts when it leads to a file.
      if (entry.isSymlink && !(await statOrFail(file)).isFile) continue;
      names.push(entry.name);
    }
    if (names.length === 0) throw new SpecError("holds no *.yaml or *.yml files", path);
    // Code-unit order: the same on every system, whatever the locale.
    names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    files.push(...names.map((name) => joinPath(path, name)));
  }
  return files;
}

async function statOrFail(path: string): Promise<Deno.FileInfo> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
    throw new SpecError(`cannot read spec: ${why}`, path, 0, 0, { cause: e });
  }
}

function joinPath(dir: string, name: string): string {
  return /[\\/]$/.test(dir) ? dir + name : `${dir}/${name}`;
}

/** Checks the spec's references, returning its target; errors point at the reference. */
function checkReferences(doc: ParsedSpecDocument, file: string): Reference {
  const target = parseAt(doc.spec.image, file, doc.image);
  if (target.digest) {
    throw new SpecError(
      `image "${doc.spec.image}" must name a tag, not a digest`,
      file,
      doc.image.line,
      doc.image.column,
    );
  }
  (doc.spec.tags ?? []).forEach((tag, i) => {
    const at = doc.tags[i];
    try {
      target.withTag(tag);
    } catch (e) {
      if (!(e instanceof InvalidReferenceError)) throw e;
      throw new SpecError(`tags[${i}]: ${e.message}`, file, at.line, at.column, { cause: e });
    }
  });
  doc.spec.manifests.forEach((m, i) => parseAt(m.image, file, doc.sources[i]));
  return target;
}

/**
 * Checks what the push would refuse in each source's platform: os without architecture (or the
 * reverse), and names no registry uses (`Linux`, `amd46`); errors point at the `platform` key.
 */
function checkPlatforms(doc: ParsedSpecDocument, file: string): void {
  doc.spec.manifests.forEach((m, i) => {
    const p = m.platform;
    const at = doc.platforms[i] ?? doc.sources[i];
    if (!p || (!p.os && !p.architecture)) return;
    const fail = (detail: string, cause?: unknown): never => {
      throw new SpecError(`manifests[${i}].platform: ${detail}`, file, at.line, at.column, {
        cause,
      });
    };
    if (!p.os || !p.architecture) fail("needs both os and architecture");
    try {
      validatePlatform(p as Platform);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      fail(e.message, e);
    }
  });
}

/** With a Docker manifest list as the format, refuses annotations (they have no place there). */
function checkFormat(doc: ParsedSpecDocument, file: string, format?: IndexFormat): void {
  const at = doc.annotations;
  if (format === "docker" && at && Object.keys(doc.spec.annotations ?? {}).length > 0) {
    throw new SpecError(
      "a Docker manifest list cannot carry annotations: use --type oci",
      file,
      at.line,
      at.column,
    );
  }
}

function parseAt(reference: string, file: string, at: SpecPosition): Reference {
  try {
    return parseReference(reference);
  } catch (e) {
    if (!(e instanceof InvalidReferenceError)) throw e;
    throw new SpecError(e.message, file, at.line, at.column, { cause: e });
  }
}

/**
 * Records the tags `doc` pushes (its image and extra tags), refusing one another spec already
 * pushes: two specs cannot both own `app:1.0`. Repeats within one spec are harmless.
 */
function claimTags(
  owners: Map<string, { file: string; at: SpecPosition }>,
  target: Reference,
  doc: ParsedSpecDocument,
  file: string,
): void {
  const mine = new Map<string, SpecPosition>([[target.toString(), doc.image]]);
  (doc.spec.tags ?? []).forEach((tag, i) => {
    const ref = target.withTag(tag).toString();
    if (!mine.has(ref)) mine.set(ref, doc.tags[i]);
  });
  for (const [ref, at] of mine) {
    const owner = owners.get(ref);
    if (owner) {
      const where = `${owner.file}:${owner.at.line}:${owner.at.column}`;
      throw new SpecError(
        `${ref} is also pushed by the spec at ${where}`,
        file,
        at.line,
        at.column,
      );
    }
  }
  for (const [ref, at] of mine) owners.set(ref, { file, at });
}
