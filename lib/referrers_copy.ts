/**
 * Copies the referrers of pushed images into the target repository (issue: signatures made for
 * `app-amd64@sha256:…` in one repository verify the same digest in the target only when they are
 * there too). Per subject: each referrer's blobs (mounted within a registry, streamed across
 * registries), then its manifest by digest; where the target has no referrers API, the subject's
 * `<alg>-<hex>` fallback index extended; then the referrers of each referrer, to the depth asked.
 * Every manifest and blob is handled once per run, whatever number of subjects names it.
 *
 * @module
 */

import type { Descriptor } from "./manifest.ts";
import { isIndexMediaType, isNonDistributable } from "./media_types.ts";
import { Once, Semaphore } from "./pool.ts";
import { parseReference } from "./reference.ts";
import type { RegistryClient, Repository } from "./registry/client.ts";
import { listReferrers, type Referrer, REFERRERS_DEPTH } from "./referrers_list.ts";
import { hasReferrersApi, updateFallbackIndex } from "./referrers_fallback.ts";

/** A manifest whose referrers are to be copied, and the repository they are read from. */
export interface ReferrerSubject {
  /** Where the subject and its referrers are. */
  repository: Repository;
  /** The subject's digest (the same digest in the target). */
  digest: string;
}

/** Options of {@link copyReferrers}. */
export interface CopyReferrersOptions {
  /** Copy only these artifact types, at every level (default all). */
  artifactTypes?: readonly string[];
  /** Levels to follow. Default 3. */
  depth?: number;
  /** Requests in flight at once. Default 8. */
  concurrency?: number;
}

/** One referrer brought into the target. */
export interface CopiedReferrer {
  /** Digest of the manifest it refers to. */
  subject: string;
  /** Its descriptor (as listed in the source). */
  descriptor: Descriptor;
  /** Its artifact type (or config media type). */
  artifactType: string;
  /** `put`: pushed by digest; `present`: the target had it. */
  action: "put" | "present";
  /** Source repository (`registry/name`). */
  from: string;
}

/** What {@link copyReferrers} did. */
export interface CopyReferrersResult {
  /** Target repository (`registry/name`). */
  target: string;
  /** Whether the target answers the referrers API (else the fallback tags were maintained). */
  api: boolean;
  /** The referrers, parents before the ones that refer to them. */
  referrers: CopiedReferrer[];
  /** Fallback tags written or checked (empty with the API). */
  fallbackTags: { tag: string; added: number; kept: number }[];
}

/**
 * Copies the referrers of every subject (and theirs, to `depth`) from its repository into
 * `target`. Subjects already in the target repository are skipped (their referrers are there).
 * Listing runs first, for all subjects at once; nothing is written when there is nothing to copy.
 *
 * @example
 * ```ts ignore
 * import { copyReferrers } from "./referrers.ts";
 * import { RegistryClient } from "./registry/client.ts";
 * await using client = new RegistryClient();
 * const r = await copyReferrers(client, {
 *   target: client.repository("127.0.0.1:5001", "app"),
 *   subjects: [{ repository: client.repository("127.0.0.1:5000", "app-amd64"), digest: "sha256:…" }],
 * }, { artifactTypes: ["application/vnd.dev.cosign.artifact.sig.v1+json"] });
 * console.log(r.referrers.length, r.api);
 * ```
 */
export async function copyReferrers(
  client: RegistryClient,
  input: { target: Repository; subjects: readonly ReferrerSubject[] },
  options: CopyReferrersOptions = {},
): Promise<CopyReferrersResult> {
  const { target } = input;
  const slots = new Semaphore(options.concurrency ?? 8);
  const seen = new Set<string>();
  const subjects = input.subjects.filter((s) => {
    const key = `${s.repository} ${s.digest}`;
    if (seen.has(key) || sameRepo(s.repository, target)) return false;
    seen.add(key);
    return true;
  });
  const trees = await Promise.all(subjects.map((s) =>
    listReferrers(s.repository, s.digest, {
      depth: options.depth ?? REFERRERS_DEPTH,
      artifactTypes: options.artifactTypes,
      slots,
    })
  ));
  const result: CopyReferrersResult = {
    target: `${target}`,
    api: false,
    referrers: [],
    fallbackTags: [],
  };
  const first = subjects.find((_, i) => trees[i].length > 0);
  if (!first) return result;
  result.api = await slots.run(() => hasReferrersApi(target, first.digest));
  const run = new CopyRun(client, target, slots, result);
  await Promise.all(subjects.map((s, i) => run.level(s.digest, s.repository, trees[i])));
  return result;
}

/** One copy: manifests and blobs once each, fallback tags updated one at a time per subject. */
class CopyRun {
  readonly #client: RegistryClient;
  readonly #target: Repository;
  readonly #slots: Semaphore;
  readonly #result: CopyReferrersResult;
  readonly #manifests = new Once<string, "put" | "present">();
  readonly #blobs = new Once<string, void>();
  readonly #tagQueue = new Map<string, Promise<unknown>>();

  constructor(
    client: RegistryClient,
    target: Repository,
    slots: Semaphore,
    result: CopyReferrersResult,
  ) {
    this.#client = client;
    this.#target = target;
    this.#slots = slots;
    this.#result = result;
  }

  /** Copies `nodes` (referrers of `subject`), records them in its fallback index, then theirs. */
  async level(subject: string, source: Repository, nodes: readonly Referrer[]): Promise<void> {
    if (nodes.length === 0) return;
    await Promise.all(nodes.map(async (n) => {
      const action = await this.manifest(n.descriptor, source, 0);
      this.#result.referrers.push({
        subject,
        descriptor: n.descriptor,
        artifactType: n.artifactType,
        action,
        from: `${source}`,
      });
    }));
    if (!this.#result.api) {
      // The spec's entry: artifactType filled in (from the config media type when unset).
      const entries = nodes.map((n) => ({ ...n.descriptor, artifactType: n.artifactType }));
      const update = await this.#serialised(
        subject,
        () => this.#slots.run(() => updateFallbackIndex(this.#target, subject, entries)),
      );
      this.#result.fallbackTags.push(update);
    }
    await Promise.all(nodes.map((n) => this.level(n.descriptor.digest, source, n.referrers)));
  }

  /** Brings manifest `d` (its blobs, or its children for an index) into the target by digest. */
  manifest(d: Descriptor, source: Repository, depth: number): Promise<"put" | "present"> {
    return this.#manifests.run(d.digest, async () => {
      if (await this.#slots.run(() => this.#target.headManifest(d.digest))) return "present";
      const m = await this.#slots.run(() => source.getManifest(d.digest, d));
      if (m.parsed.kind === "index") {
        // An index referrer (allowed by image-spec 1.1): its children first, nesting bounded.
        if (depth >= 4) throw new Error(`Referrer ${source}@${d.digest} nests indexes too deep`);
        await Promise.all(m.parsed.index.manifests.map((c) => this.manifest(c, source, depth + 1)));
      } else {
        const blobs = [m.parsed.manifest.config, ...m.parsed.manifest.layers];
        await Promise.all(blobs.map((b) => this.#blob(b, source)));
      }
      await this.#slots.run(() =>
        this.#target.putManifest(d.digest, m.bytes, m.descriptor.mediaType)
      );
      return "put";
    });
  }

  #blob(d: Descriptor, source: Repository): Promise<void> {
    return this.#blobs.run(d.digest, async () => {
      if (isNonDistributable(d.mediaType)) return;
      const expected = { digest: d.digest, size: d.size };
      if (source.registry === this.#target.registry) {
        // Same registry: mount; a 202 is the spec's "cannot mount", and its session takes a copy.
        const session = await this.#slots.run(() => this.#target.mountBlob(d.digest, source.name));
        if (!session) return;
        this.#client.logger.debug(`mount of ${d.digest} from ${source} refused (202): copying`);
        await this.#slots.run(() => session.upload(blobBody(source, d), expected));
        return;
      }
      if (await this.#slots.run(() => this.#target.headBlob(d.digest))) return;
      await this.#slots.run(() => this.#target.uploadBlob(blobBody(source, d), expected));
    });
  }

  /** Runs `fn` after every earlier update of the same subject's tag has settled. */
  #serialised<T>(subject: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#tagQueue.get(subject) ?? Promise.resolve();
    const next = before.catch(() => {}).then(fn);
    this.#tagQueue.set(subject, next);
    return next;
  }
}

/**
 * A replayable upload body: each call opens a new verified download from the source (a 401 in
 * the middle of an upload makes the auth layer send it again).
 */
function blobBody(source: Repository, d: Descriptor): () => ReadableStream<Uint8Array> {
  return () => {
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        reader ??= (await source.fetchBlob(d)).getReader();
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      async cancel(reason) {
        await reader?.cancel(reason);
      },
    });
  };
}

function sameRepo(a: Repository, b: Repository): boolean {
  return a.registry === b.registry && a.name === b.name;
}

/**
 * The subjects of a push whose referrers `push --referrers` copies: every image the index names,
 * from the source it was read from, and each source that is itself an index (its own referrers).
 * Takes the parts of a push result it needs (the target and each entry's digest and source).
 *
 * @example
 * ```ts ignore
 * import { copyReferrers, pushSubjects } from "./referrers.ts";
 * const result = await pushIndex(client, spec, { format: "oci" });
 * await copyReferrers(client, await pushSubjects(client, result));
 * ```
 */
export async function pushSubjects(
  client: RegistryClient,
  result: { target: string; manifests: readonly { descriptor: Descriptor; source: string }[] },
): Promise<{ target: Repository; subjects: ReferrerSubject[] }> {
  const target = client.repositoryOf(parseReference(result.target));
  const subjects: ReferrerSubject[] = result.manifests.map((m) => ({
    repository: client.repositoryOf(parseReference(m.source)),
    digest: m.descriptor.digest,
  }));
  const sources = [...new Set(result.manifests.map((m) => m.source))];
  const indexes = await Promise.all(sources.map(async (s) => {
    const ref = parseReference(s);
    const repo = client.repositoryOf(ref);
    const head = await repo.headManifest(ref.identifier);
    if (!head || !isIndexMediaType(head.mediaType)) return undefined;
    // The digest a subject is named by must be the one of the bytes: read and verify the index.
    const m = await repo.getManifest(ref.identifier);
    return m.parsed.kind === "index"
      ? { repository: repo, digest: m.descriptor.digest }
      : undefined;
  }));
  return { target, subjects: [...subjects, ...indexes.filter((x) => x !== undefined)] };
}
