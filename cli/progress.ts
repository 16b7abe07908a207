/**
 * Progress of streamed copies on a terminal: one line per blob, rewritten in place, with bytes
 * and rate. Used only when standard output is a terminal.
 *
 * @module
 */

import type { ProgressEvent } from "../lib/push.ts";
import type { CommandContext } from "./context.ts";

/** Returns an `onProgress` callback that draws on `ctx.err`, at most ~10 times a second. */
export function progressReporter(ctx: CommandContext): (e: ProgressEvent) => void {
  const started = new Map<string, number>();
  let last = 0;
  return (e) => {
    const now = performance.now();
    if (!started.has(e.digest)) started.set(e.digest, now);
    if (!e.done && now - last < 100) return;
    last = now;
    const secs = Math.max(0.001, (now - started.get(e.digest)!) / 1000);
    const rate = e.bytes / secs;
    const line = `${e.digest.slice(7, 19)}: ${mib(e.bytes)}/${mib(e.total)} MiB ${mib(rate)} MiB/s`;
    ctx.err(`\r${line}${e.done ? "\n" : ""}`);
  };
}

function mib(n: number): string {
  return (n / 1024 / 1024).toFixed(1);
}
