/**
 * The run's view of registry content: each repository, manifest and image config read at most
 * once per run, keyed by registry + repository + reference (a manifest fetched by tag is also
 * filed under its digest), whatever the number of specs and sources that name it. Every stage
 * reads through it, so two specs sharing a base image cost one request for it.
 *
 * @module
 */

import { checkableAlgorithm, digestOf } from "../digest.ts";
import { DigestMismatchError } from "../errors.ts";
import { type Descriptor, type ImageConfig, parseManifest } from "../manifest.ts";
import { Once } from "../pool.ts";
import type {
  FetchedManifest,
  RegistryClient,
  Repository,
  RequestOptions,
} from "../registry/client.ts";
import { configPlatformFields, parseImageConfig } from "../image_config.ts";

/** Platform fields of an image config: all a push keeps of one. */
export type ConfigPlatform = Pick<
  ImageConfig,
  "os" | "architecture" | "variant" | "os.version" | "os.features"
>;

/** The run's content cache; see the module doc. */
export class Graph {
  readonly #client: RegistryClient;
  readonly #options: { signal?: AbortSignal; scopes?: Record<string, string[]> };
  readonly #repos = new Map<string, Repository>();
  readonly #manifests = new Map<string, Promise<FetchedManifest>>();
  /** Specs still to finish that name each source document (see {@link retain}). */
  readonly #holds = new Map<string, number>();
  readonly #configs = new Once<string, ConfigPlatform>();

  /** A graph reading through `client`; `scopes` per registry, from the plan. */
  constructor(
    client: RegistryClient,
    options: { signal?: AbortSignal; scopes?: Record<string, string[]> } = {},
  ) {
    this.#client = client;
    this.#options = options;
  }

  /** The run's signal, if any. */
  get signal(): AbortSignal | undefined {
    return this.#options.signal;
  }

  /**
   * Options for a request to `registry`: the run's signal and its token scopes there (the whole
   * run's, so one token per registry serves every request).
   */
  requestOptions(registry: string): RequestOptions {
    return { signal: this.#options.signal, scopes: this.#options.scopes?.[registry] };
  }

  /**
   * One {@link Repository} view per repository of the run, carrying the run's signal and its
   * token scopes for that registry on every call.
   */
  repository(registry: string, name: string): Repository {
    const key = `${registry}/${name}`;
    let repo = this.#repos.get(key);
    if (!repo) {
      repo = this.#client.repository(registry, name).withOptions(this.requestOptions(registry));
      this.#repos.set(key, repo);
    }
    return repo;
  }

  /**
   * The same view without the run's signal: for the writes that must finish once begun (the
   * other tags of an index whose first tag is written).
   */
  unstoppable(registry: string, name: string): Repository {
    return this.#client.repository(registry, name).withOptions({
      scopes: this.#options.scopes?.[registry],
    });
  }

  /** A manifest of `repo` by tag or digest (verified), fetched once per run. */
  manifest(repo: Repository, reference: string, expected?: Descriptor): Promise<FetchedManifest> {
    const key = `${repo}@${reference}`;
    let p = this.#manifests.get(key);
    if (p) return p;
    p = (async () => {
      this.#options.signal?.throwIfAborted();
      const m = await repo.getManifest(reference, expected);
      // By tag: the same document by digest is now known too.
      const byDigest = `${repo}@${m.descriptor.digest}`;
      if (byDigest !== key && !this.#manifests.has(byDigest)) {
        this.#manifests.set(byDigest, Promise.resolve(m));
      }
      return m;
    })();
    const mine = p;
    this.#manifests.set(key, mine);
    // A failure is not kept: a later spec naming the same source asks again.
    mine.catch(() => {
      if (this.#manifests.get(key) === mine) this.#manifests.delete(key);
    });
    return mine;
  }

  /**
   * Takes manifest `bytes` the caller holds as `digest` of `repo` (no request): a later
   * {@link manifest} of that digest gets them. Checked against the digest and parsed here.
   */
  known(repo: Repository, digest: string, bytes: Uint8Array, mediaType?: string): void {
    const key = `${repo}@${digest}`;
    if (this.#manifests.has(key)) return;
    const what = `manifest ${repo}@${digest}`;
    const actual = digestOf(bytes, checkableAlgorithm(digest, what));
    if (actual !== digest) throw new DigestMismatchError(digest, actual, what);
    const parsed = parseManifest(bytes, mediaType, what);
    const descriptor = { mediaType: parsed.mediaType, digest, size: bytes.byteLength };
    this.#manifests.set(key, Promise.resolve({ descriptor, bytes, parsed }));
  }

  /**
   * Notes that one more spec will read source `reference` of `repo`: the document stays cached
   * until as many {@link release} calls, so memory holds only what unfinished specs need.
   */
  retain(registry: string, name: string, reference: string): void {
    const key = `${registry}/${name}@${reference}`;
    this.#holds.set(key, (this.#holds.get(key) ?? 0) + 1);
  }

  /** A spec that named this source is done; the last one drops the document (and its alias). */
  async release(registry: string, name: string, reference: string): Promise<void> {
    const key = `${registry}/${name}@${reference}`;
    const left = (this.#holds.get(key) ?? 1) - 1;
    if (left > 0) {
      this.#holds.set(key, left);
      return;
    }
    this.#holds.delete(key);
    const p = this.#manifests.get(key);
    this.#manifests.delete(key);
    const m = await p?.catch(() => undefined);
    const alias = m && `${registry}/${name}@${m.descriptor.digest}`;
    if (alias && !this.#holds.has(alias)) this.#manifests.delete(alias);
  }

  /** The platform fields of an image config (type-checked; `what` names the image). */
  config(repo: Repository, descriptor: Descriptor, what: string): Promise<ConfigPlatform> {
    return this.#configs.run(`${repo}@${descriptor.digest}`, async () => {
      this.#options.signal?.throwIfAborted();
      const bytes = await repo.fetchBlobBytes(descriptor);
      // Only the platform fields are kept: a config may be large (history, env), and a run may
      // hold thousands of them.
      return configPlatformFields(parseImageConfig(bytes, `"${what}"`));
    });
  }
}
