// The local lists of `manifest create|annotate|push|rm` (docker's manifest store), on their own:
// docker's names, order and file JSON, amend and update semantics, atomic and concurrent writes,
// name collisions refused, and corrupt files reported by path.
import assert from "node:assert/strict";
import { digestOf } from "../lib/digest.ts";
import { UsageError } from "../lib/errors.ts";
import {
  fileSafe,
  findEntry,
  type LocalEntry,
  LocalStore,
  LocalStoreError,
  ManifestEntryNotFoundError,
  ManifestListExistsError,
  ManifestListNotFoundError,
  ManifestNameCollisionError,
} from "../lib/local_store.ts";
import type { Platform } from "../lib/platform.ts";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const LIST = "127.0.0.1:5000/team/app:1.0";

/** An entry whose bytes are a small manifest unique to `seed`. */
function entry(
  ref: string,
  platform: Platform = { os: "linux", architecture: "amd64" },
  opts: { source?: string; seed?: string } = {},
): LocalEntry {
  const raw = new TextEncoder().encode(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, seed: opts.seed ?? ref }, null, 3) +
      "\n",
  );
  return {
    ref,
    source: opts.source ?? ref,
    descriptor: { mediaType: OCI_MANIFEST, digest: digestOf(raw), size: raw.length, platform },
    raw,
  };
}

async function withStore(fn: (store: LocalStore) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "mt-local-store-" });
  try {
    await fn(new LocalStore(`${dir}/manifests`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function filesOf(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const d of Deno.readDir(dir)) names.push(d.name);
  return names.sort();
}

Deno.test("LocalStore.defaultDir() is docker's store: MANIFEST_TOOL_HOME, then --docker-cfg, DOCKER_CONFIG, HOME/.docker", () => {
  const cases: [Record<string, string>, string | undefined, string | RegExp][] = [
    [{ MANIFEST_TOOL_HOME: "/m", DOCKER_CONFIG: "/d", HOME: "/h" }, "/c", "/m"],
    [{ DOCKER_CONFIG: "/d", HOME: "/h" }, "/c", "/c/manifests"],
    [{ DOCKER_CONFIG: "/d", HOME: "/h" }, "/c/config.json", "/c/manifests"],
    [{ DOCKER_CONFIG: "/d", HOME: "/h" }, undefined, "/d/manifests"],
    [{ HOME: "/h" }, undefined, "/h/.docker/manifests"],
    [{ USERPROFILE: "C:\\Users\\u" }, undefined, "C:\\Users\\u/.docker/manifests"],
    [{}, undefined, /set MANIFEST_TOOL_HOME, DOCKER_CONFIG or HOME/],
  ];
  for (const [env, flag, want] of cases) {
    const get = (n: string) => env[n];
    if (typeof want === "string") {
      assert.equal(LocalStore.defaultDir(get, flag), want, JSON.stringify(env));
    } else {
      assert.throws(
        () => LocalStore.defaultDir(get, flag),
        (e) => e instanceof UsageError && want.test(e.message),
      );
    }
  }
});

Deno.test("fileSafe() names files as docker does and keeps over-long names unique", () => {
  const cases: [string, string][] = [
    ["127.0.0.1:5000/team/app:1.0", "127.0.0.1-5000_team_app-1.0"],
    ["docker.io/library/alpine:latest", "docker.io_library_alpine-latest"],
    [`r.io/a@sha256:${"a".repeat(64)}`, `r.io_a@sha256-${"a".repeat(64)}`],
  ];
  for (const [name, want] of cases) assert.equal(fileSafe(name), want);
  const a = fileSafe(`r.io/${"a".repeat(260)}:1`);
  const b = fileSafe(`r.io/${"a".repeat(260)}:2`);
  assert.ok(a.length <= 255 && b.length <= 255);
  assert.equal(
    fileSafe(`r.io/${"a".repeat(240)}:1`),
    `r.io_${"a".repeat(240)}-1`,
    "docker's up to 255",
  );
  assert.notEqual(a, b);
});

Deno.test("LocalStore.create() stores entries that read back whole, in docker's file name order", async () => {
  await withStore(async (store) => {
    const arm = entry("127.0.0.1:5000/team/app:1.0-arm64", {
      os: "linux",
      architecture: "arm64",
      variant: "v8",
    });
    const win = entry("127.0.0.1:5000/team/app:1.0-windows", {
      os: "windows",
      architecture: "amd64",
      "os.version": "10.0.17763.1234",
      "os.features": ["win32k"],
    });
    const amd = entry("127.0.0.1:5000/team/app:1.0-amd64");
    await store.create(LIST, [win, arm, amd]);
    const back = await store.entries(LIST);
    assert.deepEqual(back.map((e) => e.ref), [amd.ref, arm.ref, win.ref]);
    assert.deepEqual(back[2], win);
    assert.deepEqual(await filesOf(store.listDir(LIST)), [
      "127.0.0.1-5000_team_app-1.0-amd64",
      "127.0.0.1-5000_team_app-1.0-arm64",
      "127.0.0.1-5000_team_app-1.0-windows",
    ]);
    assert.equal(store.listDir(LIST), `${store.dir}/127.0.0.1-5000_team_app-1.0`);
    // The file is docker's ImageManifest (plus the list's name), as Go's json.Marshal writes it.
    const text = await Deno.readTextFile(`${store.listDir(LIST)}/${fileSafe(arm.ref)}`);
    const doc = JSON.parse(text);
    assert.deepEqual(Object.keys(doc), ["Ref", "Descriptor", "Raw", "OCIManifest", "ManifestList"]);
    assert.equal(
      text,
      `{"Ref":"${arm.ref}","Descriptor":{"mediaType":"${OCI_MANIFEST}","digest":"${arm.descriptor.digest}",` +
        `"size":${arm.raw.length},"platform":{"architecture":"arm64","os":"linux","variant":"v8"}},` +
        `"Raw":"${btoa(String.fromCharCode(...arm.raw))}",` +
        `"OCIManifest":${JSON.stringify(JSON.parse(new TextDecoder().decode(arm.raw)))},` +
        `"ManifestList":"${LIST}"}`,
    );
    assert.deepEqual(doc.Descriptor.platform, {
      architecture: "arm64",
      os: "linux",
      variant: "v8",
    });
    assert.deepEqual(
      await filesOf(store.dir),
      ["127.0.0.1-5000_team_app-1.0"],
      "no temporary left",
    );
  });
});

Deno.test("LocalStore.create() of a list that exists is a ManifestListExistsError that names --amend", async () => {
  await withStore(async (store) => {
    await store.create(LIST, [entry("r.io/a:amd64")]);
    await assert.rejects(
      () => store.create(LIST, [entry("r.io/a:arm64")]),
      (e) => e instanceof ManifestListExistsError && /--amend/.test(e.message) && e.list === LIST,
    );
    assert.deepEqual((await store.entries(LIST)).map((e) => e.ref), ["r.io/a:amd64"]);
  });
});

Deno.test("LocalStore.create() run concurrently for one list: exactly one wins, whole", async () => {
  await withStore(async (store) => {
    const attempts = Array.from({ length: 8 }, (_, i) => [
      entry(`r.io/a:${i}-amd64`),
      entry(`r.io/a:${i}-arm64`, { os: "linux", architecture: "arm64" }),
    ]);
    const results = await Promise.allSettled(attempts.map((es) => store.create(LIST, es)));
    const won = results.flatMap((r, i) => r.status === "fulfilled" ? [i] : []);
    assert.equal(won.length, 1, "one create succeeds");
    for (const r of results) {
      if (r.status === "rejected") assert.ok(r.reason instanceof ManifestListExistsError, r.reason);
    }
    assert.deepEqual(
      (await store.entries(LIST)).map((e) => e.ref),
      attempts[won[0]].map((e) => e.ref),
    );
    assert.deepEqual(await filesOf(store.dir), [fileSafe(LIST)], "no temporary directory left");
  });
});

Deno.test("LocalStore.amend() adds entries and replaces those of the same name or source, not of the same digest", async () => {
  await withStore(async (store) => {
    // Creates the list when there is none.
    await store.amend(LIST, [entry("r.io/a:amd64")]);
    await store.amend(LIST, [
      entry("r.io/a:arm", { os: "linux", architecture: "arm", variant: "v7" }),
    ]);
    assert.deepEqual((await store.entries(LIST)).map((e) => e.ref), ["r.io/a:amd64", "r.io/a:arm"]);

    // Same name, new content (the tag moved): replaced.
    const moved = entry("r.io/a:amd64", undefined, { seed: "rebuilt" });
    await store.amend(LIST, [moved]);
    let now = await store.entries(LIST);
    assert.equal(now.length, 2);
    assert.equal(now[0].descriptor.digest, moved.descriptor.digest);

    // Same digest under another name: a second entry, as in docker's store (a tag and a digest
    // are two files there, and docker pushes both).
    const byDigest = { ...moved, ref: `r.io/a@${moved.descriptor.digest}`, source: "x" };
    await store.amend(LIST, [byDigest]);
    now = await store.entries(LIST);
    assert.deepEqual(
      now.map((e) => e.ref).sort(),
      [byDigest.ref, "r.io/a:amd64", "r.io/a:arm"].sort(),
    );
    await store.remove(LIST);
    await store.amend(LIST, [entry("r.io/a:amd64"), entry("r.io/a:arm")]);

    // An index read again: its entries replace all those it gave before, gone ones included.
    const idx = "r.io/idx:multi";
    const child = (seed: string, architecture: string) =>
      entry(`${idx}@${digestOfSeed(seed)}`, { os: "linux", architecture }, { source: idx, seed });
    await store.amend(LIST, [child("c1", "ppc64le"), child("c2", "s390x")]);
    assert.equal((await store.entries(LIST)).length, 4);
    await store.amend(LIST, [child("c3", "riscv64")]);
    now = await store.entries(LIST);
    assert.deepEqual(
      now.filter((e) => e.source === idx).map((e) => e.descriptor.platform.architecture),
      [
        "riscv64",
      ],
    );
    assert.equal(now.length, 3);
  });
});

function digestOfSeed(seed: string): string {
  return entry("r.io/x:y", undefined, { seed }).descriptor.digest;
}

Deno.test("LocalStore.update() rewrites one entry and leaves the others of its index alone", async () => {
  await withStore(async (store) => {
    await assert.rejects(() => store.update(LIST, [entry("r.io/a:1")]), ManifestListNotFoundError);
    const idx = "r.io/idx:multi";
    const a = entry(`${idx}@${digestOfSeed("a")}`, undefined, { source: idx, seed: "a" });
    const b = entry(`${idx}@${digestOfSeed("b")}`, { os: "linux", architecture: "arm64" }, {
      source: idx,
      seed: "b",
    });
    await store.create(LIST, [a, b]);
    const annotated = {
      ...a,
      descriptor: { ...a.descriptor, platform: { ...a.descriptor.platform, variant: "v3" } },
    };
    await store.update(LIST, [annotated]);
    const now = await store.entries(LIST);
    assert.equal(now.length, 2);
    assert.equal(now.find((e) => e.ref === a.ref)?.descriptor.platform.variant, "v3");
  });
});

Deno.test("LocalStore.amend() run concurrently from many writers leaves every entry, valid", async () => {
  await withStore(async (store) => {
    const entries = Array.from({ length: 24 }, (_, i) => entry(`r.io/a:${i}`));
    const reads: Promise<unknown>[] = [];
    await Promise.all(entries.map(async (e) => {
      await store.amend(LIST, [e]);
      reads.push(store.find(LIST)); // readers in between never see half a file
    }));
    await Promise.all(reads);
    const now = await store.entries(LIST);
    assert.deepEqual(now.map((e) => e.ref).sort(), entries.map((e) => e.ref).sort());
    assert.ok((await filesOf(store.listDir(LIST))).every((n) => !n.startsWith(".")));
    assert.deepEqual(await filesOf(store.dir), [fileSafe(LIST)], "no temporary file left");
  });
});

Deno.test("LocalStore writes nothing for an entry whose bytes do not match its digest", async () => {
  await withStore(async (store) => {
    const good = entry("r.io/a:1");
    const bad = { ...entry("r.io/a:2"), raw: new TextEncoder().encode("{}") };
    await assert.rejects(() => store.create(LIST, [good, bad]), /do not match/);
    assert.equal(await store.find(LIST), undefined);
    await assert.rejects(() => store.amend(LIST, [good, bad]), /do not match/);
    assert.equal(await store.find(LIST), undefined);
  });
});

Deno.test("LocalStore.remove() deletes a list and says whether there was one", async () => {
  await withStore(async (store) => {
    assert.equal(await store.remove(LIST), false);
    await store.create(LIST, [entry("r.io/a:1")]);
    assert.equal(await store.exists(LIST), true);
    assert.equal(await store.remove(LIST), true);
    assert.equal(await store.exists(LIST), false);
    assert.equal(await store.find(LIST), undefined);
    await assert.rejects(
      () => store.entries(LIST),
      (e) => e instanceof ManifestListNotFoundError && e.message === `No such manifest: ${LIST}`,
    );
    assert.deepEqual(await filesOf(store.dir), []);
  });
});

Deno.test("LocalStore reports a file that is not an entry as a LocalStoreError naming it", async () => {
  const good = entry("r.io/a:1");
  const doc = JSON.parse(JSON.stringify({
    Ref: good.ref,
    Descriptor: good.descriptor,
    Raw: btoa(String.fromCharCode(...good.raw)),
  }));
  const cases: [string, string, RegExp][] = [
    ["truncated", JSON.stringify(doc).slice(0, 40), /not JSON$/],
    ["empty", "", /not JSON$/],
    ["array", "[]", /not a JSON object$/],
    ["no ref", JSON.stringify({ ...doc, Ref: 1 }), /no string "Ref"/],
    ["bad ref", JSON.stringify({ ...doc, Ref: "Bad/Ref" }), /repository must be lowercase/],
    ["no descriptor", JSON.stringify({ ...doc, Descriptor: null }), /no "Descriptor" object/],
    ["no raw", JSON.stringify({ ...doc, Raw: undefined }), /no "Raw" manifest bytes/],
    ["raw not base64", JSON.stringify({ ...doc, Raw: "%%" }), /"Raw" is not base64/],
    [
      "bad digest",
      JSON.stringify({ ...doc, Descriptor: { ...doc.Descriptor, digest: "sha256:xy" } }),
      /no valid digest/,
    ],
    [
      "bad size",
      JSON.stringify({ ...doc, Descriptor: { ...doc.Descriptor, size: -1 } }),
      /no valid size/,
    ],
    [
      "no platform",
      JSON.stringify({ ...doc, Descriptor: { ...doc.Descriptor, platform: "linux" } }),
      /platform is not an object/,
    ],
    [
      "features not strings",
      JSON.stringify({
        ...doc,
        Descriptor: {
          ...doc.Descriptor,
          platform: { os: "linux", architecture: "amd64", "os.features": [1] },
        },
      }),
      /os\.features is not a list of strings/,
    ],
    [
      "tampered bytes",
      JSON.stringify({ ...doc, Raw: btoa("{}") }),
      /bytes do not match digest sha256:/,
    ],
  ];
  for (const [name, text, reason] of cases) {
    await withStore(async (store) => {
      await store.create(LIST, [good]);
      const path = `${store.listDir(LIST)}/${fileSafe(good.ref)}`;
      await Deno.writeTextFile(path, text);
      await assert.rejects(
        () => store.entries(LIST),
        (e) =>
          e instanceof LocalStoreError && e.path === path && reason.test(e.message) &&
          e.message.startsWith(`Local manifest store file "${path}" is unusable: `),
        name,
      );
    });
  }
});

Deno.test("LocalStore ignores hidden files and directories in a list; any other file is read, as docker reads it", async () => {
  await withStore(async (store) => {
    await store.create(LIST, [entry("r.io/a:1")]);
    await Deno.writeTextFile(`${store.listDir(LIST)}/.r.io_a-2.1234.tmp`, "{ half");
    await Deno.mkdir(`${store.listDir(LIST)}/sub`);
    assert.deepEqual((await store.entries(LIST)).map((e) => e.ref), ["r.io/a:1"]);
    await Deno.writeTextFile(`${store.listDir(LIST)}/README`, "not ours");
    await assert.rejects(
      () => store.entries(LIST),
      (e) => e instanceof LocalStoreError && e.path.endsWith("/README"),
    );
  });
});

Deno.test("LocalStore reads a file as docker writes it, keys matched in any case as Go's decoder does", async () => {
  await withStore(async (store) => {
    const e = entry("r.io/a:1", { os: "linux", architecture: "arm", variant: "v7" });
    await Deno.mkdir(store.listDir(LIST), { recursive: true });
    const b64 = btoa(String.fromCharCode(...e.raw));
    // Written by docker: no ManifestList, no Source; and one with keys in other cases.
    await Deno.writeTextFile(
      `${store.listDir(LIST)}/${fileSafe(e.ref)}`,
      `{"Ref":"${e.ref}","Descriptor":{"mediaType":"${OCI_MANIFEST}","digest":"${e.descriptor.digest}","size":${e.raw.length},"platform":{"architecture":"arm","os":"linux","variant":"v7"},"annotations":{"k":"v"}},"Raw":"${b64}","OCIManifest":{}}`,
    );
    const f = entry("r.io/b:1");
    await Deno.writeTextFile(
      `${store.listDir(LIST)}/${fileSafe(f.ref)}`,
      JSON.stringify({
        ref: f.ref,
        descriptor: { ...f.descriptor, Platform: f.descriptor.platform },
        raw: btoa(String.fromCharCode(...f.raw)),
      }),
    );
    const [a, b] = await store.entries(LIST);
    assert.deepEqual(a, { ...e, descriptor: { ...e.descriptor, annotations: { k: "v" } } });
    assert.deepEqual(b, f);
    assert.deepEqual(await store.get(LIST, e.ref), a);
    assert.equal(await store.get(LIST, "r.io/c:1"), undefined);
  });
});

Deno.test("LocalStore refuses a list or entry whose file-safe name another reference holds, naming both", async () => {
  await withStore(async (store) => {
    const a = "r.io/team/app:1-x";
    const b = "r.io/team/app-1:x";
    await store.create(a, [entry("r.io/x:1")]);
    const both = (wanted: string, stored: string) => (e: unknown) =>
      e instanceof ManifestNameCollisionError && e.wanted === wanted && e.stored === stored &&
      e.message.includes(`"${wanted}" and "${stored}"`);
    await assert.rejects(() => store.find(b), both(b, a));
    await assert.rejects(() => store.create(b, [entry("r.io/y:1")]), both(b, a));
    await assert.rejects(() => store.amend(b, [entry("r.io/y:1")]), both(b, a));
    await assert.rejects(() => store.remove(b), both(b, a));
    assert.deepEqual((await store.entries(a)).map((e) => e.ref), ["r.io/x:1"]);

    const one = entry("r.io/lib/col:a-b");
    const two = entry("r.io/lib/col-a:b", { os: "linux", architecture: "arm64" });
    await assert.rejects(() => store.create(LIST, [one, two]), both(two.ref, one.ref));
    assert.equal(await store.find(LIST), undefined, "nothing written");
    await store.create(LIST, [one]);
    await assert.rejects(() => store.amend(LIST, [two]), both(two.ref, one.ref));
    await assert.rejects(() => store.get(LIST, two.ref), both(two.ref, one.ref));
    assert.deepEqual(await store.entries(LIST), [one]);
  });
});

Deno.test("findEntry() finds an entry by name, by digest, or as the one entry of an index", () => {
  const amd = entry("127.0.0.1:5000/app:amd64");
  const arm = entry("127.0.0.1:5000/app:arm64", { os: "linux", architecture: "arm64" });
  const idx = "127.0.0.1:5000/idx:multi";
  const c1 = entry(`${idx}@${digestOfSeed("c1")}`, undefined, { source: idx, seed: "c1" });
  const c2 = entry(`${idx}@${digestOfSeed("c2")}`, undefined, { source: idx, seed: "c2" });
  const one = "127.0.0.1:5000/one:v1";
  const only = entry(`${one}@${digestOfSeed("o")}`, undefined, { source: one, seed: "o" });
  const all = [amd, arm, c1, c2, only];
  // The tag names the entry, not just its repository (entries of one repository differ by tag).
  assert.equal(findEntry(LIST, all, "127.0.0.1:5000/app:arm64"), arm);
  assert.equal(findEntry(LIST, all, "127.0.0.1:5000/app:amd64"), amd);
  assert.equal(findEntry(LIST, all, `127.0.0.1:5000/other@${arm.descriptor.digest}`), arm);
  assert.equal(findEntry(LIST, all, `${idx}@${c2.descriptor.digest}`), c2);
  assert.equal(findEntry(LIST, all, one), only);
  assert.throws(
    () => findEntry(LIST, all, idx),
    (e) => e instanceof UsageError && /names 2 entries .*name one by digest/.test(e.message),
  );
  assert.throws(
    () => findEntry(LIST, all, "127.0.0.1:5000/app"),
    (e) =>
      e instanceof ManifestEntryNotFoundError &&
      e.message === `manifest for image 127.0.0.1:5000/app does not exist in ${LIST}`,
  );
  assert.throws(() => findEntry(LIST, [], "r.io/a:1"), ManifestEntryNotFoundError);
});
