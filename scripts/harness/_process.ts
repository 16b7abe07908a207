/**
 * Child processes of the harness: started with a scrubbed environment, stderr drained into a log
 * file, killed with SIGTERM then SIGKILL, always awaited.
 *
 * @module
 */

/** A started child process. */
export interface Launched {
  /** The process. */
  child: Deno.ChildProcess;
  /** Resolves when it has exited. */
  exited: Promise<Deno.CommandStatus>;
  /** Resolves when its stderr is in the log and the log is closed. */
  drained: Promise<void>;
  /** Whether it has exited. */
  hasExited: () => boolean;
}

const KILL_AFTER_MS = 3_000;

/** The environment of a child: ours less `REGISTRY_*`, which distribution reads as config. */
export function childEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (!k.startsWith("REGISTRY_")) env[k] = v;
  }
  return env;
}

/** A free port on 127.0.0.1 (free when we look; the caller retries if it is taken meanwhile). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** `bytes` random bytes in hex. */
export function randomHex(bytes = 16): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16))
    .map((h) => h.padStart(2, "0")).join("");
}

/** Starts `bin args…` with its stderr written to `logFile`, stdin and stdout closed. */
export function launch(bin: string, args: string[], logFile: Deno.FsFile): Launched {
  const child = new Deno.Command(bin, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    clearEnv: true,
    env: childEnv(),
  }).spawn();
  // Drain stderr into the log so the registry never blocks on a full pipe. Written chunk by chunk
  // with FsFile.write: through `logFile.writable` (pipeTo) nothing reached the file before exit.
  const drained = (async () => {
    try {
      for await (const chunk of child.stderr) {
        for (let off = 0; off < chunk.length;) off += await logFile.write(chunk.subarray(off));
      }
    } catch {
      // the log is a courtesy: never fail the registry over it
    } finally {
      logFile.close();
    }
  })();
  let done = false;
  const exited = child.status.then((s) => {
    done = true;
    return s;
  });
  return { child, exited, drained, hasExited: () => done };
}

/** SIGTERM, SIGKILL after 3 s, then awaits the exit and the drained log. */
export async function kill(l: Launched): Promise<void> {
  if (!l.hasExited()) {
    try {
      l.child.kill("SIGTERM");
    } catch {
      // exited meanwhile
    }
    const timer = setTimeout(() => {
      try {
        l.child.kill("SIGKILL");
      } catch {
        // exited meanwhile
      }
    }, KILL_AFTER_MS);
    try {
      await l.exited;
    } finally {
      clearTimeout(timer);
    }
  }
  await l.exited;
  await l.drained;
}

/** The last `lines` lines of `file` joined by ` | `, or `no output`. */
export async function tail(file: string, lines = 3): Promise<string> {
  const text = await Deno.readTextFile(file).catch(() => "");
  return text.trim().split("\n").slice(-lines).join(" | ") || "no output";
}
