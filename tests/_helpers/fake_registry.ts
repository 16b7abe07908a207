/**
 * An in-memory stand-in for `RegistryClient` / `Repository`, for unit tests of the push engine's
 * logic (request counts, failure isolation, ordering) that need no HTTP. Integration tests use the
 * harness's real registries.
 */
import { digestOf } from "../../lib/digest.ts";
import { NotFoundError, RegistryError } from "../../lib/errors.ts";
import { type Descriptor, parseManifest } from "../../lib/manifest.ts";
import type { FetchedManifest, RegistryClient, Repository } from "../../lib/registry/client.ts";
import { SILENT } from "../../lib/registry/transport.ts";

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

/** Every call made, as `method registry/repo reference`. */
export type CallLog = string[];

/** One fake registry host holding repositories of manifests (by tag and digest) and blobs. */
export class FakeRegistries {
  readonly calls: CallLog = [];
  readonly manifests = new Map<string, Uint8Array>(); // "reg/repo@ref" -> bytes
  readonly blobs = new Map<string, Uint8Array>(); // "reg/repo@digest" -> bytes
  /** Called before each call; throw to inject a fault. */
  fault?: (call: string) => void;

  /** Puts a blob into `repo`, returns its descriptor. */
  blob(repo: string, bytes: Uint8Array, mediaType: string): Descriptor {
    const digest = digestOf(bytes);
    this.blobs.set(`${repo}@${digest}`, bytes);
    return { mediaType, digest, size: bytes.byteLength };
  }

  /** Puts an image (config with `platform`, one layer shared by name `base`) under `repo:tag`. */
  image(
    repo: string,
    tag: string,
    config: Record<string, unknown>,
    base = "base",
  ): Descriptor {
    const cfg = this.blob(repo, enc(config), "application/vnd.oci.image.config.v1+json");
    const layer = this.blob(
      repo,
      new TextEncoder().encode(base),
      "application/vnd.oci.image.layer.v1.tar",
    );
    const bytes = enc({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: cfg, layers: [layer] });
    return this.manifest(repo, tag, bytes);
  }

  /** Puts manifest bytes under `repo:tag` and `repo@digest`. */
  manifest(repo: string, tag: string, bytes: Uint8Array): Descriptor {
    const digest = digestOf(bytes);
    this.manifests.set(`${repo}@${tag}`, bytes);
    this.manifests.set(`${repo}@${digest}`, bytes);
    return { mediaType: parseManifest(bytes).mediaType, digest, size: bytes.byteLength };
  }

  /** A client whose repositories are these. */
  client(): RegistryClient {
    return {
      logger: SILENT,
      auth: { addScopes() {} },
      // Nothing to connect to: the engine's connection for request bodies opens nowhere.
      transport: {
        openBodyLane: () => Promise.resolve(),
        whileWaiting() {},
      },
      warmUp: () => Promise.resolve(),
      repository: (registry: string, name: string) => this.#repo(registry, name),
    } as unknown as RegistryClient;
  }

  #repo(registry: string, name: string): Repository {
    return fakeRepository(this, registry, name);
  }

  /** Calls whose text matches `re`. */
  count(re: RegExp): number {
    return this.calls.filter((c) => re.test(c)).length;
  }
}

function fakeRepository(self: FakeRegistries, registry: string, name: string): Repository {
  const key = `${registry}/${name}`;
  const log = (m: string, ref: string) => {
    const call = `${m} ${key} ${ref}`;
    self.calls.push(call);
    self.fault?.(call);
  };
  const missing = (ref: string) =>
    new RegistryError({ method: "GET", url: `http://${key}/${ref}`, status: 404 });
  const repo = {
    registry,
    name,
    toString: () => key,
    withOptions: () => repo,
    getManifest(ref: string): Promise<FetchedManifest> {
      log("getManifest", ref);
      const bytes = self.manifests.get(`${key}@${ref}`);
      if (!bytes) return Promise.reject(missing(ref));
      const parsed = parseManifest(bytes);
      return Promise.resolve({
        descriptor: { mediaType: parsed.mediaType, digest: digestOf(bytes), size: bytes.length },
        bytes,
        parsed,
      });
    },
    headManifest(ref: string) {
      log("headManifest", ref);
      const bytes = self.manifests.get(`${key}@${ref}`);
      return Promise.resolve(
        bytes ? { mediaType: "", digest: digestOf(bytes), size: bytes.length } : undefined,
      );
    },
    putManifest(ref: string, bytes: Uint8Array, mediaType: string) {
      log("putManifest", ref);
      self.manifests.set(`${key}@${ref}`, bytes);
      self.manifests.set(`${key}@${digestOf(bytes)}`, bytes);
      return Promise.resolve({ mediaType, digest: digestOf(bytes), size: bytes.length });
    },
    fetchBlobBytes(d: { digest: string }) {
      log("fetchBlobBytes", d.digest);
      const b = self.blobs.get(`${key}@${d.digest}`);
      return b ? Promise.resolve(b) : Promise.reject(missing(d.digest));
    },
    fetchBlob(d: { digest: string }) {
      log("fetchBlob", d.digest);
      const b = self.blobs.get(`${key}@${d.digest}`);
      return b
        ? Promise.resolve(new Blob([b as Uint8Array<ArrayBuffer>]).stream())
        : Promise.reject(missing(d.digest));
    },
    headBlob(digest: string) {
      log("headBlob", digest);
      return Promise.resolve(
        self.blobs.has(`${key}@${digest}`) ? { mediaType: "", digest, size: 0 } : undefined,
      );
    },
    mountBlob(digest: string, from: string) {
      log("mountBlob", digest);
      const b = self.blobs.get(`${registry}/${from}@${digest}`);
      if (!b) return Promise.reject(new NotFoundError(from, "no such blob to mount"));
      self.blobs.set(`${key}@${digest}`, b);
      return Promise.resolve(undefined);
    },
    async uploadBlob(body: () => ReadableStream<Uint8Array>, expected: { digest: string }) {
      log("uploadBlob", expected.digest);
      const bytes = new Uint8Array(await new Response(body()).arrayBuffer());
      self.blobs.set(`${key}@${expected.digest}`, bytes);
      return { mediaType: "", digest: expected.digest, size: bytes.length };
    },
  };
  return repo as unknown as Repository;
}
