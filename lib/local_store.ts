/**
 * The local manifest lists of the `manifest` commands (docker manifest's workflow). The store is
 * `$MANIFEST_TOOL_HOME`, else `$XDG_DATA_HOME/manifest-tool/manifests`, else
 * `~/.local/share/manifest-tool/manifests`; in it one directory per list and one JSON file per
 * entry, both named as docker names them (`/` → `_`, `:` → `-`), so entries come back in docker's
 * order.
 *
 * Concurrent invocations are safe: an entry is written to a temporary file and renamed into place,
 * a new list is assembled in a temporary directory and renamed into place whole (so of two
 * concurrent `create`s of one list exactly one wins), and a removed list is renamed away before it
 * is deleted. Readers never see half a file. A file that does not read back as an entry (not
 * JSON, fields missing, bytes that do not match their digest) is a {@link LocalStoreError} naming
 * it.
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

import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { digestOf, parseDigest } from "./digest.ts";
import { UsageError } from "./errors.ts";
import type { Descriptor } from "./manifest.ts";
import type { Platform } from "./platform.ts";
import { parseReference } from "./reference.ts";

/** A manifest's descriptor with the platform a list gives it. */
export type LocalDescriptor = Descriptor & { platform: Platform };

/** One entry of a local list. */
export interface LocalEntry {
  /**
   * The entry's name: the source given to `create`, normalised (`registry/repo:tag`), or, for an
   * entry taken from an index, the index's reference with the entry's digest
   * (`registry/repo:tag@sha256:…`).
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
 * const e = new LocalStoreError("/s/l/e.json", "not JSON");
 * assert.equal(e.message, 'Local manifest store file "/s/l/e.json" is unusable: not JSON');
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
 * One or more lists are not in the store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ManifestListNotFoundError } from "./local_store.ts";
 * assert.equal(new ManifestListNotFoundError("r.io/a:1").message, 'No such manifest list "r.io/a:1"');
 * assert.equal(
 *   new ManifestListNotFoundError(["r.io/a:1", "r.io/b:1"]).message,
 *   'No such manifest lists "r.io/a:1", "r.io/b:1"',
 * );
 * ```
 */
export class ManifestListNotFoundError extends Error {
  /** The lists, normalised. */
  readonly lists: string[];
  /** Creates the error. */
  constructor(lists: string | string[], options?: ErrorOptions) {
    const all = typeof lists === "string" ? [lists] : lists;
    super(
      `No such manifest list${all.length > 1 ? "s" : ""} ${all.map((l) => `"${l}"`).join(", ")}`,
      options,
    );
    this.name = "ManifestListNotFoundError";
    this.lists = all;
  }
}

/**
 * `create` without `--amend` of a list that exists (docker: "refusing to amend an existing
 * manifest list with no --amend flag").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ManifestListExistsError } from "./local_store.ts";
 * assert.match(new ManifestListExistsError("r.io/a:1").message, /--amend/);
 * ```
 */
export class ManifestListExistsError extends Error {
  /** The list, normalised. */
  readonly list: string;
  /** Creates the error. */
  constructor(list: string, options?: ErrorOptions) {
    super(
      `Manifest list "${list}" exists already: use --amend to add to it or replace its entries`,
      options,
    );
    this.name = "ManifestListExistsError";
    this.list = list;
  }
}

/**
 * A list has no entry for the reference given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ManifestEntryNotFoundError } from "./local_store.ts";
 * const e = new ManifestEntryNotFoundError("r.io/a:1", "r.io/x:latest", ["r.io/y:latest"]);
 * assert.equal(e.message, 'Manifest list "r.io/a:1" has no entry for "r.io/x:latest": it has "r.io/y:latest"');
 * ```
 */
export class ManifestEntryNotFoundError extends Error {
  /** The list. */
  readonly list: string;
  /** The reference looked for. */
  readonly entry: string;
  /** Creates the error; `have` names the entries the list has. */
  constructor(list: string, entry: string, have: string[], options?: ErrorOptions) {
    super(
      `Manifest list "${list}" has no entry for "${entry}"${
        have.length ? `: it has ${have.map((h) => `"${h}"`).join(", ")}` : ": it is empty"
      }`,
      options,
    );
    this.name = "ManifestEntryNotFoundError";
    this.list = list;
    this.entry = entry;
  }
}

// NAME_MAX is 255 bytes on the usual file systems; leave room for ".json" and temporary suffixes.
const MAX_FILE_NAME = 200;

/**
 * docker's file-safe name of a reference (`/` → `_`, `:` → `-`); a name too long for a file
 * system is cut and given a hash of the whole so that it stays unique.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileSafe } from "./local_store.ts";
 * assert.equal(fileSafe("127.0.0.1:5000/team/app:1.0"), "127.0.0.1-5000_team_app-1.0");
 * assert(fileSafe(`r.io/${"a".repeat(300)}:1`).length <= 200);
 * ```
 */
export function fileSafe(name: string): string {
  const safe = name.replaceAll("/", "_").replaceAll(":", "-");
  if (safe.length <= MAX_FILE_NAME) return safe;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 16);
  return `${safe.slice(0, MAX_FILE_NAME - hash.length - 1)}-${hash}`;
}

/**
 * The entry of `entries` that `reference` names: by digest when it has one, else the entry of that
 * name, else the one entry taken from that index. Throws {@link ManifestEntryNotFoundError} when
 * none matches, and a {@link UsageError} when an index reference names several entries.
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
  let matches: LocalEntry[];
  if (want.digest) {
    matches = entries.filter((e) => e.descriptor.digest === want.digest);
  } else {
    const name = want.toString();
    matches = entries.filter((e) => e.ref === name);
    if (matches.length === 0) matches = entries.filter((e) => e.source === name);
  }
  if (matches.length === 1) return matches[0];
  if (matches.length === 0) {
    throw new ManifestEntryNotFoundError(list, want.toString(), entries.map((e) => e.ref));
  }
  throw new UsageError(
    `"${want}" names ${matches.length} entries of manifest list "${list}" (the platforms of an index): name one by digest, e.g. "${
      matches[0].ref
    }"`,
  );
}

/**
 * The store: lists of entries on disk.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalStore } from "./local_store.ts";
 * const dir = LocalStore.defaultDir((n) => ({ HOME: "/home/u" } as Record<string, string>)[n]);
 * assert.equal(dir, "/home/u/.local/share/manifest-tool/manifests");
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
   * The default root for an environment: `MANIFEST_TOOL_HOME`, else
   * `$XDG_DATA_HOME/manifest-tool/manifests` (an absolute `XDG_DATA_HOME` only, as the XDG spec
   * says), else `$HOME/.local/share/manifest-tool/manifests` (`USERPROFILE` on Windows).
   */
  static defaultDir(env: (name: string) => string | undefined): string {
    const own = env("MANIFEST_TOOL_HOME");
    if (own) return own;
    const xdg = env("XDG_DATA_HOME");
    const home = env("HOME") || env("USERPROFILE");
    const data = xdg && isAbsolute(xdg) ? xdg : home ? `${home}/.local/share` : undefined;
    if (!data) {
      throw new UsageError(
        "Cannot place the local manifest store: set MANIFEST_TOOL_HOME, XDG_DATA_HOME or HOME",
      );
    }
    return `${data}/manifest-tool/manifests`;
  }

  /** The directory of a list. */
  listDir(list: string): string {
    return `${this.dir}/${fileSafe(list)}`;
  }

  /** Whether the list exists. */
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
    const files = await this.#files(list);
    return files?.map((f) => f.entry);
  }

  /** The entries of a list; {@link ManifestListNotFoundError} when there is no list. */
  async entries(list: string): Promise<LocalEntry[]> {
    const found = await this.find(list);
    if (!found) throw new ManifestListNotFoundError(list);
    return found;
  }

  /**
   * Creates a list with `entries`, all at once: {@link ManifestListExistsError} when it exists
   * (also when another process creates it first). Entries of one digest or one name are kept once.
   */
  async create(list: string, entries: LocalEntry[]): Promise<void> {
    const files = dedupe(entries).map((e) => [`${fileSafe(e.ref)}.json`, serialize(e)]);
    await Deno.mkdir(this.dir, { recursive: true });
    if (await this.exists(list)) throw new ManifestListExistsError(list);
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
   * of the same name or digest, and the entries taken before from the same source (a re-read
   * index), so amending with a source again refreshes it.
   */
  async amend(list: string, entries: LocalEntry[]): Promise<void> {
    await this.#write(list, dedupe(entries), { bySource: true, create: true });
  }

  /** Rewrites entries of an existing list (`annotate`), matched by name or digest. */
  async update(list: string, entries: LocalEntry[]): Promise<void> {
    await this.#write(list, dedupe(entries), { bySource: false, create: false });
  }

  /** Removes a list; false when there was none. */
  async remove(list: string): Promise<boolean> {
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

  async #write(
    list: string,
    entries: LocalEntry[],
    how: { bySource: boolean; create: boolean },
  ): Promise<void> {
    // Nothing is written unless every entry can be.
    const files = entries.map((e) => [`${fileSafe(e.ref)}.json`, serialize(e)]);
    const dir = this.listDir(list);
    if (how.create) await Deno.mkdir(dir, { recursive: true });
    const before = await this.#files(list);
    if (!before) throw new ManifestListNotFoundError(list);
    const names = new Set<string>();
    for (const [name, text] of files) {
      const tmp = `${dir}/.${name}.${crypto.randomUUID()}.tmp`;
      await Deno.writeTextFile(tmp, text);
      await Deno.rename(tmp, `${dir}/${name}`);
      names.add(name);
    }
    const digests = new Set(entries.map((e) => e.descriptor.digest));
    const refs = new Set(entries.map((e) => e.ref));
    const sources = new Set(how.bySource ? entries.map((e) => e.source) : []);
    for (const old of before) {
      if (names.has(old.name)) continue;
      const e = old.entry;
      if (digests.has(e.descriptor.digest) || refs.has(e.ref) || sources.has(e.source)) {
        await Deno.remove(`${dir}/${old.name}`).catch((err) => {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
        });
      }
    }
  }

  async #files(list: string): Promise<{ name: string; entry: LocalEntry }[] | undefined> {
    const dir = this.listDir(list);
    const names: string[] = [];
    try {
      for await (const d of Deno.readDir(dir)) {
        // Temporary files start with a dot; anything else that is not ours is left alone.
        if (!d.name.startsWith(".") && d.name.endsWith(".json")) names.push(d.name);
      }
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      if (e instanceof Deno.errors.NotADirectory) {
        throw new LocalStoreError(dir, "not a directory", { cause: e });
      }
      throw e;
    }
    // docker reads a list in file name order; the suffix is left out so that the order is docker's.
    const key = (n: string) => n.slice(0, -".json".length);
    names.sort((a, b) => key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
    const out: { name: string; entry: LocalEntry }[] = [];
    for (const name of names) {
      const path = `${dir}/${name}`;
      let text: string;
      try {
        text = await Deno.readTextFile(path);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) continue; // replaced by a concurrent amend
        throw new LocalStoreError(path, (e as Error).message, { cause: e });
      }
      out.push({ name, entry: parseEntry(path, text) });
    }
    return out;
  }
}

function isAbsolute(path: string): boolean {
  return path.startsWith("/") || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith("\\\\");
}

/** Keeps the last entry of each name and of each digest, in the order given. */
function dedupe(entries: LocalEntry[]): LocalEntry[] {
  const kept: LocalEntry[] = [];
  for (const e of entries) {
    const i = kept.findIndex((k) => k.ref === e.ref || k.descriptor.digest === e.descriptor.digest);
    if (i >= 0) kept.splice(i, 1);
    kept.push(e);
  }
  return kept;
}

function serialize(e: LocalEntry): string {
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
  const p = e.descriptor.platform;
  const platform: Record<string, unknown> = { architecture: p.architecture, os: p.os };
  if (p["os.version"]) platform["os.version"] = p["os.version"];
  if (p["os.features"]?.length) platform["os.features"] = p["os.features"];
  if (p.variant) platform.variant = p.variant;
  if (p.features?.length) platform.features = p.features;
  const doc = {
    ref: e.ref,
    source: e.source,
    descriptor: {
      mediaType: e.descriptor.mediaType,
      digest: e.descriptor.digest,
      size: e.descriptor.size,
      platform,
    },
    raw: Buffer.from(e.raw.buffer, e.raw.byteOffset, e.raw.byteLength).toString("base64"),
  };
  return JSON.stringify(doc, null, 2) + "\n";
}

function parseEntry(path: string, text: string): LocalEntry {
  const bad = (reason: string, cause?: unknown) =>
    new LocalStoreError(path, reason, cause ? { cause } : undefined);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw bad("not JSON", e);
  }
  if (!isObject(doc)) throw bad("not a JSON object");
  const { ref, raw, descriptor: d } = doc;
  const source = doc.source ?? ref;
  if (typeof ref !== "string" || typeof source !== "string") {
    throw bad('no string "ref" or "source"');
  }
  try {
    parseReference(ref);
    parseReference(source);
  } catch (e) {
    throw bad((e as Error).message, e);
  }
  if (!isObject(d)) throw bad('no "descriptor" object');
  if (typeof d.mediaType !== "string") throw bad("descriptor has no mediaType");
  if (typeof d.size !== "number" || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw bad("descriptor has no valid size");
  }
  let algorithm;
  try {
    algorithm = parseDigest(d.digest as string).algorithm;
  } catch (e) {
    throw bad(`descriptor has no valid digest: ${(e as Error).message}`, e);
  }
  const p = d.platform;
  if (!isObject(p) || typeof p.os !== "string" || typeof p.architecture !== "string") {
    throw bad("descriptor has no platform with os and architecture");
  }
  for (const f of ["variant", "os.version"]) {
    if (p[f] !== undefined && typeof p[f] !== "string") throw bad(`platform ${f} is not a string`);
  }
  for (const f of ["os.features", "features"]) {
    if (p[f] !== undefined && !(Array.isArray(p[f]) && p[f].every((x) => typeof x === "string"))) {
      throw bad(`platform ${f} is not a list of strings`);
    }
  }
  if (typeof raw !== "string") throw bad('no "raw" manifest bytes');
  const bytes = new Uint8Array(Buffer.from(raw, "base64"));
  if (bytes.length !== d.size || digestOf(bytes, algorithm) !== d.digest) {
    throw bad(`the manifest bytes do not match digest ${d.digest}`);
  }
  return {
    ref,
    source,
    descriptor: {
      mediaType: d.mediaType,
      digest: d.digest as string,
      size: d.size,
      platform: p as unknown as Platform,
    },
    raw: bytes,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
