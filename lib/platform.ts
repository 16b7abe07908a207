/**
 * OCI platforms (image-spec `image-index.md`, the `platform` object of a manifest entry): parse
 * and format `os/arch[/variant][:os.version]`, validate against Go's GOOS/GOARCH lists and the
 * variants in use, normalise the aliases other tools write (`x86_64`, `aarch64`, `armhf`…), match
 * the way containerd does, and key entries for duplicate detection.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPlatform, parsePlatform, validatePlatform } from "./platform.ts";
 * const p = parsePlatform("linux/arm/v7");
 * validatePlatform(p);
 * assert(formatPlatform(p) === "linux/arm/v7");
 * ```
 *
 * @module
 */

import { UsageError } from "./errors.ts";
import { printable } from "./registry/transport.ts";

/** An OCI platform, as in an image index entry or an image config. */
export interface Platform {
  /** Operating system (GOOS), e.g. `linux`. */
  os: string;
  /** CPU architecture (GOARCH), e.g. `arm64`. */
  architecture: string;
  /** CPU variant, e.g. `v7`. */
  variant?: string;
  /** OS version (Windows builds), e.g. `10.0.17763.1234`. */
  "os.version"?: string;
  /** OS features (Windows), e.g. `win32k`. */
  "os.features"?: string[];
  /** CPU features; reserved by the image spec. */
  features?: string[];
}

/**
 * Go's GOOS values (`go tool dist list`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KNOWN_OS } from "./platform.ts";
 * assert(KNOWN_OS.includes("linux") && KNOWN_OS.includes("windows"));
 * ```
 */
export const KNOWN_OS: readonly string[] = Object.freeze([
  "aix",
  "android",
  "darwin",
  "dragonfly",
  "freebsd",
  "illumos",
  "ios",
  "js",
  "linux",
  "netbsd",
  "openbsd",
  "plan9",
  "solaris",
  "wasip1",
  "windows",
]);

/**
 * Go's GOARCH values (`go tool dist list`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KNOWN_ARCH } from "./platform.ts";
 * assert(KNOWN_ARCH.includes("amd64") && !KNOWN_ARCH.includes("x86_64"));
 * ```
 */
export const KNOWN_ARCH: readonly string[] = Object.freeze([
  "386",
  "amd64",
  "arm",
  "arm64",
  "loong64",
  "mips",
  "mips64",
  "mips64le",
  "mipsle",
  "ppc64",
  "ppc64le",
  "riscv64",
  "s390x",
  "wasm",
]);

// GOARM, GOARM64 (v8.0…v9.5), GOAMD64 and GORISCV64 levels; the bare v8/v9 forms are what
// buildx and containerd write. Other architectures have no variants.
const VARIANTS: Readonly<Record<string, readonly string[]>> = {
  arm: ["v5", "v6", "v7", "v8"],
  arm64: [
    "v8",
    ...Array.from({ length: 10 }, (_, i) => `v8.${i}`),
    "v9",
    ...Array.from({ length: 6 }, (_, i) => `v9.${i}`),
  ],
  amd64: ["v1", "v2", "v3", "v4"],
  riscv64: ["rva20u64", "rva22u64"],
};

// Names other tools use (uname -m, Debian arch names), after containerd's platforms.Normalize.
const ARCH_ALIASES: Readonly<Record<string, { architecture: string; variant?: string }>> = {
  x86_64: { architecture: "amd64" },
  "x86-64": { architecture: "amd64" },
  aarch64: { architecture: "arm64" },
  armhf: { architecture: "arm", variant: "v7" },
  armel: { architecture: "arm", variant: "v6" },
  i386: { architecture: "386" },
  i686: { architecture: "386" },
};

const OS_ALIASES: Readonly<Record<string, string>> = { macos: "darwin" };

/**
 * Parses `os/arch[/variant]` with an optional `:os.version` suffix. Os, architecture and variant
 * are lowercased; nothing else is checked here (see {@link validatePlatform}). Throws a
 * {@link UsageError} `Invalid platform "<s>": <problem>` when a part is missing or empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePlatform } from "./platform.ts";
 * const p = parsePlatform("windows/amd64:10.0.17763.1234");
 * assert(p.os === "windows" && p["os.version"] === "10.0.17763.1234");
 * assert(parsePlatform("linux/arm/v7").variant === "v7");
 * ```
 */
export function parsePlatform(s: string): Platform {
  const colon = s.indexOf(":");
  const main = colon >= 0 ? s.slice(0, colon) : s;
  const osVersion = colon >= 0 ? s.slice(colon + 1) : undefined;
  const parts = main.split("/");
  if (parts.length < 2 || parts.length > 3) {
    throw new UsageError(`Invalid platform "${s}": expected os/arch[/variant][:os.version]`);
  }
  const names = ["os", "architecture", "variant"];
  parts.forEach((part, i) => {
    if (!part) throw new UsageError(`Invalid platform "${s}": empty ${names[i]}`);
    if (/\s/.test(part)) {
      throw new UsageError(`Invalid platform "${s}": ${names[i]} must not contain white space`);
    }
  });
  if (osVersion !== undefined && !osVersion) {
    throw new UsageError(`Invalid platform "${s}": empty os.version after ":"`);
  }
  if (osVersion && /\s/.test(osVersion)) {
    throw new UsageError(`Invalid platform "${s}": os.version must not contain white space`);
  }
  const p: Platform = { os: parts[0].toLowerCase(), architecture: parts[1].toLowerCase() };
  if (parts[2]) p.variant = parts[2].toLowerCase();
  if (osVersion) p["os.version"] = osVersion;
  return p;
}

/**
 * `os/arch[/variant]`, with `:os.version` appended when `options.osVersion` is set and the
 * platform has one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPlatform } from "./platform.ts";
 * const win = { os: "windows", architecture: "amd64", "os.version": "10.0.17763.1234" };
 * assert(formatPlatform({ os: "linux", architecture: "arm", variant: "v7" }) === "linux/arm/v7");
 * assert(formatPlatform(win, { osVersion: true }) === "windows/amd64:10.0.17763.1234");
 * ```
 */
export function formatPlatform(p: Platform, options: { osVersion?: boolean } = {}): string {
  let s = `${p.os}/${p.architecture}${p.variant ? "/" + p.variant : ""}`;
  if (options.osVersion && p["os.version"]) s += `:${p["os.version"]}`;
  return s;
}

/**
 * Throws a {@link UsageError} when the os or architecture is not one Go knows, or the variant is
 * not one of the architecture's. Values must already be normalised: an alias such as `x86_64` is
 * rejected with a hint. `unknown/unknown` (attestation entries) is rejected too; test for it with
 * {@link isAttestationPlatform} first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validatePlatform } from "./platform.ts";
 * validatePlatform({ os: "linux", architecture: "arm64", variant: "v8" });
 * let message = "";
 * try {
 *   validatePlatform({ os: "linux", architecture: "amd46" });
 * } catch (e) {
 *   message = (e as Error).message;
 * }
 * assert(message.startsWith('Unknown architecture "amd46" in platform "linux/amd46"'));
 * ```
 */
export function validatePlatform(p: Platform): void {
  // The platform may come from a registry (an image config): quoted values are escaped.
  const text = q(formatPlatform(p));
  if (!KNOWN_OS.includes(p.os)) {
    const lower = p.os.toLowerCase();
    const suggestion = OS_ALIASES[lower] ?? (KNOWN_OS.includes(lower) ? lower : undefined);
    throw new UsageError(
      `Unknown os "${q(p.os)}" in platform "${text}": ${hint(suggestion)}expected one of ${
        KNOWN_OS.join(", ")
      }`,
    );
  }
  if (!KNOWN_ARCH.includes(p.architecture)) {
    const lower = p.architecture.toLowerCase();
    const alias = ARCH_ALIASES[lower];
    const suggestion = alias
      ? alias.architecture + (alias.variant ? `/${alias.variant}` : "")
      : KNOWN_ARCH.includes(lower)
      ? lower
      : undefined;
    throw new UsageError(
      `Unknown architecture "${q(p.architecture)}" in platform "${text}": ${
        hint(suggestion)
      }expected one of ${KNOWN_ARCH.join(", ")}`,
    );
  }
  if (p.variant !== undefined) {
    const allowed = VARIANTS[p.architecture] ?? [];
    if (!allowed.includes(p.variant)) {
      throw new UsageError(
        `Unknown variant "${q(p.variant)}" for architecture "${
          q(p.architecture)
        }" in platform "${text}": ${
          allowed.length
            ? `expected one of ${allowed.join(", ")}`
            : "this architecture has no variants"
        }`,
      );
    }
  }
}

function q(s: unknown): string {
  return printable(String(s), 200);
}

function hint(suggestion: string | undefined): string {
  return suggestion ? `did you mean "${suggestion}"? ` : "";
}

/**
 * True for `unknown/unknown`, the platform buildx gives attestation manifests in an index. Such
 * entries are not images to run and are not checked by {@link validatePlatform}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isAttestationPlatform } from "./platform.ts";
 * assert(isAttestationPlatform({ os: "unknown", architecture: "unknown" }));
 * assert(!isAttestationPlatform({ os: "linux", architecture: "amd64" }));
 * ```
 */
export function isAttestationPlatform(p: Platform): boolean {
  return p.os === "unknown" && p.architecture === "unknown";
}

/**
 * Normalises what other tools write: os, architecture and variant lowercased; architecture
 * aliases mapped (`x86_64`/`x86-64` → `amd64`, `aarch64` → `arm64`, `armhf` → `arm/v7`, `armel` →
 * `arm/v6`, `i386`/`i686` → `386`); `macos` → `darwin`; a bare-number variant of arm, arm64 or
 * amd64 given its `v` (`7` → `v7`).
 *
 * Unlike containerd, a variant that is given is kept (`arm64/v8` stays `arm64/v8`, `arm` does not
 * become `arm/v7`): this result may be written into an index, and it should say what the source
 * said. The equivalences live in {@link platformMatches} and {@link platformKey} instead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizePlatform } from "./platform.ts";
 * const p = normalizePlatform({ os: "Linux", architecture: "aarch64", variant: "v8" });
 * assert(p.os === "linux" && p.architecture === "arm64" && p.variant === "v8");
 * assert(normalizePlatform({ os: "linux", architecture: "armhf" }).variant === "v7");
 * ```
 */
export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase();
  const arch = p.architecture.toLowerCase();
  const alias = ARCH_ALIASES[arch];
  const architecture = alias?.architecture ?? arch;
  // armhf and armel name the variant themselves, as in containerd.
  let variant = alias?.variant ?? p.variant?.toLowerCase();
  if (variant && /^\d/.test(variant) && ["arm", "arm64", "amd64"].includes(architecture)) {
    variant = `v${variant}`;
  }
  const out: Platform = { ...p, os: OS_ALIASES[os] ?? os, architecture };
  if (variant) out.variant = variant;
  else delete out.variant;
  return out;
}

/** The variant as containerd compares it, of a normalised platform. */
function effectiveVariant(p: Platform): string {
  const v = p.variant ?? "";
  switch (p.architecture) {
    case "arm64": // arm64 with no variant is v8.
      return v === "v8" || v === "v8.0" ? "" : v === "v9.0" ? "v9" : v;
    case "arm": // arm with no variant is v7.
      return v || "v7";
    case "amd64": // amd64 with no variant is v1.
      return v === "v1" ? "" : v;
    default:
      return v;
  }
}

/**
 * True when `have` satisfies `want`, after {@link normalizePlatform}: same os and architecture;
 * when `want` names a variant, the same variant, where `arm64` ≡ `arm64/v8`, `arm` ≡ `arm/v7` and
 * `amd64` ≡ `amd64/v1`; when `want` has an `os.version`, `have`'s equals it or extends it at a
 * dot (`10.0.17763` matches `10.0.17763.1234`, not `10.0.177630`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { platformMatches } from "./platform.ts";
 * const arm64 = { os: "linux", architecture: "arm64" };
 * assert(platformMatches(arm64, { ...arm64, variant: "v8" }));
 * assert(!platformMatches({ os: "linux", architecture: "arm", variant: "v6" },
 *   { os: "linux", architecture: "arm", variant: "v7" }));
 * ```
 */
export function platformMatches(want: Platform, have: Platform): boolean {
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return false;
  if (w.variant !== undefined && effectiveVariant(w) !== effectiveVariant(h)) return false;
  const wv = w["os.version"];
  const hv = h["os.version"] ?? "";
  if (wv && hv !== wv && !hv.startsWith(wv + ".")) return false;
  return true;
}

/**
 * A stable key for duplicate detection: `os/arch/variant` normalised (so `arm64` and `arm64/v8`
 * share a key), then `:os.version` and `+os.features` (sorted) when present.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { platformKey } from "./platform.ts";
 * const arm64 = { os: "linux", architecture: "arm64" };
 * assert(platformKey(arm64) === platformKey({ ...arm64, variant: "v8" }));
 * assert(platformKey({ os: "linux", architecture: "arm" }) === "linux/arm/v7");
 * ```
 */
export function platformKey(p: Platform): string {
  const n = normalizePlatform(p);
  const variant = effectiveVariant(n);
  let key = `${n.os}/${n.architecture}${variant ? "/" + variant : ""}`;
  if (n["os.version"]) key += `:${n["os.version"]}`;
  const features = [...(n["os.features"] ?? [])].sort();
  if (features.length > 0) key += `+${features.join(",")}`;
  return key;
}

/**
 * Orders platforms for display: by os, architecture, variant, then os.version, comparing runs of
 * digits as numbers (`10.0.9` before `10.0.17763`, `v8` before `v8.2`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { comparePlatforms } from "./platform.ts";
 * const ps = [{ os: "linux", architecture: "arm64" }, { os: "linux", architecture: "amd64" }];
 * assert(ps.sort(comparePlatforms)[0].architecture === "amd64");
 * ```
 */
export function comparePlatforms(a: Platform, b: Platform): number {
  const fields = (p: Platform) => [p.os, p.architecture, p.variant ?? "", p["os.version"] ?? ""];
  const fa = fields(a);
  const fb = fields(b);
  for (let i = 0; i < fa.length; i++) {
    const c = compareNatural(fa[i], fb[i]);
    if (c !== 0) return c;
  }
  return 0;
}

/** Compares strings chunk by chunk, runs of digits by their value. */
function compareNatural(a: string, b: string): number {
  if (a === b) return 0;
  const ca = a.match(/\d+|\D+/g) ?? [];
  const cb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const x = ca[i];
    const y = cb[i];
    if (x === y) continue;
    if (/^\d/.test(x) && /^\d/.test(y)) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d < 0 ? -1 : 1;
      return x.length < y.length ? -1 : 1; // "7" before "07": keep the order total
    }
    return x < y ? -1 : 1;
  }
  return Math.sign(ca.length - cb.length);
}
