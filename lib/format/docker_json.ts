/**
 * JSON exactly as the docker CLI (28.x) writes it for `docker manifest`: Go's encoding/json on
 * distribution's and the OCI image-spec's structs. Used for what `manifest inspect` prints, for the
 * files of docker's manifest store and for the bytes `manifest push` sends, so that both tools
 * agree byte for byte (and so on digests).
 *
 * Go's rules reproduced here, on the exact text (a `JSON.parse` round trip would reorder numeric
 * keys and change escapes and numbers):
 * - strings escape `<`, `>`, `&`, U+2028 and U+2029 as `\u003c`… (HTML-safe encoding);
 * - a value that marshals itself (a manifest's canonical bytes) is compacted and HTML-escaped;
 * - `json.Indent` / `json.MarshalIndent`: one member per line, `{}` and `[]` kept empty, text after
 *   the value kept as it was;
 * - struct fields in declaration order, `omitempty` fields left out when empty, map keys sorted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dockerListJson } from "./docker_json.ts";
 * const text = dockerListJson("application/vnd.docker.distribution.manifest.list.v2+json", [{
 *   mediaType: "application/vnd.docker.distribution.manifest.v2+json",
 *   digest: "sha256:" + "a".repeat(64),
 *   size: 7,
 *   platform: { os: "linux", architecture: "amd64" },
 * }]);
 * assert.ok(text.startsWith('{\n   "schemaVersion": 2,\n   "mediaType": '));
 * assert.ok(text.endsWith("\n   ]\n}"));
 * ```
 *
 * @module
 */

import { encodeBase64 } from "../base64.ts";
import type { Descriptor, Index } from "../manifest.ts";
import { OCI_INDEX, OCI_MANIFEST } from "../media_types.ts";
import { DOCKER_LIST } from "../media_types.ts";
import type { Platform } from "../platform.ts";

/**
 * A string as Go's encoding/json writes it: `<`, `>`, `&`, U+2028 and U+2029 escaped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { goString } from "./docker_json.ts";
 * assert.equal(goString("a<b"), '"a\\u003cb"');
 * ```
 */
export function goString(s: string): string {
  return escapeHtml(JSON.stringify(s));
}

function escapeHtml(s: string): string {
  return s.replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * Go's `json.Compact` with HTML escaping, as encoding/json applies it to a Marshaler's output
 * (white space between tokens dropped, string contents kept, then HTML characters escaped).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { goCompact } from "./docker_json.ts";
 * assert.equal(goCompact('{ "a": [ 1, "x y&" ] }\n'), '{"a":[1,"x y\\u0026"]}');
 * ```
 */
export function goCompact(text: string): string {
  let out = "";
  let inString = false;
  let escaped = false;
  for (const c of text) {
    if (inString) {
      out += c;
      if (escaped) escaped = false;
      else if (c === "\\") escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === " " || c === "\t" || c === "\n" || c === "\r") continue;
    if (c === '"') inString = true;
    out += c;
  }
  return escapeHtml(out);
}

/**
 * Go's `json.Indent`: white space between tokens dropped, a new line and `indent` per level, `{}`
 * and `[]` kept empty, string contents untouched, white space after the value kept.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { goIndent } from "./docker_json.ts";
 * assert.equal(goIndent('{"a":[],"b":{"c":1}}\n', "\t"), '{\n\t"a": [],\n\t"b": {\n\t\t"c": 1\n\t}\n}\n');
 * ```
 */
export function goIndent(text: string, indent: string): string {
  const st = { out: "", depth: 0, needIndent: false, inString: false, escaped: false };
  let started = false;
  for (const c of text) {
    if (st.inString) {
      st.out += c;
      if (st.escaped) st.escaped = false;
      else if (c === "\\") st.escaped = true;
      else if (c === '"') st.inString = false;
      continue;
    }
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      // After the value: kept, as Go does.
      if (started && st.depth === 0 && !st.needIndent) st.out += c;
      continue;
    }
    started = true;
    indentToken(st, c, indent);
  }
  return st.out;
}

interface IndentState {
  out: string;
  depth: number;
  needIndent: boolean;
  inString: boolean;
}

function indentToken(st: IndentState, c: string, indent: string): void {
  const newline = (d: number) => "\n" + indent.repeat(d);
  if (st.needIndent && c !== "}" && c !== "]") {
    st.needIndent = false;
    st.depth++;
    st.out += newline(st.depth);
  }
  switch (c) {
    case "{":
    case "[":
      st.needIndent = true;
      st.out += c;
      break;
    case ",":
      st.out += c + newline(st.depth);
      break;
    case ":":
      st.out += ": ";
      break;
    case "}":
    case "]":
      if (st.needIndent) st.needIndent = false;
      else {
        st.depth--;
        st.out += newline(st.depth);
      }
      st.out += c;
      break;
    case '"':
      st.inString = true;
      st.out += c;
      break;
    default:
      st.out += c;
  }
}

/**
 * A platform in Go's field order, compact. `features: true` adds `features` (distribution's
 * PlatformSpec has it, the OCI image-spec's Platform docker uses elsewhere does not).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { platformJson } from "./docker_json.ts";
 * assert.equal(
 *   platformJson({ os: "linux", architecture: "arm", variant: "v7" }, false),
 *   '{"architecture":"arm","os":"linux","variant":"v7"}',
 * );
 * ```
 */
export function platformJson(p: Platform | undefined, features: boolean): string {
  const parts = [
    `"architecture":${goString(p?.architecture ?? "")}`,
    `"os":${goString(p?.os ?? "")}`,
  ];
  if (p?.["os.version"]) parts.push(`"os.version":${goString(p["os.version"])}`);
  if (p?.["os.features"]?.length) {
    parts.push(`"os.features":[${p["os.features"].map(goString).join(",")}]`);
  }
  if (p?.variant) parts.push(`"variant":${goString(p.variant)}`);
  if (features && p?.features?.length) {
    parts.push(`"features":[${p.features.map(goString).join(",")}]`);
  }
  return `{${parts.join(",")}}`;
}

/** A map as Go writes it: keys sorted. */
function mapJson(m: Record<string, string>): string {
  const keys = Object.keys(m).sort();
  return `{${keys.map((k) => `${goString(k)}:${goString(m[k])}`).join(",")}}`;
}

/**
 * An OCI descriptor (image-spec `Descriptor`), compact: mediaType, digest, size, urls,
 * annotations, platform, artifactType. `features` as for {@link platformJson}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ociDescriptorJson } from "./docker_json.ts";
 * assert.equal(
 *   ociDescriptorJson({ mediaType: "m", digest: "sha256:ab", size: 2 }, false),
 *   '{"mediaType":"m","digest":"sha256:ab","size":2}',
 * );
 * ```
 */
export function ociDescriptorJson(d: Descriptor, features: boolean): string {
  let s = `{"mediaType":${goString(d.mediaType)},"digest":${goString(d.digest)},"size":${d.size}`;
  if (d.urls?.length) s += `,"urls":[${d.urls.map(goString).join(",")}]`;
  if (d.annotations && Object.keys(d.annotations).length > 0) {
    s += `,"annotations":${mapJson(d.annotations)}`;
  }
  if (d.platform) s += `,"platform":${platformJson(d.platform, features)}`;
  if (d.artifactType) s += `,"artifactType":${goString(d.artifactType)}`;
  return s + "}";
}

/** An entry as docker's `types.ImageManifest` holds it. */
export interface DockerImageManifest {
  /** `Ref`: the entry's normalised reference. */
  ref: string;
  /** `Descriptor`: the manifest's descriptor with the platform the list gives it. */
  descriptor: Descriptor;
  /** `Raw`: the exact manifest bytes. */
  raw: Uint8Array;
}

/**
 * docker's `types.ImageManifest` marshalled compact: `Ref`, `Descriptor`, `Raw` (base64) and the
 * manifest as `SchemaV2Manifest` or `OCIManifest` (by media type; left out when `typed` is false,
 * as docker does for a manifest it could not decode). `features` as for {@link platformJson}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { imageManifestJson } from "./docker_json.ts";
 * const raw = new TextEncoder().encode('{ "schemaVersion": 2 }');
 * const text = imageManifestJson({
 *   ref: "r.io/a:1",
 *   descriptor: { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: "sha256:ab", size: raw.length },
 *   raw,
 * });
 * assert.ok(text.startsWith('{"Ref":"r.io/a:1","Descriptor":{"mediaType":'));
 * assert.ok(text.endsWith(',"OCIManifest":{"schemaVersion":2}}'));
 * ```
 */
export function imageManifestJson(
  e: DockerImageManifest,
  options: { typed?: boolean; features?: boolean } = {},
): string {
  let s = `{"Ref":${goString(e.ref)},"Descriptor":${
    ociDescriptorJson(e.descriptor, options.features ?? false)
  }`;
  if (e.raw.length > 0) s += `,"Raw":"${encodeBase64(e.raw)}"`;
  if (options.typed ?? true) {
    const key = e.descriptor.mediaType === OCI_MANIFEST ? "OCIManifest" : "SchemaV2Manifest";
    s += `,"${key}":${goCompact(new TextDecoder().decode(e.raw))}`;
  }
  return s + "}";
}

/**
 * The media type `docker manifest push` gives a list (distribution's `FromDescriptors`): an OCI
 * index when the first entry is an OCI manifest, else a Docker manifest list.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dockerListMediaType } from "./docker_json.ts";
 * assert.equal(
 *   dockerListMediaType([{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: "", size: 0 }]),
 *   "application/vnd.oci.image.index.v1+json",
 * );
 * ```
 */
export function dockerListMediaType(entries: Descriptor[]): string {
  return entries[0]?.mediaType === OCI_MANIFEST ? OCI_INDEX : DOCKER_LIST;
}

/**
 * A list as distribution's `manifestlist.FromDescriptorsWithMediaType` marshals it (what `docker
 * manifest push` sends, and `docker manifest inspect` prints of a list): three-space indentation,
 * no final new line; each entry mediaType, size, digest (each left out when empty) and a platform.
 */
export function dockerListJson(mediaType: string, entries: Descriptor[], indent = "   "): string {
  const items = entries.map((d) => {
    const parts = [];
    if (d.mediaType) parts.push(`"mediaType":${goString(d.mediaType)}`);
    if (d.size) parts.push(`"size":${d.size}`);
    if (d.digest) parts.push(`"digest":${goString(d.digest)}`);
    parts.push(`"platform":${platformJson(d.platform, true)}`);
    return `{${parts.join(",")}}`;
  });
  const text = `{"schemaVersion":2,"mediaType":${goString(mediaType)},"manifests":[${
    items.join(",")
  }]}`;
  return goIndent(text, indent);
}

/**
 * The bytes manifest-tool v2 pushes for an index with these entries, so that a spec pushed by
 * either tool gets one digest: Go's `json.MarshalIndent(…, "", "  ")` of distribution's
 * `manifestlist.ManifestList` for a Docker list (each entry mediaType, size, digest, platform, as
 * {@link dockerListJson}) or of image-spec's `Index` (descriptors as {@link ociDescriptorJson},
 * then the index annotations).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { manifestToolIndexJson } from "./docker_json.ts";
 * const text = manifestToolIndexJson({
 *   schemaVersion: 2,
 *   mediaType: "application/vnd.oci.image.index.v1+json",
 *   manifests: [{ mediaType: "m", digest: "sha256:ab", size: 2, platform: { os: "linux", architecture: "amd64" } }],
 * });
 * assert.ok(text.startsWith('{\n  "schemaVersion": 2,\n  "mediaType": '));
 * assert.ok(text.includes('\n      "platform": {\n        "architecture": "amd64",'));
 * ```
 */
export function manifestToolIndexJson(index: Index): string {
  if (index.mediaType !== OCI_INDEX) {
    return dockerListJson(index.mediaType ?? DOCKER_LIST, index.manifests, "  ");
  }
  let text = `{"schemaVersion":2,"mediaType":${goString(OCI_INDEX)},"manifests":[${
    index.manifests.map((d) => ociDescriptorJson(d, false)).join(",")
  }]`;
  if (index.annotations && Object.keys(index.annotations).length > 0) {
    text += `,"annotations":${mapJson(index.annotations)}`;
  }
  return goIndent(text + "}", "  ");
}

/**
 * `docker manifest inspect -v` output: the entries marshalled with tab indentation (an array for
 * a list), with a final new line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { verboseJson } from "./docker_json.ts";
 * assert.equal(verboseJson(['{"Ref":"r.io/a:1"}'], false), '{\n\t"Ref": "r.io/a:1"\n}\n');
 * ```
 */
export function verboseJson(items: string[], asList: boolean): string {
  return goIndent(asList ? `[${items.join(",")}]` : items[0], "\t") + "\n";
}

/**
 * `docker manifest inspect [-v] LIST ENTRY` of a stored entry: without `-v` the manifest as docker
 * keeps it (its compacted copy) re-indented with tabs; with `-v` the whole entry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { storedEntryView } from "./docker_json.ts";
 * const raw = new TextEncoder().encode('{ "schemaVersion": 2 }\n');
 * const e = { ref: "r.io/a:1", descriptor: { mediaType: "m", digest: "sha256:ab", size: raw.length }, raw };
 * assert.equal(storedEntryView(e, false), '{\n\t"schemaVersion": 2\n}\n');
 * ```
 */
export function storedEntryView(e: DockerImageManifest, verbose: boolean): string {
  if (verbose) return verboseJson([imageManifestJson(e)], false);
  return goIndent(goCompact(new TextDecoder().decode(e.raw)), "\t") + "\n";
}

/**
 * `docker manifest inspect [-v] LIST` of a stored list: without `-v` the list docker would build
 * of it; with `-v` every entry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { storedListView } from "./docker_json.ts";
 * assert.match(storedListView([], false), /"manifests": \[\]\n}\n$/);
 * ```
 */
export function storedListView(entries: DockerImageManifest[], verbose: boolean): string {
  if (verbose) return verboseJson(entries.map((e) => imageManifestJson(e)), true);
  const descriptors = entries.map((e) => e.descriptor);
  return dockerListJson(dockerListMediaType(descriptors), descriptors) + "\n";
}
