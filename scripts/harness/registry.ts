/**
 * Starts a real registry on a free 127.0.0.1 port. The default kind, `distribution-2`, is Debian's
 * `docker-registry` (or a `registry` binary, or `REGISTRY_BIN`); `distribution-3` runs the same
 * config with distribution v3; both in any mix of: plain HTTP or TLS with a CA the harness makes;
 * no auth, Basic auth (htpasswd, bcrypt) or Bearer token auth backed by the harness token server.
 * `ggcr` and `ggcr-referrers` are go-containerregistry's registry (plain HTTP, no auth; see
 * `kinds.ts`). `stop()` kills it, awaits its exit and removes its directory.
 *
 * @module
 */

import { makeServerTls, makeSigningKey, type TlsMaterial } from "./tls.ts";
import { startTokenServer, type TokenServer } from "./token_server.ts";
import { freePort, kill, launch, type Launched, randomHex, tail } from "./_process.ts";
import {
  type Capabilities,
  KIND_CAPABILITIES,
  kindStatus,
  onPath,
  type RegistryKind,
} from "./kinds.ts";
import { startGgcr } from "./ggcr.ts";
import { HarnessError } from "./_errors.ts";

/** Authentication of a harness registry. */
export type AuthMode = "none" | "basic" | "token";

/** Options of {@link startRegistry}. */
export interface RegistryOptions {
  /** Which implementation (default `"distribution-2"`); see {@link registryKinds}. */
  kind?: RegistryKind;
  /** Serve HTTPS with a harness-generated CA and certificate (default false). */
  tls?: boolean;
  /** Authentication (default `"none"`). */
  auth?: AuthMode;
  /** `storage.delete.enabled` (default true). */
  deletes?: boolean;
  /**
   * Accept manifests with foreign (non-distributable) layers whose `urls` are `https://` ones, as
   * Docker Hub does (`validation.manifests.urls.allow`). distribution refuses them by default
   * with `500 UNKNOWN "invalid URL on layer"`. go-containerregistry accepts them regardless.
   */
  foreignLayerUrls?: boolean;
  /** Token mode: the token server grants `pull` to anonymous requests (default false). */
  anonymousPull?: boolean;
  /**
   * Registry binary to run (default for `distribution-2`: `REGISTRY_BIN`, then `docker-registry`,
   * then `registry`; for the other kinds: the one {@link kindStatus} finds).
   */
  binary?: string;
}

/** A running registry; stop it with `stop()` or `await using`. */
export interface RunningRegistry {
  /** The implementation running (absent only in objects made by hand: then `distribution-2`). */
  kind?: RegistryKind;
  /** What it can do (see {@link KIND_CAPABILITIES}). */
  capabilities?: Capabilities;
  /** `127.0.0.1:PORT`, as written in image references. */
  host: string;
  /** `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`. */
  url: string;
  /** Whether it serves HTTPS. */
  tls: boolean;
  /** Its authentication. */
  auth: AuthMode;
  /** PEM file of the CA that signed its certificate (TLS only). */
  caFile?: string;
  /** That CA's PEM text (TLS only). */
  caPem?: string;
  /** A user that may pull, push and delete (basic and token modes): `testuser`. */
  username?: string;
  /** Their password, random per registry. */
  password?: string;
  /** The token server (token mode). */
  tokenServer?: TokenServer;
  /** Temporary directory of its config, storage, certificates and log (`registry.log`). */
  dir: string;
  /** Kills the registry and the token server, awaits their exit, removes `dir`; idempotent. */
  stop(): Promise<void>;
  /** Same as {@link RunningRegistry.stop}. */
  [Symbol.asyncDispose](): Promise<void>;
}

export { HarnessError } from "./_errors.ts";

const INSTALL = "install Debian's docker-registry (apt-get install -y docker-registry)";
const START_TIMEOUT_MS = 10_000;
const POLL_MS = 50;

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/**
 * Finds the registry binary: `given`, else `REGISTRY_BIN`, else `docker-registry` or `registry` on
 * `PATH`. A named binary that is missing is an error rather than a reason to look elsewhere.
 *
 * @throws {HarnessError} one line saying how to install it
 */
export async function findRegistryBinary(given?: string): Promise<string> {
  const named = given ?? Deno.env.get("REGISTRY_BIN");
  if (named) {
    if (await isFile(named)) return named;
    throw new HarnessError(
      `No registry binary at "${named}" (REGISTRY_BIN): ${INSTALL} or point REGISTRY_BIN at one`,
    );
  }
  const found = await onPath("docker-registry") ?? await onPath("registry");
  if (!found) throw new HarnessError(`No registry binary found: ${INSTALL} or set REGISTRY_BIN`);
  return found;
}

async function bcryptHtpasswd(user: string, password: string): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("htpasswd", {
      args: ["-Bbn", user, password],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch {
    throw new HarnessError(
      "htpasswd not found: install apache2-utils (apt-get install -y apache2-utils)",
    );
  }
  if (!out.success) {
    throw new HarnessError(`htpasswd failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return new TextDecoder().decode(out.stdout).trim() + "\n";
}

/** A YAML scalar: JSON strings are valid YAML and need no thought about quoting. */
const q = (s: string) => JSON.stringify(s);

/**
 * Polls `GET /v2/` until this very registry answers (its `X-Harness-Id` header proves it is not
 * another process that took the port), the process exits, or the deadline passes.
 */
async function waitReady(
  url: string,
  id: string,
  l: Launched,
  client: Deno.HttpClient | undefined,
): Promise<boolean> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!l.hasExited() && Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/v2/`, {
        signal: AbortSignal.timeout(1_000),
        ...(client ? { client } : {}),
      });
      await res.body?.cancel();
      if (res.headers.get("x-harness-id") === id) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return false;
}

/**
 * Starts a registry on a free 127.0.0.1 port and waits until it answers.
 *
 * @example
 * ```ts ignore
 * await using reg = await startRegistry({ auth: "token", tls: true });
 * const client = Deno.createHttpClient({ caCerts: [reg.caPem!] });
 * const res = await fetch(`${reg.url}/v2/`, { client }); // 401 with a Bearer challenge
 * ```
 *
 * @throws {HarnessError} when no registry binary (or htpasswd, or openssl) is installed, or the
 * registry does not come up; one line, with the tail of the registry's log
 */
export async function startRegistry(opts: RegistryOptions = {}): Promise<RunningRegistry> {
  const kind = opts.kind ?? "distribution-2";
  if (kind === "distribution-2") {
    return await startDistribution(kind, await findRegistryBinary(opts.binary), opts);
  }
  const status = await kindStatus(kind);
  const bin = opts.binary ?? status.binary;
  if (!bin) throw new HarnessError(`Cannot start registry kind ${kind}: ${status.reason}`);
  if (kind === "distribution-3") return await startDistribution(kind, bin, opts);
  return await startGgcr(kind, bin, opts);
}

/** distribution 2 or 3 with a config file written for `opts`. */
async function startDistribution(
  kind: RegistryKind,
  bin: string,
  opts: RegistryOptions,
): Promise<RunningRegistry> {
  const auth = opts.auth ?? "none";
  const tls = opts.tls ?? false;
  const dir = await Deno.makeTempDir({ prefix: "mt-registry-" });
  let tokenServer: TokenServer | undefined;
  const cleanUp = async () => {
    await tokenServer?.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    const username = auth === "none" ? undefined : "testuser";
    const password = auth === "none" ? undefined : `pw-${randomHex(12)}`;
    const authConfig: string[] = [];
    let material: TlsMaterial | undefined;
    try {
      const [m, signing] = await Promise.all([
        tls ? makeServerTls(dir) : undefined,
        auth === "token" ? makeSigningKey(dir) : undefined,
      ]);
      material = m;
      if (signing) {
        tokenServer = await startTokenServer({
          issuer: "harness-issuer",
          service: "harness-registry",
          username: username!,
          password: password!,
          anonymousPull: opts.anonymousPull ?? false,
          signing,
        });
        authConfig.push(
          "auth:",
          "  token:",
          `    realm: ${q(tokenServer.realm)}`,
          `    service: ${q(tokenServer.service)}`,
          `    issuer: ${q("harness-issuer")}`,
          `    rootcertbundle: ${q(signing.certFile)}`,
        );
      }
    } catch (e) {
      if (e instanceof HarnessError) throw e;
      throw new HarnessError((e as Error).message, { cause: e });
    }
    if (auth === "basic") {
      await Deno.writeTextFile(`${dir}/htpasswd`, await bcryptHtpasswd(username!, password!));
      authConfig.push(
        "auth:",
        "  htpasswd:",
        `    realm: ${q("harness")}`,
        `    path: ${q(`${dir}/htpasswd`)}`,
      );
    }
    const client = material ? Deno.createHttpClient({ caCerts: [material.caPem] }) : undefined;
    try {
      // The port is free when we look and may be taken before the registry binds it: retry then.
      for (let attempt = 1;; attempt++) {
        const host = `127.0.0.1:${freePort()}`;
        const url = `${tls ? "https" : "http"}://${host}`;
        const id = randomHex(8);
        const config = [
          "version: 0.1",
          "log:",
          "  level: warn",
          "  accesslog:",
          "    disabled: true",
          "storage:",
          "  filesystem:",
          `    rootdirectory: ${q(`${dir}/data`)}`,
          "  delete:",
          `    enabled: ${opts.deletes ?? true}`,
          "  maintenance:",
          "    uploadpurging:",
          "      enabled: false",
          "http:",
          `  addr: ${q(host)}`,
          `  secret: ${q(randomHex())}`,
          "  headers:",
          `    X-Harness-Id: [${q(id)}]`,
          ...(material
            ? [
              "  tls:",
              `    certificate: ${q(material.certFile)}`,
              `    key: ${q(material.keyFile)}`,
            ]
            : []),
          ...authConfig,
          ...(opts.foreignLayerUrls
            ? ["validation:", "  manifests:", "    urls:", `      allow: [${q("^https://")}]`]
            : []),
          "",
        ].join("\n");
        await Deno.writeTextFile(`${dir}/config.yml`, config);
        const logPath = `${dir}/registry.log`;
        const logFile = await Deno.open(logPath, { write: true, create: true, truncate: true });
        const launched = launch(bin, ["serve", `${dir}/config.yml`], logFile);
        if (!await waitReady(url, id, launched, client)) {
          await kill(launched);
          const why = await tail(logPath);
          if (attempt < 4 && /address already in use/i.test(why)) continue;
          throw new HarnessError(`Registry ${bin} did not start on ${host}: ${why}`);
        }
        let stopped: Promise<void> | undefined;
        const stop = () =>
          stopped ??= (async () => {
            try {
              await kill(launched);
            } finally {
              await cleanUp();
            }
          })();
        return {
          kind,
          capabilities: KIND_CAPABILITIES[kind],
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
    } finally {
      client?.close();
    }
  } catch (e) {
    await cleanUp();
    throw e;
  }
}
