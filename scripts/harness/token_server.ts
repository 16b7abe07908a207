/**
 * A small Bearer token server for the token-auth registry variant (distribution `token.md`): GET
 * with Basic credentials and OAuth2 POST (`grant_type=password` or `refresh_token`), repeated and
 * space-separated `scope` parameters, RS256 JWTs with an `x5c` header whose certificate the
 * registry trusts. The known user gets every action asked for; anonymous callers get `pull` only
 * when allowed; wrong credentials get 401.
 *
 * @module
 */

import { createSign, randomUUID } from "node:crypto";
import { Buffer } from "node:buffer";
import type { SigningMaterial } from "./tls.ts";

/** Options of {@link startTokenServer}. */
export interface TokenServerOptions {
  /** Issuer (`auth.token.issuer`). */
  issuer: string;
  /** Service (`auth.token.service`). */
  service: string;
  /** Valid user. */
  username: string;
  /** Their password. */
  password: string;
  /** Grant pull to anonymous requests. */
  anonymousPull: boolean;
  /** Signing key. */
  signing: SigningMaterial;
  /** Token lifetime in seconds (default 300). */
  expiresIn?: number;
}

/** A running token server. */
export interface TokenServer {
  /** Base URL. */
  url: string;
  /** The realm to configure (`url + /token`). */
  realm: string;
  /** Service name. */
  service: string;
  /** Token requests served. */
  requests: number;
  /** Requests that carried an Authorization header (to check credentials go where they should). */
  log: { method: string; scopes: string[]; user: string | undefined; status: number }[];
  /** Stops it. */
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

/** Starts the token server on a free 127.0.0.1 port. */
export function startTokenServer(o: TokenServerOptions): Promise<TokenServer> {
  const refreshTokens = new Set<string>();
  const ac = new AbortController();
  let ready!: (addr: Deno.NetAddr) => void;
  const listening = new Promise<Deno.NetAddr>((r) => ready = r);
  const state = { requests: 0 };
  const log: TokenServer["log"] = [];

  const sign = (
    sub: string | undefined,
    scopes: string[],
    actionsAllowed: (a: string) => boolean,
  ) => {
    const access: { type: string; name: string; actions: string[] }[] = [];
    for (const scope of scopes) {
      const parts = scope.split(":");
      if (parts.length < 3) continue;
      const type = parts[0];
      const actions = parts[parts.length - 1].split(",").filter(actionsAllowed);
      const name = parts.slice(1, -1).join(":");
      if (actions.length) access.push({ type, name, actions });
    }
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: "JWT", alg: "RS256", x5c: [o.signing.certDerBase64] };
    const claims = {
      iss: o.issuer,
      sub: sub ?? "",
      aud: o.service,
      exp: now + (o.expiresIn ?? 300),
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = createSign("RSA-SHA256").update(input).sign(o.signing.keyPem);
    return `${input}.${b64url(sig)}`;
  };

  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: ac.signal,
    onListen: (a) => ready(a as Deno.NetAddr),
  }, async (req) => {
    state.requests++;
    const url = new URL(req.url);
    let scopes = url.searchParams.getAll("scope").flatMap((s) => s.split(" ")).filter(Boolean);
    let user: string | undefined;
    let authenticated = false;
    let refresh: string | undefined;
    const respond = (status: number, body: unknown) => {
      log.push({ method: req.method, scopes, user, status });
      return Response.json(body, { status });
    };
    if (req.method === "POST") {
      const form = new URLSearchParams(await req.text());
      scopes = (form.get("scope") ?? "").split(" ").filter(Boolean);
      const grant = form.get("grant_type");
      if (grant === "password") {
        user = form.get("username") ?? undefined;
        if (user !== o.username || form.get("password") !== o.password) {
          return respond(401, { errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }] });
        }
        authenticated = true;
        if (form.get("access_type") === "offline") {
          refresh = randomUUID();
          refreshTokens.add(refresh);
        }
      } else if (grant === "refresh_token") {
        if (!refreshTokens.has(form.get("refresh_token") ?? "")) {
          return respond(401, { errors: [{ code: "UNAUTHORIZED", message: "bad refresh token" }] });
        }
        user = o.username;
        authenticated = true;
      } else {
        return respond(400, { error: "unsupported_grant_type" });
      }
    } else if (req.method === "GET") {
      const auth = req.headers.get("authorization");
      if (auth) {
        const m = /^Basic\s+(.+)$/i.exec(auth);
        const decoded = m ? Buffer.from(m[1], "base64").toString() : "";
        const i = decoded.indexOf(":");
        user = decoded.slice(0, i);
        const pass = decoded.slice(i + 1);
        if (user === "<token>" && refreshTokens.has(pass)) {
          authenticated = true;
          user = o.username;
        } else if (user !== o.username || pass !== o.password) {
          return respond(401, { errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }] });
        } else authenticated = true;
      }
    } else {
      return respond(405, {});
    }
    const allowed = authenticated ? () => true : (a: string) => o.anonymousPull && a === "pull";
    const token = sign(user, scopes, allowed);
    return respond(200, {
      token,
      access_token: token,
      expires_in: o.expiresIn ?? 300,
      issued_at: new Date().toISOString(),
      ...(refresh ? { refresh_token: refresh } : {}),
    });
  });

  return listening.then((addr) => {
    const url = `http://127.0.0.1:${addr.port}`;
    let stopped: Promise<void> | undefined;
    return {
      url,
      realm: `${url}/token`,
      service: o.service,
      get requests() {
        return state.requests;
      },
      log,
      stop() {
        stopped ??= (async () => {
          ac.abort();
          await server.finished;
        })();
        return stopped;
      },
    };
  });
}
