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
  /** Manifests that could not be deleted, with the reason. */
  leftBehind: { digest: string; reason: string }[];
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
  const run = crypto.randomUUID().slice(0, 8);
  const ref = parseReference(`${target.replace(/\/+$/, "")}/mt-check-${run}`, {
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
  const repo = client.repositoryOf(ref).withOptions(hints);
  const mountRepo = client.repository(ref.registry, mountName).withOptions(hints);
  const results: CheckResult[] = [];
  const pushed: { repo: Repository; digest: string }[] = [];
  const ok = new Map<string, boolean>();
  const check = async (
    name: string,
    needs: string[],
    fn: () => Promise<string>,
  ): Promise<boolean> => {
    const missing = needs.filter((n) => !ok.get(n));
    if (missing.length > 0) {
      results.push({ name, status: "SKIP", detail: `needs ${missing.join(", ")}` });
      ok.set(name, false);
      return false;
    }
    try {
      const detail = await fn();
      results.push({ name, status: "PASS", detail });
      ok.set(name, true);
      return true;
    } catch (e) {
      results.push({ name, status: "FAIL", detail: answer(e) });
      ok.set(name, false);
      return false;
    }
  };

  const docker = PLATFORMS.map((p) => makeImage(p, "docker", run));
  const oci = PLATFORMS.map((p) => makeImage(p, "oci", run));
  const UPLOAD = "blob upload (monolithic)";
  const CHUNKED = "blob upload (chunked PATCH)";
  await check(UPLOAD, [], async () => {
    for (const img of [...docker, ...oci]) {
      for (const b of [img.layer, img.config]) {
        if (b === oci[1].layer) continue; // left for the chunked upload
        await repo.uploadBlob(b.bytes, { digest: b.desc.digest, size: b.desc.size });
      }
    }
    return "201 Created";
  });
  await check(CHUNKED, [], async () => {
    const b = oci[1].layer;
    const d = await repo.uploadBlob(
      new Blob([b.bytes as Uint8Array<ArrayBuffer>]).stream(),
      undefined,
      {
        chunkSize: Math.max(1, Math.ceil(b.bytes.length / 3)),
      },
    );
    if (d.digest !== b.desc.digest) {
      throw new Error(`registry stored ${d.digest}, expected ${b.desc.digest}`);
    }
    return "3 PATCHes then PUT: 201 Created";
  });
  await check("cross-repository mount", [UPLOAD], async () => {
    const session = await mountRepo.mountBlob(docker[0].layer.desc.digest, repo.name);
    if (session) {
      await session.cancel();
      throw new Error("202 Accepted: mount refused, pushes will copy blobs instead");
    }
    return "201 Created";
  });
  const putImages = async (imgs: Image[]) => {
    for (const img of imgs) {
      await repo.putManifest(
        img.manifest.desc.digest,
        img.manifest.bytes,
        img.manifest.desc.mediaType,
      );
      pushed.push({ repo, digest: img.manifest.desc.digest });
    }
  };
  const DOCKER_IMG = "image manifest push (Docker v2.2)";
  const OCI_IMG = "image manifest push (OCI)";
  await check(DOCKER_IMG, [UPLOAD], async () => (await putImages(docker), "201 Created"));
  await check(OCI_IMG, [UPLOAD, CHUNKED], async () => (await putImages(oci), "201 Created"));

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
    manifests: oci.map((i) => ({ ...i.manifest.desc, annotations: { "org.example.check": run } })),
    annotations: { "org.opencontainers.image.description": "manifest-tool check-registry" },
  });
  const putList = async (tag: string, bytes: Uint8Array, mediaType: string) => {
    const d = await repo.putManifest(tag, bytes, mediaType);
    pushed.push({ repo, digest: d.digest });
    return `201 Created (${d.digest.slice(0, 19)}…)`;
  };
  const LIST = "Docker manifest list push";
  const INDEX = "OCI index push";
  await check(LIST, [DOCKER_IMG], () => putList("list", list, DOCKER_LIST));
  await check(INDEX, [OCI_IMG], () => putList("index", index, OCI_INDEX));
  await check(
    "OCI index with annotations",
    [OCI_IMG],
    () => putList("annotated", annotated, OCI_INDEX),
  );
  await check("extra tags", [INDEX], async () => {
    await repo.putManifest("index-extra", index, OCI_INDEX);
    const d = await repo.headManifest("index-extra");
    if (d?.digest !== digestOf(index)) throw new Error(`tag points at ${d?.digest ?? "nothing"}`);
    return "second tag resolves to the same digest";
  });
  const READ = "read back the exact bytes by tag";
  await check(READ, [LIST, INDEX], async () => {
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

  const SUBJECT = "manifest with subject";
  const empty = enc.encode("{}");
  const subject = oci[0].manifest.desc;
  const artifact = enc.encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: "application/vnd.manifest-tool.check",
    config: { mediaType: OCI_EMPTY, digest: digestOf(empty), size: 2 },
    layers: [{ mediaType: OCI_EMPTY, digest: digestOf(empty), size: 2 }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
  }));
  const artifactDesc: Descriptor = {
    mediaType: OCI_MANIFEST,
    digest: digestOf(artifact),
    size: artifact.length,
    artifactType: "application/vnd.manifest-tool.check",
  };
  await check(SUBJECT, [OCI_IMG], async () => {
    await repo.uploadBlob(empty, { digest: digestOf(empty), size: 2 });
    await repo.putManifest(artifactDesc.digest, artifact, OCI_MANIFEST);
    pushed.push({ repo, digest: artifactDesc.digest });
    return "201 Created";
  });
  await check("referrers", [SUBJECT], async () => {
    const found = await repo.referrers(subject.digest, artifactDesc.artifactType);
    if (found.some((d) => d.digest === artifactDesc.digest)) {
      return "referrers API lists the artifact";
    }
    // No referrers API: maintain the tag-schema fallback (`sha256-<hex>`) as OCI 1.1 asks.
    const fallback = serializeIndex({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [artifactDesc],
    });
    const tag = subject.digest.replace(":", "-");
    const d = await repo.putManifest(tag, fallback, OCI_INDEX);
    pushed.push({ repo, digest: d.digest });
    const again = await repo.referrers(subject.digest, artifactDesc.artifactType);
    if (!again.some((x) => x.digest === artifactDesc.digest)) {
      throw new Error("artifact not found either way");
    }
    return `no referrers API; tag-schema fallback (${tag.slice(0, 19)}…) works`;
  });
  await check("delete by digest", [SUBJECT], async () => {
    await repo.deleteManifest(artifactDesc.digest);
    const idx = pushed.findIndex((p) => p.digest === artifactDesc.digest);
    if (idx >= 0) pushed.splice(idx, 1);
    return "202 Accepted";
  });

  // Clean up: indexes before the images they name; tags go with their manifests.
  const deleted: string[] = [];
  const leftBehind: { digest: string; reason: string }[] = [];
  const seen = new Set<string>();
  for (const p of [...pushed].reverse()) {
    if (seen.has(p.digest)) continue;
    seen.add(p.digest);
    try {
      await p.repo.deleteManifest(p.digest);
      deleted.push(p.digest);
    } catch (e) {
      leftBehind.push({ digest: p.digest, reason: answer(e) });
    }
  }
  const supported = (ok.get(LIST) === true || ok.get(INDEX) === true) && ok.get(READ) === true;
  return {
    registry: ref.registry,
    repository: repo.name,
    results,
    deleted,
    leftBehind,
    supported,
  };
}
