/**
 * The progress view of a push on stderr. `tty`: a live block (one line per transfer in flight, a
 * summary of finished blobs, an overall line) redrawn at most 10 times a second and reduced to its
 * last two lines when the push ends or is interrupted (Ctrl-C); `plain`: one line per finished
 * blob and the summary at the end, no escape sequences; `none`: nothing. The text comes from
 * `lib/format/progress.ts`; this file only decides when to write it.
 *
 * @module
 */

import type { BlobAction, ProgressEvent } from "../lib/push.ts";
import {
  type Finished,
  formatFinished,
  formatSummary,
  ProgressState,
  redraw,
  renderBlock,
} from "../lib/format/progress.ts";
import type { CommandContext } from "./context.ts";
import type { ProgressMode } from "./output.ts";
import { Alarm } from "../lib/_timer.ts";

/** The callbacks to give the push engine, and the end of the view. */
export interface ProgressView extends Disposable {
  /** Bytes of streamed copies (`PushOptions.onProgress`); undefined in mode `none`. */
  onProgress?: (e: ProgressEvent) => void;
  /** What was done to each blob (`PushOptions.onBlob`); undefined in mode `none`. */
  onBlob?: (a: BlobAction) => void;
  /** Specs of a batch ended so far out of all (shown on the overall line of the live block). */
  onSpec?: (done: number, total: number) => void;
  /** Draws the final state (the summary) and stops redrawing; idempotent. */
  stop(): void;
}

/** Options of {@link startProgress} (tests pass their own). */
export interface ProgressViewOptions {
  /** Milliseconds, monotonic (default `performance.now`). */
  clock?: () => number;
  /** Width of the terminal (default: the console's, else 80). */
  columns?: () => number;
}

/** Most redraws a second of the live block. */
const FRAME_MS = 100;

/** Starts the view in `mode`, writing through `ctx.err`. */
export function startProgress(
  ctx: CommandContext,
  mode: ProgressMode,
  options: ProgressViewOptions = {},
): ProgressView {
  const clock = options.clock ?? (() => performance.now());
  if (mode === "none") return { stop() {}, [Symbol.dispose]() {} };
  const state = new ProgressState(clock);
  return mode === "plain"
    ? plainView(ctx, state)
    : ttyView(ctx, state, clock, options.columns ?? consoleColumns);
}

function consoleColumns(): number {
  try {
    // A pty that reports no size (script(1), some CI runners, `docker run -t`) says 0 columns.
    return Deno.consoleSize().columns || 80;
  } catch {
    return 80;
  }
}

function plainView(ctx: CommandContext, state: ProgressState): ProgressView {
  let any = false;
  const print = (f: Finished | undefined) => {
    if (!f) return;
    any = true;
    ctx.err(`${formatFinished(f)}\n`);
  };
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    if (any) ctx.err(`${formatSummary(state.counts)}\n${renderBlock(state, 1000).at(-1)}\n`);
  };
  return {
    onProgress: (e) => print(state.transfer(e)),
    onBlob: (a) => print(state.action(a)),
    stop,
    [Symbol.dispose]: stop,
  };
}

function ttyView(
  ctx: CommandContext,
  state: ProgressState,
  clock: () => number,
  columns: () => number,
): ProgressView {
  let drawn = 0;
  let lastDraw = -Infinity;
  let stopped = false;
  let any = false;
  // The next frame, when an event came inside the window of the last one.
  const frame = new Alarm(() => draw());

  const draw = () => {
    frame.disarm();
    const lines = renderBlock(state, columns());
    ctx.err(redraw(drawn, lines));
    drawn = lines.length;
    lastDraw = clock();
  };
  // At most one frame per FRAME_MS; an event inside the window schedules the frame at its end, so
  // the last state is always drawn.
  const schedule = () => {
    any = true;
    if (stopped) return;
    const wait = lastDraw + FRAME_MS - clock();
    if (wait <= 0) return draw();
    if (!frame.armed) frame.arm(wait);
  };
  const stop = () => {
    if (stopped) return;
    stopped = true;
    frame.disarm();
    removeListeners();
    // The transfers in flight go; the summary and the overall line stay on the screen.
    if (any) ctx.err(redraw(drawn, renderBlock(state, columns()).slice(-2)));
    drawn = 0;
  };
  const removeListeners = listenForInterrupt(stop);
  return {
    onProgress: (e) => {
      state.transfer(e);
      schedule();
    },
    onBlob: (a) => {
      state.action(a);
      schedule();
    },
    onSpec: (done, total) => {
      state.specs(done, total);
      schedule();
    },
    stop,
    [Symbol.dispose]: stop,
  };
}

/**
 * On Ctrl-C (SIGINT) and on `unload`, `cleanUp` runs first; SIGINT then takes its default course
 * (the process ends by the signal, 130 in the shell). Returns the function that removes the
 * listeners.
 */
function listenForInterrupt(cleanUp: () => void): () => void {
  const onSignal = () => {
    // cleanUp removes this listener, which gives SIGINT back its default action: raising it
    // again ends the process as Ctrl-C would have without us.
    cleanUp();
    try {
      Deno.kill(Deno.pid, "SIGINT");
    } catch {
      // Where a process cannot signal itself, end it with the shell's code for SIGINT.
      Deno.exit(130);
    }
  };
  let signal = false;
  try {
    Deno.addSignalListener("SIGINT", onSignal);
    signal = true;
  } catch {
    // No signal support (some platforms): the unload listener still cleans up.
  }
  globalThis.addEventListener("unload", cleanUp);
  return () => {
    if (signal) Deno.removeSignalListener("SIGINT", onSignal);
    globalThis.removeEventListener("unload", cleanUp);
  };
}
