/**
 * manifest-tool v2's human-readable inspect view, as a pure function of an inspect result:
 * name and media type, digest, `* Contains N manifest references (I images, A attestations):`, then
 * per entry its type, digest, length, platform and layers; attestations name the digest they
 * attest; nested indexes are shown as such (and counted as indexes). A single image shows digest,
 * size, OS/Arch (variant and os.version when set), or for an artifact its artifact type, and its
 * layers. With referrers inspected, each manifest's referrers (and
 * theirs, indented) follow it, or `none`.
 *
 * @module
 */

import { entryName, type Inspected, type InspectedImage, type InspectedIndex } from "../inspect.ts";
import { type Descriptor, isAttestation, REFERENCE_DIGEST_ANNOTATION } from "../manifest.ts";
import type { Referrer } from "../referrers_list.ts";
import {
  DOCKER_CONFIG,
  isIndexMediaType,
  isManifestMediaType,
  OCI_CONFIG,
} from "../media_types.ts";
import { type Colors, PLAIN } from "./colors.ts";
import { esc } from "./escape.ts";

/**
 * Renders an inspect result for people.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatHuman } from "./human.ts";
 * import type { Inspected } from "../inspect.ts";
 * const result: Inspected = {
 *   kind: "image",
 *   descriptor: { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: "sha256:aa", size: 400 },
 *   manifest: {
 *     schemaVersion: 2,
 *     config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: "sha256:cc", size: 40 },
 *     layers: [],
 *   },
 *   bytes: new Uint8Array(400),
 *   config: { os: "linux", architecture: "arm", variant: "v7" },
 * };
 * assert(formatHuman("r.example/app:1", result).includes("     Variant: v7\n"));
 * ```
 */
export function formatHuman(name: string, result: Inspected, colors: Colors = PLAIN): string {
  // Every value shown goes through a colour function: escaping there covers each one.
  const c = escaping(colors);
  return result.kind === "index" ? formatIndex(name, result, c) : formatImage(name, result, c);
}

/** The colours, each escaping registry text (control characters, bidi) before colouring it. */
function escaping(colors: Colors): Colors {
  return {
    green: (s) => colors.green(esc(s)),
    yellow: (s) => colors.yellow(esc(s)),
    red: (s) => colors.red(esc(s)),
    blue: (s) => colors.blue(esc(s)),
  };
}

/**
 * `shown`: the nested indexes this view printed already. One listed again is named, not printed
 * again: an index naming one nested index N times, which names N images, is N lines, not N².
 */
function formatIndex(
  name: string,
  r: InspectedIndex,
  c: Colors,
  indent = "",
  shown = new Set<string>(),
): string {
  shown.add(r.descriptor.digest);
  const lines: string[] = [];
  lines.push(`${indent}Name:   ${c.green(name)} (Type: ${c.green(r.descriptor.mediaType)})`);
  lines.push(`${indent}Digest: ${c.yellow(r.descriptor.digest)}`);
  lines.push(...referrerLines(`${indent} * Referrers`, `${indent}   `, r.referrers, c));
  lines.push(`${indent} * Contains ${containsLine(r.index.manifests, c)}:`);
  const entries = r.index.manifests;
  entries.forEach((d, i) => {
    const n = `${indent}[${i + 1}]`;
    const att = isAttestation(d) ? " (vnd.docker.reference.type=attestation-manifest)" : "";
    lines.push(`${n}     Type: ${c.green(d.mediaType)}${c.green(att)}`);
    lines.push(`${n}   Digest: ${c.yellow(d.digest)}`);
    lines.push(`${n}   Length: ${c.blue(d.size)}`);
    const child = r.children[i];
    if (att) {
      lines.push(
        `${n}       >>> Attestation for digest: ${
          c.yellow(d.annotations?.[REFERENCE_DIGEST_ANNOTATION] ?? "unknown")
        }`,
      );
      lines.push("");
      return;
    }
    lines.push(...platformLines(n, d, child, c));
    if (child?.kind === "image") {
      const layers = child.manifest.layers;
      lines.push(`${n} # Layers: ${c.red(layers.length)}`);
      layers.forEach((l, j) => {
        lines.push(
          `${indent}     layer ${c.red(String(j + 1).padStart(2, "0"))}: digest = ${
            c.yellow(l.digest)
          }`,
        );
        lines.push(`${indent}                 type = ${c.green(l.mediaType)}`);
      });
    } else if (child?.kind === "index" && shown.has(d.digest)) {
      lines.push(`${n} Nested index: shown above (${c.yellow(d.digest)})`);
    } else if (child?.kind === "index") {
      lines.push(`${n} Nested index:`);
      lines.push(
        formatIndex(entryName(name, d.digest), child, c, indent + "    ", shown).replace(
          /\n$/,
          "",
        ),
      );
    } else if (isManifestMediaType(d.mediaType)) {
      // Known type, not fetched: an index nested deeper than inspect follows.
      lines.push(`${n} (not fetched: nested too deep)`);
    } else {
      lines.push(`${indent}Unknown media type for further display: ${esc(d.mediaType)}`);
    }
    lines.push(...referrerLines(`${n} Referrers`, `${indent}     `, child?.referrers, c));
    lines.push("");
  });
  return lines.join("\n") + "\n";
}

/** An entry's `Platform:` block; without one, what the entry is (an artifact's type). */
function platformLines(
  n: string,
  d: Descriptor,
  child: Inspected | undefined,
  c: Colors,
): string[] {
  const p = d.platform;
  if (!p) {
    if (child?.kind !== "image") return [];
    // An artifact has no platform: say what it is rather than print empty OS and Arch lines.
    // An image the index gives no platform is said to be one.
    const type = artifactTypeOf(child, d);
    return [
      type === OCI_CONFIG || type === DOCKER_CONFIG
        ? `${n} Platform: none given by the index`
        : `${n} ArtifactType: ${c.green(type)}`,
    ];
  }
  const lines = [`${n} Platform:`, `${n}    -      OS: ${c.green(p.os)}`];
  if (p["os.version"]) lines.push(`${n}    - OS Vers: ${c.green(p["os.version"])}`);
  if (p["os.features"]?.length) {
    lines.push(`${n}    - OS Feat: ${c.green(`[${p["os.features"].join(" ")}]`)}`);
  }
  lines.push(`${n}    -    Arch: ${c.green(p.architecture)}`);
  if (p.variant) lines.push(`${n}    - Variant: ${c.green(p.variant)}`);
  if (p.features?.length) lines.push(`${n}    - Feature: ${c.green(p.features.join(","))}`);
  return lines;
}

function formatImage(name: string, r: InspectedImage, c: Colors): string {
  const cfg = r.config ?? {};
  const lines: string[] = [];
  lines.push(`Name: ${c.green(name)} (Type: ${c.green(r.descriptor.mediaType)})`);
  lines.push(`      Digest: ${c.yellow(r.descriptor.digest)}`);
  lines.push(`        Size: ${c.blue(r.descriptor.size)}`);
  if (r.manifest.artifactType || (!cfg.os && !cfg.architecture)) {
    // An artifact (no platform in its config, or no image config at all): its type, not empty
    // OS and Arch lines.
    lines.push(`ArtifactType: ${c.green(artifactTypeOf(r))}`);
  }
  if (cfg.os || cfg.architecture) {
    lines.push(`          OS: ${c.green(cfg.os ?? "")}`);
    if (cfg["os.version"]) lines.push(`     OS Vers: ${c.green(cfg["os.version"])}`);
    lines.push(`        Arch: ${c.green(cfg.architecture ?? "")}`);
    if (cfg.variant) lines.push(`     Variant: ${c.green(cfg.variant)}`);
  }
  lines.push(`    # Layers: ${c.red(r.manifest.layers.length)}`);
  r.manifest.layers.forEach((l, i) => {
    lines.push(
      `      layer ${c.red(String(i + 1).padStart(2, "0"))}: digest = ${c.yellow(l.digest)}`,
    );
    lines.push(`                  type = ${c.green(l.mediaType)}`);
  });
  lines.push(...referrerLines("   Referrers", "      ", r.referrers, c));
  return lines.join("\n") + "\n";
}

/**
 * `N manifest references (I images, X indexes, A attestations)`: a nested index is counted as an
 * index, not an image (the `indexes` count appears only when there is one, as manifest-tool
 * prints the common case).
 */
function containsLine(entries: readonly Descriptor[], c: Colors): string {
  const attestations = entries.filter(isAttestation).length;
  const indexes = entries.filter((d) => !isAttestation(d) && isIndexMediaType(d.mediaType)).length;
  const images = entries.length - attestations - indexes;
  // manifest-tool v2's words: the plural only above one ("0 attestation", "1 image", "2 images").
  const count = (n: number, one: string, many: string) => `${c.red(n)} ${n > 1 ? many : one}`;
  const parts = [count(images, "image", "images")];
  if (indexes) parts.push(count(indexes, "index", "indexes"));
  parts.push(count(attestations, "attestation", "attestations"));
  return `${c.red(entries.length)} manifest references (${parts.join(", ")})`;
}

/** An image's artifact type: its descriptor's or manifest's `artifactType`, else config type. */
function artifactTypeOf(r: InspectedImage, d?: Descriptor): string {
  return d?.artifactType || r.manifest.artifactType || r.manifest.config.mediaType;
}

/**
 * The referrers of one manifest (when asked for): `<label>: none`, or `<label> (N):` and one line
 * per referrer — artifact type, digest, size, creation time — those referring to it indented below.
 */
function referrerLines(
  label: string,
  pad: string,
  list: Referrer[] | undefined,
  c: Colors,
): string[] {
  if (!list) return [];
  if (list.length === 0) return [`${label}: none`];
  const lines = [`${label} (${c.red(list.length)}):`];
  const walk = (nodes: Referrer[], p: string) => {
    for (const x of nodes) {
      const created = x.created ? `, created ${c.green(x.created)}` : "";
      lines.push(
        `${p}- ${c.green(x.artifactType || "unknown")} ${c.yellow(x.descriptor.digest)} (${
          c.blue(x.descriptor.size)
        } bytes${created})`,
      );
      walk(x.referrers, p + "  ");
    }
  };
  walk(list, pad);
  return lines;
}
