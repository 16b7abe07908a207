/**
 * go-containerregistry's registry as a harness kind: `crane registry serve` (`ggcr`) or our
 * referrers-enabled build of the same `pkg/registry` (`ggcr-referrers`). Plain HTTP, no auth,
 * manifests in memory, blobs under the registry's directory (`--disk`).
 *
 * Each binds `127.0.0.1:0` itself and logs `serving on port N`: the port comes from its own log, so
 * no other process can be mistaken for it (crane cannot add a header to prove who answers).
 *
 * @module
 */

import { HarnessError } from "./_errors.ts";
import { kill, launch, type Launched, randomHex, tail } from "./_process.ts";
import { KIND_CAPABILITIES, type RegistryKind } from "./kinds.ts";
import type { RegistryOptions, RunningRegistry } from "./registry.ts";

const START_TIMEOUT_MS = 10_000;
const POLL_MS = 50;

/** Refuses options this kind cannot honour, rather than start something else than asked for. */
function refuseUnsupported(kind: RegistryKind, opts: RegistryOptions): void {
  const caps = KIND_CAPABILITIES[kind];
  if (opts.tls && !caps.tls) throw new HarnessError(`Registry kind ${kind} has no TLS mode`);
  if ((opts.auth ?? "none") !== "none" && !caps.auth) {
    throw new HarnessError(`Registry kind ${kind} has no auth mode (asked for ${opts.auth})`);
  }
  if (opts.deletes === false) {
    throw new HarnessError(`Registry kind ${kind} cannot disable deletes`);
  }
}

/** The port the registry logged, once it logs it; `undefined` if it exits or takes too long. */
async function loggedPort(logPath: string, l: Launched): Promise<number | undefined> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const log = await Deno.readTextFile(logPath).catch(() => "");
    const m = /serving on port (\d+)/.exec(log);
    if (m) return Number(m[1]);
    if (l.hasExited()) return undefined;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return undefined;
}

/** `GET /v2/` answers 200 (with our id header when the binary sets one). */
async function answers(url: string, id: string | undefined): Promise<boolean> {
  try {
    const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return res.status === 200 && (id === undefined || res.headers.get("x-harness-id") === id);
  } catch {
    return false;
  }
}

/**
 * Starts `bin` as registry `kind` (`ggcr` or `ggcr-referrers`) and waits until it answers.
 *
 * @throws {HarnessError} when asked for TLS, auth or disabled deletes, or when it does not come up
 */
export async function startGgcr(
  kind: RegistryKind,
  bin: string,
  opts: RegistryOptions,
): Promise<RunningRegistry> {
  refuseUnsupported(kind, opts);
  const dir = await Deno.makeTempDir({ prefix: "mt-registry-" });
  try {
    await Deno.mkdir(`${dir}/data`);
    const id = kind === "ggcr-referrers" ? randomHex(8) : undefined;
    const args = kind === "ggcr"
      ? ["registry", "serve", "--address", "127.0.0.1:0", "--disk", `${dir}/data`]
      : ["--address", "127.0.0.1:0", "--disk", `${dir}/data`, "--id", id!];
    const logPath = `${dir}/registry.log`;
    const logFile = await Deno.open(logPath, { write: true, create: true, truncate: true });
    const launched = launch(bin, args, logFile);
    const port = await loggedPort(logPath, launched);
    const host = `127.0.0.1:${port}`;
    const url = `http://${host}`;
    if (port === undefined || !await answers(url, id)) {
      await kill(launched);
      throw new HarnessError(`Registry ${bin} (${kind}) did not start: ${await tail(logPath)}`);
    }
    let stopped: Promise<void> | undefined;
    const stop = () =>
      stopped ??= (async () => {
        try {
          await kill(launched);
        } finally {
          await Deno.remove(dir, { recursive: true }).catch(() => {});
        }
      })();
    return {
      kind,
      capabilities: KIND_CAPABILITIES[kind],
      host,
      url,
      tls: false,
      auth: "none",
      dir,
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (e) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }
}
