/**
 * The public shapes of the write engine: what to push ({@link PushSpec}), how
 * ({@link PushOptions}, {@link PushRunOptions}), and what happened ({@link PushResult},
 * {@link SpecOutcome}).
 *
 * @module
 */

import type { Descriptor, Index } from "../manifest.ts";
import type { IndexFormat } from "../media_types.ts";
import type { Platform } from "../platform.ts";
import type { Repository } from "../registry/client.ts";

/** One source image of a push, with the platform the spec gives it (possibly partial). */
export interface PushSource {
  /** Source image reference (tag or digest). */
  image: string;
  /** Platform as given; missing fields are filled from the image config. */
  platform?: Partial<Platform>;
  /**
   * The platform given is final: the image config is never read to complete it or to add fields
   * back (e.g. a variant the user cleared, as `docker manifest annotate` lets one do). Needs at
   * least os and architecture.
   */
  exactPlatform?: boolean;
  /**
   * The source's exact manifest bytes, when the caller holds them (a local list keeps each entry's
   * copy, as docker does): used instead of reading the registry, checked against the digest the
   * source names (it must name one).
   */
  manifest?: { bytes: Uint8Array; mediaType: string };
}

/** What to push: manifest-tool's YAML spec, in object form. */
export interface PushSpec {
  /** Target reference (`registry/repo:tag`). */
  image: string;
  /** Extra tags for the index. */
  tags?: string[];
  /** Index annotations (OCI only). */
  annotations?: Record<string, string>;
  /** The sources. */
  manifests: PushSource[];
  /**
   * Docker's list rule (`docker manifest push`): every source is one entry of the index, in order,
   * with the platform given for it, final (`exactPlatform`, os and architecture needed). Nothing is
   * merged and no platform is refused for being unknown or listed twice, so a list that holds one
   * manifest twice, or two images of one platform, is pushed as it is. Default: one entry per
   * digest, known platforms, each once (manifest-tool's rule).
   */
  verbatim?: boolean;
}

/** How to push. */
export interface PushOptions {
  /** `docker` (manifest list, manifest-tool's default) or `oci` (image index). */
  format?: IndexFormat;
  /** Warn and skip sources that cannot be read, instead of failing. */
  ignoreMissing?: boolean;
  /** Resolve and plan, write nothing. */
  dryRun?: boolean;
  /** Bytes per PATCH for streamed copies; default: one streamed PUT per blob. */
  chunkSize?: number;
  /** Progress of streamed copies. */
  onProgress?: (event: ProgressEvent) => void;
  /** Called once per blob and target repository when its action is done. */
  onBlob?: (action: BlobAction) => void;
  /**
   * The bytes of the index; default manifest-tool v2's (`manifestToolIndexJson`: Go's indented
   * JSON, so the same spec gets the same digest from either tool).
   */
  encodeIndex?: (index: Index) => Uint8Array;
  /** Cancels the run: requests in flight are aborted and nothing more is committed. */
  signal?: AbortSignal;
  /**
   * After each index is committed, copy the referrers of every image it names (and of each source
   * that is an index) into the target, in the same run: see {@link CopyReferrersResult}. A failure
   * there leaves the index pushed and is reported as {@link PushResult.referrersError}. Not in a
   * dry run.
   */
  referrers?: CopyReferrersOptions;
}

/** How to push several specs in one run (`pushIndexes`). */
export interface PushRunOptions extends PushOptions {
  /** Stop starting new specs after the first failure (the rest are reported `skipped`). */
  failFast?: boolean;
  /** Specs worked on at once (default 8); requests stay bounded by the client. */
  specConcurrency?: number;
  /** Called with each spec's outcome, in input order, as soon as it and those before it end. */
  onOutcome?: (outcome: SpecOutcome) => void;
}

/** Progress of one streamed blob copy. */
export interface ProgressEvent {
  /** Blob digest. */
  digest: string;
  /** Bytes sent so far. */
  bytes: number;
  /** Blob size. */
  total: number;
  /** True on the last event of the blob. */
  done: boolean;
}

/** What happened (or, in a dry run, would happen) to a blob. */
export interface BlobAction {
  /** Blob digest. */
  digest: string;
  /** Blob size. */
  size: number;
  /** Media type. */
  mediaType: string;
  /**
   * `present`: in the target repo already; `mount`: mounted across repositories; `copy`: streamed
   * from the source; `foreign`: non-distributable, not copied.
   */
  action: "present" | "mount" | "copy" | "foreign";
  /** Where it came from (`registry/repo`). */
  from: string;
}

/** What happened to a child manifest. */
export interface ManifestAction {
  /** Its descriptor as listed in the index. */
  descriptor: Descriptor;
  /** The source it came from. */
  source: string;
  /** `present`: already in the target repo; `put`: pushed by digest. */
  action: "present" | "put";
}

/** The outcome of `pushIndex`. */
export interface PushResult {
  /** Descriptor of the index pushed. */
  descriptor: Descriptor;
  /** The index document. */
  index: Index;
  /** The exact bytes pushed (or that would be, in a dry run). */
  bytes: Uint8Array;
  /** Target reference. */
  target: string;
  /** Tags written: the target's and the extra ones. */
  tags: string[];
  /** Children. */
  manifests: ManifestAction[];
  /** Blobs. */
  blobs: BlobAction[];
  /** Sources skipped with `ignoreMissing`, with the reason. */
  skipped: { image: string; reason: string }[];
  /** True when nothing was written. */
  dryRun: boolean;
  /** The referrers copied after the commit (with `referrers`), when that succeeded. */
  referrers?: CopyReferrersResult;
  /**
   * Why copying the referrers failed, after the index was committed (a `ReferrersCopyError`);
   * `pushIndex` throws it.
   */
  referrersError?: Error;
}

/** What became of one spec of a run. */
export interface SpecOutcome {
  /** 0-based position of the spec in the run's input. */
  position: number;
  /** Its target reference. */
  target: string;
  /**
   * `pushed`: index and tags written; `planned`: a dry run that would push; `failed`: nothing of it
   * tagged; `skipped`: not started (`failFast` after a failure, or the run was interrupted).
   */
  status: "pushed" | "planned" | "failed" | "skipped";
  /** The result, when pushed or planned. */
  result?: PushResult;
  /** Why it failed or was skipped. */
  error?: Error;
}

/** A manifest whose referrers are to be copied, and the repository they are read from. */
export interface ReferrerSubject {
  /** Where the subject and its referrers are. */
  repository: Repository;
  /** The subject's digest (the same digest in the target). */
  digest: string;
}

/** Options of a referrers copy (`copyReferrers`, `PushOptions.referrers`). */
export interface CopyReferrersOptions {
  /** Copy only these artifact types, at every level (default all). */
  artifactTypes?: readonly string[];
  /** Levels to follow. Default 3. */
  depth?: number;
}

/** One referrer brought into the target. */
export interface CopiedReferrer {
  /** Digest of the manifest it refers to. */
  subject: string;
  /** Its descriptor (as listed in the source). */
  descriptor: Descriptor;
  /** Its artifact type (or config media type). */
  artifactType: string;
  /** `put`: pushed by digest; `present`: the target had it. */
  action: "put" | "present";
  /** Source repository (`registry/name`). */
  from: string;
}

/** What a referrers copy did. */
export interface CopyReferrersResult {
  /** Target repository (`registry/name`). */
  target: string;
  /** Whether the target answers the referrers API (else the fallback tags were maintained). */
  api: boolean;
  /** The referrers, parents before the ones that refer to them. */
  referrers: CopiedReferrer[];
  /** Fallback tags written or checked (empty with the API). */
  fallbackTags: { tag: string; added: number; kept: number }[];
  /**
   * Referrers not copied: listed for a subject their manifest does not name (a registry's or a
   * fallback index's mistake), with what they name instead. Copied, they would fail `verify`.
   */
  skipped: { subject: string; descriptor: Descriptor; names: string | undefined }[];
  /** Every subject was in the target repository already, and with it its referrers. */
  inTarget: boolean;
}
