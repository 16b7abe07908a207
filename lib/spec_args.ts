/**
 * The spec of `push from-args`: manifest-tool's `--platforms` / `--template` / `--target` form,
 * where `OS`, `ARCH` and `VARIANT` in the template are replaced per platform.
 *
 * @module
 */

import { UsageError } from "./errors.ts";
import { parsePlatform } from "./platform.ts";
import type { PushSpec } from "./push/types.ts";

/** The flags of `push from-args`; list values may be comma-separated and repeated. */
export interface SpecArgs {
  /** `os/arch[/variant]` values. */
  platforms?: readonly string[];
  /** Source pattern with `OS`, `ARCH`, `VARIANT` placeholders. */
  template?: string;
  /** The index to push. */
  target?: string;
  /** Extra tags. */
  tags?: readonly string[];
  /** Index annotations `key=value`. */
  annotations?: readonly string[];
}

/**
 * Builds the spec `push from-args` pushes. Throws {@link UsageError} for missing or malformed
 * flags and for a template with no `OS` or `ARCH` (every platform would get the same image).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { specFromArgs } from "./spec_args.ts";
 * const spec = specFromArgs({
 *   platforms: ["linux/amd64,linux/arm/v7"],
 *   template: "r.example/app:1.0-OS-ARCHVARIANT",
 *   target: "r.example/app:1.0",
 * });
 * assert.deepEqual(spec.manifests.map((m) => m.image), [
 *   "r.example/app:1.0-linux-amd64",
 *   "r.example/app:1.0-linux-armv7",
 * ]);
 * ```
 */
export function specFromArgs(args: SpecArgs): PushSpec {
  const list = (v: readonly string[] | undefined) =>
    (v ?? []).flatMap((s) => s.split(",")).map((s) => s.trim()).filter(Boolean);
  const platforms = list(args.platforms);
  const { template, target } = args;
  if (platforms.length === 0) {
    throw new UsageError('push from-args needs "--platforms os/arch[/variant],…"');
  }
  if (!template) throw new UsageError('push from-args needs "--template" (e.g. repo:tag-OS-ARCH)');
  if (!target) throw new UsageError('push from-args needs "--target" (the index reference)');
  // A template without OS or ARCH names one image for every platform: a platform-neutral image
  // published for several (each platform an entry), as manifest-tool v2 takes it.
  const annotations: Record<string, string> = {};
  for (const a of list(args.annotations)) {
    const i = a.indexOf("=");
    if (i <= 0) throw new UsageError(`Invalid --annotations "${a}": expected key=value`);
    annotations[a.slice(0, i)] = a.slice(i + 1);
  }
  return {
    image: target,
    tags: list(args.tags),
    annotations,
    manifests: platforms.map((s) => {
      const p = parsePlatform(s);
      // VARIANT is dropped (with nothing in its place) for platforms without one.
      const image = template.replaceAll("VARIANT", p.variant ?? "")
        .replaceAll("ARCH", p.architecture)
        .replaceAll("OS", p.os);
      return { image, platform: p };
    }),
  };
}
