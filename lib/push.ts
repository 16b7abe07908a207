/**
 * Plans and executes the push of a multi-platform index: resolve every source, flatten sources
 * that are indexes, fill platforms from image configs where the spec leaves them out, check for
 * duplicate platforms, bring every child into the target repository (already there, mounted across
 * repositories concurrently, or copied as a stream when a mount is refused or the source is on
 * another registry), `PUT` the children by digest, and only then the index and its tags. Nothing
 * is half-pushed: if anything fails before the index `PUT`, the target tag is untouched.
 *
 * @module
 */

import { AuthError, RegistryError, UsageError } from "./errors.ts";
import {
  type Descriptor,
  type ImageConfig,
  type Index,
  isAttestation,
  REFERENCE_DIGEST_ANNOTATION,
  serializeIndex,
} from "./manifest.ts";
import {
  type IndexFormat,
  indexMediaType,
  isIndexMediaType,
  isNonDistributable,
} from "./media_types.ts";
import { type Platform, platformKey, validatePlatform } from "./platform.ts";
import { parseReference, type Reference } from "./reference.ts";
import { mapConcurrent, Once } from "./pool.ts";
import type { FetchedManifest, RegistryClient, Repository } from "./registry/client.ts";
import { repositoryScope } from "./registry/auth.ts";
import { isTimeout } from "./registry/transport.ts";
import { digestOf } from "./digest.ts";

/** One source image of a push, with the platform the spec gives it (possibly partial). */
export interface PushSource {
  /** Source image reference (tag or digest). */
  image: string;
  /** Platform as given; missing fields are filled from the image config. */
  platform?: Partial<Platform>;
  // --- manifest drop-in (helper H5); the engine rewrite (H3) provides the same option ---
  /** The platform given is final: the image config is never consulted (`manifest push`). */
  exactPlatform?: boolean;
}

/** What to push: manifest-tool's YAML spec, in object form. */
export interface PushSpec {
  /** Target reference (`registry/repo:tag`). */
  image: string;
  /** Extra tags for the index. */
  tags?: string[];
  /** Index annotations (OCI only). */
  annotations?: Record<string, string>;
  /** The sources. */
  manifests: PushSource[];
}

/** How to push. */
export interface PushOptions {
  /** `docker` (manifest list, manifest-tool's default) or `oci` (image index). */
  format?: IndexFormat;
  /** Warn and skip sources that cannot be read, instead of failing. */
  ignoreMissing?: boolean;
  /** Resolve and plan, write nothing. */
  dryRun?: boolean;
  /** Requests in flight at once (default 8). */
  concurrency?: number;
  /** Bytes per PATCH for streamed copies; default: one streamed PUT per blob. */
  chunkSize?: number;
  /** Progress of streamed copies. */
  onProgress?: (event: ProgressEvent) => void;
  /** Called once per blob when its action (present, mount, copy, foreign) is done. */
  onBlob?: (action: BlobAction) => void;
  // --- manifest drop-in (helper H5); the engine rewrite (H3) provides the same option ---
  /** Encodes the index (default: `serializeIndex`); `manifest push` sends docker's bytes. */
  encodeIndex?: (index: Index) => Uint8Array;
}

/** Progress of one streamed blob copy. */
export interface ProgressEvent {
  /** Blob digest. */
  digest: string;
  /** Bytes sent so far. */
  bytes: number;
  /** Blob size. */
  total: number;
  /** True on the last event of the blob. */
  done: boolean;
}

/** What happened (or, in a dry run, would happen) to a blob. */
export interface BlobAction {
  /** Blob digest. */
  digest: string;
  /** Blob size. */
  size: number;
  /** Media type. */
  mediaType: string;
  /**
   * `present`: in the target repo already; `mount`: mounted across repositories; `copy`: streamed
   * from the source; `foreign`: non-distributable, not copied.
   */
  action: "present" | "mount" | "copy" | "foreign";
  /** Where it came from (`registry/repo`). */
  from: string;
}

/** What happened to a child manifest. */
export interface ManifestAction {
  /** Its descriptor as listed in the index. */
  descriptor: Descriptor;
  /** The source it came from. */
  source: string;
  /** `present`: already in the target repo; `put`: pushed by digest. */
  action: "present" | "put";
}

/** The outcome of {@link pushIndex}. */
export interface PushResult {
  /** Descriptor of the index pushed. */
  descriptor: Descriptor;
  /** The index document. */
  index: Index;
  /** The exact bytes pushed (or that would be, in a dry run). */
  bytes: Uint8Array;
  /** Target reference. */
  target: string;
  /** Tags written: the target's and the extra ones. */
  tags: string[];
  /** Children. */
  manifests: ManifestAction[];
  /** Blobs. */
  blobs: BlobAction[];
  /** Sources skipped with `ignoreMissing`, with the reason. */
  skipped: { image: string; reason: string }[];
  /** True when nothing was written. */
  dryRun: boolean;
}

/** A child of the index to be: its descriptor, and where its content lives. */
interface Entry {
  descriptor: Descriptor;
  source: Repository;
  sourceName: string;
  /** The manifest bytes, when fetched (always for other repos). */
  fetched?: FetchedManifest;
}

/**
 * Pushes an index assembled from `spec` to `spec.image` and its `tags`.
 *
 * @example
 * ```ts ignore
 * import { pushIndex } from "./push.ts";
 * import { RegistryClient } from "./registry/client.ts";
 * await using client = new RegistryClient();
 * const result = await pushIndex(client, {
 *   image: "127.0.0.1:5000/app:1.0",
 *   manifests: [
 *     { image: "127.0.0.1:5000/app:1.0-amd64", platform: { os: "linux", architecture: "amd64" } },
 *     { image: "127.0.0.1:5000/app:1.0-arm64" },
 *   ],
 * }, { format: "oci" });
 * console.log(`Digest: ${result.descriptor.digest} ${result.descriptor.size}`);
 * ```
 */
export async function pushIndex(
  client: RegistryClient,
  spec: PushSpec,
  options: PushOptions = {},
): Promise<PushResult> {
  const format = options.format ?? "docker";
  const limit = options.concurrency ?? 8;
  const plan = validateSpec(spec, format);
  const { target } = plan;
  let targetRepo = client.repositoryOf(target);

  // One token per registry for the whole push: target push scope first, every source's pull.
  const scopes = new Map<string, string[]>();
  const addScope = (registry: string, scope: string) => {
    const list = scopes.get(registry) ?? [];
    if (!list.includes(scope)) list.push(scope);
    scopes.set(registry, list);
  };
  addScope(
    target.registry,
    repositoryScope(target.repository, options.dryRun ? ["pull"] : ["pull", "push"]),
  );
  for (const s of plan.sources) {
    addScope(s.ref.registry, repositoryScope(s.ref.repository, ["pull"]));
  }
  // The scopes travel with the push's requests as hints (the shared client is not changed).
  const hinted = (r: Repository) => r.withOptions({ scopes: scopes.get(r.registry) ?? [] });
  targetRepo = hinted(targetRepo);

  // Resolve every source concurrently.
  const skipped: { image: string; reason: string }[] = [];
  const resolved = await mapConcurrent(plan.sources, limit, async (s) => {
    const repo = hinted(client.repositoryOf(s.ref));
    try {
      return { ...s, repo, fetched: await repo.getManifest(s.ref.identifier) };
    } catch (e) {
      if (options.ignoreMissing && isUnavailable(e)) {
        const reason = e instanceof Error ? e.message : String(e);
        client.logger.warn(`Skipping "${s.image}": ${reason}`);
        skipped.push({ image: s.image, reason });
        return undefined;
      }
      throw wrapSourceError(s.image, e);
    }
  });
  const sources = resolved.filter((s) => s !== undefined);
  if (sources.length === 0) {
    throw new UsageError(
      "All entries were skipped because their source images are missing: no index to push",
    );
  }

  // Turn sources into entries: images (platform filled in) and attestations.
  const sameRepo = (r: Repository) =>
    r.registry === targetRepo.registry && r.name === targetRepo.name;
  const images: Entry[] = [];
  const attestations: Entry[] = [];
  await mapConcurrent(sources, limit, async (s) => {
    const parsed = s.fetched.parsed;
    if (parsed.kind === "image") {
      // H5: an exact platform is taken as given (validated below), its config never read.
      const platform = s.exactPlatform
        ? { ...s.platform } as Platform
        : await completePlatform(s.repo, s.fetched, s.platform, s.image);
      images.push({
        descriptor: { ...s.fetched.descriptor, platform },
        source: s.repo,
        sourceName: s.image,
        fetched: s.fetched,
      });
      return;
    }
    // An index source is flattened: its images (filtered by the given platform, if any) and the
    // attestation manifests of those images, with their annotations.
    let children = parsed.index.manifests.filter((d) => !isAttestation(d));
    if (s.platform?.os || s.platform?.architecture) {
      const want = s.platform;
      children = children.filter((d) =>
        d.platform && (!want.os || d.platform.os === want.os) &&
        (!want.architecture || d.platform.architecture === want.architecture) &&
        (!want.variant || d.platform.variant === want.variant)
      );
      if (children.length === 0) {
        throw new UsageError(
          `Source "${s.image}" is an index with no entry for platform ${platformText(want)}`,
        );
      }
    }
    const kept = new Set(children.map((d) => d.digest));
    const attests = parsed.index.manifests.filter((d) =>
      isAttestation(d) && kept.has(d.annotations?.[REFERENCE_DIGEST_ANNOTATION] ?? "")
    );
    const need = !sameRepo(s.repo);
    await mapConcurrent([...children, ...attests], limit, async (d) => {
      const fetched = need || !d.platform ? await s.repo.getManifest(d.digest, d) : undefined;
      const entry: Entry = { descriptor: { ...d }, source: s.repo, sourceName: s.image, fetched };
      if (isAttestation(d)) {
        attestations.push(entry);
        return;
      }
      if (!d.platform?.os || !d.platform.architecture) {
        entry.descriptor.platform = await completePlatform(s.repo, fetched!, d.platform, s.image);
      }
      images.push(entry);
    });
  });
  // Keep the spec's order whatever order the fetches finished in.
  const order = (e: Entry) => plan.sources.findIndex((s) => s.image === e.sourceName);
  const byOrder = (a: Entry, b: Entry) => order(a) - order(b);
  images.sort(byOrder);
  attestations.sort(byOrder);

  const seen = new Map<string, string>();
  for (const e of images) {
    const p = e.descriptor.platform!;
    if (!isIndexMediaType(e.descriptor.mediaType)) validatePlatformOf(p, e.sourceName);
    const key = platformKey(p);
    const other = seen.get(key);
    if (other && other !== e.descriptor.digest) {
      throw new UsageError(
        `Two manifests have the same platform ${
          platformText(p)
        }: ${other} and ${e.descriptor.digest} (from "${e.sourceName}")`,
      );
    }
    seen.set(key, e.descriptor.digest);
  }
  const entries = dedupe([...images, ...format === "docker" ? [] : attestations]);
  if (format === "docker" && attestations.length > 0) {
    client.logger.warn(
      `Leaving out ${attestations.length} attestation manifest(s): a Docker manifest list cannot carry them (use --type oci)`,
    );
  }

  const index: Index = {
    schemaVersion: 2,
    mediaType: indexMediaType(format),
    manifests: entries.map((e) => {
      const d: Descriptor = {
        mediaType: e.descriptor.mediaType,
        digest: e.descriptor.digest,
        size: e.descriptor.size,
      };
      if (e.descriptor.platform) d.platform = e.descriptor.platform;
      if (format === "oci" && e.descriptor.annotations) d.annotations = e.descriptor.annotations;
      return d;
    }),
  };
  if (spec.annotations && Object.keys(spec.annotations).length > 0) {
    index.annotations = spec.annotations;
  }
  const bytes = options.encodeIndex?.(index) ?? serializeIndex(index); // H5: encodeIndex

  // Bring every child into the target repository.
  const blobs: BlobAction[] = [];
  const manifests: ManifestAction[] = [];
  const copier = new Copier(client, targetRepo, options, blobs);
  await mapConcurrent(entries, limit, async (e) => {
    const action = sameRepo(e.source) ? "present" : await copier.manifest(e);
    manifests.push({ descriptor: e.descriptor, source: e.sourceName, action });
  });
  manifests.sort((a, b) =>
    entries.findIndex((e) => e.descriptor.digest === a.descriptor.digest) -
    entries.findIndex((e) => e.descriptor.digest === b.descriptor.digest)
  );

  const mediaType = indexMediaType(format);
  const descriptor: Descriptor = {
    mediaType,
    digest: digestOf(bytes),
    size: bytes.byteLength,
  };
  const tags = [target.tag!, ...plan.tags.filter((t) => t !== target.tag)];
  if (!options.dryRun) {
    // Every child is in the target repository now: the index may be written, then its tags.
    const put = await targetRepo.putManifest(target.tag!, bytes, mediaType);
    if (put.digest !== descriptor.digest) {
      throw new Error(`Registry stored the index as ${put.digest}, expected ${descriptor.digest}`);
    }
    await mapConcurrent(tags.slice(1), limit, (t) => targetRepo.putManifest(t, bytes, mediaType));
  }
  return {
    descriptor,
    index,
    bytes,
    target: target.toString(),
    tags,
    manifests,
    blobs,
    skipped,
    dryRun: options.dryRun ?? false,
  };
}

interface Plan {
  target: Reference;
  tags: string[];
  sources: {
    image: string;
    ref: Reference;
    platform?: Partial<Platform>;
    exactPlatform?: boolean; // H5
  }[];
}

/** Checks everything that needs no request, so bad input fails before anything is sent. */
function validateSpec(spec: PushSpec, format: IndexFormat): Plan {
  if (!spec.image) throw new UsageError("No target image given");
  const target = parseReference(spec.image);
  if (!target.tag || target.digest) {
    throw new UsageError(`Target "${spec.image}" must name a tag, not a digest`);
  }
  const tags = (spec.tags ?? []).map((t) => target.withTag(t).tag!);
  if (format === "docker" && spec.annotations && Object.keys(spec.annotations).length > 0) {
    throw new UsageError(
      "A Docker manifest list cannot carry annotations: use --type oci",
    );
  }
  if (!spec.manifests?.length) throw new UsageError("No source images given");
  const sources = spec.manifests.map((m) => {
    const ref = parseReference(m.image);
    if (m.platform && (m.platform.os || m.platform.architecture)) {
      if (!m.platform.os || !m.platform.architecture) {
        throw new UsageError(
          `Platform of "${m.image}" needs both os and architecture, got ${
            platformText(m.platform)
          }`,
        );
      }
      validatePlatformOf(m.platform as Platform, m.image);
    }
    return { image: m.image, ref, platform: m.platform, exactPlatform: m.exactPlatform };
  });
  return { target, tags, sources };
}

function validatePlatformOf(p: Platform, image: string): void {
  try {
    validatePlatform(p);
  } catch (e) {
    throw new UsageError(`Source "${image}": ${(e as Error).message}`, { cause: e });
  }
}

/**
 * The platform of an image: what the spec gives, completed from the image config (os, architecture,
 * variant, os.version, os.features) when the spec leaves any of those a user would expect out. The
 * config is fetched only then.
 */
async function completePlatform(
  repo: Repository,
  fetched: FetchedManifest,
  given: Partial<Platform> | undefined,
  image: string,
): Promise<Platform> {
  const p: Partial<Platform> = { ...given };
  const needsConfig = !p.os || !p.architecture ||
    (!p.variant && (p.architecture === "arm" || p.architecture === "arm64")) ||
    (!p["os.version"] && p.os === "windows");
  if (needsConfig && fetched.parsed.kind === "image") {
    const cfgDesc = fetched.parsed.manifest.config;
    let config: ImageConfig;
    try {
      config = JSON.parse(
        new TextDecoder().decode(await repo.fetchBlobBytes(cfgDesc)),
      ) as ImageConfig;
    } catch (e) {
      throw wrapSourceError(image, e);
    }
    if (!p.os && !p.architecture) {
      p.os = config.os;
      p.architecture = config.architecture;
    }
    if (!p.variant && config.variant && p.architecture === config.architecture) {
      p.variant = config.variant;
    }
    if (!p["os.version"] && config["os.version"]) p["os.version"] = config["os.version"];
    if (!p["os.features"]?.length && config["os.features"]?.length) {
      p["os.features"] = config["os.features"];
    }
  }
  if (!p.os || !p.architecture) {
    throw new UsageError(`Cannot tell the platform of "${image}": give it in the spec`);
  }
  const out: Platform = { os: p.os, architecture: p.architecture };
  if (p.variant) out.variant = p.variant;
  if (p["os.version"]) out["os.version"] = p["os.version"];
  if (p["os.features"]?.length) out["os.features"] = p["os.features"];
  if (p.features?.length) out.features = p.features;
  return out;
}

function platformText(p: Partial<Platform>): string {
  return [p.os ?? "?", p.architecture ?? "?", p.variant].filter(Boolean).join("/") +
    (p["os.version"] ? `:${p["os.version"]}` : "");
}

function dedupe(entries: Entry[]): Entry[] {
  const seen = new Set<string>();
  return entries.filter((e) => {
    if (seen.has(e.descriptor.digest)) return false;
    seen.add(e.descriptor.digest);
    return true;
  });
}

function isUnavailable(e: unknown): boolean {
  if (e instanceof AuthError) return true;
  if (e instanceof RegistryError) return e.status === 404 || e.status === 401 || e.status === 403;
  return false;
}

function wrapSourceError(image: string, e: unknown): Error {
  if (e instanceof UsageError || e instanceof SourceError) return e;
  return new SourceError(image, e);
}

/**
 * A source image of a push could not be read; `cause` holds the registry's answer.
 *
 * @example
 * ```ts
 * import { SourceError } from "./push.ts";
 * const e = new SourceError("r/x:1", new Error("404 Not Found"));
 * console.assert(e.message === 'Source image "r/x:1": 404 Not Found');
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

/** Brings manifests and blobs into the target repository, each blob once per run. */
class Copier {
  readonly #client: RegistryClient;
  readonly #target: Repository;
  readonly #options: PushOptions;
  readonly #blobs: BlobAction[];
  readonly #blobOnce = new Once<string, void>();
  readonly #manifestOnce = new Once<string, "present" | "put">();

  constructor(
    client: RegistryClient,
    target: Repository,
    options: PushOptions,
    blobs: BlobAction[],
  ) {
    this.#client = client;
    this.#target = target;
    this.#options = options;
    this.#blobs = blobs;
  }

  /** Ensures manifest `e` (and everything it names) is in the target repo; then PUTs it. */
  manifest(e: Entry): Promise<"present" | "put"> {
    return this.#manifestOnce.run(e.descriptor.digest, async () => {
      const sameRegistry = e.source.registry === this.#target.registry;
      if (!sameRegistry && await this.#target.headManifest(e.descriptor.digest)) {
        // Another registry: skip what the target already holds (re-push of the same spec).
        return "present";
      }
      const fetched = e.fetched ?? await e.source.getManifest(e.descriptor.digest, e.descriptor);
      const parsed = fetched.parsed;
      if (parsed.kind === "index") {
        // A nested index: its children first.
        await mapConcurrent(
          parsed.index.manifests,
          this.#options.concurrency ?? 8,
          (d) => this.manifest({ descriptor: d, source: e.source, sourceName: e.sourceName }),
        );
      } else {
        const blobs = [parsed.manifest.config, ...parsed.manifest.layers];
        await mapConcurrent(blobs, this.#options.concurrency ?? 8, (b) => this.#blob(b, e.source));
      }
      if (!this.#options.dryRun) {
        await this.#target.putManifest(
          e.descriptor.digest,
          fetched.bytes,
          fetched.descriptor.mediaType,
        );
      }
      return "put";
    });
  }

  #blob(d: Descriptor, source: Repository): Promise<void> {
    return this.#blobOnce.run(d.digest, async () => {
      const from = source.toString();
      const record = (action: BlobAction["action"]): void => {
        const a: BlobAction = {
          digest: d.digest,
          size: d.size,
          mediaType: d.mediaType,
          action,
          from,
        };
        this.#blobs.push(a);
        this.#options.onBlob?.(a);
      };
      if (isNonDistributable(d.mediaType)) return record("foreign");
      if (source.registry === this.#target.registry) {
        if (this.#options.dryRun) return record("mount");
        // Same registry: mount without asking first; a 202 means "cannot mount" (the spec lets
        // a registry refuse), and the session it opened takes a streamed copy instead.
        const session = await this.#target.mountBlob(d.digest, source.name);
        if (!session) return record("mount");
        this.#client.logger.debug(`mount of ${d.digest} from ${from} refused (202): copying`);
        await session.upload(this.#stream(d, source), { digest: d.digest, size: d.size }, {
          chunkSize: this.#options.chunkSize,
        });
        return record("copy");
      }
      if (await this.#target.headBlob(d.digest)) return record("present");
      if (this.#options.dryRun) return record("copy");
      const copy = () =>
        this.#target.uploadBlob(this.#stream(d, source), { digest: d.digest, size: d.size }, {
          chunkSize: this.#options.chunkSize,
        });
      try {
        await copy();
      } catch (e) {
        // A broken connection spoils the upload session: start again once, in a new session.
        // Verified content that does not match (DigestMismatchError) is never retried, nor is a
        // stall (it already took --timeout).
        if (!(e instanceof RegistryError && e.temporary) || isTimeout(e)) throw e;
        this.#client.logger.debug(`copy of ${d.digest} failed (${e.message}): retrying once`);
        await copy();
      }
      return record("copy");
    });
  }

  /**
   * A replayable body: each call opens a new verified download from the source, so a retry (or
   * a 401 in the middle of the upload) can send the blob again instead of failing on a spent
   * stream.
   */
  #stream(d: Descriptor, source: Repository): () => ReadableStream<Uint8Array> {
    const onProgress = this.#options.onProgress;
    return () => {
      let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
      let sent = 0;
      return new ReadableStream<Uint8Array>({
        async pull(controller) {
          reader ??= (await source.fetchBlob(d)).getReader();
          const { done, value } = await reader.read();
          if (done) {
            onProgress?.({ digest: d.digest, bytes: sent, total: d.size, done: true });
            controller.close();
            return;
          }
          sent += value.byteLength;
          onProgress?.({ digest: d.digest, bytes: sent, total: d.size, done: false });
          controller.enqueue(value);
        },
        async cancel(reason) {
          await reader?.cancel(reason);
        },
      });
    };
  }
}
