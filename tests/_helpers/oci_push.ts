/**
 * Raw pushes for tests that need content the fixtures do not make (artifacts with a `subject`,
 * hostile platform strings): exact bytes sent through the distribution API of a plain-HTTP
 * registry without auth, independently of the library under test.
 */
import { createHash } from "node:crypto";

/** `sha256:<hex>` of `bytes`. */
export const sha256 = (b: Uint8Array): string =>
  "sha256:" + createHash("sha256").update(b).digest("hex");

const enc = new TextEncoder();

/**
 * The `Authorization` every helper request carries (a Bearer token with every scope a test needs,
 * for a token registry); undefined for registries without auth. Tests in one file run in turn.
 */
let authorization: string | undefined;

/** Sets (or clears) the `Authorization` of the helpers' requests. */
export function useAuthorization(value: string | undefined): void {
  authorization = value;
}

function send(url: string | URL, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (authorization) headers.set("authorization", authorization);
  return fetch(url, { ...init, headers });
}

/** A token from a harness token server granting `scopes` to its user. */
export async function bearer(
  ts: { realm: string; service: string },
  user: string,
  password: string,
  scopes: string[],
): Promise<string> {
  const u = new URL(ts.realm);
  u.searchParams.set("service", ts.service);
  for (const sc of scopes) u.searchParams.append("scope", sc);
  const res = await fetch(u, {
    headers: { authorization: "Basic " + btoa(`${user}:${password}`) },
  });
  if (!res.ok) throw new Error(`token: ${res.status} ${await res.text()}`);
  const doc = await res.json();
  return `Bearer ${doc.token ?? doc.access_token}`;
}

/** A descriptor as the tests write them. */
export interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: Record<string, unknown>;
}

/** Uploads `bytes` as a blob of `repo` (POST then monolithic PUT) and returns its descriptor. */
export async function pushBlob(
  base: string,
  repo: string,
  bytes: Uint8Array,
  mediaType = "application/octet-stream",
): Promise<Desc> {
  const digest = sha256(bytes);
  const post = await send(`${base}/v2/${repo}/blobs/uploads/`, { method: "POST" });
  await post.body?.cancel();
  if (post.status !== 202) throw new Error(`POST upload ${repo}: ${post.status}`);
  const loc = new URL(post.headers.get("location")!, `${base}/v2/${repo}/blobs/uploads/`);
  loc.searchParams.set("digest", digest);
  const put = await send(loc, {
    method: "PUT",
    body: bytes as Uint8Array<ArrayBuffer>,
    headers: { "content-type": "application/octet-stream" },
  });
  const text = await put.text();
  if (put.status !== 201) throw new Error(`PUT blob ${repo}: ${put.status} ${text}`);
  return { mediaType, digest, size: bytes.byteLength };
}

/** Puts `doc` (serialised as is) as a manifest of `repo` under `ref`; returns its descriptor. */
export async function putManifest(
  base: string,
  repo: string,
  ref: string | undefined,
  doc: Record<string, unknown>,
): Promise<Desc & { bytes: Uint8Array }> {
  const bytes = enc.encode(JSON.stringify(doc));
  const digest = sha256(bytes);
  const mediaType = doc.mediaType as string;
  const res = await send(`${base}/v2/${repo}/manifests/${ref ?? digest}`, {
    method: "PUT",
    body: bytes,
    headers: { "content-type": mediaType },
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`PUT manifest ${repo}:${ref}: ${res.status} ${text}`);
  return { mediaType, digest, size: bytes.byteLength, bytes };
}

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const EMPTY = "application/vnd.oci.empty.v1+json";

/**
 * Attaches an artifact of `artifactType` to `subject` in `repo` as the OCI 1.1 spec describes for
 * a registry without the referrers API when `fallback` is set: the manifest with `subject`, then
 * the `<alg>-<hex>` tag's index read, extended and written back. Returns the artifact's descriptor
 * as a referrers list names it.
 */
export async function attach(
  base: string,
  repo: string,
  subject: Desc,
  artifactType: string,
  options: { content?: string; created?: string; fallback?: boolean } = {},
): Promise<Desc> {
  const config = await pushBlob(base, repo, enc.encode("{}"), EMPTY);
  const layer = await pushBlob(
    base,
    repo,
    enc.encode(options.content ?? `${artifactType} of ${subject.digest}`),
    "application/octet-stream",
  );
  const annotations = options.created
    ? { "org.opencontainers.image.created": options.created }
    : undefined;
  const m = await putManifest(base, repo, undefined, {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType,
    config,
    layers: [layer],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    ...(annotations ? { annotations } : {}),
  });
  const desc: Desc = {
    mediaType: OCI_MANIFEST,
    digest: m.digest,
    size: m.size,
    artifactType,
    ...(annotations ? { annotations } : {}),
  };
  if (options.fallback) {
    const tag = subject.digest.replace(":", "-");
    const existing = await fallbackIndex(base, repo, subject.digest);
    await putManifest(base, repo, tag, {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [...(existing?.manifests ?? []), desc],
    });
  }
  return desc;
}

/** The tag-schema fallback index of `digest` in `repo`, or undefined when there is none. */
export async function fallbackIndex(
  base: string,
  repo: string,
  digest: string,
): Promise<{ manifests: Desc[] } | undefined> {
  const res = await send(`${base}/v2/${repo}/manifests/${digest.replace(":", "-")}`, {
    headers: { accept: OCI_INDEX },
  });
  if (res.status === 404) {
    await res.body?.cancel();
    return undefined;
  }
  if (!res.ok) throw new Error(`GET fallback ${repo}: ${res.status} ${await res.text()}`);
  return await res.json();
}

/** The referrers API's answer for `digest` in `repo` (undefined on 404, as distribution gives). */
export async function referrersApi(
  base: string,
  repo: string,
  digest: string,
): Promise<{ manifests: Desc[] } | undefined> {
  const res = await send(`${base}/v2/${repo}/referrers/${digest}`, {
    headers: { accept: OCI_INDEX },
  });
  if (res.status === 404) {
    await res.body?.cancel();
    return undefined;
  }
  if (!res.ok) throw new Error(`GET referrers ${repo}: ${res.status} ${await res.text()}`);
  return await res.json();
}
