/**
 * Where credentials come from, per registry host: `--username/--password` (only for the
 * registries the command addresses), podman's `REGISTRY_AUTH_FILE`, docker's `config.json`
 * (`--docker-cfg`, `DOCKER_CONFIG`, `~/.docker/config.json`) with `auths`, `identitytoken`,
 * `credHelpers` and `credsStore`, and podman's `$XDG_RUNTIME_DIR/containers/auth.json`.
 * Credentials are looked up once per host and never logged.
 *
 * @module
 */

import { AuthError } from "../errors.ts";
import { credentialKeys, normalizeConfigKey } from "../reference.ts";

/** How long a `docker-credential-*` helper may take to answer. */
const HELPER_TIMEOUT_MS = 30_000;

/** Credentials for one registry. */
export interface Credential {
  /** User name for Basic auth or a token request. */
  username?: string;
  /** Password. */
  password?: string;
  /** OAuth2 refresh token (docker's `identitytoken`). */
  identityToken?: string;
  /** A bearer token to send as is (docker's `registrytoken`). */
  registryToken?: string;
}

/** Options of a {@link CredentialStore}. */
export interface CredentialOptions {
  /** `--username`. */
  username?: string;
  /** `--password`. */
  password?: string;
  /** Registries (`host[:port]`) the flag credentials are for. */
  flagRegistries?: readonly string[];
  /** `--docker-cfg`: a directory holding `config.json`, or the file itself. */
  dockerConfig?: string;
  /** Environment lookup (default `Deno.env.get`). */
  env?: (name: string) => string | undefined;
  /** Consult no file or helper, only the flags. */
  noConfig?: boolean;
}

interface ConfigFile {
  path: string;
  auths: Record<
    string,
    {
      auth?: string;
      username?: string;
      password?: string;
      identitytoken?: string;
      registrytoken?: string;
    }
  >;
  credHelpers: Record<string, string>;
  credsStore?: string;
}

/**
 * Finds credentials for registry hosts.
 *
 * @example
 * ```ts
 * import { CredentialStore } from "./credentials.ts";
 * const store = new CredentialStore({
 *   username: "u", password: "p", flagRegistries: ["127.0.0.1:5000"], noConfig: true,
 * });
 * console.assert((await store.get("127.0.0.1:5000"))?.username === "u");
 * console.assert((await store.get("ghcr.io")) === undefined);
 * ```
 */
export class CredentialStore {
  readonly #opts: CredentialOptions;
  readonly #cache = new Map<string, Promise<Credential | undefined>>();
  #files?: Promise<ConfigFile[]>;

  /** Creates a store. */
  constructor(options: CredentialOptions = {}) {
    this.#opts = options;
  }

  /** Credentials for `registry` (`host[:port]`, `docker.io` for Docker Hub), or undefined. */
  get(registry: string): Promise<Credential | undefined> {
    let p = this.#cache.get(registry);
    if (!p) {
      p = this.#lookup(registry);
      this.#cache.set(registry, p);
    }
    return p;
  }

  async #lookup(registry: string): Promise<Credential | undefined> {
    const o = this.#opts;
    if (
      (o.username !== undefined || o.password !== undefined) &&
      (o.flagRegistries ?? []).includes(registry)
    ) {
      return { username: o.username ?? "", password: o.password ?? "" };
    }
    if (o.noConfig) return undefined;
    const keys = credentialKeys(registry);
    const wanted = new Set(keys.map(normalizeConfigKey));
    for (const file of await this.#configFiles()) {
      const helperKey = Object.keys(file.credHelpers).find((k) =>
        wanted.has(normalizeConfigKey(k))
      );
      if (helperKey) return await runHelper(file.credHelpers[helperKey], keys[0], file.path);
      const authKey = Object.keys(file.auths).find((k) => wanted.has(normalizeConfigKey(k)));
      if (file.credsStore) {
        const c = await runHelper(file.credsStore, keys[0], file.path);
        if (c) return c;
      }
      if (authKey) return decodeAuth(file.auths[authKey], file.path, authKey);
    }
    return undefined;
  }

  #configFiles(): Promise<ConfigFile[]> {
    this.#files ??= (async () => {
      const env = this.#opts.env ?? ((n: string) => Deno.env.get(n));
      const paths: string[] = [];
      if (this.#opts.dockerConfig) {
        const p = this.#opts.dockerConfig;
        let isDir = false;
        try {
          isDir = (await Deno.stat(p)).isDirectory;
        } catch (e) {
          throw new AuthError(`Cannot read docker config "${p}": ${(e as Error).message}`, {
            host: "",
          }, {
            cause: e,
          });
        }
        paths.push(isDir ? `${p}/config.json` : p);
      } else {
        const authFile = env("REGISTRY_AUTH_FILE");
        if (authFile) paths.push(authFile);
        const dockerDir = env("DOCKER_CONFIG") ??
          (env("HOME") ? `${env("HOME")}/.docker` : undefined);
        if (dockerDir) paths.push(`${dockerDir}/config.json`);
        const runtime = env("XDG_RUNTIME_DIR");
        if (runtime) paths.push(`${runtime}/containers/auth.json`);
      }
      const files: ConfigFile[] = [];
      for (const path of paths) {
        const f = await readConfig(path, this.#opts.dockerConfig === undefined);
        if (f) files.push(f);
      }
      return files;
    })();
    return this.#files;
  }
}

async function readConfig(path: string, optional: boolean): Promise<ConfigFile | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (optional && e instanceof Deno.errors.NotFound) return undefined;
    throw new AuthError(`Cannot read docker config "${path}": ${(e as Error).message}`, {
      host: "",
    }, {
      cause: e,
    });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new AuthError(`Cannot parse docker config "${path}": ${(e as Error).message}`, {
      host: "",
    }, {
      cause: e,
    });
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) {
    throw new AuthError(`Cannot parse docker config "${path}": not a JSON object`, { host: "" });
  }
  const o = doc as Record<string, unknown>;
  const obj = (v: unknown) => (v && typeof v === "object" && !Array.isArray(v)) ? v : {};
  return {
    path,
    auths: obj(o.auths) as ConfigFile["auths"],
    credHelpers: obj(o.credHelpers) as ConfigFile["credHelpers"],
    credsStore: typeof o.credsStore === "string" && o.credsStore ? o.credsStore : undefined,
  };
}

function decodeAuth(
  entry: ConfigFile["auths"][string],
  path: string,
  key: string,
): Credential | undefined {
  if (!entry || typeof entry !== "object") return undefined;
  const c: Credential = {};
  if (typeof entry.auth === "string" && entry.auth) {
    let text: string;
    try {
      text = new TextDecoder().decode(Uint8Array.from(atob(entry.auth), (ch) => ch.charCodeAt(0)));
    } catch {
      throw new AuthError(
        `Cannot parse docker config "${path}": auths["${key}"].auth is not base64`,
        {
          host: key,
        },
      );
    }
    const i = text.indexOf(":");
    if (i < 0) {
      throw new AuthError(
        `Cannot parse docker config "${path}": auths["${key}"].auth is not base64 of user:password`,
        { host: key },
      );
    }
    c.username = text.slice(0, i);
    c.password = text.slice(i + 1);
  }
  if (typeof entry.username === "string" && entry.username) c.username = entry.username;
  if (typeof entry.password === "string" && entry.password) c.password = entry.password;
  if (typeof entry.identitytoken === "string" && entry.identitytoken) {
    c.identityToken = entry.identitytoken;
  }
  if (typeof entry.registrytoken === "string" && entry.registrytoken) {
    c.registryToken = entry.registrytoken;
  }
  return Object.keys(c).length > 0 ? c : undefined;
}

/**
 * Runs `docker-credential-<helper> get` with the server URL on stdin. A helper that says it has
 * no credentials yields undefined; one that fails otherwise or prints garbage is an error naming
 * it (never its output, which may hold a secret).
 */
async function runHelper(
  helper: string,
  serverUrl: string,
  configPath: string,
): Promise<Credential | undefined> {
  const bin = `docker-credential-${helper}`;
  let out: Deno.CommandOutput;
  try {
    const child = new Deno.Command(bin, {
      args: ["get"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // A helper may exit without reading its input: a broken pipe is not its answer.
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(serverUrl)).catch(() => {});
    await w.close().catch(() => {});
    // A helper that hangs (waiting for a keychain prompt, say) must not hang the tool.
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }, HELPER_TIMEOUT_MS);
    try {
      out = await child.output();
    } finally {
      clearTimeout(timer);
    }
    if (out.signal === "SIGKILL") {
      throw new AuthError(
        `Credential helper "${bin}" did not answer within ${
          HELPER_TIMEOUT_MS / 1000
        } s for ${serverUrl}`,
        { host: serverUrl },
      );
    }
  } catch (e) {
    throw new AuthError(
      `Credential helper "${bin}" named in "${configPath}" cannot be run: ${(e as Error).message}`,
      { host: serverUrl },
      { cause: e },
    );
  }
  const stdout = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) {
    const stderr = new TextDecoder().decode(out.stdout).trim() +
      new TextDecoder().decode(out.stderr);
    if (/credentials not found|not found in native keychain/i.test(stderr)) return undefined;
    throw new AuthError(
      `Credential helper "${bin}" failed for ${serverUrl} (exit code ${out.code})`,
      { host: serverUrl },
    );
  }
  let doc: { Username?: unknown; Secret?: unknown };
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw new AuthError(
      `Credential helper "${bin}" printed something that is not JSON for ${serverUrl}`,
      {
        host: serverUrl,
      },
    );
  }
  if (!doc || typeof doc !== "object" || typeof doc.Secret !== "string") {
    throw new AuthError(
      `Credential helper "${bin}" printed JSON without a "Secret" for ${serverUrl}`,
      {
        host: serverUrl,
      },
    );
  }
  const username = typeof doc.Username === "string" ? doc.Username : "";
  // docker: a Username of "<token>" means Secret is an identity (refresh) token.
  if (username === "<token>") return { identityToken: doc.Secret };
  return { username, password: doc.Secret };
}
