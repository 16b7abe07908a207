/**
 * The push spec: manifest-tool's YAML (`image`, `tags`, `annotations`, `manifests: [{image,
 * platform: {architecture, os, variant, osversion, osfeatures, features}}]`), read strictly. Every
 * error names the file, line and column: YAML syntax, unknown keys (a typo is not silently
 * ignored), wrong types, missing fields. `os.version`/`os.features` (OCI spellings) are accepted
 * beside manifest-tool's `osversion`/`osfeatures`.
 *
 * @module
 */

import { isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { SpecError } from "./errors.ts";
import type { Platform } from "./platform.ts";
import type { PushSource, PushSpec } from "./push.ts";

/** Largest spec file read, in bytes. */
export const MAX_SPEC_BYTES = 1024 * 1024;

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

/**
 * Parses a push spec from YAML text; `file` names it in errors.
 *
 * @example
 * ```ts
 * import { parseSpec } from "./spec.ts";
 * const spec = parseSpec(`image: r.example/app:1
 * manifests:
 *   - image: r.example/app:1-amd64
 *     platform: {os: linux, architecture: amd64}
 * `, "spec.yaml");
 * console.assert(spec.manifests[0].platform?.architecture === "amd64");
 * ```
 */
export function parseSpec(text: string, file: string): PushSpec {
  const lc = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lc,
    uniqueKeys: true,
    prettyErrors: false,
    strict: true,
  });
  const at = (node: { range?: [number, number, number] | null } | null | undefined) => {
    const pos = node?.range ? lc.linePos(node.range[0]) : { line: 0, col: 0 };
    return { line: pos.line, col: pos.col };
  };
  const fail = (msg: string, node?: { range?: [number, number, number] | null } | null): never => {
    const { line, col } = at(node);
    throw new SpecError(msg, file, line, col);
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = e.linePos?.[0] ?? (e.pos ? lc.linePos(e.pos[0]) : undefined);
    throw new SpecError(
      `invalid YAML: ${e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "")}`,
      file,
      pos?.line ?? 0,
      pos?.col ?? 0,
    );
  }
  const deref = (n: unknown): Node | null => {
    if (isAlias(n)) return deref(n.resolve(doc) ?? null);
    return (n ?? null) as Node | null;
  };
  const root = deref(doc.contents);
  if (!root || (isScalar(root) && (root.value === null || root.value === ""))) {
    return fail("the spec is empty");
  }
  if (!isMap(root)) return fail("the spec must be a mapping with image and manifests", root);

  const str = (n: unknown, what: string): string => {
    const node = deref(n);
    if (!isScalar(node) || node.value === null || typeof node.value === "object") {
      return fail(`${what} must be a string`, node as Node);
    }
    const v = node.source ?? String(node.value);
    if (typeof v !== "string" || v === "") return fail(`${what} must not be empty`, node);
    return typeof node.value === "string" ? node.value : v;
  };
  const strList = (n: unknown, what: string): string[] => {
    const node = deref(n);
    if (isScalar(node) && typeof node.value === "string") return [node.value];
    if (!isSeq(node)) return fail(`${what} must be a list of strings`, node as Node);
    return node.items.map((item, i) => str(item, `${what}[${i}]`));
  };
  const strMap = (n: unknown, what: string): Record<string, string> => {
    const node = deref(n);
    if (!isMap(node)) return fail(`${what} must be a mapping of strings`, node as Node);
    const out: Record<string, string> = {};
    for (const pair of node.items) {
      const k = str(pair.key, `${what} key`);
      const vn = deref(pair.value);
      if (!isScalar(vn) || vn.value === null || typeof vn.value === "object") {
        fail(`${what}["${k}"] must be a string`, (vn ?? pair.key) as Node);
      }
      out[k] = typeof (vn as { value: unknown }).value === "string"
        ? (vn as { value: string }).value
        : String(
          (vn as { source?: string; value: unknown }).source ?? (vn as { value: unknown }).value,
        );
    }
    return out;
  };
  const keyOf = (pair: { key: unknown }) => {
    const k = deref(pair.key);
    if (!isScalar(k) || typeof k.value !== "string") fail("keys must be strings", k as Node);
    return (k as { value: string }).value;
  };

  const spec: PushSpec = { image: "", manifests: [] };
  let sawManifests = false;
  for (const pair of root.items) {
    const key = keyOf(pair);
    switch (key) {
      case "image":
        spec.image = str(pair.value, "image");
        break;
      case "tags":
        spec.tags = strList(pair.value, "tags");
        break;
      case "annotations":
        spec.annotations = strMap(pair.value, "annotations");
        break;
      case "manifests": {
        sawManifests = true;
        const seq = deref(pair.value);
        if (!isSeq(seq)) fail("manifests must be a list", (seq ?? pair.key) as Node);
        spec.manifests = (seq as { items: unknown[] }).items.map((item, i) => parseEntry(item, i));
        break;
      }
      default:
        fail(
          `unknown key "${key}": expected image, tags, annotations or manifests`,
          pair.key as Node,
        );
    }
  }
  if (!spec.image) fail('missing key "image" (the target reference)', root);
  if (!sawManifests || spec.manifests.length === 0) {
    fail('missing or empty "manifests" (the source images)', root);
  }
  return spec;

  function parseEntry(item: unknown, i: number): PushSource {
    const node = deref(item);
    if (!isMap(node)) {
      return fail(`manifests[${i}] must be a mapping with image and platform`, node as Node);
    }
    const entry: PushSource = { image: "" };
    for (const pair of node.items) {
      const key = keyOf(pair);
      if (key === "image") entry.image = str(pair.value, `manifests[${i}].image`);
      else if (key === "platform") entry.platform = parsePlatform(pair.value, i);
      else {fail(
          `unknown key "${key}" in manifests[${i}]: expected image or platform`,
          pair.key as Node,
        );}
    }
    if (!entry.image) fail(`manifests[${i}] has no image`, node);
    return entry;
  }

  function parsePlatform(n: unknown, i: number): Partial<Platform> {
    const node = deref(n);
    if (isScalar(node) && node.value === null) return {};
    if (!isMap(node)) return fail(`manifests[${i}].platform must be a mapping`, node as Node);
    const p: Partial<Platform> = {};
    for (const pair of node.items) {
      const key = keyOf(pair);
      const field = PLATFORM_KEYS[key];
      if (!field) {
        fail(
          `unknown key "${key}" in manifests[${i}].platform: expected architecture, os, variant, osversion, osfeatures or features`,
          pair.key as Node,
        );
      }
      const what = `manifests[${i}].platform.${key}`;
      if (field === "os.features" || field === "features") p[field] = strList(pair.value, what);
      else p[field] = str(pair.value, what);
    }
    return p;
  }
}

/**
 * Reads and parses a spec file, capped at {@link MAX_SPEC_BYTES}; unreadable files are a
 * {@link SpecError} naming the file.
 *
 * @example
 * ```ts ignore
 * import { readSpecFile } from "./spec.ts";
 * const spec = await readSpecFile("push.yaml");
 * ```
 */
export async function readSpecFile(file: string): Promise<PushSpec> {
  let text: string;
  try {
    const info = await Deno.stat(file);
    if (info.isDirectory) throw new SpecError("is a directory, not a YAML file", file);
    if (info.size > MAX_SPEC_BYTES) {
      throw new SpecError(`is larger than ${MAX_SPEC_BYTES} bytes`, file);
    }
    text = await Deno.readTextFile(file);
  } catch (e) {
    if (e instanceof SpecError) throw e;
    const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
    throw new SpecError(`cannot read spec: ${why}`, file, 0, 0, { cause: e });
  }
  return parseSpec(text, file);
}
