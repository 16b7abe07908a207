// Output modes of every command: --quiet (only the result), --json records (their shape), and
// colours only on a terminal without NO_COLOR or --no-color; the progress mode decision as a table.
import assert from "node:assert/strict";
import { main } from "../cli.ts";
import { colorsFor, progressMode } from "../cli/output.ts";
import { ANSI, PLAIN } from "../lib/format/colors.ts";
import { pushFixtures, startRegistry } from "../scripts/harness/mod.ts";
import { runCli } from "./_helpers/cli.ts";

const DIGEST = /^sha256:[0-9a-f]{64}$/;

Deno.test("progressMode(): live only on a colour terminal, plain lines on a bare one, none in logs", () => {
  const env = (vars: Record<string, string>) => (n: string) => vars[n];
  const table: [Parameters<typeof progressMode>[0], string][] = [
    [{ globals: {}, isTerminal: true, errIsTerminal: true, env: env({}) }, "tty"],
    [{ globals: {}, isTerminal: false, errIsTerminal: true, env: env({}) }, "tty"],
    [{ globals: {}, isTerminal: true, errIsTerminal: false, env: env({}) }, "none"],
    [{ globals: {}, isTerminal: true, env: env({}) }, "none"],
    [{ globals: {}, isTerminal: true, errIsTerminal: true, env: env({ NO_COLOR: "1" }) }, "plain"],
    [{ globals: {}, isTerminal: true, errIsTerminal: true, env: env({ NO_COLOR: "" }) }, "tty"],
    [{ globals: { noColor: true }, isTerminal: true, errIsTerminal: true, env: env({}) }, "plain"],
    [{ globals: {}, isTerminal: true, errIsTerminal: true, env: env({ TERM: "dumb" }) }, "plain"],
    [{ globals: { quiet: true }, isTerminal: true, errIsTerminal: true, env: env({}) }, "none"],
    [{ globals: {}, isTerminal: true, errIsTerminal: true, env: env({ CI: "true" }) }, "none"],
    [{ globals: {}, isTerminal: true, errIsTerminal: true, env: env({ CI: "false" }) }, "tty"],
    [{ globals: { progress: "plain" }, isTerminal: false, env: env({}) }, "plain"],
    [{ globals: { progress: "tty" }, isTerminal: false, env: env({}) }, "tty"],
    [
      { globals: { progress: "none" }, isTerminal: true, errIsTerminal: true, env: env({}) },
      "none",
    ],
  ];
  for (const [o, want] of table) assert.equal(progressMode(o), want, JSON.stringify(o));
});

Deno.test("colorsFor(): colour on a terminal only, never with NO_COLOR or --no-color", () => {
  const none = () => undefined;
  assert.equal(colorsFor({ globals: {}, isTerminal: true, env: none }), ANSI);
  assert.equal(colorsFor({ globals: {}, isTerminal: false, env: none }), PLAIN);
  assert.equal(colorsFor({ globals: { noColor: true }, isTerminal: true, env: none }), PLAIN);
  assert.equal(
    colorsFor({ globals: {}, isTerminal: true, env: (n) => n === "NO_COLOR" ? "1" : undefined }),
    PLAIN,
  );
});

Deno.test("an unknown --progress mode is a usage error (exit 2)", async () => {
  const r = await runCli(["--progress", "fancy", "platforms", "x"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Invalid --progress "fancy": expected auto, tty, plain or none/);
});

Deno.test("output modes against a registry", async (t) => {
  await using reg = await startRegistry();
  const H = reg.host;
  const set = await pushFixtures(reg, {
    format: "oci",
    repository: "out/app",
    platforms: [{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "s390x" }],
    index: { tag: "multi" },
  });
  const sources = set.images.map((i) => `${H}/${i.repository}:${i.tag}`);
  const spec = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(
    spec,
    `image: ${H}/out/app:pushed\nmanifests:\n${
      [...sources, `${H}/out/app:no-such-tag`].map((s) => `  - image: ${s}`).join("\n")
    }\n`,
  );
  const home = await Deno.makeTempDir({ prefix: "mt-home-" });
  await using _ = {
    async [Symbol.asyncDispose]() {
      await Deno.remove(home, { recursive: true }).catch(() => {});
      await Deno.remove(spec).catch(() => {});
    },
  };
  const env = { HOME: home, MANIFEST_TOOL_HOME: `${home}/lists` };

  await t.step("push --quiet prints only the Digest line; its warnings are gone", async () => {
    const loud = await runCli(["push", "from-spec", "--ignore-missing", spec], { env });
    assert.equal(loud.code, 0, loud.stderr);
    assert.match(loud.stderr, /^warning: Skipping ".*no-such-tag"/m);
    const quiet = await runCli(["--quiet", "push", "from-spec", "--ignore-missing", spec], { env });
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stderr, "");
    assert.match(quiet.stdout, /^Digest: sha256:[0-9a-f]{64} \d+\n$/);
    assert.equal(quiet.stdout, loud.stdout.split("\n").slice(-2).join("\n"));
    const dry = await runCli(["push", "-q", "from-spec", "--dry-run", "--ignore-missing", spec], {
      env,
    });
    assert.equal(dry.stdout, quiet.stdout, "a quiet dry run prints the digest it would push");
  });

  await t.step("--quiet still prints errors on stderr with their exit code", async () => {
    const r = await runCli(["-q", "inspect", `${H}/out/app:no-such-tag`], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^manifest-tool: .*no-such-tag/);
    assert.equal(r.stdout, "");
  });

  await t.step("push --json: digest, size and mediaType at the top, then the details", async () => {
    const r = await runCli(["push", "from-spec", "--ignore-missing", "--json", spec], { env });
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(j).slice(0, 3), ["digest", "size", "mediaType"]);
    assert.match(j.digest, DIGEST);
    assert.equal(j.digest, j.descriptor.digest);
    assert.equal(j.size, j.descriptor.size);
    for (const k of ["target", "tags", "dryRun", "index", "manifests", "blobs", "skipped"]) {
      assert.ok(k in j, k);
    }
    assert.equal(j.skipped.length, 1);
  });

  await t.step(
    "manifest create --quiet prints nothing; manifest push --json the push record",
    async () => {
      const list = `${H}/out/app:list`;
      const c = await runCli(["manifest", "create", "--quiet", list, ...sources], { env });
      assert.equal(c.code, 0, c.stderr);
      assert.equal(c.stdout, "");
      const p = await runCli(["manifest", "push", "--json", list], { env });
      assert.equal(p.code, 0, p.stderr);
      const j = JSON.parse(p.stdout);
      assert.match(j.digest, DIGEST);
      const res = await fetch(`${reg.url}/v2/out/app/manifests/list`, {
        method: "HEAD",
        // docker's rule picks the list's media type from its first entry: accept either.
        headers: {
          accept:
            "application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json",
        },
      });
      await res.body?.cancel();
      assert.equal(res.headers.get("docker-content-digest"), j.digest);
      assert.equal(Number(res.headers.get("content-length")), j.size);
    },
  );

  await t.step("inspect --json is the --raw record", async () => {
    const [json, raw] = await Promise.all([
      runCli(["inspect", "--json", `${H}/out/app:multi`], { env }),
      runCli(["inspect", "--raw", `${H}/out/app:multi`], { env }),
    ]);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(json.stdout, raw.stdout);
    assert.equal(typeof JSON.parse(json.stdout), "object");
  });

  await t.step("--no-color and NO_COLOR turn colour off on a terminal", async () => {
    const run = async (args: string[], vars: Record<string, string>) => {
      let out = "";
      let err = "";
      const code = await main([...args, "inspect", `${H}/out/app:multi`], {
        out: (s) => out += s,
        err: (s) => err += s,
        isTerminal: true,
        errIsTerminal: true,
        env: (n) => ({ HOME: home, ...vars })[n],
      });
      assert.equal(code, 0, err);
      return out;
    };
    const colour = await run([], {});
    assert.ok(colour.includes("\x1b["), "colour on a terminal");
    for (const [args, vars] of [[["--no-color"], {}], [[], { NO_COLOR: "1" }]] as const) {
      const out = await run([...args], vars);
      assert.ok(!out.includes("\x1b"), `${args} ${JSON.stringify(vars)}`);
      // deno-lint-ignore no-control-regex -- ANSI colour sequences are what is stripped
      assert.equal(out, colour.replace(/\x1b\[[0-9;]*m/g, ""));
    }
  });
});

Deno.test("what a registry says in Warning headers is shown once per run, escaped, and not with --quiet", async () => {
  const { startProxy } = await import("../scripts/harness/mod.ts");
  await using reg = await startRegistry();
  await pushFixtures(reg, { repository: "w/app", index: { tag: "multi" } });
  const flood = Array.from({ length: 20 }, (_, i) => `299 - "flood ${i}"`);
  await using proxy = await startProxy({
    upstream: reg.url,
    async intercept({ forward }) {
      const res = await forward();
      const headers = new Headers(res.headers);
      headers.append("warning", '299 - "Your auth token will expire in 30 seconds."');
      // A C1 CSI (one byte that starts an escape sequence on many terminals): a header may carry
      // it, where the C0 controls never reach us (the HTTP client refuses them).
      headers.append("warning", '299 - "paint it \x9b31mred\\" or not"');
      headers.append("warning", '110 cache "Response is stale"');
      if (new URL(res.url).pathname.endsWith("/manifests/multi")) {
        headers.append("warning", flood.join(", "));
      }
      return new Response(res.body, { status: res.status, headers });
    },
  });
  const ref = `${proxy.host}/w/app:multi`;
  const r = await runCli(["--plain-http", "inspect", ref]);
  assert.equal(r.code, 0, r.stderr);
  const warnings = r.stderr.split("\n").filter((l) => l.startsWith("warning: "));
  assert.equal(
    warnings[0],
    `warning: ${proxy.host} says: Your auth token will expire in 30 seconds.`,
    r.stderr,
  );
  assert.equal(warnings[1], `warning: ${proxy.host} says: paint it \\u{9b}31mred" or not`);
  assert.equal(warnings.length, 10, "ten distinct warnings at most, each once: " + r.stderr);
  assert.doesNotMatch(r.stderr, /stale/, "only the registry's own warnings (299)");
  assert.doesNotMatch(r.stderr, /\x9b/);

  const quiet = await runCli(["--plain-http", "--quiet", "inspect", ref]);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.doesNotMatch(quiet.stderr, /warning/);
});
