/**
 * The local manifest lists of the `manifest` commands (docker manifest's workflow): one directory
 * per list, one JSON file per entry, under `$MANIFEST_TOOL_HOME`, else
 * `$XDG_DATA_HOME/manifest-tool/manifests`, else `~/.local/share/manifest-tool/manifests`. Writes
 * are atomic (temporary file, then rename), so concurrent invocations never read half a file; a
 * file that does not parse is an error naming it.
 *
 * @module
 */

import { UsageError } from "./errors.ts";
import type { Descriptor } from "./manifest.ts";
import type { Platform } from "./platform.ts";

/** One entry of a local list. */
export interface LocalEntry {
  /** The source reference as resolved (`registry/repo@sha256:…` or with its tag). */
  ref: string;
  /** Descriptor with the platform that will go into the list. */
  descriptor: Descriptor & { platform: Platform };
  /** The manifest bytes, base64, for `manifest inspect LIST ENTRY`. */
  raw: string;
}

/**
 * A store corrupt or unreadable file.
 *
 * @example
 * ```ts
 * import { LocalStoreError } from "./local_store.ts";
 * const e = new LocalStoreError("/x/y.json", "not JSON");
 * console.assert(e.message.includes("/x/y.json"));
 * ```
 */
export class LocalStoreError extends Error {
  /** The file. */
  readonly path: string;
  /** Creates the error. */
  constructor(path: string, reason: string, options?: ErrorOptions) {
    super(`Local manifest store file "${path}" is unusable: ${reason}`, options);
    this.name = "LocalStoreError";
    this.path = path;
  }
}

/** docker's file-safe name: `/` → `_`, `:` → `-`, `@` → `-`. */
export function fileSafe(name: string): string {
  return name.replaceAll("/", "_").replaceAll(":", "-").replaceAll("@", "-");
}

/**
 * The store.
 *
 * @example
 * ```ts ignore
 * import { LocalStore } from "./local_store.ts";
 * const store = new LocalStore(LocalStore.defaultDir((n) => Deno.env.get(n)));
 * console.log(await store.lists());
 * ```
 */
export class LocalStore {
  /** Root directory. */
  readonly dir: string;

  /** A store rooted at `dir`. */
  constructor(dir: string) {
    this.dir = dir;
  }

  /** The default root for an environment. */
  static defaultDir(env: (name: string) => string | undefined): string {
    const own = env("MANIFEST_TOOL_HOME");
    if (own) return own;
    const data = env("XDG_DATA_HOME") ?? (env("HOME") ? `${env("HOME")}/.local/share` : undefined);
    if (!data) {
      throw new UsageError("Cannot place the local manifest store: set HOME or MANIFEST_TOOL_HOME");
    }
    return `${data}/manifest-tool/manifests`;
  }

  #listDir(list: string): string {
    return `${this.dir}/${fileSafe(list)}`;
  }

  /** Whether the list exists. */
  async exists(list: string): Promise<boolean> {
    try {
      return (await Deno.stat(this.#listDir(list))).isDirectory;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
  }

  /** Creates the list's directory (idempotent). */
  async create(list: string): Promise<void> {
    await Deno.mkdir(this.#listDir(list), { recursive: true });
  }

  /** Writes (or replaces) an entry atomically. */
  async put(list: string, entry: LocalEntry): Promise<void> {
    const dir = this.#listDir(list);
    await Deno.mkdir(dir, { recursive: true });
    const path = `${dir}/${fileSafe(entry.ref)}.json`;
    const tmp = `${path}.${crypto.randomUUID()}.tmp`;
    await Deno.writeTextFile(tmp, JSON.stringify(entry, null, 2) + "\n");
    await Deno.rename(tmp, path);
  }

  /** Entries of a list, in name order; a missing list is undefined. */
  async entries(list: string): Promise<LocalEntry[] | undefined> {
    const dir = this.#listDir(list);
    const names: string[] = [];
    try {
      for await (const e of Deno.readDir(dir)) {
        if (e.isFile && e.name.endsWith(".json")) names.push(e.name);
      }
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
    names.sort();
    const out: LocalEntry[] = [];
    for (const name of names) out.push(await readEntry(`${dir}/${name}`));
    return out;
  }

  /** Removes a list; false when it did not exist. */
  async remove(list: string): Promise<boolean> {
    try {
      await Deno.remove(this.#listDir(list), { recursive: true });
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
  }
}

async function readEntry(path: string): Promise<LocalEntry> {
  let doc: unknown;
  try {
    doc = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new LocalStoreError(path, e instanceof SyntaxError ? "not JSON" : (e as Error).message, {
      cause: e,
    });
  }
  const o = doc as Partial<LocalEntry>;
  const d = o?.descriptor;
  if (
    typeof o?.ref !== "string" || typeof o.raw !== "string" || !d || typeof d.digest !== "string" ||
    typeof d.mediaType !== "string" || typeof d.size !== "number" || !d.platform ||
    typeof d.platform.os !== "string" || typeof d.platform.architecture !== "string"
  ) {
    throw new LocalStoreError(path, "missing ref, raw or descriptor fields");
  }
  return o as LocalEntry;
}
