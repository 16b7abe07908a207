/**
 * Image configs as registry content (image-spec `config.md`): the one parser that type-checks the
 * fields this tool reads, the one function that reads a platform out of a config, and the one rule
 * for completing a partial platform from it. `push`, `inspect` and `manifest create` all go through
 * these, so a config with `"os": {}` fails the same way everywhere: one line naming the image.
 *
 * @module
 */

import { type ImageConfig, ManifestFormatError } from "./manifest.ts";
import type { Platform } from "./platform.ts";

const STRING_FIELDS = ["os", "architecture", "variant", "os.version"] as const;

/**
 * Parses config bytes (already verified against their digest) and checks the platform fields:
 * `os`, `architecture`, `variant`, `os.version` must be strings and `os.features` a list of
 * strings when present (`null` counts as absent, as Go's decoder reads it). Throws
 * {@link ManifestFormatError} naming `what` otherwise: a registry's content, never bad input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseImageConfig } from "./image_config.ts";
 * const bytes = new TextEncoder().encode('{"os":"linux","architecture":"arm","variant":"v7"}');
 * assert.equal(parseImageConfig(bytes, "r/x@sha256:00").variant, "v7");
 * assert.throws(
 *   () => parseImageConfig(new TextEncoder().encode('{"os":{}}'), "r/x"),
 *   /config of r\/x has an "os" that is not a string/,
 * );
 * ```
 */
export function parseImageConfig(bytes: Uint8Array, what: string): ImageConfig {
  const o = parseConfigObject(bytes, what);
  for (const field of STRING_FIELDS) {
    if (o[field] === null) delete o[field];
    else if (o[field] !== undefined && typeof o[field] !== "string") {
      throw new ManifestFormatError(`The config of ${what} has an "${field}" that is not a string`);
    }
  }
  const features = o["os.features"];
  if (features === null) delete o["os.features"];
  else if (
    features !== undefined &&
    !(Array.isArray(features) && features.every((f) => typeof f === "string"))
  ) {
    throw new ManifestFormatError(
      `The config of ${what} has "os.features" that are not a list of strings`,
    );
  }
  return o as ImageConfig;
}

/**
 * Decodes config bytes into a JSON object, fields unchecked (UTF-8, as JSON must be): the first
 * half of {@link parseImageConfig}, for a reader that judges the fields itself (`verify` reports
 * each wrong one as a problem). Throws {@link ManifestFormatError} naming `what` otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigObject } from "./image_config.ts";
 * assert.deepEqual(parseConfigObject(new TextEncoder().encode('{"os":{}}'), "r/x"), { os: {} });
 * assert.throws(() => parseConfigObject(new TextEncoder().encode("[]"), "r/x"), /not a JSON object/);
 * ```
 */
export function parseConfigObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new ManifestFormatError(`The config of ${what} is not valid JSON`, { cause: e });
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new ManifestFormatError(`The config of ${what} is not a JSON object`);
  }
  return doc as Record<string, unknown>;
}

/**
 * The platform fields an image config sets (os, architecture, variant, os.version, os.features),
 * in that order; empty strings and an empty feature list count as unset. The one reading of a
 * platform out of a config: {@link platformOfConfig}, the push's content graph and `manifest
 * create` all take it from here.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configPlatformFields } from "./image_config.ts";
 * assert.deepEqual(configPlatformFields({ os: "linux", variant: "", "os.features": [] }), { os: "linux" });
 * ```
 */
export function configPlatformFields(config: ImageConfig): Partial<Platform> {
  const p: Partial<Platform> = {};
  if (config.os) p.os = config.os;
  if (config.architecture) p.architecture = config.architecture;
  if (config.variant) p.variant = config.variant;
  if (config["os.version"]) p["os.version"] = config["os.version"];
  if (config["os.features"]?.length) p["os.features"] = config["os.features"];
  return p;
}

/**
 * The platform an image config declares (os, architecture, variant, os.version, os.features), or
 * undefined when it names no os and architecture.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { platformOfConfig } from "./image_config.ts";
 * const p = platformOfConfig({ os: "linux", architecture: "arm", variant: "v7" });
 * assert.equal(p?.variant, "v7");
 * assert.equal(platformOfConfig({ os: "linux" }), undefined);
 * ```
 */
export function platformOfConfig(config: ImageConfig | undefined): Platform | undefined {
  const p = config && configPlatformFields(config);
  return p?.os && p.architecture ? p as Platform : undefined;
}

/**
 * True when a platform given (possibly partly) leaves out something a user would expect the index
 * to carry and the config can tell: os or architecture, the variant of an arm or arm64 image, the
 * os.version of a Windows image. Only then is the config fetched.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { platformNeedsConfig } from "./image_config.ts";
 * assert(platformNeedsConfig({ os: "linux", architecture: "arm" }));
 * assert(!platformNeedsConfig({ os: "linux", architecture: "amd64" }));
 * ```
 */
export function platformNeedsConfig(given: Partial<Platform> | undefined): boolean {
  const p = given ?? {};
  return !p.os || !p.architecture ||
    (!p.variant && (p.architecture === "arm" || p.architecture === "arm64")) ||
    (!p["os.version"] && p.os === "windows");
}

/**
 * Completes `given` from `config`: os and architecture when neither is given, the variant when the
 * architecture agrees, os.version and os.features when absent. Fields the spec gives always win.
 * Returns undefined when no os and architecture can be told.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { completePlatform } from "./image_config.ts";
 * const p = completePlatform({}, { os: "linux", architecture: "arm", variant: "v7" });
 * assert.deepEqual(p, { os: "linux", architecture: "arm", variant: "v7" });
 * ```
 */
export function completePlatform(
  given: Partial<Platform> | undefined,
  config: ImageConfig | undefined,
): Platform | undefined {
  const p: Partial<Platform> = { ...given };
  // Fields were type-checked by parseImageConfig.
  const c = (config ?? {}) as Partial<Platform>;
  if (!p.os && !p.architecture) {
    p.os = c.os;
    p.architecture = c.architecture;
  }
  if (!p.variant && c.variant && p.architecture === c.architecture) p.variant = c.variant;
  if (!p["os.version"] && c["os.version"]) p["os.version"] = c["os.version"];
  if (!p["os.features"]?.length && c["os.features"]?.length) p["os.features"] = c["os.features"];
  if (!p.os || !p.architecture) return undefined;
  const out: Platform = { os: p.os, architecture: p.architecture };
  if (p.variant) out.variant = p.variant;
  if (p["os.version"]) out["os.version"] = p["os.version"];
  if (p["os.features"]?.length) out["os.features"] = p["os.features"];
  if (p.features?.length) out.features = p.features;
  return out;
}
