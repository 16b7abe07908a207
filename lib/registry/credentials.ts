/**
 * Where credentials come from, per registry host: `--username/--password` (only for the
 * registries the command addresses), podman's `REGISTRY_AUTH_FILE`, docker's `config.json`
 * (`--docker-cfg`, `DOCKER_CONFIG`, `~/.docker/config.json`) with `auths`, `identitytoken`,
 * `credHelpers` and `credsStore`, and podman's `$XDG_RUNTIME_DIR/containers/auth.json`.
 * Credentials are looked up once per host and never logged.
 *
 * @module
 */

import { AuthError, SizeMismatchError } from "../errors.ts";
import { credentialKeys, normalizeConfigKey } from "../reference.ts";
import { decodeBase64 } from "../base64.ts";
import { CONFIG_FILE_CAP, readTextFileCapped } from "../files.ts";
import { runHelper } from "./credential_helper.ts";
import { checkCredential } from "./credential_check.ts";

/** How long a `docker-credential-*` helper may take to answer, by default. */
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
  /** How long a credential helper may take, ms (default 30000). */
  helperTimeoutMs?: number;
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
 * import assert from "node:assert/strict";
 * import { CredentialStore } from "./credentials.ts";
 * const store = new CredentialStore({
 *   username: "u", password: "p", flagRegistries: ["127.0.0.1:5000"], noConfig: true,
 * });
 * assert.ok((await store.get("127.0.0.1:5000"))?.username === "u");
 * assert.ok((await store.get("ghcr.io")) === undefined);
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

  /**
   * How a user logs in to `registry`, for error messages: `--username/--password` where those
   * flags go to it (the registry a command addresses), else docker login only.
   */
  loginHint(registry: string): string {
    const flags = this.#opts.flagRegistries;
    if (!flags?.length) return `docker login ${registry}`;
    return flags.includes(registry)
      ? `--username/--password or docker login ${registry}`
      : `docker login ${registry}; --username/--password go to ${flags.join(", ")} only`;
  }

  async #lookup(registry: string): Promise<Credential | undefined> {
    const o = this.#opts;
    if (
      (o.username !== undefined || o.password !== undefined) &&
      (o.flagRegistries ?? []).includes(registry)
    ) {
      const c = { username: o.username ?? "", password: o.password ?? "" };
      checkCredential(c, "--username/--password", registry);
      return c;
    }
    if (o.noConfig) return undefined;
    const keys = credentialKeys(registry);
    const wanted = new Set(keys.map(normalizeConfigKey));
    for (const file of await this.#configFiles()) {
      const helperKey = Object.keys(file.credHelpers).find((k) =>
        wanted.has(normalizeConfigKey(k))
      );
      const helper = (name: string) =>
        runHelper(name, keys[0], file.path, {
          timeoutMs: this.#opts.helperTimeoutMs ?? HELPER_TIMEOUT_MS,
          path: (this.#opts.env ?? ((n: string) => Deno.env.get(n)))("PATH"),
        });
      if (helperKey) return await helper(file.credHelpers[helperKey]);
      const authKey = Object.keys(file.auths).find((k) => wanted.has(normalizeConfigKey(k)));
      if (file.credsStore) {
        const c = await helper(file.credsStore);
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
    text = await readTextFileCapped(path, CONFIG_FILE_CAP, `docker config "${path}"`);
  } catch (e) {
    if (optional && e instanceof Deno.errors.NotFound) return undefined;
    const why = e instanceof SizeMismatchError
      ? `larger than ${CONFIG_FILE_CAP / 1024 / 1024} MiB`
      : (e as Error).message;
    throw new AuthError(`Cannot read docker config "${path}": ${why}`, { host: "" }, { cause: e });
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
      text = new TextDecoder().decode(decodeBase64(entry.auth));
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
  checkCredential(c, `docker config ${path}`, key);
  return Object.keys(c).length > 0 ? c : undefined;
}
