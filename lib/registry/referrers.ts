/**
 * The pieces of `Repository.referrers()` (OCI distribution spec 1.1, "Listing Referrers"): which
 * answers mean "no referrers API" (then the `<alg>-<hex>` tag-schema fallback), one page of the
 * API's index parsed and every entry checked (a listed digest goes into URLs), the `Link` of the
 * next page, and each entry's real `artifactType`.
 *
 * @module
 */

import { isDigest } from "../digest.ts";
import { type Descriptor, ManifestFormatError, type ParsedManifest } from "../manifest.ts";
import { isManifestMediaType, OCI_EMPTY, OCI_INDEX } from "../media_types.ts";
import { printable, redact } from "./transport.ts";

/** Pages of the referrers API followed at most (a registry's `Link` chain is its content). */
export const REFERRERS_MAX_PAGES = 1000;

/**
 * Most referrers gathered for one subject, or by one listing all levels together. An image has a
 * handful (signatures, SBOMs, attestations); a registry listing the same K referrers for every
 * digest would otherwise make K³ nodes and requests.
 */
export const MAX_REFERRERS = 1000;

/**
 * Whether a first answer of `GET /v2/<name>/referrers/<digest>` means the registry has no referrers
 * API, so the tag-schema fallback applies: 404 (the spec's "not supported"; distribution's
 * plain-text 404, go-containerregistry's `METHOD_UNKNOWN`), 400, 405, 406 and 501 (registries and
 * proxies that refuse the route or the `Accept`), or a 200 that is not an OCI index (a catch-all
 * page).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { noReferrersApi } from "./referrers.ts";
 * assert.ok(noReferrersApi(405, "text/plain"));
 * assert.ok(noReferrersApi(200, "text/html"));
 * assert.ok(!noReferrersApi(200, "application/vnd.oci.image.index.v1+json"));
 * assert.ok(!noReferrersApi(401, ""));
 * ```
 */
export function noReferrersApi(status: number, contentType: string): boolean {
  if (status === 200) return !contentType.includes(OCI_INDEX);
  return [400, 404, 405, 406, 501].includes(status);
}

/**
 * The entries of one page of a referrers list (an OCI index), each checked with
 * {@link checkReferrer}. Throws {@link ManifestFormatError} naming the subject when the page is
 * not JSON or has no `manifests` array.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { referrersPage } from "./referrers.ts";
 * const page = new TextEncoder().encode('{"schemaVersion":2,"manifests":[]}');
 * assert.deepEqual(referrersPage(page, "r/x", "sha256:" + "b".repeat(64)), []);
 * assert.throws(() => referrersPage(new TextEncoder().encode("{"), "r/x", "sha256:bb"));
 * ```
 */
export function referrersPage(bytes: Uint8Array, repo: string, subject: string): Descriptor[] {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new ManifestFormatError(`Referrers of ${repo}@${subject} are not valid JSON`, {
      cause: e,
    });
  }
  const manifests = (doc as { manifests?: unknown } | null)?.manifests;
  if (!Array.isArray(manifests)) {
    throw new ManifestFormatError(`Referrers of ${repo}@${subject} have no "manifests" array`);
  }
  return manifests.map((d) => checkReferrer(d, repo, subject));
}

/**
 * Checks one entry of a referrers list (registry content): a manifest media type, a valid digest
 * and a size. Throws {@link ManifestFormatError} naming the subject otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkReferrer } from "./referrers.ts";
 * const d = { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: "sha256:" + "a".repeat(64), size: 3 };
 * assert.equal(checkReferrer(d, "r/x", "sha256:" + "b".repeat(64)), d);
 * assert.throws(() => checkReferrer({ ...d, digest: "../x" }, "r/x", "sha256:" + "b".repeat(64)));
 * ```
 */
export function checkReferrer(
  d: unknown,
  repo: { toString(): string },
  subject: string,
): Descriptor {
  const o = (d ?? {}) as Record<string, unknown>;
  const ok = typeof o === "object" && typeof o.mediaType === "string" &&
    isManifestMediaType(o.mediaType) && typeof o.digest === "string" && isDigest(o.digest) &&
    Number.isSafeInteger(o.size) && (o.size as number) >= 0 &&
    (o.artifactType === undefined || typeof o.artifactType === "string") &&
    (o.annotations === undefined || isStringRecord(o.annotations));
  if (!ok) {
    throw new ManifestFormatError(
      `Referrers of ${repo}@${subject} list an invalid descriptor: ${
        printable(JSON.stringify(d) ?? String(d), 200)
      }`,
    );
  }
  return o as unknown as Descriptor;
}

function isStringRecord(v: unknown): boolean {
  return !!v && typeof v === "object" && !Array.isArray(v) &&
    Object.values(v).every((x) => typeof x === "string");
}

/**
 * The next page named by a `Link: <url>; rel="next"` header, resolved against the page's URL
 * (distribution sends it relative), or `undefined` on the last page; a page on another host (or
 * not over HTTP) is refused with {@link ManifestFormatError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nextPage } from "./referrers.ts";
 * const next = nextPage('</v2/x/referrers/sha256:aa?n=2&last=b>; rel="next"', new URL("http://r/v2/x/referrers/sha256:aa"));
 * assert.equal(next?.href, "http://r/v2/x/referrers/sha256:aa?n=2&last=b");
 * assert.equal(nextPage(null, new URL("http://r/")), undefined);
 * assert.throws(() => nextPage('<http://elsewhere/x>; rel="next"', new URL("http://r/v2/")));
 * ```
 */
export function nextPage(link: string | null, url: URL): URL | undefined {
  const m = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
  if (!m) return undefined;
  const next = new URL(m[1], url);
  // A page elsewhere is not the registry's list: a registry cannot send us to another host.
  if (next.host !== url.host || (next.protocol !== "https:" && next.protocol !== "http:")) {
    throw new ManifestFormatError(
      `${redact(url)}: the Link header's next page is on another host: ${redact(next)}`,
    );
  }
  return next;
}

/**
 * Whether a listed `artifactType` cannot be trusted and the manifest must be read: absent (the
 * fallback indexes some tools write), or the empty config's media type, which the spec forbids as
 * an artifact type but go-containerregistry v0.22.1's referrers API lists for every artifact with
 * the empty config (it reports the config media type, not the manifest's `artifactType`).
 */
export function needsArtifactType(d: Descriptor): boolean {
  return !d.artifactType || d.artifactType === OCI_EMPTY;
}

/**
 * A referrer's artifact type read from its manifest (image-spec: its `artifactType`, else its
 * config media type; an index's `artifactType`, else none).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { artifactTypeOf } from "./referrers.ts";
 * const config = { mediaType: "application/vnd.oci.empty.v1+json", digest: "sha256:aa", size: 2 };
 * const manifest = { schemaVersion: 2, config, layers: [], artifactType: "application/spdx+json" };
 * assert.equal(artifactTypeOf({ kind: "image", mediaType: "x", manifest } as never), "application/spdx+json");
 * ```
 */
export function artifactTypeOf(parsed: ParsedManifest): string | undefined {
  return parsed.kind === "image"
    ? parsed.manifest.artifactType || parsed.manifest.config.mediaType
    : parsed.index.artifactType || undefined;
}
