import assert from "node:assert/strict";
import {
  comparePlatforms,
  formatPlatform,
  isAttestationPlatform,
  KNOWN_ARCH,
  KNOWN_OS,
  normalizePlatform,
  parsePlatform,
  type Platform,
  platformKey,
  platformMatches,
  validatePlatform,
} from "../lib/platform.ts";
import { UsageError } from "../lib/errors.ts";

const linux = (architecture: string, variant?: string): Platform =>
  variant ? { os: "linux", architecture, variant } : { os: "linux", architecture };

Deno.test("parsePlatform() reads os/arch[/variant][:os.version]", () => {
  const cases: [string, Platform][] = [
    ["linux/amd64", { os: "linux", architecture: "amd64" }],
    ["linux/arm/v7", { os: "linux", architecture: "arm", variant: "v7" }],
    ["linux/arm64/v8", { os: "linux", architecture: "arm64", variant: "v8" }],
    ["Linux/ARM64", { os: "linux", architecture: "arm64" }],
    [
      "windows/amd64:10.0.17763.1234",
      { os: "windows", architecture: "amd64", "os.version": "10.0.17763.1234" },
    ],
    [
      "windows/arm64/v8:10.0.26100",
      { os: "windows", architecture: "arm64", variant: "v8", "os.version": "10.0.26100" },
    ],
  ];
  for (const [input, want] of cases) assert.deepEqual(parsePlatform(input), want, input);
});

Deno.test("parsePlatform() names the string and the missing or empty part", () => {
  const cases: [string, string][] = [
    ["", "expected os/arch[/variant][:os.version]"],
    ["linux", "expected os/arch[/variant][:os.version]"],
    ["a/b/c/d", "expected os/arch[/variant][:os.version]"],
    ["linux/", "empty architecture"],
    ["/amd64", "empty os"],
    ["linux/arm/", "empty variant"],
    ["linux/amd64:", 'empty os.version after ":"'],
    ["linux/amd 64", "architecture must not contain white space"],
    [" linux/amd64", "os must not contain white space"],
    ["linux/arm/v7 ", "variant must not contain white space"],
    ["windows/amd64:10.0 17763", "os.version must not contain white space"],
    ["/", "empty os"],
    ["linux//v7", "empty architecture"],
  ];
  for (const [input, problem] of cases) {
    assert.throws(() => parsePlatform(input), (e: unknown) => {
      assert.ok(e instanceof UsageError, input);
      assert.equal(e.message, `Invalid platform "${input}": ${problem}`);
      return true;
    });
  }
});

Deno.test("formatPlatform() writes os/arch/variant and :os.version only when asked", () => {
  const win: Platform = { os: "windows", architecture: "amd64", "os.version": "10.0.17763.1234" };
  assert.equal(formatPlatform(linux("arm", "v7")), "linux/arm/v7");
  assert.equal(formatPlatform(linux("amd64")), "linux/amd64");
  assert.equal(formatPlatform(win), "windows/amd64");
  assert.equal(formatPlatform(win, { osVersion: true }), "windows/amd64:10.0.17763.1234");
  assert.equal(formatPlatform(linux("amd64"), { osVersion: true }), "linux/amd64");
});

Deno.test("parsePlatform() and formatPlatform() round-trip", () => {
  for (
    const s of ["linux/amd64", "linux/arm/v7", "linux/arm64/v8", "windows/amd64:10.0.17763.1234"]
  ) {
    assert.equal(formatPlatform(parsePlatform(s), { osVersion: true }), s);
  }
});

Deno.test("validatePlatform() accepts every Go os and architecture and their variants", () => {
  for (const os of KNOWN_OS) validatePlatform({ os, architecture: "amd64" });
  for (const architecture of KNOWN_ARCH) validatePlatform(linux(architecture));
  const variants: [string, string[]][] = [
    ["arm", ["v5", "v6", "v7", "v8"]],
    ["arm64", ["v8", "v8.0", "v8.5", "v8.9", "v9", "v9.0", "v9.5"]],
    ["amd64", ["v1", "v2", "v3", "v4"]],
    ["riscv64", ["rva20u64", "rva22u64"]],
  ];
  for (const [arch, vs] of variants) for (const v of vs) validatePlatform(linux(arch, v));
  validatePlatform({ os: "windows", architecture: "amd64", "os.version": "10.0.17763.1234" });
});

Deno.test("validatePlatform() names an unknown os, architecture or variant", () => {
  const cases: [Platform, RegExp][] = [
    [
      { os: "linx", architecture: "amd64" },
      /^Unknown os "linx" in platform "linx\/amd64": expected one of aix, android, .*windows$/,
    ],
    [
      { os: "macos", architecture: "arm64" },
      /^Unknown os "macos" .*: did you mean "darwin"\? expected one of/,
    ],
    [{ os: "Linux", architecture: "amd64" }, /^Unknown os "Linux" .*: did you mean "linux"\?/],
    [
      linux("amd46"),
      /^Unknown architecture "amd46" in platform "linux\/amd46": expected one of 386, amd64, arm, .*wasm$/,
    ],
    [linux("x86_64"), /^Unknown architecture "x86_64" .*: did you mean "amd64"\?/],
    [linux("aarch64"), /did you mean "arm64"\?/],
    [linux("armhf"), /did you mean "arm\/v7"\?/],
    [
      linux("arm", "v9"),
      /^Unknown variant "v9" for architecture "arm" in platform "linux\/arm\/v9": expected one of v5, v6, v7, v8$/,
    ],
    [linux("arm64", "v7"), /Unknown variant "v7" for architecture "arm64"/],
    [linux("arm64", "v8.10"), /Unknown variant "v8.10"/],
    [linux("amd64", "v8"), /Unknown variant "v8" for architecture "amd64"/],
    [
      linux("s390x", "v1"),
      /^Unknown variant "v1" for architecture "s390x" .*: this architecture has no variants$/,
    ],
    [{ os: "unknown", architecture: "unknown" }, /^Unknown os "unknown"/],
  ];
  for (const [p, re] of cases) {
    assert.throws(() => validatePlatform(p), (e: unknown) => {
      assert.ok(e instanceof UsageError, formatPlatform(p));
      assert.match(e.message, re);
      return true;
    });
  }
});

Deno.test("isAttestationPlatform() is true only for unknown/unknown", () => {
  assert.equal(isAttestationPlatform({ os: "unknown", architecture: "unknown" }), true);
  assert.equal(isAttestationPlatform({ os: "linux", architecture: "unknown" }), false);
  assert.equal(isAttestationPlatform(linux("amd64")), false);
});

Deno.test("normalizePlatform() maps aliases and keeps a given variant", () => {
  const cases: [Platform, Platform][] = [
    [{ os: "Linux", architecture: "x86_64" }, linux("amd64")],
    [linux("x86-64"), linux("amd64")],
    [linux("AARCH64"), linux("arm64")],
    [linux("aarch64", "v8"), linux("arm64", "v8")],
    [linux("arm64", "v8"), linux("arm64", "v8")],
    [linux("armhf"), linux("arm", "v7")],
    [linux("armel"), linux("arm", "v6")],
    [linux("i386"), linux("386")],
    [linux("i686"), linux("386")],
    [linux("arm", "7"), linux("arm", "v7")],
    [linux("arm", "V6"), linux("arm", "v6")],
    [linux("arm"), linux("arm")],
    [{ os: "macos", architecture: "arm64" }, { os: "darwin", architecture: "arm64" }],
    [linux("riscv64", "rva22u64"), linux("riscv64", "rva22u64")],
  ];
  for (const [input, want] of cases) {
    assert.deepEqual(normalizePlatform(input), want, formatPlatform(input));
  }
  const win: Platform = {
    os: "Windows",
    architecture: "AMD64",
    "os.version": "10.0.17763.1234",
    "os.features": ["win32k"],
  };
  assert.deepEqual(normalizePlatform(win), { ...win, os: "windows", architecture: "amd64" });
  assert.equal(win.os, "Windows", "the input is not changed");
});

Deno.test("platformMatches() follows containerd's equivalences", () => {
  const win = (v?: string): Platform =>
    v ? { os: "windows", architecture: "amd64", "os.version": v } : {
      os: "windows",
      architecture: "amd64",
    };
  const cases: [Platform, Platform, boolean, string][] = [
    [linux("amd64"), linux("amd64"), true, "same platform"],
    [linux("amd64"), linux("arm64"), false, "other architecture"],
    [linux("amd64"), { os: "windows", architecture: "amd64" }, false, "other os"],
    [linux("x86_64"), linux("amd64"), true, "aliases normalised"],
    [{ os: "Linux", architecture: "amd64" }, linux("amd64"), true, "os case"],
    [linux("arm64"), linux("arm64", "v8"), true, "no variant wanted: any"],
    [linux("arm64"), linux("arm64", "v9"), true, "no variant wanted: any, even v9"],
    [linux("arm64", "v8"), linux("arm64"), true, "arm64/v8 is arm64"],
    [linux("arm64", "v8"), linux("arm64", "v8.0"), true, "arm64/v8 is arm64/v8.0"],
    [linux("arm64", "v8"), linux("arm64", "v9"), false, "arm64/v8 is not v9"],
    [linux("arm", "v7"), linux("arm"), true, "arm is arm/v7"],
    [linux("arm", "v7"), linux("armhf"), true, "armhf is arm/v7"],
    [linux("arm", "v6"), linux("arm", "v7"), false, "v6 is not v7"],
    [linux("arm", "v6"), linux("arm"), false, "arm without variant is v7, not v6"],
    [linux("amd64", "v1"), linux("amd64"), true, "amd64 is amd64/v1"],
    [linux("amd64", "v3"), linux("amd64"), false, "amd64/v3 is not amd64"],
    [win("10.0.17763"), win("10.0.17763.1234"), true, "os.version prefix at a dot"],
    [win("10.0.17763.1234"), win("10.0.17763.1234"), true, "os.version equal"],
    [win("10.0.1776"), win("10.0.17763.1234"), false, "os.version prefix not at a dot"],
    [win("10.0.17763"), win(), false, "os.version wanted, none had"],
    [win(), win("10.0.17763.1234"), true, "no os.version wanted: any"],
  ];
  for (const [want, have, expected, why] of cases) {
    assert.equal(platformMatches(want, have), expected, why);
  }
});

Deno.test("platformKey() is equal exactly for platforms that duplicate each other", () => {
  const same: [Platform, Platform][] = [
    [linux("arm64"), linux("arm64", "v8")],
    [linux("aarch64"), linux("arm64")],
    [linux("arm"), linux("arm", "v7")],
    [linux("armhf"), linux("arm", "v7")],
    [linux("amd64"), linux("amd64", "v1")],
    [
      { os: "windows", architecture: "amd64", "os.features": ["b", "a"] },
      { os: "windows", architecture: "amd64", "os.features": ["a", "b"] },
    ],
  ];
  for (const [a, b] of same) assert.equal(platformKey(a), platformKey(b), formatPlatform(a));
  const different: [Platform, Platform][] = [
    [linux("arm", "v6"), linux("arm", "v7")],
    [linux("arm64"), linux("arm64", "v9")],
    [linux("amd64"), linux("amd64", "v3")],
    [
      { os: "windows", architecture: "amd64", "os.version": "1" },
      { os: "windows", architecture: "amd64", "os.version": "2" },
    ],
    [
      { os: "windows", architecture: "amd64" },
      { os: "windows", architecture: "amd64", "os.features": ["win32k"] },
    ],
  ];
  for (const [a, b] of different) {
    assert.notEqual(platformKey(a), platformKey(b), formatPlatform(a));
  }
  assert.equal(platformKey(linux("arm")), "linux/arm/v7");
  assert.equal(
    platformKey({
      os: "windows",
      architecture: "amd64",
      "os.version": "10.0.1",
      "os.features": ["win32k"],
    }),
    "windows/amd64:10.0.1+win32k",
  );
});

Deno.test("comparePlatforms() sorts by os, architecture, variant and os.version", () => {
  const win = (v: string): Platform => ({ os: "windows", architecture: "amd64", "os.version": v });
  const sorted: Platform[] = [
    linux("386"),
    linux("amd64"),
    linux("arm"),
    linux("arm", "v6"),
    linux("arm", "v7"),
    linux("arm64"),
    linux("arm64", "v8"),
    linux("arm64", "v8.2"),
    linux("arm64", "v9"),
    linux("s390x"),
    win("10.0.9"),
    win("10.0.17763.1234"),
    win("10.0.20348"),
  ];
  const shuffled = [...sorted].reverse();
  shuffled.push(shuffled.shift()!);
  assert.deepEqual(shuffled.sort(comparePlatforms), sorted);
  assert.equal(comparePlatforms(linux("amd64"), linux("amd64")), 0);
});
