// The progress view: the pure renderer (lib/format/progress.ts) as tables of events on a fake
// clock, the view's frame limit and clean-up, and a cross-registry copy in a real pseudo-terminal
// (tmux) whose screen is read back, then the same copy with stderr to a file.
import assert from "node:assert/strict";
import {
  formatFinished,
  formatSummary,
  ProgressState,
  redraw,
  renderBlock,
} from "../lib/format/progress.ts";
import { startProgress } from "../cli/progress.ts";
import type { CommandContext } from "../cli/context.ts";
import { pathKind, pushFixtures, startProxy, startRegistry } from "../scripts/harness/mod.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const D = (c: string) => `sha256:${c.repeat(64)}`;
const MiB = 1024 * 1024;

Deno.test("ProgressState shows one line per transfer in flight and collapses finished ones", () => {
  let now = 0;
  const s = new ProgressState(() => now);
  s.transfer({ digest: D("a"), bytes: 0, total: 4 * MiB, done: false });
  s.transfer({ digest: D("b"), bytes: 0, total: 2 * MiB, done: false });
  now = 2000;
  s.transfer({ digest: D("a"), bytes: 2 * MiB, total: 4 * MiB, done: false });
  s.transfer({ digest: D("b"), bytes: 1 * MiB, total: 2 * MiB, done: false });
  s.action({ digest: D("c"), size: 100, action: "mount" });
  s.action({ digest: D("d"), size: 100, action: "present" });
  assert.deepEqual(renderBlock(s, 100), [
    "  aaaaaaaaaaaa  2.0 MiB / 4.0 MiB  1.0 MiB/s",
    "  bbbbbbbbbbbb  1.0 MiB / 2.0 MiB  512.0 KiB/s",
    "1 mounted, 0 copied (0 B), 1 present",
    "3.0 MiB transferred in 2.0s",
  ]);
  now = 4000;
  const done = s.transfer({ digest: D("b"), bytes: 2 * MiB, total: 2 * MiB, done: true });
  assert.deepEqual(done, { digest: D("b"), action: "copy", size: 2 * MiB, ms: 4000 });
  // The engine reports the action after the last transfer event: counted once.
  assert.equal(s.action({ digest: D("b"), size: 2 * MiB, action: "copy", from: "r/x" }), undefined);
  assert.deepEqual(renderBlock(s, 100), [
    "  aaaaaaaaaaaa  2.0 MiB / 4.0 MiB  512.0 KiB/s",
    "1 mounted, 1 copied (2.0 MiB), 1 present",
    "4.0 MiB transferred in 4.0s",
  ]);
});

Deno.test("ProgressState counts a copy once whether transfer or action reports it first", () => {
  const cases: { name: string; events: ("transfer" | "action")[] }[] = [
    { name: "transfer, then action", events: ["transfer", "action"] },
    { name: "action only (no streamed bytes seen)", events: ["action"] },
    { name: "action, then a late transfer event", events: ["action", "transfer"] },
  ];
  for (const c of cases) {
    const s = new ProgressState(() => 0);
    const reported = c.events.map((e) =>
      e === "transfer"
        ? s.transfer({ digest: D("e"), bytes: 10, total: 10, done: true })
        : s.action({ digest: D("e"), size: 10, action: "copy" })
    ).filter(Boolean);
    assert.equal(reported.length, 1, c.name);
    assert.equal(formatSummary(s.counts), "0 mounted, 1 copied (10 B), 0 present", c.name);
    assert.equal(s.inFlight.length, 0, c.name);
  }
});

Deno.test("renderBlock shows a batch's specs done out of all and the run's rate on its overall line", () => {
  let now = 0;
  const state = new ProgressState(() => now);
  state.specs(0, 50);
  state.transfer({ digest: "sha256:" + "d".repeat(64), bytes: 0, total: 4194304, done: false });
  now = 2000;
  state.transfer({
    digest: "sha256:" + "d".repeat(64),
    bytes: 4194304,
    total: 4194304,
    done: true,
  });
  state.specs(3, 50);
  assert.deepEqual(renderBlock(state, 120).slice(-1), [
    "3/50 specs, 4.0 MiB transferred in 2.0s (2.0 MiB/s)",
  ]);
});

Deno.test("renderBlock cuts lines to the terminal width so none wraps", () => {
  const s = new ProgressState(() => 0);
  s.transfer({ digest: D("f"), bytes: 1, total: 2, done: false });
  for (const line of renderBlock(s, 24)) assert.ok(line.length <= 23, line);
});

Deno.test("formatFinished names the action, the size and, for a copy, time and rate", () => {
  const table: [Parameters<typeof formatFinished>[0], string][] = [
    [{ digest: D("1"), action: "present", size: 5, from: "r/a" }, "present 111111111111 5 B"],
    [{ digest: D("2"), action: "foreign", size: 2048 }, "foreign 222222222222 2.0 KiB"],
    [
      { digest: D("3"), action: "copy", size: 10 * MiB, ms: 10 },
      "copied  333333333333 10.0 MiB in 0.0s (-)",
    ],
  ];
  for (const [f, want] of table) assert.equal(formatFinished(f), want);
});

/** A context whose stderr is a string. */
function fakeContext(): { ctx: CommandContext; err: () => string } {
  let err = "";
  const ctx: CommandContext = {
    args: [],
    globals: {
      insecure: false,
      plainHttp: false,
      caFiles: [],
      debug: false,
      quiet: false,
      progress: "auto",
      noColor: false,
    },
    out: () => {},
    err: (t) => err += t,
    isTerminal: true,
    errIsTerminal: true,
    env: () => undefined,
  };
  return { ctx, err: () => err };
}

Deno.test("the tty view draws at most one frame per 100 ms of its clock and leaves the summary", () => {
  let now = 0;
  const { ctx, err } = fakeContext();
  const view = startProgress(ctx, "tty", { clock: () => now, columns: () => 80 });
  for (let i = 1; i <= 50; i++) {
    view.onProgress!({ digest: D("a"), bytes: i, total: 100, done: false });
  }
  const frames = () => err().split("\x1b[J").length - 1;
  assert.equal(frames(), 1, "50 events within one frame: one draw");
  now = 100;
  view.onProgress!({ digest: D("a"), bytes: 60, total: 100, done: false });
  assert.equal(frames(), 2);
  view.onBlob!({ digest: D("b"), size: 3, action: "mount", mediaType: "x", from: "r/b" });
  view.stop();
  view.stop();
  assert.equal(frames(), 3, "stop draws once more, once");
  const last = err().slice(err().lastIndexOf("\r"));
  assert.equal(
    last,
    "\r\x1b[3A\x1b[J1 mounted, 0 copied (0 B), 0 present\n60 B transferred in 0.1s\n",
  );
});

Deno.test("the plain view prints one line per finished blob and the summary, no escapes", () => {
  const { ctx, err } = fakeContext();
  const view = startProgress(ctx, "plain", { clock: () => 0 });
  view.onProgress!({ digest: D("a"), bytes: 5, total: 10, done: false });
  view.onProgress!({ digest: D("a"), bytes: 10, total: 10, done: true });
  view.onBlob!({ digest: D("a"), size: 10, action: "copy", mediaType: "x", from: "r/a" });
  view.onBlob!({ digest: D("b"), size: 3, action: "mount", mediaType: "x", from: "r/b" });
  view.stop();
  assert.equal(
    err(),
    [
      "copied  aaaaaaaaaaaa 10 B in 0.0s (-)",
      "mounted bbbbbbbbbbbb 3 B from r/b",
      "1 mounted, 1 copied (10 B), 0 present",
      "10 B transferred in 0.0s",
      "",
    ].join("\n"),
  );
  assert.ok(!err().includes("\x1b"));
});

Deno.test("redraw moves up over the previous block and clears below", () => {
  assert.equal(redraw(3, ["x", "y"]), "\r\x1b[3A\x1b[Jx\ny\n");
});

const HAVE_TMUX = new Deno.Command("sh", { args: ["-c", "command -v tmux"] }).outputSync().success;

async function tmux(socket: string, args: string[]): Promise<string> {
  const out = await new Deno.Command("tmux", {
    args: ["-L", socket, "-f", "/dev/null", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`tmux ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

/** Removes `paths` when the scope ends, passed or failed. */
function removedAtEnd(...paths: string[]): AsyncDisposable {
  return {
    async [Symbol.asyncDispose]() {
      for (const p of paths) await Deno.remove(p, { recursive: true }).catch(() => {});
    },
  };
}

const shQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
const TRANSFER_LINE = /^ {2}[0-9a-f]{12} {2}\S+ \S+ \/ \S+ \S+ {2}\S+/;

Deno.test({
  name:
    "a cross-registry copy in a terminal shows one line per concurrent transfer, then the summary",
  ignore: !HAVE_TMUX,
  async fn() {
    await using src = await startRegistry();
    await using dst = await startRegistry();
    const set = await pushFixtures(src, {
      format: "docker",
      repository: "tty/app",
      platforms: [{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "ppc64le" }],
    });
    // Every layer download from the source stops half-way until `release()`: the copies stay in
    // flight together, so the screen can be read while they are (no timing involved). Configs pass
    // (the engine may read one before copying).
    const layers = new Set(set.images.flatMap((i) => i.layers.map((l) => l.digest)));
    let release!: () => void;
    let gate!: Promise<void>;
    let held = 0;
    const arm = () => {
      gate = new Promise<void>((r) => release = r);
      held = 0;
    };
    arm();
    await using proxy = await startProxy({
      upstream: src.url,
      intercept: async ({ request, forward }) => {
        const path = new URL(request.url).pathname;
        if (
          request.method !== "GET" || pathKind(path) !== "blob" ||
          !layers.has(path.slice(path.lastIndexOf("/") + 1))
        ) {
          return undefined;
        }
        const res = await forward();
        const body = new Uint8Array(await res.arrayBuffer());
        held++;
        const gateOf = gate;
        const half = Math.max(1, body.length >> 1);
        let step = 0;
        const headers = new Headers(res.headers);
        headers.delete("content-length");
        return new Response(
          new ReadableStream<Uint8Array>({
            async pull(c) {
              if (step++ === 0) return c.enqueue(body.slice(0, half));
              await gateOf;
              c.enqueue(body.slice(half));
              c.close();
            },
          }),
          { status: res.status, headers },
        );
      },
    });
    const spec = await Deno.makeTempFile({ suffix: ".yaml" });
    const specText = (target: string) =>
      `image: ${dst.host}/${target}:v1\nmanifests:\n${
        set.images.map((i) =>
          // Platforms given: the configs are only copied, not read first.
          `  - image: ${proxy.host}/${i.repository}:${i.tag}\n    platform: ${
            JSON.stringify({ os: i.platform.os, architecture: i.platform.architecture })
          }`
        ).join("\n")
      }\n`;
    await Deno.writeTextFile(spec, specText("copied/tty"));
    const uniqueBlobs = new Set(set.images.flatMap((i) =>
      [i.config, ...i.layers].map((b) => b.digest)
    ))
      .size;

    const dir = await Deno.makeTempDir({ prefix: "mt-tty-" });
    await using _ = removedAtEnd(dir, spec);
    const cli = [
      Deno.execPath(),
      "run",
      "-A",
      "--quiet",
      `${ROOT}cli.ts`,
      "push",
      "from-spec",
      spec,
    ]
      .map(shQuote).join(" ");

    /**
     * Runs the copy to `target` in a tmux pane of 120x40; once the screen shows the transfers in
     * flight, checks them and calls `then` (release the gate, or press Ctrl-C); returns the exit
     * code and the final screen.
     */
    const inTerminal = async (target: string, then: (socket: string) => Promise<void>) => {
      arm();
      await Deno.writeTextFile(spec, specText(target));
      const socket = `mt-progress-${Deno.pid}-${target.replace(/\W/g, "")}`;
      const codeFile = `${dir}/code-${target.replace(/\W/g, "")}`;
      // NO_COLOR and CI unset: the live view is for colour terminals outside CI. The shell
      // survives a Ctrl-C (its trap is reset to the default in the CLI), so the pane stays open.
      const script = `unset NO_COLOR CI; export HOME=${
        shQuote(dir)
      }; trap true INT; ${cli}; echo $? > ${shQuote(codeFile)}; sleep 600`;
      await tmux(socket, ["new-session", "-d", "-x", "120", "-y", "40", "sh", "-c", script]);
      try {
        let screen = "";
        let lines: string[] = [];
        for (let i = 0; i < 1200; i++) {
          screen = await tmux(socket, ["capture-pane", "-p", "-t", "0"]);
          lines = screen.split("\n").filter((l) => TRANSFER_LINE.test(l));
          if (held >= 2 && lines.length === held) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.ok(held >= 2, `copies in flight together: ${held} of ${uniqueBlobs}\n${screen}`);
        assert.equal(lines.length, held, `one line per transfer in flight:\n${screen}`);
        assert.equal(new Set(lines.map((l) => l.trim().slice(0, 12))).size, held, screen);
        assert.match(screen, /^0 mounted, \d copied \([^)]*\), 0 present$/m, screen);
        assert.match(screen, /^\S+ \S+ transferred in \d+\.\ds$/m, screen);
        await then(socket);
        for (let i = 0; i < 1200; i++) {
          if (await Deno.stat(codeFile).then(() => true, () => false)) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        const code = (await Deno.readTextFile(codeFile)).trim();
        screen = await tmux(socket, ["capture-pane", "-p", "-t", "0"]);
        return { code, rows: screen.split("\n").filter((l) => l.trim() !== ""), screen };
      } finally {
        release();
        await tmux(socket, ["kill-server"]).catch(() => "");
        // kill-server leaves the socket file behind.
        const tmuxDir = `${Deno.env.get("TMUX_TMPDIR") ?? "/tmp"}/tmux-${Deno.uid()}`;
        await Deno.remove(`${tmuxDir}/${socket}`).catch(() => {});
      }
    };

    const done = await inTerminal("copied/tty", () => Promise.resolve(release()));
    assert.equal(done.code, "0", done.screen);
    assert.equal(done.rows.filter((l) => TRANSFER_LINE.test(l)).length, 0, done.screen);
    assert.match(
      done.rows.find((l) => /copied \(/.test(l)) ?? "",
      new RegExp(`^0 mounted, ${uniqueBlobs} copied \\(\\S+ \\S+\\), 0 present$`),
      done.screen,
    );
    assert.match(done.rows.at(-1) ?? "", /^Digest: sha256:[0-9a-f]{64} \d+$/, done.screen);

    // Ctrl-C in the middle: the lines of the transfers go, the summary stays, exit 130.
    const interrupted = await inTerminal("copied/interrupted", async (socket) => {
      await tmux(socket, ["send-keys", "-t", "0", "C-c"]);
    });
    assert.equal(interrupted.code, "130", interrupted.screen);
    assert.equal(
      interrupted.rows.filter((l) => TRANSFER_LINE.test(l)).length,
      0,
      interrupted.screen,
    );
    assert.match(interrupted.screen, /^0 mounted, \d copied \([^)]*\), 0 present$/m);
    assert.ok(!interrupted.screen.includes("Digest:"), interrupted.screen);

    // The same copy with stderr to a file: no progress by default, and with --progress=plain one
    // line per blob; never an escape sequence.
    for (const [i, extra] of [[], ["--progress=plain"]].entries()) {
      await Deno.writeTextFile(spec, specText(`copied/file${i}`));
      const errFile = `${dir}/stderr${i}`;
      const run = await new Deno.Command("sh", {
        args: ["-c", `${cli} ${extra.join(" ")} 2> ${shQuote(errFile)}`],
        env: { HOME: dir },
        stdout: "piped",
      }).output();
      assert.equal(run.code, 0);
      const stderr = await Deno.readTextFile(errFile);
      assert.ok(!stderr.includes("\x1b"), JSON.stringify(stderr));
      if (extra.length === 0) assert.equal(stderr, "");
      else {
        assert.equal(stderr.split("\n").filter((l) => l.startsWith("copied ")).length, uniqueBlobs);
        assert.match(stderr, new RegExp(`^0 mounted, ${uniqueBlobs} copied`, "m"));
      }
    }
  },
});
