import assert from "node:assert/strict";
import { Once } from "../lib/pool.ts";

Deno.test("Once.run() retries a key whose first run failed, and shares the failure with its waiters", async () => {
  const once = new Once<string, number>();
  let calls = 0;
  const { promise: gate, resolve } = Promise.withResolvers<void>();
  const failing = async () => {
    calls++;
    await gate;
    throw new Error("transient");
  };
  const a = once.run("k", failing);
  const b = once.run("k", failing);
  resolve();
  await assert.rejects(a, /transient/);
  await assert.rejects(b, /transient/);
  assert.equal(calls, 1, "waiters share the one failed run");
  assert.equal(
    await once.run("k", () => Promise.resolve(++calls)),
    2,
    "a later caller runs it again",
  );
  assert.equal(await once.run("k", () => Promise.resolve(++calls)), 2, "a success is kept");
  assert.equal(calls, 2);
});

Deno.test("Once.run() keeps a retry started while the failed run was still settling", async () => {
  const once = new Once<string, string>();
  const first = once.run("k", () => Promise.reject(new Error("no")));
  await assert.rejects(first);
  const second = once.run("k", () => Promise.resolve("yes"));
  assert.equal(await second, "yes");
  assert.equal(await once.run("k", () => Promise.resolve("again")), "yes");
});
