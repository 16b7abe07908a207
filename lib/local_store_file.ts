/**
 * Reads one file of docker's manifest store (`types.ImageManifest` as docker/cli writes it) into a
 * {@link LocalEntry}, checking what Go's decoder would and what a push relies on: a reference, a
 * descriptor with a valid digest and size, a platform of strings, and `Raw` bytes that hash to the
 * digest. Keys are matched as Go matches struct fields: the exact name first, else any case.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseStoreFile } from "./local_store_file.ts";
 * assert.throws(() => parseStoreFile("/s/l/e", "{ broken"), /is unusable: not JSON/);
 * ```
 *
 * @module
 */

import { decodeBase64 } from "./base64.ts";
import { digestOf, parseDigest } from "./digest.ts";
import type { LocalEntry } from "./local_store.ts";
import { LocalStoreError } from "./local_store.ts";
import type { Platform } from "./platform.ts";
import { parseReference } from "./reference.ts";

/** What a store file holds: the entry, and the list it says it belongs to (ours only). */
export interface StoreFile {
  /** The entry. */
  entry: LocalEntry;
  /** `ManifestList`, written by manifest-tool (docker leaves it out). */
  list?: string;
}

/** Parses the text of the store file at `path`; {@link LocalStoreError} naming it when unusable. */
export function parseStoreFile(path: string, text: string): StoreFile {
  const bad = (reason: string, cause?: unknown) =>
    new LocalStoreError(path, reason, cause ? { cause } : undefined);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw bad("not JSON", e);
  }
  if (!isObject(doc)) throw bad("not a JSON object");
  const ref = field(doc, "Ref");
  const source = field(doc, "Source") ?? ref;
  const list = field(doc, "ManifestList");
  for (const [k, v] of [["Ref", ref], ["Source", source]] as const) {
    if (typeof v !== "string") throw bad(`no string "${k}"`);
    try {
      parseReference(v);
    } catch (e) {
      throw bad((e as Error).message, e);
    }
  }
  if (list !== undefined && typeof list !== "string") throw bad('"ManifestList" is not a string');
  const d = field(doc, "Descriptor");
  if (!isObject(d)) {
    throw bad('no "Descriptor" object (a list made by an old docker: create it again)');
  }
  const descriptor = parseDescriptor(d, bad);
  const raw = field(doc, "Raw");
  if (typeof raw !== "string" || raw === "") throw bad('no "Raw" manifest bytes');
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64(raw);
  } catch (e) {
    throw bad('"Raw" is not base64', e);
  }
  const algorithm = parseDigest(descriptor.digest).algorithm;
  if (bytes.length !== descriptor.size || digestOf(bytes, algorithm) !== descriptor.digest) {
    throw bad(`the manifest bytes do not match digest ${descriptor.digest}`);
  }
  return {
    entry: { ref: ref as string, source: source as string, descriptor, raw: bytes },
    list: list as string | undefined,
  };
}

function parseDescriptor(
  d: Record<string, unknown>,
  bad: (reason: string, cause?: unknown) => LocalStoreError,
): LocalEntry["descriptor"] {
  const mediaType = field(d, "mediaType");
  const size = field(d, "size");
  const digest = field(d, "digest");
  if (typeof mediaType !== "string") throw bad("descriptor has no mediaType");
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    throw bad("descriptor has no valid size");
  }
  try {
    parseDigest(digest as string);
  } catch (e) {
    throw bad(`descriptor has no valid digest: ${(e as Error).message}`, e);
  }
  const out: LocalEntry["descriptor"] = {
    mediaType,
    digest: digest as string,
    size,
    platform: parsePlatform(field(d, "platform"), bad),
  };
  const annotations = field(d, "annotations");
  if (annotations !== undefined && annotations !== null) {
    if (!isObject(annotations) || !Object.values(annotations).every((v) => typeof v === "string")) {
      throw bad("descriptor annotations are not a map of strings");
    }
    if (Object.keys(annotations).length > 0) {
      out.annotations = annotations as Record<string, string>;
    }
  }
  return out;
}

function parsePlatform(
  p: unknown,
  bad: (reason: string, cause?: unknown) => LocalStoreError,
): Platform {
  // docker writes a platform with every entry; one without reads as empty (push then says so).
  if (p === undefined || p === null) return { os: "", architecture: "" };
  if (!isObject(p)) throw bad("descriptor platform is not an object");
  const out: Platform = { os: "", architecture: "" };
  const strings = [["os", "os"], ["architecture", "architecture"], ["variant", "variant"], [
    "os.version",
    "os.version",
  ]] as const;
  for (const [key, name] of strings) {
    const v = field(p, key);
    if (v === undefined || v === null || v === "") continue;
    if (typeof v !== "string") throw bad(`platform ${key} is not a string`);
    out[name] = v;
  }
  for (const key of ["os.features", "features"] as const) {
    const v = field(p, key);
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
      throw bad(`platform ${key} is not a list of strings`);
    }
    if (v.length > 0) out[key] = v;
  }
  return out;
}

/** A member as Go's decoder finds a struct field: the exact key, else one of any case. */
function field(o: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(o, name)) return o[name];
  const lower = name.toLowerCase();
  const key = Object.keys(o).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : o[key];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
