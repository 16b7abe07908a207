/**
 * Fetches a reference and everything the inspect views need, concurrently and once: the top
 * manifest (one request; digest computed from the bytes), then the children of an index and the
 * configs of images in parallel, at most `concurrency` requests in flight, each manifest and config
 * fetched once per run even when several entries name it. Every document is digest-verified. The
 * result is plain data for `lib/format/`.
 *
 * @module
 */

import { RegistryError } from "./errors.ts";
import {
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
  type Index,
  isAttestation,
} from "./manifest.ts";
import {
  DOCKER_CONFIG,
  isImageManifestMediaType,
  isIndexMediaType,
  OCI_CONFIG,
} from "./media_types.ts";
import { formatPlatform, type Platform, platformMatches } from "./platform.ts";
import { Once, Semaphore } from "./pool.ts";
import type { Reference } from "./reference.ts";
import { listReferrers, type Referrer } from "./referrers_list.ts";
import type { FetchedManifest, RegistryClient, Repository } from "./registry/client.ts";
import { parseImageConfig, platformOfConfig } from "./image_config.ts";
import { printable } from "./registry/transport.ts";

export type { Descriptor, ImageConfig, ImageManifest, Index, ParsedManifest } from "./manifest.ts";
export type { Platform } from "./platform.ts";
export type { Reference } from "./reference.ts";
export type { Referrer } from "./referrers_list.ts";
export type * from "./registry/client_types.ts";

/** An image: its manifest and (when fetched) its config. */
export interface InspectedImage {
  /** Kind tag. */
  kind: "image";
  /** Descriptor of the manifest (as listed in the parent index, or as fetched). */
  descriptor: Descriptor;
  /** The manifest. */
  manifest: ImageManifest;
  /** The exact manifest bytes. */
  bytes: Uint8Array;
  /** The image config, when fetched. */
  config?: ImageConfig;
  /** The exact config bytes, when fetched. */
  configBytes?: Uint8Array;
  /** The index this image was picked from by {@link InspectOptions.platform}. */
  pickedFrom?: Descriptor;
  /** Manifests that refer to this one, when {@link InspectOptions.referrers} asked for them. */
  referrers?: Referrer[];
}

/** An index and its children. */
export interface InspectedIndex {
  /** Kind tag. */
  kind: "index";
  /** Descriptor of the index. */
  descriptor: Descriptor;
  /** The index document. */
  index: Index;
  /** The exact bytes. */
  bytes: Uint8Array;
  /** Children, in index order (nested indexes as {@link InspectedIndex}, unknown types as undefined). */
  children: (InspectedImage | InspectedIndex | undefined)[];
  /** The index this one was picked from by {@link InspectOptions.platform} (a nested index). */
  pickedFrom?: Descriptor;
  /** Manifests that refer to this one, when {@link InspectOptions.referrers} asked for them. */
  referrers?: Referrer[];
}

/** Result of {@link inspect}. */
export type Inspected = InspectedImage | InspectedIndex;

/** Options of {@link inspect}. */
export interface InspectOptions {
  /** Fetch image configs (needed for platform and OS details of single images). Default true. */
  configs?: boolean;
  /** Fetch the children of an index. Default true. */
  children?: boolean;
  /**
   * Fetch the configs of the images an index lists (`configs` must allow it too). The views of an
   * index print the platform its entries give, not their configs (only `--expand-config` embeds
   * them), so the CLI leaves them out: an index then takes two dependent round trips, not three.
   * Default true.
   */
  entryConfigs?: boolean;
  /** Pick the entry of an index that matches this platform and inspect that image. */
  platform?: Platform;
  /** Requests in flight at once (across nested indexes too). Default 8. */
  concurrency?: number;
  /** Depth to which nested indexes are followed. Default 2. */
  maxDepth?: number;
  /** Cancels every request of the inspection. */
  signal?: AbortSignal;
  /**
   * List the referrers of the top manifest and of each entry (attestation entries left out), and
   * theirs to `depth` (default 3), fetched alongside the rest with the same bound on requests.
   */
  referrers?: boolean | { artifactTypes?: readonly string[]; depth?: number };
}

/**
 * `--platform` asked for a platform the reference does not have. Not a usage error: the reference
 * is well formed, the registry's content just lacks that platform, as with an unknown tag.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PlatformNotFoundError } from "./inspect.ts";
 * const err = new PlatformNotFoundError("r.example/app:1", { os: "linux", architecture: "riscv64" }, [
 *   { os: "linux", architecture: "amd64" },
 * ], true);
 * assert(err.message === '"r.example/app:1" has no entry for platform linux/riscv64: it has linux/amd64');
 * ```
 */
export class PlatformNotFoundError extends Error {
  /** The reference inspected. */
  readonly reference: string;
  /** The platform asked for. */
  readonly platform: Platform;
  /** The platforms the reference has (attestations left out). */
  readonly available: Platform[];
  /** Creates the error; `isIndex` tells an index without the entry from a single other image. */
  constructor(
    reference: string,
    platform: Platform,
    available: Platform[],
    isIndex: boolean,
    options?: ErrorOptions,
  ) {
    // Platforms read from a registry are escaped: this message is printed.
    const want = printable(formatPlatform(platform, { osVersion: true }));
    const have = available.map((p) => printable(formatPlatform(p, { osVersion: true })));
    super(
      isIndex
        ? `"${reference}" has no entry for platform ${want}: it has ${have.join(", ") || "none"}`
        : `"${reference}" is a single image for ${
          have[0] ?? "no platform (its config names none)"
        }, not ${want}`,
      options,
    );
    this.name = "PlatformNotFoundError";
    this.reference = reference;
    this.platform = platform;
    this.available = available;
  }
}

/** The platform an image config declares; see `lib/image_config.ts` (kept here for importers). */
export { platformOfConfig } from "./image_config.ts";

/**
 * The name under which an entry of `name` is shown: `name` with `@digest` (a digest already in
 * `name` is replaced, a tag kept), a reference that pulls exactly that entry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { entryName } from "./inspect.ts";
 * assert(entryName("r.example/app:1", "sha256:bb") === "r.example/app:1@sha256:bb");
 * assert(entryName("r.example/app@sha256:aa", "sha256:bb") === "r.example/app@sha256:bb");
 * ```
 */
export function entryName(name: string, digest: string): string {
  const at = name.indexOf("@");
  return `${at >= 0 ? name.slice(0, at) : name}@${digest}`;
}

/**
 * Inspects `ref`: an image (manifest + config) or an index (with every child manifest and, for
 * images, their configs). With `platform`, the matching entry of an index (or the image itself
 * when its config matches) is inspected instead; {@link PlatformNotFoundError} when none does.
 *
 * @example
 * ```ts ignore
 * import { inspect } from "./inspect.ts";
 * import { RegistryClient } from "./registry/client.ts";
 * import { parseReference } from "./reference.ts";
 * await using client = new RegistryClient();
 * const result = await inspect(client, parseReference("127.0.0.1:5000/app:1.0"));
 * console.log(result.kind, result.descriptor.digest);
 * ```
 */
export async function inspect(
  client: RegistryClient,
  ref: Reference,
  options: InspectOptions = {},
): Promise<Inspected> {
  const repo = client.repositoryOf(ref).withOptions({ signal: options.signal });
  const fetcher = new Fetcher(repo, options.concurrency ?? 8);
  try {
    const top = await fetcher.node(ref.identifier, undefined);
    if (!options.platform) return await fetcher.expand(top, options, 0);
    const want = options.platform;
    if (top.kind === "image") {
      const image = await fetcher.expand(top, { ...options, configs: true }, 0) as InspectedImage;
      const have = platformOfConfig(image.config);
      if (have && platformMatches(want, have)) return image;
      throw new PlatformNotFoundError(String(ref), want, have ? [have] : [], false);
    }
    const found = await fetcher.entryFor(top, want);
    if (!found.match) {
      throw new PlatformNotFoundError(String(ref), want, found.available, true);
    }
    const picked = await fetcher.expand(
      await fetcher.node(found.match.digest, found.match),
      options,
      1,
    );
    picked.pickedFrom = top.descriptor;
    return picked;
  } catch (e) {
    // Name the reference the user gave, for the child requests as much as for the top one.
    throw e instanceof RegistryError ? e.withContext(`"${ref}"`) : e;
  }
}

/** One inspect run's fetching: a bound on requests in flight, and each document fetched once. */
class Fetcher {
  readonly #repo: Repository;
  readonly #slots: Semaphore;
  readonly #manifests = new Once<string, FetchedManifest>();
  readonly #configs = new Once<string, Uint8Array>();
  readonly #indexes = new Once<string, Inspected>();

  constructor(repo: Repository, concurrency: number) {
    this.#repo = repo;
    this.#slots = new Semaphore(concurrency);
  }

  /**
   * The entry of `index` for platform `want`: among its images, else among those of the indexes it
   * nests (one level, as `platforms` reads them). `available`: every platform seen.
   */
  async entryFor(
    index: Extract<Inspected, { kind: "index" }>,
    want: Platform,
  ): Promise<{ match?: Descriptor; available: Platform[] }> {
    const images = index.index.manifests.filter((d) => !isAttestation(d) && d.platform);
    const match = images.find((d) => platformMatches(want, d.platform!));
    const available = images.map((d) => d.platform!);
    if (match) return { match, available };
    for (const d of index.index.manifests.filter((x) => isIndexMediaType(x.mediaType))) {
      const nested = await this.node(d.digest, d);
      if (nested.kind !== "index") continue;
      const inner = nested.index.manifests.filter((x) => !isAttestation(x) && x.platform);
      const found = inner.find((x) => platformMatches(want, x.platform!));
      if (found) return { match: found, available };
      available.push(...inner.map((x) => x.platform!));
    }
    return { available };
  }

  /** Fetches one manifest (by tag, or by digest as `expected` lists it) into an unexpanded node. */
  async node(reference: string, expected: Descriptor | undefined): Promise<Inspected> {
    const m = await this.#manifests.run(
      `${reference} ${expected?.size ?? ""}`,
      () => this.#slots.run(() => this.#repo.getManifest(reference, expected)),
    );
    // The entry's own descriptor (platform, annotations) with the digest and size verified.
    const descriptor: Descriptor = expected
      ? { ...expected, digest: m.descriptor.digest, size: m.descriptor.size }
      : m.descriptor;
    return m.parsed.kind === "index"
      ? { kind: "index", descriptor, index: m.parsed.index, bytes: m.bytes, children: [] }
      : { kind: "image", descriptor, manifest: m.parsed.manifest, bytes: m.bytes };
  }

  /**
   * Adds an image's config, or an index's children (and theirs), and the node's referrers, as
   * `options` ask; the referrers are listed while the rest is fetched.
   */
  async expand(node: Inspected, options: InspectOptions, depth: number): Promise<Inspected> {
    const want = options.referrers;
    const [expanded, referrers] = await settleAll(
      [
        this.#content(node, options, depth),
        want
          ? listReferrers(this.#repo, node.descriptor.digest, {
            ...(typeof want === "object" ? want : {}),
            slots: this.#slots,
          })
          : Promise.resolve(undefined),
      ] as const,
    );
    if (referrers) expanded.referrers = referrers;
    return expanded;
  }

  async #content(node: Inspected, options: InspectOptions, depth: number): Promise<Inspected> {
    if (node.kind === "image") {
      const c = node.manifest.config;
      // Only JSON configs are read: an artifact's config may be anything, of any size.
      if (options.configs !== false && /json$/i.test(c.mediaType)) {
        node.configBytes = await this.#configs.run(
          c.digest,
          () => this.#slots.run(() => this.#repo.fetchBlobBytes(c)),
        );
        node.config = parseConfig(node.configBytes, c, `${this.#repo}`);
      }
      return node;
    }
    if (options.children === false || depth >= (options.maxDepth ?? 2)) return node;
    // Every child starts at once (the semaphore bounds the requests); each child's config request
    // starts as soon as its manifest is in. All settle before a failure is thrown, so nothing is
    // left running against a client that is about to close.
    const settled = await Promise.allSettled(node.index.manifests.map(async (d) => {
      if (!isIndexMediaType(d.mediaType) && !isImageManifestMediaType(d.mediaType)) {
        return undefined;
      }
      const childOptions = isAttestation(d)
        ? { ...options, configs: false, referrers: false }
        : options.entryConfigs === false
        ? { ...options, configs: false }
        : options;
      const expand = async () => this.expand(await this.node(d.digest, d), childOptions, depth + 1);
      // A nested index listed again is the same node: an index naming one nested index N times,
      // which names N images, is N + N nodes, not N².
      return isIndexMediaType(d.mediaType)
        ? await this.#indexes.run(`${d.digest} ${depth}`, expand)
        : await expand();
    }));
    const failed = settled.find((s) => s.status === "rejected");
    if (failed) throw failed.reason;
    node.children = settled.map((s) => (s as PromiseFulfilledResult<Inspected | undefined>).value);
    return node;
  }
}

/** Awaits every promise; the first failure is thrown once all have settled (nothing left running). */
async function settleAll<T extends readonly unknown[]>(
  promises: { [K in keyof T]: Promise<T[K]> },
): Promise<T> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

function parseConfig(
  bytes: Uint8Array,
  d: Descriptor,
  repo: string,
): ImageConfig | undefined {
  try {
    return parseImageConfig(bytes, `${repo}@${d.digest}`);
  } catch (e) {
    // An image config must be a valid one; an artifact's JSON-typed config is only shown when it is.
    if (d.mediaType !== OCI_CONFIG && d.mediaType !== DOCKER_CONFIG) return undefined;
    throw e;
  }
}
