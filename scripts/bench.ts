/**
 * `deno task bench`: our tool against the peers found on PATH, on the same registries in the same
 * run, at 0 ms and at a realistic RTT, through a proxy that adds latency and counts requests.
 * Runs alternate (A B A B …); the report gives median wall time, min–max, the ratio to ours and
 * HTTP requests per run, as Markdown and JSON in .bench/.
 *
 *   deno task bench [--runs N] [--rtt MS] [--large-mib N] [--quick]
 *
 * Peers: docker manifest (create + push), skopeo, and where installed crane, regctl, manifest-tool
 * (v2) and buildah. Everything it starts is stopped; traffic stays on 127.0.0.1.
 */

import { parseArgs } from "node:util";
import { pushFixtures, type RunningProxy, startProxy, startRegistry } from "./harness/mod.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "5" },
    rtt: { type: "string", default: "50" },
    "large-mib": { type: "string", default: "64" },
    quick: { type: "boolean" },
  },
  strict: true,
});
const RUNS = values.quick ? 2 : Number(values.runs);
const RTTS = [0, Number(values.rtt)];
const LARGE = Number(values["large-mib"]) * 1024 * 1024;

function which(cmd: string): string | undefined {
  const paths = [`${ROOT}.tools/go/bin`, ...(Deno.env.get("PATH") ?? "").split(":")];
  for (const p of paths) {
    try {
      if (Deno.statSync(`${p}/${cmd}`).isFile) return `${p}/${cmd}`;
    } catch { /* not here */ }
  }
  return undefined;
}

interface Sample {
  ms: number;
  requests: number;
  rssKiB: number;
  ok: boolean;
}

async function timed(
  cmd: string[],
  env: Record<string, string> = {},
): Promise<{ ms: number; rssKiB: number; ok: boolean; err: string }> {
  const started = performance.now();
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdout: "null",
    stderr: "piped",
    env,
  }).spawn();
  let rss = 0;
  const poll = setInterval(() => {
    try {
      const s = Deno.readTextFileSync(`/proc/${child.pid}/status`);
      rss = Math.max(rss, Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0));
    } catch { /* exited */ }
  }, 20);
  const out = await child.output();
  clearInterval(poll);
  return {
    ms: performance.now() - started,
    rssKiB: rss,
    ok: out.success,
    err: new TextDecoder().decode(out.stderr).slice(-300),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const ours = ["deno", "run", "-A", `${ROOT}dist/manifest-tool.mjs`, "--plain-http"];
const tmp = await Deno.makeTempDir({ prefix: "mt-bench-" });
const dockerCfg = `${tmp}/docker`;
await Deno.mkdir(dockerCfg);

console.error("bench: bundling the CLI");
const b = await new Deno.Command("deno", {
  args: ["task", "bundle"],
  cwd: ROOT,
  stdout: "null",
  stderr: "null",
}).output();
if (!b.success) throw new Error("deno task bundle failed");

await using reg = await startRegistry();
await using other = await startRegistry();
// Interrupted (Ctrl-C, kill): stop the registries before leaving.
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(sig, async () => {
    await Promise.allSettled([reg.stop(), other.stop()]);
    Deno.exit(130);
  });
}
console.error("bench: pushing fixtures");
const same = await pushFixtures(reg, {
  repository: "b/same",
  format: "docker",
  index: { tag: "multi" },
});
await pushFixtures(reg, { repository: "b/src", layout: "repos", format: "docker", seed: "r" });
const far = await pushFixtures(other, {
  repository: "b/far",
  format: "docker",
  index: { tag: "multi" },
  largeLayerBytes: values.quick ? 8 * 1024 * 1024 : LARGE,
  seed: "f",
});

type Tool = {
  name: string;
  cmd: (h: string, run: number) => string[][];
  env?: Record<string, string>;
};
interface Scenario {
  id: string;
  title: string;
  proxied: "reg" | "other" | "both";
  tools: Tool[];
}

/** A spec's platform block, complete (os.version too) so no config needs fetching. */
const platformYaml = (
  p: { os: string; architecture: string; variant?: string; "os.version"?: string },
) =>
  JSON.stringify({
    os: p.os,
    architecture: p.architecture,
    variant: p.variant,
    "os.version": p["os.version"],
  });
const tag = (i: { platform: { os: string; architecture: string; variant?: string } }) =>
  [i.platform.os, i.platform.architecture, i.platform.variant].filter(Boolean).join("-");
const docker = which("docker");
const skopeo = which("skopeo");
const crane = which("crane");
const regctl = which("regctl");
const mtool = which("manifest-tool");

function scenarios(): Scenario[] {
  const list: Scenario[] = [];
  const inspectTools: Tool[] = [{
    name: "ours",
    cmd: (h) => [[...ours, "inspect", `${h}/b/same:multi`]],
  }];
  if (docker) {
    inspectTools.push({
      name: "docker manifest inspect -v",
      cmd: (h) => [[docker, "manifest", "inspect", "--insecure", "-v", `${h}/b/same:multi`]],
      env: { DOCKER_CONFIG: dockerCfg },
    });
  }
  if (regctl) {
    inspectTools.push({
      name: "regctl manifest get",
      cmd: (h) => [[regctl, "manifest", "get", `${h}/b/same:multi`]],
    });
  }
  if (mtool) {
    inspectTools.push({
      name: "manifest-tool v2",
      cmd: (h) => [[mtool, "--plain-http", "inspect", `${h}/b/same:multi`]],
    });
  }
  list.push({ id: "1", title: "inspect a 6-platform index", proxied: "reg", tools: inspectTools });

  const pushTools = (
    repoOf: (h: string, i: typeof same.images[number]) => string,
    scenario: string,
    target: string,
  ): Tool[] => {
    const t: Tool[] = [];
    t.push({
      name: "ours",
      cmd: (h, run) => {
        const spec = `${tmp}/spec-${scenario}-${run}.yaml`;
        Deno.writeTextFileSync(
          spec,
          `image: ${h}/${target}:r${run}\nmanifests:\n${
            same.images.map((i) =>
              `  - image: ${repoOf(h, i)}\n    platform: ${platformYaml(i.platform)}`
            ).join("\n")
          }\n`,
        );
        return [[...ours, "push", "from-spec", spec]];
      },
    });
    if (docker) {
      t.push({
        name: "docker manifest",
        env: { DOCKER_CONFIG: dockerCfg },
        cmd: (h, run) => [
          [
            docker,
            "manifest",
            "create",
            "--insecure",
            "--amend",
            `${h}/${target}:d${run}`,
            ...same.images.map((i) => repoOf(h, i)),
          ],
          [docker, "manifest", "push", "--insecure", "--purge", `${h}/${target}:d${run}`],
        ],
      });
    }
    if (mtool) {
      t.push({
        name: "manifest-tool v2",
        cmd: (h, run) => {
          const spec = `${tmp}/mt-${scenario}-${run}.yaml`;
          Deno.writeTextFileSync(
            spec,
            `image: ${h}/${target}:m${run}\nmanifests:\n${
              same.images.map((i) =>
                `  - image: ${repoOf(h, i)}\n    platform: ${platformYaml(i.platform)}`
              ).join("\n")
            }\n`,
          );
          return [[mtool, "--plain-http", "push", "from-spec", spec]];
        },
      });
    }
    if (crane) {
      t.push({
        name: "crane index append",
        cmd: (
          h,
          run,
        ) => [[
          crane,
          "index",
          "append",
          "--insecure",
          ...same.images.flatMap((i) => ["-m", repoOf(h, i)]),
          "-t",
          `${h}/${target}:c${run}`,
        ]],
      });
    }
    return t;
  };
  list.push({
    id: "2",
    title: "push a 6-platform list, sources in the target repo",
    proxied: "reg",
    tools: pushTools((h, i) => `${h}/b/same:${tag(i)}`, "2", "b/same"),
  });
  list.push({
    id: "3",
    title: "push a 6-platform list from six other repos (mounts)",
    proxied: "reg",
    tools: pushTools((h, i) => `${h}/b/src-${tag(i)}:latest`, "3", "b/t3"),
  });

  const copyTools: Tool[] = [{
    name: "ours",
    cmd: (h, run) => {
      const spec = `${tmp}/copy-${run}.yaml`;
      Deno.writeTextFileSync(
        spec,
        `image: ${reg.host}/b/copy${run}:v1\nmanifests:\n  - image: ${h}/b/far:multi\n`,
      );
      return [[...ours, "push", "from-spec", spec]];
    },
  }];
  if (skopeo) {
    copyTools.push({
      name: "skopeo copy --all",
      cmd: (
        h,
        run,
      ) => [[
        skopeo,
        "copy",
        "--all",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        `docker://${h}/b/far:multi`,
        `docker://${reg.host}/b/scopy${run}:v1`,
      ]],
    });
  }
  list.push({
    id: "4",
    title: `copy a 6-platform index from another registry (one ${
      Math.round(far.images[0].layers.at(-1)!.size / 1048576)
    } MiB layer)`,
    proxied: "other",
    tools: copyTools,
  });
  list.push({
    id: "5",
    title: "--version of the bundled CLI",
    proxied: "reg",
    tools: [{ name: "ours", cmd: () => [[...ours, "--version"]] }],
  });
  return list;
}

const results: { scenario: string; rtt: number; tool: string; samples: Sample[] }[] = [];
let run = 0;
for (const rtt of RTTS) {
  for (const s of scenarios()) {
    if (s.id === "5" && rtt > 0) continue;
    await using proxy: RunningProxy = await startProxy({
      upstream: s.proxied === "other" ? other.url : reg.url,
      latencyMs: rtt,
    });
    const rows = s.tools.map((t) => ({
      scenario: `${s.id}. ${s.title}`,
      rtt,
      tool: t.name,
      samples: [] as Sample[],
    }));
    for (let i = 0; i < RUNS; i++) {
      for (const [k, t] of s.tools.entries()) {
        run++;
        const before = proxy.log.length;
        let ms = 0;
        let rss = 0;
        let ok = true;
        for (const cmd of t.cmd(proxy.host, run)) {
          const r = await timed(cmd, {
            ...t.env,
            PATH: Deno.env.get("PATH") ?? "",
            HOME: Deno.env.get("HOME") ?? "",
          });
          ms += r.ms;
          rss = Math.max(rss, r.rssKiB);
          if (!r.ok) {
            ok = false;
            console.error(`bench: ${t.name} failed in scenario ${s.id}: ${r.err.trim()}`);
          }
        }
        rows[k].samples.push({ ms, requests: proxy.log.length - before, rssKiB: rss, ok });
      }
    }
    results.push(...rows);
    console.error(`bench: scenario ${s.id} at ${rtt} ms done`);
  }
}

const cpu =
  (await Deno.readTextFile("/proc/cpuinfo").catch(() => "")).match(/model name\s*:\s*(.*)/)?.[1] ??
    "unknown CPU";
const lines = [
  `Machine: ${Deno.build.os}/${Deno.build.arch}, ${navigator.hardwareConcurrency} cores, ${cpu}; Deno ${Deno.version.deno}; ${RUNS} runs each, alternating.`,
  "",
  "| scenario | RTT | tool | median ms | min–max ms | ratio to ours | requests/run | peak RSS MiB |",
  "|---|---|---|---|---|---|---|---|",
];
for (const r of results) {
  const ok = r.samples.filter((s) => s.ok);
  const oursRow = results.find((x) =>
    x.scenario === r.scenario && x.rtt === r.rtt && x.tool === "ours"
  );
  const med = ok.length ? median(ok.map((s) => s.ms)) : NaN;
  const base = oursRow ? median(oursRow.samples.map((s) => s.ms)) : NaN;
  lines.push(
    `| ${r.scenario} | ${r.rtt} ms | ${r.tool}${
      ok.length < r.samples.length ? " (failed runs)" : ""
    } | ${med.toFixed(0)} | ${Math.min(...ok.map((s) => s.ms)).toFixed(0)}–${
      Math.max(...ok.map((s) => s.ms)).toFixed(0)
    } | ${(med / base).toFixed(2)}× | ${median(r.samples.map((s) => s.requests))} | ${
      (Math.max(...r.samples.map((s) => s.rssKiB)) / 1024).toFixed(0)
    } |`,
  );
}
const md = lines.join("\n") + "\n";
await Deno.mkdir(`${ROOT}.bench`, { recursive: true });
await Deno.writeTextFile(`${ROOT}.bench/results.md`, md);
await Deno.writeTextFile(
  `${ROOT}.bench/results.json`,
  JSON.stringify({ runs: RUNS, results }, null, 2),
);
console.log(md);
await Deno.remove(tmp, { recursive: true });
