/**
 * Timers that leave Deno's Node compatibility layer unloaded. Under Deno 2.9 the first
 * `setTimeout` of a process loads `node:timers` and what it needs (async hooks, Node's errors and
 * util.inspect: 5–10 ms of start-up, measured), while `AbortSignal.timeout` is a timer of the web
 * layer that is already loaded. An {@link Alarm} is built on it; {@link sleep} on an alarm.
 *
 * An armed alarm keeps the process alive, as a timer does; a disarmed one does not (Deno refs an
 * `AbortSignal.timeout` timer only while the signal has an abort listener).
 *
 * @module
 */

/**
 * A timer that can be armed, moved and disarmed many times cheaply: it calls `fire` once `ms`
 * have passed since the last {@link Alarm.arm}, unless {@link Alarm.disarm} came first. Moving an
 * armed alarm later costs no new timer: when the old one fires early it waits the rest.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Alarm } from "./_timer.ts";
 * let fired = 0;
 * const alarm = new Alarm(() => fired++);
 * alarm.arm(5);
 * alarm.disarm();
 * await new Promise<void>((done) => new Alarm(done).arm(20));
 * assert.equal(fired, 0);
 * ```
 */
export class Alarm {
  readonly #fire: () => void;
  #armed = false;
  /** When the alarm is due (performance.now() ms). */
  #due = 0;
  /** The pending timer, and when it fires. */
  #signal: AbortSignal | undefined;
  #firesAt = 0;

  /** An alarm that calls `fire` when it goes off. */
  constructor(fire: () => void) {
    this.#fire = fire;
  }

  /** Whether the alarm is armed. */
  get armed(): boolean {
    return this.#armed;
  }

  /** Arms the alarm to go off `ms` from now; an armed alarm is moved. */
  arm(ms: number): void {
    this.#due = performance.now() + ms;
    this.#armed = true;
    if (!this.#signal || this.#signal.aborted || this.#due < this.#firesAt) this.#schedule();
    // Adding the same listener twice is a no-op.
    else this.#signal.addEventListener("abort", this.#onTimeout, { once: true });
  }

  /** Disarms the alarm: it will not go off, and does not keep the process alive. */
  disarm(): void {
    this.#armed = false;
    this.#signal?.removeEventListener("abort", this.#onTimeout);
  }

  #schedule(): void {
    this.#signal?.removeEventListener("abort", this.#onTimeout);
    const wait = Math.max(1, Math.ceil(this.#due - performance.now()));
    this.#firesAt = performance.now() + wait;
    this.#signal = AbortSignal.timeout(wait);
    this.#signal.addEventListener("abort", this.#onTimeout, { once: true });
  }

  #onTimeout = (): void => {
    this.#signal = undefined;
    if (!this.#armed) return;
    if (performance.now() < this.#due) return this.#schedule();
    this.#armed = false;
    this.#fire();
  };
}

/**
 * Resolves after `ms`, or rejects with `onAbort(signal)` as soon as `signal` aborts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sleep } from "./_timer.ts";
 * await sleep(1);
 * const stop = new AbortController();
 * stop.abort(new Error("stopped"));
 * await assert.rejects(sleep(60_000, stop.signal), /stopped/);
 * ```
 */
export function sleep(
  ms: number,
  signal?: AbortSignal,
  onAbort: (signal: AbortSignal) => unknown = (s) => s.reason,
): Promise<void> {
  if (signal?.aborted) return Promise.reject(onAbort(signal));
  return new Promise<void>((resolve, reject) => {
    const aborted = () => {
      alarm.disarm();
      reject(onAbort(signal!));
    };
    const alarm = new Alarm(() => {
      signal?.removeEventListener("abort", aborted);
      resolve();
    });
    signal?.addEventListener("abort", aborted, { once: true });
    alarm.arm(ms);
  });
}
