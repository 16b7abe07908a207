/**
 * Fixture images pushed through the registry HTTP API with nothing but `fetch` and `node:crypto`:
 * deliberately independent of `lib/`, so that what the tests read back vouches for the library.
 *
 * Layers are real gzip'd tar files; configs carry the right os/architecture/variant/os.version and
 * `rootfs.diff_ids`; manifests use OCI or Docker v2.2 media types and are pushed as exact bytes
 * (indented, newline-terminated: a client that re-serialises JSON gets other digests). Images go
 * under per-platform tags of one repository or into one repository per platform; optionally an
 * index (with buildx-style attestation manifests) and one large layer, streamed, never held whole.
 *
 * Uploads follow the distribution spec: `HEAD` the blob, else `POST` an upload session and `PUT`
 * it with `?digest=` (monolithic), or stream with `PATCH` and close with an empty `PUT`.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { gzipSync, zstdCompressSync } from "node:zlib";
import type { RunningRegistry } from "./registry.ts";

/** A platform of a fixture image (the fields of an image index's `platform`). */
export interface FixturePlatform {
  /** Operating system, e.g. `linux`. */
  os: string;
  /** CPU architecture, e.g. `arm64`. */
  architecture: string;
  /** CPU variant, e.g. `v7`. */
  variant?: string;
  /** Windows build, e.g. `10.0.17763.1234`. */
  "os.version"?: string;
}

/** The default platforms: linux amd64, arm64/v8, arm/v7, ppc64le, s390x, and windows/amd64. */
export const PLATFORMS: readonly FixturePlatform[] = Object.freeze([
  { os: "linux", architecture: "amd64" },
  { os: "linux", architecture: "arm64", variant: "v8" },
  { os: "linux", architecture: "arm", variant: "v7" },
  { os: "linux", architecture: "ppc64le" },
  { os: "linux", architecture: "s390x" },
  { os: "windows", architecture: "amd64", "os.version": "10.0.17763.1234" },
]);

/** One pushed image. */
export interface FixtureImage {
  /** Its platform (also in its config and in the index entry). */
  platform: FixturePlatform;
  /** Manifest media type. */
  mediaType: string;
  /** Repository it is in. */
  repository: string;
  /** Its tag there. */
  tag: string;
  /** Manifest digest (`sha256:…` of {@link FixtureImage.manifest}). */
  digest: string;
  /** Manifest size in bytes. */
  size: number;
  /** Exact manifest bytes pushed. */
  manifest: Uint8Array;
  /** The config blob. */
  config: { digest: string; size: number; mediaType: string; bytes: Uint8Array };
  /** The layer descriptors, in manifest order. */
  layers: { digest: string; size: number; mediaType: string }[];
}

/** What {@link pushFixtures} pushed. */
export interface FixtureSet {
  /** All images, in the order of the platforms given. */
  images: FixtureImage[];
  /** The index (OCI) or manifest list (Docker), when asked for. */
  index?: {
    /** Repository it is in. */
    repository: string;
    /** Its tag. */
    tag: string;
    /** Digest of {@link bytes}. */
    digest: string;
    /** Size of {@link bytes}. */
    size: number;
    /** Index or list media type. */
    mediaType: string;
    /** Exact bytes pushed. */
    bytes: Uint8Array;
    /** Attestation manifests listed in the index (`attests` is the image digest), in order. */
    attestations: { digest: string; size: number; attests: string }[];
  };
}

/** Options of {@link pushFixtures}. */
export interface PushFixturesOptions {
  /** Media types: OCI (default) or Docker v2.2. */
  format?: "oci" | "docker";
  /** Platforms (default {@link PLATFORMS}). */
  platforms?: readonly FixturePlatform[];
  /**
   * `tags` (default): one repository, one tag per platform (`linux-amd64`, `linux-arm-v7`,
   * `windows-amd64`); `repos`: one repository per platform, `<repository>-linux-arm-v7:latest`.
   */
  layout?: "tags" | "repos";
  /** Repository, or the prefix of each one for `repos` (default `fixtures/img`). */
  repository?: string;
  /**
   * Also push an index (OCI) or list (Docker) of the images under this tag of `repository`;
   * children from other repositories are copied in first, by cross-repo mount. `attestations`
   * (OCI only) adds a buildx-style attestation manifest per image.
   */
  index?: { tag: string; attestations?: boolean } | false;
  /** Every image has one common base layer besides its own (default true). */
  sharedBaseLayer?: boolean;
  /**
   * Adds to the first image one more layer of exactly this many deterministic pseudo-random bytes
   * (uncompressed media type, so its digest is its diff_id), generated and hashed as it streams.
   */
  largeLayerBytes?: number;
  /** Changes every digest, so two calls with different seeds share no blob but the base layer's. */
  seed?: string;
  /** Credentials (default the registry's own). */
  auth?: { username: string; password: string };
  /** Manifests end with `"\n"` (default true; digests are over the exact bytes). */
  trailingNewline?: boolean;
}

const MEDIA = {
  oci: {
    manifest: "application/vnd.oci.image.manifest.v1+json",
    config: "application/vnd.oci.image.config.v1+json",
    layer: "application/vnd.oci.image.layer.v1.tar+gzip",
    rawLayer: "application/vnd.oci.image.layer.v1.tar",
    index: "application/vnd.oci.image.index.v1+json",
  },
  docker: {
    manifest: "application/vnd.docker.distribution.manifest.v2+json",
    config: "application/vnd.docker.container.image.v1+json",
    layer: "application/vnd.docker.image.rootfs.diff.tar.gzip",
    rawLayer: "application/vnd.docker.image.rootfs.diff.tar",
    index: "application/vnd.docker.distribution.manifest.list.v2+json",
  },
} as const;

const CREATED = "2026-01-01T00:00:00Z";
const CHUNK = 1 << 20;
const encoder = new TextEncoder();
const sha256 = (b: Uint8Array) => "sha256:" + createHash("sha256").update(b).digest("hex");

/** A ustar archive holding one regular file. */
function tarOf(path: string, content: string): Uint8Array {
  const data = encoder.encode(content);
  const header = new Uint8Array(512);
  const put = (s: string, off: number, len: number) =>
    header.set(encoder.encode(s).subarray(0, len), off);
  put(path, 0, 100);
  put("0000644\0", 100, 8); // mode
  put("0000000\0", 108, 8); // uid
  put("0000000\0", 116, 8); // gid
  put(data.length.toString(8).padStart(11, "0") + "\0", 124, 12);
  put("00000000000\0", 136, 12); // mtime
  put("        ", 148, 8); // checksum is computed with its own field as spaces
  put("0", 156, 1); // regular file
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  put("root", 265, 32);
  put("root", 297, 32);
  let sum = 0;
  for (const b of header) sum += b;
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
  // header, data padded to 512, two zero blocks closing the archive
  const out = new Uint8Array(512 + Math.ceil(data.length / 512) * 512 + 1024);
  out.set(header, 0);
  out.set(data, 512);
  return out;
}

/** Deterministic pseudo-random bytes (xorshift32 seeded from `seed`), made in 1 MiB chunks. */
function pseudoRandom(size: number, seed: string): ReadableStream<Uint8Array<ArrayBuffer>> {
  let s = createHash("sha256").update(seed).digest().readUInt32LE(0) || 1;
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= size) return controller.close();
      const n = Math.min(CHUNK, size - sent);
      const chunk = new Uint8Array(Math.ceil(n / 4) * 4);
      const words = new Uint32Array(chunk.buffer);
      for (let i = 0; i < words.length; i++) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        words[i] = s;
      }
      sent += n;
      controller.enqueue(chunk.subarray(0, n));
    },
  }, { highWaterMark: 0 });
}

/** Passes a stream through, hashing it and counting its bytes. */
function hashing(
  source: ReadableStream<Uint8Array<ArrayBuffer>>,
): { stream: ReadableStream<Uint8Array<ArrayBuffer>>; digest: () => string; size: () => number } {
  const hash = createHash("sha256");
  let size = 0;
  const stream = source.pipeThrough(
    new TransformStream<Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>>({
      transform(chunk, controller) {
        hash.update(chunk);
        size += chunk.length;
        controller.enqueue(chunk);
      },
    }),
  );
  return { stream, digest: () => "sha256:" + hash.digest("hex"), size: () => size };
}

/** A blob to push: its bytes, or a way to stream them again. */
interface BlobSource {
  digest: string;
  size: number;
  bytes?: Uint8Array<ArrayBuffer>;
  stream?: () => ReadableStream<Uint8Array<ArrayBuffer>>;
}

/** A minimal client of the distribution API, the harness's own. */
class Pusher {
  readonly #reg: RunningRegistry;
  readonly #basic?: string;
  readonly #tokens = new Map<string, Promise<string>>();
  readonly #blobs = new Map<string, Promise<void>>();
  readonly #client?: Deno.HttpClient;

  constructor(reg: RunningRegistry, auth?: { username: string; password: string }) {
    this.#reg = reg;
    const creds = auth ??
      (reg.username !== undefined
        ? { username: reg.username, password: reg.password! }
        : undefined);
    if (creds) {
      this.#basic = "Basic " +
        Buffer.from(`${creds.username}:${creds.password}`).toString("base64");
    }
    if (reg.caPem) this.#client = Deno.createHttpClient({ caCerts: [reg.caPem] });
  }

  close(): void {
    this.#client?.close();
  }

  /** One token per scope set; the token server grants what the user asks for. */
  #token(scopes: string[]): Promise<string> {
    const key = scopes.join(" ");
    let token = this.#tokens.get(key);
    if (!token) {
      const ts = this.#reg.tokenServer;
      if (!ts) throw new Error("fixtures: a token registry without a token server");
      const u = new URL(ts.realm);
      u.searchParams.set("service", ts.service);
      for (const s of scopes) u.searchParams.append("scope", s);
      token = (async () => {
        const res = await fetch(u, { headers: this.#basic ? { authorization: this.#basic } : {} });
        const body = await res.text();
        if (!res.ok) throw new Error(`fixtures: GET ${u}: ${res.status} ${body.slice(0, 300)}`);
        const json = JSON.parse(body);
        return (json.token ?? json.access_token) as string;
      })();
      token.catch(() => this.#tokens.delete(key));
      this.#tokens.set(key, token);
    }
    return token;
  }

  async #authorization(scopes: string[]): Promise<string | undefined> {
    if (this.#reg.auth === "basic") return this.#basic;
    if (this.#reg.auth === "token") return `Bearer ${await this.#token(scopes)}`;
    return undefined;
  }

  /** A request to `pathOrUrl` (relative to the registry) with the auth `scopes` need. */
  async fetch(
    method: string,
    pathOrUrl: string,
    scopes: string[],
    init: { body?: BodyInit; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const headers = new Headers(init.headers);
    const authorization = await this.#authorization(scopes);
    if (authorization) headers.set("authorization", authorization);
    return await fetch(new URL(pathOrUrl, this.#reg.url), {
      method,
      headers,
      body: init.body,
      // A redirect would need the stream body again; the registry does not redirect uploads.
      redirect: "manual",
      ...(this.#client ? { client: this.#client } : {}),
    });
  }

  /** Throws with method, URL, status and the registry's error body unless `status` matches. */
  async expect(res: Response, method: string, status: number): Promise<void> {
    if (res.status === status) {
      await res.body?.cancel();
      return;
    }
    const body = (await res.text()).slice(0, 500);
    throw new Error(
      `fixtures: ${method} ${res.url} answered ${res.status}, not ${status}: ${body}`,
    );
  }

  /** The session URL the registry answered with (`Location` may be relative). */
  location(res: Response, base: string): URL {
    const loc = res.headers.get("location");
    if (!loc) throw new Error(`fixtures: no Location from ${base} (${res.status})`);
    return new URL(loc, new URL(base, this.#reg.url));
  }

  /**
   * Makes sure `repo` has `blob`: `HEAD` it, else mount it from `from`, else upload it (into the
   * session the refused mount opened, which the spec allows). Each blob once per repository.
   */
  ensureBlob(repo: string, blob: BlobSource, from?: string): Promise<void> {
    const key = `${repo}@${blob.digest}`;
    let done = this.#blobs.get(key);
    if (!done) {
      done = this.#ensureBlob(repo, blob, from);
      done.catch(() => this.#blobs.delete(key));
      this.#blobs.set(key, done);
    }
    return done;
  }

  async #ensureBlob(repo: string, blob: BlobSource, from?: string): Promise<void> {
    const scopes = [`repository:${repo}:pull,push`];
    const head = await this.fetch("HEAD", `/v2/${repo}/blobs/${blob.digest}`, scopes);
    await head.body?.cancel();
    if (head.status === 200) return;
    if (head.status !== 404) await this.expect(head, "HEAD", 404);
    let start = `/v2/${repo}/blobs/uploads/`;
    if (from && from !== repo) {
      // One token must cover both repositories: the registry asks for both in one challenge.
      scopes.push(`repository:${from}:pull`);
      start += `?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(from)}`;
    }
    const post = await this.fetch("POST", start, scopes);
    if (post.status === 201) return void await post.body?.cancel();
    await this.expect(post, "POST", 202);
    const put = this.location(post, start);
    put.searchParams.set("digest", blob.digest);
    const body = blob.bytes ?? blob.stream?.();
    if (!body) throw new Error(`fixtures: no content for blob ${blob.digest}`);
    const res = await this.fetch("PUT", put.href, scopes, {
      body,
      headers: { "content-type": "application/octet-stream" },
    });
    await this.expect(res, "PUT", 201);
  }

  /** Streams a blob of unknown digest: `POST`, `PATCH` the stream while hashing it, `PUT`. */
  async uploadStream(
    repo: string,
    source: ReadableStream<Uint8Array<ArrayBuffer>>,
  ): Promise<{ digest: string; size: number }> {
    const scopes = [`repository:${repo}:pull,push`];
    const start = `/v2/${repo}/blobs/uploads/`;
    const post = await this.fetch("POST", start, scopes);
    await this.expect(post, "POST", 202);
    const session = this.location(post, start);
    const h = hashing(source);
    const patch = await this.fetch("PATCH", session.href, scopes, {
      body: h.stream,
      headers: { "content-type": "application/octet-stream" },
    });
    await this.expect(patch, "PATCH", 202);
    // The registry answers the PATCH only once it has read the whole body.
    const digest = h.digest();
    const put = this.location(patch, session.href);
    put.searchParams.set("digest", digest);
    const res = await this.fetch("PUT", put.href, scopes);
    await this.expect(res, "PUT", 201);
    return { digest, size: h.size() };
  }

  async putManifest(repo: string, ref: string, bytes: Uint8Array, mediaType: string) {
    const path = `/v2/${repo}/manifests/${ref}`;
    const res = await this.fetch("PUT", path, [`repository:${repo}:pull,push`], {
      body: bytes as Uint8Array<ArrayBuffer>,
      headers: { "content-type": mediaType },
    });
    await this.expect(res, "PUT", 201);
    const echoed = res.headers.get("docker-content-digest");
    if (echoed && echoed !== sha256(bytes)) {
      throw new Error(`fixtures: PUT ${path}: registry says ${echoed}, bytes are ${sha256(bytes)}`);
    }
  }
}

/** `linux-arm-v7`: the tag (or repository suffix) of a platform. */
function platformName(p: FixturePlatform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("-");
}

interface Layer extends BlobSource {
  diffId: string;
  mediaType: string;
}

function gzLayer(path: string, content: string, mediaType: string): Layer {
  const tar = tarOf(path, content);
  const gz = new Uint8Array(gzipSync(tar));
  return { bytes: gz, digest: sha256(gz), size: gz.length, diffId: sha256(tar), mediaType };
}

/**
 * Pushes fixture images (and optionally an index of them) into `reg`, through its HTTP API.
 *
 * @example
 * ```ts ignore
 * await using reg = await startRegistry();
 * const set = await pushFixtures(reg, { format: "docker", index: { tag: "multi" } });
 * // set.images[i].digest, set.index!.digest: fetch them back by digest
 * ```
 */
export async function pushFixtures(
  reg: RunningRegistry,
  opts: PushFixturesOptions = {},
): Promise<FixtureSet> {
  const format = opts.format ?? "oci";
  const media = MEDIA[format];
  const platforms = opts.platforms ?? PLATFORMS;
  const layout = opts.layout ?? "tags";
  const repository = opts.repository ?? "fixtures/img";
  const seed = opts.seed ?? "";
  const nl = (opts.trailingNewline ?? true) ? "\n" : "";
  if (opts.index && opts.index.attestations && format !== "oci") {
    throw new Error("fixtures: attestations are OCI only (buildx pushes them in OCI indexes)");
  }
  const json = (value: unknown, indent: number) =>
    encoder.encode(JSON.stringify(value, null, indent) + nl);
  const pusher = new Pusher(reg, opts.auth);
  try {
    const repoOf = (p: FixturePlatform) =>
      layout === "repos" ? `${repository}-${platformName(p)}` : repository;

    let large: Layer | undefined;
    if (opts.largeLayerBytes && platforms.length) {
      // Streamed first: its digest is known only once every byte has gone by.
      const make = () => pseudoRandom(opts.largeLayerBytes!, `large layer ${seed}`);
      const { digest, size } = await pusher.uploadStream(repoOf(platforms[0]), make());
      large = { digest, size, diffId: digest, mediaType: media.rawLayer, stream: make };
    }
    const base = gzLayer("etc/fixture-base", `base layer ${seed}\n`, media.layer);

    const pushed = await Promise.all(platforms.map(async (p, i) => {
      const repo = repoOf(p);
      const tag = layout === "repos" ? "latest" : platformName(p);
      const own = gzLayer(
        `etc/fixture-${platformName(p)}`,
        `${platformName(p)} ${format} ${seed}\n`,
        media.layer,
      );
      const layers = [
        ...(opts.sharedBaseLayer ?? true ? [base] : []),
        own,
        ...(large && i === 0 ? [large] : []),
      ];
      const config = encoder.encode(JSON.stringify({
        architecture: p.architecture,
        os: p.os,
        ...(p.variant ? { variant: p.variant } : {}),
        ...(p["os.version"] ? { "os.version": p["os.version"] } : {}),
        created: CREATED,
        config: { Cmd: ["/bin/sh"], Labels: { "fixture.seed": seed } },
        rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
        history: layers.map(() => ({ created: CREATED, created_by: "manifest-tool fixtures" })),
      }));
      const configBlob = { bytes: config, digest: sha256(config), size: config.length };
      const blobs: BlobSource[] = [configBlob, ...layers];
      await Promise.all(blobs.map((b) => pusher.ensureBlob(repo, b)));
      const descriptors = layers.map((l) => ({
        mediaType: l.mediaType,
        digest: l.digest,
        size: l.size,
      }));
      const manifest = json({
        schemaVersion: 2,
        mediaType: media.manifest,
        config: { mediaType: media.config, digest: configBlob.digest, size: config.length },
        layers: descriptors,
      }, 3);
      await pusher.putManifest(repo, tag, manifest, media.manifest);
      const image: FixtureImage = {
        platform: { ...p },
        mediaType: media.manifest,
        repository: repo,
        tag,
        digest: sha256(manifest),
        size: manifest.length,
        manifest,
        config: { ...configBlob, mediaType: media.config },
        layers: descriptors,
      };
      return { image, blobs };
    }));
    const images = pushed.map((p) => p.image);
    const set: FixtureSet = { images };
    if (!opts.index) return set;

    // Manifests cannot be mounted: an index PUT is refused unless every child is in its
    // repository, so children from other repositories are copied in first, their blobs by
    // cross-repo mount (uploaded from the bytes at hand if the registry will not mount).
    await Promise.all(pushed.map(async ({ image, blobs }) => {
      if (image.repository === repository) return;
      await Promise.all(blobs.map((b) => pusher.ensureBlob(repository, b, image.repository)));
      await pusher.putManifest(repository, image.digest, image.manifest, image.mediaType);
    }));

    const entries: Record<string, unknown>[] = images.map((img) => ({
      mediaType: img.mediaType,
      digest: img.digest,
      size: img.size,
      platform: img.platform,
    }));
    const attestations: NonNullable<FixtureSet["index"]>["attestations"] = [];
    if (opts.index.attestations) {
      const empty = encoder.encode("{}");
      const emptyBlob = { bytes: empty, digest: sha256(empty), size: empty.length };
      await pusher.ensureBlob(repository, emptyBlob);
      const made = await Promise.all(images.map(async (img) => {
        const statement = encoder.encode(JSON.stringify({
          _type: "https://in-toto.io/Statement/v0.1",
          predicateType: "https://spdx.dev/Document",
          subject: [{ name: "fixture", digest: { sha256: img.digest.slice(7) } }],
          predicate: { seed },
        }));
        const layer = { bytes: statement, digest: sha256(statement), size: statement.length };
        await pusher.ensureBlob(repository, layer);
        const bytes = json({
          schemaVersion: 2,
          mediaType: MEDIA.oci.manifest,
          config: { mediaType: MEDIA.oci.config, digest: emptyBlob.digest, size: empty.length },
          layers: [{
            mediaType: "application/vnd.in-toto+json",
            digest: layer.digest,
            size: layer.size,
            annotations: { "in-toto.io/predicate-type": "https://spdx.dev/Document" },
          }],
        }, 2);
        await pusher.putManifest(repository, sha256(bytes), bytes, MEDIA.oci.manifest);
        return { digest: sha256(bytes), size: bytes.length, attests: img.digest };
      }));
      for (const a of made) {
        attestations.push(a);
        entries.push({
          mediaType: MEDIA.oci.manifest,
          digest: a.digest,
          size: a.size,
          annotations: {
            "vnd.docker.reference.digest": a.attests,
            "vnd.docker.reference.type": "attestation-manifest",
          },
          platform: { architecture: "unknown", os: "unknown" },
        });
      }
    }
    const bytes = json({ schemaVersion: 2, mediaType: media.index, manifests: entries }, 2);
    await pusher.putManifest(repository, opts.index.tag, bytes, media.index);
    set.index = {
      repository,
      tag: opts.index.tag,
      digest: sha256(bytes),
      size: bytes.length,
      mediaType: media.index,
      bytes,
      attestations,
    };
    return set;
  } finally {
    pusher.close();
  }
}

/**
 * Uploads `bytes` as a blob of `repo` (monolithic `POST` then `PUT ?digest=`), unless it is there.
 *
 * @example
 * ```ts ignore
 * const { digest, size } = await pushBlob(reg, "zoo/app", new TextEncoder().encode("{}"));
 * ```
 */
export async function pushBlob(
  reg: RunningRegistry,
  repo: string,
  bytes: Uint8Array,
): Promise<{ digest: string; size: number }> {
  const pusher = new Pusher(reg);
  try {
    const blob = {
      bytes: bytes as Uint8Array<ArrayBuffer>,
      digest: sha256(bytes),
      size: bytes.length,
    };
    await pusher.ensureBlob(repo, blob);
    return { digest: blob.digest, size: blob.size };
  } finally {
    pusher.close();
  }
}

/** What a manifest `PUT` got: the status and, for a refusal, the registry's error body. */
export interface ManifestPut {
  /** HTTP status (201 when stored). */
  status: number;
  /** `sha256:` of the bytes sent. */
  digest: string;
  /** The first 500 characters of the response body when the status is not 201. */
  error?: string;
}

/**
 * `PUT`s exact manifest bytes to `repo:ref` and reports what the registry said, refusals included
 * (the zoo records which kinds refuse which shapes).
 */
export async function putManifest(
  reg: RunningRegistry,
  repo: string,
  ref: string,
  bytes: Uint8Array,
  mediaType: string,
): Promise<ManifestPut> {
  const pusher = new Pusher(reg);
  try {
    const res = await pusher.fetch("PUT", `/v2/${repo}/manifests/${ref}`, [
      `repository:${repo}:pull,push`,
    ], { body: bytes as Uint8Array<ArrayBuffer>, headers: { "content-type": mediaType } });
    const digest = sha256(bytes);
    if (res.status === 201) {
      await res.body?.cancel();
      return { status: 201, digest };
    }
    return { status: res.status, digest, error: (await res.text()).slice(0, 500) };
  } finally {
    pusher.close();
  }
}

/** A layer made by {@link makeLayer}: its exact bytes, digest, size and uncompressed digest. */
export interface MadeLayer {
  /** The compressed (or plain) tar bytes. */
  bytes: Uint8Array;
  /** `sha256:` of {@link MadeLayer.bytes}. */
  digest: string;
  /** Length of {@link MadeLayer.bytes}. */
  size: number;
  /** `sha256:` of the uncompressed tar (what a config's `rootfs.diff_ids` lists). */
  diffId: string;
}

/**
 * A real one-file tar layer, gzip'd, zstd-compressed (`node:zlib`) or plain.
 *
 * @example
 * ```ts ignore
 * const l = makeLayer("etc/zoo", "hello\n", "zstd"); // media type ...layer.v1.tar+zstd
 * ```
 */
export function makeLayer(
  path: string,
  content: string,
  compression: "gzip" | "zstd" | "none",
): MadeLayer {
  const tar = tarOf(path, content);
  const bytes = compression === "gzip"
    ? new Uint8Array(gzipSync(tar))
    : compression === "zstd"
    ? new Uint8Array(zstdCompressSync(tar))
    : tar;
  return { bytes, digest: sha256(bytes), size: bytes.length, diffId: sha256(tar) };
}
