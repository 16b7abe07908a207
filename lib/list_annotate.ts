/**
 * `manifest annotate`: the platform of a list entry changed as `docker manifest annotate` changes
 * it, and further. As docker: an empty `--os` or `--arch` changes nothing, os features are added
 * to those there (each once), a variant not given is kept even if the new architecture has no
 * such variant. Further: an empty `--variant`, `--os-version` or `--os-features` clears the field
 * (docker keeps it), and the platform typed is validated with our rules.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { annotatePlatform } from "./list_annotate.ts";
 * const p = { os: "windows", architecture: "amd64", "os.version": "10.0.17763.1234" };
 * assert.deepEqual(annotatePlatform(p, { osVersion: "", osFeatures: ["win32k"] }), {
 *   os: "windows", architecture: "amd64", "os.features": ["win32k"],
 * });
 * ```
 *
 * @module
 */

import { type Platform, validatePlatform } from "./platform.ts";

/** What `annotate` was given; undefined: not given. */
export interface Annotation {
  /** `--os`. */
  os?: string;
  /** `--arch`. */
  arch?: string;
  /** `--variant` (empty clears). */
  variant?: string;
  /** `--os-version` (empty clears). */
  osVersion?: string;
  /** `--os-features`, each possibly comma-separated (all empty clears). */
  osFeatures?: string[];
}

/** The platform `p` annotated with `a`, validated (a `UsageError` when it is not valid). */
export function annotatePlatform(p: Platform, a: Annotation): Platform {
  const out: Platform = { ...p };
  if (a.os) out.os = a.os;
  if (a.arch) out.architecture = a.arch;
  if (a.variant !== undefined) {
    if (a.variant) out.variant = a.variant;
    else delete out.variant;
  }
  if (a.osVersion !== undefined) {
    if (a.osVersion) out["os.version"] = a.osVersion;
    else delete out["os.version"];
  }
  if (a.osFeatures !== undefined) {
    const add = a.osFeatures.flatMap((f) => f.split(",")).map((f) => f.trim()).filter(Boolean);
    const all = add.length === 0 ? [] : [...new Set([...(out["os.features"] ?? []), ...add])];
    if (all.length > 0) out["os.features"] = all;
    else delete out["os.features"];
  }
  // What was typed is validated; a variant kept from the entry is not (docker keeps the v7 of an
  // arm/v7 entry annotated --arch arm64, and pushes arm64/v7).
  const typed = { ...out };
  if (!a.variant) delete typed.variant;
  validatePlatform(typed);
  return out;
}
