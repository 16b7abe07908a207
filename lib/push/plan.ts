/**
 * Stage 1, plan: specs → target references and sources, validated, with no request. The plan is
 * plain data (strings, numbers, objects), so `--dry-run` and `--json` can print it and every later
 * stage reads it instead of the specs.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { type IndexFormat, indexMediaType } from "../media_types.ts";
import { type Platform, validatePlatform } from "../platform.ts";
import { platformText } from "./_text.ts";
import { parseReference } from "../reference.ts";
import { repositoryScope } from "../registry/auth.ts";
import type { PushSource, PushSpec } from "./types.ts";

/** One source of a spec, as the later stages need it. */
export interface SourcePlan {
  /** The source as the spec names it. */
  image: string;
  /** Its registry (`host[:port]`, `docker.io`). */
  registry: string;
  /** Its repository. */
  repository: string;
  /** Tag or digest to fetch. */
  reference: string;
  /** 0-based position among the spec's sources (keeps the index in spec order). */
  position: number;
  /** Platform as given (possibly partial). */
  platform?: Partial<Platform>;
  /** True when {@link platform} is final (never completed from the config). */
  exactPlatform: boolean;
  /** The manifest's exact bytes, when given (see {@link PushSource.manifest}). */
  manifest?: { bytes: Uint8Array; mediaType: string };
}

/** One spec of a run: where its index goes and what it is made of. */
export interface SpecPlan {
  /** 0-based position of the spec in the run's input. */
  position: number;
  /** Target reference, normalised (`registry/repository:tag`). */
  target: string;
  /** Target registry. */
  registry: string;
  /** Target repository. */
  repository: string;
  /** Tags to write: the target's first, then the extra ones (no duplicates). */
  tags: string[];
  /** Index annotations (OCI only). */
  annotations?: Record<string, string>;
  /** Index format. */
  format: IndexFormat;
  /** Index media type. */
  mediaType: string;
  /** The sources, in spec order. */
  sources: SourcePlan[];
  /** Docker's list rule: see {@link PushSpec.verbatim}. */
  verbatim: boolean;
}

/** The plan of a whole run. */
export interface RunPlan {
  /** The specs, in input order. */
  specs: SpecPlan[];
  /**
   * Token scopes per registry for the whole run (push on every target repository, pull on every
   * source), so one token per registry serves every request of the run.
   */
  scopes: Record<string, string[]>;
}

/**
 * Plans a run: every spec is checked (target names a tag, sources parse, given platforms are
 * complete and known, no annotations in a Docker list, no two specs write the same tag) before
 * anything is sent. Throws {@link UsageError} (or its subclasses) for the first problem.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planPush } from "./plan.ts";
 * const plan = planPush([{
 *   image: "r.example/app:1",
 *   tags: ["latest"],
 *   manifests: [{ image: "r.example/base:amd64", platform: { os: "linux", architecture: "amd64" } }],
 * }]);
 * assert.deepEqual(plan.specs[0].tags, ["1", "latest"]);
 * assert.deepEqual(plan.scopes["r.example"], ["repository:app:pull,push", "repository:base:pull"]);
 * ```
 */
export function planPush(
  specs: readonly PushSpec[],
  options: { format?: IndexFormat; dryRun?: boolean } = {},
): RunPlan {
  const format = options.format ?? "docker";
  const planned = specs.map((spec, i) => planSpec(spec, i, format));
  refuseSharedTags(planned);
  return { specs: planned, scopes: scopesOf(planned, options.dryRun ?? false) };
}

function planSpec(spec: PushSpec, position: number, format: IndexFormat): SpecPlan {
  if (!spec.image) throw new UsageError("No target image given");
  const target = parseReference(spec.image);
  if (!target.tag || target.digest) {
    throw new UsageError(`Target "${spec.image}" must name a tag, not a digest`);
  }
  const tags = [...new Set([target.tag, ...(spec.tags ?? []).map((t) => target.withTag(t).tag!)])];
  const annotations = spec.annotations && Object.keys(spec.annotations).length > 0
    ? spec.annotations
    : undefined;
  if (format === "docker" && annotations) {
    throw new UsageError("A Docker manifest list cannot carry annotations: use --type oci");
  }
  if (!spec.manifests?.length) throw new UsageError("No source images given");
  return {
    position,
    target: target.toString(),
    registry: target.registry,
    repository: target.repository,
    tags,
    annotations,
    format,
    mediaType: indexMediaType(format),
    sources: planSources(spec.manifests, { verbatim: spec.verbatim }),
    verbatim: spec.verbatim ?? false,
  };
}

/**
 * Plans sources alone (checked as a spec's are): what `resolveSources` and a spec's plan take.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planSources } from "./plan.ts";
 * const [s] = planSources([{ image: "r.example/app@sha256:" + "a".repeat(64) }]);
 * assert.equal(s.reference, "sha256:" + "a".repeat(64));
 * ```
 */
export function planSources(
  sources: readonly PushSource[],
  options: { verbatim?: boolean } = {},
): SourcePlan[] {
  return sources.map((m, i) => planSource(m, i, options.verbatim ?? false));
}

function planSource(m: PushSource, position: number, verbatim: boolean): SourcePlan {
  const ref = parseReference(m.image);
  const given = m.platform && (m.platform.os || m.platform.architecture);
  if (m.manifest && !ref.digest) {
    throw new UsageError(`Source "${m.image}": manifest bytes are given for a digest, not a tag`);
  }
  if (verbatim && !m.exactPlatform) {
    throw new UsageError(`Source "${m.image}": a verbatim list needs the platform of each entry`);
  }
  if (given || m.exactPlatform) {
    if (!m.platform?.os || !m.platform.architecture) {
      throw new UsageError(
        `Platform of "${m.image}" needs both os and architecture, got ${
          platformText(m.platform ?? {})
        }`,
      );
    }
    // Docker's list rule takes a stored platform as it is (docker pushes an annotated arm64/v7).
    if (!verbatim) validateGivenPlatform(m.platform as Platform, m.image);
  }
  return {
    image: m.image,
    registry: ref.registry,
    repository: ref.repository,
    reference: ref.identifier,
    position,
    platform: m.platform,
    exactPlatform: m.exactPlatform ?? false,
    ...(m.manifest ? { manifest: m.manifest } : {}),
  };
}

/** A platform the user wrote: unknown values are bad input (exit 2). */
function validateGivenPlatform(p: Platform, image: string): void {
  try {
    validatePlatform(p);
  } catch (e) {
    throw new UsageError(`Source "${image}": ${(e as Error).message}`, { cause: e });
  }
}

/** Two specs of one run cannot both own a tag: which index it ends up naming would be a race. */
function refuseSharedTags(specs: SpecPlan[]): void {
  const owner = new Map<string, SpecPlan>();
  for (const s of specs) {
    for (const tag of s.tags) {
      const key = `${s.registry}/${s.repository}:${tag}`;
      const other = owner.get(key);
      if (other) {
        throw new UsageError(
          `Specs ${other.position + 1} and ${
            s.position + 1
          } both push "${key}": a tag has one owner per run`,
        );
      }
      owner.set(key, s);
    }
  }
}

function scopesOf(specs: SpecPlan[], dryRun: boolean): Record<string, string[]> {
  const scopes: Record<string, string[]> = {};
  const add = (registry: string, scope: string) => {
    const list = scopes[registry] ??= [];
    if (!list.includes(scope)) list.push(scope);
  };
  // Targets first: a registry that grants fewer scopes than asked keeps the first ones.
  for (const s of specs) {
    add(s.registry, repositoryScope(s.repository, dryRun ? ["pull"] : ["pull", "push"]));
  }
  for (const s of specs) {
    for (const src of s.sources) add(src.registry, repositoryScope(src.repository, ["pull"]));
  }
  return scopes;
}
