/**
 * After the commit, referrers (issue 18): the signatures, SBOMs and attestations of the images an
 * index names, brought into its target repository as more nodes of the run's {@link Transfer}. A
 * blob shared by an image and its referrer is mounted or copied once per target repository and
 * run, and every request goes through the transport's per-host limit, the run's one bound. Where
 * the target has no referrers API, each subject's `<alg>-<hex>` fallback index is extended (OCI
 * distribution spec 1.1, "Referrers Tag Schema"), one update at a time per subject.
 *
 * @module
 */

import type { Repository } from "../registry/client.ts";
import { hasReferrersApi, updateFallbackIndex } from "../referrers_fallback.ts";
import { listReferrers, type Referrer, REFERRERS_DEPTH } from "../referrers_list.ts";
import type { Transfer } from "./transfer.ts";
import type { CopyReferrersOptions, CopyReferrersResult, ReferrerSubject } from "./types.ts";

/**
 * The referrers of an index could not all be copied; the index named by `digest` is pushed all the
 * same (the spec's order: referrers after their subject, never undoing it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReferrersCopyError } from "./referrers.ts";
 * const e = new ReferrersCopyError("r/x:1", "sha256:aa", new Error("boom"));
 * assert.equal(e.message, "Pushed r/x:1 (sha256:aa), but copying its referrers failed: boom");
 * ```
 */
export class ReferrersCopyError extends Error {
  /** The index pushed. */
  readonly target: string;
  /** Its digest. */
  readonly digest: string;
  /** Wraps `cause`. */
  constructor(target: string, digest: string, cause: unknown) {
    super(
      `Pushed ${target} (${digest}), but copying its referrers failed: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      { cause },
    );
    this.name = "ReferrersCopyError";
    this.target = target;
    this.digest = digest;
  }
}

/**
 * Copies the referrers of every subject (and theirs, to `depth`) into `target` through `transfer`.
 * Subjects already in the target repository are skipped (their referrers are there). Listing runs
 * first, for all subjects at once; nothing is written when there is nothing to copy.
 */
export async function transferReferrers(
  transfer: Transfer,
  target: Repository,
  subjects: readonly ReferrerSubject[],
  options: CopyReferrersOptions = {},
): Promise<CopyReferrersResult> {
  const seen = new Set<string>();
  const unique = subjects.filter((s) => {
    const key = `${s.repository} ${s.digest}`;
    const inTarget = s.repository.registry === target.registry &&
      s.repository.name === target.name;
    if (seen.has(key) || inTarget) return false;
    seen.add(key);
    return true;
  });
  const trees = await Promise.all(unique.map((s) =>
    listReferrers(s.repository, s.digest, {
      depth: options.depth ?? REFERRERS_DEPTH,
      artifactTypes: options.artifactTypes,
    })
  ));
  const result: CopyReferrersResult = {
    target: `${target}`,
    api: false,
    referrers: [],
    fallbackTags: [],
    skipped: [],
    inTarget: subjects.length > 0 && unique.length === 0,
  };
  const first = unique.find((_, i) => trees[i].length > 0);
  if (!first) return result;
  result.api = await hasReferrersApi(target, first.digest);
  const copy = new ReferrersCopy(transfer, target, result);
  await Promise.all(unique.map((s, i) => copy.level(s.digest, s.repository, trees[i])));
  return result;
}

/** One copy into one target: its nodes in the transfer, its fallback tags updated in turn. */
class ReferrersCopy {
  readonly #transfer: Transfer;
  readonly #target: Repository;
  readonly #result: CopyReferrersResult;
  readonly #tagQueue = new Map<string, Promise<unknown>>();

  constructor(transfer: Transfer, target: Repository, result: CopyReferrersResult) {
    this.#transfer = transfer;
    this.#target = target;
    this.#result = result;
  }

  /** Copies `nodes` (referrers of `subject`), records them in its fallback index, then theirs. */
  async level(subject: string, source: Repository, listed: readonly Referrer[]): Promise<void> {
    const nodes = await this.#naming(subject, source, listed);
    if (nodes.length === 0) return;
    await Promise.all(nodes.map(async (n) => {
      const action = await this.#transfer.bringManifest(this.#target, n.descriptor, source);
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
        () => updateFallbackIndex(this.#target, subject, entries),
      );
      this.#result.fallbackTags.push(update);
    }
    await Promise.all(nodes.map((n) => this.level(n.descriptor.digest, source, n.referrers)));
  }

  /**
   * The referrers among `listed` whose manifest names `subject` as its subject, with their real
   * media type; the others (and theirs) are left out and recorded in `skipped`: what `verify`
   * would reject is not copied.
   */
  async #naming(
    subject: string,
    source: Repository,
    listed: readonly Referrer[],
  ): Promise<Referrer[]> {
    const read = await Promise.all(
      listed.map((n) => this.#transfer.sourceManifest(source, n.descriptor)),
    );
    const named = read.map((m) =>
      m.parsed.kind === "index" ? m.parsed.index.subject?.digest : m.parsed.manifest.subject?.digest
    );
    listed.forEach((n, i) => {
      if (named[i] !== subject) {
        this.#result.skipped.push({ subject, descriptor: n.descriptor, names: named[i] });
      }
    });
    // Listed with the media type the manifest has (a listing can say otherwise): the target's
    // fallback entry then matches what is there.
    return listed.flatMap((n, i) =>
      named[i] === subject
        ? [{ ...n, descriptor: { ...n.descriptor, mediaType: read[i].descriptor.mediaType } }]
        : []
    );
  }

  /** Runs `fn` after every earlier update of the same subject's tag has settled. */
  #serialised<T>(subject: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#tagQueue.get(subject) ?? Promise.resolve();
    const next = before.catch(() => {}).then(fn);
    this.#tagQueue.set(subject, next);
    return next;
  }
}
