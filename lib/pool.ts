/**
 * Explicit, bounded concurrency: a counting semaphore, a bounded `map`, and a memo that makes sure
 * the same key (a blob digest) is worked on once per run.
 *
 * @module
 */

/**
 * A counting semaphore.
 *
 * @example
 * ```ts
 * import { Semaphore } from "./pool.ts";
 * const s = new Semaphore(2);
 * const release = await s.acquire();
 * release();
 * ```
 */
export class Semaphore {
  #free: number;
  #waiters: (() => void)[] = [];
  /** Allows `size` holders at once. */
  constructor(size: number) {
    if (!(size >= 1)) throw new RangeError(`Semaphore size must be at least 1, got ${size}`);
    this.#free = size;
  }
  /** Waits for a place; returns the function that gives it back (call it exactly once). */
  async acquire(): Promise<() => void> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiters.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      if (next) next();
      else this.#free++;
    };
  }
  /** Runs `fn` holding a place. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/**
 * Maps `items` through `fn` with at most `limit` calls in flight, keeping order. The first
 * failure is thrown after every started call has settled, so no work is left running.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mapConcurrent } from "./pool.ts";
 * const out = await mapConcurrent([1, 2, 3], 2, async (n) => n * 2);
 * assert.deepEqual(out, [2, 4, 6]);
 * ```
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure) {
      const i = next++;
      try {
        results[i] = await fn(items[i], i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}

/**
 * Runs an async computation once per key and shares its promise, e.g. so one blob is mounted or
 * copied once even when several images name it. A computation that fails is forgotten once it
 * has failed: the callers already waiting share its error, and the next caller starts it anew (a
 * transient failure is not cached for the rest of the run).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Once } from "./pool.ts";
 * const once = new Once<string, number>();
 * let calls = 0;
 * await Promise.all([once.run("a", async () => ++calls), once.run("a", async () => ++calls)]);
 * assert.equal(calls, 1);
 * await assert.rejects(once.run("b", () => Promise.reject(new Error("flaky"))));
 * assert.equal(await once.run("b", async () => 2), 2);
 * ```
 */
export class Once<K, V> {
  #map = new Map<K, Promise<V>>();
  /** Returns the shared promise for `key`, starting `fn` the first time (or after a failure). */
  run(key: K, fn: () => Promise<V>): Promise<V> {
    let p = this.#map.get(key);
    if (!p) {
      p = fn();
      const mine = p;
      this.#map.set(key, mine);
      mine.catch(() => {
        // Only this attempt is forgotten: a retry already started keeps its place.
        if (this.#map.get(key) === mine) this.#map.delete(key);
      });
    }
    return p;
  }
}
