// lib/_timer.ts: the alarm every deadline, watchdog and back-off of the CLI runs on, built on
// AbortSignal.timeout so that no command loads Deno's Node timers (5–10 ms of start-up).
import assert from "node:assert/strict";
import { Alarm, sleep } from "../lib/_timer.ts";

const ROOT = new URL("../", import.meta.url);

/**
 * Resolves when the callback `arm` is given is called; fails (rather than hangs) when that has not
 * happened within 30 s. The bound is a plain timer: the alarm is what is under test.
 */
function fired(arm: (fire: () => void) => void): Promise<void> {
  let bound: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    new Promise<void>((resolve) => arm(resolve)),
    new Promise<never>((_, reject) => {
      bound = setTimeout(() => reject(new Error("the alarm never went off")), 30_000);
    }),
  ]).finally(() => clearTimeout(bound));
}

/** Waits `ms` on a plain timer. */
const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

Deno.test("an alarm goes off once, after it was last armed", async () => {
  let count = 0;
  await fired((done) => {
    const alarm = new Alarm(() => {
      count++;
      done();
    });
    alarm.arm(5);
    alarm.arm(10);
    assert.ok(alarm.armed);
  });
  await wait(20);
  assert.equal(count, 1);
});

Deno.test("a disarmed alarm does not go off, and can be armed again", async () => {
  let count = 0;
  const alarm = new Alarm(() => count++);
  alarm.arm(1);
  alarm.disarm();
  assert.ok(!alarm.armed);
  await wait(10);
  assert.equal(count, 0);
  await fired((done) => {
    const again = new Alarm(() => {
      count++;
      done();
    });
    again.arm(1);
    again.disarm();
    again.arm(1);
  });
  assert.equal(count, 1);
});

Deno.test("an alarm moved earlier goes off at the earlier time", async () => {
  const alarm = new Alarm(() => {});
  alarm.arm(3_600_000);
  await fired((done) => {
    const early = new Alarm(done);
    early.arm(3_600_000);
    early.arm(1);
  });
  alarm.disarm();
});

Deno.test("sleep rejects with the abort reason as soon as its signal aborts", async () => {
  const stop = new AbortController();
  const slept = sleep(3_600_000, stop.signal);
  stop.abort(new Error("stopped"));
  await assert.rejects(slept, /stopped/);
  await fired((done) => sleep(1).then(done));
  await assert.rejects(sleep(1, stop.signal, () => new Error("mapped")), /mapped/);
});

Deno.test("a disarmed alarm keeps no process alive; an armed one does", async () => {
  const run = (code: string) =>
    new Deno.Command(Deno.execPath(), {
      args: ["eval", `import { Alarm } from "${new URL("lib/_timer.ts", ROOT).href}"; ${code}`],
      stdout: "piped",
      stderr: "piped",
      // A process the alarm wrongly holds is killed, and fails the test, rather than hanging it.
      signal: AbortSignal.timeout(30_000),
    }).output();
  // An hour-long alarm, disarmed: the process ends at once.
  const quiet = await run(`const a = new Alarm(() => {}); a.arm(3_600_000); a.disarm();`);
  assert.equal(quiet.code, 0, new TextDecoder().decode(quiet.stderr));
  // An armed alarm holds the process until it goes off, as setTimeout does.
  const armed = await run(`new Alarm(() => console.log("went off")).arm(20);`);
  assert.equal(new TextDecoder().decode(armed.stdout), "went off\n");
});

Deno.test("lib/ and cli/ use no setTimeout or setInterval (Deno loads its Node timers for them)", async () => {
  const hits: string[] = [];
  for (const dir of ["lib", "cli"]) {
    for await (const path of walk(new URL(`${dir}/`, ROOT))) {
      if (path.endsWith("lib/_timer.ts")) continue;
      const lines = (await Deno.readTextFile(path)).split("\n");
      lines.forEach((line, i) => {
        const code = line.replace(/\/\/.*$/, "").replace(/^\s*\*.*$/, "");
        if (/\b(setTimeout|setInterval)\s*\(/.test(code)) hits.push(`${path}:${i + 1}`);
      });
    }
  }
  assert.deepEqual(hits, []);
});

async function* walk(dir: URL): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const url = new URL(e.isDirectory ? `${e.name}/` : e.name, dir);
    if (e.isDirectory) yield* walk(url);
    else if (e.name.endsWith(".ts")) yield url.pathname;
  }
}
