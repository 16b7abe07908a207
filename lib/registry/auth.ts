/**
 * Registry authentication (distribution `token.md`, `oauth.md`): the first 401 tells the scheme;
 * Basic sends the credentials; Bearer fetches a token for a set of scopes from the realm (OAuth2
 * `POST` for identity tokens, `GET` with Basic credentials otherwise, the `GET` also as fallback
 * when a `POST` is refused), caches it per scope set until `expires_in`, and reuses any cached token
 * whose scopes cover a request's, so one token serves the HEAD, POST and PUT of a push. A request
 * is retried once after a 401 with the new challenge.
 *
 * @module
 */

import { AuthError } from "../errors.ts";
import { isLoopbackRegistry, registryApiHost } from "../reference.ts";
import { LIMITS, readCapped } from "../content.ts";
import type { Credential, CredentialStore } from "./credentials.ts";
import { encodeBase64 } from "../base64.ts";
import { isHeaderToken } from "./credential_check.ts";
import {
  abortable,
  printable,
  redact,
  type Transport,
  type TransportRequest,
} from "./transport.ts";

/** A parsed `WWW-Authenticate` challenge. */
export interface Challenge {
  /** `basic` or `bearer` (lowercase). */
  scheme: string;
  /** Parameters (realm, service, scope, error), keys lowercase. */
  params: Record<string, string>;
}

/**
 * Parses a `WWW-Authenticate` header value (RFC 7235; one challenge).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseChallenge } from "./auth.ts";
 * const c = parseChallenge('Bearer realm="https://a/token",service="r",scope="repository:x:pull"');
 * assert.ok(c?.scheme === "bearer" && c.params.service === "r");
 * ```
 */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*([A-Za-z][\w-]*)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?\s*/g;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m[2])) !== null) {
    params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : p[3];
    if (p[0] === "") break;
  }
  return { scheme: m[1].toLowerCase(), params };
}

/**
 * The scope for `actions` on repository `name`, e.g. `repository:x/y:pull,push`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { repositoryScope } from "./auth.ts";
 * assert.ok(repositoryScope("x", ["pull", "push"]) === "repository:x:pull,push");
 * ```
 */
export function repositoryScope(name: string, actions: readonly string[]): string {
  return `repository:${name}:${actions.join(",")}`;
}

/** Splits scopes into atoms `type:name:action`; several scopes may share one string, space-separated. */
function atoms(scopes: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const scope of scopes) {
    for (const s of scope.split(" ")) {
      if (!s) continue;
      const i = s.lastIndexOf(":");
      if (i < 0) continue;
      const resource = s.slice(0, i);
      for (const a of s.slice(i + 1).split(",")) if (a) out.add(`${resource}:${a}`);
    }
  }
  return out;
}

/** Joins atoms back into scopes, one per resource; resources with push come first. */
function scopesOf(set: Set<string>): string[] {
  const byResource = new Map<string, string[]>();
  for (const a of set) {
    const i = a.lastIndexOf(":");
    const r = a.slice(0, i);
    const list = byResource.get(r) ?? [];
    list.push(a.slice(i + 1));
    byResource.set(r, list);
  }
  const order = ["pull", "push", "delete", "*"];
  const rank = (x: string) => (order.indexOf(x) + 5) % 5;
  return [...byResource.entries()]
    .sort(([, a], [, b]) => Number(b.includes("push")) - Number(a.includes("push")))
    .map(([r, acts]) => `${r}:${acts.sort((x, y) => rank(x) - rank(y)).join(",")}`);
}

interface Token {
  atoms: Set<string>;
  value: string;
  expiresAt: number;
  /** Order in which tokens were obtained. */
  seq: number;
}

interface HostState {
  challenge?: Challenge;
  tokens: Token[];
}

/** A request plus the scopes it needs (Bearer registries). */
export interface AuthRequest extends TransportRequest {
  /** Registry host (`host[:port]`) the request is for; credentials are looked up by it. */
  registry: string;
  /** Scopes the request needs, e.g. `repository:x:pull,push`. */
  scopes: readonly string[];
  /**
   * More scopes to ask for if a token must be fetched for this request: those the rest of the
   * operation will need (push to the target, pull from every mount source), so that one token
   * serves it whole. They travel with each request of the operation (as oras-go passes scope
   * hints per call); a cached token is reused when it covers {@link scopes} alone.
   */
  scopeHints?: readonly string[];
}

/**
 * Sends requests with the right `Authorization`.
 *
 * @example
 * ```ts ignore
 * import { Authenticator } from "./auth.ts";
 * import { Transport } from "./transport.ts";
 * import { CredentialStore } from "./credentials.ts";
 * const auth = new Authenticator(new Transport(), new CredentialStore());
 * const res = await auth.fetch({
 *   registry: "ghcr.io", method: "GET", url: "https://ghcr.io/v2/o/r/tags/list",
 *   scopes: ["repository:o/r:pull"],
 * });
 * ```
 */
export class Authenticator {
  readonly #transport: Transport;
  readonly #credentials: CredentialStore;
  readonly #hosts = new Map<string, HostState>();
  readonly #inflight = new Map<string, Promise<Token>>();
  #seq = 0;
  /** Token requests made (for round-trip accounting). */
  tokenRequests = 0;

  /** Creates an authenticator over a transport and a credential store. */
  constructor(transport: Transport, credentials: CredentialStore) {
    this.#transport = transport;
    this.#credentials = credentials;
  }

  /** The transport requests go through. */
  get transport(): Transport {
    return this.#transport;
  }

  /**
   * Sends `req`, authorising it from what is known of the host, and once more after a 401 with
   * the challenge it carried. Throws {@link AuthError} when the registry still refuses.
   */
  async fetch(req: AuthRequest): Promise<Response> {
    // Concurrent first requests to a host are not held back to learn its challenge one at a
    // time: that would cost a round trip on every registry to save a few 401s on some. Their
    // token requests are shared instead (see #authorization).
    if (!this.#atRegistry(req)) return await this.#fetchElsewhere(req);
    return await this.#fetch(req, this.#state(req.registry));
  }

  /**
   * Whether `req` goes to the registry's own origin (scheme, host and port, as the transport will
   * talk to them). An upload `Location` may point anywhere: credentials are scoped to the registry,
   * as docker and containerd scope them per host.
   */
  #atRegistry(req: AuthRequest): boolean {
    const own = new URL(this.#transport.displayUrl(`https://${registryApiHost(req.registry)}/`));
    return new URL(this.#transport.displayUrl(req.url)).origin === own.origin;
  }

  /**
   * Sends a request for `req.registry` that goes to another origin (an upload URL the registry
   * handed out) without any credential; a 401 there is an error, never answered with them.
   */
  async #fetchElsewhere(req: AuthRequest): Promise<Response> {
    const headers = new Headers(req.headers);
    headers.delete("authorization");
    const res = await this.#transport.fetch({ ...req, headers });
    if (res.status !== 401) return res;
    await res.body?.cancel().catch(() => {});
    const where = new URL(this.#transport.displayUrl(req.url));
    throw new AuthError(
      `${req.method} ${where.origin}${where.pathname}: ${req.registry} sent us to another origin, ` +
        `which asks for credentials: those of ${req.registry} are not sent there`,
      { host: req.registry, status: 401 },
    );
  }

  async #fetch(req: AuthRequest, state: HostState): Promise<Response> {
    const needed = atoms(req.scopes);
    const headers = new Headers(req.headers);
    const hints = atoms(req.scopeHints ?? []);
    const first = await this.#authorization(req, state, needed, hints);
    if (first) headers.set("authorization", first);
    const sentWith = this.#seq;
    const res = await this.#transport.fetch({ ...req, headers });
    if (res.status !== 401) return res;
    const challenge = parseChallenge(res.headers.get("www-authenticate"));
    await res.body?.cancel().catch(() => {});
    if (answeredElsewhere(req.url, res)) {
      // A redirect took the request to another host (blob storage) and that host asks for
      // credentials: the registry's are not for it, nor for a realm it names (containerd's
      // CVE-2020-15157 sent them there).
      throw new AuthError(
        `${req.method} ${this.#transport.displayUrl(req.url)}: redirected to ${
          new URL(res.url).host
        }, which asks for credentials: those of ${req.registry} are not sent there`,
        { host: req.registry, status: 401 },
      );
    }
    if (!challenge || (challenge.scheme !== "basic" && challenge.scheme !== "bearer")) {
      throw await this.#unauthorized(req, res.status, challenge);
    }
    if (req.body instanceof ReadableStream) {
      throw new AuthError(
        `${req.method} ${
          this.#transport.displayUrl(req.url)
        }: 401 Unauthorized in the middle of a streamed upload that cannot be sent again`,
        { host: req.registry, status: 401 },
      );
    }
    state.challenge = challenge;
    for (const a of atoms(challenge.params.scope ? [challenge.params.scope] : [])) needed.add(a);
    // A token obtained since this request left (by a concurrent one) is as good as a new one.
    const second = await this.#authorization(req, state, needed, hints, sentWith);
    if (!second) throw await this.#unauthorized(req, 401, challenge);
    headers.set("authorization", second);
    const again = await this.#transport.fetch({ ...req, headers });
    if (again.status === 401) {
      const c = parseChallenge(again.headers.get("www-authenticate"));
      await again.body?.cancel().catch(() => {});
      throw await this.#unauthorized(req, 401, c ?? challenge);
    }
    return again;
  }

  #state(registry: string): HostState {
    let s = this.#hosts.get(registry);
    if (!s) {
      s = { tokens: [] };
      this.#hosts.set(registry, s);
    }
    return s;
  }

  async #authorization(
    req: AuthRequest,
    state: HostState,
    needed: Set<string>,
    hints: Set<string>,
    newerThan?: number,
  ): Promise<string | undefined> {
    const c = state.challenge;
    if (!c) return undefined;
    const registry = req.registry;
    const cred = await this.#credentials.get(registry);
    if (c.scheme === "basic") {
      if (!cred?.username && !cred?.password) return undefined;
      return basic(cred.username, cred.password);
    }
    if (cred?.registryToken) return `Bearer ${cred.registryToken}`;
    const now = Date.now();
    const hit = state.tokens.find((t) =>
      t.expiresAt > now && (newerThan === undefined || t.seq > newerThan) &&
      [...needed].every((a) => t.atoms.has(a))
    );
    if (hit) return `Bearer ${hit.value}`;
    const want = new Set([...needed, ...hints]);
    const key = `${registry} ${[...want].sort().join(" ")}`;
    let p = this.#inflight.get(key);
    if (!p) {
      // Shared by every request that wants the same scopes, so it runs on no request's signal
      // (the transport's timeouts bound it); each waiter stops waiting when its own aborts.
      p = this.#fetchToken(registry, c, want, cred).finally(() => this.#inflight.delete(key));
      p.catch(() => {});
      this.#inflight.set(key, p);
    }
    const token = await abortable(p, req.signal, () => {});
    if (!state.tokens.includes(token)) {
      token.seq = ++this.#seq;
      state.tokens = [token, ...state.tokens.filter((t) => t.expiresAt > now)];
    }
    return `Bearer ${token.value}`;
  }

  async #fetchToken(
    registry: string,
    c: Challenge,
    want: Set<string>,
    cred: Credential | undefined,
  ): Promise<Token> {
    const realmUrl = checkRealm(registry, c, cred);
    const res = await this.#requestToken(realmUrl, c, scopesOf(want), cred);
    const body = await readCapped(res.body, LIMITS.token, "token response", {
      deadlineMs: this.#transport.documentDeadlineMs,
    });
    const server = `token server ${realmUrl.host} for ${registry}`;
    if (res.status === 401 || res.status === 403) {
      throw new AuthError(
        `${res.status} ${res.status === 401 ? "Unauthorized" : "Forbidden"} from ${server}: ` +
          `${cred ? "check" : "log in with"} ${this.#credentials.loginHint(registry)}`,
        { host: registry, status: res.status },
      );
    }
    if (!res.ok) {
      throw new AuthError(`Token server ${realmUrl.host} for ${registry} answered ${res.status}`, {
        host: registry,
        status: res.status,
      });
    }
    return {
      ...parseToken(body, `Token server ${realmUrl.host} for ${registry}`, registry),
      atoms: want,
    };
  }

  /**
   * Asks the realm for a token: the OAuth2 refresh grant (`POST`) for an identity token, else
   * (or when the `POST` is refused) a `GET` with Basic credentials when there are any.
   */
  async #requestToken(
    realmUrl: URL,
    c: Challenge,
    scopes: string[],
    cred: Credential | undefined,
  ): Promise<Response> {
    if (cred?.identityToken) {
      const res = await this.#postToken(realmUrl, c, scopes, {
        grant_type: "refresh_token",
        refresh_token: cred.identityToken,
      });
      // GCR answers 404 and ACR 400 to the OAuth2 POST: those fall back to GET.
      if (res.status !== 404 && res.status !== 400 && res.status !== 405) return res;
      await res.body?.cancel().catch(() => {});
    }
    const url = new URL(realmUrl);
    if (c.params.service) url.searchParams.set("service", c.params.service);
    for (const s of scopes) url.searchParams.append("scope", s);
    const headers = new Headers();
    const user = cred?.identityToken ? "<token>" : cred?.username;
    const pass = cred?.identityToken ?? cred?.password;
    if (user !== undefined || pass !== undefined) headers.set("authorization", basic(user, pass));
    this.tokenRequests++;
    return await this.#transport.fetch({ method: "GET", url, headers });
  }

  #postToken(
    realm: URL,
    c: Challenge,
    scopes: string[],
    grant: Record<string, string>,
  ): Promise<Response> {
    const form = new URLSearchParams({ ...grant, client_id: "manifest-tool" });
    if (c.params.service) form.set("service", c.params.service);
    if (scopes.length) form.set("scope", scopes.join(" "));
    this.tokenRequests++;
    return this.#transport.fetch({
      method: "POST",
      url: realm,
      idempotent: true,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new TextEncoder().encode(form.toString()),
    });
  }

  async #unauthorized(req: AuthRequest, status: number, challenge?: Challenge): Promise<Error> {
    const error = challenge?.params.error;
    if (error === "insufficient_scope") {
      const cred = await this.#credentials.get(req.registry).catch(() => undefined);
      const why = cred?.username || cred?.password || cred?.identityToken || cred?.registryToken
        ? "the credentials may not access this repository"
        : `no credentials for ${req.registry} were found (${
          this.#credentials.loginHint(req.registry)
        })`;
      return new AuthError(
        `${req.method} ${
          this.#transport.displayUrl(req.url)
        }: 401 Unauthorized from ${req.registry}: insufficient scope (${
          printable(challenge?.params.scope ?? "unknown", 200)
        }): ${why}`,
        { host: req.registry, status },
      );
    }
    return new AuthError(
      `${req.method} ${
        this.#transport.displayUrl(req.url)
      }: ${status} Unauthorized from ${req.registry}: check ${
        this.#credentials.loginHint(req.registry)
      }`,
      { host: req.registry, status },
    );
  }
}

/**
 * The realm of a Bearer challenge, refused when it is missing, not an HTTP URL (a registry must not
 * point us at a local file), or plain HTTP to another host while there are credentials to send;
 * user and password written into it are dropped.
 */
function checkRealm(registry: string, c: Challenge, cred: Credential | undefined): URL {
  const realm = c.params.realm;
  const fail = (why: string) => new AuthError(`${registry} ${why}`, { host: registry });
  if (!realm) throw fail("sent a Bearer challenge without a realm");
  let realmUrl: URL;
  try {
    realmUrl = new URL(realm);
  } catch {
    throw fail(`sent a Bearer challenge with an invalid realm "${printable(realm, 200)}"`);
  }
  if (realmUrl.protocol !== "https:" && realmUrl.protocol !== "http:") {
    throw fail(
      `sent a Bearer challenge with a realm that is not an HTTP URL: "${redact(realmUrl)}"`,
    );
  }
  if (realmUrl.protocol === "http:" && cred && !isLoopbackRegistry(realmUrl.host)) {
    // Credentials in clear text to a host the registry named: refuse the downgrade.
    throw fail(
      `asks for credentials at ${realmUrl.origin} over plain HTTP: refusing to send them`,
    );
  }
  // Credentials a registry writes into the realm's URL are not ours to send: only the user's go.
  realmUrl.username = "";
  realmUrl.password = "";
  return realmUrl;
}

/**
 * The token in a token server's answer (`token`, or OAuth2's `access_token`) and its expiry
 * (distribution token.md: `expires_in` defaults to 60 s; a margin is kept for clock and latency).
 * A token that could not go into a header as is is refused, naming the server, never quoted.
 */
function parseToken(body: Uint8Array, server: string, host: string): Omit<Token, "atoms"> {
  let doc: { token?: unknown; access_token?: unknown; expires_in?: unknown };
  try {
    doc = JSON.parse(new TextDecoder().decode(body));
  } catch {
    throw new AuthError(`${server} sent a response that is not JSON`, { host });
  }
  const value = typeof doc?.token === "string" && doc.token
    ? doc.token
    : typeof doc?.access_token === "string" && doc.access_token
    ? doc.access_token
    : undefined;
  if (!value) throw new AuthError(`${server} sent no token`, { host });
  if (!isHeaderToken(value)) {
    throw new AuthError(`${server} sent a token that is not a valid header value`, { host });
  }
  const expiresIn = typeof doc.expires_in === "number" && doc.expires_in > 0 ? doc.expires_in : 60;
  return { value, expiresAt: Date.now() + Math.max(0, expiresIn - 10) * 1000, seq: 0 };
}

/** The `Authorization` value of Basic credentials (RFC 7617, UTF-8). */
function basic(user: string | undefined, pass: string | undefined): string {
  return "Basic " + encodeBase64(new TextEncoder().encode(`${user ?? ""}:${pass ?? ""}`));
}

/** Whether `res` came from another host than `url` (the transport followed a redirect there). */
function answeredElsewhere(url: string | URL, res: Response): boolean {
  if (!res.url) return false;
  try {
    return new URL(res.url).host !== new URL(url).host;
  } catch {
    return false;
  }
}
