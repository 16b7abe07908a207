/**
 * Reads one composed YAML document as a push spec: strict keys and types, every error a
 * {@link SpecError} at the node's `file:line:column`. Private to `spec_parse.ts`.
 *
 * @module
 */

import {
  type Alias,
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  visit,
} from "npm:yaml@2.9.1";
import { SpecError } from "./errors.ts";
import type { Platform } from "./platform.ts";
import type { PushSource, PushSpec } from "./push.ts";

/** A 1-based line and column in a spec file. */
export interface SpecPosition {
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
}

/** What {@link SpecReader.read} returns: the spec and where its references are written. */
export interface ReadSpec {
  /** The spec. */
  spec: PushSpec;
  /** Where the document's content starts. */
  at: SpecPosition;
  /** Where the target image is written. */
  image: SpecPosition;
  /** Where each extra tag is written, in the order of `spec.tags`. */
  tags: SpecPosition[];
  /** Where each source image is written, in the order of `spec.manifests`. */
  sources: SpecPosition[];
  /** Where each source's `platform` key is written, when it has one. */
  platforms: (SpecPosition | undefined)[];
  /** Where the `annotations` key is written, when there is one. */
  annotations?: SpecPosition;
}

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
type Pair = { key: unknown; value: unknown };

/** One document read as a spec; see the module doc. */
export class SpecReader {
  #doc: Document.Parsed;
  #lc: LineCounter;
  #file: string;
  #targets = new Map<Alias, Node | undefined>();
  #budget = 0;
  #visited = 0;
  #root: Node | null | undefined;

  /** Prepares to read `doc`, whose offsets `lc` maps to lines, naming `file` in errors. */
  constructor(doc: Document.Parsed, lc: LineCounter, file: string) {
    this.#doc = doc;
    this.#lc = lc;
    this.#file = file;
    this.#indexAliases();
  }

  /** Throws the document's first YAML syntax error as a {@link SpecError}. */
  checkSyntax(): void {
    if (this.#doc.errors.length === 0) return;
    const e = this.#doc.errors[0];
    const pos = e.linePos?.[0] ?? (e.pos ? this.#lc.linePos(e.pos[0]) : undefined);
    const message = e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    if (/call stack/i.test(message)) {
      throw new SpecError("the YAML is nested too deeply", this.#file, 1, 1);
    }
    throw new SpecError(`invalid YAML: ${message}`, this.#file, pos?.line ?? 1, pos?.col ?? 1);
  }

  /** Whether the document holds nothing: no content, `~` or an empty string. */
  isEmpty(): boolean {
    const root = this.#rootNode();
    return !root || (isScalar(root) && (root.value === null || root.value === ""));
  }

  /** Reads the spec; call after {@link checkSyntax} on a document that is not empty. */
  read(): ReadSpec {
    const root = this.#rootNode();
    if (!isMap(root)) {
      return this.#fail("the spec must be a mapping with image and manifests", root);
    }
    const spec: PushSpec = { image: "", manifests: [] };
    const out: ReadSpec = {
      spec,
      at: this.#pos(root),
      image: this.#pos(root),
      tags: [],
      sources: [],
      platforms: [],
    };
    let manifestsAt: Node | null = null;
    for (const { key, pair } of this.#pairs(root, (p) => this.#key(p))) {
      if (key === "image") {
        const [value, node] = this.#strAt(pair.value, "image", pair.key);
        spec.image = value;
        out.image = this.#pos(node);
      } else if (key === "tags") {
        const items = this.#strListAt(pair.value, "tags", pair.key);
        spec.tags = items.map(([v]) => v);
        out.tags = items.map(([, n]) => this.#pos(n));
      } else if (key === "annotations") {
        spec.annotations = this.#strMap(pair.value, "annotations", pair.key);
        out.annotations = this.#pos(pair.key as Located);
      } else if (key === "manifests") {
        manifestsAt = this.#manifests(pair, spec, out);
      } else {
        this.#fail(
          `unknown key "${key}": expected image, tags, annotations or manifests`,
          this.#deref(pair.key),
        );
      }
    }
    if (!spec.image) this.#fail('missing key "image" (the target reference)', root);
    if (!manifestsAt) this.#fail('missing key "manifests" (the source images)', root);
    if (spec.manifests.length === 0) {
      this.#fail("manifests is empty: list the source images", manifestsAt);
    }
    return out;
  }

  #rootNode(): Node | null {
    if (this.#root === undefined) this.#root = this.#deref(this.#doc.contents);
    return this.#root;
  }

  #manifests(pair: Pair, spec: PushSpec, out: ReadSpec): Node {
    const seq = this.#deref(pair.value);
    if (!isSeq(seq)) {
      this.#fail("manifests must be a list", seq?.range ? seq : this.#deref(pair.key));
    }
    const items = (seq as { items: unknown[] }).items;
    spec.manifests = [];
    out.sources = [];
    out.platforms = [];
    items.forEach((item, i) => {
      const [entry, at, platformAt] = this.#entry(item, i);
      spec.manifests.push(entry);
      out.sources.push(at);
      out.platforms.push(platformAt);
    });
    return seq as Node;
  }

  #entry(item: unknown, i: number): [PushSource, SpecPosition, SpecPosition | undefined] {
    const node = this.#deref(item);
    if (!isMap(node)) {
      return this.#fail(`manifests[${i}] must be a mapping with image and platform`, node);
    }
    const entry: PushSource = { image: "" };
    let at = this.#pos(node);
    let platformAt: SpecPosition | undefined;
    for (const { key, pair } of this.#pairs(node, (p) => this.#key(p))) {
      if (key === "image") {
        const [value, valueNode] = this.#strAt(pair.value, `manifests[${i}].image`, pair.key);
        entry.image = value;
        at = this.#pos(valueNode);
      } else if (key === "platform") {
        entry.platform = this.#platform(pair.value, i, pair.key);
        platformAt = this.#pos(pair.key as Located);
      } else {
        this.#fail(
          `unknown key "${key}" in manifests[${i}]: expected image or platform`,
          this.#deref(pair.key),
        );
      }
    }
    if (!entry.image) this.#fail(`manifests[${i}] has no image`, node);
    return [entry, at, platformAt];
  }

  #platform(n: unknown, i: number, near: unknown): Partial<Platform> {
    const node = this.#deref(n);
    if (!node || (isScalar(node) && node.value === null)) return {};
    if (!isMap(node)) {
      return this.#fail(
        `manifests[${i}].platform must be a mapping`,
        node.range ? node : this.#deref(near),
      );
    }
    const p: Partial<Platform> = {};
    const spelled = new Map<string, string>();
    for (const { key, pair } of this.#pairs(node, (q) => this.#key(q))) {
      const field = PLATFORM_KEYS[key];
      if (!field) {
        this.#fail(
          `unknown key "${key}" in manifests[${i}].platform: expected architecture, os, variant, osversion, osfeatures or features`,
          this.#deref(pair.key),
        );
      }
      // osversion and os.version are one field: both given is a duplicate, not an override.
      const before = spelled.get(field);
      if (before !== undefined) {
        this.#fail(`duplicate key "${key}": same field as "${before}"`, this.#deref(pair.key));
      }
      spelled.set(field, key);
      const what = `manifests[${i}].platform.${key}`;
      if (field === "os.features" || field === "features") {
        p[field] = this.#strListAt(pair.value, what, pair.key).map(([v]) => v);
      } else p[field] = this.#strAt(pair.value, what, pair.key)[0];
    }
    return p;
  }

  // One pass in document order: an alias names the closest anchor before it (YAML 1.2 §3.2.2.2).
  // The package's own Alias.resolve walks the whole document for every alias.
  #indexAliases(): void {
    const anchors = new Map<string, Node>();
    let nodes = 0;
    visit(this.#doc, {
      Node: (_key, node) => {
        nodes++;
        if (isAlias(node)) this.#targets.set(node, anchors.get(node.source));
        else if (node.anchor) anchors.set(node.anchor, node);
      },
    });
    this.#budget = 2 * nodes + ALIAS_ALLOWANCE;
  }

  #deref(n: unknown): Node | null {
    this.#visited++;
    if (!isAlias(n)) return (n ?? null) as Node | null;
    if (this.#visited > this.#budget) {
      this.#fail(`aliases expand the spec to more than ${this.#budget} nodes`, n);
    }
    const target = this.#targets.get(n);
    if (!target) return this.#fail(`unknown alias "*${n.source}"`, n);
    return target;
  }

  #pos(node: Located): SpecPosition {
    const p = node?.range ? this.#lc.linePos(node.range[0]) : { line: 1, col: 1 };
    return { line: p.line, column: p.col };
  }

  #fail(msg: string, node?: Located): never {
    const { line, column } = this.#pos(node);
    throw new SpecError(msg, this.#file, line, column);
  }

  // `near` locates a missing value (`{image}`, `? image`): the key it belongs to.
  #strAt(n: unknown, what: string, near?: unknown): [string, Node] {
    const node = this.#deref(n);
    if (!isScalar(node) || node.value === null || typeof node.value === "object") {
      return this.#fail(`${what} must be a string`, node?.range ? node : this.#deref(near));
    }
    // A plain scalar keeps its text: `1.0` is the tag "1.0", not the number 1.
    const v = typeof node.value === "string" ? node.value : node.source ?? String(node.value);
    if (typeof v !== "string" || v === "") return this.#fail(`${what} must not be empty`, node);
    return [v, node];
  }

  #strListAt(n: unknown, what: string, near?: unknown): [string, Node][] {
    const node = this.#deref(n);
    if (isScalar(node) && node.value !== null && typeof node.value !== "object") {
      return [this.#strAt(node, what)];
    }
    if (!isSeq(node)) {
      return this.#fail(
        `${what} must be a list of strings`,
        node?.range ? node : this.#deref(near),
      );
    }
    return node.items.map((item, i) => this.#strAt(item, `${what}[${i}]`));
  }

  #strMap(n: unknown, what: string, near?: unknown): Record<string, string> {
    const node = this.#deref(n);
    if (!isMap(node)) {
      return this.#fail(
        `${what} must be a mapping of strings`,
        node?.range ? node : this.#deref(near),
      );
    }
    const entries: [string, string][] = [];
    const keyOf = (p: { key: unknown }) => this.#strAt(p.key, `${what} key`)[0];
    for (const { key, pair } of this.#pairs(node, keyOf)) {
      entries.push([key, this.#strAt(pair.value, `${what}["${key}"]`, pair.key)[0]]);
    }
    // fromEntries defines own properties: a key "__proto__" is kept, not taken for the setter.
    return Object.fromEntries(entries);
  }

  // The pairs of a mapping with their keys, failing at the second of two equal keys.
  *#pairs(
    map: { items: Pair[] },
    keyOf: (pair: { key: unknown }) => string,
  ): Generator<{ key: string; pair: Pair }> {
    const seen = new Set<string>();
    for (const pair of map.items) {
      const key = keyOf(pair);
      if (seen.has(key)) this.#fail(`duplicate key "${key}"`, this.#deref(pair.key));
      seen.add(key);
      yield { key, pair };
    }
  }

  #key(pair: { key: unknown }): string {
    const k = this.#deref(pair.key);
    if (!isScalar(k) || typeof k.value !== "string") return this.#fail("keys must be strings", k);
    return k.value;
  }
}
