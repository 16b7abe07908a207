/**
 * Fixture images pushed through the registry HTTP API with nothing but `fetch` and `node:crypto`:
 * deliberately independent of `lib/`, so that what the tests read back vouches for the library.
 * Layers are real gzip'd tar files; configs carry the right os/architecture/variant/os.version and
 * `rootfs.diff_ids`; manifests in OCI or Docker v2.2 media types; per-arch tags in one repository or
 * one repository per arch; optionally an index (with buildx-style attestations) and one large
 * streamed layer.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { Buffer } from "node:buffer";
import type { RunningRegistry } from "./registry.ts";

/** A platform of a fixture image. */
export interface FixturePlatform {
  /** OS. */
  os: string;
  /** Architecture. */
  architecture: string;
  /** Variant. */
  variant?: string;
  /** Windows build. */
  "os.version"?: string;
}

/** The default platforms: the six the issues name. */
export const PLATFORMS: readonly FixturePlatform[] = [
  { os: "linux", architecture: "amd64" },
  { os: "linux", architecture: "arm64", variant: "v8" },
  { os: "linux", architecture: "arm", variant: "v7" },
  { os: "linux", architecture: "ppc64le" },
  { os: "linux", architecture: "s390x" },
  { os: "windows", architecture: "amd64", "os.version": "10.0.17763.1234" },
];

/** One pushed image. */
export interface FixtureImage {
  /** Its platform. */
  platform: FixturePlatform;
  /** Manifest media type. */
  mediaType: string;
  /** Repository it is in. */
  repository: string;
  /** Its tag. */
  tag: string;
  /** Manifest digest. */
  digest: string;
  /** Manifest size. */
  size: number;
  /** Exact manifest bytes. */
  manifest: Uint8Array;
  /** The config. */
  config: { digest: string; size: number; mediaType: string; bytes: Uint8Array };
  /** The layers. */
  layers: { digest: string; size: number; mediaType: string }[];
}

/** What {@link pushFixtures} pushed. */
export interface FixtureSet {
  /** All images. */
  images: FixtureImage[];
  /** The index, when asked for. */
  index?: {
    repository: string;
    tag: string;
    digest: string;
    size: number;
    mediaType: string;
    bytes: Uint8Array;
    /** Attestation manifests in the index. */
    attestations: { digest: string; size: number; attests: string }[];
  };
}

/** Options of {@link pushFixtures}. */
export interface PushFixturesOptions {
  /** Media types: OCI (default) or Docker v2.2. */
  format?: "oci" | "docker";
  /** Platforms (default {@link PLATFORMS}). */
  platforms?: readonly FixturePlatform[];
  /** `tags`: one repo, tag per platform (`linux-arm-v7`); `repos`: `<repository>-linux-arm-v7:latest`. */
  layout?: "tags" | "repos";
  /** Repository (or prefix for `repos`), default `fixtures/img`. */
  repository?: string;
  /** Also push an index under this tag into `repository`. */
  index?: { tag: string; attestations?: boolean } | false;
  /** Every image shares one base layer (default true). */
  sharedBaseLayer?: boolean;
  /** Add one generated layer of this many bytes to the first image, streamed. */
  largeLayerBytes?: number;
  /** Changes every digest. */
  seed?: string;
  /** Credentials (default the registry's own). */
  auth?: { username: string; password: string };
  /** Manifests end with a newline (default true). */
  trailingNewline?: boolean;
}

const MT = {
  oci: {
    manifest: "application/vnd.oci.image.manifest.v1+json",
    config: "application/vnd.oci.image.config.v1+json",
    layer: "application/vnd.oci.image.layer.v1.tar+gzip",
    index: "application/vnd.oci.image.index.v1+json",
  },
  docker: {
    manifest: "application/vnd.docker.distribution.manifest.v2+json",
    config: "application/vnd.docker.container.image.v1+json",
    layer: "application/vnd.docker.image.rootfs.diff.tar.gzip",
    index: "application/vnd.docker.distribution.manifest.list.v2+json",
  },
};

const sha256 = (b: Uint8Array) => "sha256:" + createHash("sha256").update(b).digest("hex");
const enc = new TextEncoder();

/** A tar archive with one regular file. */
function tarOf(path: string, content: string): Uint8Array {
  const data = enc.encode(content);
  const header = new Uint8Array(512);
  const put = (s: string, off: number, len: number) =>
    header.set(enc.encode(s).subarray(0, len), off);
  put(path, 0, 100);
  put("0000644\0", 100, 8);
  put("0000000\0", 108, 8);
  put("0000000\0", 116, 8);
  put(data.length.toString(8).padStart(11, "0") + "\0", 124, 12);
  put("00000000000\0", 136, 12);
  put("        ", 148, 8);
  put("0", 156, 1);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  let sum = 0;
  for (const b of header) sum += b;
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
  const padded = Math.ceil(data.length / 512) * 512;
  const out = new Uint8Array(512 + padded + 1024);
  out.set(header, 0);
  out.set(data, 512);
  return out;
}

/** A minimal registry API client of the harness's own. */
class Pusher {
  #reg: RunningRegistry;
  #auth?: { username: string; password: string };
  #tokens = new Map<string, string>();
  #client?: Deno.HttpClient;

  constructor(reg: RunningRegistry, auth?: { username: string; password: string }) {
    this.#reg = reg;
    this.#auth = auth ??
      (reg.username ? { username: reg.username, password: reg.password! } : undefined);
    if (reg.caPem) this.#client = Deno.createHttpClient({ caCerts: [reg.caPem] });
  }

  close() {
    this.#client?.close();
  }

  async #authHeader(repo: string): Promise<string | undefined> {
    if (!this.#auth) return undefined;
    const basic = "Basic " +
      Buffer.from(`${this.#auth.username}:${this.#auth.password}`).toString("base64");
    if (this.#reg.auth === "basic") return basic;
    if (this.#reg.auth !== "token") return undefined;
    let t = this.#tokens.get(repo);
    if (!t) {
      const ts = this.#reg.tokenServer!;
      const u = new URL(ts.realm);
      u.searchParams.set("service", ts.service);
      u.searchParams.set("scope", `repository:${repo}:pull,push`);
      const res = await fetch(u, { headers: { authorization: basic } });
      if (!res.ok) throw new Error(`fixtures: token request failed: ${res.status}`);
      t = (await res.json()).token as string;
      this.#tokens.set(repo, t);
    }
    return `Bearer ${t}`;
  }

  async req(
    repo: string,
    method: string,
    url: string,
    init: { body?: BodyInit; headers?: Record<string, string> } = {},
  ) {
    const headers = new Headers(init.headers);
    const a = await this.#authHeader(repo);
    if (a) headers.set("authorization", a);
    return await fetch(url, {
      method,
      headers,
      body: init.body,
      ...(this.#client ? { client: this.#client } : {}),
    });
  }

  async blobExists(repo: string, digest: string): Promise<boolean> {
    const res = await this.req(repo, "HEAD", `${this.#reg.url}/v2/${repo}/blobs/${digest}`);
    await res.body?.cancel();
    return res.status === 200;
  }

  async putBlob(
    repo: string,
    digest: string,
    body: Uint8Array | ReadableStream<Uint8Array>,
  ): Promise<void> {
    if (await this.blobExists(repo, digest)) {
      if (body instanceof ReadableStream) await body.cancel();
      return;
    }
    const start = `${this.#reg.url}/v2/${repo}/blobs/uploads/`;
    const res = await this.req(repo, "POST", start);
    await res.body?.cancel();
    if (res.status !== 202) throw new Error(`fixtures: POST ${start}: ${res.status}`);
    const loc = new URL(res.headers.get("location")!, start);
    loc.searchParams.set("digest", digest);
    const put = await this.req(repo, "PUT", loc.toString(), {
      body: body as BodyInit,
      headers: { "content-type": "application/octet-stream" },
    });
    const text = await put.text();
    if (put.status !== 201) throw new Error(`fixtures: PUT blob ${digest}: ${put.status} ${text}`);
  }

  async putManifest(
    repo: string,
    ref: string,
    bytes: Uint8Array,
    mediaType: string,
  ): Promise<void> {
    const url = `${this.#reg.url}/v2/${repo}/manifests/${ref}`;
    const res = await this.req(repo, "PUT", url, {
      body: bytes as Uint8Array<ArrayBuffer>,
      headers: { "content-type": mediaType },
    });
    const text = await res.text();
    if (res.status !== 201) {
      throw new Error(`fixtures: PUT manifest ${repo}:${ref}: ${res.status} ${text}`);
    }
  }
}

function platformName(p: FixturePlatform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("-");
}

/**
 * Deterministic pseudo-random bytes, generated in 1 MiB chunks: one random-looking block made
 * from the seed, each chunk stamped with the hash of its index so no two chunks are equal.
 */
function generated(size: number, seed: string): () => ReadableStream<Uint8Array> {
  const block = new Uint8Array(1 << 20);
  let state = createHash("sha256").update(seed).digest();
  for (let off = 0; off < block.length; off += 32) {
    state = createHash("sha256").update(state).digest();
    block.set(state, off);
  }
  return () => {
    let sent = 0;
    let index = 0;
    return new ReadableStream({
      pull(controller) {
        if (sent >= size) return controller.close();
        const n = Math.min(block.length, size - sent);
        const buf = block.slice(0, n);
        buf.set(
          createHash("sha256").update(`${seed}:${index++}`).digest().subarray(0, Math.min(32, n)),
        );
        sent += n;
        controller.enqueue(buf);
      },
    });
  };
}

/**
 * Pushes fixture images (and optionally an index) into `reg`.
 *
 * @example
 * ```ts ignore
 * const set = await pushFixtures(reg, { format: "docker", layout: "repos" });
 * ```
 */
export async function pushFixtures(
  reg: RunningRegistry,
  opts: PushFixturesOptions = {},
): Promise<FixtureSet> {
  const format = opts.format ?? "oci";
  const mt = MT[format];
  const platforms = opts.platforms ?? PLATFORMS;
  const layout = opts.layout ?? "tags";
  const repository = opts.repository ?? "fixtures/img";
  const seed = opts.seed ?? "";
  const nl = (opts.trailingNewline ?? true) ? "\n" : "";
  const pusher = new Pusher(reg, opts.auth);
  try {
    const base = tarOf("etc/fixture-base", `base layer ${seed}\n`);
    const baseGz = new Uint8Array(gzipSync(base));
    const images: FixtureImage[] = [];
    let large: { digest: string; size: number; diffId: string } | undefined;
    if (opts.largeLayerBytes) {
      // An uncompressed tar-like layer: its digest is its diff_id. Hashed in a first pass, then
      // streamed to the registry in a second, never held whole.
      const make = generated(opts.largeLayerBytes, `large ${seed}`);
      const h = createHash("sha256");
      for await (const c of make()) h.update(c);
      const digest = "sha256:" + h.digest("hex");
      large = { digest, size: opts.largeLayerBytes, diffId: digest };
    }
    for (const [i, p] of platforms.entries()) {
      const repo = layout === "repos" ? `${repository}-${platformName(p)}` : repository;
      const tag = layout === "repos" ? "latest" : platformName(p);
      const own = tarOf(`etc/fixture-${platformName(p)}`, `${platformName(p)} ${format} ${seed}\n`);
      const ownGz = new Uint8Array(gzipSync(own));
      const layerSet: {
        bytes?: Uint8Array;
        diffId: string;
        digest: string;
        size: number;
        mediaType: string;
      }[] = [];
      if (opts.sharedBaseLayer ?? true) {
        layerSet.push({
          bytes: baseGz,
          diffId: sha256(base),
          digest: sha256(baseGz),
          size: baseGz.length,
          mediaType: mt.layer,
        });
      }
      layerSet.push({
        bytes: ownGz,
        diffId: sha256(own),
        digest: sha256(ownGz),
        size: ownGz.length,
        mediaType: mt.layer,
      });
      if (large && i === 0) {
        layerSet.push({
          diffId: large.diffId,
          digest: large.digest,
          size: large.size,
          mediaType: format === "oci"
            ? "application/vnd.oci.image.layer.v1.tar"
            : "application/vnd.docker.image.rootfs.diff.tar",
        });
      }
      const config: Record<string, unknown> = {
        architecture: p.architecture,
        os: p.os,
        ...(p.variant ? { variant: p.variant } : {}),
        ...(p["os.version"] ? { "os.version": p["os.version"] } : {}),
        created: "2026-01-01T00:00:00Z",
        config: { Cmd: ["/bin/sh"], Labels: { "fixture.seed": seed } },
        rootfs: { type: "layers", diff_ids: layerSet.map((l) => l.diffId) },
        history: layerSet.map(() => ({ created: "2026-01-01T00:00:00Z", created_by: "fixtures" })),
      };
      const configBytes = enc.encode(JSON.stringify(config));
      for (const l of layerSet) {
        await pusher.putBlob(repo, l.digest, l.bytes ?? generated(large!.size, `large ${seed}`)());
      }
      await pusher.putBlob(repo, sha256(configBytes), configBytes);
      const manifest = {
        schemaVersion: 2,
        mediaType: mt.manifest,
        config: { mediaType: mt.config, digest: sha256(configBytes), size: configBytes.length },
        layers: layerSet.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
      };
      const bytes = enc.encode(JSON.stringify(manifest, null, 3) + nl);
      await pusher.putManifest(repo, tag, bytes, mt.manifest);
      images.push({
        platform: { ...p },
        mediaType: mt.manifest,
        repository: repo,
        tag,
        digest: sha256(bytes),
        size: bytes.length,
        manifest: bytes,
        config: {
          digest: sha256(configBytes),
          size: configBytes.length,
          mediaType: mt.config,
          bytes: configBytes,
        },
        layers: manifest.layers,
      });
    }
    const set: FixtureSet = { images };
    if (opts.index) {
      const entries: Record<string, unknown>[] = [];
      const attestations: NonNullable<FixtureSet["index"]>["attestations"] = [];
      for (const img of images) {
        if (img.repository !== repository) {
          // Manifests cannot be mounted: children must be in the index's repository.
          for (const b of [img.config, ...img.layers]) {
            await pusher.req(
              repository,
              "POST",
              `${reg.url}/v2/${repository}/blobs/uploads/?mount=${b.digest}&from=${img.repository}`,
            )
              .then((r) => r.body?.cancel());
          }
          await pusher.putManifest(repository, img.digest, img.manifest, img.mediaType);
        }
        entries.push({
          mediaType: img.mediaType,
          digest: img.digest,
          size: img.size,
          platform: img.platform,
        });
      }
      if (opts.index.attestations && format === "oci") {
        for (const img of images) {
          const statement = enc.encode(
            JSON.stringify({
              _type: "https://in-toto.io/Statement/v0.1",
              subject: img.digest,
              seed,
            }),
          );
          const empty = enc.encode("{}");
          await pusher.putBlob(repository, sha256(statement), statement);
          await pusher.putBlob(repository, sha256(empty), empty);
          const att = {
            schemaVersion: 2,
            mediaType: MT.oci.manifest,
            config: {
              mediaType: "application/vnd.oci.image.config.v1+json",
              digest: sha256(empty),
              size: 2,
            },
            layers: [{
              mediaType: "application/vnd.in-toto+json",
              digest: sha256(statement),
              size: statement.length,
              annotations: { "in-toto.io/predicate-type": "https://spdx.dev/Document" },
            }],
          };
          const bytes = enc.encode(JSON.stringify(att));
          await pusher.putManifest(repository, sha256(bytes), bytes, MT.oci.manifest);
          entries.push({
            mediaType: MT.oci.manifest,
            digest: sha256(bytes),
            size: bytes.length,
            annotations: {
              "vnd.docker.reference.digest": img.digest,
              "vnd.docker.reference.type": "attestation-manifest",
            },
            platform: { architecture: "unknown", os: "unknown" },
          });
          attestations.push({ digest: sha256(bytes), size: bytes.length, attests: img.digest });
        }
      }
      const index = { schemaVersion: 2, mediaType: mt.index, manifests: entries };
      const bytes = enc.encode(JSON.stringify(index, null, 2) + nl);
      await pusher.putManifest(repository, opts.index.tag, bytes, mt.index);
      set.index = {
        repository,
        tag: opts.index.tag,
        digest: sha256(bytes),
        size: bytes.length,
        mediaType: mt.index,
        bytes,
        attestations,
      };
    }
    return set;
  } finally {
    pusher.close();
  }
}
