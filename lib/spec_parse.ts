/**
 * The push spec parser: manifest-tool's YAML (`image`, `tags`, `annotations`, `manifests:
 * [{image, platform: {architecture, os, variant, osversion, osfeatures, features}}]`), read
 * strictly. Every error names the file, line and column: YAML syntax, unknown keys (a typo is not
 * silently ignored), duplicate keys, wrong types, missing fields. `os.version`/`os.features` (OCI
 * spellings) are accepted beside manifest-tool's `osversion`/`osfeatures`.
 *
 * Hostile input stays cheap: aliases are resolved through one table built in a single pass, the
 * nodes visited through aliases are counted against a budget proportional to the document (an
 * alias bomb fails at the alias that passes it), and duplicate keys are found with a set rather
 * than the yaml package's pairwise check, which is quadratic in the size of a mapping.
 *
 * This is the only module that loads the yaml package; `lib/spec.ts` imports it on first use so
 * that commands which read no spec do not pay for it at start-up.
 *
 * @module
 */

import { Composer, type Document, LineCounter, Parser } from "npm:yaml@2.9.1";
import { SpecError } from "./errors.ts";
import { MAX_SPEC_BYTES } from "./_spec_file.ts";
import type { PushSpec } from "./push.ts";
import { type ReadSpec, SpecReader } from "./_spec_reader.ts";

export type { ReadSpec, SpecPosition } from "./_spec_reader.ts";

/** One spec read from one YAML document of a file, with where its parts are written. */
export interface ParsedSpecDocument extends ReadSpec {
  /** 1-based number of the document in its file, counting empty documents. */
  document: number;
}

const YAML_OPTIONS = {
  // Checked by the reader with a set: the package compares every pair of keys.
  uniqueKeys: false,
  prettyErrors: false,
  strict: true,
} as const;

/**
 * Parses a push spec from YAML text holding one document; `file` names it in errors. Throws a
 * {@link SpecError} located at `file:line:column` for any problem.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSpec } from "./spec_parse.ts";
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
  return guardDepth(file, () => {
    const lc = new LineCounter();
    const docs = composeDocuments(text, lc);
    const first = quietly(() => docs.next());
    const doc = first.done ? emptyDocument(text, lc) : first.value;
    const reader = new SpecReader(doc, lc, file);
    reader.checkSyntax();
    const second = quietly(() => docs.next());
    if (!second.done) {
      const pos = lc.linePos(second.value.range[0]);
      throw new SpecError(
        "invalid YAML: Source contains multiple documents",
        file,
        pos.line,
        pos.col,
      );
    }
    if (reader.isEmpty()) throw new SpecError("the spec is empty", file);
    return reader.read().spec;
  });
}

/**
 * Parses every spec of a YAML stream: documents separated by `---`, each one spec. Empty
 * documents (nothing, a comment, `~`) are skipped, but a text with no spec at all is a
 * {@link SpecError} ("the spec is empty"). Each document may hold at most `maxDocumentBytes`
 * (default {@link MAX_SPEC_BYTES}), checked before anything is parsed; the alias budget is per
 * document. Throws a {@link SpecError} at `file:line:column` for the first problem.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSpecDocuments } from "./spec_parse.ts";
 * const docs = parseSpecDocuments(`image: r.example/a:1
 * manifests: [{image: r.example/a:1-amd64}]
 * ---
 * image: r.example/b:1
 * manifests: [{image: r.example/b:1-amd64}]
 * `, "all.yaml");
 * assert.deepEqual(docs.map((d) => [d.spec.image, d.document, d.at.line]), [
 *   ["r.example/a:1", 1, 1],
 *   ["r.example/b:1", 2, 4],
 * ]);
 * ```
 */
export function parseSpecDocuments(
  text: string,
  file: string,
  options: { maxDocumentBytes?: number } = {},
): ParsedSpecDocument[] {
  checkDocumentSizes(text, file, options.maxDocumentBytes ?? MAX_SPEC_BYTES);
  return guardDepth(file, () => {
    const lc = new LineCounter();
    const out: ParsedSpecDocument[] = [];
    const docs = composeDocuments(text, lc);
    for (let n = 1;; n++) {
      const next = quietly(() => docs.next());
      if (next.done) break;
      const reader = new SpecReader(next.value, lc, file);
      reader.checkSyntax();
      if (!reader.isEmpty()) out.push({ ...reader.read(), document: n });
    }
    if (out.length === 0) throw new SpecError("the spec is empty", file);
    return out;
  });
}

/** The documents of `text`, composed one at a time so only one is held at once. */
function composeDocuments(text: string, lc: LineCounter): Generator<Document.Parsed> {
  const parser = new Parser(lc.addNewLine);
  const composer = new Composer(YAML_OPTIONS);
  return composer.compose(parser.parse(text), false, text.length) as Generator<Document.Parsed>;
}

/** A document with no content, for a text the composer yields nothing for. */
function emptyDocument(text: string, lc: LineCounter): Document.Parsed {
  const parser = new Parser(lc.addNewLine);
  const composer = new Composer(YAML_OPTIONS);
  const [doc] = composer.compose(parser.parse(text), true, text.length);
  return doc as Document.Parsed;
}

// A line that starts or ends a document (YAML 1.2 §9.1.2-9.1.4): such a line cannot occur inside
// any node (l-forbidden), so sizes can be checked before the text is parsed.
const MARKER = /^(?:---|\.\.\.)(?:[ \t\r\n]|$)/;

/**
 * Refuses a document larger than `max` bytes before parsing, so a hostile file cannot make the
 * parser hold more than one capped document's nodes.
 */
function checkDocumentSizes(text: string, file: string, max: number): void {
  // UTF-8 needs at most 3 bytes per UTF-16 code unit.
  if (text.length * 3 <= max) return;
  const enc = new TextEncoder();
  let start = 0;
  let startLine = 1;
  let line = 1;
  const check = (end: number) => {
    if (end - start > max / 3 && enc.encode(text.slice(start, end)).length > max) {
      throw new SpecError(`a document is larger than ${max} bytes`, file, startLine, 1);
    }
  };
  for (let i = 0; i <= text.length; i = text.indexOf("\n", i) + 1 || text.length + 1) {
    if (MARKER.test(text.slice(i, i + 4))) {
      check(i);
      start = i;
      startLine = line;
    }
    line++;
  }
  check(text.length);
}

/** Runs `fn`, reporting a stack overflow of the yaml package as a nesting error. */
function guardDepth<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    // Deep nesting overflows the yaml package's recursive parser or its visitor.
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new SpecError("the YAML is nested too deeply", file, 1, 1, { cause: e });
    }
    throw e;
  }
}

/**
 * Runs `fn` with an empty `process.env`. The yaml package's Node build reads `LOG_TOKENS` and
 * `LOG_STREAM` for every token and, when set, prints debug output: a library must not print, and
 * under Deno without `--allow-env` each read prompts or throws `NotCapable`. `fn` is synchronous,
 * so no other code runs while the swap is in place. When neither variable is set and both may be
 * read, there is nothing to hide and `process` is left alone: under Deno the first touch of that
 * global loads the Node process polyfill (~10 ms, measured), and the browser build the bundle uses
 * reads no variable at all.
 */
function quietly<T>(fn: () => T): T {
  if (envIsQuiet()) return fn();
  // The global, not an import of node:process: a bundler hoists such imports to the top of the
  // bundle, where every command would pay for loading them.
  const process = globalThis.process;
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

let quietEnv: boolean | undefined;

/** Whether yaml's `LOG_TOKENS` and `LOG_STREAM` may be read and are both unset (asked once). */
function envIsQuiet(): boolean {
  quietEnv ??= ["LOG_TOKENS", "LOG_STREAM"].every((variable) =>
    Deno.permissions.querySync({ name: "env", variable }).state === "granted" &&
    Deno.env.get(variable) === undefined
  );
  return quietEnv;
}
