import assert from "node:assert/strict";
import {
  formatPlatform,
  normalizePlatform,
  parsePlatform,
  platformKey,
  platformMatches,
  validatePlatform,
} from "../lib/platform.ts";

Deno.test("parsePlatform() and formatPlatform() round-trip os/arch/variant and :os.version", () => {
  for (
    const s of ["linux/amd64", "linux/arm/v7", "linux/arm64/v8", "windows/amd64:10.0.17763.1234"]
  ) {
    assert.equal(formatPlatform(parsePlatform(s), { osVersion: true }), s);
  }
  assert.equal(parsePlatform("windows/amd64:10.0.17763.1234")["os.version"], "10.0.17763.1234");
  for (const bad of ["linux", "linux/", "/amd64", "a/b/c/d", "linux/amd64:"]) {
    assert.throws(
      () => parsePlatform(bad),
      new RegExp(`Invalid platform "${bad.replace("/", "\\/")}"`),
    );
  }
});

Deno.test("validatePlatform() names an unknown os, architecture or variant", () => {
  validatePlatform({ os: "linux", architecture: "arm", variant: "v7" });
  validatePlatform({ os: "windows", architecture: "amd64" });
  assert.throws(() => validatePlatform({ os: "linx", architecture: "amd64" }), /Unknown os "linx"/);
  assert.throws(
    () => validatePlatform({ os: "linux", architecture: "amd46" }),
    /Unknown architecture "amd46"/,
  );
  assert.throws(
    () => validatePlatform({ os: "linux", architecture: "arm", variant: "v9" }),
    /Unknown variant "v9" for architecture "arm"/,
  );
  assert.throws(
    () => validatePlatform({ os: "linux", architecture: "s390x", variant: "v1" }),
    /has no variants/,
  );
});

Deno.test("platforms normalise aliases and match as containerd does", () => {
  assert.deepEqual(normalizePlatform({ os: "Linux", architecture: "x86_64" }), {
    os: "linux",
    architecture: "amd64",
  });
  assert.deepEqual(normalizePlatform({ os: "linux", architecture: "armhf" }), {
    os: "linux",
    architecture: "arm",
    variant: "v7",
  });
  const arm64 = { os: "linux", architecture: "arm64" };
  assert.ok(platformMatches(arm64, { ...arm64, variant: "v8" }));
  assert.ok(platformMatches({ ...arm64, variant: "v8" }, arm64));
  assert.ok(
    platformMatches({ os: "linux", architecture: "arm", variant: "v7" }, {
      os: "linux",
      architecture: "arm",
    }),
  );
  assert.ok(
    !platformMatches({ os: "linux", architecture: "arm", variant: "v6" }, {
      os: "linux",
      architecture: "arm",
      variant: "v7",
    }),
  );
  assert.ok(
    platformMatches({ os: "windows", architecture: "amd64", "os.version": "10.0.17763" }, {
      os: "windows",
      architecture: "amd64",
      "os.version": "10.0.17763.1234",
    }),
  );
  assert.equal(platformKey(arm64), platformKey({ ...arm64, variant: "v8" }));
  assert.notEqual(
    platformKey({ os: "windows", architecture: "amd64", "os.version": "1" }),
    platformKey({ os: "windows", architecture: "amd64", "os.version": "2" }),
  );
});
