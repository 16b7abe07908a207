/**
 * The local manifest lists of the `manifest` commands: **docker's own manifest store**, so that
 * lists made by `docker manifest create` are read, amended, pushed and removed by `manifest-tool
 * manifest` and the reverse. The store is `$MANIFEST_TOOL_HOME` when set (a separate store), else
 * `manifests` in docker's config directory (`--docker-cfg`, `$DOCKER_CONFIG`, else `~/.docker`).
 *
 * Layout (docker/cli `cli/manifest/store`): one directory per list and one file per entry, both
 * named by the normalised reference made file-safe (`:` → `-`, `/` → `_`, no suffix); a list's
 * entries are its files in name order. Each file is docker's `types.ImageManifest` as Go's
 * `json.Marshal` writes it: `Ref`, `Descriptor` (OCI descriptor with the platform), `Raw` (the exact
 * manifest bytes, base64) and `SchemaV2Manifest` or `OCIManifest`. What docker cannot express is
 * kept in fields docker's decoder ignores: `Source` (the index an entry was taken from) and
 * `ManifestList` (the list the file belongs to); descriptor annotations and platform `features` sit
 * where docker reads (or skips) them.
 *
 * File-safe names collide (`r/team/app:1-x` and `r/team/app-1:x` are both `r_team_app-1-x`):
 * docker silently mixes such lists and entries; here the reference stored inside each file is
 * checked and a {@link ManifestNameCollisionError} names both references.
 *
 * Concurrent invocations are safe: files are written under a temporary name in the store root and
 * renamed into place, a new list is assembled in a temporary directory and renamed into place
 * whole (so of two concurrent `create`s of one list exactly one wins), and a removed list is
 * renamed away before it is deleted. A file that does not read back as an entry is a
 * {@link LocalStoreError} naming it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { digestOf } from "./digest.ts";
 * import { LocalStore } from "./local_store.ts";
 * const store = new LocalStore(await Deno.makeTempDir());
 * const raw = new TextEncoder().encode('{"schemaVersion":2}');
 * await store.create("r.example/app:1", [{
 *   ref: "r.example/app:1-amd64",
 *   source: "r.example/app:1-amd64",
 *   descriptor: {
 *     mediaType: "application/vnd.oci.image.manifest.v1+json",
 *     digest: digestOf(raw),
 *     size: raw.length,
 *     platform: { os: "linux", architecture: "amd64" },
 *   },
 *   raw,
 * }]);
 * assert.equal((await store.entries("r.example/app:1"))[0].ref, "r.example/app:1-amd64");
 * await Deno.remove(store.dir, { recursive: true });
 * ```
 *
 * @module
 */

import { digestOf, parseDigest } from "./digest.ts";
import { UsageError } from "./errors.ts";
import { imageManifestJson } from "./format/docker_json.ts";
import type { Descriptor } from "./manifest.ts";
import type { Platform } from "./platform.ts";
import { parseReference } from "./reference.ts";
import { parseStoreFile } from "./local_store_file.ts";

export type { Descriptor } from "./manifest.ts";
export type { Platform } from "./platform.ts";

/** A manifest's descriptor with the platform a list gives it. */
export type LocalDescriptor = Descriptor & { platform: Platform };

/** One entry of a local list. */
export interface LocalEntry {
  /**
   * The entry's name (docker's `Ref`): the source given to `create`, normalised
   * (`registry/repo:tag`), or, for an entry taken from an index, the index's reference with the
   * entry's digest (`registry/repo:tag@sha256:…`).
   */
  ref: string;
  /** The source given to `create`, normalised (the index, for an entry taken from one). */
  source: string;
  /** The manifest's media type, digest and size, and the platform the list gives it. */
  descriptor: LocalDescriptor;
  /** The exact manifest bytes (they hash to `descriptor.digest`). */
  raw: Uint8Array;
}

/**
 * A store file that cannot be used: unreadable, not JSON, or not an entry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalStoreError } from "./local_store.ts";
 * const e = new LocalStoreError("/s/l/e", "not JSON");
 * assert.equal(e.message, 'Local manifest store file "/s/l/e" is unusable: not JSON');
 * ```
 */
export class LocalStoreError extends Error {
  /** The file. */
  readonly path: string;
  /** What is wrong with it. */
  readonly reason: string;
  /** Creates the error. */
  constructor(path: string, reason: string, options?: ErrorOptions) {
    super(`Local manifest store file "${path}" is unusable: ${reason}`, options);
    this.name = "LocalStoreError";
    this.path = path;
    this.reason = reason;
  }
}

/**
 * A list (or an entry looked up by name) is not in the store; docker's words.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ManifestListNotFoundError } from "./local_store.ts";
 * assert.equal(new ManifestListNotFoundError("r.io/a:1").message, "No such manifest: r.io/a:1");
 * ```
 */
export class ManifestListNotFoundError extends Error {
  /** The reference, normalised. */
  readonly list: string;
  /** Creates the error. */
  constructor(list: string, options?: ErrorOptions) {
    super(`No such manifest: ${list}`, options);
    this.name = "ManifestListNotFoundError";
    this.list = list;
  }
}

/**
 * `create` without `--amend` of a list that exists; docker's words.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ManifestListExistsError } from "./local_store.ts";
 * assert.match(new ManifestListExistsError("r.io/a:1").message, /no --amend flag/);
 * ```
 */
export class ManifestListExistsError extends Error {
  /** The list, normalised. */
  readonly list: string;
  /** Creates the error. */
  constructor(list: string, options?: ErrorOptions) {
    super("refusing to amend an existing manifest list with no --amend flag", options);
    this.name = "ManifestListExistsError";
    this.list = list;
  }
}

/**
 * A list has no entry for the reference given (`annotate`); docker's words, with the list and
 * reference as the user typed them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ManifestEntryNotFoundError } from "./local_store.ts";
 * const e = new ManifestEntryNotFoundError("r.io/a:1", "r.io/x");
 * assert.equal(e.message, "manifest for image r.io/x does not exist in r.io/a:1");
 * ```
 */
export class ManifestEntryNotFoundError extends Error {
  /** The list. */
  readonly list: string;
  /** The reference looked for. */
  readonly entry: string;
  /** Creates the error. */
  constructor(list: string, entry: string, options?: ErrorOptions) {
    super(`manifest for image ${entry} does not exist in ${list}`, options);
    this.name = "ManifestEntryNotFoundError";
    this.list = list;
    this.entry = entry;
  }
}

/**
 * Two references share a file-safe name: the store holds one where the other was asked for.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ManifestNameCollisionError } from "./local_store.ts";
 * const e = new ManifestNameCollisionError("r.io/a-1:x", "r.io/a:1-x", "/s/r.io_a-1-x");
 * assert.match(e.message, /"r\.io\/a-1:x" and "r\.io\/a:1-x"/);
 * ```
 */
export class ManifestNameCollisionError extends Error {
  /** The reference asked for. */
  readonly wanted: string;
  /** The reference the store holds under the same name. */
  readonly stored: string;
  /** The file or directory. */
  readonly path: string;
  /** Creates the error. */
  constructor(wanted: string, stored: string, path: string, options?: ErrorOptions) {
    super(
      `"${wanted}" and "${stored}" have the same name in the local manifest store ("${path}"): ` +
        `remove or rename "${stored}" first`,
      options,
    );
    this.name = "ManifestNameCollisionError";
    this.wanted = wanted;
    this.stored = stored;
    this.path = path;
  }
}

// NAME_MAX is 255 bytes on the usual file systems; docker fails beyond it, we cut and hash.
const MAX_FILE_NAME = 255;

/**
 * docker's file-safe name of a reference (`:` → `-`, `/` → `_`); a name too long for a file
 * system (where docker fails) is cut and given a hash of the whole so that it stays unique.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileSafe } from "./local_store.ts";
 * assert.equal(fileSafe("127.0.0.1:5000/team/app:1.0"), "127.0.0.1-5000_team_app-1.0");
 * assert(fileSafe(`r.io/${"a".repeat(300)}:1`).length <= 255);
 * ```
 */
export function fileSafe(name: string): string {
  const safe = name.replaceAll(":", "-").replaceAll("/", "_");
  if (new TextEncoder().encode(safe).length <= MAX_FILE_NAME) return safe;
  const hash = digestOf(new TextEncoder().encode(name)).slice(
    "sha256:".length,
    "sha256:".length + 16,
  );
  return `${safe.slice(0, 200)}-${hash}`;
}

/**
 * The entry of `entries` that `reference` names: the entry of that name (as docker looks it up),
 * else by digest when it has one, else the one entry taken from that index. Throws
 * {@link ManifestEntryNotFoundError} when none matches, and a {@link UsageError} when an index
 * reference names several entries.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findEntry, type LocalEntry } from "./local_store.ts";
 * const entry = { ref: "r.io/a:amd64", source: "r.io/a:amd64" } as LocalEntry;
 * assert.equal(findEntry("r.io/a:1", [entry], "r.io/a:amd64"), entry);
 * ```
 */
export function findEntry(list: string, entries: LocalEntry[], reference: string): LocalEntry {
  const want = parseReference(reference);
  const name = want.toString();
  let matches = entries.filter((e) => e.ref === name);
  if (matches.length === 0 && want.digest) {
    matches = entries.filter((e) => e.descriptor.digest === want.digest);
  }
  if (matches.length === 0) matches = entries.filter((e) => e.source === name);
  if (matches.length === 1) return matches[0];
  if (matches.length === 0) throw new ManifestEntryNotFoundError(list, reference);
  throw new UsageError(
    `"${want}" names ${matches.length} entries of manifest list "${list}" (the platforms of an index): name one by digest, e.g. "${
      matches[0].ref
    }"`,
  );
}

/** What a list directory holds: file name and entry, in docker's order. */
interface StoredEntry {
  name: string;
  entry: LocalEntry;
}

/**
 * The store: docker's manifest lists on disk.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalStore } from "./local_store.ts";
 * const dir = LocalStore.defaultDir((n) => ({ HOME: "/home/u" } as Record<string, string>)[n]);
 * assert.equal(dir, "/home/u/.docker/manifests");
 * const store = new LocalStore(await Deno.makeTempDir());
 * assert.equal(await store.find("r.example/app:1"), undefined);
 * await Deno.remove(store.dir, { recursive: true });
 * ```
 */
export class LocalStore {
  /** Root directory. */
  readonly dir: string;

  /** A store rooted at `dir` (created when first written to). */
  constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * The default root for an environment: `MANIFEST_TOOL_HOME` (a store of its own), else docker's:
   * `manifests` in the docker config directory given (`dockerConfig`, a directory or a
   * `config.json` in one), else in `$DOCKER_CONFIG`, else in `$HOME/.docker` (`USERPROFILE` on
   * Windows).
   */
  static defaultDir(env: (name: string) => string | undefined, dockerConfig?: string): string {
    const own = env("MANIFEST_TOOL_HOME");
    if (own) return own;
    if (dockerConfig) {
      const dir = /\.json$/i.test(dockerConfig)
        ? dockerConfig.replace(/[\\/][^\\/]*$/, "") || "."
        : dockerConfig;
      return `${dir}/manifests`;
    }
    const docker = env("DOCKER_CONFIG");
    if (docker) return `${docker}/manifests`;
    const home = env("HOME") || env("USERPROFILE");
    if (!home) {
      throw new UsageError(
        "Cannot place the local manifest store: set MANIFEST_TOOL_HOME, DOCKER_CONFIG or HOME",
      );
    }
    return `${home}/.docker/manifests`;
  }

  /** The directory of a list. */
  listDir(list: string): string {
    return `${this.dir}/${fileSafe(list)}`;
  }

  /** Whether a directory for the list exists (it may be another list's of the same name). */
  async exists(list: string): Promise<boolean> {
    try {
      return (await Deno.stat(this.listDir(list))).isDirectory;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
  }

  /** The entries of a list in docker's order (by file name), or undefined when there is no list. */
  async find(list: string): Promise<LocalEntry[] | undefined> {
    return (await this.#read(list))?.map((f) => f.entry);
  }

  /** The entries of a list; {@link ManifestListNotFoundError} when there is no list. */
  async entries(list: string): Promise<LocalEntry[]> {
    const found = await this.find(list);
    if (!found) throw new ManifestListNotFoundError(list);
    return found;
  }

  /**
   * The entry stored under `ref` in a list, looked up by file name as docker does, or undefined;
   * {@link ManifestNameCollisionError} when the file holds another reference.
   */
  async get(list: string, ref: string): Promise<LocalEntry | undefined> {
    const found = (await this.#read(list))?.find((f) => f.name === fileSafe(ref));
    if (found && found.entry.ref !== ref) {
      throw new ManifestNameCollisionError(ref, found.entry.ref, this.#path(list, found.name));
    }
    return found?.entry;
  }

  /**
   * Creates a list with `entries`, all at once: {@link ManifestListExistsError} when it exists
   * (also when another process creates it first). Entries of one name are kept once (the last).
   */
  async create(list: string, entries: LocalEntry[]): Promise<void> {
    const files = this.#serialize(list, dedupe(entries));
    await Deno.mkdir(this.dir, { recursive: true });
    if (await this.find(list)) throw new ManifestListExistsError(list);
    const tmp = `${this.dir}/.create-${crypto.randomUUID()}`;
    await Deno.mkdir(tmp);
    try {
      for (const [name, text] of files) await Deno.writeTextFile(`${tmp}/${name}`, text);
      await Deno.rename(tmp, this.listDir(list));
    } catch (e) {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
      // rename(2) refuses a non-empty target directory: another process created the list.
      if (await this.exists(list)) throw new ManifestListExistsError(list, { cause: e });
      throw e;
    }
  }

  /**
   * Adds `entries` to a list, creating it if need be (`create --amend`). An entry replaces the one
   * of the same name, and the entries taken before from the same index (a re-read index
   * replaces all of its old entries).
   */
  async amend(list: string, entries: LocalEntry[]): Promise<void> {
    await this.#write(list, dedupe(entries), true);
  }

  /** Rewrites entries of an existing list (`annotate`), matched by name. */
  async update(list: string, entries: LocalEntry[]): Promise<void> {
    await this.#write(list, dedupe(entries), false);
  }

  /** Removes a list; false when there was none. */
  async remove(list: string): Promise<boolean> {
    // The list asked for, not another of the same file-safe name; a corrupt list is removed.
    await this.#read(list).catch((e) => {
      if (!(e instanceof LocalStoreError)) throw e;
    });
    // Renamed away first, so a concurrent reader sees the whole list or none of it.
    const gone = `${this.dir}/.remove-${crypto.randomUUID()}`;
    try {
      await Deno.rename(this.listDir(list), gone);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
    await Deno.remove(gone, { recursive: true });
    return true;
  }

  #path(list: string, name: string): string {
    return `${this.listDir(list)}/${name}`;
  }

  /** File name and text of each entry; two references of one file name are refused. */
  #serialize(list: string, entries: LocalEntry[]): [string, string][] {
    const byName = new Map<string, string>();
    return entries.map((e) => {
      const name = fileSafe(e.ref);
      const other = byName.get(name);
      if (other !== undefined && other !== e.ref) {
        throw new ManifestNameCollisionError(e.ref, other, this.#path(list, name));
      }
      byName.set(name, e.ref);
      return [name, serialize(list, e)];
    });
  }

  async #write(list: string, entries: LocalEntry[], amend: boolean): Promise<void> {
    // Nothing is written unless every entry can be.
    const files = this.#serialize(list, entries);
    const dir = this.listDir(list);
    if (amend) await Deno.mkdir(dir, { recursive: true });
    const before = await this.#read(list);
    if (!before) throw new ManifestListNotFoundError(list);
    for (const [name] of files) {
      const stored = before.find((b) => b.name === name)?.entry.ref;
      const ref = entries[files.findIndex((f) => f[0] === name)].ref;
      if (stored !== undefined && stored !== ref) {
        throw new ManifestNameCollisionError(ref, stored, `${dir}/${name}`);
      }
    }
    for (const [name, text] of files) {
      // Written in the store root, then renamed in: docker reads every file of a list directory.
      const tmp = `${this.dir}/.entry-${crypto.randomUUID()}`;
      await Deno.writeTextFile(tmp, text);
      await Deno.rename(tmp, `${dir}/${name}`);
    }
    const names = new Set(files.map(([name]) => name));
    const sources = new Set(
      amend ? entries.filter((e) => e.source !== e.ref).map((e) => e.source) : [],
    );
    for (const old of before) {
      if (names.has(old.name)) continue;
      if (sources.has(old.entry.source)) {
        await Deno.remove(`${dir}/${old.name}`).catch((err) => {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
        });
      }
    }
  }

  /** A list's files in docker's order; a file of another list of the same name is refused. */
  async #read(list: string): Promise<StoredEntry[] | undefined> {
    const dir = this.listDir(list);
    const names: string[] = [];
    try {
      for await (const d of Deno.readDir(dir)) {
        // Hidden files are not docker's nor ours (ours are written outside and renamed in).
        if (!d.name.startsWith(".") && !d.isDirectory) names.push(d.name);
      }
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      if (e instanceof Deno.errors.NotADirectory) {
        throw new LocalStoreError(dir, "not a directory", { cause: e });
      }
      throw e;
    }
    // Go's os.ReadDir sorts by name, byte-wise.
    names.sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
    const out: StoredEntry[] = [];
    for (const name of names) {
      const path = `${dir}/${name}`;
      let text: string;
      try {
        text = await Deno.readTextFile(path);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) continue; // replaced by a concurrent amend
        throw new LocalStoreError(path, (e as Error).message, { cause: e });
      }
      const { entry, list: owner } = parseStoreFile(path, text);
      if (owner !== undefined && owner !== list) {
        throw new ManifestNameCollisionError(list, owner, dir);
      }
      out.push({ name, entry });
    }
    return out;
  }
}

/**
 * Keeps the last entry of each name, in the order given. As in docker's store, one manifest may be
 * listed under two names (a tag and a digest): both are entries, and both are pushed.
 */
function dedupe(entries: LocalEntry[]): LocalEntry[] {
  const kept: LocalEntry[] = [];
  for (const e of entries) {
    const i = kept.findIndex((k) => k.ref === e.ref);
    if (i >= 0) kept.splice(i, 1);
    kept.push(e);
  }
  return kept;
}

/**
 * An entry as docker writes it (`json.Marshal` of `types.ImageManifest`), plus the two fields
 * docker's decoder ignores: `Source` when it differs from `Ref`, and `ManifestList`.
 */
function serialize(list: string, e: LocalEntry): string {
  // What is written must read back: the bytes are checked against their digest on every read.
  let algorithm;
  try {
    algorithm = parseDigest(e.descriptor.digest).algorithm;
  } catch (err) {
    throw new Error(`Entry "${e.ref}": ${(err as Error).message}`, { cause: err });
  }
  if (e.raw.length !== e.descriptor.size || digestOf(e.raw, algorithm) !== e.descriptor.digest) {
    throw new Error(`Entry "${e.ref}": the manifest bytes do not match ${e.descriptor.digest}`);
  }
  const docker = imageManifestJson(e, { features: true });
  const extra = (e.source !== e.ref ? `,"Source":${JSON.stringify(e.source)}` : "") +
    `,"ManifestList":${JSON.stringify(list)}`;
  return docker.slice(0, -1) + extra + "}";
}
