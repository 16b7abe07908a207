/**
 * Starts a real distribution registry (Debian's `docker-registry`, a `registry` binary, or
 * `REGISTRY_BIN`) on a free 127.0.0.1 port, in one of four variants: plain HTTP, TLS with a CA the
 * harness makes, Basic auth (htpasswd, bcrypt), and Bearer token auth with the harness token
 * server. `stop()` kills it, awaits its exit and removes its directory.
 *
 * @module
 */

import { makeServerTls, makeSigningKey } from "./tls.ts";
import { startTokenServer, type TokenServer } from "./token_server.ts";

/** Authentication of a harness registry. */
export type AuthMode = "none" | "basic" | "token";

/** Options of {@link startRegistry}. */
export interface RegistryOptions {
  /** Serve HTTPS with a harness-generated CA and certificate. */
  tls?: boolean;
  /** Authentication, default none. */
  auth?: AuthMode;
  /** Allow deletes (default true). */
  deletes?: boolean;
  /** Token mode: anonymous requests get pull access. */
  anonymousPull?: boolean;
  /** Registry binary to run (default: `REGISTRY_BIN`, then `docker-registry`, then `registry`). */
  binary?: string;
}

/** A running registry. */
export interface RunningRegistry {
  /** `127.0.0.1:PORT`, as written in references. */
  host: string;
  /** `http://…` or `https://…`. */
  url: string;
  /** Whether it serves HTTPS. */
  tls: boolean;
  /** Its authentication. */
  auth: AuthMode;
  /** CA file that signed its certificate (TLS). */
  caFile?: string;
  /** That CA's PEM. */
  caPem?: string;
  /** A user that may push (basic and token modes). */
  username?: string;
  /** Their password. */
  password?: string;
  /** The token server (token mode). */
  tokenServer?: TokenServer;
  /** Directory of config, storage and certificates. */
  dir: string;
  /** Stops everything; idempotent. */
  stop(): Promise<void>;
  /** Same as stop. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** A harness set-up problem, in one line saying what to do. */
export class HarnessError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "HarnessError";
  }
}

async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    try {
      const p = `${dir}/${name}`;
      const info = await Deno.stat(p);
      if (info.isFile) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Finds the registry binary: `REGISTRY_BIN`, `docker-registry`, `registry`. */
export async function findRegistryBinary(given?: string): Promise<string> {
  const env = given ?? Deno.env.get("REGISTRY_BIN");
  if (env) {
    try {
      if ((await Deno.stat(env)).isFile) return env;
    } catch {
      // fall through to the error
    }
    throw new HarnessError(
      `Registry binary "${env}" is not a file: install Debian's docker-registry (apt-get install -y docker-registry) or point REGISTRY_BIN at a registry binary`,
    );
  }
  const found = await onPath("docker-registry") ?? await onPath("registry");
  if (!found) {
    throw new HarnessError(
      "No registry binary found: install Debian's docker-registry (apt-get install -y docker-registry) or set REGISTRY_BIN",
    );
  }
  return found;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function randomSecret(): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(16)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

async function htpasswd(user: string, password: string): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("htpasswd", {
      args: ["-Bbn", user, password],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch {
    throw new HarnessError(
      "htpasswd not found: install apache2-utils (apt-get install -y apache2-utils)",
    );
  }
  if (!out.success) {
    throw new HarnessError(`htpasswd failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout).trim() + "\n";
}

/**
 * Starts a registry.
 *
 * @example
 * ```ts ignore
 * await using reg = await startRegistry({ auth: "token" });
 * ```
 */
export async function startRegistry(opts: RegistryOptions = {}): Promise<RunningRegistry> {
  const bin = await findRegistryBinary(opts.binary);
  const auth = opts.auth ?? "none";
  const tls = opts.tls ?? false;
  const dir = await Deno.makeTempDir({ prefix: "mt-registry-" });
  let tokenServer: TokenServer | undefined;
  try {
    const username = auth === "none" ? undefined : "testuser";
    const password = auth === "none" ? undefined : `pw-${randomSecret()}`;
    const material = tls ? await makeServerTls(dir) : undefined;
    const authLines: string[] = [];
    if (auth === "basic") {
      await Deno.writeTextFile(`${dir}/htpasswd`, await htpasswd(username!, password!));
      authLines.push("auth:", "  htpasswd:", "    realm: harness", `    path: ${dir}/htpasswd`);
    } else if (auth === "token") {
      const signing = await makeSigningKey(dir);
      tokenServer = await startTokenServer({
        issuer: "harness-issuer",
        service: "harness-registry",
        username: username!,
        password: password!,
        anonymousPull: opts.anonymousPull ?? false,
        signing,
      });
      authLines.push(
        "auth:",
        "  token:",
        `    realm: ${tokenServer.realm}`,
        `    service: ${tokenServer.service}`,
        "    issuer: harness-issuer",
        `    rootcertbundle: ${signing.certFile}`,
      );
    }
    for (let attempt = 0;; attempt++) {
      const port = freePort();
      const host = `127.0.0.1:${port}`;
      const config = [
        "version: 0.1",
        "log:",
        "  level: warn",
        "  accesslog:",
        "    disabled: true",
        "storage:",
        "  filesystem:",
        `    rootdirectory: ${dir}/data`,
        "  delete:",
        `    enabled: ${opts.deletes ?? true}`,
        "  maintenance:",
        "    uploadpurging:",
        "      enabled: false",
        "http:",
        `  addr: ${host}`,
        `  secret: ${randomSecret()}`,
        ...(material
          ? ["  tls:", `    certificate: ${material.certFile}`, `    key: ${material.keyFile}`]
          : []),
        ...authLines,
        "",
      ].join("\n");
      await Deno.writeTextFile(`${dir}/config.yml`, config);
      const log = await Deno.open(`${dir}/registry.log`, {
        write: true,
        create: true,
        truncate: true,
      });
      const child = new Deno.Command(bin, {
        args: ["serve", `${dir}/config.yml`],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
        env: { OTEL_TRACES_EXPORTER: "none" },
      }).spawn();
      // Drain stderr into the log file so the registry never blocks on a full pipe.
      const drained = child.stderr.pipeTo(log.writable).catch(() => {});
      const status = child.status;
      let exited = false;
      status.then(() => exited = true);
      const url = `${tls ? "https" : "http"}://${host}`;
      const client = material ? Deno.createHttpClient({ caCerts: [material.caPem] }) : undefined;
      let up = false;
      for (let i = 0; i < 200 && !exited; i++) {
        try {
          const res = await fetch(`${url}/v2/`, client ? { client } : {});
          await res.body?.cancel();
          if (res.status === 200 || res.status === 401) {
            up = true;
            break;
          }
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      client?.close();
      let stopped: Promise<void> | undefined;
      const stop = () => {
        stopped ??= (async () => {
          if (!exited) {
            try {
              child.kill("SIGTERM");
            } catch {
              // already gone
            }
            const timer = setTimeout(() => {
              try {
                child.kill("SIGKILL");
              } catch {
                // already gone
              }
            }, 3000);
            await status;
            clearTimeout(timer);
          } else await status;
          await drained;
          await tokenServer?.stop();
          await Deno.remove(dir, { recursive: true }).catch(() => {});
        })();
        return stopped;
      };
      if (!up) {
        const tail = await Deno.readTextFile(`${dir}/registry.log`).catch(() => "");
        await (async () => {
          if (!exited) {
            try {
              child.kill("SIGKILL");
            } catch { /* gone */ }
          }
          await status;
          await drained;
        })();
        if (attempt < 3 && /address already in use/i.test(tail)) continue;
        throw new HarnessError(
          `Registry did not start on ${host}: ${
            tail.trim().split("\n").slice(-3).join(" | ") || "no output"
          }`,
        );
      }
      return {
        host,
        url,
        tls,
        auth,
        caFile: material?.caFile,
        caPem: material?.caPem,
        username,
        password,
        tokenServer,
        dir,
        stop,
        [Symbol.asyncDispose]: stop,
      };
    }
  } catch (e) {
    await tokenServer?.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }
}
