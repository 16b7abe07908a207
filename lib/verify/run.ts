/**
 * One verification's state: the repository, the engine's content graph through which each
 * manifest is fetched once (lib/push/graph.ts, as a push resolves its sources), each blob checked
 * once (a `Once` per kind, keyed by digest), the problems found, and what was checked. Requests
 * are bounded by the transport's per-host limit alone, as every other request of the tool. A failure that says something about the content (absent, wrong digest, wrong size, not a
 * manifest) becomes a problem of the entry; any other (authentication, connection, 5xx) means the
 * reference could not be verified, and is thrown once every started request has settled.
 *
 * @module
 */

import { DigestMismatchError, RegistryError, SizeMismatchError, TooLargeError } from "../errors.ts";
import { isDigest } from "../digest.ts";
import { type Descriptor, ManifestFormatError } from "../manifest.ts";
import type { Platform } from "../platform.ts";
import { Once } from "../pool.ts";
import type { Graph } from "../push/graph.ts";

/**
 * Waits for every task (a failure never leaves a request running against a client about to
 * close), then throws the first failure: the engine's. Tasks classify registry failures themselves
 * ({@link VerifyRun.failed}): what reaches here is a bug, not a problem of the content.
 */
export { settleAll } from "../push/transfer.ts";
import type { FetchedManifest, Repository } from "../registry/client.ts";
import { problem, type VerifyProblem, type VerifyProblemKind } from "./problems.ts";

/** What {@link VerifyRun} needs of the options. */
export interface RunOptions {
  /** `head`: configs and layers exist with their sizes; `full`: downloaded and hashed. */
  blobs?: "head" | "full";
  /** Only entries for these platforms (and their attestations) are followed. */
  platforms?: Platform[];
}

/** What a failed fetch was for. */
export type Target = "manifest" | "blob" | "config";

/** State of one `verify()` of one reference. */
export class VerifyRun {
  /** The repository verified. */
  readonly repo: Repository;
  /** The options. */
  readonly options: RunOptions;
  /** Problems found, in the order found, without repeats. */
  readonly problems: VerifyProblem[] = [];
  /** Digests of the manifests read and checked. */
  readonly manifests: Set<string> = new Set();
  /** Digests of the blobs checked. */
  readonly blobs: Set<string> = new Set();
  /** Platforms of the image entries followed (for `platform-not-found`). */
  readonly platforms: Platform[] = [];
  readonly #graph: Graph;
  readonly #keys = new Set<string>();
  readonly #fatal: unknown[] = [];
  readonly #configOnce = new Once<string, Uint8Array>();
  readonly #headOnce = new Once<string, Descriptor | undefined>();
  readonly #fullOnce = new Once<string, void>();
  readonly #documentOnce = new Once<string, void>();

  /** Starts a run on `repo`, reading manifests through `graph`. */
  constructor(repo: Repository, graph: Graph, options: RunOptions) {
    this.repo = repo;
    this.#graph = graph;
    this.options = options;
  }

  /**
   * Runs `verify` once per `key` in this run: a document an index lists again (the same digest,
   * platform and parent) is walked once, so an index naming one child N times, which names one
   * image N times, costs N checks, not N².
   */
  document(key: string, verify: () => Promise<void>): Promise<void> {
    return this.#documentOnce.run(key, verify);
  }

  /** Records a problem (the same problem found twice, e.g. through a shared child, once). */
  report(...problems: VerifyProblem[]): void {
    for (const p of problems) {
      const key = `${p.kind} ${p.subject} ${p.message}`;
      if (this.#keys.has(key)) continue;
      this.#keys.add(key);
      this.problems.push(p);
    }
  }

  /** A manifest by tag or digest, fetched once, its digest verified by the client. */
  manifest(reference: string): Promise<FetchedManifest> {
    return this.#graph.manifest(this.repo, reference);
  }

  /** `HEAD` of a manifest (for entries of media types this tool does not parse). */
  headManifest(digest: string): Promise<Descriptor | undefined> {
    return this.repo.headManifest(digest);
  }

  /** The referrers of `digest` (API, else the tag-schema fallback). */
  referrers(digest: string): Promise<Descriptor[]> {
    return this.repo.referrers(digest);
  }

  /** A config blob, fetched once, verified against its descriptor (digest and size). */
  config(d: Descriptor): Promise<Uint8Array> {
    this.blobs.add(d.digest);
    return this.#configOnce.run(`${d.digest} ${d.size}`, () => this.repo.fetchBlobBytes(d));
  }

  /** `HEAD` of a blob, once per digest: its descriptor, undefined when absent. */
  headBlob(digest: string): Promise<Descriptor | undefined> {
    this.blobs.add(digest);
    return this.#headOnce.run(digest, () => this.repo.headBlob(digest));
  }

  /** Downloads a blob and hashes it as it streams (never held whole); throws on a mismatch. */
  fullBlob(d: Descriptor): Promise<void> {
    this.blobs.add(d.digest);
    return this.#fullOnce.run(`${d.digest} ${d.size}`, async () => {
      const reader = (await this.repo.fetchBlob(d)).getReader();
      // The verifying stream throws at the end (digest) or as soon as the size is passed.
      while (!(await reader.read()).done) { /* drained: the bytes are only hashed */ }
    });
  }

  /**
   * Records what a failed fetch of `digest` (named `what` in messages, of `platform` when it is an
   * index entry) says about the content as a problem; keeps any other failure to be thrown by
   * {@link rethrow}.
   */
  failed(e: unknown, digest: string, target: Target, what?: string, platform?: string): void {
    const name = what ?? target;
    // The reference verified may be a tag: it is the subject then, never a `digest`.
    const about = isDigest(digest) ? { digest, platform } : { subject: digest, platform };
    const kind = (suffix: string) =>
      `${target === "manifest" ? "manifest" : "blob"}-${suffix}` as VerifyProblemKind;
    if (isNotFound(e)) {
      this.report(problem("error", kind("missing"), `${name} not in ${this.repo}`, about));
    } else if (e instanceof DigestMismatchError) {
      const message = `${name} bytes hash to ${e.actual}`;
      this.report(problem("error", kind("digest-mismatch"), message, about));
    } else if (e instanceof SizeMismatchError) {
      const got = e.actual > e.expected ? `more than ${e.expected}` : String(e.actual);
      const message = `${name}: descriptor says ${e.expected} bytes, got ${got}`;
      this.report(problem("error", kind("size-mismatch"), message, about));
    } else if (e instanceof ManifestFormatError || e instanceof TooLargeError) {
      const k = target === "config" ? "config-invalid" : "manifest-invalid";
      this.report(problem("error", k, e.message, about));
    } else {
      this.#fatal.push(e);
    }
  }

  /** Throws the first failure that was not a content problem, if any. */
  rethrow(): void {
    if (this.#fatal.length > 0) throw this.#fatal[0];
  }
}

/** A 404 (or the registry's *_UNKNOWN code): the content is not in the repository. */
function isNotFound(e: unknown): boolean {
  if (!(e instanceof RegistryError)) return e instanceof Error && e.name === "NotFoundError";
  return e.status === 404 ||
    e.codes.some((c) => c.code === "MANIFEST_UNKNOWN" || c.code === "BLOB_UNKNOWN");
}
