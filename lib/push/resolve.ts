/**
 * Stage 2, resolve: each source of a spec fetched (once per run, whatever the number of specs
 * naming it), index sources flattened into their images and those images' attestations, platforms
 * completed from image configs. Everything read here is registry content: a problem with it is a
 * {@link ManifestFormatError} or a {@link NotFoundError} naming the source, never bad input.
 *
 * @module
 */

import { AuthError, NotFoundError, RegistryError } from "../errors.ts";
import { isDigest } from "../digest.ts";
import { completePlatform, configPlatformFields, platformNeedsConfig } from "../image_config.ts";
import {
  type Descriptor,
  isAttestation,
  ManifestFormatError,
  type ParsedManifest,
  REFERENCE_DIGEST_ANNOTATION,
} from "../manifest.ts";
import type { Platform } from "../platform.ts";
import type { FetchedManifest, Repository } from "../registry/client.ts";
import { type Logger, printable } from "../registry/transport.ts";
import { messageOf, platformText } from "./_text.ts";
import type { Graph } from "./graph.ts";
import type { SourcePlan, SpecPlan } from "./plan.ts";
import { SourceError } from "./source_error.ts";

/** A child of the index to be: its descriptor, and where its content lives. */
export interface Entry {
  /** As the index will list it (platform completed, annotations kept). */
  descriptor: Descriptor;
  /** Where it is now. */
  source: Repository;
  /** The source as the spec names it. */
  sourceName: string;
  /** Position of that source in the spec (keeps spec order). */
  position: number;
  /** Digest of the index source that lists it; absent for an image source. */
  index?: string;
}

/** What a spec's sources resolved to. */
export interface ResolvedSpec {
  /** Runnable images, in spec order. */
  images: Entry[];
  /** Attestation manifests of those images, in spec order. */
  attestations: Entry[];
  /** Sources skipped with `ignoreMissing`. */
  skipped: { image: string; reason: string }[];
}

/** Options of {@link resolveSpec}. */
export interface ResolveOptions {
  /** Skip (with a warning) sources that are missing or not readable. */
  ignoreMissing?: boolean;
  /**
   * Keep an image whose config names no os and architecture, with the platform fields it has and
   * empty os/architecture, instead of refusing it (`manifest create`: docker stores it and
   * `manifest annotate` sets them).
   */
  keepUnknownPlatform?: boolean;
  /** Where warnings go. */
  logger: Logger;
}

/**
 * Resolves the sources of `spec` through the run's {@link Graph} (which fetches each document
 * once per run). With `ignoreMissing`, sources that are missing or not readable are skipped with a
 * warning; if every source is, a {@link NotFoundError}.
 */
export async function resolveSpec(
  graph: Graph,
  spec: SpecPlan,
  options: ResolveOptions,
): Promise<ResolvedSpec> {
  const skipped: ResolvedSpec["skipped"] = [];
  const settled = await Promise.allSettled(spec.sources.map(async (s) => {
    const repo = graph.repository(s.registry, s.repository);
    let fetched: FetchedManifest;
    try {
      if (s.manifest) graph.known(repo, s.reference, s.manifest.bytes, s.manifest.mediaType);
      fetched = await graph.manifest(repo, s.reference);
    } catch (e) {
      if (options.ignoreMissing && isUnavailable(e)) {
        skipped.push({ image: s.image, reason: messageOf(e) });
        return [];
      }
      throw sourceError(s.image, e);
    }
    try {
      return await entriesOf(graph, s, repo, fetched, options.keepUnknownPlatform ?? false);
    } catch (e) {
      throw sourceError(s.image, e);
    }
  }));
  const failed = settled.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
  const entries = settled.flatMap((r) => (r as PromiseFulfilledResult<Entry[]>).value);
  skipped.sort((a, b) => order(spec, a.image) - order(spec, b.image));
  // Said in spec order, whatever order the reads ended in.
  for (const x of skipped) options.logger.warn(`Skipping "${x.image}": ${x.reason}`);
  if (entries.length === 0 && skipped.length > 0) {
    throw new NotFoundError(
      spec.target,
      "All entries were skipped because their source images are missing: no index to push",
    );
  }
  // Keep the spec's order whatever order the fetches finished in (the sort is stable).
  entries.sort((a, b) => a.position - b.position);
  const images = entries.filter((e) => !isAttestation(e.descriptor));
  const attestations = entries.filter((e) => isAttestation(e.descriptor));
  return { images, attestations, skipped };
}

function order(spec: SpecPlan, image: string): number {
  return spec.sources.findIndex((s) => s.image === image);
}

/** The entries one source gives: itself (an image), or its images and their attestations. */
async function entriesOf(
  graph: Graph,
  s: SourcePlan,
  repo: Repository,
  fetched: FetchedManifest,
  keep: boolean,
): Promise<Entry[]> {
  const index = fetched.parsed.kind === "index" ? fetched.descriptor.digest : undefined;
  const entry = (descriptor: Descriptor): Entry => ({
    descriptor,
    source: repo,
    sourceName: s.image,
    position: s.position,
    ...(index ? { index } : {}),
  });
  const parsed = fetched.parsed;
  const platformOf = (
    image: Extract<ParsedManifest, { kind: "image" }>,
    given: Partial<Platform> | undefined,
    exact: boolean,
    what: string,
  ) => imagePlatform(graph, repo, image, { given, exact, keep, what });
  if (parsed.kind === "image") {
    const platform = await platformOf(parsed, s.platform, s.exactPlatform ?? false, s.image);
    return [entry({ ...fetched.descriptor, platform })];
  }
  const { children, attestations } = pickChildren(parsed, s);
  const images = await Promise.all(children.map(async (d) => {
    if (d.platform?.os && d.platform.architecture) return entry({ ...d });
    // An entry without a platform: read it as for a single image.
    const child = await graph.manifest(repo, d.digest, d);
    const what = `${s.image}@${d.digest}`;
    const platform = child.parsed.kind === "image"
      ? await platformOf(child.parsed, d.platform, false, what)
      : undefined;
    return entry({ ...d, ...(platform ? { platform } : {}) });
  }));
  return [...images, ...attestations.map((d) => entry({ ...d }))];
}

/**
 * The entries of an index source to keep: its images (those of the given platform, if any) and
 * the attestation manifests of those images. Entry digests are checked here: they are registry
 * content that will name requests.
 */
function pickChildren(
  parsed: Extract<ParsedManifest, { kind: "index" }>,
  s: SourcePlan,
): { children: Descriptor[]; attestations: Descriptor[] } {
  for (const [i, d] of parsed.index.manifests.entries()) {
    if (!isDigest(d.digest)) {
      throw new ManifestFormatError(
        `Source "${s.image}": index entry manifests[${i}] has an invalid digest "${
          printable(d.digest, 100)
        }"`,
      );
    }
  }
  let children = parsed.index.manifests.filter((d) => !isAttestation(d));
  const want = s.platform;
  if (want?.os || want?.architecture) {
    children = children.filter((d) =>
      d.platform && (!want.os || d.platform.os === want.os) &&
      (!want.architecture || d.platform.architecture === want.architecture) &&
      (!want.variant || d.platform.variant === want.variant)
    );
    if (children.length === 0) {
      throw new NotFoundError(
        s.image,
        `Source "${s.image}" is an index with no entry for platform ${platformText(want)}`,
      );
    }
  }
  const kept = new Set(children.map((d) => d.digest));
  const attestations = parsed.index.manifests.filter((d) =>
    isAttestation(d) && kept.has(d.annotations?.[REFERENCE_DIGEST_ANNOTATION] ?? "")
  );
  return { children, attestations };
}

/**
 * The platform of an image: what is given, completed from its config (read only when something a
 * user would expect is missing, and never with `exact`); with `keep`, what the config has when it
 * names no os and architecture.
 */
async function imagePlatform(
  graph: Graph,
  repo: Repository,
  parsed: Extract<ParsedManifest, { kind: "image" }>,
  o: { given?: Partial<Platform>; exact: boolean; keep: boolean; what: string },
): Promise<Platform> {
  const { given, what } = o;
  if (o.exact) return given as Platform;
  const config = platformNeedsConfig(given)
    ? await graph.config(repo, parsed.manifest.config, what)
    : undefined;
  const p = completePlatform(given, config);
  if (!p && o.keep) return { os: "", architecture: "", ...configPlatformFields(config ?? {}) };
  if (!p) {
    throw new ManifestFormatError(
      `Cannot tell the platform of "${what}": its config names none; give it in the spec`,
    );
  }
  return p;
}

/** Sources `ignoreMissing` skips: not there, or not readable with the credentials given. */
function isUnavailable(e: unknown): boolean {
  if (e instanceof AuthError || e instanceof NotFoundError) return true;
  if (e instanceof RegistryError) return e.status === 404 || e.status === 401 || e.status === 403;
  return false;
}

/** A failure to read source `image`, typed by what went wrong and naming the source. */
export function sourceError(image: string, e: unknown): unknown {
  const context = `Source image "${image}"`;
  if (e instanceof SourceError || e instanceof NotFoundError) return e;
  if (e instanceof DOMException && e.name === "AbortError") return e;
  if (e instanceof ManifestFormatError) {
    return e.message.includes(image)
      ? e
      : new ManifestFormatError(`${context}: ${e.message}`, { cause: e });
  }
  if (e instanceof RegistryError) {
    return e.status === 404
      ? new NotFoundError(image, `${context}: ${e.message}`, { cause: e })
      : e.withContext(context);
  }
  if (e instanceof AuthError) {
    return new AuthError(`${context}: ${e.message}`, { host: e.host, status: e.status }, {
      cause: e,
    });
  }
  return new SourceError(image, e);
}
