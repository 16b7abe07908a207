// manifest create's source reading on the engine's resolver (lib/push/resolve_sources.ts), on the
// in-memory registry of tests/_helpers/fake_registry.ts: what is read once, what is warned about.
import assert from "node:assert/strict";
import { createList } from "../lib/list_sources.ts";
import { LocalStore } from "../lib/local_store.ts";
import { parseReference } from "../lib/reference.ts";
import { FakeRegistries } from "./_helpers/fake_registry.ts";

const R = "reg.test";
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

Deno.test("createList() reads the children two sources share once, and warns of a source without a platform", async () => {
  const f = new FakeRegistries();
  const amd = f.image(`${R}/src/a`, "amd64", { os: "linux", architecture: "amd64" });
  const arm = f.image(`${R}/src/a`, "arm64", { os: "linux", architecture: "arm64", variant: "v8" });
  f.image(`${R}/src/a`, "bare", {});
  const index = enc({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [{ ...amd, platform: { architecture: "amd64", os: "linux" } }, { ...arm }],
  });
  f.manifest(`${R}/src/a`, "one", index);
  f.manifest(`${R}/src/a`, "two", index);
  const dir = await Deno.makeTempDir({ prefix: "mt-store-" });
  try {
    const store = new LocalStore(dir);
    const warnings: string[] = [];
    const logger = { debug() {}, warn: (m: string) => warnings.push(m) };
    const sources = ["one", "two", "bare"].map((t) => parseReference(`${R}/src/a:${t}`));
    await createList(f.client(), store, parseReference(`${R}/dst/list:1`), sources, { logger });
    // Each child once by digest, though two sources list it (the arm64 config read once too).
    assert.equal(f.count(new RegExp(`^getManifest ${R}/src/a ${amd.digest}$`)), 1);
    assert.equal(f.count(new RegExp(`^getManifest ${R}/src/a ${arm.digest}$`)), 1);
    assert.equal(f.count(/^fetchBlobBytes /), 2, "the arm64 config and the bare one");
    assert.deepEqual(warnings, [
      `"${R}/src/a:bare" names no platform in its config: set one with manifest annotate --os --arch`,
    ]);
    // The store names an index's child by repository and digest: two sources, one entry each.
    const entries = await store.entries(`${R}/dst/list:1`);
    const platforms = entries.map((e) => JSON.stringify(e.descriptor.platform)).sort();
    assert.deepEqual(platforms, [
      '{"os":"","architecture":""}',
      '{"os":"linux","architecture":"amd64"}',
      '{"os":"linux","architecture":"arm64","variant":"v8"}',
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
