/**
 * `deno task bench`: our tool against the peers found on `PATH` (and in `.tools/go/bin`), on the
 * same registries in the same run, at 0 ms and at a realistic RTT, through the TCP proxy of
 * `bench_proxy.ts` that adds latency (and optionally a bandwidth cap) and counts connections and
 * requests. Runs alternate (A B C, A B C, …); the report gives median wall time, min–max, the
 * ratio to ours, requests, connections, request waves, peak RSS and (for copies) throughput, then
 * checks the targets of issue 7. Markdown and JSON go to `.bench/`, the Markdown also to stdout.
 *
 *   deno task bench [--runs N] [--rtt MS] [--bandwidth MIBPS] [--large-mib N | --large]
 *                   [--quick] [--budget S] [--scenarios 1,2,3,4,5,6,7] [--tools ours,docker,…]
 *                   [--no-tls] [--huge-mib N] [--batch-specs N]
 *
 * Scenarios: (1) inspect a 6-platform index; (2) push a 6-platform index whose sources are in the
 * target repository; (3) the same from six other repositories (mounts), into a new repository
 * each run; (4) copy a 6-platform index with one large layer from another registry, into a new
 * registry each run; (5) `--version` startup, next to `deno run` of an empty script; (6) publish
 * 50 indexes from shared sources, in one run and in one run per spec; (7) scenario 4 with a 1 GiB
 * layer. Conditions: 0 ms, --rtt, and --rtt with the registries behind TLS (scenarios 1-3).
 * Everything it starts is stopped; traffic stays on 127.0.0.1.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  type FixtureImage,
  pushFixtures,
  type RunningRegistry,
  startRegistry,
} from "./harness/mod.ts";
import { type BenchProxy, countWaves, startBenchProxy, type TrafficTotals } from "./bench_proxy.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const MIB = 1024 * 1024;

const HELP = `deno task bench [flags]

  --runs N           runs per tool and scenario (default 5; 2 with --quick)
  --rtt MS           round-trip time of the second network condition (default 50)
  --bandwidth MIBPS  also cap each direction of the link at MIBPS MiB/s in that condition
  --large-mib N      size of scenario 4's large layer (default 64; 8 with --quick)
  --large            scenario 4 with a 1 GiB layer (the RSS target of issue 7)
  --quick            2 runs, small layer: a smoke run
  --budget S         a tool stops after 3 runs of a scenario once they add up to S seconds
                     (default 15; 0: always --runs runs)
  --scenarios LIST   comma-separated scenario numbers (default 1,2,3,4,5,6,7; --quick: 1-6)
  --no-tls           leave out the TLS condition (scenarios 1-3 behind TLS at --rtt)
  --huge-mib N       size of scenario 7's layer (default 1024)
  --batch-specs N    specs in scenario 6's batch (default 50; 10 with --quick)
  --tools LIST       comma-separated tool keys (default: all found): ours, docker, skopeo,
                     crane, regctl, buildah, manifest-tool
`;

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string" },
    rtt: { type: "string", default: "50" },
    bandwidth: { type: "string" },
    "large-mib": { type: "string" },
    large: { type: "boolean" },
    quick: { type: "boolean" },
    scenarios: { type: "string" },
    tools: { type: "string" },
    budget: { type: "string", default: "15" },
    "no-tls": { type: "boolean" },
    "huge-mib": { type: "string" },
    "batch-specs": { type: "string" },
    help: { type: "boolean", short: "h" },
  },
  strict: true,
});
if (flags.help) {
  console.log(HELP);
  Deno.exit(0);
}

function positive(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`bench: --${name} "${v}" is not a non-negative number`);
    Deno.exit(2);
  }
  return n;
}

const RUNS = Math.max(1, Math.floor(positive("runs", flags.runs, flags.quick ? 2 : 5)));
const RTT = positive("rtt", flags.rtt, 50);
const BANDWIDTH = flags.bandwidth === undefined
  ? undefined
  : positive("bandwidth", flags.bandwidth, 0) * MIB;
const LARGE = flags.large
  ? 1024 * MIB
  : Math.round(positive("large-mib", flags["large-mib"], flags.quick ? 8 : 64) * MIB);
const BUDGET_MS = positive("budget", flags.budget, 15) * 1000;
/** Scenario 7's layer: 1 GiB (the RSS target of issue 20); skipped by --quick. */
const HUGE = Math.round(positive("huge-mib", flags["huge-mib"], 1024) * MIB);
/** Scenario 6's number of specs. */
const BATCH_SPECS = Math.max(
  1,
  Math.floor(positive("batch-specs", flags["batch-specs"], flags.quick ? 10 : 50)),
);
const SCENARIOS = new Set(
  (flags.scenarios ?? (flags.quick ? "1,2,3,4,5,6" : "1,2,3,4,5,6,7")).split(",").map((s) =>
    s.trim()
  ),
);
/** The TLS condition (scenarios 1-3 behind TLS at --rtt). */
const TLS = !flags["no-tls"] && ["1", "2", "3"].some((s) => SCENARIOS.has(s));
const TOOL_FILTER = flags.tools ? new Set(["ours", ...flags.tools.split(",")]) : undefined;
/** Whether ours takes several specs in one `push from-spec` (scenario 6), or why not. */
let BATCH_SUPPORT: true | string = "not checked";
/** A run that takes longer is killed and counted as failed. */
const RUN_TIMEOUT_MS = 120_000 + (LARGE / MIB) * 1000;

// ---------------------------------------------------------------------------------------------
// Running one command: wall time, exit status, peak RSS.

interface Timed {
  ms: number;
  ok: boolean;
  rssKiB: number;
  err: string;
}

const GNU_TIME = await (async () => {
  try {
    const o = await new Deno.Command("/usr/bin/time", {
      args: ["-f", "%M", "-o", "/dev/null", "true"],
      stdout: "null",
      stderr: "null",
    }).output();
    return o.success ? "/usr/bin/time" : undefined;
  } catch {
    return undefined;
  }
})();

const children = new Set<Deno.ChildProcess>();

/**
 * Runs `cmd` and returns its wall time and peak RSS: from GNU time's `%M` (the kernel's
 * ru_maxrss of the child) when /usr/bin/time is there, else by polling VmHWM in /proc.
 */
async function timed(cmd: string[], env: Record<string, string>, dir: string): Promise<Timed> {
  const rssFile = `${dir}/rss-${crypto.randomUUID()}`;
  const argv = GNU_TIME ? [GNU_TIME, "-f", "%M", "-o", rssFile, ...cmd] : cmd;
  const started = performance.now();
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env,
  }).spawn();
  children.add(child);
  let polled = 0;
  const poll = GNU_TIME ? undefined : setInterval(() => {
    try {
      const s = Deno.readTextFileSync(`/proc/${child.pid}/status`);
      polled = Math.max(polled, Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0));
    } catch { /* exited */ }
  }, 10);
  const timer = setTimeout(() => killTree(child.pid), RUN_TIMEOUT_MS);
  const out = await child.output();
  const ms = performance.now() - started;
  clearTimeout(timer);
  if (poll !== undefined) clearInterval(poll);
  children.delete(child);
  let rssKiB = polled;
  if (GNU_TIME) {
    const text = await Deno.readTextFile(rssFile).catch(() => "");
    rssKiB = Number(text.trim().split("\n").at(-1)) || 0;
    await Deno.remove(rssFile).catch(() => {});
  }
  return {
    ms,
    ok: out.success,
    rssKiB,
    err: new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" | ").slice(
      -400,
    ),
  };
}

/** Kills `pid` and its descendants (GNU time does not pass a kill on to the tool it runs). */
function killTree(pid: number): void {
  let kids: number[] = [];
  try {
    kids = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/)
      .filter(Boolean).map(Number);
  } catch { /* gone, or no /proc */ }
  try {
    Deno.kill(pid, "SIGKILL");
  } catch { /* gone */ }
  for (const k of kids) killTree(k);
}

async function firstLine(cmd: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    const o = await new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      stdout: "piped",
      stderr: "piped",
      env,
    }).output();
    const text = new TextDecoder().decode(o.stdout).trim() ||
      new TextDecoder().decode(o.stderr).trim();
    return text.split("\n")[0].slice(0, 100);
  } catch (e) {
    return `unavailable (${e instanceof Error ? e.message : e})`;
  }
}

function which(cmd: string): string | undefined {
  for (const p of [`${ROOT}.tools/go/bin`, ...(Deno.env.get("PATH") ?? "").split(":")]) {
    if (!p) continue;
    try {
      if (Deno.statSync(`${p}/${cmd}`).isFile) return `${p}/${cmd}`;
    } catch { /* not here */ }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Set-up: bundle, registries, fixtures, the tools.

const tmp = await Deno.makeTempDir({ prefix: "mt-bench-" });
const registries = new Set<RunningRegistry>();
const proxies = new Set<BenchProxy>();

async function cleanup(): Promise<void> {
  for (const c of children) killTree(c.pid);
  await Promise.allSettled([...proxies].map((p) => p.stop()));
  await Promise.allSettled([...registries].map((r) => r.stop()));
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}
const onSignal = async () => {
  console.error("bench: interrupted, stopping what it started");
  await cleanup();
  Deno.exit(130);
};
const SIGNALS = ["SIGINT", "SIGTERM"] as const;
for (const sig of SIGNALS) Deno.addSignalListener(sig, onSignal);

async function registry(options?: { tls?: boolean }): Promise<RunningRegistry> {
  const r = await startRegistry(options);
  registries.add(r);
  return r;
}
async function dropRegistry(r: RunningRegistry): Promise<void> {
  registries.delete(r);
  await r.stop();
}
async function proxy(upstream: string, rttMs: number, bw?: number): Promise<BenchProxy> {
  const p = await startBenchProxy({ upstream, rttMs, bytesPerSecond: bw });
  proxies.add(p);
  return p;
}
async function dropProxy(p: BenchProxy): Promise<void> {
  proxies.delete(p);
  await p.stop();
}

const log = (msg: string) => console.error(`bench: ${msg}`);

try {
  await main();
} finally {
  await cleanup();
  for (const sig of SIGNALS) Deno.removeSignalListener(sig, onSignal);
}

async function main(): Promise<void> {
  const loadAtStart = Deno.loadavg();
  log("bundling the CLI (deno task bundle)");
  const b = await new Deno.Command("deno", {
    args: ["task", "bundle"],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!b.success) {
    throw new Error(`deno task bundle failed: ${new TextDecoder().decode(b.stderr).slice(-500)}`);
  }

  const home = `${tmp}/home`;
  const dockerCfg = `${tmp}/docker`;
  await Deno.mkdir(home);
  await Deno.mkdir(dockerCfg);
  await Deno.writeTextFile(`${dockerCfg}/config.json`, "{}\n");
  // Every tool gets an empty docker config (no credentials, no leftovers); HOME stays for ours
  // (Deno's cache) and is a scratch directory for the peers (regctl's and crane's config).
  const baseEnv = { DOCKER_CONFIG: dockerCfg, REGISTRY_AUTH_FILE: `${dockerCfg}/config.json` };
  const peerEnv = { ...baseEnv, HOME: home, XDG_RUNTIME_DIR: home, XDG_CONFIG_HOME: home };

  const reg = await registry();
  const other = await registry();
  log("pushing fixtures");
  const same = await pushFixtures(reg, {
    repository: "b/same",
    format: "docker",
    index: { tag: "multi" },
  });
  const src = await pushFixtures(reg, {
    repository: "b/src",
    layout: "repos",
    format: "docker",
    seed: "r",
  });
  const uniqueSourceBlobs = new Set(
    src.images.flatMap((i) => [i.config.digest, ...i.layers.map((l) => l.digest)]),
  ).size;
  log(`pushing scenario 4's index with a ${LARGE / MIB} MiB layer`);
  const far = await pushFixtures(other, {
    repository: "b/far",
    format: "docker",
    index: { tag: "multi" },
    largeLayerBytes: LARGE,
    seed: "f",
  });
  const tlsReg = TLS ? await registry({ tls: true }) : undefined;
  if (tlsReg) {
    log("pushing the fixtures of scenarios 1-3 to a TLS registry");
    await pushFixtures(tlsReg, { repository: "b/same", format: "docker", index: { tag: "multi" } });
    await pushFixtures(tlsReg, {
      repository: "b/src",
      layout: "repos",
      format: "docker",
      seed: "r",
    });
  }
  const huge = SCENARIOS.has("7") ? await registry() : undefined;
  if (huge) {
    log(`pushing scenario 7's index with a ${HUGE / MIB} MiB layer`);
    await pushFixtures(huge, {
      repository: "b/far",
      format: "docker",
      index: { tag: "multi" },
      largeLayerBytes: HUGE,
      seed: "h",
    });
  }
  const farBytes = far.images.reduce(
    (n, i) => n + i.size + i.config.size + i.layers.reduce((m, l) => m + l.size, 0),
    0,
  );

  const tools = findTools();
  const versions: Record<string, string> = {
    deno: Deno.version.deno,
    registry: await firstLine([
      which("docker-registry") ?? which("registry") ?? "docker-registry",
      "--version",
    ]),
  };
  for (const t of tools) {
    if (t.version) versions[t.key] = await firstLine(t.version, peerEnv);
  }
  log(`tools: ${tools.map((t) => t.key).join(", ")}`);

  if (SCENARIOS.has("6")) {
    BATCH_SUPPORT = await batchSupport(reg.host, tmp);
    if (BATCH_SUPPORT !== true) log(`scenario 6 without ours in one run: ${BATCH_SUPPORT}`);
  }
  const scenarios = defineScenarios({
    tools,
    images: same.images,
    baseEnv,
    peerEnv,
    tmp,
  });

  log("warming up (each tool's version command, twice)");
  for (let i = 0; i < 2; i++) {
    for (const t of tools) {
      if (t.version) await timed(t.version, t.key === "ours" ? baseEnv : peerEnv, tmp);
    }
  }

  const conditions: Condition[] = [{ rttMs: 0 }];
  if (RTT > 0 || BANDWIDTH) conditions.push({ rttMs: RTT, bytesPerSecond: BANDWIDTH });
  if (tlsReg) conditions.push({ rttMs: RTT, bytesPerSecond: BANDWIDTH, tls: true });

  const results: Result[] = [];
  let run = 0;
  for (const cond of conditions) {
    for (const s of scenarios) {
      if (!SCENARIOS.has(s.id)) continue;
      const where = s.conditions ?? "plain";
      if (where === "first" && cond !== conditions[0]) continue;
      if (where === "plain" && cond.tls) continue;
      if (s.entries.length === 0) continue;
      const entries = s.entries.filter((e) => !(cond.tls && e.plainOnly));
      const rows: Result[] = entries.map((e) => ({
        scenario: s.id,
        title: s.title,
        condition: conditionName(cond),
        rttMs: cond.rttMs,
        tool: e.tool,
        label: e.label,
        samples: [],
      }));
      const upstream = s.source === "other"
        ? other.host
        : s.source === "huge"
        ? huge!.host
        : cond.tls
        ? tlsReg!.host
        : reg.host;
      const fixed = await proxy(upstream, cond.rttMs, cond.bytesPerSecond);
      try {
        const runs = s.runs ?? RUNS;
        for (let round = 0; round < runs; round++) {
          for (const [k, e] of entries.entries()) {
            // Slow peers (buildah, docker at 50 ms) would take minutes: 3 runs are enough when
            // they already add up to the budget.
            const spent = rows[k].samples.reduce((n, x) => n + x.ms, 0);
            if (BUDGET_MS && round >= (s.minRuns ?? 3) && spent > BUDGET_MS) continue;
            run++;
            const dir = `${tmp}/run-${run}`;
            await Deno.mkdir(dir);
            // Scenario 4 copies into a new registry every run: no tool finds blobs there from an
            // earlier run (skopeo would mount them, from its blob-info cache).
            const dstReg = s.source ? await registry() : undefined;
            const dst = dstReg ? await proxy(dstReg.host, cond.rttMs, cond.bytesPerSecond) : fixed;
            try {
              const ctx: RunContext = {
                host: dst.host,
                tls: cond.tls === true,
                caFile: tlsReg?.caFile,
                src: fixed.host,
                run,
                name: `${e.tool.replace(/\W/g, "")}${run}`,
                dir,
              };
              const cmds = await e.commands(ctx);
              const m1 = fixed.mark();
              const m2 = dst.mark();
              let ms = 0;
              let rss = 0;
              let ok = true;
              let err = "";
              for (const cmd of cmds) {
                const r = await timed(cmd, e.env, dir);
                ms += r.ms;
                rss = Math.max(rss, r.rssKiB);
                if (!r.ok) {
                  ok = false;
                  err = r.err;
                  log(`${e.label} failed in scenario ${s.id} (${conditionName(cond)}): ${r.err}`);
                  break;
                }
              }
              const traffic = dst === fixed ? fixed.since(m1) : addTraffic(
                fixed.since(m1),
                dst.since(m2),
                countWaves([...fixed.slice(m1), ...dst.slice(m2)].map((q) => q.at), cond.rttMs),
              );
              rows[k].samples.push({
                ms,
                ok,
                rssKiB: rss,
                traffic,
                bytesFromSource: s.source ? fixed.since(m1).bytesDown : 0,
                ...(ok ? {} : { error: err }),
              });
            } finally {
              if (dstReg) {
                await dropProxy(dst);
                await dropRegistry(dstReg);
              }
              await Deno.remove(dir, { recursive: true }).catch(() => {});
            }
          }
        }
      } finally {
        await dropProxy(fixed);
      }
      results.push(...rows);
      log(`scenario ${s.id} (${conditionName(cond)}) done`);
    }
  }

  const report = buildReport({
    loadAtStart,
    results,
    conditions,
    versions,
    uniqueSourceBlobs,
    farBytes,
    images: same.images.length,
    notes: scenarios.filter((s) => SCENARIOS.has(s.id)).flatMap((s) =>
      (s.skipped ?? []).map((n) => `(${s.id}) ${n}`)
    ),
  });
  await Deno.mkdir(`${ROOT}.bench`, { recursive: true });
  await Deno.writeTextFile(`${ROOT}.bench/results.md`, report.markdown);
  await Deno.writeTextFile(`${ROOT}.bench/results.json`, JSON.stringify(report.json, null, 2));
  console.log(report.markdown);
  log("wrote .bench/results.md and .bench/results.json");
}

// ---------------------------------------------------------------------------------------------
// Tools and scenarios.

interface Tool {
  key: string;
  bin: string;
  /** Version command: warm-up, the report's versions and scenario 5. */
  version?: string[];
}

function findTools(): Tool[] {
  const ours: Tool = {
    key: "ours",
    bin: "deno",
    version: ["deno", "run", "-A", `${ROOT}dist/manifest-tool.mjs`, "--version"],
  };
  const found: Tool[] = [ours];
  const peers: [string, string, string[]][] = [
    ["docker", "docker", ["--version"]],
    ["skopeo", "skopeo", ["--version"]],
    ["crane", "crane", ["version"]],
    ["regctl", "regctl", ["version", "--format", "{{.VCSTag}}"]],
    ["buildah", "buildah", ["--version"]],
    ["manifest-tool", "manifest-tool", ["--version"]],
  ];
  for (const [key, cmd, v] of peers) {
    const bin = which(cmd);
    if (bin) found.push({ key, bin, version: [bin, ...v] });
  }
  return found.filter((t) => !TOOL_FILTER || TOOL_FILTER.has(t.key));
}

interface RunContext {
  /** Host (a proxy) of the target registry. */
  host: string;
  /** Whether the registries speak TLS (the TLS condition). */
  tls: boolean;
  /** The harness CA over TLS. */
  caFile?: string;
  /** Host (a proxy) of scenario 4's source registry. */
  src: string;
  /** Global run number. */
  run: number;
  /** A name unique to this run and tool (tags, repositories, local lists). */
  name: string;
  /** A scratch directory for this run. */
  dir: string;
}

interface Entry {
  tool: string;
  label: string;
  /** Left out of the TLS condition (docker's `manifest push --insecure` speaks plain HTTP). */
  plainOnly?: boolean;
  env: Record<string, string>;
  /** The commands of one run, timed together (files they need are written before timing). */
  commands(ctx: RunContext): string[][] | Promise<string[][]>;
}

interface Scenario {
  id: string;
  title: string;
  entries: Entry[];
  /** Runs per tool (default: --runs). */
  runs?: number;
  /** Runs every tool gets before the time budget may stop it (default 3). */
  minRuns?: number;
  /** Which conditions it runs in (default: all but TLS). */
  conditions?: "first" | "plain" | "all";
  /** The registry behind its source proxy: `other` for copies (default `reg`). */
  source?: "other" | "huge";
  /** Why an entry of ours is left out (said in the report). */
  skipped?: string[];
}

function platformTag(p: FixtureImage["platform"]): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("-");
}

function specYaml(
  target: string,
  sources: { image: string; platform?: FixtureImage["platform"] }[],
) {
  return `image: ${target}\nmanifests:\n${
    sources.map((s) =>
      `  - image: ${s.image}\n` +
      (s.platform ? `    platform: ${JSON.stringify(s.platform)}\n` : "")
    ).join("")
  }`;
}

function defineScenarios(o: {
  tools: Tool[];
  images: FixtureImage[];
  baseEnv: Record<string, string>;
  peerEnv: Record<string, string>;
  tmp: string;
}): Scenario[] {
  const bin = (key: string) => o.tools.find((t) => t.key === key)?.bin;
  // Over TLS ours verifies the harness CA (--ca-file); the peers skip verification (their
  // "insecure" flags), which costs them nothing extra: the handshakes are the same.
  const ours = (c: RunContext) => [
    "deno",
    "run",
    "-A",
    `${ROOT}dist/manifest-tool.mjs`,
    ...(c.tls ? ["--ca-file", c.caFile!] : ["--plain-http"]),
  ];
  const mtoolTls = (c: RunContext) => c.tls ? "--insecure" : "--plain-http";
  const docker = bin("docker");
  const skopeo = bin("skopeo");
  const crane = bin("crane");
  const regctl = bin("regctl");
  const buildah = bin("buildah");
  const mtool = bin("manifest-tool");
  const regHosts = (c: RunContext, ...hosts: string[]) =>
    hosts.flatMap((h) => ["--host", `reg=${h},tls=${c.tls ? "insecure" : "disabled"}`]);
  const buildahArgs = [
    "--storage-driver",
    "vfs",
    "--root",
    `${o.tmp}/buildah/root`,
    "--runroot",
    `${o.tmp}/buildah/run`,
  ];
  const has = (key: string) => o.tools.some((t) => t.key === key);
  const list: Scenario[] = [];

  // (1) inspect
  const s1: Entry[] = [{
    tool: "ours",
    label: "ours: inspect",
    env: o.baseEnv,
    commands: (c) => [[...ours(c), "inspect", `${c.host}/b/same:multi`]],
  }];
  if (docker) {
    s1.push({
      tool: "docker",
      label: "docker manifest inspect -v",
      env: o.peerEnv,
      commands: (
        c,
      ) => [[docker, "manifest", "inspect", "--insecure", "-v", `${c.host}/b/same:multi`]],
    });
  }
  if (mtool) {
    s1.push({
      tool: "manifest-tool",
      label: "manifest-tool v2 inspect",
      env: o.peerEnv,
      commands: (c) => [[mtool, mtoolTls(c), "inspect", `${c.host}/b/same:multi`]],
    });
  }
  if (skopeo) {
    s1.push({
      tool: "skopeo",
      label: "skopeo inspect --raw (index only)",
      env: o.peerEnv,
      commands: (c) => [[
        skopeo,
        "inspect",
        "--raw",
        "--tls-verify=false",
        `docker://${c.host}/b/same:multi`,
      ]],
    });
  }
  if (crane) {
    s1.push({
      tool: "crane",
      label: "crane manifest (index only)",
      env: o.peerEnv,
      commands: (c) => [[crane, "manifest", "--insecure", `${c.host}/b/same:multi`]],
    });
  }
  if (regctl) {
    s1.push({
      tool: "regctl",
      label: "regctl manifest get (index only)",
      env: o.peerEnv,
      commands: (
        c,
      ) => [[regctl, ...regHosts(c, c.host), "manifest", "get", `${c.host}/b/same:multi`]],
    });
  }
  list.push({ id: "1", title: "inspect a 6-platform index", entries: s1, conditions: "all" });

  // (2) and (3): push a list; sources in the target repo, or one repo per platform.
  const pushEntries = (
    source: (host: string, i: FixtureImage) => string,
    target: (c: RunContext) => string,
  ): Entry[] => {
    const e: Entry[] = [{
      tool: "ours",
      label: "ours: push from-spec",
      env: o.baseEnv,
      commands: async (c) => {
        const spec = `${c.dir}/spec.yaml`;
        await Deno.writeTextFile(
          spec,
          specYaml(
            target(c),
            o.images.map((i) => ({ image: source(c.host, i), platform: i.platform })),
          ),
        );
        return [[...ours(c), "push", "from-spec", spec]];
      },
    }];
    if (docker) {
      e.push({
        tool: "docker",
        label: "docker manifest create + push",
        plainOnly: true,
        env: o.peerEnv,
        commands: (c) => [
          [
            docker,
            "manifest",
            "create",
            "--insecure",
            target(c),
            ...o.images.map((i) => source(c.host, i)),
          ],
          [docker, "manifest", "push", "--insecure", "--purge", target(c)],
        ],
      });
    }
    if (mtool) {
      e.push({
        tool: "manifest-tool",
        label: "manifest-tool v2 push from-spec",
        env: o.peerEnv,
        commands: async (c) => {
          const spec = `${c.dir}/spec.yaml`;
          await Deno.writeTextFile(
            spec,
            specYaml(
              target(c),
              o.images.map((i) => ({ image: source(c.host, i), platform: i.platform })),
            ),
          );
          return [[mtool, mtoolTls(c), "push", "from-spec", spec]];
        },
      });
    }
    if (crane) {
      e.push({
        tool: "crane",
        label: "crane index append",
        env: o.peerEnv,
        commands: (c) => [[
          crane,
          "index",
          "append",
          "--insecure",
          ...o.images.flatMap((i) => ["-m", source(c.host, i)]),
          "-t",
          target(c),
        ]],
      });
    }
    if (regctl) {
      e.push({
        tool: "regctl",
        label: "regctl index create",
        env: o.peerEnv,
        commands: (c) => [[
          regctl,
          ...regHosts(c, c.host),
          "index",
          "create",
          target(c),
          ...o.images.flatMap((i) => ["--ref", source(c.host, i)]),
        ]],
      });
    }
    if (buildah) {
      e.push({
        tool: "buildah",
        label: "buildah manifest create + add + push",
        env: o.peerEnv,
        commands: (c) => [
          [buildah, ...buildahArgs, "manifest", "create", `list-${c.name}`],
          ...o.images.map((i) => [
            buildah,
            ...buildahArgs,
            "manifest",
            "add",
            "--tls-verify=false",
            `list-${c.name}`,
            `docker://${source(c.host, i)}`,
          ]),
          [
            buildah,
            ...buildahArgs,
            "manifest",
            "push",
            "--all",
            "--tls-verify=false",
            `list-${c.name}`,
            `docker://${target(c)}`,
          ],
        ],
      });
    }
    return e;
  };
  list.push({
    conditions: "all",
    id: "2",
    title: "push a 6-platform list, sources in the target repo",
    entries: pushEntries(
      (h, i) => `${h}/b/same:${platformTag(i.platform)}`,
      (c) => `${c.host}/b/same:${c.name}`,
    ),
  });
  list.push({
    conditions: "all",
    id: "3",
    title: "push a 6-platform list from six other repos (mounts), new target repo",
    entries: pushEntries(
      (h, i) => `${h}/b/src-${platformTag(i.platform)}:latest`,
      (c) => `${c.host}/b/t3-${c.name}:v1`,
    ),
  });

  // (4) copy from another registry.
  const s4: Entry[] = [{
    tool: "ours",
    label: "ours: push from-spec",
    env: o.baseEnv,
    commands: async (c) => {
      const spec = `${c.dir}/spec.yaml`;
      await Deno.writeTextFile(
        spec,
        specYaml(`${c.host}/b/copy:v1`, [{ image: `${c.src}/b/far:multi` }]),
      );
      return [[...ours(c), "push", "from-spec", spec]];
    },
  }];
  if (skopeo) {
    s4.push({
      tool: "skopeo",
      label: "skopeo copy --all",
      env: o.peerEnv,
      commands: (c) => [[
        skopeo,
        "copy",
        "--all",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        `docker://${c.src}/b/far:multi`,
        `docker://${c.host}/b/copy:v1`,
      ]],
    });
  }
  if (crane) {
    s4.push({
      tool: "crane",
      label: "crane copy",
      env: o.peerEnv,
      commands: (
        c,
      ) => [[crane, "copy", "--insecure", `${c.src}/b/far:multi`, `${c.host}/b/copy:v1`]],
    });
  }
  if (regctl) {
    s4.push({
      tool: "regctl",
      label: "regctl image copy",
      env: o.peerEnv,
      commands: (c) => [[
        regctl,
        ...regHosts(c, c.src, c.host),
        "image",
        "copy",
        `${c.src}/b/far:multi`,
        `${c.host}/b/copy:v1`,
      ]],
    });
  }
  list.push({
    source: "other",
    id: "4",
    title: `copy a 6-platform index with one ${LARGE / MIB} MiB layer from another registry`,
    entries: s4,
  });

  // (5) startup.
  const s5: Entry[] = [];
  for (const t of o.tools) {
    if (!t.version) continue;
    s5.push({
      tool: t.key,
      label: t.key === "ours"
        ? "ours: bundled --version"
        : `${t.key} ${t.version.slice(1).join(" ")}`,
      env: t.key === "ours" ? o.baseEnv : o.peerEnv,
      commands: () => [t.version!],
    });
    if (t.key === "ours") {
      s5.push({
        tool: "ours-source",
        label: "ours: deno run cli.ts --version (not bundled)",
        env: o.baseEnv,
        commands: () => [["deno", "run", "-A", `${ROOT}cli.ts`, "--version"]],
      });
    }
  }
  // The floor: Deno starting an empty script, in the same run.
  const empty = `${o.tmp}/empty.ts`;
  Deno.writeTextFileSync(empty, "");
  s5.push({
    tool: "ours-floor",
    label: "deno run of an empty script (the floor)",
    env: o.baseEnv,
    commands: () => [["deno", "run", "-A", empty]],
  });
  list.push({
    id: "5",
    title: "--version startup",
    entries: s5,
    conditions: "first",
    // Startup is cheap to measure and the most sensitive to a busy machine: more runs.
    runs: Math.max(RUNS, 10),
  });

  list.push(batchScenario(o, { ours, mtool, mtoolTls, docker }));

  list.push({
    id: "7",
    title: `copy a 6-platform index with one ${HUGE / MIB} MiB layer from another registry`,
    entries: s4,
    source: "huge",
    runs: Math.min(RUNS, 2),
    minRuns: 1,
  });

  for (const s of list) {
    s.entries = s.entries.filter((e) => has(e.tool.replace(/-(source|floor|each)$/, "")));
  }
  return list;
}

/**
 * (6) Publishing many indexes (issue 16): BATCH_SPECS specs of 6 platforms each, all from the six
 * shared `b/src-<platform>` images, into a new repository per spec and run: ours in one run (every
 * spec in one directory), ours in one process per spec, manifest-tool v2 and docker manifest in one
 * (docker: two) process per spec.
 */
function batchScenario(
  o: { images: FixtureImage[]; baseEnv: Record<string, string>; peerEnv: Record<string, string> },
  t: {
    ours: (c: RunContext) => string[];
    mtool?: string;
    mtoolTls: (c: RunContext) => string;
    docker?: string;
  },
): Scenario {
  const sources = (c: RunContext) =>
    o.images.map((i) => ({
      image: `${c.host}/b/src-${platformTag(i.platform)}:latest`,
      platform: i.platform,
    }));
  const target = (c: RunContext, k: number) => `${c.host}/b/batch-${c.name}-${k}:v1`;
  /** Writes one spec file per target into `c.dir/specs/`, returning their paths. */
  const writeSpecs = async (c: RunContext): Promise<string[]> => {
    await Deno.mkdir(`${c.dir}/specs`, { recursive: true });
    const files: string[] = [];
    for (let k = 1; k <= BATCH_SPECS; k++) {
      const file = `${c.dir}/specs/${String(k).padStart(3, "0")}.yaml`;
      await Deno.writeTextFile(file, specYaml(target(c, k), sources(c)));
      files.push(file);
    }
    return files;
  };
  const entries: Entry[] = [];
  const skipped: string[] = [];
  if (BATCH_SUPPORT === true) {
    entries.push({
      tool: "ours",
      label: `ours: one push from-spec of ${BATCH_SPECS} specs`,
      env: o.baseEnv,
      commands: async (c) => {
        await writeSpecs(c);
        return [[...t.ours(c), "push", "from-spec", `${c.dir}/specs`]];
      },
    });
  } else skipped.push(`ours in one run: ${BATCH_SUPPORT}`);
  entries.push({
    tool: "ours-each",
    label: `ours: ${BATCH_SPECS} runs of push from-spec`,
    env: o.baseEnv,
    commands: async (c) => (await writeSpecs(c)).map((f) => [...t.ours(c), "push", "from-spec", f]),
  });
  if (t.mtool) {
    const mtool = t.mtool;
    entries.push({
      tool: "manifest-tool",
      label: `manifest-tool v2: ${BATCH_SPECS} runs of push from-spec`,
      env: o.peerEnv,
      commands: async (c) =>
        (await writeSpecs(c)).map((f) => [mtool, t.mtoolTls(c), "push", "from-spec", f]),
    });
  }
  if (t.docker) {
    const docker = t.docker;
    entries.push({
      tool: "docker",
      label: `docker manifest create + push, ${BATCH_SPECS} times`,
      env: o.peerEnv,
      commands: (c) =>
        Array.from({ length: BATCH_SPECS }, (_, i) => [
          [
            docker,
            "manifest",
            "create",
            "--insecure",
            target(c, i + 1),
            ...sources(c).map((s) => s.image),
          ],
          [docker, "manifest", "push", "--insecure", "--purge", target(c, i + 1)],
        ]).flat(),
    });
  }
  return {
    id: "6",
    title: `publish ${BATCH_SPECS} 6-platform indexes from shared sources, new repositories`,
    entries,
    skipped,
    runs: Math.min(RUNS, 3),
    // 50 runs of a slow peer take minutes: one run is enough once they pass the budget.
    minRuns: 1,
  };
}

/**
 * Whether the bundled CLI's `push from-spec` takes several specs (issue 16's engine): `true`, or
 * why not. Two specs whose sources do not exist are given; a CLI that takes one file refuses the
 * second with a usage error (exit 2) before any request, one that takes several fails on the
 * missing sources (exit 1).
 */
async function batchSupport(host: string, dir: string): Promise<true | string> {
  const files = [1, 2].map((k) => `${dir}/detect-${k}.yaml`);
  for (const [k, f] of files.entries()) {
    await Deno.writeTextFile(
      f,
      specYaml(`${host}/b/detect-${k}:v1`, [{ image: `${host}/b/none:missing` }]),
    );
  }
  const out = await new Deno.Command("deno", {
    args: [
      "run",
      "-A",
      `${ROOT}dist/manifest-tool.mjs`,
      "--plain-http",
      "push",
      "from-spec",
      ...files,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr).trim().split("\n")[0];
  return out.code === 2
    ? `push from-spec does not take several specs yet (${err.slice(0, 120)})`
    : true;
}

// ---------------------------------------------------------------------------------------------
// Results and the report.

interface Condition {
  rttMs: number;
  bytesPerSecond?: number;
  /** Registries behind TLS (the harness CA). */
  tls?: boolean;
}

function conditionName(c: Condition): string {
  return `${c.rttMs} ms RTT` +
    (c.bytesPerSecond ? `, ${+(c.bytesPerSecond / MIB).toFixed(1)} MiB/s` : "") +
    (c.tls ? ", TLS" : "");
}

interface Sample {
  ms: number;
  ok: boolean;
  rssKiB: number;
  traffic: TrafficTotals;
  /** Scenario 4: bytes read from the source registry. */
  bytesFromSource: number;
  error?: string;
}

interface Result {
  scenario: string;
  title: string;
  condition: string;
  rttMs: number;
  tool: string;
  label: string;
  samples: Sample[];
}

interface Summary {
  runs: number;
  failed: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  ratio: number;
  requests: number;
  connections: number;
  waves: number;
  rssMiB: number;
  mibPerSecond?: number;
  kinds: Record<string, number>;
}

function addTraffic(a: TrafficTotals, b: TrafficTotals, waves: number): TrafficTotals {
  const kinds = { ...a.kinds };
  for (const [k, v] of Object.entries(b.kinds)) kinds[k] = (kinds[k] ?? 0) + v;
  return {
    requests: a.requests + b.requests,
    connections: a.connections + b.connections,
    kinds,
    bytesUp: a.bytesUp + b.bytesUp,
    bytesDown: a.bytesDown + b.bytesDown,
    waves,
  };
}

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function summarize(r: Result, all: Result[]): Summary {
  const ok = r.samples.filter((s) => s.ok);
  const ms = ok.map((s) => s.ms);
  const oursRow = all.find((x) =>
    x.scenario === r.scenario && x.condition === r.condition && x.tool === "ours"
  );
  const base = oursRow ? median(oursRow.samples.filter((s) => s.ok).map((s) => s.ms)) : NaN;
  const med = median(ms);
  // The kinds of the run whose request count is the median.
  const reqs = ok.map((s) => s.traffic.requests);
  const medReq = median(reqs);
  const typical = ok.find((s) => s.traffic.requests === medReq) ?? ok[0];
  return {
    runs: r.samples.length,
    failed: r.samples.length - ok.length,
    medianMs: med,
    minMs: ms.length ? Math.min(...ms) : NaN,
    maxMs: ms.length ? Math.max(...ms) : NaN,
    ratio: med / base,
    requests: medReq,
    connections: median(ok.map((s) => s.traffic.connections)),
    waves: median(ok.map((s) => s.traffic.waves)),
    rssMiB: Math.max(0, ...ok.map((s) => s.rssKiB)) / 1024,
    ...(r.scenario === "4" || r.scenario === "7"
      ? { mibPerSecond: median(ok.map((s) => s.bytesFromSource / MIB / (s.ms / 1000))) }
      : {}),
    kinds: typical?.traffic.kinds ?? {},
  };
}

function fmt(n: number | undefined, digits = 0): string {
  return n === undefined || Number.isNaN(n) ? "—" : n.toFixed(digits);
}

interface Target {
  target: string;
  measured: string;
  met: boolean | undefined;
}

function buildReport(o: {
  loadAtStart: number[];
  results: Result[];
  conditions: Condition[];
  versions: Record<string, string>;
  uniqueSourceBlobs: number;
  farBytes: number;
  images: number;
  notes: string[];
}): { markdown: string; json: unknown } {
  const sums = new Map<Result, Summary>(o.results.map((r) => [r, summarize(r, o.results)]));
  const cpu = (() => {
    try {
      return /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ??
        "unknown CPU";
    } catch {
      return "unknown CPU";
    }
  })();
  const memGiB = Deno.systemMemoryInfo().total / 1024 ** 3;
  const machine = {
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    arch: Deno.build.arch,
    cpu,
    cores: navigator.hardwareConcurrency,
    memoryGiB: Math.round(memGiB),
    rss: GNU_TIME ? "GNU time %M (ru_maxrss)" : "polled VmHWM",
    loadAtStart: o.loadAtStart,
    loadAtEnd: Deno.loadavg(),
  };
  const lines: string[] = [
    `# Benchmark results (${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC)`,
    "",
    `Machine: ${machine.os}, ${machine.arch}, ${machine.cores} cores (${cpu}), ${machine.memoryGiB} GiB. ` +
    `${RUNS} runs per tool (${
      Math.max(RUNS, 10)
    } in scenario 5), alternating (A B C, A B C, …). Peak RSS: ${machine.rss}. ` +
    `Load average (1, 5, 15 min) at the start ${loadText(machine.loadAtStart)}, at the end ${
      loadText(machine.loadAtEnd)
    }: other work on the machine slows every tool, ratios in one run hold better than times.`,
    "",
    `Versions: ${Object.entries(o.versions).map(([k, v]) => `${k} \`${v}\``).join("; ")}.`,
    "",
    "Columns: median wall time of the whole command (process start to exit, several processes " +
    "added up where a tool needs several); × ours = its median over ours (above 1: slower than " +
    "ours); requests and TCP connections as the proxy saw them (TLS probes count as connections, " +
    "not requests); round trips = waves of requests at least one RTT apart; MiB/s = bytes read " +
    "from the source registry over wall time.",
  ];
  for (const cond of o.conditions) {
    const name = conditionName(cond);
    if (!o.results.some((x) => x.condition === name)) continue;
    lines.push(
      "",
      `## ${name}`,
      "",
      "| scenario | tool | runs | median ms | min–max ms | × ours | requests | conns | round trips | peak RSS MiB | MiB/s |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    );
    for (const r of o.results.filter((x) => x.condition === name)) {
      const s = sums.get(r)!;
      const cells = [
        `${r.scenario}. ${r.title}`,
        r.label + (s.failed ? ` (${s.failed} failed)` : ""),
        String(s.runs),
        fmt(s.medianMs),
        `${fmt(s.minMs)}–${fmt(s.maxMs)}`,
        fmt(s.ratio, 2),
        // Over TLS the proxy sees connections, not requests.
        cond.tls ? "—" : fmt(s.requests),
        fmt(s.connections),
        cond.rttMs && !cond.tls ? fmt(s.waves) : "—",
        fmt(s.rssMiB),
        fmt(s.mibPerSecond),
      ];
      lines.push(`| ${cells.join(" | ")} |`);
    }
  }

  if (o.notes.length > 0) lines.push("", ...o.notes.map((n) => `Left out: ${n}.`));
  const targets = checkTargets(o, sums);
  lines.push(
    "",
    "## Targets of issues 7, 16 and 20 (ours)",
    "",
    "| target | measured | met |",
    "| --- | --- | --- |",
    ...targets.map((t) =>
      `| ${t.target} | ${t.measured} | ${
        t.met === undefined ? "not measured" : t.met ? "yes" : "**no**"
      } |`
    ),
    "",
  );
  const json = {
    date: new Date().toISOString(),
    machine,
    versions: o.versions,
    options: {
      runs: RUNS,
      rttMs: RTT,
      bandwidthMiBps: BANDWIDTH ? BANDWIDTH / MIB : null,
      largeLayerMiB: LARGE / MIB,
    },
    conditions: o.conditions.map(conditionName),
    results: o.results.map((r) => ({ ...r, summary: sums.get(r) })),
    targets,
  };
  return { markdown: lines.join("\n"), json };
}

function checkTargets(
  o: { results: Result[]; conditions: Condition[]; uniqueSourceBlobs: number; images: number },
  sums: Map<Result, Summary>,
): Target[] {
  // The targets of issue 7 were set on plain HTTP: the last condition that is not TLS.
  const slow = o.conditions.filter((c) => !c.tls).at(-1)!;
  const slowName = conditionName(slow);
  const get = (scenario: string, tool: string, cond = slowName) => {
    const r = o.results.find((x) =>
      x.scenario === scenario && x.tool === tool && x.condition === cond
    );
    return r ? sums.get(r) : undefined;
  };
  const t: Target[] = [];

  const i1 = get("1", "ours");
  t.push({
    target: "(1) inspect: at most 3 dependent round trips",
    measured: !i1
      ? "—"
      : slow.rttMs
      ? `${fmt(i1.waves)} request waves, ${fmt(i1.requests)} requests, ${
        fmt(i1.medianMs)
      } ms at ${slowName}`
      : "needs --rtt > 0",
    met: i1 && slow.rttMs ? i1.waves <= 3 : undefined,
  });

  const p2 = get("2", "ours");
  const d2 = get("2", "docker");
  const limit2 = o.images + 1;
  t.push({
    target: `(2) same-repo push: at most N + 1 + T = ${limit2} requests`,
    measured: p2 ? `${fmt(p2.requests)} requests (${kindsText(p2.kinds)})` : "—",
    met: p2 ? p2.requests <= limit2 : undefined,
  });
  t.push({
    target: "(2) same-repo push: at most 1/5 of docker's time",
    measured: p2 && d2
      ? `${fmt(p2.medianMs)} ms vs docker ${fmt(d2.medianMs)} ms at ${slowName} (docker ${
        fmt(d2.ratio, 1)
      }×)`
      : "docker not measured",
    met: p2 && d2 ? d2.ratio >= 5 : undefined,
  });

  const p3 = get("3", "ours");
  const d3 = get("3", "docker");
  const mounts = p3 ? (p3.kinds["POST mount"] ?? 0) : 0;
  const heads = p3
    ? Object.entries(p3.kinds).filter(([k]) => k.startsWith("HEAD")).reduce((n, [, v]) => n + v, 0)
    : 0;
  t.push({
    target: `(3) cross-repo push: one mount per unique blob (${o.uniqueSourceBlobs}), no HEAD`,
    measured: p3 ? `${mounts} mounts, ${heads} HEADs, ${fmt(p3.requests)} requests` : "—",
    met: p3 ? mounts <= o.uniqueSourceBlobs && heads === 0 : undefined,
  });
  t.push({
    target: "(3) cross-repo push: about 26 requests, about 6 round trips, keep-alive",
    measured: p3
      ? `${fmt(p3.requests)} requests, ${slow.rttMs ? fmt(p3.waves) : "—"} round trips, ${
        fmt(p3.connections)
      } connections`
      : "—",
    met: p3 ? p3.requests <= 26 && (!slow.rttMs || p3.waves <= 6) : undefined,
  });
  t.push({
    target: "(3) cross-repo push: at most 1/10 of docker's time",
    measured: p3 && d3
      ? `${fmt(p3.medianMs)} ms vs docker ${fmt(d3.medianMs)} ms at ${slowName} (docker ${
        fmt(d3.ratio, 1)
      }×)`
      : "docker not measured",
    met: p3 && d3 ? d3.ratio >= 10 : undefined,
  });

  for (const cond of o.conditions) {
    const name = conditionName(cond);
    const c4 = get("4", "ours", name);
    const s4 = get("4", "skopeo", name);
    if (!c4) continue;
    t.push({
      target: `(4) copy: throughput at least skopeo's (${name})`,
      measured: s4
        ? `${fmt(c4.mibPerSecond)} MiB/s vs skopeo ${fmt(s4.mibPerSecond)} MiB/s`
        : `${fmt(c4.mibPerSecond)} MiB/s; skopeo not measured`,
      met: s4 ? c4.mibPerSecond! >= s4.mibPerSecond! : undefined,
    });
  }
  const rss = Math.max(
    0,
    ...o.results.filter((r) => r.scenario === "4" && r.tool === "ours").map((r) =>
      sums.get(r)!.rssMiB
    ),
  );
  t.push({
    target: "(4) copy: peak RSS under 150 MiB with a 1 GiB layer",
    measured: rss ? `${fmt(rss)} MiB with a ${LARGE / MIB} MiB layer` : "—",
    met: rss && LARGE >= 1024 * MIB ? rss < 150 : undefined,
  });
  t.push(...issue20Targets(o, get), ...issue16Targets(o, get));
  const v = get("5", "ours", conditionName(o.conditions[0]));
  t.push({
    target: "(5) `--version` of the bundled CLI under 100 ms",
    measured: v ? `${fmt(v.medianMs)} ms (min–max ${fmt(v.minMs)}–${fmt(v.maxMs)})` : "—",
    met: v ? v.medianMs < 100 : undefined,
  });
  return t;
}

type Getter = (scenario: string, tool: string, cond?: string) => Summary | undefined;

/** Issue 20's targets: start-up, inspect and pushes against manifest-tool v2, copy vs crane. */
function issue20Targets(o: { conditions: Condition[] }, get: Getter): Target[] {
  const t: Target[] = [];
  const first = conditionName(o.conditions[0]);
  const slow = o.conditions.find((c) => c.rttMs > 0 && !c.tls);
  const tls = o.conditions.find((c) => c.tls);
  const v = get("5", "ours", first);
  const floor = get("5", "ours-floor", first);
  t.push({
    target: "(5) bundled `--version` at most 1.6× `deno run` of an empty script",
    measured: v && floor
      ? `${fmt(v.medianMs)} ms vs ${fmt(floor.medianMs)} ms (${
        fmt(v.medianMs / floor.medianMs, 2)
      }×)`
      : "—",
    met: v && floor ? v.medianMs <= 1.6 * floor.medianMs : undefined,
  });
  const vsPeer = (
    scenario: string,
    peer: string,
    cond: Condition | undefined,
    what: string,
    limit: number,
  ) => {
    const name = cond ? conditionName(cond) : "";
    const ours = cond ? get(scenario, "ours", name) : undefined;
    const them = cond ? get(scenario, peer, name) : undefined;
    t.push({
      target: `(${scenario}) ${what}: at most ${limit}× ${peer}'s time (${name || "not run"})`,
      measured: ours && them
        ? `${fmt(ours.medianMs)} ms vs ${fmt(them.medianMs)} ms (${fmt(1 / them.ratio, 2)}×)`
        : `${peer} not measured`,
      met: ours && them ? ours.medianMs <= limit * them.medianMs : undefined,
    });
  };
  vsPeer("1", "manifest-tool", o.conditions[0], "inspect", 1);
  vsPeer("1", "manifest-tool", tls, "inspect", 0.7);
  for (const cond of [slow, tls]) {
    vsPeer("2", "manifest-tool", cond, "same-repo push", 0.25);
    vsPeer("3", "manifest-tool", cond, "cross-repo push", 0.25);
  }
  for (const scenario of ["4", "7"]) {
    for (const cond of o.conditions.filter((c) => !c.tls)) {
      const name = conditionName(cond);
      const ours = get(scenario, "ours", name);
      const crane = get(scenario, "crane", name);
      if (!ours) continue;
      t.push({
        target: `(${scenario}) copy: at least 1.2× crane's MiB/s (${name})`,
        measured: crane
          ? `${fmt(ours.mibPerSecond)} MiB/s vs crane ${fmt(crane.mibPerSecond)} MiB/s`
          : `${fmt(ours.mibPerSecond)} MiB/s; crane not measured`,
        met: crane ? ours.mibPerSecond! >= 1.2 * crane.mibPerSecond! : undefined,
      });
    }
  }
  const huge = o.conditions.map((c) => get("7", "ours", conditionName(c))).filter((x) => x);
  const rss = Math.max(0, ...huge.map((x) => x!.rssMiB));
  t.push({
    target: "(7) copy: peak RSS at most 100 MiB with the 1 GiB layer",
    measured: huge.length ? `${fmt(rss)} MiB with a ${HUGE / MIB} MiB layer` : "—",
    met: huge.length && HUGE >= 1024 * MIB ? rss <= 100 : undefined,
  });
  return t;
}

/** Issue 16's target: one batch run against one run per spec of manifest-tool v2. */
function issue16Targets(o: { conditions: Condition[] }, get: Getter): Target[] {
  const slow = o.conditions.find((c) => c.rttMs > 0 && !c.tls);
  const name = slow ? conditionName(slow) : "";
  const one = slow ? get("6", "ours", name) : undefined;
  const mt = slow ? get("6", "manifest-tool", name) : undefined;
  const each = slow ? get("6", "ours-each", name) : undefined;
  return [{
    target: `(6) batch of ${BATCH_SPECS}: one run at least 10× faster than ${BATCH_SPECS} runs ` +
      `of manifest-tool v2 (${name || "needs --rtt > 0"})`,
    measured: one && mt
      ? `${fmt(one.medianMs)} ms vs ${fmt(mt.medianMs)} ms (${fmt(mt.ratio, 1)}×); ours in ` +
        `${BATCH_SPECS} runs ${each ? fmt(each.medianMs) : "—"} ms; ${
          fmt(one.requests)
        } requests, ` +
        `${fmt(one.connections)} connections`
      : !one
      ? `ours in one run not measured (${BATCH_SUPPORT === true ? "—" : BATCH_SUPPORT})`
      : "manifest-tool v2 not measured",
    met: one && mt ? mt.ratio >= 10 : undefined,
  }];
}

function loadText(l: number[]): string {
  return l.map((x) => x.toFixed(1)).join(" ");
}

function kindsText(k: Record<string, number>): string {
  return Object.entries(k).sort().map(([n, c]) => `${c} ${n}`).join(", ");
}
