/**
 * Runs a docker credential helper (`docker-credential-<name> get`, docker-credential-helpers
 * protocol: the server URL on stdin, `{"Username","Secret"}` on stdout) with bounds: its output is
 * read up to {@link HELPER_OUTPUT_CAP} bytes, and the wait ends at the time limit whatever the
 * pipe does (a helper whose own child keeps stdout open cannot hold us past it).
 *
 * @module
 */

import { AuthError } from "../errors.ts";
import type { Credential } from "./credentials.ts";
import { checkCredential } from "./credential_check.ts";
import { Alarm } from "../_timer.ts";

/** Most bytes read from a helper's stdout (and stderr): a real answer is a few hundred. */
export const HELPER_OUTPUT_CAP: number = 64 * 1024;

/** Where a helper's stream stopped. */
type Read = { bytes: Uint8Array; over: boolean };

/**
 * Asks helper `helper` (named in `configPath`) for the credentials of `serverUrl`. A helper that
 * says it has none yields undefined; one that fails, floods, hangs or prints garbage is an
 * {@link AuthError} naming it (never its output, which may hold a secret). `path` is the `PATH`
 * the helper is looked up in.
 */
export async function runHelper(
  helper: string,
  serverUrl: string,
  configPath: string,
  options: { timeoutMs: number; path?: string },
): Promise<Credential | undefined> {
  const bin = `docker-credential-${helper}`;
  const fail = (why: string, cause?: unknown) =>
    new AuthError(`Credential helper "${bin}" ${why}`, {
      host: serverUrl,
    }, cause === undefined ? undefined : { cause });
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(await which(bin, options.path), {
      args: ["get"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    throw fail(`named in "${configPath}" cannot be run: ${(e as Error).message}`, e);
  }
  const result = await collect(child, serverUrl, options.timeoutMs);
  if (result === "timeout") {
    throw fail(`did not answer within ${options.timeoutMs / 1000} s for ${serverUrl}`);
  }
  const { status, stdout, stderr } = result;
  if (stdout.over || stderr.over) {
    throw fail(`printed more than ${HELPER_OUTPUT_CAP / 1024} KiB for ${serverUrl}`);
  }
  const out = new TextDecoder().decode(stdout.bytes).trim();
  if (!status.success) {
    const said = out + new TextDecoder().decode(stderr.bytes);
    if (/credentials not found|not found in native keychain/i.test(said)) return undefined;
    throw fail(`failed for ${serverUrl} (exit code ${status.code})`);
  }
  return parseAnswer(
    out,
    (why) => fail(`${why} for ${serverUrl}`),
    `credential helper ${bin}`,
    serverUrl,
  );
}

/** The credential in a helper's JSON answer. */
function parseAnswer(
  text: string,
  fail: (why: string) => Error,
  source: string,
  host: string,
): Credential {
  let doc: { Username?: unknown; Secret?: unknown };
  try {
    doc = JSON.parse(text);
  } catch {
    throw fail("printed something that is not JSON");
  }
  if (!doc || typeof doc !== "object" || typeof doc.Secret !== "string") {
    throw fail(`printed JSON without a "Secret"`);
  }
  const username = typeof doc.Username === "string" ? doc.Username : "";
  // docker: a Username of "<token>" means Secret is an identity (refresh) token.
  const c: Credential = username === "<token>"
    ? { identityToken: doc.Secret }
    : { username, password: doc.Secret };
  checkCredential(c, source, host);
  return c;
}

/**
 * Writes the server URL, then reads stdout and stderr (capped) and waits for the exit, all within
 * `timeoutMs`; at the limit the helper is killed and the pipes let go.
 */
async function collect(
  child: Deno.ChildProcess,
  serverUrl: string,
  timeoutMs: number,
): Promise<{ status: Deno.CommandStatus; stdout: Read; stderr: Read } | "timeout"> {
  const readers = [child.stdout.getReader(), child.stderr.getReader()];
  const kill = () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  };
  let alarm: Alarm | undefined;
  const expired = new Promise<"timeout">((r) => {
    alarm = new Alarm(() => r("timeout"));
    alarm.arm(timeoutMs);
  });
  const work = (async () => {
    // A helper may exit without reading its input: a broken pipe is not its answer.
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(serverUrl)).catch(() => {});
    await w.close().catch(() => {});
    const [stdout, stderr] = await Promise.all(readers.map((r) => readCapped(r, kill)));
    return { status: await child.status, stdout, stderr };
  })();
  try {
    const r = await Promise.race([work, expired]);
    if (r === "timeout") {
      kill();
      // The pipes may be held open by a process the helper started: stop reading them.
      for (const reader of readers) reader.cancel().catch(() => {});
      await child.status.catch(() => {});
    }
    return r;
  } finally {
    alarm?.disarm();
    work.catch(() => {});
  }
}

/** Reads up to the cap; past it, kills the helper and stops reading. */
async function readCapped(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  kill: () => void,
): Promise<Read> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
    if (done || !value) break;
    total += value.byteLength;
    if (total > HELPER_OUTPUT_CAP) {
      kill();
      await reader.cancel().catch(() => {});
      return { bytes: new Uint8Array(), over: true };
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    bytes.set(c, off);
    off += c.byteLength;
  }
  return { bytes, over: false };
}

/** `bin` found in the directories of `path`, else `bin` itself (the runtime looks it up). */
async function which(bin: string, path: string | undefined): Promise<string> {
  for (const dir of (path ?? "").split(":")) {
    if (!dir) continue;
    try {
      if ((await Deno.stat(`${dir}/${bin}`)).isFile) return `${dir}/${bin}`;
    } catch {
      // Not there.
    }
  }
  return bin;
}
