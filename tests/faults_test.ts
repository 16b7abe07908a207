// Faults a real registry cannot produce, injected by the harness proxy, for every operation of the
// CLI: each either succeeds (after bounded retries, within a time bound) or fails with one clear
// line, and in every case writes no index or tag whose children are missing, accepts no content
// that does not match its digest, prints no credential, sends none to another host, prints no
// stack trace, and exits 0 or 1. The matrix prints its summary (faults x operations) at the end.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import {
  type Fault,
  type FaultRule,
  pushFixtures,
  type Recorder,
  type RunningRegistry,
  startProxy,
  startRecorder,
  startRegistry,
} from "../scripts/harness/mod.ts";
import { type CliResult, runCli } from "./_helpers/cli.ts";
import { RegistryClient } from "../lib/registry/client.ts";
import { isTimeout } from "../lib/registry/transport.ts";
import { AuthError, DigestMismatchError, RegistryError } from "../lib/errors.ts";
import { digestOf } from "../lib/digest.ts";

const ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");
const sha256 = (b: Uint8Array) => "sha256:" + createHash("sha256").update(b).digest("hex");
/** --timeout of every run: long enough for a loaded machine, short enough for the stalls. */
const TIMEOUT_S = 4;
/** A cell (one CLI operation under one fault) must finish within this. */
const CELL_BOUND_MS = 20_000;

/** Reads a harness registry with plain fetch (and a token of its own): independent of lib/. */
class Raw {
  readonly #reg: RunningRegistry;
  readonly #tokens = new Map<string, string>();
  constructor(reg: RunningRegistry) {
    this.#reg = reg;
  }
  async #headers(repo: string): Promise<Headers> {
    const h = new Headers({ accept: ACCEPT });
    const ts = this.#reg.tokenServer;
    if (!ts) return h;
    let t = this.#tokens.get(repo);
    if (!t) {
      const u = new URL(ts.realm);
      u.searchParams.set("service", ts.service);
      u.searchParams.set("scope", `repository:${repo}:pull`);
      const basic = Buffer.from(`${this.#reg.username}:${this.#reg.password}`).toString("base64");
      const res = await fetch(u, { headers: { authorization: `Basic ${basic}` } });
      t = (await res.json()).token as string;
      this.#tokens.set(repo, t);
    }
    h.set("authorization", `Bearer ${t}`);
    return h;
  }
  async manifest(repo: string, ref: string): Promise<{ status: number; bytes: Uint8Array }> {
    const res = await fetch(`${this.#reg.url}/v2/${repo}/manifests/${ref}`, {
      headers: await this.#headers(repo),
    });
    return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) };
  }
  async blobStatus(repo: string, digest: string): Promise<number> {
    const res = await fetch(`${this.#reg.url}/v2/${repo}/blobs/${digest}`, {
      method: "HEAD",
      headers: await this.#headers(repo),
    });
    await res.body?.cancel();
    return res.status;
  }
  /** The blob as the registry serves it (for the storage a redirect points to). */
  async blob(repo: string, digest: string): Promise<Response> {
    return await fetch(`${this.#reg.url}/v2/${repo}/blobs/${digest}`, {
      headers: await this.#headers(repo),
    });
  }
}

/**
 * Checks what a push left at `repo:tag`: nothing (404) after a failure; after a success, an index
 * whose every child, and every blob of every child, is in `repo` with the right digest.
 */
async function checkTarget(
  raw: Raw,
  repo: string,
  tag: string,
  succeeded: boolean,
  label: string,
): Promise<string | undefined> {
  const top = await raw.manifest(repo, tag);
  if (!succeeded) {
    assert.equal(top.status, 404, `${label}: a failed push must leave ${repo}:${tag} unwritten`);
    return undefined;
  }
  assert.equal(top.status, 200, `${label}: ${repo}:${tag} written`);
  const index = JSON.parse(new TextDecoder().decode(top.bytes)) as {
    manifests: { digest: string }[];
  };
  assert.ok(index.manifests.length > 0, label);
  for (const child of index.manifests) {
    const m = await raw.manifest(repo, child.digest);
    assert.equal(m.status, 200, `${label}: child ${child.digest} is in ${repo}`);
    assert.equal(sha256(m.bytes), child.digest, `${label}: child bytes match their digest`);
    const doc = JSON.parse(new TextDecoder().decode(m.bytes)) as {
      config: { digest: string };
      layers: { digest: string }[];
    };
    for (const b of [doc.config, ...doc.layers]) {
      assert.equal(await raw.blobStatus(repo, b.digest), 200, `${label}: blob ${b.digest}`);
    }
  }
  return sha256(top.bytes);
}

/** What one operation needs to run against the proxies of one cell. */
interface CellContext {
  id: string;
  /** The proxy in front of the token-auth registry (target, same-registry sources). */
  reg: string;
  /** The proxy in front of the anonymous registry (cross-registry sources). */
  other: string;
  /** Global flags: --plain-http, --timeout, the target's credentials. */
  flags: string[];
  /** A spec file written for this cell. */
  spec(text: string): Promise<string>;
  /** A private HOME/MANIFEST_TOOL_HOME. */
  home: string;
}

interface Operation {
  name: string;
  /** Runs it; returns the CLI results (last one decides) and the target it writes, if any. */
  run(c: CellContext): Promise<{ results: CliResult[]; target?: { repo: string; tag: string } }>;
}

const OPERATIONS: Operation[] = [
  {
    name: "inspect",
    async run(c) {
      return { results: [await runCli([...c.flags, "inspect", `${c.reg}/m/app:multi`])] };
    },
  },
  {
    name: "push same-repo",
    async run(c) {
      // No platforms given: the configs are read, so blob downloads happen too.
      const spec = await c.spec(`image: ${c.reg}/m/app:s${c.id}
manifests:
  - image: ${c.reg}/m/app:linux-amd64
  - image: ${c.reg}/m/app:linux-arm-v7
`);
      return {
        results: [await runCli([...c.flags, "push", "from-spec", spec])],
        target: { repo: "m/app", tag: `s${c.id}` },
      };
    },
  },
  {
    name: "push cross-repo",
    async run(c) {
      const spec = await c.spec(`image: ${c.reg}/m/x${c.id}:v1
tags: [latest]
manifests:
  - image: ${c.reg}/m/app:linux-amd64
  - image: ${c.reg}/m/app:linux-s390x
`);
      return {
        results: [await runCli([...c.flags, "push", "--type", "oci", "from-spec", spec])],
        target: { repo: `m/x${c.id}`, tag: "v1" },
      };
    },
  },
  {
    name: "push cross-registry",
    async run(c) {
      // Platforms given: nothing is read before the streamed copies, so the faults hit those.
      const spec = await c.spec(`image: ${c.reg}/m/c${c.id}:v1
manifests:
  - image: ${c.other}/m/src:linux-amd64
    platform: {os: linux, architecture: amd64}
  - image: ${c.other}/m/src:linux-arm64-v8
    platform: {os: linux, architecture: arm64, variant: v8}
`);
      return {
        results: [await runCli([...c.flags, "push", "from-spec", spec])],
        target: { repo: `m/c${c.id}`, tag: "v1" },
      };
    },
  },
  {
    name: "manifest create+push",
    async run(c) {
      const env = { HOME: c.home, MANIFEST_TOOL_HOME: `${c.home}/lists` };
      const list = `${c.reg}/m/d${c.id}:v1`;
      const created = await runCli([
        ...c.flags,
        "manifest",
        "create",
        list,
        `${c.reg}/m/app:linux-amd64`,
        `${c.reg}/m/app:linux-ppc64le`,
      ], { env });
      const target = { repo: `m/d${c.id}`, tag: "v1" };
      if (created.code !== 0) return { results: [created], target };
      const pushed = await runCli([...c.flags, "manifest", "push", list], { env });
      return { results: [created, pushed], target };
    },
  },
];

/** Which operations a fault is expected to fail, and how; the others must succeed. */
interface FaultCase {
  name: string;
  /** Rules for the proxy in front of the token registry. */
  reg?: FaultRule[];
  /** Rules for the proxy in front of the anonymous (cross-registry source) registry. */
  other?: FaultRule[];
  /** Failure line expected, per operation (a RegExp for all, or per name). */
  fails?: RegExp | Record<string, RegExp>;
  /** When given, an operation under this fault must finish at least this late (a wait honoured). */
  atLeastMs?: number;
}

/** A 401 like the registry's own, with the scope the request path needs (an expired token). */
function expiredToken(reg: RunningRegistry): Fault {
  return {
    type: "respond",
    respond(request) {
      const repo = /^\/v2\/(.+?)\/(?:manifests|blobs)\//.exec(new URL(request.url).pathname)?.[1];
      const ts = reg.tokenServer!;
      return Response.json(
        { errors: [{ code: "UNAUTHORIZED", message: "token expired" }] },
        {
          status: 401,
          headers: {
            "www-authenticate":
              `Bearer realm="${ts.realm}",service="${ts.service}",scope="repository:${repo}:pull,push",error="invalid_token"`,
          },
        },
      );
    },
  };
}

function faultCases(
  reg: RunningRegistry,
  storage: Recorder,
  hostileStorage: Recorder,
  elsewhereRealm: Recorder,
): FaultCase[] {
  const GET = ["GET"];
  const allPushes = (re: RegExp) => ({
    "push same-repo": re,
    "push cross-repo": re,
    "push cross-registry": re,
    "manifest create+push": re,
  });
  return [
    {
      name: "latency 150 ms on every request",
      reg: [{ fault: { type: "latency", ms: 150 } }],
      other: [{ fault: { type: "latency", ms: 150 } }],
    },
    {
      name: "503 once per path (reads, mounts, manifest PUTs)",
      reg: [{
        method: ["GET", "HEAD", "POST", "PUT"],
        kind: ["manifest", "blob", "upload"],
        when: (r) => !(r.method === "PUT" && /\/blobs\/uploads\//.test(r.url)),
        perPath: true,
        times: 1,
        fault: { type: "status", status: 503 },
      }],
      other: [{
        method: GET,
        kind: ["manifest", "blob"],
        perPath: true,
        times: 1,
        fault: { type: "status", status: 503 },
      }],
    },
    {
      name: "502 once on the first blob upload PUT",
      reg: [{
        method: "PUT",
        kind: "upload",
        times: 1,
        fault: { type: "status", status: 502 },
      }],
    },
    {
      name: "503 always on manifest GETs",
      reg: [{ method: GET, kind: "manifest", fault: { type: "status", status: 503 } }],
      other: [{ method: GET, kind: "manifest", fault: { type: "status", status: 503 } }],
      fails: /503 Service Unavailable/,
    },
    {
      name: "500 always on manifest GETs",
      reg: [{ method: GET, kind: "manifest", fault: { type: "status", status: 500 } }],
      other: [{ method: GET, kind: "manifest", fault: { type: "status", status: 500 } }],
      fails: /500 Internal Server Error: UNKNOWN \(injected 500\)/,
    },
    {
      name: "an error body with terminal escapes and 3 KB of text",
      reg: [{
        method: GET,
        kind: "manifest",
        fault: {
          type: "status",
          status: 404,
          body: JSON.stringify({
            errors: [{
              code: "MANIFEST_UNKNOWN\u001b[2J",
              message: `\u001b]0;owned\u0007\u202e ${"x".repeat(3000)}`,
            }],
          }),
        },
      }],
      other: [{
        method: GET,
        kind: "manifest",
        fault: {
          type: "status",
          status: 404,
          body: JSON.stringify({
            errors: [{ code: "X\u001b[2J", message: "\u001b]0;owned\u0007" }],
          }),
        },
      }],
      fails: /404 Not Found: (MANIFEST_UNKNOWN|X)\\u\{1b\}\[2J \(\\u\{1b\}\]0;owned\\u\{7\}/,
    },
    {
      name: "500 on the index PUT (by tag)",
      reg: [{
        method: "PUT",
        kind: "manifest",
        path: /\/manifests\/(?!sha256:)/,
        fault: { type: "status", status: 500 },
      }],
      fails: allPushes(/PUT .*\/manifests\/.*: 500 Internal Server Error/),
    },
    {
      name: "429 Retry-After: 1 once per manifest GET",
      reg: [{
        method: GET,
        kind: "manifest",
        perPath: true,
        times: 1,
        fault: { type: "status", status: 429, retryAfter: "1" },
      }],
      other: [{
        method: GET,
        kind: "manifest",
        perPath: true,
        times: 1,
        fault: { type: "status", status: 429, retryAfter: "1" },
      }],
      atLeastMs: 1000,
    },
    {
      name: "reset mid-body once per GET",
      reg: [{
        method: GET,
        kind: ["manifest", "blob"],
        perPath: true,
        times: 1,
        fault: { type: "reset" },
      }],
      other: [{
        method: GET,
        kind: ["manifest", "blob"],
        perPath: true,
        times: 1,
        fault: { type: "reset" },
      }],
    },
    {
      name: "reset mid-body on every blob GET",
      reg: [{ method: GET, kind: "blob", fault: { type: "reset" } }],
      other: [{ method: GET, kind: "blob", fault: { type: "reset" } }],
      fails: /connection lost while reading the response/,
    },
    {
      name: "truncated body (Content-Length kept) once per GET",
      reg: [{
        method: GET,
        kind: ["manifest", "blob"],
        perPath: true,
        times: 1,
        fault: { type: "truncate" },
      }],
      other: [{
        method: GET,
        kind: ["manifest", "blob"],
        perPath: true,
        times: 1,
        fault: { type: "truncate" },
      }],
    },
    {
      name: "short body that looks complete, every blob",
      reg: [{ method: GET, kind: "blob", fault: { type: "truncate", keepLength: false } }],
      other: [{ method: GET, kind: "blob", fault: { type: "truncate", keepLength: false } }],
      fails: /Size mismatch for blob .*: expected \d+ bytes, got \d+/,
    },
    {
      name: "stall before the headers of manifest GETs",
      reg: [{ method: GET, kind: "manifest", fault: { type: "stall" } }],
      other: [{ method: GET, kind: "manifest", fault: { type: "stall" } }],
      fails: new RegExp(`GET .*/manifests/.*: no response within ${TIMEOUT_S}000 ms`),
    },
    {
      name: "stall in the middle of blob bodies",
      reg: [{ method: GET, kind: "blob", fault: { type: "stall", afterBytes: 10 } }],
      other: [{ method: GET, kind: "blob", fault: { type: "stall", afterBytes: 10 } }],
      fails: new RegExp(`GET .*/blobs/sha256:[0-9a-f]{64}: no data for ${TIMEOUT_S}000 ms`),
    },
    {
      name: "stall before the headers of the index PUT",
      reg: [{
        method: "PUT",
        kind: "manifest",
        path: /\/manifests\/(?!sha256:)/,
        fault: { type: "stall" },
      }],
      fails: allPushes(new RegExp(`PUT .*/manifests/\\w+: no response within ${TIMEOUT_S}000 ms`)),
    },
    {
      name: "401 (expired token) once on the first manifest PUT",
      reg: [{ method: "PUT", kind: "manifest", times: 1, fault: expiredToken(reg) }],
    },
    {
      name: "401 (expired token) once on the first upload POST and PUT",
      reg: [
        { method: "POST", kind: "upload", times: 1, fault: expiredToken(reg) },
        { method: "PUT", kind: "upload", times: 1, fault: expiredToken(reg) },
      ],
    },
    {
      name: "manifests whose bytes do not match their digest",
      reg: [{ method: GET, kind: "manifest", fault: { type: "tamper" } }],
      other: [{ method: GET, kind: "manifest", fault: { type: "tamper" } }],
      fails:
        /Digest mismatch for manifest .*: expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}/,
    },
    {
      name: "blobs whose bytes do not match their digest",
      reg: [{ method: GET, kind: "blob", fault: { type: "tamper" } }],
      other: [{ method: GET, kind: "blob", fault: { type: "tamper" } }],
      fails: /Digest mismatch for blob .*: expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}/,
    },
    {
      name: "a manifest over the 4 MiB cap",
      reg: [{ method: GET, kind: "manifest", fault: { type: "oversize" } }],
      other: [{ method: GET, kind: "manifest", fault: { type: "oversize" } }],
      fails: /manifest .* is larger than the 4 MiB \(4194304 bytes\) cap/,
    },
    {
      name: "blob downloads redirected to another origin",
      reg: [{ method: GET, kind: "blob", fault: { type: "redirect", to: storage.url } }],
      other: [{ method: GET, kind: "blob", fault: { type: "redirect", to: storage.url } }],
    },
    {
      name: "redirected storage asks for credentials",
      reg: [{ method: GET, kind: "blob", fault: { type: "redirect", to: hostileStorage.url } }],
      other: [{ method: GET, kind: "blob", fault: { type: "redirect", to: hostileStorage.url } }],
      fails: /redirected to 127\.0\.0\.1:\d+, which asks for credentials/,
    },
    {
      name: "a token realm on a remote host over plain HTTP",
      reg: [{
        fault: {
          type: "unauthorized",
          challenge: 'Bearer realm="http://auth.registry.invalid/token",service="evil"',
        },
      }],
      fails:
        /asks for credentials at http:\/\/auth\.registry\.invalid over plain HTTP: refusing to send them/,
    },
    {
      name: "a source whose realm elsewhere answers garbage",
      other: [{
        fault: {
          type: "unauthorized",
          challenge: `Bearer realm="${elsewhereRealm.url}/token",service="evil"`,
        },
      }],
      fails: {
        "push cross-registry":
          /Token server 127\.0\.0\.1:\d+ for .* sent a response that is not JSON/,
      },
    },
  ];
}

Deno.test("fault matrix: inspect, push (same-repo, cross-repo, cross-registry) and manifest create+push under injected faults", async () => {
  await using reg = await startRegistry({ auth: "token" });
  await using other = await startRegistry();
  const raw = new Raw(reg);
  const rawOther = new Raw(other);
  const set = await pushFixtures(reg, {
    format: "oci",
    repository: "m/app",
    index: { tag: "multi" },
  });
  await pushFixtures(other, {
    format: "docker",
    repository: "m/src",
    platforms: [
      { os: "linux", architecture: "amd64" },
      { os: "linux", architecture: "arm64", variant: "v8" },
    ],
    largeLayerBytes: 3 * 1024 * 1024,
    seed: "src",
  });
  // Blob storage a registry redirects to: serves the blob, must never see credentials.
  await using storage = await startRecorder({
    serve(req) {
      const m = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(new URL(req.url).pathname);
      if (!m) return new Response("not here", { status: 404 });
      return m[1] === "m/src" ? rawOther.blob(m[1], m[2]) : raw.blob(m[1], m[2]);
    },
  });
  // A token realm on another origin that answers garbage. Must never see credentials.
  await using elsewhereRealm = await startRecorder({
    serve: () => new Response("<html>not a token</html>", { status: 200 }),
  });
  // Storage that asks for credentials of its own, naming the realm above.
  await using hostileStorage = await startRecorder({
    serve: () =>
      new Response("", {
        status: 401,
        headers: {
          "www-authenticate": `Bearer realm="${elsewhereRealm.url}/token",service="storage"`,
        },
      }),
  });

  const secrets = [
    reg.password!,
    Buffer.from(`${reg.username}:${reg.password}`).toString("base64"),
  ];
  const cases = faultCases(reg, storage, hostileStorage, elsewhereRealm);
  const summary: { fault: string; cells: string[]; line: string }[] = [];
  const problems: string[] = [];
  const work: (() => Promise<void>)[] = [];
  let n = 0;
  for (const fc of cases) {
    const row = { fault: fc.name, cells: OPERATIONS.map(() => ""), line: "" };
    summary.push(row);
    for (const [oi, op] of OPERATIONS.entries()) {
      const id = String(++n);
      work.push(async () => {
        await using regProxy = await startProxy({
          upstream: reg.url,
          faults: fc.reg,
          stallMs: 15_000,
        });
        await using otherProxy = await startProxy({
          upstream: other.url,
          faults: fc.other,
          stallMs: 15_000,
        });
        const home = await Deno.makeTempDir({ prefix: "mt-fault-" });
        const label = `${fc.name} x ${op.name}`;
        try {
          const started = performance.now();
          const { results, target } = await op.run({
            id,
            reg: regProxy.host,
            other: otherProxy.host,
            flags: [
              "--plain-http",
              "--timeout",
              String(TIMEOUT_S),
              "--username",
              reg.username!,
              "--password",
              reg.password!,
            ],
            spec: async (text) => {
              const f = `${home}/spec.yaml`;
              await Deno.writeTextFile(f, text);
              return f;
            },
            home,
          });
          const ms = performance.now() - started;
          const r = results.at(-1)!;
          const fired = [...regProxy.fired, ...otherProxy.fired].reduce((a, b) => a + b, 0);
          const expected = fc.fails instanceof RegExp ? fc.fails : fc.fails?.[op.name];
          try {
            assert.ok(ms < CELL_BOUND_MS, `${label}: took ${Math.round(ms)} ms`);
            for (const x of results) {
              const out = x.stdout + x.stderr;
              for (const s of secrets) assert.ok(!out.includes(s), `${label}: credential printed`);
              assert.ok(!/eyJ[\w-]{20,}\./.test(out), `${label}: a token printed`);
              assert.ok(!/^\s+at /m.test(x.stderr), `${label}: stack trace: ${x.stderr}`);
              // Nothing a server sends reaches the terminal as a control sequence, or at length.
              // deno-lint-ignore no-control-regex -- the control characters looked for
              assert.ok(!/[\u001b\u0007\u202e]/.test(x.stderr), `${label}: raw control characters`);
              assert.ok(x.stderr.length < 2_000, `${label}: ${x.stderr.length} characters`);
            }
            if (expected && fired > 0) {
              assert.equal(r.code, 1, `${label}: exit code 1 expected: ${r.stderr}`);
              // One error line (a warning about the sources, e.g. OCI manifests in a Docker list,
              // is a line of its own).
              const lines = r.stderr.trim().split("\n").filter((l) => !l.startsWith("warning: "));
              assert.equal(lines.length, 1, `${label}: one line: ${r.stderr}`);
              assert.match(lines[0], /^manifest-tool: /, label);
              assert.match(lines[0], expected, `${label}: ${lines[0]}`);
              row.line ||= `${op.name}: ${lines[0]}`;
            } else {
              assert.equal(r.code, 0, `${label}: success expected: ${r.stderr}`);
              if (op.name === "inspect") assert.ok(r.stdout.includes(set.index!.digest), label);
            }
            // The credentials on the command line are the target's: never sent to the source
            // registry elsewhere, whatever it asks.
            assert.ok(
              otherProxy.log.every((l) => !l.authorization),
              `${label}: credentials sent to the source registry`,
            );
            if (fc.atLeastMs && fired > 0) {
              assert.ok(ms >= fc.atLeastMs, `${label}: Retry-After honoured (${ms} ms)`);
            }
            if (target) {
              const digest = await checkTarget(raw, target.repo, target.tag, r.code === 0, label);
              if (digest) assert.ok(r.stdout.includes(digest), `${label}: printed digest`);
            }
            row.cells[oi] = fired === 0
              ? "not hit"
              : r.code === 0
              ? `ok (${fired} faults)`
              : `fails, 1 line`;
            row.cells[oi] += ` ${(ms / 1000).toFixed(1)}s`;
          } catch (e) {
            row.cells[oi] = "PROBLEM";
            problems.push((e as Error).message);
          }
        } finally {
          await Deno.remove(home, { recursive: true }).catch(() => {});
        }
      });
    }
  }
  // A few cells at a time: each has its own proxies, target repositories and tags.
  const queue = [...work];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let job = queue.shift(); job; job = queue.shift()) await job();
    }),
  );

  const width = Math.max(...summary.map((r) => r.fault.length));
  const colW = 22;
  console.log(
    [
      "",
      `Fault matrix (${cases.length} faults x ${OPERATIONS.length} operations; "ok" = succeeded` +
      ` after the faults, "fails, 1 line" = exit 1 with one clear line, nothing written):`,
      "  " + "fault".padEnd(width) + " | " + OPERATIONS.map((o) => o.name.padEnd(colW)).join(" | "),
      "  " + "-".repeat(width) + "-+-" + OPERATIONS.map(() => "-".repeat(colW)).join("-+-"),
      ...summary.map((r) =>
        "  " + r.fault.padEnd(width) + " | " + r.cells.map((c) => c.padEnd(colW)).join(" | ")
      ),
      "",
      "One failure line per fault, as printed:",
      ...summary.filter((r) => r.line).map((r) => `  ${r.fault}\n    ${r.line}`),
    ].join("\n"),
  );
  assert.deepEqual(problems, [], problems.join("\n"));
  assert.equal(storage.sawAuthorization(), false, "no credentials at the storage origin");
  assert.ok(storage.requests.length > 0, "the storage redirect was exercised");
  assert.equal(hostileStorage.sawAuthorization(), false, "no credentials at hostile storage");
  assert.equal(elsewhereRealm.sawAuthorization(), false, "no credentials at a realm elsewhere");
  // Every fault fired somewhere, or the matrix proves nothing about it.
  for (const row of summary) {
    assert.ok(row.cells.some((c) => !c.startsWith("not hit")), `${row.fault} never fired`);
  }
});

// Library-level checks with the transport's own knobs set small, so the bounds are cheap to prove.
Deno.test("transport: bounded retries, Retry-After capped, timeouts not retried, uploads not cut short", async (t) => {
  await using reg = await startRegistry();
  const set = await pushFixtures(reg, {
    repository: "lib/app",
    platforms: [{ os: "linux", architecture: "amd64" }],
  });
  const img = set.images[0];
  const fast = { plainHttp: true, retryBaseMs: 5, retryMaxMs: 50, timeoutMs: 500 } as const;

  await t.step("503 always: 1 + 3 attempts, then a RegistryError 503", async () => {
    await using proxy = await startProxy({
      upstream: reg.url,
      faults: [{ method: "GET", kind: "manifest", fault: { type: "status", status: 503 } }],
    });
    await using client = new RegistryClient(fast);
    const err = await client.repository(proxy.host, "lib/app").getManifest(img.tag).catch((e) => e);
    assert.ok(err instanceof RegistryError && err.status === 503, String(err));
    assert.equal(proxy.fired[0], 4);
  });

  await t.step("429 with Retry-After: 3600 waits no longer than retryMaxMs", async () => {
    await using proxy = await startProxy({
      upstream: reg.url,
      faults: [{
        method: "GET",
        kind: "manifest",
        times: 1,
        fault: { type: "status", status: 429, retryAfter: "3600" },
      }],
    });
    await using client = new RegistryClient(fast);
    const started = performance.now();
    const m = await client.repository(proxy.host, "lib/app").getManifest(img.tag);
    assert.equal(m.descriptor.digest, img.digest);
    assert.ok(performance.now() - started < 5_000);
  });

  await t.step("no headers within timeoutMs: one attempt, a timeout error", async () => {
    await using proxy = await startProxy({
      upstream: reg.url,
      faults: [{ method: "GET", kind: "manifest", fault: { type: "stall" } }],
    });
    await using client = new RegistryClient(fast);
    const err = await client.repository(proxy.host, "lib/app").getManifest(img.tag).catch((e) => e);
    assert.ok(isTimeout(err), String(err));
    assert.match(err.message, /no response within 500 ms/);
    assert.equal(proxy.fired[0], 1, "a timeout is not retried");
  });

  await t.step("a stalled body fails after idleTimeoutMs", async () => {
    await using proxy = await startProxy({
      upstream: reg.url,
      faults: [{ method: "GET", kind: "blob", fault: { type: "stall", afterBytes: 5 } }],
    });
    await using client = new RegistryClient({ ...fast, timeoutMs: 5_000, idleTimeoutMs: 300 });
    const stream = await client.repository(proxy.host, "lib/app").fetchBlob(img.layers[0]);
    const started = performance.now();
    const err = await new Response(stream).arrayBuffer().catch((e) => e);
    assert.ok(isTimeout(err), String(err));
    assert.match(err.message, /no data for 300 ms/);
    assert.ok(performance.now() - started < 3_000);
  });

  await t.step("a body reset once is read again; a tampered one never accepted", async () => {
    await using proxy = await startProxy({
      upstream: reg.url,
      faults: [
        { method: "GET", path: /\/manifests\//, times: 1, fault: { type: "reset" } },
        { method: "GET", kind: "blob", fault: { type: "tamper" } },
      ],
    });
    await using client = new RegistryClient(fast);
    const repo = client.repository(proxy.host, "lib/app");
    assert.equal((await repo.getManifest(img.tag)).descriptor.digest, img.digest);
    assert.equal(proxy.fired[0], 1);
    const err = await repo.fetchBlobBytes(img.config).catch((e) => e);
    assert.ok(err instanceof DigestMismatchError, String(err));
    assert.equal(proxy.fired[1], 1, "a digest mismatch is not retried");
  });

  await t.step(
    "an upload slower than timeoutMs still completes while it makes progress",
    async () => {
      await using client = new RegistryClient({ ...fast, timeoutMs: 300 });
      const chunk = new Uint8Array(1024).fill(7);
      const whole = new Uint8Array(8 * 1024).fill(7);
      const expected = { digest: digestOf(whole), size: whole.byteLength };
      let i = 0;
      const slow = () =>
        new ReadableStream<Uint8Array>({
          async pull(c) {
            if (i++ >= 8) return c.close();
            await new Promise((r) => setTimeout(r, 100));
            c.enqueue(chunk);
          },
        });
      const d = await client.repository(reg.host, "lib/slow").uploadBlob(slow, expected);
      assert.equal(d.digest, expected.digest);
    },
  );

  await t.step("redirects and realms that are not HTTP are refused", async () => {
    await using proxy = await startProxy({
      upstream: reg.url,
      faults: [
        {
          method: "GET",
          kind: "blob",
          fault: {
            type: "respond",
            respond: () =>
              new Response(null, { status: 307, headers: { location: "file:///etc/passwd" } }),
          },
        },
        {
          method: "GET",
          kind: "manifest",
          fault: { type: "unauthorized", challenge: 'Bearer realm="file:///etc/passwd"' },
        },
      ],
    });
    await using client = new RegistryClient(fast);
    const repo = client.repository(proxy.host, "lib/app");
    const redirect = await repo.fetchBlobBytes(img.config).catch((e) => e);
    assert.match(String(redirect), /refusing a redirect to a file: URL/);
    const realm = await repo.getManifest(img.tag).catch((e) => e);
    assert.ok(realm instanceof AuthError, String(realm));
    assert.match(realm.message, /realm that is not an HTTP URL/);
  });
});

Deno.test("401 in the middle of a streamed upload: a factory body is sent again, the first stream is closed", async () => {
  await using reg = await startRegistry({ auth: "basic" });
  await using proxy = await startProxy({
    upstream: reg.url,
    faults: [{
      method: "PUT",
      kind: "upload",
      times: 1,
      fault: { type: "unauthorized", challenge: 'Basic realm="harness"' },
    }],
  });
  await using once = await startProxy({
    upstream: reg.url,
    faults: [{
      method: "PATCH",
      kind: "upload",
      times: 1,
      fault: { type: "unauthorized", challenge: 'Basic realm="harness"' },
    }],
  });
  await using client = new RegistryClient({
    plainHttp: true,
    username: reg.username,
    password: reg.password,
    flagRegistries: [proxy.host, once.host],
    noConfig: true,
    retryBaseMs: 5,
  });
  const bytes = new Uint8Array(256 * 1024).map((_, i) => i % 251);
  const expected = { digest: digestOf(bytes), size: bytes.byteLength };
  let opened = 0;
  let cancelled = 0;
  const factory = () => {
    opened++;
    let off = 0;
    return new ReadableStream<Uint8Array>({
      async pull(c) {
        if (off >= bytes.byteLength) return c.close();
        await new Promise((r) => setTimeout(r, 5));
        c.enqueue(bytes.subarray(off, off += 16 * 1024));
      },
      cancel() {
        cancelled++;
      },
    });
  };
  const d = await client.repository(proxy.host, "auth/up").uploadBlob(factory, expected);
  assert.equal(d.digest, expected.digest);
  assert.equal(proxy.fired[0], 1, "the 401 was served");
  assert.equal(opened, 2, "the body was opened again for the second attempt");
  assert.equal(cancelled, 1, "the first stream was closed, not pumped into a dead request");

  // A one-shot stream cannot be sent again: a clear AuthError, never "cannot reuse body".
  const err = await client.repository(once.host, "auth/up").uploadBlob(factory())
    .catch((e) => e);
  assert.ok(err instanceof AuthError, String(err));
  assert.match(err.message, /401 Unauthorized in the middle of a streamed upload/);
  assert.ok(!/reuse/i.test(err.message));
});
