/**
 * A small Bearer token server for the token-auth registry variant (distribution's `token.md` and
 * `oauth.md`): `GET` with Basic credentials and OAuth2 `POST` (`grant_type=password` or
 * `refresh_token`), repeated and space-separated `scope` parameters, RS256 JWTs whose `x5c` header
 * carries the certificate the registry trusts. The known user gets every action it asks for;
 * anonymous callers get `pull` only when allowed, else a token with an empty access list (so the
 * registry answers `insufficient_scope`); wrong credentials get 401.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createSign, randomUUID } from "node:crypto";
import type { SigningMaterial } from "./tls.ts";

/** Options of {@link startTokenServer}. */
export interface TokenServerOptions {
  /** Issuer (`auth.token.issuer` of the registry). */
  issuer: string;
  /** Service (`auth.token.service`), written into `aud`. */
  service: string;
  /** The one valid user. */
  username: string;
  /** Their password. */
  password: string;
  /** Grant `pull` to anonymous requests. */
  anonymousPull: boolean;
  /** Signing key and certificate. */
  signing: SigningMaterial;
  /** Token lifetime in seconds (default 300). */
  expiresIn?: number;
}

/** One token request as the token server saw it. */
export interface TokenRequest {
  /** `GET` or `POST`. */
  method: string;
  /** Scopes asked for, one per entry. */
  scopes: string[];
  /** The user named by the credentials, if any (the real user for a refresh token). */
  user: string | undefined;
  /** HTTP status answered. */
  status: number;
  /** `grant_type` of a `POST`. */
  grant?: string;
}

/** A running token server. */
export interface TokenServer {
  /** Base URL, `http://127.0.0.1:PORT`. */
  url: string;
  /** The realm the registry sends clients to (`url + "/token"`). */
  realm: string;
  /** Service name the registry names in its challenges. */
  service: string;
  /** Count of requests served at the realm (tests assert round trips with it). */
  readonly requests: number;
  /** Every request served at the realm, in order. */
  log: TokenRequest[];
  /** Stops the server; idempotent. */
  stop(): Promise<void>;
}

interface Access {
  type: string;
  name: string;
  actions: string[];
}

const b64url = (b: Uint8Array | string) => Buffer.from(b).toString("base64url");

/** Splits `repository:name:pull,push` scopes; the name may itself hold colons (a port). */
function parseScopes(scopes: string[]): Access[] {
  const out: Access[] = [];
  for (const scope of scopes) {
    const first = scope.indexOf(":");
    const last = scope.lastIndexOf(":");
    if (first < 0 || last === first) continue;
    const actions = scope.slice(last + 1).split(",").filter(Boolean);
    out.push({ type: scope.slice(0, first), name: scope.slice(first + 1, last), actions });
  }
  return out;
}

/** Decodes `Authorization: Basic …` into user and password, or undefined when malformed. */
function basicCredentials(header: string): [string, string] | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], "base64").toString();
  const i = decoded.indexOf(":");
  return i < 0 ? undefined : [decoded.slice(0, i), decoded.slice(i + 1)];
}

/**
 * Starts a token server on a free 127.0.0.1 port.
 *
 * @example
 * ```ts ignore
 * const ts = await startTokenServer({ issuer, service, username, password, anonymousPull, signing });
 * try {
 *   // configure the registry's auth.token.realm as ts.realm
 * } finally {
 *   await ts.stop();
 * }
 * ```
 */
export function startTokenServer(o: TokenServerOptions): Promise<TokenServer> {
  const expiresIn = o.expiresIn ?? 300;
  const refreshTokens = new Set<string>();
  const log: TokenRequest[] = [];
  const ac = new AbortController();
  const { promise: listening, resolve: ready } = Promise.withResolvers<Deno.NetAddr>();

  const sign = (sub: string, access: Access[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: "JWT", alg: "RS256", x5c: [o.signing.certDerBase64] };
    const claims = {
      iss: o.issuer,
      sub,
      // A string: distribution 2.8 calls an array audience a malformed token.
      aud: o.service,
      exp: now + expiresIn,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    return `${input}.${b64url(createSign("RSA-SHA256").update(input).sign(o.signing.keyPem))}`;
  };

  const handle = async (req: Request): Promise<Response> => {
    const entry: TokenRequest = { method: req.method, scopes: [], user: undefined, status: 0 };
    log.push(entry);
    const answer = (status: number, body: unknown, headers?: HeadersInit) => {
      entry.status = status;
      return Response.json(body, { status, headers });
    };
    const unauthorized = (message: string) =>
      answer(401, { errors: [{ code: "UNAUTHORIZED", message }] }, {
        "www-authenticate": 'Basic realm="harness token server"',
      });

    let params: URLSearchParams;
    let authenticated = false;
    let offline = false;
    if (req.method === "GET") {
      params = new URL(req.url).searchParams;
      offline = params.get("offline_token") === "true";
      const header = req.headers.get("authorization");
      if (header) {
        const creds = basicCredentials(header);
        if (!creds) return unauthorized("malformed Authorization header");
        const [user, pass] = creds;
        entry.user = user;
        if (user === "<token>" && refreshTokens.has(pass)) {
          // docker sends an identity token as Basic `<token>:<refresh token>`.
          entry.user = o.username;
          offline = false;
        } else if (user !== o.username || pass !== o.password) {
          return unauthorized("bad credentials");
        }
        authenticated = true;
      } else {
        offline = false; // refresh tokens are for users, not anonymous callers
      }
    } else if (req.method === "POST") {
      params = new URLSearchParams(await req.text());
      entry.grant = params.get("grant_type") ?? undefined;
      if (entry.grant === "password") {
        entry.user = params.get("username") ?? undefined;
        if (entry.user !== o.username || params.get("password") !== o.password) {
          return unauthorized("bad credentials");
        }
        offline = params.get("access_type") === "offline" ||
          params.get("offline_token") === "true";
      } else if (entry.grant === "refresh_token") {
        const refresh = params.get("refresh_token") ?? "";
        if (!refreshTokens.has(refresh)) return unauthorized("unknown refresh token");
        entry.user = o.username;
      } else {
        entry.scopes = params.getAll("scope").flatMap((s) => s.split(" ")).filter(Boolean);
        return answer(400, {
          error: "unsupported_grant_type",
          error_description: `grant_type ${JSON.stringify(entry.grant ?? "")} is not supported`,
        });
      }
      authenticated = true;
    } else {
      return answer(405, { errors: [{ code: "UNSUPPORTED", message: "GET or POST" }] }, {
        allow: "GET, POST",
      });
    }

    entry.scopes = params.getAll("scope").flatMap((s) => s.split(" ")).filter(Boolean);
    const access = parseScopes(entry.scopes)
      .map((a) => ({
        ...a,
        actions: authenticated
          ? a.actions
          : a.actions.filter((x) => o.anonymousPull && x === "pull"),
      }))
      .filter((a) => a.actions.length > 0);
    const token = sign(entry.user ?? "", access);
    let refresh: string | undefined;
    if (offline) {
      refresh = randomUUID();
      refreshTokens.add(refresh);
    } else if (entry.grant === "refresh_token") refresh = params.get("refresh_token")!;
    return answer(200, {
      token,
      access_token: token,
      expires_in: expiresIn,
      issued_at: new Date().toISOString(),
      ...(refresh ? { refresh_token: refresh } : {}),
    });
  };

  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: ac.signal,
    onListen: (addr) => ready(addr as Deno.NetAddr),
  }, (req) => {
    if (new URL(req.url).pathname !== "/token") {
      return Response.json({ errors: [{ code: "NOT_FOUND" }] }, { status: 404 });
    }
    return handle(req);
  });

  return listening.then((addr) => {
    const url = `http://127.0.0.1:${addr.port}`;
    let stopped: Promise<void> | undefined;
    return {
      url,
      realm: `${url}/token`,
      service: o.service,
      get requests() {
        return log.length;
      },
      log,
      stop() {
        stopped ??= (() => {
          ac.abort();
          return server.finished;
        })();
        return stopped;
      },
    };
  });
}
