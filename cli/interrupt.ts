/**
 * Ctrl-C for long commands: SIGINT or SIGTERM aborts a signal the command passes to the library,
 * which stops every request in flight and commits nothing more; `cli.ts` then maps the library's
 * `InterruptedError` to exit code 130.
 *
 * @module
 */

const SIGNALS: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];

/**
 * An abort signal tied to SIGINT/SIGTERM until disposed (`using`), so a finished command leaves no
 * listener keeping the process alive.
 */
export function interruptSignal(): { signal: AbortSignal } & Disposable {
  const controller = new AbortController();
  const onSignal = () => controller.abort(new DOMException("Interrupted", "AbortError"));
  for (const s of SIGNALS) Deno.addSignalListener(s, onSignal);
  return {
    signal: controller.signal,
    [Symbol.dispose]() {
      for (const s of SIGNALS) Deno.removeSignalListener(s, onSignal);
    },
  };
}
