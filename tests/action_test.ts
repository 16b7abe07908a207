// The GitHub Action's script (scripts/action/run.sh) run locally as the runner would: the bundled
// CLI behind a wrapper stands in for the release binary, served from a file:// "release" with its
// SHA256SUMS; a harness registry with Basic auth takes the push.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { pushFixtures, startRegistry } from "../scripts/harness/mod.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const SCRIPT = `${ROOT}scripts/action/run.sh`;
const RUNNER_OS = { linux: "Linux", darwin: "macOS", windows: "Windows" }[
  Deno.build.os as string
] ?? "Linux";
const RUNNER_ARCH = Deno.build.arch === "aarch64" ? "ARM64" : "X64";
const ASSET = `manifest-tool-${RUNNER_OS === "macOS" ? "darwin" : RUNNER_OS.toLowerCase()}-${
  RUNNER_ARCH === "ARM64" ? "arm64" : "amd64"
}`;
const HAVE_BASH = Deno.build.os !== "windows" &&
  new Deno.Command("sh", { args: ["-c", "command -v bash && command -v curl"] }).outputSync()
    .success;

interface Run {
  code: number;
  output: string;
}

async function runAction(env: Record<string, string>, args: string[] = []): Promise<Run> {
  const out = await new Deno.Command("bash", {
    args: [SCRIPT, ...args],
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, output: text(out.stdout) + text(out.stderr) };
}

/** A "release" directory: the bundled CLI behind a wrapper named like the asset, and SHA256SUMS. */
async function makeRelease(dir: string): Promise<string> {
  const bundle = `${dir}/manifest-tool.mjs`;
  const b = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform=deno", "-o", bundle, `${ROOT}cli.ts`],
    cwd: ROOT,
    stderr: "piped",
  }).output();
  assert.equal(b.code, 0, new TextDecoder().decode(b.stderr));
  const release = `${dir}/release`;
  await Deno.mkdir(release);
  const wrapper = `#!/bin/sh\nexec '${Deno.execPath()}' run -A --quiet '${bundle}' "$@"\n`;
  await Deno.writeTextFile(`${release}/${ASSET}`, wrapper, { mode: 0o644 });
  const sum = createHash("sha256").update(wrapper).digest("hex");
  await Deno.writeTextFile(
    `${release}/SHA256SUMS`,
    `${"0".repeat(64)}  manifest-tool-other-os\n${sum}  ${ASSET}\n`,
  );
  return release;
}

async function isEmptyDir(path: string): Promise<boolean> {
  for await (const _ of Deno.readDir(path)) return false;
  return true;
}

Deno.test({
  name:
    "the action's script checks the binary, logs in through a temporary config it removes, and writes digest and size",
  ignore: !HAVE_BASH,
  async fn(t) {
    await using reg = await startRegistry({ auth: "basic" });
    const set = await pushFixtures(reg, {
      format: "oci",
      repository: "act/app",
      platforms: [{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "s390x" }],
    });
    const dir = await Deno.makeTempDir({ prefix: "mt-action-" });
    await using _ = {
      [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }).catch(() => {}),
    };
    const release = await makeRelease(dir);
    const spec = `${dir}/push.yaml`;
    await Deno.writeTextFile(
      spec,
      `image: ${reg.host}/act/app:multi\nmanifests:\n${
        set.images.map((i) => `  - image: ${reg.host}/${i.repository}:${i.tag}`).join("\n")
      }\n`,
    );
    const home = `${dir}/home`;
    const runnerTemp = `${dir}/runner-temp`;
    await Deno.mkdir(home);
    await Deno.mkdir(runnerTemp);
    const outputs = `${dir}/github-output`;
    const base = {
      HOME: home,
      DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`,
      RUNNER_OS,
      RUNNER_ARCH,
      RUNNER_TEMP: runnerTemp,
      GITHUB_OUTPUT: outputs,
      MANIFEST_TOOL_DOWNLOAD_URL: `file://${release}`,
      INPUT_REGISTRY: reg.host,
      INPUT_USERNAME: reg.username!,
      INPUT_PASSWORD: reg.password!,
    };
    const secrets = [
      reg.password!,
      btoa(`${reg.username}:${reg.password}`),
    ];

    await t.step(
      "push from-spec: outputs digest and size of the index in the registry",
      async () => {
        const r = await runAction({
          ...base,
          INPUT_COMMAND: "push from-spec",
          INPUT_ARGS: `--type=oci\n${spec}`,
        });
        assert.equal(r.code, 0, r.output);
        const text = await Deno.readTextFile(outputs);
        const digest = /^digest=(sha256:[0-9a-f]{64})$/m.exec(text)?.[1];
        const size = Number(/^size=(\d+)$/m.exec(text)?.[1]);
        assert.ok(digest, text);
        const res = await fetch(`${reg.url}/v2/act/app/manifests/multi`, {
          headers: {
            accept: "application/vnd.oci.image.index.v1+json",
            authorization: `Basic ${btoa(`${reg.username}:${reg.password}`)}`,
          },
        });
        const bytes = new Uint8Array(await res.arrayBuffer());
        assert.equal(res.status, 200);
        assert.equal(`sha256:${createHash("sha256").update(bytes).digest("hex")}`, digest);
        assert.equal(bytes.length, size);
        const json = /^json<<(\S+)\n([\s\S]*?)\n\1$/m.exec(text);
        assert.ok(json, text);
        assert.equal(JSON.parse(json[2]).digest, digest);
        for (const s of secrets) assert.ok(!r.output.includes(s), "no secret in the output");
        assert.ok(await isEmptyDir(runnerTemp), "the temporary config and binary are gone");
      },
    );

    await t.step(
      "a wrong password fails with exit 1, shows no secret and leaves nothing",
      async () => {
        const r = await runAction({
          ...base,
          INPUT_PASSWORD: "not-the-password-1234",
          INPUT_COMMAND: "push from-spec",
          INPUT_ARGS: spec,
        });
        assert.equal(r.code, 1, r.output);
        assert.match(r.output, /^manifest-tool: .*(401|denied|unauthorized|credentials)/im);
        assert.ok(!r.output.includes("not-the-password-1234"), r.output);
        assert.ok(await isEmptyDir(runnerTemp));
      },
    );

    await t.step(
      "a batch with one spec failing: exit 1, and the records still reach the json output",
      async () => {
        const bad = `${dir}/batch.yaml`;
        await Deno.writeTextFile(
          bad,
          (await Deno.readTextFile(spec)).replace(":multi", ":batch") +
            `---\nimage: ${reg.host}/act/app:broken\nmanifests:\n  - image: ${reg.host}/act/gone:1\n`,
        );
        await Deno.writeTextFile(outputs, "");
        const r = await runAction({
          ...base,
          INPUT_COMMAND: "push from-spec",
          INPUT_ARGS: `--type=oci\n${bad}`,
        });
        assert.equal(r.code, 1, r.output);
        const text = await Deno.readTextFile(outputs);
        assert.doesNotMatch(text, /^digest=/m);
        const json = /^json<<(\S+)\n([\s\S]*?)\n\1$/m.exec(text);
        assert.ok(json, text);
        const records = JSON.parse(json[2]) as { status: string }[];
        assert.deepEqual(records.map((x) => x.status), ["pushed", "failed"]);
        assert.ok(await isEmptyDir(runnerTemp));
      },
    );

    await t.step("a binary that does not match SHA256SUMS is never run", async () => {
      const tampered = `${dir}/tampered`;
      await Deno.mkdir(tampered);
      await Deno.copyFile(`${release}/SHA256SUMS`, `${tampered}/SHA256SUMS`);
      const marker = `${dir}/ran`;
      await Deno.writeTextFile(`${tampered}/${ASSET}`, `#!/bin/sh\ntouch '${marker}'\n`);
      const r = await runAction({
        ...base,
        MANIFEST_TOOL_DOWNLOAD_URL: `file://${tampered}`,
        INPUT_COMMAND: "push from-spec",
        INPUT_ARGS: spec,
      });
      assert.equal(r.code, 1, r.output);
      assert.match(r.output, /checksum mismatch for manifest-tool-/);
      assert.equal(await Deno.stat(marker).then(() => true, () => false), false);
      assert.ok(await isEmptyDir(runnerTemp));
    });

    await t.step("credentials without a registry are refused before any download", async () => {
      const r = await runAction({ ...base, INPUT_REGISTRY: "", INPUT_COMMAND: "platforms x" });
      assert.equal(r.code, 1);
      assert.match(r.output, /need the registry input/);
    });
  },
});

Deno.test({
  name: "the action downloads the release of its own ref, or the latest for a branch",
  ignore: !HAVE_BASH,
  async fn() {
    const cases: [Record<string, string>, string][] = [
      [
        { ACTION_REPOSITORY: "o/mt", ACTION_REF: "v0.2.0" },
        "https://github.com/o/mt/releases/download/v0.2.0/manifest-tool-linux-amd64",
      ],
      [
        { GITHUB_ACTION_PATH: "/home/runner/work/_actions/o/mt/v1.2.3" },
        "https://github.com/o/mt/releases/download/v1.2.3/manifest-tool-linux-amd64",
      ],
      [
        { GITHUB_ACTION_PATH: "/home/runner/work/_actions/o/mt/main" },
        "https://github.com/o/mt/releases/latest/download/manifest-tool-linux-amd64",
      ],
      [
        { ACTION_REPOSITORY: "o/mt", ACTION_REF: "v1", INPUT_VERSION: "0.3.1" },
        "https://github.com/o/mt/releases/download/v0.3.1/manifest-tool-linux-amd64",
      ],
      [
        { GITHUB_REPOSITORY: "o/mt", RUNNER_OS: "Windows" },
        "https://github.com/o/mt/releases/latest/download/manifest-tool-windows-amd64.exe",
      ],
      [
        { GITHUB_REPOSITORY: "o/mt", RUNNER_OS: "macOS", RUNNER_ARCH: "ARM64" },
        "https://github.com/o/mt/releases/latest/download/manifest-tool-darwin-arm64",
      ],
    ];
    for (const [env, want] of cases) {
      const r = await runAction({ RUNNER_OS: "Linux", RUNNER_ARCH: "X64", ...env }, [
        "--print-url",
      ]);
      assert.equal(r.code, 0, r.output);
      assert.equal(r.output.trim(), want, JSON.stringify(env));
    }
    const bad = await runAction({ GITHUB_REPOSITORY: "o/mt", INPUT_VERSION: "1.0;rm -rf" }, [
      "--print-url",
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.output, /invalid version/);
  },
});
