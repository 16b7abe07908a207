/**
 * OCI platforms (image-spec `image-index.md#platform-variants`): parse `os/arch[/variant][:os.version]`,
 * validate against Go's known GOOS/GOARCH lists and the usual variants, normalise aliases
 * (`x86_64` → `amd64`, `aarch64` → `arm64`), match, and key for duplicate detection.
 *
 * @module
 */

import { UsageError } from "./errors.ts";

/** An OCI platform. */
export interface Platform {
  /** Operating system (GOOS). */
  os: string;
  /** CPU architecture (GOARCH). */
  architecture: string;
  /** CPU variant, e.g. `v7`. */
  variant?: string;
  /** OS version (Windows builds). */
  "os.version"?: string;
  /** OS features (Windows). */
  "os.features"?: string[];
  /** Reserved CPU features. */
  features?: string[];
}

/** Go's GOOS values (`go tool dist list`). */
export const KNOWN_OS: readonly string[] = [
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
];

/** Go's GOARCH values. */
export const KNOWN_ARCH: readonly string[] = [
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
];

const VARIANTS: Record<string, readonly string[]> = {
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

const ARCH_ALIASES: Record<string, { architecture: string; variant?: string }> = {
  x86_64: { architecture: "amd64" },
  "x86-64": { architecture: "amd64" },
  aarch64: { architecture: "arm64" },
  armhf: { architecture: "arm", variant: "v7" },
  armel: { architecture: "arm", variant: "v6" },
  i386: { architecture: "386" },
  i686: { architecture: "386" },
};

/**
 * Parses `os/arch[/variant]` with an optional `:os.version` suffix.
 *
 * @example
 * ```ts
 * import { parsePlatform } from "./platform.ts";
 * const p = parsePlatform("windows/amd64:10.0.17763.1234");
 * console.assert(p.os === "windows" && p["os.version"] === "10.0.17763.1234");
 * ```
 */
export function parsePlatform(s: string): Platform {
  const colon = s.indexOf(":");
  const main = colon >= 0 ? s.slice(0, colon) : s;
  const osVersion = colon >= 0 ? s.slice(colon + 1) : undefined;
  const parts = main.split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !p)) {
    throw new UsageError(`Invalid platform "${s}": expected os/arch[/variant]`);
  }
  if (osVersion !== undefined && !osVersion) {
    throw new UsageError(`Invalid platform "${s}": empty os.version after ":"`);
  }
  const p: Platform = { os: parts[0].toLowerCase(), architecture: parts[1].toLowerCase() };
  if (parts[2]) p.variant = parts[2].toLowerCase();
  if (osVersion) p["os.version"] = osVersion;
  return p;
}

/**
 * `os/arch[/variant]`, with `:os.version` when asked.
 *
 * @example
 * ```ts
 * import { formatPlatform } from "./platform.ts";
 * console.assert(formatPlatform({ os: "linux", architecture: "arm", variant: "v7" }) === "linux/arm/v7");
 * ```
 */
export function formatPlatform(p: Platform, options: { osVersion?: boolean } = {}): string {
  let s = `${p.os}/${p.architecture}${p.variant ? "/" + p.variant : ""}`;
  if (options.osVersion && p["os.version"]) s += `:${p["os.version"]}`;
  return s;
}

/**
 * Throws a {@link UsageError} when os, architecture or variant is not one Go knows.
 *
 * @example
 * ```ts
 * import { validatePlatform } from "./platform.ts";
 * validatePlatform({ os: "linux", architecture: "arm64", variant: "v8" });
 * ```
 */
export function validatePlatform(p: Platform): void {
  const text = formatPlatform(p);
  if (!KNOWN_OS.includes(p.os)) {
    throw new UsageError(
      `Unknown os "${p.os}" in platform "${text}": expected one of ${KNOWN_OS.join(", ")}`,
    );
  }
  if (!KNOWN_ARCH.includes(p.architecture)) {
    throw new UsageError(
      `Unknown architecture "${p.architecture}" in platform "${text}": expected one of ${
        KNOWN_ARCH.join(", ")
      }`,
    );
  }
  if (p.variant) {
    const allowed = VARIANTS[p.architecture] ?? [];
    if (!allowed.includes(p.variant)) {
      throw new UsageError(
        `Unknown variant "${p.variant}" for architecture "${p.architecture}" in platform "${text}": ${
          allowed.length
            ? `expected one of ${allowed.join(", ")}`
            : "this architecture has no variants"
        }`,
      );
    }
  }
}

/**
 * Normalises aliases (x86_64, aarch64, armhf, i386…) and lowercases os and architecture; the
 * variant is kept as given.
 *
 * @example
 * ```ts
 * import { normalizePlatform } from "./platform.ts";
 * console.assert(normalizePlatform({ os: "Linux", architecture: "aarch64" }).architecture === "arm64");
 * ```
 */
export function normalizePlatform(p: Platform): Platform {
  const arch = p.architecture.toLowerCase();
  const alias = ARCH_ALIASES[arch];
  const out: Platform = { ...p, os: p.os.toLowerCase(), architecture: alias?.architecture ?? arch };
  const variant = p.variant ?? alias?.variant;
  if (variant) out.variant = variant;
  else delete out.variant;
  return out;
}

function effectiveVariant(p: Platform): string | undefined {
  // containerd: arm64 without variant is v8; arm without variant is v7.
  if (p.architecture === "arm64") return p.variant === "v8" ? undefined : p.variant;
  if (p.architecture === "arm") return p.variant ?? "v7";
  return p.variant;
}

/**
 * True when `have` satisfies `want`: same os and architecture; same variant when `want` names one
 * (arm64 and arm64/v8 are equal, arm and arm/v7 too); `os.version` of `want` a prefix of `have`'s.
 *
 * @example
 * ```ts
 * import { platformMatches } from "./platform.ts";
 * console.assert(platformMatches({ os: "linux", architecture: "arm64" }, { os: "linux", architecture: "arm64", variant: "v8" }));
 * ```
 */
export function platformMatches(want: Platform, have: Platform): boolean {
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return false;
  if (w.variant && effectiveVariant(w) !== effectiveVariant(h)) return false;
  // os.version prefixes match at dot boundaries: 10.0.17763 matches 10.0.17763.1234, 10.0.1 does not.
  const hv = h["os.version"] ?? "";
  if (w["os.version"] && hv !== w["os.version"] && !hv.startsWith(w["os.version"] + ".")) {
    return false;
  }
  return true;
}

/**
 * A stable key for duplicate detection: os/arch/variant (normalised)/os.version/os.features.
 *
 * @example
 * ```ts
 * import { platformKey } from "./platform.ts";
 * console.assert(platformKey({ os: "linux", architecture: "arm64" }) === platformKey({ os: "linux", architecture: "arm64", variant: "v8" }));
 * ```
 */
export function platformKey(p: Platform): string {
  const n = normalizePlatform(p);
  return [
    n.os,
    n.architecture,
    effectiveVariant(n) ?? "",
    n["os.version"] ?? "",
    (n["os.features"] ?? []).join("."),
  ]
    .join("|");
}

/**
 * Orders platforms for display: os, architecture, variant, os.version.
 *
 * @example
 * ```ts
 * import { comparePlatforms } from "./platform.ts";
 * console.assert(comparePlatforms({ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm" }) < 0);
 * ```
 */
export function comparePlatforms(a: Platform, b: Platform): number {
  const ka = [a.os, a.architecture, a.variant ?? "", a["os.version"] ?? ""];
  const kb = [b.os, b.architecture, b.variant ?? "", b["os.version"] ?? ""];
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
  return 0;
}
