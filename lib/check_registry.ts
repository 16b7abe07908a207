/**
 * `check-registry`: can this registry hold multi-platform images? Generates tiny images for two
 * platforms, pushes them, and exercises what a manifest tool needs — monolithic and chunked blob
 * uploads, cross-repository mounts, Docker manifest lists, OCI indexes (with annotations), extra
 * tags, a manifest with `subject` and the referrers API (or the tag-schema fallback), delete by
 * digest, and a read-back of the exact bytes — then deletes what it created where it can. Every
 * check reports PASS, FAIL or SKIP with the registry's answer; none throws.
 *
 * @module
 */

import { digestOf } from "./digest.ts";
import { AuthError, RegistryError } from "./errors.ts";
import { type Descriptor, serializeIndex } from "./manifest.ts";
import {
  DOCKER_CONFIG,
  DOCKER_LAYER_GZIP,
  DOCKER_LIST,
  DOCKER_MANIFEST,
  OCI_CONFIG,
  OCI_EMPTY,
  OCI_INDEX,
  OCI_LAYER_GZIP,
  OCI_MANIFEST,
} from "./media_types.ts";
import type { Platform } from "./platform.ts";
import { parseReference } from "./reference.ts";
import type { RegistryClient, Repository } from "./registry/client.ts";

export type { Descriptor, ImageManifest, Index, ParsedManifest } from "./manifest.ts";
export type { Platform } from "./platform.ts";
export type { Reference } from "./reference.ts";
export type * from "./registry/client_types.ts";

// node:zlib costs tens of milliseconds at start-up under Deno: checkRegistry loads it on use.
let gzipSync: (bytes: Uint8Array) => Uint8Array;

/** Outcome of one check. */
export interface CheckResult {
  /** What was checked. */
  name: string;
  /** PASS, FAIL or SKIP. */
  status: "PASS" | "FAIL" | "SKIP";
  /** The registry's answer, or why it was skipped. */
  detail: string;
}

/** The whole report. */
export interface CheckReport {
  /** Registry host. */
  registry: string;
  /** Repository the checks used. */
  repository: string;
  /** Each check, in order. */
  results: CheckResult[];
  /** Manifests deleted during clean-up. */
  deleted: string[];
  /** Manifests (or, with `tag`, tags of them) that could not be deleted, with the reason. */
  leftBehind: { digest: string; tag?: string; reason: string }[];
  /** True when manifest lists or indexes are fully supported (push and read back). */
  supported: boolean;
}

const PLATFORMS: Platform[] = [
  { os: "linux", architecture: "amd64" },
  { os: "linux", architecture: "arm64", variant: "v8" },
];
const enc = new TextEncoder();

function tar(name: string, content: string): Uint8Array {
  const data = enc.encode(content);
  const h = new Uint8Array(512);
  const put = (s: string, off: number) => h.set(enc.encode(s), off);
  put(name, 0);
  put("0000644\0", 100);
  put("0000000\0", 108);
  put("0000000\0", 116);
  put(data.length.toString(8).padStart(11, "0") + "\0", 124);
  put("00000000000\0", 136);
  put("        ", 148);
  put("0", 156);
  put("ustar\0" + "00", 257);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  const out = new Uint8Array(512 + Math.ceil(data.length / 512) * 512 + 1024);
  out.set(h);
  out.set(data, 512);
  return out;
}

interface Blob_ {
  desc: Descriptor;
  bytes: Uint8Array;
}

interface Image {
  platform: Platform;
  layer: Blob_;
  config: Blob_;
  manifest: Blob_;
}

function makeImage(p: Platform, format: "docker" | "oci", run: string): Image {
  const t = tar(
    `check-${p.architecture}`,
    `manifest-tool check-registry ${run} ${p.architecture}\n`,
  );
  const gz = new Uint8Array(gzipSync(t));
  const layer = {
    desc: {
      mediaType: format === "oci" ? OCI_LAYER_GZIP : DOCKER_LAYER_GZIP,
      digest: digestOf(gz),
      size: gz.length,
    },
    bytes: gz,
  };
  const cfgBytes = enc.encode(JSON.stringify({
    architecture: p.architecture,
    os: p.os,
    ...(p.variant ? { variant: p.variant } : {}),
    rootfs: { type: "layers", diff_ids: [digestOf(t)] },
    config: {},
  }));
  const config = {
    desc: {
      mediaType: format === "oci" ? OCI_CONFIG : DOCKER_CONFIG,
      digest: digestOf(cfgBytes),
      size: cfgBytes.length,
    },
    bytes: cfgBytes,
  };
  const mBytes = enc.encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: format === "oci" ? OCI_MANIFEST : DOCKER_MANIFEST,
    config: config.desc,
    layers: [layer.desc],
  }));
  const manifest = {
    desc: {
      mediaType: format === "oci" ? OCI_MANIFEST : DOCKER_MANIFEST,
      digest: digestOf(mBytes),
      size: mBytes.length,
      platform: p,
    },
    bytes: mBytes,
  };
  return { platform: p, layer, config, manifest };
}

/** The registry's answer as one short phrase. */
function answer(e: unknown): string {
  if (e instanceof RegistryError) {
    const codes = e.codes.map((c) => c.code).join(", ");
    return `${e.status}${codes ? " " + codes : ""}${e.status === 0 ? " " + e.message : ""}`;
  }
  if (e instanceof AuthError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Runs every check against `target` (`HOST/NAMESPACE`), in a new repository under it.
 *
 * @example
 * ```ts ignore
 * import { checkRegistry } from "./check_registry.ts";
 * import { RegistryClient } from "./registry/client.ts";
 * await using client = new RegistryClient();
 * const report = await checkRegistry(client, "127.0.0.1:5000/checks");
 * console.log(report.supported);
 * ```
 */
export async function checkRegistry(client: RegistryClient, target: string): Promise<CheckReport> {
  gzipSync ??= (await import("node:zlib")).gzipSync;
  const checks = new RegistryChecks(client, target);
  await checks.blobs();
  await checks.images();
  await checks.indexes();
  await checks.referrers();
  return await checks.report();
}

const UPLOAD = "blob upload (monolithic)";
const CHUNKED = "blob upload (chunked PATCH)";
const DOCKER_IMG = "image manifest push (Docker v2.2)";
const OCI_IMG = "image manifest push (OCI)";
const LIST = "Docker manifest list push";
const INDEX = "OCI index push";
const READ = "read back the exact bytes by tag";
const SUBJECT = "manifest with subject";
const ARTIFACT_TYPE = "application/vnd.manifest-tool.check";

/** One check-registry run: its repositories, its images, what passed and what it pushed. */
class RegistryChecks {
  readonly run = crypto.randomUUID().slice(0, 8);
  readonly registry: string;
  readonly repo: Repository;
  readonly mountRepo: Repository;
  readonly results: CheckResult[] = [];
  readonly pushed: { repo: Repository; digest: string; tag?: string }[] = [];
  readonly ok = new Map<string, boolean>();
  readonly docker: Image[];
  readonly oci: Image[];

  constructor(client: RegistryClient, target: string) {
    const ref = parseReference(`${target.replace(/\/+$/, "")}/mt-check-${this.run}`, {
      defaultTag: false,
    });
    const mountName = `${ref.repository}-mount`;
    // One token for every check: the scopes travel with each request as hints.
    const hints = {
      scopes: [
        `repository:${ref.repository}:pull,push,delete`,
        `repository:${mountName}:pull,push,delete`,
      ],
    };
    this.registry = ref.registry;
    this.repo = client.repositoryOf(ref).withOptions(hints);
    this.mountRepo = client.repository(ref.registry, mountName).withOptions(hints);
    this.docker = PLATFORMS.map((p) => makeImage(p, "docker", this.run));
    this.oci = PLATFORMS.map((p) => makeImage(p, "oci", this.run));
  }

  /** Runs `fn` as check `name` unless a check it `needs` did not pass (then SKIP). */
  async check(name: string, needs: string[], fn: () => Promise<string>): Promise<boolean> {
    const missing = needs.filter((n) => !this.ok.get(n));
    if (missing.length > 0) {
      this.results.push({ name, status: "SKIP", detail: `needs ${missing.join(", ")}` });
      this.ok.set(name, false);
      return false;
    }
    try {
      const detail = await fn();
      this.results.push({ name, status: "PASS", detail });
      this.ok.set(name, true);
      return true;
    } catch (e) {
      this.results.push({ name, status: "FAIL", detail: answer(e) });
      this.ok.set(name, false);
      return false;
    }
  }

  /** Monolithic and chunked uploads, and a cross-repository mount. */
  async blobs(): Promise<void> {
    const { repo, docker, oci } = this;
    await this.check(UPLOAD, [], async () => {
      for (const img of [...docker, ...oci]) {
        for (const b of [img.layer, img.config]) {
          if (b === oci[1].layer) continue; // left for the chunked upload
          await repo.uploadBlob(b.bytes, { digest: b.desc.digest, size: b.desc.size });
        }
      }
      return "201 Created";
    });
    await this.check(CHUNKED, [], async () => {
      const b = oci[1].layer;
      const session = await repo.startUpload();
      // Three chunks, unless the registry asks for larger ones (OCI-Chunk-Min-Length).
      const chunkSize = Math.max(1, Math.ceil(b.bytes.length / 3), session.minChunkLength);
      const d = await session.upload(
        new Blob([b.bytes as Uint8Array<ArrayBuffer>]).stream(),
        undefined,
        { chunkSize },
      );
      if (d.digest !== b.desc.digest) {
        throw new Error(`registry stored ${d.digest}, expected ${b.desc.digest}`);
      }
      const patches = Math.ceil(b.bytes.length / chunkSize);
      const min = session.minChunkLength
        ? ` (chunks of at least ${session.minChunkLength} bytes, as the registry asks)`
        : "";
      return `${patches} PATCH${patches === 1 ? "" : "es"}${min} then PUT: 201 Created`;
    });
    await this.check("cross-repository mount", [UPLOAD], async () => {
      const session = await this.mountRepo.mountBlob(docker[0].layer.desc.digest, repo.name);
      if (session) {
        await session.cancel();
        throw new Error("202 Accepted: mount refused, pushes will copy blobs instead");
      }
      return "201 Created";
    });
  }

  /** Image manifests of both formats, by digest. */
  async images(): Promise<void> {
    const putImages = async (imgs: Image[]) => {
      for (const img of imgs) {
        const m = img.manifest;
        await this.repo.putManifest(m.desc.digest, m.bytes, m.desc.mediaType);
        this.pushed.push({ repo: this.repo, digest: m.desc.digest });
      }
      return "201 Created";
    };
    await this.check(DOCKER_IMG, [UPLOAD], () => putImages(this.docker));
    await this.check(OCI_IMG, [UPLOAD, CHUNKED], () => putImages(this.oci));
  }

  /** A Docker list, OCI indexes (with annotations), an extra tag, and a read-back. */
  async indexes(): Promise<void> {
    const { repo, docker, oci, run } = this;
    const list = serializeIndex({
      schemaVersion: 2,
      mediaType: DOCKER_LIST,
      manifests: docker.map((i) => i.manifest.desc),
    });
    const index = serializeIndex({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: oci.map((i) => i.manifest.desc),
    });
    const annotated = serializeIndex({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: oci.map((i) => ({
        ...i.manifest.desc,
        annotations: { "org.example.check": run },
      })),
      annotations: { "org.opencontainers.image.description": "manifest-tool check-registry" },
    });
    const putList = async (tag: string, bytes: Uint8Array, mediaType: string) => {
      const d = await repo.putManifest(tag, bytes, mediaType);
      this.pushed.push({ repo, digest: d.digest, tag });
      return `201 Created (${d.digest.slice(0, 19)}…)`;
    };
    await this.check(LIST, [DOCKER_IMG], () => putList("list", list, DOCKER_LIST));
    await this.check(INDEX, [OCI_IMG], () => putList("index", index, OCI_INDEX));
    await this.check(
      "OCI index with annotations",
      [OCI_IMG],
      () => putList("annotated", annotated, OCI_INDEX),
    );
    await this.check("extra tags", [INDEX], async () => {
      const put = await repo.putManifest("index-extra", index, OCI_INDEX);
      this.pushed.push({ repo, digest: put.digest, tag: "index-extra" });
      const d = await repo.headManifest("index-extra");
      if (d?.digest !== digestOf(index)) throw new Error(`tag points at ${d?.digest ?? "nothing"}`);
      return "second tag resolves to the same digest";
    });
    await this.check(READ, [LIST, INDEX], async () => {
      for (const [tag, bytes] of [["list", list], ["index", index]] as const) {
        const m = await repo.getManifest(tag);
        if (m.descriptor.digest !== digestOf(bytes)) {
          throw new Error(
            `${tag}: registry served ${m.descriptor.digest}, pushed ${digestOf(bytes)}`,
          );
        }
      }
      return "digests equal";
    });
  }

  /** A manifest with `subject`, the referrers API (or its tag fallback), delete by digest. */
  async referrers(): Promise<void> {
    const { repo } = this;
    const empty = enc.encode("{}");
    const subject = this.oci[0].manifest.desc;
    const artifact = enc.encode(JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: ARTIFACT_TYPE,
      config: { mediaType: OCI_EMPTY, digest: digestOf(empty), size: 2 },
      layers: [{ mediaType: OCI_EMPTY, digest: digestOf(empty), size: 2 }],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    }));
    const artifactDesc: Descriptor = {
      mediaType: OCI_MANIFEST,
      digest: digestOf(artifact),
      size: artifact.length,
      artifactType: ARTIFACT_TYPE,
    };
    await this.check(SUBJECT, [OCI_IMG], async () => {
      await repo.uploadBlob(empty, { digest: digestOf(empty), size: 2 });
      await repo.putManifest(artifactDesc.digest, artifact, OCI_MANIFEST);
      this.pushed.push({ repo, digest: artifactDesc.digest });
      return "201 Created";
    });
    await this.check("referrers", [SUBJECT], () => this.#referrersOf(subject, artifactDesc));
    await this.check("delete by digest", [SUBJECT], async () => {
      await repo.deleteManifest(artifactDesc.digest);
      // A registry may accept the DELETE and keep the manifest: it must be gone to pass.
      if (await this.#resolves(repo, artifactDesc.digest)) {
        throw new Error("accepted, but the manifest is still there");
      }
      const idx = this.pushed.findIndex((p) => p.digest === artifactDesc.digest);
      if (idx >= 0) this.pushed.splice(idx, 1);
      return "202 Accepted";
    });
  }

  async #referrersOf(subject: Descriptor, artifact: Descriptor): Promise<string> {
    const found = await this.repo.referrers(subject.digest, ARTIFACT_TYPE);
    if (found.some((d) => d.digest === artifact.digest)) return "referrers API lists the artifact";
    // No referrers API: maintain the tag-schema fallback (`sha256-<hex>`) as OCI 1.1 asks.
    const fallback = serializeIndex({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [artifact],
    });
    const tag = subject.digest.replace(":", "-");
    const d = await this.repo.putManifest(tag, fallback, OCI_INDEX);
    this.pushed.push({ repo: this.repo, digest: d.digest, tag });
    const again = await this.repo.referrers(subject.digest, ARTIFACT_TYPE);
    if (!again.some((x) => x.digest === artifact.digest)) {
      throw new Error("artifact not found either way");
    }
    return `no referrers API; tag-schema fallback (${tag.slice(0, 19)}…) works`;
  }

  /**
   * Cleans up (indexes before the images they name), then the tags that still resolve (on
   * distribution tags go with their manifests; go-containerregistry keeps them, and deletes by tag),
   * and reports.
   */
  async report(): Promise<CheckReport> {
    const deleted: string[] = [];
    const leftBehind: CheckReport["leftBehind"] = [];
    const seen = new Set<string>();
    for (const p of [...this.pushed].reverse()) {
      if (seen.has(p.digest)) continue;
      seen.add(p.digest);
      const reason = await p.repo.deleteManifest(p.digest).then(() => "", (e) => answer(e));
      // Counted as deleted only once it no longer resolves (a registry may accept and keep it).
      if (!reason && !await this.#resolves(p.repo, p.digest)) deleted.push(p.digest);
      else leftBehind.push({ digest: p.digest, reason: reason || "accepted, but still there" });
    }
    for (const p of this.pushed) {
      if (p.tag && await this.#resolves(p.repo, p.tag)) {
        const reason = await p.repo.deleteManifest(p.tag).then(() => "", (e) => answer(e));
        if (await this.#resolves(p.repo, p.tag)) {
          leftBehind.push({
            digest: p.digest,
            tag: p.tag,
            reason: reason || "the tag still resolves",
          });
        }
      }
    }
    const ok = this.ok;
    const supported = (ok.get(LIST) === true || ok.get(INDEX) === true) && ok.get(READ) === true;
    return {
      registry: this.registry,
      repository: this.repo.name,
      results: this.results,
      deleted,
      leftBehind,
      supported,
    };
  }

  /** Whether `reference` (a tag or digest) of `repo` still names a manifest (a failed HEAD: no). */
  async #resolves(repo: Repository, reference: string): Promise<boolean> {
    return (await repo.headManifest(reference).catch(() => undefined)) !== undefined;
  }
}
