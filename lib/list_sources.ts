/**
 * `manifest create`: the entries of a local list, read from the sources as `docker manifest
 * create` reads them (manifest bytes, digest, and the platform the image config names), and
 * further: a source that is an index gives one entry per platform image (docker refuses it;
 * attestations are left out), and sources may be in any registry.
 *
 * @module
 */

import { RegistryError } from "./errors.ts";
import { entryName } from "./inspect.ts";
import { type LocalEntry, type LocalStore, ManifestListExistsError } from "./local_store.ts";
import { configPlatformFields } from "./image_config.ts";
import type { Descriptor, ImageConfig } from "./manifest.ts";
import { isImageManifestMediaType } from "./media_types.ts";
import type { Platform } from "./platform.ts";
import type { Reference } from "./reference.ts";
import { type ResolvedEntry, resolveSources } from "./push/resolve_sources.ts";
import type { RegistryClient } from "./registry/client.ts";
import type { Logger } from "./registry/transport.ts";

/**
 * A manifest the registry does not have; docker's words (`no such manifest: REF`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NoSuchManifestError } from "./list_sources.ts";
 * assert.equal(new NoSuchManifestError("r.io/a:1").message, "no such manifest: r.io/a:1");
 * ```
 */
export class NoSuchManifestError extends Error {
  /** The reference, normalised. */
  readonly reference: string;
  /** Creates the error; the registry's answer goes in `cause`. */
  constructor(reference: string, options?: ErrorOptions) {
    super(`no such manifest: ${reference}`, options);
    this.name = "NoSuchManifestError";
    this.reference = reference;
  }
}

/**
 * The registry's "not there" for `ref` in docker's words: a 404 whose error codes (if any) are
 * MANIFEST_UNKNOWN or NAME_UNKNOWN, the answers docker's client takes as "no such manifest". Any
 * other error keeps the registry's own (escaped) words, with `ref` in front.
 */
export function sourceError(ref: string, e: unknown): unknown {
  if (!(e instanceof RegistryError)) return e;
  const unknown = e.codes.every((c) => c.code === "MANIFEST_UNKNOWN" || c.code === "NAME_UNKNOWN");
  if (e.status === 404 && unknown) return new NoSuchManifestError(ref, { cause: e });
  return e.withContext(`"${ref}"`);
}

/** Options of {@link createList}. */
export interface CreateListOptions {
  /** Add to (or replace entries of) an existing list instead of refusing it. */
  amend?: boolean;
  /** Where warnings go (a source without a platform, entries of an index left out). */
  logger: Logger;
  /**
   * @deprecated Sources are read in one resolver run, bounded by the client's per-host limit;
   * this value is ignored.
   */
  concurrency?: number;
}

/**
 * Creates (or amends) local list `list` from `sources`. As docker: a source that the list already
 * holds under its name is taken from the store as it is (annotations kept), the others are read
 * from their registries. Nothing is written unless every source could be read.
 */
export async function createList(
  client: RegistryClient,
  store: LocalStore,
  list: Reference,
  sources: Reference[],
  options: CreateListOptions,
): Promise<void> {
  const name = list.toString();
  if (!options.amend && await store.find(name)) throw new ManifestListExistsError(name);
  const stored = await Promise.all(sources.map((s) => store.get(name, s.toString())));
  const read = await readSources(
    client,
    sources.filter((_, i) => !stored[i]).map((s) => s.toString()),
    options.logger,
  );
  const entries = onceFromIndexes(
    sources.flatMap((s, i) => stored[i] ? [stored[i]!] : read.get(s.toString())!),
  );
  if (options.amend) await store.amend(name, entries);
  else await store.create(name, entries);
}

/**
 * The entries with each platform image that indexes give kept once: two tags of one index give
 * its images once. A source named by the user is always its own entry (as in docker's store, a
 * manifest named by tag and by digest is two entries).
 */
function onceFromIndexes(entries: LocalEntry[]): LocalEntry[] {
  const seen = new Set<string>();
  return entries.filter((e) => {
    if (e.ref === e.source) return true;
    if (seen.has(e.descriptor.digest)) return false;
    seen.add(e.descriptor.digest);
    return true;
  });
}

/**
 * The entries a source gives, read by the engine's resolver (lib/push/resolve_sources.ts): an
 * image with the platform its config names, or the platform images of an index with the platforms
 * the index gives them (read from their configs where it gives none).
 */
export async function resolveSource(
  client: RegistryClient,
  ref: Reference,
  logger: Logger,
): Promise<LocalEntry[]> {
  return (await readSources(client, [ref.toString()], logger)).get(ref.toString())!;
}

/**
 * The entries of each source, read in one resolver run (a document two sources share is fetched
 * once). A failure names its source in docker's words; warnings go to `logger` in source order.
 */
async function readSources(
  client: RegistryClient,
  sources: readonly string[],
  logger: Logger,
): Promise<Map<string, LocalEntry[]>> {
  const unique = [...new Set(sources)];
  let resolved;
  try {
    resolved = await resolveSources(client, unique.map((image) => ({ image })), {
      keepUnknownPlatform: true,
      manifests: true,
    });
  } catch (e) {
    const { source, error } = registryWords(unique, e);
    throw source === undefined ? error : sourceError(source, error);
  }
  return new Map(unique.map((source) => {
    const images = resolved.images.filter((e) => e.image === source);
    return [source, entriesOf(source, images, logger)];
  }));
}

/** The store entries of one source, from what it resolved to. */
function entriesOf(source: string, resolved: ResolvedEntry[], logger: Logger): LocalEntry[] {
  const top = resolved[0];
  if (top && !top.index) {
    if (!top.descriptor.platform?.os || !top.descriptor.platform.architecture) {
      logger.warn(
        `"${source}" names no platform in its config: set one with manifest annotate --os --arch`,
      );
    }
    return [localEntry(source, source, top)];
  }
  const entries = resolved.filter((e) => isImageManifestMediaType(e.descriptor.mediaType));
  const others = resolved.length - entries.length;
  if (others > 0) logger.warn(`Leaving out ${others} entries of "${source}" that are not images`);
  if (entries.length === 0) throw new Error(`Index "${source}" has no platform images`);
  return entries.map((e) => localEntry(entryName(source, e.descriptor.digest), source, e));
}

/** A store entry: the manifest's own descriptor, the platform, and the index's annotations. */
function localEntry(ref: string, source: string, e: ResolvedEntry): LocalEntry {
  const m = e.manifest!;
  const platform: Platform = { os: "", architecture: "", ...e.descriptor.platform };
  const descriptor: LocalEntry["descriptor"] = { ...bare(m.descriptor), platform };
  const annotations = e.index ? e.descriptor.annotations : undefined;
  if (annotations && Object.keys(annotations).length > 0) descriptor.annotations = annotations;
  return { ref, source, descriptor, raw: m.bytes };
}

/**
 * The error under the resolver's `Source image "…": ` context, and the source it names: docker
 * names a source its own way ({@link sourceError}).
 */
function registryWords(
  sources: readonly string[],
  e: unknown,
): { source?: string; error: unknown } {
  let x = e;
  let source: string | undefined;
  for (;;) {
    const cause = x instanceof Error && x.cause instanceof Error ? x.cause : undefined;
    const named = cause &&
      sources.find((s) => (x as Error).message === `Source image "${s}": ${cause.message}`);
    if (named === undefined) return { source, error: x };
    source = named;
    x = cause;
  }
}

/**
 * The platform an image config names, read as docker reads it (the config decoded into an OCI
 * platform: os, architecture, variant, os.version, os.features); fields that are not strings are
 * left out, and a config without os or architecture gives empty ones (push then asks for them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configPlatform } from "./list_sources.ts";
 * assert.deepEqual(configPlatform({ os: "linux", architecture: "arm", variant: "v7" }), {
 *   os: "linux", architecture: "arm", variant: "v7",
 * });
 * assert.deepEqual(configPlatform({ os: {} }), { os: "", architecture: "" });
 * ```
 */
export function configPlatform(config: unknown): Platform {
  const c = (config !== null && typeof config === "object" ? config : {}) as Record<
    string,
    unknown
  >;
  // Docker decodes what it can: a field of the wrong type is as good as absent.
  const fields: ImageConfig = {};
  for (const k of ["os", "architecture", "variant", "os.version"] as const) {
    if (typeof c[k] === "string") fields[k] = c[k] as string;
  }
  const features = c["os.features"];
  if (Array.isArray(features) && features.every((f) => typeof f === "string")) {
    fields["os.features"] = features;
  }
  return { os: "", architecture: "", ...configPlatformFields(fields) };
}

function bare(d: Descriptor): Descriptor {
  return { mediaType: d.mediaType, digest: d.digest, size: d.size };
}
