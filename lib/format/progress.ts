/**
 * The progress view of a push, as pure state and text: {@link ProgressState} takes transfer
 * events (bytes of a streamed copy) and blob actions (what was done to each blob) and a clock;
 * {@link renderBlock} draws the live block (one line per transfer in flight, a summary of the
 * finished ones, an overall line), {@link formatFinished} the one-line record of `--progress=plain`,
 * and {@link redraw} the escape sequence that replaces a block drawn before. No I/O here: the CLI
 * decides when and where to write.
 *
 * @module
 */

/** Bytes of one streamed copy so far (structurally `ProgressEvent` of `lib/push.ts`). */
export interface TransferEvent {
  /** Blob digest. */
  digest: string;
  /** Bytes sent so far. */
  bytes: number;
  /** Blob size. */
  total: number;
  /** True on the last event of the blob. */
  done: boolean;
}

/** What was done to a blob (structurally the fields of `BlobAction` of `lib/push.ts` used here). */
export interface BlobEvent {
  /** Blob digest. */
  digest: string;
  /** Blob size. */
  size: number;
  /** `present`, `mount`, `copy` or `foreign` (non-distributable, not copied). */
  action: "present" | "mount" | "copy" | "foreign";
  /** Where it came from (`registry/repo`). */
  from?: string;
}

/** A transfer in flight. */
export interface Transfer {
  /** Blob digest. */
  digest: string;
  /** Bytes sent so far. */
  bytes: number;
  /** Blob size. */
  total: number;
  /** Clock reading when its first event came. */
  started: number;
}

/** A blob that is done, as `--progress=plain` reports it. */
export interface Finished {
  /** Blob digest. */
  digest: string;
  /** What was done. */
  action: BlobEvent["action"];
  /** Blob size. */
  size: number;
  /** Milliseconds the copy took (copies only). */
  ms?: number;
  /** Where it came from, when known. */
  from?: string;
}

/** Counts of finished blobs by action. */
export interface ProgressCounts {
  /** Mounted across repositories. */
  mounted: number;
  /** Copied as streams. */
  copied: number;
  /** Bytes of the copied blobs. */
  copiedBytes: number;
  /** Already in the target repository. */
  present: number;
  /** Non-distributable, left where they are. */
  foreign: number;
}

/**
 * The state of a push's progress. Each blob is counted once: a copy may be reported by its last
 * transfer event, by its action, or by both (the engine reports the action after the transfer).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProgressState, renderBlock } from "./progress.ts";
 *
 * let now = 0;
 * const state = new ProgressState(() => now);
 * state.transfer({ digest: "sha256:" + "a".repeat(64), bytes: 0, total: 2097152, done: false });
 * now = 1000;
 * state.transfer({ digest: "sha256:" + "a".repeat(64), bytes: 1048576, total: 2097152, done: false });
 * state.action({ digest: "sha256:" + "b".repeat(64), size: 10, action: "mount" });
 * assert.deepEqual(renderBlock(state, 80), [
 *   "  aaaaaaaaaaaa  1.0 MiB / 2.0 MiB  1.0 MiB/s",
 *   "1 mounted, 0 copied (0 B), 0 present",
 *   "1.0 MiB transferred in 1.0s",
 * ]);
 * ```
 */
export class ProgressState {
  readonly #clock: () => number;
  readonly #started: number;
  readonly #inFlight = new Map<string, Transfer>();
  readonly #finished = new Map<string, Finished>();
  // Bytes of transfers that ended, so the overall figure never goes back when one leaves the block.
  #doneBytes = 0;
  #specs?: { done: number; total: number };

  /** Starts the clock: `clock()` returns milliseconds (e.g. `performance.now`). */
  constructor(clock: () => number) {
    this.#clock = clock;
    this.#started = clock();
  }

  /**
   * Records bytes of a streamed copy. Returns the finished record when this event ends a blob not
   * reported before, else undefined.
   */
  transfer(e: TransferEvent): Finished | undefined {
    if (this.#finished.has(e.digest)) return undefined;
    const now = this.#clock();
    const t = this.#inFlight.get(e.digest) ?? { ...e, started: now };
    // A retried copy starts again from 0: the block shows the bytes of the current attempt.
    t.bytes = e.bytes;
    t.total = e.total;
    if (!e.done) {
      this.#inFlight.set(e.digest, t);
      return undefined;
    }
    this.#inFlight.delete(e.digest);
    this.#doneBytes += e.bytes;
    return this.#finish({ digest: e.digest, action: "copy", size: e.total, ms: now - t.started });
  }

  /**
   * Records what was done to a blob. Returns the finished record when the blob was not reported
   * before (a copy already ended by its transfer events is not reported twice).
   */
  action(a: BlobEvent): Finished | undefined {
    const before = this.#finished.get(a.digest);
    if (before) {
      if (a.from && !before.from) before.from = a.from;
      return undefined;
    }
    const t = this.#inFlight.get(a.digest);
    if (t) {
      this.#inFlight.delete(a.digest);
      this.#doneBytes += t.bytes;
    }
    const ms = t ? this.#clock() - t.started : undefined;
    return this.#finish({ digest: a.digest, action: a.action, size: a.size, ms, from: a.from });
  }

  #finish(f: Finished): Finished {
    this.#finished.set(f.digest, f);
    return f;
  }

  /** Records how many specs of a batch have ended (pushed or failed) out of `total`. */
  specs(done: number, total: number): void {
    this.#specs = { done, total };
  }

  /** Specs of a batch ended so far and in all; undefined outside a batch. */
  get specCounts(): { done: number; total: number } | undefined {
    return this.#specs;
  }

  /** Transfers in flight, in the order they started. */
  get inFlight(): Transfer[] {
    return [...this.#inFlight.values()];
  }

  /** Counts of finished blobs. */
  get counts(): ProgressCounts {
    const c = { mounted: 0, copied: 0, copiedBytes: 0, present: 0, foreign: 0 };
    for (const f of this.#finished.values()) {
      if (f.action === "mount") c.mounted++;
      else if (f.action === "present") c.present++;
      else if (f.action === "foreign") c.foreign++;
      else {
        c.copied++;
        c.copiedBytes += f.size;
      }
    }
    return c;
  }

  /** Bytes streamed so far, finished and in flight. */
  get bytes(): number {
    let n = this.#doneBytes;
    for (const t of this.#inFlight.values()) n += t.bytes;
    return n;
  }

  /** Milliseconds since the state was created. */
  get elapsed(): number {
    return this.#clock() - this.#started;
  }

  /** Milliseconds since `t` started. */
  age(t: Transfer): number {
    return this.#clock() - t.started;
  }
}

/**
 * A byte count in binary units with one decimal: `512 B`, `1.5 KiB`, `66.1 MiB`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatBytes } from "./progress.ts";
 * assert.equal(formatBytes(69310873), "66.1 MiB");
 * assert.equal(formatBytes(512), "512 B");
 * ```
 */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** The 12 hex digits docker shows for a digest. */
function shortDigest(digest: string): string {
  const hex = digest.slice(digest.indexOf(":") + 1);
  return hex.slice(0, 12);
}

function seconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}

function rate(bytes: number, ms: number): string {
  // Under 50 ms a rate says nothing but noise.
  return ms < 50 ? "-" : `${formatBytes(Math.round(bytes / (ms / 1000)))}/s`;
}

/**
 * The summary of finished blobs: `12 mounted, 2 copied (66.1 MiB), 0 present` (and `, N foreign`
 * when there are non-distributable layers).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatSummary } from "./progress.ts";
 * assert.equal(
 *   formatSummary({ mounted: 12, copied: 2, copiedBytes: 69310873, present: 0, foreign: 0 }),
 *   "12 mounted, 2 copied (66.1 MiB), 0 present",
 * );
 * ```
 */
export function formatSummary(c: ProgressCounts): string {
  const s = `${c.mounted} mounted, ${c.copied} copied (${
    formatBytes(c.copiedBytes)
  }), ${c.present} present`;
  return c.foreign > 0 ? `${s}, ${c.foreign} foreign` : s;
}

/**
 * The live block: one line per transfer in flight (short digest, bytes/total, rate), the summary
 * of finished blobs, and the overall bytes and elapsed time. Lines are cut to `columns - 1`
 * characters so none wraps (a wrapped line would break the cursor arithmetic of {@link redraw}).
 */
export function renderBlock(state: ProgressState, columns: number): string[] {
  const lines = state.inFlight.map((t) =>
    `  ${shortDigest(t.digest)}  ${formatBytes(t.bytes)} / ${formatBytes(t.total)}  ${
      rate(t.bytes, state.age(t))
    }`
  );
  lines.push(formatSummary(state.counts));
  const overall = `${formatBytes(state.bytes)} transferred in ${seconds(state.elapsed)}`;
  // A batch: specs done out of all, and the rate over the whole run.
  const specs = state.specCounts;
  lines.push(
    specs
      ? `${specs.done}/${specs.total} specs, ${overall} (${rate(state.bytes, state.elapsed)})`
      : overall,
  );
  const width = Math.max(20, columns - 1);
  return lines.map((l) => l.length > width ? l.slice(0, width) : l);
}

/**
 * One line for a finished blob, as `--progress=plain` prints it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatFinished } from "./progress.ts";
 * const digest = "sha256:" + "c".repeat(64);
 * assert.equal(
 *   formatFinished({ digest, action: "copy", size: 3145728, ms: 2000 }),
 *   "copied  cccccccccccc 3.0 MiB in 2.0s (1.5 MiB/s)",
 * );
 * assert.equal(
 *   formatFinished({ digest, action: "mount", size: 10, from: "r.example/src" }),
 *   "mounted cccccccccccc 10 B from r.example/src",
 * );
 * ```
 */
export function formatFinished(f: Finished): string {
  const word = { copy: "copied ", mount: "mounted", present: "present", foreign: "foreign" }[
    f.action
  ];
  let line = `${word} ${shortDigest(f.digest)} ${formatBytes(f.size)}`;
  if (f.action === "copy" && f.ms !== undefined) {
    line += ` in ${seconds(f.ms)} (${rate(f.size, f.ms)})`;
  }
  if (f.from && f.action !== "present") line += ` from ${f.from}`;
  return line;
}

/**
 * The text that replaces a block of `previous` lines (drawn last, cursor below it) by `lines`:
 * cursor up, erase to the end of the screen, the new lines. With no lines it only erases.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redraw } from "./progress.ts";
 * assert.equal(redraw(0, ["a"]), "\r\x1b[Ja\n");
 * assert.equal(redraw(2, []), "\r\x1b[2A\x1b[J");
 * ```
 */
export function redraw(previous: number, lines: readonly string[]): string {
  const up = previous > 0 ? `\x1b[${previous}A` : "";
  return `\r${up}\x1b[J${lines.map((l) => `${l}\n`).join("")}`;
}
