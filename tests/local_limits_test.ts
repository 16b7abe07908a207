// Issue #13 items 6, 9, 10: what the user's own machine may feed us is bounded too. Credential
// helpers that flood or hang, files that never end (/dev/zero, a FIFO), flags out of range.
import assert from "node:assert/strict";
import { CredentialStore } from "../lib/registry/credentials.ts";
import { CONFIG_FILE_CAP, readTextFileCapped } from "../lib/files.ts";
import { runCli } from "./_helpers/cli.ts";
import { runBounded } from "./_helpers/bounded_cli.ts";
import { startHostile } from "./_helpers/hostile.ts";

/** A temp dir holding `docker-credential-<name>` scripts and a config naming `name` for `host`. */
async function helperSetup(name: string, script: string, host: string) {
  const dir = await Deno.makeTempDir({ prefix: "mt-helper-" });
  await Deno.writeTextFile(`${dir}/docker-credential-${name}`, `#!/bin/sh\n${script}\n`);
  await Deno.chmod(`${dir}/docker-credential-${name}`, 0o755);
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ credHelpers: { [host]: name } }));
  const store = new CredentialStore({
    dockerConfig: `${dir}/config.json`,
    env: (n) => n === "PATH" ? `${dir}:${Deno.env.get("PATH")}` : undefined,
    helperTimeoutMs: 1500,
  });
  return { dir, store };
}

Deno.test("a credential helper flooding stdout is stopped at 64 KiB with one line naming it", async () => {
  const { dir, store } = await helperSetup("flood", "exec yes AAAAAAAAAAAAAAAA", "r.example");
  const started = performance.now();
  const err = await store.get("r.example").catch((e) => e);
  await Deno.remove(dir, { recursive: true });
  assert.equal(err?.name, "AuthError", String(err));
  assert.match(err.message, /docker-credential-flood" printed more than 64 KiB/);
  assert.ok(!err.message.includes("AAAA"));
  assert.ok(performance.now() - started < 10_000);
});

Deno.test("a credential helper whose child keeps stdout open is given up at the time limit", async () => {
  // The helper exits at once, but a process it started holds the pipe for 3 s.
  const { dir, store } = await helperSetup("hang", "sleep 3 &\nexit 0", "r.example");
  const started = performance.now();
  const err = await store.get("r.example").catch((e) => e);
  const ms = performance.now() - started;
  await Deno.remove(dir, { recursive: true });
  assert.equal(err?.name, "AuthError", String(err));
  assert.match(err.message, /docker-credential-hang" did not answer within 1\.5 s/);
  assert.ok(ms < 2_900, `waited ${Math.round(ms)} ms, past the 1.5 s limit`);
});

Deno.test("a credential helper that never exits is killed at the time limit", async () => {
  const { dir, store } = await helperSetup("slow", "exec sleep 20", "r.example");
  const started = performance.now();
  const err = await store.get("r.example").catch((e) => e);
  await Deno.remove(dir, { recursive: true });
  assert.match(String(err?.message), /did not answer within 1\.5 s/);
  assert.ok(performance.now() - started < 10_000);
});

Deno.test("readTextFileCapped() stops /dev/zero and a FIFO fed for ever at the cap", async () => {
  await assert.rejects(readTextFileCapped("/dev/zero", CONFIG_FILE_CAP, "zeros"), {
    name: "SizeMismatchError",
  });
  const dir = await Deno.makeTempDir({ prefix: "mt-fifo-" });
  const fifo = `${dir}/fifo`;
  const mk = await new Deno.Command("mkfifo", { args: [fifo] }).output();
  assert.ok(mk.success);
  const writer = new Deno.Command("sh", {
    args: ["-c", `exec yes > "${fifo}"`],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await assert.rejects(readTextFileCapped(fifo, CONFIG_FILE_CAP, "fifo"), {
      name: "SizeMismatchError",
    });
  } finally {
    // `yes` dies of SIGPIPE once the reader is gone; kill it anyway and reap it.
    try {
      writer.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await writer.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--ca-file /dev/zero is refused unread and --docker-cfg /dev/zero fails at the cap, one line each", async () => {
  // Checked before any request: a device is no CA file (bad input, never read).
  const ca = await runBounded(["--ca-file", "/dev/zero", "inspect", "127.0.0.1:9/a/b:1"]);
  assert.equal(ca.code, 2, ca.stderr);
  assert.match(ca.stderr, /--ca-file "\/dev\/zero": not a file$/m);
  assert.equal(ca.stderr.trim().split("\n").length, 1, ca.stderr);

  // A registry that asks for credentials, so that the config is read.
  await using server = await startHostile(() =>
    new Response(null, { status: 401, headers: { "www-authenticate": 'Basic realm="x"' } })
  );
  const cfg = await runBounded([
    "--plain-http",
    "--docker-cfg",
    "/dev/zero",
    "inspect",
    `${server.host}/a/b:1`,
  ]);
  assert.equal(cfg.code, 1, cfg.stderr);
  assert.match(cfg.stderr, /Cannot read docker config "\/dev\/zero": larger than 1 MiB/);
  assert.equal(cfg.stderr.trim().split("\n").length, 1, cfg.stderr);

  const env = await runBounded(["--plain-http", "inspect", `${server.host}/a/b:1`], {
    REGISTRY_AUTH_FILE: "/dev/zero",
  });
  assert.equal(env.code, 1, env.stderr);
  assert.match(env.stderr, /Cannot read docker config "\/dev\/zero": larger than 1 MiB/);
});

Deno.test("--timeout and --concurrency out of range are usage errors naming the flag", async () => {
  const cases: [string[], RegExp][] = [
    [["--timeout", "3000000"], /Invalid --timeout "3000000": expected .* from 1 to 86400/],
    [["--timeout", "0.5"], /Invalid --timeout "0\.5"/],
    [["--timeout", "1e3"], /Invalid --timeout "1e3"/],
    [["--concurrency", "0"], /Invalid --concurrency "0": expected a whole number from 1 to 256/],
    [["--concurrency", "257"], /Invalid --concurrency "257"/],
    [["--concurrency", "2.5"], /Invalid --concurrency "2\.5"/],
  ];
  for (const [flags, message] of cases) {
    const r = await runCli([...flags, "inspect", "127.0.0.1:9/a/b:1"]);
    assert.equal(r.code, 2, `${flags.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split("\n").filter((l) => !/--help/.test(l)).length, 1, r.stderr);
  }
  const ok = await runCli([
    "--timeout",
    "1.5",
    "--concurrency",
    "256",
    "inspect",
    "127.0.0.1:9/a/b:1",
  ]);
  assert.equal(ok.code, 1, "in range: the run proceeds (and fails to connect)");
});
