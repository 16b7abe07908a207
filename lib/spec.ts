/**
 * The push spec: manifest-tool's YAML (`image`, `tags`, `annotations`, `manifests: [{image,
 * platform: {architecture, os, variant, osversion, osfeatures, features}}]`), read strictly. Every
 * error names the file, line and column: YAML syntax, unknown keys (a typo is not silently
 * ignored), duplicate keys, wrong types, missing fields. `os.version`/`os.features` (OCI
 * spellings) are accepted beside manifest-tool's `osversion`/`osfeatures`.
 *
 * Hostile input stays cheap: aliases are resolved through one table built in a single pass, the
 * nodes visited through aliases are counted against a budget proportional to the document (an
 * alias bomb fails at the alias that passes it), and duplicate keys are found with a set rather
 * than the yaml package's pairwise check, which is quadratic in the size of a mapping.
 *
 * @module
 */

import process from "node:process";
import {
  type Alias,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit,
} from "yaml";
import { readCapped } from "./content.ts";
import { SizeMismatchError, SpecError } from "./errors.ts";
import type { Platform } from "./platform.ts";
import type { PushSource, PushSpec } from "./push.ts";

/** Largest spec file read, in bytes. */
export const MAX_SPEC_BYTES = 1024 * 1024;

// Nodes that may be visited through aliases beyond the document's own: plenty for anchors shared
// between entries, far too few for an alias bomb.
const ALIAS_ALLOWANCE = 10_000;

const PLATFORM_KEYS: Record<string, keyof Platform> = {
  architecture: "architecture",
  os: "os",
  variant: "variant",
  osversion: "os.version",
  "os.version": "os.version",
  osfeatures: "os.features",
  "os.features": "os.features",
  features: "features",
};

type Located = { range?: [number, number, number] | null } | null | undefined;

/**
 * Parses a push spec from YAML text; `file` names it in errors. Throws a {@link SpecError}
 * located at `file:line:column` for any problem.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSpec } from "./spec.ts";
 * const spec = parseSpec(`image: r.example/app:1
 * tags: [1.0]
 * manifests:
 *   - image: r.example/app:1-amd64
 *     platform: {os: linux, architecture: amd64}
 * `, "spec.yaml");
 * assert.equal(spec.manifests[0].platform?.architecture, "amd64");
 * assert.deepEqual(spec.tags, ["1.0"]);
 * ```
 */
export function parseSpec(text: string, file: string): PushSpec {
  try {
    return parse(text, file);
  } catch (e) {
    // Deep nesting overflows the yaml package's recursive parser or its visitor.
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new SpecError("the YAML is nested too deeply", file, 1, 1, { cause: e });
    }
    throw e;
  }
}

function parse(text: string, file: string): PushSpec {
  const lc = new LineCounter();
  const doc = quietly(() =>
    parseDocument(text, {
      lineCounter: lc,
      // Checked below with a set: the package compares every pair of keys.
      uniqueKeys: false,
      prettyErrors: false,
      strict: true,
    })
  );
  const fail = (msg: string, node?: Located): never => {
    const pos = node?.range ? lc.linePos(node.range[0]) : { line: 1, col: 1 };
    throw new SpecError(msg, file, pos.line, pos.col);
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = e.linePos?.[0] ?? (e.pos ? lc.linePos(e.pos[0]) : undefined);
    const message = e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    if (/call stack/i.test(message)) {
      throw new SpecError("the YAML is nested too deeply", file, 1, 1);
    }
    throw new SpecError(`invalid YAML: ${message}`, file, pos?.line ?? 1, pos?.col ?? 1);
  }

  // One pass in document order: an alias names the closest anchor before it (YAML 1.2 §3.2.2.2).
  // The package's own Alias.resolve walks the whole document for every alias.
  const targets = new Map<Alias, Node | undefined>();
  const anchors = new Map<string, Node>();
  let nodes = 0;
  visit(doc, {
    Node(_key, node) {
      nodes++;
      if (isAlias(node)) targets.set(node, anchors.get(node.source));
      else if (node.anchor) anchors.set(node.anchor, node);
    },
  });
  const budget = 2 * nodes + ALIAS_ALLOWANCE;
  let visited = 0;
  const deref = (n: unknown): Node | null => {
    visited++;
    if (!isAlias(n)) return (n ?? null) as Node | null;
    if (visited > budget) {
      fail(`aliases expand the spec to more than ${budget} nodes`, n);
    }
    const target = targets.get(n);
    if (!target) return fail(`unknown alias "*${n.source}"`, n);
    return target;
  };

  const root = deref(doc.contents);
  if (!root || (isScalar(root) && (root.value === null || root.value === ""))) {
    // No position: there is no line to point at.
    throw new SpecError("the spec is empty", file);
  }
  if (!isMap(root)) return fail("the spec must be a mapping with image and manifests", root);

  // `near` locates a missing value (`{image}`, `? image`): the key it belongs to.
  const str = (n: unknown, what: string, near?: unknown): string => {
    const node = deref(n);
    if (!isScalar(node) || node.value === null || typeof node.value === "object") {
      return fail(`${what} must be a string`, node?.range ? node : deref(near));
    }
    // A plain scalar keeps its text: `1.0` is the tag "1.0", not the number 1.
    const v = typeof node.value === "string" ? node.value : node.source ?? String(node.value);
    if (typeof v !== "string" || v === "") return fail(`${what} must not be empty`, node);
    return v;
  };
  const strList = (n: unknown, what: string, near?: unknown): string[] => {
    const node = deref(n);
    if (isScalar(node) && node.value !== null && typeof node.value !== "object") {
      return [str(node, what)];
    }
    if (!isSeq(node)) {
      return fail(`${what} must be a list of strings`, node?.range ? node : deref(near));
    }
    return node.items.map((item, i) => str(item, `${what}[${i}]`));
  };
  // The pairs of a mapping with their keys, failing at the second of two equal keys.
  function* pairsOf(
    map: { items: { key: unknown; value: unknown }[] },
    keyOf: (pair: { key: unknown }) => string,
  ): Generator<{ key: string; pair: { key: unknown; value: unknown } }> {
    const seen = new Set<string>();
    for (const pair of map.items) {
      const key = keyOf(pair);
      if (seen.has(key)) fail(`duplicate key "${key}"`, deref(pair.key));
      seen.add(key);
      yield { key, pair };
    }
  }
  const keyOf = (pair: { key: unknown }): string => {
    const k = deref(pair.key);
    if (!isScalar(k) || typeof k.value !== "string") return fail("keys must be strings", k);
    return k.value;
  };
  const strMap = (n: unknown, what: string, near?: unknown): Record<string, string> => {
    const node = deref(n);
    if (!isMap(node)) {
      return fail(`${what} must be a mapping of strings`, node?.range ? node : deref(near));
    }
    const entries: [string, string][] = [];
    for (const { key, pair } of pairsOf(node, (p) => str(p.key, `${what} key`))) {
      entries.push([key, str(pair.value, `${what}["${key}"]`, pair.key)]);
    }
    // fromEntries defines own properties: a key "__proto__" is kept, not taken for the setter.
    return Object.fromEntries(entries);
  };

  const spec: PushSpec = { image: "", manifests: [] };
  let manifestsAt: Node | null = null;
  for (const { key, pair } of pairsOf(root, keyOf)) {
    switch (key) {
      case "image":
        spec.image = str(pair.value, "image", pair.key);
        break;
      case "tags":
        spec.tags = strList(pair.value, "tags", pair.key);
        break;
      case "annotations":
        spec.annotations = strMap(pair.value, "annotations", pair.key);
        break;
      case "manifests": {
        const seq = deref(pair.value);
        if (!isSeq(seq)) fail("manifests must be a list", seq?.range ? seq : deref(pair.key));
        manifestsAt = seq;
        spec.manifests = (seq as { items: unknown[] }).items.map((item, i) => parseEntry(item, i));
        break;
      }
      default:
        fail(
          `unknown key "${key}": expected image, tags, annotations or manifests`,
          deref(pair.key),
        );
    }
  }
  if (!spec.image) fail('missing key "image" (the target reference)', root);
  if (!manifestsAt) fail('missing key "manifests" (the source images)', root);
  if (spec.manifests.length === 0) fail("manifests is empty: list the source images", manifestsAt);
  return spec;

  function parseEntry(item: unknown, i: number): PushSource {
    const node = deref(item);
    if (!isMap(node)) {
      return fail(`manifests[${i}] must be a mapping with image and platform`, node);
    }
    const entry: PushSource = { image: "" };
    for (const { key, pair } of pairsOf(node, keyOf)) {
      if (key === "image") entry.image = str(pair.value, `manifests[${i}].image`, pair.key);
      else if (key === "platform") entry.platform = parsePlatform(pair.value, i, pair.key);
      else {
        fail(
          `unknown key "${key}" in manifests[${i}]: expected image or platform`,
          deref(pair.key),
        );
      }
    }
    if (!entry.image) fail(`manifests[${i}] has no image`, node);
    return entry;
  }

  function parsePlatform(n: unknown, i: number, near: unknown): Partial<Platform> {
    const node = deref(n);
    if (!node || (isScalar(node) && node.value === null)) return {};
    if (!isMap(node)) {
      return fail(`manifests[${i}].platform must be a mapping`, node.range ? node : deref(near));
    }
    const p: Partial<Platform> = {};
    const spelled = new Map<string, string>();
    for (const { key, pair } of pairsOf(node, keyOf)) {
      const field = PLATFORM_KEYS[key];
      if (!field) {
        fail(
          `unknown key "${key}" in manifests[${i}].platform: expected architecture, os, variant, osversion, osfeatures or features`,
          deref(pair.key),
        );
      }
      // osversion and os.version are one field: both given is a duplicate, not an override.
      const before = spelled.get(field);
      if (before !== undefined) {
        fail(`duplicate key "${key}": same field as "${before}"`, deref(pair.key));
      }
      spelled.set(field, key);
      const what = `manifests[${i}].platform.${key}`;
      if (field === "os.features" || field === "features") {
        p[field] = strList(pair.value, what, pair.key);
      } else p[field] = str(pair.value, what, pair.key);
    }
    return p;
  }
}

/**
 * Runs `fn` with an empty `process.env`. The yaml package reads `LOG_TOKENS` and `LOG_STREAM`
 * for every token and, when set, prints debug output: a library must not print, and under Deno
 * without `--allow-env` each read prompts or throws `NotCapable`. `fn` is synchronous, so no other
 * code runs while the swap is in place.
 */
function quietly<T>(fn: () => T): T {
  const env = process.env;
  try {
    process.env = {};
  } catch {
    return fn();
  }
  try {
    return fn();
  } finally {
    process.env = env;
  }
}

/**
 * Reads and parses a spec file. At most {@link MAX_SPEC_BYTES} are read, whatever the file is (a
 * pipe or `/dev/zero` reports no size); unreadable, oversized or non-UTF-8 files are a
 * {@link SpecError} naming the file.
 *
 * @example
 * ```ts ignore
 * import { readSpecFile } from "./spec.ts";
 * const spec = await readSpecFile("push.yaml");
 * ```
 */
export async function readSpecFile(file: string): Promise<PushSpec> {
  let bytes: Uint8Array;
  try {
    const info = await Deno.stat(file);
    if (info.isDirectory) throw new SpecError("is a directory, not a YAML file", file);
    if (info.size > MAX_SPEC_BYTES) {
      throw new SpecError(`is larger than ${MAX_SPEC_BYTES} bytes`, file);
    }
    const f = await Deno.open(file);
    // The stream closes the file when it ends or is cancelled.
    bytes = await readCapped(f.readable, MAX_SPEC_BYTES, file);
  } catch (e) {
    if (e instanceof SpecError) throw e;
    if (e instanceof SizeMismatchError) {
      throw new SpecError(`is larger than ${MAX_SPEC_BYTES} bytes`, file, 0, 0, { cause: e });
    }
    const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
    throw new SpecError(`cannot read spec: ${why}`, file, 0, 0, { cause: e });
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (e) {
    throw new SpecError("is not UTF-8 text", file, 0, 0, { cause: e });
  }
  return parseSpec(text, file);
}
