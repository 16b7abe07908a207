// Start-up cost: under Deno, importing node:crypto, node:https, node:zlib or the yaml package
// costs tens of milliseconds each (Node compatibility and npm start-up), so `--version` and
// `inspect` must not load them before they are needed. The static import graph (what loads before
// any code runs) is read from `deno info --json`, whose dependencies mark dynamic imports.
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

interface InfoDependency {
  specifier: string;
  code?: { specifier: string };
  isDynamic?: boolean;
}
interface Info {
  roots: string[];
  modules: { specifier: string; dependencies?: InfoDependency[] }[];
  redirects: Record<string, string>;
}

/** The modules `file` loads before its code runs: static imports only, type imports excluded. */
async function staticGraph(file: string): Promise<Set<string>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", file],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info: Info = JSON.parse(new TextDecoder().decode(out.stdout));
  const modules = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const stack = [...info.roots];
  while (stack.length > 0) {
    const raw = stack.pop()!;
    const specifier = info.redirects[raw] ?? raw;
    if (seen.has(specifier)) continue;
    // Both names: the import as written (`npm:yaml@2.9.1`) and where it leads (`npm:/yaml@2.9.1`).
    seen.add(raw);
    seen.add(specifier);
    for (const dep of modules.get(specifier)?.dependencies ?? []) {
      if (dep.code && !dep.isDynamic) stack.push(dep.code.specifier);
    }
  }
  return new Set([...seen].map((s) => s.startsWith(ROOT.href) ? s.slice(ROOT.href.length) : s));
}

const EXPENSIVE = [/^npm:\/?yaml@/, /^node:https$/, /^node:zlib$/, /^node:crypto$/];

Deno.test("cli.ts (--version, --help) and the inspect command statically load no yaml, node:https, node:zlib or node:crypto", async () => {
  for (const file of ["cli.ts", "cli/inspect.ts"]) {
    const graph = await staticGraph(file);
    assert.ok(graph.has(file), `${file}: ${[...graph].join(", ")}`);
    for (const re of EXPENSIVE) {
      const hits = [...graph].filter((s) => re.test(s));
      assert.deepEqual(hits, [], `${file} loads ${hits.join(", ")} at start-up`);
    }
  }
});

Deno.test("cli.ts imports each command's module only when the command runs", async () => {
  const graph = await staticGraph("cli.ts");
  const commands = [...graph].filter((s) =>
    /^cli\/(?!context|commands|output|_flags)[a-z_]+\.ts$/.test(s)
  );
  assert.deepEqual(commands, []);
});

Deno.test("the yaml package loads with the spec parser only, never with lib/spec.ts itself", async () => {
  const graph = await staticGraph("lib/spec.ts");
  assert.deepEqual([...graph].filter((s) => /yaml/.test(s) || s === "lib/spec_parse.ts"), []);
  const parser = await staticGraph("lib/spec_parse.ts");
  assert.ok([...parser].some((s) => /^npm:\/?yaml@/.test(s)), "the guard sees the yaml package");
});

Deno.test("each subpath export loads no yaml, node:https or node:zlib before it is used", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const subpaths = Object.entries(config.exports as Record<string, string>)
    .filter(([name]) => name !== "." && name !== "./cli");
  assert.ok(subpaths.length >= 10, "the package has subpath exports");
  for (const [name, file] of subpaths) {
    const graph = await staticGraph(file);
    for (const re of EXPENSIVE.slice(0, 3)) {
      const hits = [...graph].filter((s) => re.test(s));
      assert.deepEqual(hits, [], `${name} (${file}) loads ${hits.join(", ")} when imported`);
    }
  }
});

/**
 * Bundles cli.ts as `deno task bundle` does (its flags read from deno.json) into `dir`, and
 * returns the output file.
 */
async function bundleAsTheTaskDoes(dir: string): Promise<string> {
  const task: string = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))).tasks.bundle;
  // "deno bundle --platform=… -o dist/manifest-tool.mjs cli.ts" without "deno".
  const args = task.split(/\s+/).slice(1);
  const out = `${dir}/manifest-tool.mjs`;
  args[args.indexOf("-o") + 1] = out;
  const b = await new Deno.Command(Deno.execPath(), {
    args: [...args, "--quiet"],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(b.code, 0, new TextDecoder().decode(b.stderr));
  return out;
}

// `deno bundle` inlines dynamically imported local modules and hoists their static `node:` and
// npm imports to the top of the single file, where they run at every start: the bundle's start
// path is guarded on the output itself.
Deno.test("the bundle (deno task bundle) imports nothing at the top level and prints --version with no permissions", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mt-startup-" });
  try {
    const out = await bundleAsTheTaskDoes(dir);
    const code = await Deno.readTextFile(out);
    // Top-level static imports start a line; dynamic ones (`await import("node:https")`) do not.
    const imports = code.split("\n").filter((l) => /^import\s*[^\s(]/.test(l));
    assert.deepEqual(imports, [], "static imports in the bundle run at start-up");
    // The shim the bundler adds for a CommonJS package (yaml's Node build) loads node:module.
    assert.ok(!code.includes("createRequire"), "the bundle needs node:module's createRequire");
    const v = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", out, "--version"],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    assert.equal(v.code, 0, new TextDecoder().decode(v.stderr));
    assert.match(new TextDecoder().decode(v.stdout), /^manifest-tool version /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the commands that talk to registries say so (cli.ts prepares TLS for them), help and local ones do not", async () => {
  const { COMMANDS } = await import("../cli/commands.ts");
  const network = (name: string, ...args: string[]) => COMMANDS[name].network?.(args) ?? false;
  for (const name of ["inspect", "platforms", "verify", "push", "check-registry"]) {
    assert.equal(network(name, "127.0.0.1:5000/a:b"), true, name);
    assert.equal(network(name, "--help"), false, name);
  }
  assert.equal(network("manifest", "create", "a:b", "c:d"), true);
  assert.equal(network("manifest", "push", "a:b"), true);
  assert.equal(network("manifest", "annotate", "a:b", "c:d", "--os", "linux"), false);
  assert.equal(network("manifest", "rm", "a:b"), false);
  assert.equal(network("completions", "bash"), false);
});

Deno.test("work given to Transport.whileWaiting starts only once a request has been handed over", async () => {
  const { startRegistry } = await import("../scripts/harness/mod.ts");
  const { Transport } = await import("../lib/registry/transport.ts");
  const { sleep } = await import("../lib/_timer.ts");
  await using reg = await startRegistry();
  await using transport = new Transport({ plainHttp: [reg.host] });
  const events: string[] = [];
  const ran = Promise.withResolvers<void>();
  transport.whileWaiting(() => {
    events.push("work");
    ran.resolve();
    return Promise.resolve();
  });
  transport.whileWaiting(() => Promise.reject(new Error("failed work is ignored")));
  await sleep(20);
  assert.deepEqual([...events], [], "no request yet: nothing ran");

  const sent = transport.fetch({ method: "GET", url: `http://${reg.host}/v2/` });
  events.push("fetch called");
  const stop = new AbortController();
  await Promise.race([ran.promise, sleep(10_000, stop.signal).catch(() => {})]);
  stop.abort();
  assert.deepEqual([...events], ["fetch called", "work"]);
  await (await sent).body?.cancel();

  // Work given later waits for the next request again.
  transport.whileWaiting(() => Promise.resolve(events.push("later")));
  await sleep(20);
  assert.deepEqual([...events], ["fetch called", "work"]);
});
