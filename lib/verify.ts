/**
 * `verify`: proves that a published reference is whole and says the truth. For an index, every
 * child manifest (nested indexes too) is in the same repository, hashes to its digest and has the
 * size and media type its descriptor says; every image entry's platform agrees with its config, no
 * two entries share a platform, every platform is one Go knows; every buildx attestation names an
 * image of the index and is `unknown/unknown`; mixed media-type families are warned about. With
 * `blobs`, every config and layer exists with its size (`HEAD`), or (`full`) is downloaded and
 * hashed as it streams; with `referrers`, every referrer names the digest it is listed under.
 *
 * Each document is fetched once, concurrently, under one bound on requests in flight. What is
 * wrong with the content comes back as data ({@link VerifyProblem}); a failure to talk to the
 * registry (authentication, connection, 5xx) is thrown.
 *
 * @module
 */

import { RegistryError } from "./errors.ts";
import type { Descriptor } from "./manifest.ts";
import { formatPlatform, type Platform, platformMatches } from "./platform.ts";
import { Graph } from "./push/graph.ts";
import type { Reference } from "./reference.ts";
import type { RegistryClient } from "./registry/client.ts";
import { verifyDocument } from "./verify/graph.ts";
import { problem, type VerifyProblem } from "./verify/problems.ts";
import { verifyReferrers } from "./verify/referrers.ts";
import { VerifyRun } from "./verify/run.ts";

export {
  type VerifyProblem,
  type VerifyProblemKind,
  type VerifySeverity,
} from "./verify/problems.ts";
export {
  attestationProblems,
  indexProblems,
  mediaTypeProblems,
  platformProblems,
} from "./verify/index_checks.ts";
export {
  configPlatformProblems,
  entryPlatformProblems,
  layerMediaTypeProblems,
} from "./verify/image_checks.ts";
export type { Descriptor, ImageConfig, ImageManifest, Index, ParsedManifest } from "./manifest.ts";
export type { Platform } from "./platform.ts";
export type { Reference } from "./reference.ts";
export type * from "./registry/client_types.ts";

/** Options of {@link verify}. */
export interface VerifyOptions {
  /**
   * Check configs and layers too: `head` (each exists with its descriptor's size) or `full`
   * (downloaded and hashed as it streams). Default: only configs, which are read for platforms.
   */
  blobs?: "head" | "full" | false;
  /** Check the referrers of every manifest verified. Default false. */
  referrers?: boolean;
  /** Follow only the entries for these platforms (and their attestations). */
  platforms?: Platform[];
  /** Cancels the verification: requests in flight are aborted. */
  signal?: AbortSignal;
}

/** What {@link verify} found for one reference. */
export interface VerifyResult {
  /** The reference verified. */
  reference: string;
  /** Descriptor of the reference's manifest, when it could be read. */
  descriptor?: Descriptor;
  /** Whether it is an index (or list) or a single image, when it could be read. */
  type?: "index" | "image";
  /** Distinct manifests read and checked. */
  manifests: number;
  /** Distinct blobs checked (configs always, layers with `blobs`). */
  blobs: number;
  /** Everything wrong, errors first, then by subject. */
  problems: VerifyProblem[];
  /** Number of problems of severity `error`. */
  errors: number;
  /** Number of problems of severity `warning`. */
  warnings: number;
  /** True when there is no error (warnings allowed). */
  ok: boolean;
}

/**
 * Verifies `ref` (an index, or a single image: its config, and its layers with `blobs`).
 *
 * @example
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { verify } from "./verify.ts";
 * import { RegistryClient } from "./registry/client.ts";
 * import { parseReference } from "./reference.ts";
 * await using client = new RegistryClient();
 * const result = await verify(client, parseReference("127.0.0.1:5000/app:1.0"), { blobs: "head" });
 * assert(result.ok, result.problems.map((p) => p.message).join("\n"));
 * ```
 */
export async function verify(
  client: RegistryClient,
  ref: Reference,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  // The engine's content graph: each manifest read once, the run's signal on every request.
  const graph = new Graph(client, { signal: options.signal });
  const run = new VerifyRun(graph.repository(ref.registry, ref.repository), graph, {
    blobs: options.blobs || undefined,
    platforms: options.platforms,
  });
  let descriptor: Descriptor | undefined;
  let type: VerifyResult["type"];
  try {
    const top = await run.manifest(ref.identifier).catch((e) => {
      run.failed(e, ref.identifier, "manifest");
    });
    if (top) {
      descriptor = top.descriptor;
      type = top.parsed.kind;
      await verifyDocument(run, top, undefined, undefined, 0);
      if (options.referrers) await verifyReferrers(run);
      for (const want of options.platforms ?? []) {
        if (run.platforms.some((have) => platformMatches(want, have))) continue;
        const text = formatPlatform(want, { osVersion: true });
        run.report(problem("error", "platform-not-found", `no entry for ${text}`, {
          platform: text,
        }));
      }
    }
    run.rethrow();
  } catch (e) {
    // Name the reference the user gave, for the child requests as much as for the top one.
    throw e instanceof RegistryError ? e.withContext(`"${ref}"`) : e;
  }
  return summarize(String(ref), descriptor, type, run);
}

function summarize(
  reference: string,
  descriptor: Descriptor | undefined,
  type: VerifyResult["type"],
  run: VerifyRun,
): VerifyResult {
  // Found concurrently, shown in a fixed order: errors first, then by subject and kind. Code-unit
  // order, not localeCompare: the same on every machine whatever its locale (and no ICU collator
  // to load, ~7 ms under Deno).
  const problems = [...run.problems].sort((a, b) =>
    a.severity !== b.severity
      ? (a.severity === "error" ? -1 : 1)
      : byCodeUnit(a.subject, b.subject) || byCodeUnit(a.kind, b.kind) ||
        byCodeUnit(a.message, b.message)
  );
  const errors = problems.filter((p) => p.severity === "error").length;
  const result: VerifyResult = {
    reference,
    manifests: run.manifests.size,
    blobs: run.blobs.size,
    problems,
    errors,
    warnings: problems.length - errors,
    ok: errors === 0,
  };
  if (descriptor) result.descriptor = descriptor;
  if (type) result.type = type;
  return result;
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
