/**
 * A push run: one plan, one content graph and one transfer graph shared by every spec, each spec
 * taken through resolve → assemble → transfer → commit on its own, so a spec that fails (missing
 * sources, a refused copy) is reported and leaves its tags untouched while the others go on.
 *
 * @module
 */

import { InterruptedError } from "../errors.ts";
import { loadNativeHashing } from "../content.ts";
import { registryApiHost } from "../reference.ts";
import type { RegistryClient, Repository } from "../registry/client.ts";
import { type AssembledIndex, assembleIndex } from "./assemble.ts";
import { commitIndex } from "./commit.ts";
import { Graph } from "./graph.ts";
import { planPush, type RunPlan, type SpecPlan } from "./plan.ts";
import { ReferrersCopyError, transferReferrers } from "./referrers.ts";
import { resolveSpec } from "./resolve.ts";
import { Transfer } from "./transfer.ts";
import type {
  PushResult,
  PushRunOptions,
  PushSpec,
  ReferrerSubject,
  SpecOutcome,
} from "./types.ts";

/**
 * Pushes every spec of `specs` in one run and returns one outcome per spec, in input order. Every
 * spec is planned before any request ({@link planPush} throws for bad input); each source
 * document is read once per run and each blob mounted or copied once per target repository. A
 * failed spec does not stop the others (unless `failFast`); an aborted run throws
 * {@link InterruptedError} once everything in flight has stopped.
 *
 * @example
 * ```ts ignore
 * import { pushIndexes } from "./run.ts";
 * import { RegistryClient } from "../registry/client.ts";
 * await using client = new RegistryClient();
 * const outcomes = await pushIndexes(client, [specA, specB], { format: "oci", failFast: true });
 * for (const o of outcomes) console.log(o.status, o.target);
 * ```
 */
export async function pushIndexes(
  client: RegistryClient,
  specs: readonly PushSpec[],
  options: PushRunOptions = {},
): Promise<SpecOutcome[]> {
  const plan = planPush(specs, options);
  return await new PushRun(client, plan, options).run();
}

/** The execution of a {@link RunPlan}; see the module doc. */
export class PushRun {
  /** The plan being executed. */
  readonly plan: RunPlan;
  readonly #client: RegistryClient;
  readonly #options: PushRunOptions;
  readonly #graph: Graph;
  readonly #transfer: Transfer;

  /** Prepares the run of `plan`; nothing is sent before {@link run}. */
  constructor(client: RegistryClient, plan: RunPlan, options: PushRunOptions = {}) {
    this.plan = plan;
    this.#client = client;
    this.#options = options;
    this.#graph = new Graph(client, { signal: options.signal, scopes: plan.scopes });
    this.#transfer = new Transfer(this.#graph, {
      dryRun: options.dryRun,
      chunkSize: options.chunkSize,
      onProgress: options.onProgress,
      onBlob: options.onBlob,
      logger: client.logger,
    });
    for (const spec of plan.specs) {
      for (const s of spec.sources) this.#graph.retain(s.registry, s.repository, s.reference);
    }
  }

  /** Runs every spec; outcomes in input order (also reported through `onOutcome`). */
  async run(): Promise<SpecOutcome[]> {
    const specs = this.plan.specs;
    // A lane still opening when the run ends is of no more use: stop it.
    const done = new AbortController();
    const signal = this.#options.signal;
    const stop = signal ? AbortSignal.any([done.signal, signal]) : done.signal;
    const lanes = this.#openBodyLanes(stop);
    const warm = this.#warmTargets(stop);
    try {
      return await this.#runSpecs(specs);
    } finally {
      done.abort();
      await Promise.all([lanes, warm]);
    }
  }

  /**
   * A target registry that is none of the run's sources is readied while the sources are read
   * (`RegistryClient.warmUp`): its connection opened, its token fetched, off the critical path.
   */
  #warmTargets(signal: AbortSignal): Promise<unknown> {
    if (this.#options.dryRun) return Promise.resolve();
    const sources = new Set(
      this.plan.specs.flatMap((s) => s.sources.map((x) => registryApiHost(x.registry))),
    );
    const registries = this.plan.specs.map((s) => s.registry)
      .filter((r) => !sources.has(registryApiHost(r)));
    return Promise.all(
      [...new Set(registries)].map((r) =>
        this.#client.warmUp(r, { ...this.#graph.requestOptions(r), signal })
      ),
    );
  }

  async #runSpecs(specs: readonly SpecPlan[]): Promise<SpecOutcome[]> {
    if (
      !this.#options.dryRun && specs.some((s) => s.sources.some((x) => x.registry !== s.registry))
    ) {
      this.#prepareCopies();
    }
    const outcomes = new Array<SpecOutcome | undefined>(specs.length);
    const signal = this.#options.signal;
    let next = 0;
    let emitted = 0;
    let stop = false;
    const emit = () => {
      while (emitted < specs.length && outcomes[emitted]) {
        const o = outcomes[emitted++]!;
        this.#options.onOutcome?.(o);
      }
    };
    const worker = async () => {
      while (next < specs.length) {
        const spec = specs[next++];
        outcomes[spec.position] = signal?.aborted
          ? skipped(spec, "Not started: the run was interrupted")
          : stop
          ? skipped(spec, "Not started: an earlier spec failed (--fail-fast)")
          : await this.#outcome(spec);
        if (outcomes[spec.position]!.status === "failed" && this.#options.failFast) stop = true;
        emit();
      }
    };
    const width = Math.max(1, Math.min(this.#options.specConcurrency ?? 8, specs.length));
    await Promise.all(Array.from({ length: width }, worker));
    if (signal?.aborted) {
      const committed = outcomes.filter((o) => o?.status === "pushed").map((o) => o!.target);
      throw new InterruptedError(committed, { cause: signal.reason });
    }
    return outcomes as SpecOutcome[];
  }

  /**
   * Each target registry gets its connection for request bodies (the index, manifests of 1 KiB
   * and more) while the sources are read: see `BodyLane` in lib/registry/body_lane.ts. Settles
   * when they are open, or failed or stopped opening.
   */
  #openBodyLanes(signal: AbortSignal): Promise<unknown> {
    if (this.#options.dryRun) return Promise.resolve();
    const hosts = new Set(this.plan.specs.map((s) => registryApiHost(s.registry)));
    return Promise.all([...hosts].map((h) => this.#client.transport.openBodyLane(h, signal)));
  }

  /**
   * A run that reads from another registry will likely stream blobs: what that loads on first use
   * (`node:crypto` to hash them, ~15 ms under Deno, and the upload slots' async context) loads
   * while the first requests are in flight (not before they are sent: see
   * `Transport.whileWaiting`), rather than when the first blob's bytes arrive.
   */
  #prepareCopies(): void {
    const transport = this.#client.transport;
    transport.whileWaiting(loadNativeHashing);
    transport.whileWaiting(() => transport.prepareStreamingUploads());
  }

  async #outcome(spec: SpecPlan): Promise<SpecOutcome> {
    const base = { position: spec.position, target: spec.target };
    try {
      const result = await this.pushSpec(spec);
      return { ...base, status: result.dryRun ? "planned" : "pushed", result };
    } catch (e) {
      return { ...base, status: "failed", error: e instanceof Error ? e : new Error(String(e)) };
    } finally {
      // Memory stays bounded by the specs in flight: documents no spec still needs are dropped.
      for (const s of spec.sources) {
        await this.#graph.release(s.registry, s.repository, s.reference);
      }
    }
  }

  /** Takes one spec of the plan through resolve, assemble, transfer and commit. */
  async pushSpec(spec: SpecPlan): Promise<PushResult> {
    const logger = this.#client.logger;
    const options = this.#options;
    const resolved = await resolveSpec(this.#graph, spec, {
      ignoreMissing: options.ignoreMissing,
      logger,
    });
    const assembled = assembleIndex(spec, resolved, { encodeIndex: options.encodeIndex, logger });
    const target = this.#graph.repository(spec.registry, spec.repository);
    const { manifests, blobs } = await this.#transfer.bring(target, assembled.entries);
    if (!options.dryRun) {
      await commitIndex(target, spec.tags, assembled, { signal: options.signal });
    }
    const referrers = options.referrers && !options.dryRun
      ? await this.#referrers(spec, target, assembled)
      : {};
    return {
      descriptor: assembled.descriptor,
      index: assembled.index,
      bytes: assembled.bytes,
      target: spec.target,
      tags: spec.tags,
      manifests,
      blobs,
      skipped: resolved.skipped,
      dryRun: options.dryRun ?? false,
      ...referrers,
    };
  }

  /**
   * After the commit: the referrers of every entry of the index, and of each source index its
   * entries were listed in, brought in by the run's transfer. A failure is returned, not thrown:
   * the index stays pushed.
   */
  async #referrers(
    spec: SpecPlan,
    target: Repository,
    assembled: AssembledIndex,
  ): Promise<Pick<PushResult, "referrers" | "referrersError">> {
    const subjects: ReferrerSubject[] = assembled.entries.map((e) => ({
      repository: e.source,
      digest: e.descriptor.digest,
    }));
    for (const e of assembled.entries) {
      // transferReferrers takes each subject once.
      if (e.index) subjects.push({ repository: e.source, digest: e.index });
    }
    try {
      const options = this.#options.referrers;
      return { referrers: await transferReferrers(this.#transfer, target, subjects, options) };
    } catch (e) {
      return {
        referrersError: new ReferrersCopyError(spec.target, assembled.descriptor.digest, e),
      };
    }
  }
}

function skipped(spec: SpecPlan, why: string): SpecOutcome {
  return { position: spec.position, target: spec.target, status: "skipped", error: new Error(why) };
}
