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

// Media types spelled out here rather than imported from lib/: the zoo is made independently of
// the code it tests.
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
const OCI_EMPTY = "application/vnd.oci.empty.v1+json";
const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
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

/**
 * A Windows image (Docker v2.2) whose base layer is foreign: listed with its URL, never in the
 * registry. distribution refuses it unless started with `foreignLayerUrls`.
 */
export async function foreignWindowsCase(reg: RunningRegistry): Promise<ZooCase> {
  const win = { os: "windows", architecture: "amd64", "os.version": "10.0.17763.5830" };
  const bytes = await image(reg, "zoo/foreign-windows", win, {
    manifestType: DOCKER_MANIFEST,
    configType: DOCKER_CONFIG,
    foreign: [{
      digest: "sha256:" + "ab".repeat(32),
      size: 1_234_567,
      diffId: "sha256:" + "cd".repeat(32),
    }],
    layers: [{ ...makeLayer("Files/zoo.txt", "windows\n", "gzip"), mediaType: DOCKER_LAYER }],
  });
  const r = await put(reg, "zoo/foreign-windows", "v1", bytes, DOCKER_MANIFEST);
  return {
    name: "foreign-windows",
    madeBy: "raw",
    repo: "zoo/foreign-windows",
    tag: "v1",
    mediaType: DOCKER_MANIFEST,
    platforms: ["windows/amd64:10.0.17763.5830"],
    isIndex: false,
    images: [sha256(bytes)],
    ...r,
  };
}

type Shape = Omit<ZooCase, "repo" | "tag" | "digest" | "madeBy" | "refused">;

/** PUTs `bytes` as `zoo/<name>:v1` and describes it; a refusal is kept, not thrown. */
async function stored(reg: RunningRegistry, c: Shape, bytes: Uint8Array): Promise<ZooCase> {
  const repo = `zoo/${c.name}`;
  return {
    ...c,
    madeBy: "raw",
    repo,
    tag: "v1",
    ...await put(reg, repo, "v1", bytes, c.mediaType),
  };
}

const AMD64 = { os: "linux", architecture: "amd64" };

/** zstd-compressed layers (buildx `compression=zstd`, regctl `--layer-compress zstd`). */
async function zstdCase(reg: RunningRegistry): Promise<ZooCase> {
  const layers = ["one", "two"].map((n) => ({
    ...makeLayer(`etc/${n}`, `zstd ${n}\n`, "zstd"),
    mediaType: OCI_ZSTD,
  }));
  const bytes = await image(reg, "zoo/zstd", AMD64, { layers });
  const shape = { name: "zstd", mediaType: OCI_MANIFEST, isIndex: false };
  return await stored(
    reg,
    { ...shape, platforms: ["linux/amd64"], images: [sha256(bytes)] },
    bytes,
  );
}

/** An image index pushed (children first) into `repo`; returns its bytes. */
async function indexOf(
  reg: RunningRegistry,
  repo: string,
  entries: { bytes: Uint8Array; mediaType: string; platform?: Platform; annotations?: object }[],
  annotations?: Record<string, string>,
): Promise<Uint8Array> {
  for (const e of entries) await put(reg, repo, sha256(e.bytes), e.bytes, e.mediaType);
  return json({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: entries.map((e) => ({
      mediaType: e.mediaType,
      digest: sha256(e.bytes),
      size: e.bytes.length,
      ...(e.platform ? { platform: e.platform } : {}),
      ...(e.annotations ? { annotations: e.annotations } : {}),
    })),
    ...(annotations ? { annotations } : {}),
  });
}

/** An index inside an index (`crane index append` of an index, `regctl index add`). */
async function nestedCase(reg: RunningRegistry): Promise<ZooCase> {
  const repo = "zoo/nested-index";
  const arm64 = { os: "linux", architecture: "arm64", variant: "v8" };
  const s390x = { os: "linux", architecture: "s390x" };
  const inner = await indexOf(reg, repo, [
    {
      bytes: await image(reg, repo, AMD64, { layers: [gz("nested amd64")] }),
      mediaType: OCI_MANIFEST,
      platform: AMD64,
    },
    {
      bytes: await image(reg, repo, arm64, { layers: [gz("nested arm64")] }),
      mediaType: OCI_MANIFEST,
      platform: arm64,
    },
  ]);
  const s390xImage = await image(reg, repo, s390x, { layers: [gz("nested s390x")] });
  const outer = await indexOf(reg, repo, [
    { bytes: inner, mediaType: OCI_INDEX },
    { bytes: s390xImage, mediaType: OCI_MANIFEST, platform: s390x },
  ]);
  const shape = { name: "nested-index", mediaType: OCI_INDEX, isIndex: true };
  return await stored(
    reg,
    // The inner index's platforms in its place, then the outer index's own entry.
    {
      ...shape,
      platforms: ["linux/amd64", "linux/arm64/v8", "linux/s390x"],
      images: [sha256(s390xImage)],
    },
    outer,
  );
}

/** buildx: an index of images and their attestation manifests (`unknown/unknown`). */
async function buildxCase(reg: RunningRegistry): Promise<ZooCase> {
  const set = await pushFixtures(reg, {
    repository: "zoo/buildx",
    platforms: [AMD64, { os: "linux", architecture: "arm", variant: "v7" }],
    index: { tag: "v1", attestations: true },
    seed: "zoo buildx",
  });
  return {
    name: "buildx",
    madeBy: "raw",
    repo: "zoo/buildx",
    tag: "v1",
    digest: set.index!.digest,
    mediaType: OCI_INDEX,
    platforms: ["linux/amd64", "linux/arm/v7"],
    isIndex: true,
    images: set.images.map((i) => i.digest),
  };
}

/** An OCI 1.1 artifact: `artifactType`, the empty config (with its inline `data`), one blob. */
async function artifactCase(reg: RunningRegistry): Promise<ZooCase> {
  const empty = await pushBlob(reg, "zoo/artifact", enc.encode("{}"));
  const sbom = await pushBlob(reg, "zoo/artifact", enc.encode('{"spdxVersion":"SPDX-2.3"}\n'));
  const bytes = json({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: "application/spdx+json",
    config: { mediaType: OCI_EMPTY, ...empty, data: "e30=" },
    layers: [{ mediaType: "application/spdx+json", ...sbom }],
    annotations: { "org.opencontainers.image.created": "2026-01-01T00:00:00Z" },
  });
  const shape = { name: "artifact", mediaType: OCI_MANIFEST, isIndex: false };
  return await stored(reg, { ...shape, platforms: [], images: [sha256(bytes)] }, bytes);
}

/** An image with `subject` (a signature or SBOM made as an image, OCI image spec 1.1). */
async function subjectCase(reg: RunningRegistry): Promise<ZooCase> {
  const base = await image(reg, "zoo/subject", AMD64, { layers: [gz("subject base")] });
  await put(reg, "zoo/subject", "base", base, OCI_MANIFEST);
  const bytes = await image(reg, "zoo/subject", AMD64, {
    layers: [gz("subject attached")],
    extra: { subject: { mediaType: OCI_MANIFEST, digest: sha256(base), size: base.length } },
  });
  const shape = { name: "subject", mediaType: OCI_MANIFEST, isIndex: false };
  return await stored(
    reg,
    { ...shape, platforms: ["linux/amd64"], images: [sha256(bytes)] },
    bytes,
  );
}

/** A Docker v2.2 manifest whose config has the OCI media type (crane mutate, some buildah). */
async function dockerOciConfigCase(reg: RunningRegistry): Promise<ZooCase> {
  const bytes = await image(
    reg,
    "zoo/docker-oci-config",
    { os: "linux", architecture: "ppc64le" },
    {
      manifestType: DOCKER_MANIFEST,
      configType: OCI_CONFIG,
      layers: [{ ...makeLayer("etc/mixed", "mixed\n", "gzip"), mediaType: DOCKER_LAYER }],
    },
  );
  const shape = { name: "docker-oci-config", mediaType: DOCKER_MANIFEST, isIndex: false };
  return await stored(
    reg,
    { ...shape, platforms: ["linux/ppc64le"], images: [sha256(bytes)] },
    bytes,
  );
}

/** An index whose entries carry annotations (buildx `--annotation index-descriptor:…`). */
async function annotatedCase(reg: RunningRegistry): Promise<ZooCase> {
  const repo = "zoo/annotated-index";
  const platforms = [AMD64, { os: "linux", architecture: "riscv64" }];
  const images = await Promise.all(
    platforms.map((p) => image(reg, repo, p, { layers: [gz(`annotated ${p.architecture}`)] })),
  );
  const bytes = await indexOf(
    reg,
    repo,
    images.map((m, i) => ({
      bytes: m,
      mediaType: OCI_MANIFEST,
      platform: platforms[i],
      annotations: {
        "org.opencontainers.image.ref.name": `entry-${i}`,
        "com.example.build": `nr ${i}`,
      },
    })),
    { "org.opencontainers.image.description": "annotated entries" },
  );
  const shape = { name: "annotated-index", mediaType: OCI_INDEX, isIndex: true };
  return await stored(
    reg,
    { ...shape, platforms: ["linux/amd64", "linux/riscv64"], images: images.map(sha256) },
    bytes,
  );
}

/** The manifest size limit: exactly 4 MiB is to be accepted, one byte more refused. */
async function sizeCase(reg: RunningRegistry, over: boolean): Promise<ZooCase> {
  const name = over ? "size-4mib-plus-1" : "size-4mib";
  const bytes = await sized(reg, `zoo/${name}`, MANIFEST_LIMIT + (over ? 1 : 0));
  const shape = { name, mediaType: OCI_MANIFEST, isIndex: false, platforms: ["linux/amd64"] };
  return await stored(reg, {
    ...shape,
    images: [sha256(bytes)],
    ...(over ? { oversized: true } : {}),
  }, bytes);
}

/** The cases pushed by raw requests: every shape, on every registry that accepts it. */
export async function rawZoo(reg: RunningRegistry): Promise<ZooCase[]> {
  const makers = [
    zstdCase,
    foreignWindowsCase,
    nestedCase,
    buildxCase,
    artifactCase,
    subjectCase,
    dockerOciConfigCase,
    annotatedCase,
    (r: RunningRegistry) => sizeCase(r, false),
    (r: RunningRegistry) => sizeCase(r, true),
  ];
  const cases: ZooCase[] = [];
  for (const make of makers) cases.push(await make(reg));
  return cases;
}

/** `Digest: sha256:…` as oras prints it. */
function printedDigest(out: Uint8Array): string | undefined {
  return /Digest: (sha256:[0-9a-f]{64})/.exec(new TextDecoder().decode(out))?.[1];
}

/** What one peer CLI made: its cases, or the step that failed. */
type Made = { cases: ZooCase[]; failed: string[] };

/** An artifact made by `oras push`, and one attached to `zoo/subject:base` by `oras attach`. */
async function orasCases(reg: RunningRegistry, oras: string, dir: string): Promise<Made> {
  const H = reg.host;
  await Deno.writeTextFile(`${dir}/sbom.json`, '{"spdxVersion":"SPDX-2.3","name":"oras"}\n');
  const made: Made = { cases: [], failed: [] };
  const runs = [
    { step: "push", type: "application/vnd.example.sbom.v1", target: `${H}/zoo/oras-artifact:v1` },
    {
      step: "attach",
      type: "application/vnd.example.signature.v1",
      target: `${H}/zoo/subject:base`,
    },
  ];
  for (const run of runs) {
    const out = await runToolIn(dir, oras, [
      run.step,
      "--plain-http",
      "--artifact-type",
      run.type,
      run.target,
      "sbom.json:application/spdx+json",
    ]);
    const digest = out && printedDigest(out);
    if (!digest) {
      made.failed.push(`oras ${run.step}`);
      continue;
    }
    const pushed = run.step === "push";
    made.cases.push({
      name: `oras-${run.step}`,
      madeBy: "oras",
      repo: pushed ? "zoo/oras-artifact" : "zoo/subject",
      tag: pushed ? "v1" : digest,
      digest,
      mediaType: OCI_MANIFEST,
      platforms: [],
      isIndex: false,
      images: [digest],
    });
  }
  return made;
}

/** `regctl image mod --layer-compress zstd` of the annotated index: every layer recompressed. */
async function regctlCase(reg: RunningRegistry, regctl: string, dir: string): Promise<Made> {
  const H = reg.host;
  const host = ["--host", `reg=${H},tls=disabled`];
  const src = `${H}/zoo/annotated-index:v1`;
  const ok = await runToolIn(dir, regctl, [
    ...host,
    "image",
    "mod",
    src,
    "--create",
    "regctl-zstd",
    "--layer-compress",
    "zstd",
  ]);
  const target = `${H}/zoo/annotated-index:regctl-zstd`;
  const digest = ok && await toolDigest(dir, regctl, [...host, "image", "digest", target]);
  if (!digest) return { cases: [], failed: ["regctl image mod --layer-compress zstd"] };
  return {
    cases: [{
      name: "regctl-zstd",
      madeBy: "regctl",
      repo: "zoo/annotated-index",
      tag: "regctl-zstd",
      digest,
      mediaType: OCI_INDEX,
      platforms: ["linux/amd64", "linux/riscv64"],
      isIndex: true,
      images: [],
    }],
    failed: [],
  };
}

/** `crane index append` of the nested index and the zstd image: still an index holding an index. */
async function craneCase(reg: RunningRegistry, crane: string, dir: string): Promise<Made> {
  const H = reg.host;
  const target = `${H}/zoo/crane-nested:v1`;
  const ok = await runToolIn(dir, crane, [
    "index",
    "append",
    "--insecure",
    "-m",
    `${H}/zoo/nested-index:v1`,
    "-m",
    `${H}/zoo/zstd:v1`,
    "-t",
    target,
  ]);
  const digest = ok && await toolDigest(dir, crane, ["digest", "--insecure", target]);
  if (!digest) return { cases: [], failed: ["crane index append"] };
  return {
    cases: [{
      name: "crane-nested",
      madeBy: "crane",
      repo: "zoo/crane-nested",
      tag: "v1",
      digest,
      mediaType: OCI_INDEX,
      // crane appends the entries of an index it is given (the inner index stays nested) and
      // sets each image entry's artifactType to its config media type.
      platforms: ["linux/amd64", "linux/arm64/v8", "linux/s390x", "linux/amd64"],
      isIndex: true,
      images: [],
    }],
    failed: [],
  };
}

/** `skopeo copy --format oci` of the Docker v2.2 image: converted to an OCI manifest by skopeo. */
async function skopeoCase(reg: RunningRegistry, skopeo: string, dir: string): Promise<Made> {
  const H = reg.host;
  const tls = ["--src-tls-verify=false", "--dest-tls-verify=false"];
  const src = `docker://${H}/zoo/docker-oci-config:v1`;
  const target = `docker://${H}/zoo/skopeo-oci:v1`;
  const ok = await runToolIn(dir, skopeo, ["copy", ...tls, "--format", "oci", src, target]);
  const raw = ok &&
    await runToolIn(dir, skopeo, ["inspect", "--raw", "--tls-verify=false", target]);
  if (!raw) return { cases: [], failed: ["skopeo copy --format oci"] };
  const digest = sha256(raw);
  return {
    cases: [{
      name: "skopeo-oci",
      madeBy: "skopeo",
      repo: "zoo/skopeo-oci",
      tag: "v1",
      digest,
      mediaType: OCI_MANIFEST,
      platforms: ["linux/ppc64le"],
      isIndex: false,
      images: [digest],
    }],
    failed: [],
  };
}

/**
 * The cases made by peer CLIs installed here: oras (artifact push, attach with subject), regctl
 * (zstd recompression of an index), crane (an index appended into an index), skopeo (a Docker
 * image converted to OCI). `missing` names the
 * tools not installed, for the skip message. Needs {@link rawZoo}'s cases on `reg` first.
 */
export async function toolZoo(
  reg: RunningRegistry,
): Promise<{ cases: ZooCase[]; missing: string[]; failed: string[] }> {
  const makers = { oras: orasCases, regctl: regctlCase, crane: craneCase, skopeo: skopeoCase };
  const out = { cases: [] as ZooCase[], missing: [] as string[], failed: [] as string[] };
  const dir = await Deno.makeTempDir({ prefix: "mt-zoo-" });
  try {
    for (const [name, make] of Object.entries(makers)) {
      const bin = await findTool(name);
      if (!bin) {
        out.missing.push(name);
        continue;
      }
      const made = await make(reg, bin, dir);
      out.cases.push(...made.cases);
      out.failed.push(...made.failed);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return out;
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
