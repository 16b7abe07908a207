/**
 * Stage 4, transfer: bring every child of an index into its target repository, as a graph of
 * nodes: a manifest node needs its blobs (config and layers) or, for a nested index, its child
 * manifests, then is `PUT` by digest; a blob node is `present`, `mount`ed from another repository
 * of the same registry, `copy`ed as a stream from another registry, or `foreign` (not copied).
 * Each node runs once per target repository and run, so specs sharing base layers mount each one
 * once. Nodes fan out freely: the client's per-host limit is the one bound on requests.
 *
 * @module
 */

import { RegistryError } from "../errors.ts";
import type { Descriptor } from "../manifest.ts";
import { isNonDistributable } from "../media_types.ts";
import { Once } from "../pool.ts";
import type { FetchedManifest, Repository } from "../registry/client.ts";
import { isTimeout, type Logger } from "../registry/transport.ts";
import { sourceBlobBody } from "./blob_stream.ts";
import type { Graph } from "./graph.ts";
import type { Entry } from "./resolve.ts";
import type { BlobAction, ManifestAction, ProgressEvent } from "./types.ts";

/** Options of a {@link Transfer}. */
export interface TransferOptions {
  /** Decide and report, write nothing. */
  dryRun?: boolean;
  /** Bytes per PATCH for streamed copies. */
  chunkSize?: number;
  /** Progress of streamed copies. */
  onProgress?: (event: ProgressEvent) => void;
  /** Called once per blob and target repository when its action is done. */
  onBlob?: (action: BlobAction) => void;
  /** Where diagnostics go. */
  logger: Logger;
}

/** What a manifest node did, with the blob actions under it. */
interface NodeResult {
  action: "present" | "put";
  blobs: BlobAction[];
}

/** The transfer graph of a run; see the module doc. */
export class Transfer {
  readonly #graph: Graph;
  readonly #options: TransferOptions;
  readonly #manifests = new Once<string, NodeResult>();
  readonly #blobs = new Once<string, BlobAction>();
  /**
   * Blobs brought from another registry, by target registry and digest: the repository of the
   * target registry that has (or is getting) it, undefined once that failed. Another repository
   * there mounts it from that one instead of copying it again.
   */
  readonly #landed = new Map<string, Promise<Repository | undefined>>();

  /** A transfer reading through `graph`. */
  constructor(graph: Graph, options: TransferOptions) {
    this.#graph = graph;
    this.#options = options;
  }

  /**
   * Brings `entries` into `target`: each manifest with everything it names. Entries already in
   * the target repository are `present` with no request. Every node started is settled before the
   * first failure is thrown, so nothing is left running.
   */
  async bring(
    target: Repository,
    entries: Entry[],
  ): Promise<{ manifests: ManifestAction[]; blobs: BlobAction[] }> {
    const results = await settleAll(entries.map(async (e): Promise<NodeResult> => {
      if (e.source.registry === target.registry && e.source.name === target.name) {
        return { action: "present", blobs: [] };
      }
      return await this.#manifest(target, e.descriptor, e.source);
    }));
    const manifests = entries.map((e, i) => ({
      descriptor: e.descriptor,
      source: e.sourceName,
      action: results[i].action,
    }));
    const blobs = new Map<string, BlobAction>();
    for (const r of results) for (const b of r.blobs) blobs.set(b.digest, b);
    return { manifests, blobs: [...blobs.values()] };
  }

  /**
   * Brings one manifest `d` of `source` (a referrer) into `target` by digest, with what it names,
   * as one more node of the graph: a blob it shares with an image already brought in this run is
   * not handled again. The target is asked first in any registry, so a manifest already there is
   * `present` (and counted so) rather than put again.
   */
  /** A manifest of `source` as the run reads it (once per run, verified against `d`). */
  sourceManifest(source: Repository, d: Descriptor): Promise<FetchedManifest> {
    return this.#graph.manifest(source, d.digest, d);
  }

  async bringManifest(
    target: Repository,
    d: Descriptor,
    source: Repository,
  ): Promise<"present" | "put"> {
    return (await this.#manifest(target, d, source, true)).action;
  }

  /** A manifest node: its children first (blobs, or manifests of a nested index), then its PUT. */
  #manifest(
    target: Repository,
    d: Descriptor,
    source: Repository,
    askFirst = source.registry !== target.registry,
  ): Promise<NodeResult> {
    return this.#manifests.run(`${target}|${d.digest}`, async () => {
      const opts = this.#graph.requestOptions(target.registry);
      if (askFirst && await target.headManifest(d.digest)) {
        // Skip what the target already holds (another registry: a re-push of the same spec;
        // a referrer: one copied before). Within a registry an image's PUT is cheaper than asking.
        return { action: "present", blobs: [] };
      }
      const fetched = await this.#graph.manifest(source, d.digest, d);
      const parsed = fetched.parsed;
      const children = parsed.kind === "index"
        ? await settleAll(
          parsed.index.manifests.map((c) => this.#manifest(target, c, source, askFirst)),
        )
        : [{
          action: "put" as const,
          blobs: await settleAll(
            [parsed.manifest.config, ...parsed.manifest.layers].map((b) =>
              this.#blob(target, b, source)
            ),
          ),
        }];
      if (!this.#options.dryRun) {
        opts.signal?.throwIfAborted();
        await target.putManifest(d.digest, fetched.bytes, fetched.descriptor.mediaType);
      }
      return { action: "put", blobs: children.flatMap((c) => c.blobs) };
    });
  }

  /** A blob node: present, mount, copy or foreign; reported once through `onBlob`. */
  #blob(target: Repository, d: Descriptor, source: Repository): Promise<BlobAction> {
    return this.#blobs.run(`${target}|${d.digest}`, async () => {
      const action = await this.#blobAction(target, d, source);
      const record: BlobAction = {
        digest: d.digest,
        size: d.size,
        mediaType: d.mediaType,
        action,
        from: source.toString(),
      };
      this.#options.onBlob?.(record);
      return record;
    });
  }

  async #blobAction(
    target: Repository,
    d: Descriptor,
    source: Repository,
  ): Promise<BlobAction["action"]> {
    const { dryRun } = this.#options;
    if (isNonDistributable(d.mediaType)) return "foreign";
    if (source.registry === target.registry) {
      // Same registry: mount without asking first.
      return dryRun ? "mount" : await this.#mount(target, d, source.name, source);
    }
    const key = `${target.registry}|${d.digest}`;
    const landed = this.#landed.get(key);
    if (landed) {
      // Another repository of this registry has it, or is getting it: mount it from there once
      // that is done (one copy per registry and run, however many target repositories).
      const from = await landed;
      if (from && dryRun) return "mount";
      if (from) {
        try {
          return await this.#mount(target, d, from.name, source);
        } catch (e) {
          // The mount is our choice, not the spec's: a registry that answers it with an error
          // (rather than 202) gets the copy from the source that the first repository got.
          this.#graph.signal?.throwIfAborted();
          this.#options.logger.debug(`mount of ${d.digest} from ${from} failed: copying`);
          if (isTimeout(e)) throw e;
        }
      }
    }
    const done = this.#copyTo(target, d, source);
    if (!landed) this.#landed.set(key, done.then(() => target, () => undefined));
    return await done;
  }

  /**
   * Mounts blob `d` into `target` from repository `from` of its registry. A 202 means "cannot
   * mount" (the spec lets a registry refuse), and the session it opened takes a streamed copy
   * from `source` instead.
   */
  async #mount(
    target: Repository,
    d: Descriptor,
    from: string,
    source: Repository,
  ): Promise<"mount" | "copy"> {
    const session = await target.mountBlob(d.digest, from);
    if (!session) return "mount";
    this.#options.logger.debug(`mount of ${d.digest} from ${from} refused (202): copying`);
    await session.upload(this.#body(d, source), { digest: d.digest, size: d.size }, {
      chunkSize: this.#options.chunkSize,
    });
    return "copy";
  }

  /** Brings blob `d` of `source` (another registry) into `target`: present, or a streamed copy. */
  async #copyTo(
    target: Repository,
    d: Descriptor,
    source: Repository,
  ): Promise<"present" | "copy"> {
    const { dryRun, chunkSize, logger } = this.#options;
    if (await target.headBlob(d.digest)) return "present";
    if (dryRun) return "copy";
    // The source download starts with the upload session, not after it opened.
    const copy = () =>
      target.uploadBlob(this.#body(d, source), { digest: d.digest, size: d.size }, {
        chunkSize,
        prefetch: true,
      });
    try {
      await copy();
    } catch (e) {
      // A broken connection spoils the upload session: start again once, in a new session.
      // Verified content that does not match (DigestMismatchError) is never retried, nor is a
      // stall (it already took --timeout), nor an abort.
      if (!(e instanceof RegistryError && e.temporary) || isTimeout(e)) throw e;
      this.#graph.signal?.throwIfAborted();
      logger.debug(`copy of ${d.digest} failed (${e.message}): retrying once`);
      await copy();
    }
    return "copy";
  }

  #body(d: Descriptor, source: Repository): () => ReadableStream<Uint8Array> {
    return sourceBlobBody(source, d, {
      onProgress: this.#options.onProgress,
      signal: this.#graph.signal,
    });
  }
}

/**
 * Awaits every promise; throws the first failure (in input order) once all have settled, so no
 * request is left running after a failure.
 */
export async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}
