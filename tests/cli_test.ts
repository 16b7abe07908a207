// The CLI shell: version, help, exit codes, completions.
import assert from "node:assert/strict";
import { runCli } from "./_helpers/cli.ts";
import { COMMANDS } from "../cli/commands.ts";

Deno.test("--version prints version and commit, exit 0", async () => {
  const r = await runCli(["--version"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^manifest-tool version \d+\.\d+\.\d+ \(commit: [\w]+\)\n$/);
});

Deno.test("--help lists every command; no command is a usage error (exit 2)", async () => {
  const r = await runCli(["--help"]);
  assert.equal(r.code, 0);
  for (const name of Object.keys(COMMANDS)) assert.ok(r.stdout.includes(`  ${name} `), name);
  const none = await runCli([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /Usage: manifest-tool/);
});

Deno.test("an unknown command or global flag is exit 2 with one line naming it", async () => {
  const a = await runCli(["inpsect", "127.0.0.1:9/alpine"]);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /Unknown command "inpsect"/);
  const b = await runCli(["--usernme", "x", "inspect", "127.0.0.1:9/alpine"]);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /unknown flag "--usernme"/);
  const c = await runCli(["--timeout", "soon", "inspect", "127.0.0.1:9/alpine"]);
  assert.equal(c.code, 2);
  assert.match(c.stderr, /Invalid --timeout "soon"/);
});

Deno.test("every command has a --help with usage and examples", async () => {
  for (const name of Object.keys(COMMANDS)) {
    const r = await runCli([name, "--help"]);
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    assert.match(r.stdout, /Usage:/, name);
    assert.match(r.stdout, /Examples?:/, name);
  }
});

Deno.test("completions print scripts that bash parses and that name every command", async () => {
  for (const shell of ["bash", "zsh", "fish"]) {
    const r = await runCli(["completions", shell]);
    assert.equal(r.code, 0, r.stderr);
    for (const name of Object.keys(COMMANDS)) {
      assert.ok(r.stdout.includes(name), `${shell}: ${name}`);
    }
    assert.ok(
      r.stdout.includes(shell === "fish" ? "-l expand-config" : "--expand-config"),
      `${shell} completes command flags`,
    );
  }
  const script = await runCli(["completions", "bash"]);
  const f = await Deno.makeTempFile();
  await Deno.writeTextFile(f, script.stdout);
  const check = await new Deno.Command("bash", { args: ["-n", f] }).output();
  assert.equal(check.code, 0);
  // What bash offers after the words typed (the last one being completed).
  const offered = async (...words: string[]) => {
    const line = ["manifest-tool", ...words].map((w) => `'${w}'`).join(" ");
    const run = await new Deno.Command("bash", {
      args: [
        "-c",
        `source ${f}; COMP_WORDS=(${line}); COMP_CWORD=${words.length}; _manifest_tool; ` +
        `printf '%s\\n' "\${COMPREPLY[@]}"`,
      ],
    }).output();
    return new TextDecoder().decode(run.stdout).split("\n").filter(Boolean);
  };
  try {
    const manifest = await offered("manifest", "");
    for (const w of ["create", "annotate", "push", "inspect", "rm", "--amend", "--os-version"]) {
      assert.ok(manifest.includes(w), `manifest: ${w} in ${manifest}`);
    }
    assert.deepEqual(await offered("push", "from-"), ["from-spec", "from-args"]);
    assert.deepEqual(await offered("completions", "f"), ["fish"]);
    // The value of a global flag is not the command.
    assert.ok((await offered("--username", "bob", "push", "--dry")).includes("--dry-run"));
  } finally {
    await Deno.remove(f);
  }
  const bad = await runCli(["completions", "powershell"]);
  assert.equal(bad.code, 2);
});

Deno.test("a registry on a port Deno's fetch refuses (browsers' bad ports) is one line that says so", async () => {
  // Refused before any connection: nothing needs to listen there.
  for (const flags of [["--plain-http"], []]) {
    const r = await runCli([...flags, "inspect", "127.0.0.1:10080/app:1"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /port 10080 .*serve the registry on another port/);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  }
});
