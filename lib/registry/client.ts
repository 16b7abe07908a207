/**
 * One registry's HTTP API, per repository (OCI distribution spec): manifests by tag or digest,
 * blobs (head, verified download, cross-repository mount, streamed upload), tags, referrers.
 * Everything read is verified against the digest asked for, or hashed locally when resolving a tag
 * and checked against `Docker-Content-Digest`.
 *
 * @module
 */

import { DigestMismatchError, RegistryError, type RegistryErrorCode } from "../errors.ts";
import { digestingStream, LIMITS, readCapped, readVerified, verifyingStream } from "../content.ts";
import { checkableAlgorithm, digestOf, isDigest } from "../digest.ts";
import {
  type Descriptor,
  ManifestFormatError,
  type ParsedManifest,
  parseManifest,
} from "../manifest.ts";
import { MANIFEST_ACCEPT, OCI_INDEX } from "../media_types.ts";
import { type Reference, registryApiHost } from "../reference.ts";
import { Authenticator, repositoryScope } from "./auth.ts";
import { type CredentialOptions, CredentialStore } from "./credentials.ts";
import {
  artifactTypeOf,
  checkReferrer,
  MAX_REFERRERS,
  needsArtifactType,
  nextPage,
  noReferrersApi,
  REFERRERS_MAX_PAGES,
  referrersPage,
} from "./referrers.ts";
import {
  type Logger,
  printable,
  redact,
  type RequestBody,
  Transport,
  type TransportOptions,
} from "./transport.ts";

export type { Descriptor, ImageManifest, Index, ParsedManifest } from "../manifest.ts";
export type { Platform } from "../platform.ts";
export type { Reference } from "../reference.ts";
export { Authenticator } from "./auth.ts";
export type { AuthRequest } from "./auth.ts";
export type { CredentialOptions } from "./credentials.ts";
export { Transport } from "./transport.ts";
export type { Logger, RequestBody, TransportOptions, TransportRequest } from "./transport.ts";

/**
 * The largest chunk a chunked upload holds in memory (64 MiB): a registry asking for larger ones
 * (`OCI-Chunk-Min-Length`) gets the whole body in one streamed `PATCH` instead.
 */
export const MAX_CHUNK_BUFFER = 64 << 20;

/**
 * The answers that complete an upload: 201 (OCI distribution spec), and 204, which the Docker
 * registry API v2 spec named and some registries written to it still send.
 */
const UPLOAD_DONE = [201, 204];

/** Options of a {@link RegistryClient}: transport (TLS, retries, logging) and credentials. */
export interface ClientOptions extends TransportOptions, CredentialOptions {}

/**
 * Per-call options of every {@link Repository} method (and of the {@link UploadSession} a method
 * opens, which keeps them).
 */
export interface RequestOptions {
  /**
   * Cancels the call: waiting for a slot or a response, and the bodies in flight (a download
   * returned by {@link Repository.fetchBlob} errors, an upload stops). The call throws the
   * signal's reason (an `AbortError` by default) and is never retried.
   */
  signal?: AbortSignal;
  /**
   * Token scopes the rest of the operation will need, e.g. `repository:src:pull` for the mount
   * sources of a push: asked for whenever a token must be fetched, so one token serves the whole
   * operation. Hints only: each request still gets the scopes it needs itself.
   */
  scopes?: readonly string[];
}

/** Both option sets, those of the call winning: signals are combined, scopes joined. */
function mergeOptions(base: RequestOptions, call: RequestOptions): RequestOptions {
  const signals = [base.signal, call.signal].filter((s): s is AbortSignal => s !== undefined);
  return {
    signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0],
    scopes: [...(base.scopes ?? []), ...(call.scopes ?? [])],
  };
}

/** A manifest fetched and verified. */
export interface FetchedManifest {
  /** Its descriptor (media type, digest of the exact bytes, size). */
  descriptor: Descriptor;
  /** The exact bytes served. */
  bytes: Uint8Array;
  /** The parsed document. */
  parsed: ParsedManifest;
}

/**
 * Talks to registries. Create one per run and close it (or use `await using`).
 *
 * @example
 * ```ts ignore
 * import { RegistryClient } from "./client.ts";
 * import { parseReference } from "../reference.ts";
 * await using client = new RegistryClient();
 * const ref = parseReference("127.0.0.1:5000/app:latest");
 * const m = await client.repositoryOf(ref).getManifest(ref.identifier);
 * console.log(m.descriptor.digest);
 * ```
 */
export class RegistryClient {
  /** The transport (counts requests). */
  readonly transport: Transport;
  /** The authenticator (counts token requests). */
  readonly auth: Authenticator;
  /** Where diagnostics go. */
  readonly logger: Logger;

  /** Creates a client. */
  constructor(options: ClientOptions = {}) {
    this.transport = new Transport(options);
    this.auth = new Authenticator(this.transport, new CredentialStore(options));
    this.logger = this.transport.logger;
  }

  /** The API of `repository` in `registry` (`host[:port]`; `docker.io` goes to its API host). */
  repository(registry: string, repository: string): Repository {
    return new Repository(this.auth, registry, repository);
  }

  /** The API of the repository a reference names. */
  repositoryOf(ref: Reference): Repository {
    return this.repository(ref.registry, ref.repository);
  }

  /**
   * Readies `registry` for the requests to come with a `GET /v2/` whose answer is dropped: its
   * connection is opened (over TLS the handshakes are done and HTTP/2 known, so a first wave
   * shares one connection) and, when it asks for credentials, a token is fetched for
   * `options.scopes`. A push runs it for a target none of its sources is on, while it reads the
   * sources. Failures are left to the requests that follow, which meet them again.
   */
  async warmUp(registry: string, options: RequestOptions = {}): Promise<void> {
    try {
      const res = await this.auth.fetch({
        registry,
        method: "GET",
        url: `https://${registryApiHost(registry)}/v2/`,
        scopes: [],
        scopeHints: options.scopes,
        signal: options.signal,
      });
      await readCapped(res.body, LIMITS.errorBody, "GET /v2/", {
        deadlineMs: this.transport.documentDeadlineMs,
      });
    } catch {
      // Reported by the requests that follow.
    }
  }

  /** Closes connections. */
  close(): void {
    this.transport.close();
  }

  /** Same as {@link close}, and waits until connections being opened have stopped. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.transport[Symbol.asyncDispose]();
  }
}

/**
 * An upload session opened by a `POST` (or by a mount the registry answered with 202). Either
 * upload into it or cancel it.
 */
export class UploadSession {
  /**
   * The smallest chunk the registry takes but for the last (`OCI-Chunk-Min-Length` in the answer
   * that opened the session; 0 when it named none). A chunked upload sends chunks at least this
   * large, or the whole body in one `PATCH` when that would hold more than
   * {@link MAX_CHUNK_BUFFER} in memory.
   */
  readonly minChunkLength: number;
  readonly #repo: Repository;
  readonly #options: RequestOptions;
  #location: URL;
  #done = false;

  /**
   * Wraps a session at `location` (already resolved against the request URL); `options` are those
   * of the call that opened it, used by every request of the session.
   */
  constructor(
    repo: Repository,
    location: URL,
    options: RequestOptions = {},
    limits: { minChunkLength?: number } = {},
  ) {
    this.#repo = repo;
    this.#location = location;
    this.#options = options;
    this.minChunkLength = limits.minChunkLength ?? 0;
  }

  /** The options of the call that opened the session. */
  get options(): RequestOptions {
    return this.#options;
  }

  /** Where the next request of the session goes. */
  get location(): URL {
    return this.#location;
  }

  /**
   * Uploads `body` and completes the session. With `expected` the upload is one monolithic
   * `PUT ?digest=`; without it, or with `chunkSize`, the body is sent in `PATCH`es while its digest
   * is computed on the way, then completed with a `PUT`. The body is never held whole: a chunked
   * upload holds one chunk, of `chunkSize` or the registry's {@link minChunkLength}, whichever is
   * larger. `options` add to those the session was opened with.
   */
  async upload(
    body: RequestBody,
    expected?: { digest: string; size?: number },
    options: RequestOptions & { chunkSize?: number } = {},
  ): Promise<Descriptor> {
    if (this.#done) throw new Error("Upload session already used");
    this.#done = true;
    // A download its body streams from, on this registry, shares the upload's slot.
    return await this.#repo.transport.streamingUpload(
      registryApiHost(this.#repo.registry),
      () => this.#upload(body, mergeOptions(this.#options, options), expected, options.chunkSize),
    );
  }

  async #upload(
    body: RequestBody,
    opts: RequestOptions,
    expected?: { digest: string; size?: number },
    chunkSize?: number,
  ): Promise<Descriptor> {
    try {
      if (expected && !chunkSize) {
        const url = withQuery(this.#location, "digest", expected.digest);
        const res = await this.#repo.send("PUT", url, ["push"], {
          body: verifiedBody(body, expected),
          headers: contentHeaders(body),
          // A PUT that broke off spoils its session: retrying it there cannot work, so the caller
          // starts a new session instead (bytes are cheap to resend, and the auth layer still
          // replays a factory after a 401, which the registry answers before reading the body).
          idempotent: body instanceof Uint8Array,
        }, opts);
        await this.#repo.expect(res, "PUT", url, UPLOAD_DONE);
        await discard(res);
        this.#checkStored(res, expected.digest);
        return {
          mediaType: "application/octet-stream",
          digest: expected.digest,
          size: expected.size ?? -1,
        };
      }
      const stream = typeof body === "function"
        ? body()
        : body instanceof ReadableStream
        ? body
        : new Blob([body as Uint8Array<ArrayBuffer>]).stream();
      const algorithm = expected ? checkableAlgorithm(expected.digest, "blob upload") : "sha256";
      const d = digestingStream(algorithm);
      const hashed = stream.pipeThrough(d.stream);
      const chunk = chunkSize && Math.max(chunkSize, this.minChunkLength);
      if (chunk && chunk <= MAX_CHUNK_BUFFER) await this.#patchChunks(hashed, chunk, opts);
      else {
        const res = await this.#repo.send("PATCH", this.#location, ["push"], {
          body: hashed,
          headers: { "content-type": "application/octet-stream" },
          idempotent: false,
        }, opts);
        await this.#repo.expect(res, "PATCH", this.#location, [202, 204]);
        await discard(res);
        this.#advance(res);
      }
      const { digest, size } = await d.result;
      if (expected && digest !== expected.digest) {
        throw new DigestMismatchError(expected.digest, digest, "uploaded blob");
      }
      const url = withQuery(this.#location, "digest", digest);
      const res = await this.#repo.send("PUT", url, ["push"], {}, opts);
      await this.#repo.expect(res, "PUT", url, UPLOAD_DONE);
      await discard(res);
      this.#checkStored(res, digest);
      return { mediaType: "application/octet-stream", digest, size };
    } catch (e) {
      await this.cancel(true);
      throw e;
    }
  }

  /** A registry that says it stored another digest than the one sent (as manifest PUTs are checked). */
  #checkStored(res: Response, digest: string): void {
    const header = res.headers.get("docker-content-digest");
    if (
      header && isDigest(header) && header.split(":")[0] === digest.split(":")[0] &&
      header !== digest
    ) {
      throw new DigestMismatchError(digest, header, `blob stored in ${this.#repo}`);
    }
  }

  /**
   * Deletes the session (the spec's way to abandon an upload); errors are ignored. It runs even
   * when the operation was aborted (no signal), bounded by the transport's timeout.
   */
  async cancel(force = false): Promise<void> {
    if (this.#done && !force) return;
    this.#done = true;
    try {
      const res = await this.#repo.send("DELETE", this.#location, ["push"], {}, {
        scopes: this.#options.scopes,
      });
      await res.body?.cancel().catch(() => {});
    } catch {
      // Best effort: the registry expires abandoned sessions itself.
    }
  }

  async #patchChunks(
    stream: ReadableStream<Uint8Array>,
    chunkSize: number,
    opts: RequestOptions,
  ): Promise<void> {
    let offset = 0;
    let buf = new Uint8Array(chunkSize);
    let fill = 0;
    const flush = async () => {
      if (fill === 0) return;
      const chunk = buf.subarray(0, fill);
      const res = await this.#repo.send("PATCH", this.#location, ["push"], {
        body: chunk,
        idempotent: false,
        headers: {
          "content-type": "application/octet-stream",
          "content-range": `${offset}-${offset + fill - 1}`,
        },
      }, opts);
      await this.#repo.expect(res, "PATCH", this.#location, [202, 204]);
      await discard(res);
      this.#advance(res);
      offset += fill;
      buf = new Uint8Array(chunkSize);
      fill = 0;
    };
    for await (let piece of stream) {
      while (piece.byteLength > 0) {
        const n = Math.min(piece.byteLength, chunkSize - fill);
        buf.set(piece.subarray(0, n), fill);
        fill += n;
        piece = piece.subarray(n);
        if (fill === chunkSize) await flush();
      }
    }
    await flush();
  }

  #advance(res: Response): void {
    const loc = res.headers.get("location");
    if (loc) this.#location = new URL(loc, this.#location);
  }
}

/** A repository of a registry. Obtain from {@link RegistryClient.repository}. */
export class Repository {
  /** Registry as named in references (`docker.io`, `host:port`). */
  readonly registry: string;
  /** Repository name, e.g. `library/alpine`. */
  readonly name: string;
  readonly #auth: Authenticator;
  readonly #base: string;
  readonly #defaults: RequestOptions;

  /**
   * Use {@link RegistryClient.repository}. `defaults` apply to every call (see
   * {@link withOptions}).
   */
  constructor(auth: Authenticator, registry: string, name: string, defaults: RequestOptions = {}) {
    this.#auth = auth;
    this.registry = registry;
    this.name = name;
    this.#base = `https://${registryApiHost(registry)}/v2/${name}`;
    this.#defaults = defaults;
  }

  /**
   * The same repository with `options` applied to every call made through it (merged with each
   * call's own: signals combined, scopes joined): an operation's view, carrying its signal and
   * scope hints, that leaves the shared client untouched.
   */
  withOptions(options: RequestOptions): Repository {
    return new Repository(
      this.#auth,
      this.registry,
      this.name,
      mergeOptions(this.#defaults, options),
    );
  }

  /** The transport requests go through. */
  get transport(): Transport {
    return this.#auth.transport;
  }

  /** `registry/name`. */
  toString(): string {
    return `${this.registry}/${this.name}`;
  }

  /**
   * Fetches a manifest by tag or digest and verifies it: against the digest when asked by digest
   * (and against `expected.size` when given), else by hashing the exact bytes and checking
   * `Docker-Content-Digest`. Capped at 4 MiB.
   */
  async getManifest(
    reference: string,
    expected?: Descriptor,
    options: RequestOptions = {},
  ): Promise<FetchedManifest> {
    const url = `${this.#base}/manifests/${reference}`;
    const what = `manifest ${this}${reference.includes(":") ? "@" : ":"}${reference}`;
    // A tag holds no ":": a reference with one is a digest, which must be one this tool checks
    // (an entry's "md5:…" fetched as a tag would take whatever the registry sends).
    const byDigest = reference.includes(":") ? reference : expected?.digest;
    if (byDigest) checkableAlgorithm(byDigest, what);
    return await this.#auth.transport.retryingReads(
      `GET ${this.#auth.transport.displayUrl(url)}`,
      async () => {
        const res = await this.send("GET", url, ["pull"], {
          headers: { accept: MANIFEST_ACCEPT },
        }, options);
        await this.expect(res, "GET", url, [200]);
        const { bytes, digest } = await readVerified(res.body, {
          cap: LIMITS.manifest,
          deadlineMs: this.#auth.transport.documentDeadlineMs,
          what,
          expected: byDigest ? { digest: byDigest, size: expected?.size, what } : undefined,
        });
        const header = res.headers.get("docker-content-digest");
        if (
          !byDigest && header && isDigest(header) &&
          header.split(":")[0] === digest.split(":")[0] &&
          header !== digest
        ) {
          throw new DigestMismatchError(header, digest, what);
        }
        const parsed = parseManifest(bytes, res.headers.get("content-type") ?? undefined, what);
        return {
          descriptor: { mediaType: parsed.mediaType, digest, size: bytes.byteLength },
          bytes,
          parsed,
        };
      },
      this.#signal(options),
    );
  }

  /** `HEAD` of a manifest: its descriptor, or undefined when the registry does not have it. */
  async headManifest(
    reference: string,
    options: RequestOptions = {},
  ): Promise<Descriptor | undefined> {
    const url = `${this.#base}/manifests/${reference}`;
    const res = await this.send("HEAD", url, ["pull"], {
      headers: { accept: MANIFEST_ACCEPT },
    }, options);
    await discard(res);
    if (res.status === 404) return undefined;
    await this.expect(res, "HEAD", url, [200]);
    const digest = res.headers.get("docker-content-digest");
    const size = Number(res.headers.get("content-length") ?? -1);
    const mediaType = res.headers.get("content-type")?.split(";")[0].trim() ?? "";
    if (!digest || !isDigest(digest)) {
      if (isDigest(reference)) return { mediaType, digest: reference, size };
      throw new RegistryError({
        method: "HEAD",
        url: this.#auth.transport.displayUrl(url),
        status: res.status,
        message: `HEAD ${this.#auth.transport.displayUrl(url)}: no Docker-Content-Digest header`,
      });
    }
    return { mediaType, digest, size };
  }

  /**
   * Puts manifest `bytes` under `reference` (a tag, or its digest) with `mediaType` as
   * Content-Type, and returns its descriptor. The digest the registry reports must match.
   */
  async putManifest(
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
    options: RequestOptions = {},
  ): Promise<Descriptor> {
    const url = `${this.#base}/manifests/${reference}`;
    const res = await this.send("PUT", url, ["pull", "push"], {
      body: bytes,
      headers: { "content-type": mediaType },
    }, options);
    await this.expect(res, "PUT", url, [201, 200, 202, 204]);
    await discard(res);
    const digest = digestOf(bytes);
    const header = res.headers.get("docker-content-digest");
    if (header && isDigest(header) && header.split(":")[0] === "sha256" && header !== digest) {
      throw new DigestMismatchError(digest, header, `manifest put to ${this}:${reference}`);
    }
    if (isDigest(reference) && reference !== digest) {
      throw new DigestMismatchError(reference, digest, `manifest put to ${this}@${reference}`);
    }
    return { mediaType, digest, size: bytes.byteLength };
  }

  /** Deletes a manifest by digest (tags cannot be deleted on distribution 2.8). */
  async deleteManifest(digest: string, options: RequestOptions = {}): Promise<void> {
    const url = `${this.#base}/manifests/${digest}`;
    const res = await this.send("DELETE", url, ["delete"], {}, options);
    await this.expect(res, "DELETE", url, [202, 200, 204]);
    await discard(res);
  }

  /** `HEAD` of a blob: its size, or undefined when absent. */
  async headBlob(digest: string, options: RequestOptions = {}): Promise<Descriptor | undefined> {
    const url = `${this.#base}/blobs/${digest}`;
    const res = await this.send("HEAD", url, ["pull"], {}, options);
    await discard(res);
    if (res.status === 404) return undefined;
    await this.expect(res, "HEAD", url, [200]);
    return {
      mediaType: "application/octet-stream",
      digest,
      size: Number(res.headers.get("content-length") ?? -1),
    };
  }

  /**
   * Downloads a blob as a stream that is verified as it flows (size as soon as exceeded, digest
   * at the end). Redirects to storage are followed without credentials.
   */
  async fetchBlob(
    descriptor: { digest: string; size?: number },
    options: RequestOptions = {},
  ): Promise<ReadableStream<Uint8Array>> {
    const url = `${this.#base}/blobs/${descriptor.digest}`;
    checkableAlgorithm(descriptor.digest, `blob ${this}@${descriptor.digest}`);
    const res = await this.send("GET", url, ["pull"], {}, options);
    await this.expect(res, "GET", url, [200]);
    if (!res.body) {
      throw new RegistryError({
        method: "GET",
        url: this.#auth.transport.displayUrl(url),
        status: res.status,
        message: `GET ${this.#auth.transport.displayUrl(url)}: empty body`,
      });
    }
    return res.body.pipeThrough(verifyingStream({
      digest: descriptor.digest,
      size: descriptor.size,
      what: `blob ${this}@${descriptor.digest}`,
    }));
  }

  /**
   * Downloads a small blob (an image config) whole, verified, capped at `options.cap` bytes
   * (default 4 MiB).
   */
  async fetchBlobBytes(
    descriptor: { digest: string; size?: number },
    options: RequestOptions & { cap?: number } = {},
  ): Promise<Uint8Array> {
    const url = `${this.#base}/blobs/${descriptor.digest}`;
    const what = `blob ${this}@${descriptor.digest}`;
    checkableAlgorithm(descriptor.digest, what);
    return await this.#auth.transport.retryingReads(
      `GET ${this.#auth.transport.displayUrl(url)}`,
      async () => {
        const res = await this.send("GET", url, ["pull"], {}, options);
        await this.expect(res, "GET", url, [200]);
        const { bytes } = await readVerified(res.body, {
          cap: options.cap ?? LIMITS.config,
          deadlineMs: this.#auth.transport.documentDeadlineMs,
          expected: { digest: descriptor.digest, size: descriptor.size, what },
        });
        return bytes;
      },
      this.#signal(options),
    );
  }

  /**
   * Mounts blob `digest` from repository `from` of the same registry. Returns `undefined` when
   * mounted (201); when the registry answers 202 it opened an upload session instead (the spec's
   * "cannot mount"), which is returned for the caller to upload into or cancel.
   */
  async mountBlob(
    digest: string,
    from: string,
    options: RequestOptions = {},
  ): Promise<UploadSession | undefined> {
    const url = `${this.#base}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${
      encodeURIComponent(from)
    }`;
    const res = await this.send("POST", url, ["pull", "push"], {
      needs: [repositoryScope(from, ["pull"])],
      idempotent: true,
    }, options);
    await this.expect(res, "POST", url, [201, 202]);
    if (res.status === 201) {
      await discard(res);
      return undefined;
    }
    return this.#session(res, url, options);
  }

  /** Opens an upload session (`POST /blobs/uploads/`); it keeps `options`. */
  async startUpload(options: RequestOptions = {}): Promise<UploadSession> {
    const url = `${this.#base}/blobs/uploads/`;
    const res = await this.send("POST", url, ["pull", "push"], { idempotent: true }, options);
    await this.expect(res, "POST", url, [202]);
    return this.#session(res, url, options);
  }

  /**
   * Uploads a blob in a new session (see {@link UploadSession.upload}), on one slot of this
   * registry held from its `POST` to its `PUT` (`Transport.holdSlot`). With `prefetch`, a body
   * factory is called before the `POST`, so that a download it streams from is under way while the
   * session opens (a round trip less); that body is cancelled if nothing reads it.
   */
  async uploadBlob(
    body: RequestBody,
    expected?: { digest: string; size?: number },
    options: RequestOptions & { chunkSize?: number; prefetch?: boolean } = {},
  ): Promise<Descriptor> {
    const host = registryApiHost(this.registry);
    return await this.transport.holdSlot(host, async () => {
      const early = options.prefetch && typeof body === "function" ? earlyBody(body) : undefined;
      try {
        const session = await this.startUpload(options);
        return await session.upload(early?.factory ?? body, expected, {
          chunkSize: options.chunkSize,
        });
      } finally {
        await early?.dropUnused();
      }
    }, this.#signal(options));
  }

  /** All tags, following `Link` pagination (bounded to 10,000 pages). */
  async listTags(options: RequestOptions = {}): Promise<string[]> {
    const tags: string[] = [];
    let url: URL | undefined = new URL(`${this.#base}/tags/list`);
    for (let page = 0; url && page < 10_000; page++) {
      const res = await this.send("GET", url, ["pull"], {}, options);
      await this.expect(res, "GET", url, [200]);
      const body = await readCapped(res.body, LIMITS.manifest, "tag list", this.#deadline());
      const doc = JSON.parse(new TextDecoder().decode(body)) as { tags?: string[] | null };
      tags.push(...(doc.tags ?? []));
      url = nextPage(res.headers.get("link"), url);
    }
    return tags;
  }

  /**
   * Manifests that refer to `digest` (OCI 1.1 "Listing Referrers"): the referrers API's index,
   * every `Link` page of it (at most {@link REFERRERS_MAX_PAGES}); where the registry has no API
   * (404, 400, 405, 501, or a 200 that is not an OCI index) the tag-schema fallback, the index
   * tagged `<alg>-<hex>` (none when that tag is absent). One entry per digest; every entry is
   * checked (a
   * `ManifestFormatError` names the subject otherwise), and an entry listed without its artifact
   * type, or with the empty config's (go-containerregistry's API lists the config media type), is
   * given its manifest's, so filtering on `artifactType` (done here whether or not the registry
   * did) keeps what it should.
   */
  async referrers(
    digest: string,
    artifactType?: string,
    options: RequestOptions = {},
  ): Promise<Descriptor[]> {
    const listed = await this.#referrersApi(digest, artifactType, options) ??
      await this.#referrersTag(digest, options);
    // One entry per digest, the first kept: pages or a fallback index written by two tools may
    // repeat one.
    const seen = new Set<string>();
    const unique = listed.filter((d) => !seen.has(d.digest) && seen.add(d.digest) !== undefined);
    const typed = await Promise.all(unique.map(async (d) => {
      if (!needsArtifactType(d)) return d;
      const m = await this.getManifest(d.digest, d, options);
      const type = artifactTypeOf(m.parsed);
      return type ? { ...d, artifactType: type } : d;
    }));
    return artifactType ? typed.filter((d) => d.artifactType === artifactType) : typed;
  }

  /** The referrers API's list, all pages; `undefined` when the registry has no such API. */
  async #referrersApi(
    digest: string,
    artifactType: string | undefined,
    options: RequestOptions,
  ): Promise<Descriptor[] | undefined> {
    let url: URL | undefined = new URL(`${this.#base}/referrers/${digest}`);
    if (artifactType) url.searchParams.set("artifactType", artifactType);
    const out: Descriptor[] = [];
    const seen = new Set<string>();
    const what = `Referrers of ${this}@${digest}`;
    // A Link back to a page read already ends the list; one that goes on for ever does not.
    for (let page = 0; url && !seen.has(url.href); page++) {
      if (page === REFERRERS_MAX_PAGES) {
        throw new ManifestFormatError(`${what}: more than ${REFERRERS_MAX_PAGES} pages`);
      }
      seen.add(url.href);
      const res = await this.send(
        "GET",
        url,
        ["pull"],
        { headers: { accept: OCI_INDEX } },
        options,
      );
      if (page === 0 && noReferrersApi(res.status, res.headers.get("content-type") ?? "")) {
        await discard(res);
        return undefined;
      }
      await this.expect(res, "GET", url, [200]);
      const body = await readCapped(res.body, LIMITS.manifest, what, this.#deadline());
      out.push(...referrersPage(body, String(this), digest));
      if (out.length > MAX_REFERRERS) {
        throw new ManifestFormatError(`${what}: more than ${MAX_REFERRERS} listed`);
      }
      url = nextPage(res.headers.get("link"), url);
    }
    return out;
  }

  /** The tag-schema fallback: the entries of the index tagged `<alg>-<hex>`, none when absent. */
  async #referrersTag(digest: string, options: RequestOptions): Promise<Descriptor[]> {
    let m: FetchedManifest;
    try {
      m = await this.getManifest(digest.replace(":", "-"), undefined, options);
    } catch (e) {
      if (e instanceof RegistryError && e.status === 404) return [];
      throw e;
    }
    if (m.parsed.kind !== "index") return [];
    return m.parsed.index.manifests.map((d) => checkReferrer(d, this, digest));
  }

  /**
   * Sends a request for this repository with the scopes its actions need (plus `init.needs`),
   * and the signal and scope hints of `options` and of this view's defaults.
   */
  send(
    method: string,
    url: string | URL,
    actions: string[],
    init: {
      body?: RequestBody;
      headers?: HeadersInit;
      needs?: string[];
      idempotent?: boolean;
    },
    options: RequestOptions = {},
  ): Promise<Response> {
    const o = mergeOptions(this.#defaults, options);
    return this.#auth.fetch({
      registry: this.registry,
      method,
      url,
      headers: init.headers,
      body: init.body,
      idempotent: init.idempotent,
      scopes: [repositoryScope(this.name, actions), ...(init.needs ?? [])],
      scopeHints: o.scopes,
      signal: o.signal,
    });
  }

  /** The deadline of a document read whole (see {@link Transport.documentDeadlineMs}). */
  #deadline(): { deadlineMs: number } {
    return { deadlineMs: this.#auth.transport.documentDeadlineMs };
  }

  /** The signal a call runs under: its own combined with this view's. */
  #signal(options: RequestOptions): AbortSignal | undefined {
    return mergeOptions(this.#defaults, options).signal;
  }

  /** Throws a {@link RegistryError} built from the response unless its status is in `ok`. */
  async expect(res: Response, method: string, url: string | URL, ok: number[]): Promise<void> {
    if (ok.includes(res.status)) return;
    const body = await readCapped(res.body, LIMITS.errorBody, "error body", this.#deadline())
      .catch(() => new Uint8Array());
    let codes: RegistryErrorCode[] = [];
    try {
      const doc = JSON.parse(new TextDecoder().decode(body)) as { errors?: RegistryErrorCode[] };
      if (Array.isArray(doc.errors)) {
        // What a registry says is shown to the user: printable and short, whatever was sent.
        codes = doc.errors.filter((c) => c && typeof c.code === "string").slice(0, 10).map((c) => ({
          code: printable(c.code, 64),
          message: typeof c.message === "string" ? printable(c.message, 200) : undefined,
          detail: c.detail,
        }));
      }
    } catch {
      // Not JSON: keep the status alone.
    }
    // res.url is what was really requested (after the scheme choice); fall back to the URL asked.
    const asked = String(res.url || url);
    throw new RegistryError({
      method,
      url: redact(asked),
      status: res.status,
      codes,
      hint: errorHint(res.status, asked, codes.length > 0 ? "" : new TextDecoder().decode(body)) ??
        // A status that is no error, but not the answer this request has: say which was due.
        (res.status < 400 ? `expected ${ok.join(" or ")}` : undefined),
    });
  }

  #session(res: Response, url: string | URL, options: RequestOptions): UploadSession {
    const loc = res.headers.get("location");
    res.body?.cancel().catch(() => {});
    const shown = this.#auth.transport.displayUrl(url);
    const refuse = (why: string) =>
      new RegistryError({
        method: "POST",
        url: shown,
        status: res.status,
        message: `POST ${shown}: ${res.status} ${why}`,
      });
    if (!loc) throw refuse("without a Location header");
    // Location may be relative: resolve it against the request URL.
    let location: URL;
    try {
      location = new URL(loc, url);
    } catch {
      throw refuse(`with an upload Location that is no URL: "${printable(loc, 200)}"`);
    }
    if (location.protocol !== "http:" && location.protocol !== "https:") {
      throw refuse(`with an upload Location that is not http(s): "${printable(loc, 200)}"`);
    }
    return new UploadSession(this, location, options, {
      minChunkLength: chunkMinLength(res.headers.get("oci-chunk-min-length")),
    });
  }
}

/**
 * A body factory whose first stream is made at once (a download it reads from starts now) and
 * the next ones on demand; `dropUnused` cancels the first when nothing took it.
 */
function earlyBody(make: () => ReadableStream<Uint8Array>): {
  factory: () => ReadableStream<Uint8Array>;
  dropUnused: () => Promise<void>;
} {
  let first: ReadableStream<Uint8Array> | undefined = make();
  return {
    factory: () => {
      const s = first ?? make();
      first = undefined;
      return s;
    },
    dropUnused: async () => {
      const unused = first;
      first = undefined;
      await unused?.cancel(new Error("upload session ended before its body was read")).catch(
        () => {},
      );
    },
  };
}

/** What an error answer means for the user beyond its status and codes, when its body says. */
function errorHint(status: number, url: string, body: string): string | undefined {
  if (status === 403) return "the credentials may not access this repository";
  // Go's net/http and nginx answer plain HTTP on a TLS port with a 400 that says so.
  if (
    status === 400 && url.startsWith("http:") &&
    /HTTP request to an HTTPS server|plain HTTP request was sent to HTTPS port/i.test(body)
  ) return "the registry speaks HTTPS on this port, not plain HTTP (--plain-http)";
  return undefined;
}

/** `OCI-Chunk-Min-Length` as a number of bytes; 0 when absent or not a plain count. */
function chunkMinLength(value: string | null): number {
  return value && /^\s*\d{1,15}\s*$/.test(value) ? Number(value) : 0;
}

/** Gives up the body of a response whose headers say it all (it frees the connection's slot). */
async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => {});
}

function withQuery(url: URL, key: string, value: string): URL {
  const u = new URL(url);
  u.searchParams.set(key, value);
  return u;
}

function contentHeaders(body: RequestBody): HeadersInit {
  const h: Record<string, string> = { "content-type": "application/octet-stream" };
  if (body instanceof Uint8Array) h["content-length"] = String(body.byteLength);
  return h;
}

/**
 * `body` checked against `expected` as it is sent. A body read from a verified download of the
 * same blob ({@link Repository.fetchBlob}) is not hashed a second time: the verifying stream takes
 * the download's verdict (see `verifyingStream`), and still checks the size itself.
 */
function verifiedBody(body: RequestBody, expected: { digest: string; size?: number }): RequestBody {
  if (body instanceof Uint8Array) return body;
  const what = "uploaded blob";
  if (typeof body === "function") {
    return () => body().pipeThrough(verifyingStream({ ...expected, what }));
  }
  return body.pipeThrough(verifyingStream({ ...expected, what }));
}
