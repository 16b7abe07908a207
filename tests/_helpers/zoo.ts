/**
 * The image zoo: shapes that buildx, buildah, crane, oras and regctl publish and that our own
 * fixtures never made, pushed by raw registry requests (exact bytes, so digests are known), plus
 * the same shapes made by the peer CLIs where they are installed. Each case says what `platforms`
 * must report and whether the registry accepted it (a refusal keeps the registry's error).
 */

import { createHash } from "node:crypto";
import {
  makeLayer,
  pushBlob,
  pushFixtures,
  putManifest,
  type RunningRegistry,
} from "../../scripts/harness/mod.ts";
import { findTool } from "../../scripts/harness/mod.ts";
import { runTool } from "./judges.ts";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_EMPTY = "application/vnd.oci.empty.v1+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
const DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const DOCKER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
const OCI_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
const OCI_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
/** The largest manifest the OCI distribution spec asks registries and clients to accept. */
export const MANIFEST_LIMIT = 4 * 1024 * 1024;

/** One zoo animal, as pushed. */
export interface ZooCase {
  /** Short name, also its repository `zoo/<name>`. */
  name: string;
  /** Who made it: `raw` requests or the peer CLI's name. */
  madeBy: string;
  /** Repository and tag. */
  repo: string;
  tag: string;
  /** Digest and media type of what the tag names. */
  digest: string;
  mediaType: string;
  /** What `platforms` lists (mquery form), `[]` for an artifact. */
  platforms: string[];
  /** Whether `platforms` calls it a list. */
  isIndex: boolean;
  /** Digests of the image manifests a push that uses it as a source carries. */
  images: string[];
  /** Set when the registry refused the manifest: status and its error body. */
  refused?: { status: number; error: string };
  /** Larger than the 4 MiB cap clients apply: reading it must fail with one line. */
  oversized?: boolean;
}

const enc = new TextEncoder();
const sha256 = (b: Uint8Array) => "sha256:" + createHash("sha256").update(b).digest("hex");
const json = (v: unknown) => enc.encode(JSON.stringify(v, null, 2) + "\n");

interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  "os.version"?: string;
}

/** An image of one or more layers, config with the platform; returns its manifest bytes. */
async function image(
  reg: RunningRegistry,
  repo: string,
  p: Platform,
  opts: {
    layers: { bytes: Uint8Array; diffId: string; mediaType: string }[];
    foreign?: { digest: string; size: number; diffId: string }[];
    manifestType?: string;
    configType?: string;
    extra?: Record<string, unknown>;
  },
): Promise<Uint8Array> {
  const foreign = opts.foreign ?? [];
  const config = enc.encode(JSON.stringify({
    ...p,
    created: "2026-01-01T00:00:00Z",
    config: { Cmd: ["/bin/sh"] },
    rootfs: {
      type: "layers",
      diff_ids: [...foreign.map((f) => f.diffId), ...opts.layers.map((l) => l.diffId)],
    },
  }));
  const c = await pushBlob(reg, repo, config);
  const layers = [];
  for (const f of foreign) {
    // Non-distributable: not in any registry we run; only its URL says where it lives.
    layers.push({
      mediaType: DOCKER_FOREIGN,
      digest: f.digest,
      size: f.size,
      urls: [`https://mcr.microsoft.com/v2/windows/servercore/blobs/${f.digest}`],
    });
  }
  for (const l of opts.layers) {
    const b = await pushBlob(reg, repo, l.bytes);
    layers.push({ mediaType: l.mediaType, ...b });
  }
  const manifestType = opts.manifestType ?? OCI_MANIFEST;
  return json({
    schemaVersion: 2,
    mediaType: manifestType,
    config: { mediaType: opts.configType ?? OCI_CONFIG, ...c },
    layers,
    ...opts.extra,
  });
}

/** PUTs `bytes` at `repo:ref`; a refusal is kept in the case rather than thrown. */
async function put(
  reg: RunningRegistry,
  repo: string,
  ref: string,
  bytes: Uint8Array,
  mediaType: string,
): Promise<{ digest: string; refused?: { status: number; error: string } }> {
  const r = await putManifest(reg, repo, ref, bytes, mediaType);
  if (r.status === 201) return { digest: r.digest };
  return { digest: r.digest, refused: { status: r.status, error: r.error ?? "" } };
}

const gz = (name: string) => ({
  ...makeLayer(`etc/${name}`, `${name}\n`, "gzip"),
  mediaType: OCI_GZIP,
});

/** An OCI image manifest padded with an annotation to exactly `size` bytes. */
async function sized(reg: RunningRegistry, repo: string, size: number): Promise<Uint8Array> {
  const base = await image(reg, repo, { os: "linux", architecture: "amd64" }, {
    layers: [gz("sized")],
  });
  const doc = JSON.parse(new TextDecoder().decode(base));
  doc.annotations = { "org.example.padding": "" };
  const without = enc.encode(JSON.stringify(doc)).length;
  doc.annotations["org.example.padding"] = "x".repeat(size - without);
  const bytes = enc.encode(JSON.stringify(doc));
  if (bytes.length !== size) {
    throw new Error(`zoo: padded manifest is ${bytes.length}, not ${size}`);
  }
  return bytes;
}

/** The cases pushed by raw requests: every shape on every registry that accepts it. */
export async function rawZoo(reg: RunningRegistry): Promise<ZooCase[]> {
  const cases: ZooCase[] = [];
  const add = async (
    c: Omit<ZooCase, "repo" | "tag" | "digest" | "madeBy" | "refused">,
    bytes: Uint8Array,
  ) => {
    const repo = `zoo/${c.name}`;
    const r = await put(reg, repo, "v1", bytes, c.mediaType);
    cases.push({ ...c, madeBy: "raw", repo, tag: "v1", ...r });
  };
  const amd64 = { os: "linux", architecture: "amd64" };

  // zstd-compressed layers (buildx --output compression=zstd, regctl --layer-compress zstd).
  const zstd = ["one", "two"].map((n) => ({
    ...makeLayer(`etc/${n}`, `zstd ${n}\n`, "zstd"),
    mediaType: OCI_ZSTD,
  }));
  const zstdImage = await image(reg, "zoo/zstd", amd64, { layers: zstd });
  await add({
    name: "zstd",
    mediaType: OCI_MANIFEST,
    platforms: ["linux/amd64"],
    isIndex: false,
    images: [sha256(zstdImage)],
  }, zstdImage);

  // A Windows image whose base layer is foreign: listed with its URL, never in the registry.
  const win = {
    os: "windows",
    architecture: "amd64",
    "os.version": "10.0.17763.5830",
  };
  const foreignImage = await image(reg, "zoo/foreign-windows", win, {
    manifestType: DOCKER_MANIFEST,
    configType: DOCKER_CONFIG,
    foreign: [{
      digest: "sha256:" + "ab".repeat(32),
      size: 1_234_567,
      diffId: "sha256:" + "cd".repeat(32),
    }],
    layers: [{ ...makeLayer("Files/zoo.txt", "windows\n", "gzip"), mediaType: DOCKER_LAYER }],
  });
  await add({
    name: "foreign-windows",
    mediaType: DOCKER_MANIFEST,
    platforms: ["windows/amd64:10.0.17763.5830"],
    isIndex: false,
    images: [sha256(foreignImage)],
  }, foreignImage);

  // An index inside an index (`crane index append` of an index, regctl index add).
  const repoN = "zoo/nested-index";
  const inner = await Promise.all([
    image(reg, repoN, amd64, { layers: [gz("nested amd64")] }),
    image(reg, repoN, { os: "linux", architecture: "arm64", variant: "v8" }, {
      layers: [gz("nested arm64")],
    }),
  ]);
  const innerPlatforms = [amd64, { os: "linux", architecture: "arm64", variant: "v8" }];
  for (const m of inner) await put(reg, repoN, sha256(m), m, OCI_MANIFEST);
  const innerIndex = json({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: inner.map((m, i) => ({
      mediaType: OCI_MANIFEST,
      digest: sha256(m),
      size: m.length,
      platform: innerPlatforms[i],
    })),
  });
  await put(reg, repoN, sha256(innerIndex), innerIndex, OCI_INDEX);
  const s390x = await image(reg, repoN, { os: "linux", architecture: "s390x" }, {
    layers: [gz("nested s390x")],
  });
  await put(reg, repoN, sha256(s390x), s390x, OCI_MANIFEST);
  const outer = json({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      { mediaType: OCI_INDEX, digest: sha256(innerIndex), size: innerIndex.length },
      {
        mediaType: OCI_MANIFEST,
        digest: sha256(s390x),
        size: s390x.length,
        platform: { os: "linux", architecture: "s390x" },
      },
    ],
  });
  await add({
    name: "nested-index",
    mediaType: OCI_INDEX,
    platforms: ["linux/s390x"],
    isIndex: true,
    images: [sha256(s390x)],
  }, outer);

  // buildx: an index of images and their attestation manifests (unknown/unknown platform).
  const buildx = await pushFixtures(reg, {
    repository: "zoo/buildx",
    platforms: [amd64, { os: "linux", architecture: "arm", variant: "v7" }],
    index: { tag: "v1", attestations: true },
    seed: "zoo buildx",
  });
  cases.push({
    name: "buildx",
    madeBy: "raw",
    repo: "zoo/buildx",
    tag: "v1",
    digest: buildx.index!.digest,
    mediaType: OCI_INDEX,
    platforms: ["linux/amd64", "linux/arm/v7"],
    isIndex: true,
    images: buildx.images.map((i) => i.digest),
  });

  // An OCI 1.1 artifact: artifactType, the empty config (with its inline data), one blob.
  const empty = await pushBlob(reg, "zoo/artifact", enc.encode("{}"));
  const sbom = await pushBlob(reg, "zoo/artifact", enc.encode('{"spdxVersion":"SPDX-2.3"}\n'));
  const artifact = json({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: "application/spdx+json",
    config: { mediaType: OCI_EMPTY, ...empty, data: "e30=" },
    layers: [{ mediaType: "application/spdx+json", ...sbom }],
    annotations: { "org.opencontainers.image.created": "2026-01-01T00:00:00Z" },
  });
  await add({
    name: "artifact",
    mediaType: OCI_MANIFEST,
    platforms: [],
    isIndex: false,
    images: [sha256(artifact)],
  }, artifact);

  // An image with `subject` (a signature or SBOM made as an image, OCI 1.1 §subject).
  const base = await image(reg, "zoo/subject", amd64, { layers: [gz("subject base")] });
  await put(reg, "zoo/subject", "base", base, OCI_MANIFEST);
  const withSubject = await image(reg, "zoo/subject", amd64, {
    layers: [gz("subject attached")],
    extra: { subject: { mediaType: OCI_MANIFEST, digest: sha256(base), size: base.length } },
  });
  await add({
    name: "subject",
    mediaType: OCI_MANIFEST,
    platforms: ["linux/amd64"],
    isIndex: false,
    images: [sha256(withSubject)],
  }, withSubject);

  // A Docker v2.2 manifest whose config has the OCI media type (crane mutate, some buildah).
  const mixed = await image(
    reg,
    "zoo/docker-oci-config",
    { os: "linux", architecture: "ppc64le" },
    {
      manifestType: DOCKER_MANIFEST,
      configType: OCI_CONFIG,
      layers: [{ ...makeLayer("etc/mixed", "mixed\n", "gzip"), mediaType: DOCKER_LAYER }],
    },
  );
  await add({
    name: "docker-oci-config",
    mediaType: DOCKER_MANIFEST,
    platforms: ["linux/ppc64le"],
    isIndex: false,
    images: [sha256(mixed)],
  }, mixed);

  // An index whose entries carry annotations (buildx --annotation index-descriptor:…).
  const repoA = "zoo/annotated-index";
  const annotatedImages = await Promise.all(
    [amd64, { os: "linux", architecture: "riscv64" }].map((p) =>
      image(reg, repoA, p, { layers: [gz(`annotated ${p.architecture}`)] })
    ),
  );
  for (const m of annotatedImages) await put(reg, repoA, sha256(m), m, OCI_MANIFEST);
  const annotated = json({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: annotatedImages.map((m, i) => ({
      mediaType: OCI_MANIFEST,
      digest: sha256(m),
      size: m.length,
      platform: i === 0 ? amd64 : { os: "linux", architecture: "riscv64" },
      annotations: {
        "org.opencontainers.image.ref.name": `entry-${i}`,
        "com.example.build": `nr ${i}`,
      },
    })),
    annotations: { "org.opencontainers.image.description": "annotated entries" },
  });
  await add({
    name: "annotated-index",
    mediaType: OCI_INDEX,
    platforms: ["linux/amd64", "linux/riscv64"],
    isIndex: true,
    images: annotatedImages.map(sha256),
  }, annotated);

  // The manifest size limit: exactly 4 MiB is to be accepted, one byte more refused.
  const four = await sized(reg, "zoo/size-4mib", MANIFEST_LIMIT);
  await add({
    name: "size-4mib",
    mediaType: OCI_MANIFEST,
    platforms: ["linux/amd64"],
    isIndex: false,
    images: [sha256(four)],
  }, four);
  const over = await sized(reg, "zoo/size-4mib-plus-1", MANIFEST_LIMIT + 1);
  await add({
    name: "size-4mib-plus-1",
    mediaType: OCI_MANIFEST,
    platforms: ["linux/amd64"],
    isIndex: false,
    images: [sha256(over)],
    oversized: true,
  }, over);
  return cases;
}

/** `Digest: sha256:…` as oras prints it. */
function printedDigest(out: Uint8Array): string | undefined {
  return /Digest: (sha256:[0-9a-f]{64})/.exec(new TextDecoder().decode(out))?.[1];
}

/**
 * The cases made by peer CLIs installed here: oras (artifact push, attach with subject), regctl
 * (zstd recompression of an image), crane (an index appended into an index). `missing` names the
 * tools not installed, for the skip message. Needs {@link rawZoo}'s cases on `reg` first.
 */
export async function toolZoo(
  reg: RunningRegistry,
): Promise<{ cases: ZooCase[]; missing: string[]; failed: string[] }> {
  const H = reg.host;
  const cases: ZooCase[] = [];
  const missing: string[] = [];
  const failed: string[] = [];
  const dir = await Deno.makeTempDir({ prefix: "mt-zoo-" });
  try {
    const oras = await findTool("oras");
    if (oras) {
      await Deno.writeTextFile(`${dir}/sbom.json`, '{"spdxVersion":"SPDX-2.3","name":"oras"}\n');
      const cwd = ["--plain-http"];
      const pushed = await runToolIn(dir, oras, [
        "push",
        ...cwd,
        "--artifact-type",
        "application/vnd.example.sbom.v1",
        `${H}/zoo/oras-artifact:v1`,
        "sbom.json:application/spdx+json",
      ]);
      const digest = pushed && printedDigest(pushed);
      if (digest) {
        cases.push({
          name: "oras-artifact",
          madeBy: "oras",
          repo: "zoo/oras-artifact",
          tag: "v1",
          digest,
          mediaType: OCI_MANIFEST,
          platforms: [],
          isIndex: false,
          images: [digest],
        });
      } else failed.push("oras push");
      const attached = await runToolIn(dir, oras, [
        "attach",
        ...cwd,
        "--artifact-type",
        "application/vnd.example.signature.v1",
        `${H}/zoo/subject:base`,
        "sbom.json:application/spdx+json",
      ]);
      const attachedDigest = attached && printedDigest(attached);
      if (attachedDigest) {
        cases.push({
          name: "oras-attach",
          madeBy: "oras",
          repo: "zoo/subject",
          tag: attachedDigest,
          digest: attachedDigest,
          mediaType: OCI_MANIFEST,
          platforms: [],
          isIndex: false,
          images: [attachedDigest],
        });
      } else failed.push("oras attach");
    } else missing.push("oras");

    const regctl = await findTool("regctl");
    if (regctl) {
      const host = ["--host", `reg=${H},tls=disabled`];
      const ok = await runToolIn(dir, regctl, [
        ...host,
        "image",
        "mod",
        `${H}/zoo/annotated-index:v1`,
        "--create",
        "regctl-zstd",
        "--layer-compress",
        "zstd",
      ]);
      const digest = ok && await toolDigest(dir, regctl, [
        ...host,
        "image",
        "digest",
        `${H}/zoo/annotated-index:regctl-zstd`,
      ]);
      if (digest) {
        cases.push({
          name: "regctl-zstd",
          madeBy: "regctl",
          repo: "zoo/annotated-index",
          tag: "regctl-zstd",
          digest,
          mediaType: OCI_INDEX,
          platforms: ["linux/amd64", "linux/riscv64"],
          isIndex: true,
          images: [],
        });
      } else failed.push("regctl image mod --layer-compress zstd");
    } else missing.push("regctl");

    const crane = await findTool("crane");
    if (crane) {
      const ok = await runToolIn(dir, crane, [
        "index",
        "append",
        "--insecure",
        "-m",
        `${H}/zoo/nested-index:v1`,
        "-m",
        `${H}/zoo/zstd:v1`,
        "-t",
        `${H}/zoo/crane-nested:v1`,
      ]);
      const digest = ok && await toolDigest(dir, crane, [
        "digest",
        "--insecure",
        `${H}/zoo/crane-nested:v1`,
      ]);
      if (digest) {
        cases.push({
          name: "crane-nested",
          madeBy: "crane",
          repo: "zoo/crane-nested",
          tag: "v1",
          digest,
          mediaType: OCI_INDEX,
          platforms: ["linux/amd64"],
          isIndex: true,
          images: [],
        });
      } else failed.push("crane index append");
    } else missing.push("crane");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return { cases, missing, failed };
}

/** Runs a tool in `dir`; its stdout when it succeeded. */
async function runToolIn(
  dir: string,
  bin: string,
  args: string[],
): Promise<Uint8Array | undefined> {
  const r = await runTool(bin, args, undefined, dir);
  return r.code === 0 ? r.stdout : undefined;
}

/** The `sha256:…` a tool prints. */
async function toolDigest(dir: string, bin: string, args: string[]): Promise<string | undefined> {
  const out = await runToolIn(dir, bin, args);
  return out && /sha256:[0-9a-f]{64}/.exec(new TextDecoder().decode(out))?.[0];
}
