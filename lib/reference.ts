/**
 * Image references, parsed and normalised as docker does: the grammar of distribution's
 * `reference` package plus docker's defaults. `alpine` is `docker.io/library/alpine:latest`; the
 * first path component is a registry when it has a `.` or a `:`, is `localhost`, or is a bracketed
 * IPv6 address; a reference may carry a tag and a digest at once (`r/x:1.0@sha256:…`).
 *
 * Every rejection is an {@link InvalidReferenceError} whose reason names the rule broken.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseReference } from "./reference.ts";
 * const ref = parseReference("localhost:5000/team/app:1.0");
 * assert(ref.registry === "localhost:5000" && ref.repository === "team/app");
 * assert(parseReference("alpine").toString() === "docker.io/library/alpine:latest");
 * ```
 *
 * @module
 */

import { InvalidReferenceError } from "./errors.ts";
import { parseDigest } from "./digest.ts";

// distribution/reference regexp.go: path-component, tag, domain-name-component, ipv6address.
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DOMAIN =
  /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const IPV6 = /^\[[0-9A-Fa-f:.]+\]$/;
// distribution/reference: NameTotalLengthMax, checked on the normalised name with its domain.
const MAX_NAME = 255;
const MAX_TAG = 128;

/**
 * Docker Hub's name in normalised references.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DOCKER_HUB, parseReference } from "./reference.ts";
 * assert(parseReference("alpine").registry === DOCKER_HUB);
 * ```
 */
export const DOCKER_HUB = "docker.io";

/**
 * A parsed image reference: registry, repository and a tag, a digest or both.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseReference } from "./reference.ts";
 * const ref = parseReference("ghcr.io/o/r:tag");
 * assert(ref.name === "ghcr.io/o/r" && ref.identifier === "tag");
 * assert(ref.toString() === "ghcr.io/o/r:tag");
 * ```
 */
export class Reference {
  /** Registry as written in references: `docker.io`, `localhost:5000`, `[::1]:5000`. */
  readonly registry: string;
  /** Repository path, e.g. `library/alpine`. */
  readonly repository: string;
  /** Tag, if any. */
  readonly tag?: string;
  /** Digest, if any. */
  readonly digest?: string;

  /**
   * Creates a reference from parts that are already valid; nothing is checked here (use
   * {@link parseReference} for strings).
   */
  constructor(init: { registry: string; repository: string; tag?: string; digest?: string }) {
    this.registry = init.registry;
    this.repository = init.repository;
    if (init.tag !== undefined) this.tag = init.tag;
    if (init.digest !== undefined) this.digest = init.digest;
  }

  /** `registry/repository`, e.g. `docker.io/library/alpine`. */
  get name(): string {
    return `${this.registry}/${this.repository}`;
  }

  /** What to ask the registry for: the digest if set, else the tag (or `latest`). */
  get identifier(): string {
    return this.digest ?? this.tag ?? "latest";
  }

  /** `registry/repository[:tag][@digest]`; {@link parseReference} reads it back unchanged. */
  toString(): string {
    return this.name + (this.tag !== undefined ? `:${this.tag}` : "") +
      (this.digest !== undefined ? `@${this.digest}` : "");
  }

  /**
   * The same repository with `tag` and no digest (a digest would pin content other than what the
   * new tag names). Throws {@link InvalidReferenceError} for an invalid tag.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { parseReference } from "./reference.ts";
   * assert(parseReference("r.io/x:1").withTag("2").toString() === "r.io/x:2");
   * ```
   */
  withTag(tag: string): Reference {
    checkTag(`${this.name}:${tag}`, tag);
    return new Reference({ registry: this.registry, repository: this.repository, tag });
  }

  /**
   * The same repository pinned to `digest`, keeping the tag. Throws
   * {@link InvalidReferenceError} for an invalid digest.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { parseReference } from "./reference.ts";
   * const d = "sha256:" + "a".repeat(64);
   * assert(parseReference("r.io/x:1").withDigest(d).toString() === `r.io/x:1@${d}`);
   * ```
   */
  withDigest(digest: string): Reference {
    const tag = this.tag !== undefined ? `:${this.tag}` : "";
    checkDigest(`${this.name}${tag}@${digest}`, digest);
    return new Reference({
      registry: this.registry,
      repository: this.repository,
      tag: this.tag,
      digest,
    });
  }
}

/**
 * Parses a reference the way `docker pull` reads it. With neither tag nor digest the tag is
 * `options.defaultTag` (`latest`; `false` leaves it unset). Throws {@link InvalidReferenceError}
 * naming the rule broken: `empty reference`, `must not include a scheme`, `invalid registry port`,
 * `repository must be lowercase`, `invalid tag …`, `tag is longer than 128 characters`,
 * `invalid digest …`, `name is longer than 255 characters`.
 *
 * Unlike docker, an uppercase first component (`Foo/bar`) is read as a repository and rejected,
 * not taken for a registry host: that is almost always a typo, not a registry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseReference } from "./reference.ts";
 * const d = "sha256:" + "a".repeat(64);
 * const ref = parseReference(`127.0.0.1:5000/a/b:tag@${d}`);
 * assert(ref.registry === "127.0.0.1:5000" && ref.tag === "tag" && ref.digest === d);
 * assert(parseReference("docker.io/alpine").repository === "library/alpine");
 * assert(parseReference("r.io/x", { defaultTag: false }).tag === undefined);
 * ```
 */
export function parseReference(
  s: string,
  options: { defaultTag?: string | false } = {},
): Reference {
  const input = s;
  if (!s.trim()) throw new InvalidReferenceError(input, "empty reference");
  if (s !== s.trim()) {
    throw new InvalidReferenceError(input, "must not start or end with white space");
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(s)) {
    throw new InvalidReferenceError(input, "must not include a scheme");
  }
  // docker refuses a bare 64-hex name: it would be taken for an image ID.
  if (/^[a-f0-9]{64}$/.test(s)) {
    throw new InvalidReferenceError(input, "a 64-character hex string is an image ID, not a name");
  }

  let digest: string | undefined;
  const at = s.indexOf("@");
  if (at >= 0) {
    digest = s.slice(at + 1);
    s = s.slice(0, at);
    checkDigest(input, digest);
  }

  let registry = DOCKER_HUB;
  let rest = s;
  const slash = s.indexOf("/");
  if (slash > 0) {
    const first = s.slice(0, slash);
    if (/[.:]/.test(first) || first === "localhost" || first.startsWith("[")) {
      registry = checkRegistry(input, first);
      rest = s.slice(slash + 1);
    }
  }

  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    checkTag(input, tag);
  }

  if (!rest) throw new InvalidReferenceError(input, "missing repository name");
  if (rest !== rest.toLowerCase()) {
    throw new InvalidReferenceError(input, "repository must be lowercase");
  }
  for (const c of rest.split("/")) {
    if (!c) {
      throw new InvalidReferenceError(input, `repository "${rest}" has an empty path component`);
    }
    if (!COMPONENT.test(c)) {
      throw new InvalidReferenceError(
        input,
        `invalid repository component "${c}": must match [a-z0-9]+ separated by ".", "_", "__" or "-"`,
      );
    }
  }
  // docker's official images live under library/ on Docker Hub.
  if (registry === DOCKER_HUB && !rest.includes("/")) rest = `library/${rest}`;
  if (`${registry}/${rest}`.length > MAX_NAME) {
    throw new InvalidReferenceError(input, `name is longer than ${MAX_NAME} characters`);
  }

  const defaultTag = options.defaultTag ?? "latest";
  if (tag === undefined && digest === undefined && defaultTag !== false) {
    checkTag(input, defaultTag);
    tag = defaultTag;
  }
  return new Reference({ registry, repository: rest, tag, digest });
}

/** Validates a registry host[:port]; returns it with Docker Hub's aliases normalised. */
function checkRegistry(input: string, registry: string): string {
  let host = registry;
  let port: string | undefined;
  if (registry.startsWith("[")) {
    const end = registry.indexOf("]");
    host = end < 0 ? registry : registry.slice(0, end + 1);
    const after = end < 0 ? "" : registry.slice(end + 1);
    if (after) {
      if (!after.startsWith(":")) {
        throw new InvalidReferenceError(input, `invalid registry "${registry}"`);
      }
      port = after.slice(1);
    }
    if (!IPV6.test(host)) {
      throw new InvalidReferenceError(input, `invalid registry host "${host}"`);
    }
  } else {
    const i = registry.indexOf(":");
    if (i >= 0) {
      host = registry.slice(0, i);
      port = registry.slice(i + 1);
    }
    if (!DOMAIN.test(host)) {
      throw new InvalidReferenceError(input, `invalid registry host "${host}"`);
    }
  }
  if (port !== undefined && (!/^\d{1,5}$/.test(port) || +port < 1 || +port > 65535)) {
    throw new InvalidReferenceError(
      input,
      `invalid registry port "${port}": must be a number from 1 to 65535`,
    );
  }
  // Host names are case-insensitive; docker writes Docker Hub as docker.io.
  const lower = registry.toLowerCase();
  return lower === DOCKER_HUB || lower === "index.docker.io" ? DOCKER_HUB : registry;
}

function checkTag(input: string, tag: string): void {
  if (!tag) throw new InvalidReferenceError(input, 'missing tag after ":"');
  if (tag.length > MAX_TAG) {
    throw new InvalidReferenceError(input, `tag is longer than ${MAX_TAG} characters`);
  }
  if (!TAG.test(tag)) {
    throw new InvalidReferenceError(
      input,
      `invalid tag "${tag}": must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`,
    );
  }
}

function checkDigest(input: string, digest: string): void {
  try {
    parseDigest(digest);
  } catch (e) {
    // parseDigest says `Invalid digest "<d>": <rule>`; keep the rule under our own prefix.
    const rule = (e as Error).message.replace(/^Invalid digest "[^"]*": /, "");
    throw new InvalidReferenceError(input, `invalid digest "${digest}": ${rule}`, { cause: e });
  }
}

function isDockerHub(registry: string): boolean {
  const r = registry.toLowerCase();
  return r === DOCKER_HUB || r === "index.docker.io" || r === "registry-1.docker.io";
}

/**
 * The host to send API requests to: Docker Hub's API host (`registry-1.docker.io`) for
 * `docker.io` and `index.docker.io`; any other registry unchanged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { registryApiHost } from "./reference.ts";
 * assert(registryApiHost("docker.io") === "registry-1.docker.io");
 * assert(registryApiHost("localhost:5000") === "localhost:5000");
 * ```
 */
export function registryApiHost(registry: string): string {
  return isDockerHub(registry) ? "registry-1.docker.io" : registry;
}

/**
 * True for a registry on the loopback interface: `localhost`, 127.0.0.0/8 and `[::1]`, with or
 * without a port.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLoopbackRegistry } from "./reference.ts";
 * assert(isLoopbackRegistry("127.0.0.1:5000") && isLoopbackRegistry("[::1]:5000"));
 * assert(!isLoopbackRegistry("ghcr.io"));
 * ```
 */
export function isLoopbackRegistry(registry: string): boolean {
  // Only a whole host[:port] qualifies: a looser match would let `[::1]x` or `[::1].evil` pass.
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+))(?::\d{1,5})?$/.exec(registry);
  if (!m) return false;
  if (m[1] !== undefined) return isLoopbackIpv6(m[1].toLowerCase());
  const host = m[2].toLowerCase();
  return host === "localhost" || isLoopbackIpv4(host);
}

function isLoopbackIpv4(host: string): boolean {
  const octets = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return octets !== null && octets.slice(1).every((o) => Number(o) <= 255);
}

/** `::1` in any spelling (`0:0:0:0:0:0:0:1`, `0::1`), or IPv4-mapped 127.0.0.0/8. */
function isLoopbackIpv6(host: string): boolean {
  const g = expand(host);
  if (!g || g.slice(0, 5).some((x) => x !== 0)) return false;
  if (g[5] === 0 && g[6] === 0) return g[7] === 1;
  return g[5] === 0xffff && g[6] >> 8 === 127;
}

/** The eight 16-bit groups of an IPv6 address (a dotted IPv4 tail gives two), or undefined. */
function expand(host: string): number[] | undefined {
  const halves = host.split("::");
  if (halves.length > 2) return undefined;
  const parse = (s: string) =>
    s === "" ? [] : s.split(":").flatMap((g) => {
      if (/^\d+\.\d+\.\d+\.\d+$/.test(g)) {
        const [a, b, c, d] = g.split(".").map(Number);
        if ([a, b, c, d].some((o) => o > 255)) return [NaN];
        return [(a << 8) | b, (c << 8) | d];
      }
      return /^[0-9a-f]{1,4}$/.test(g) ? [parseInt(g, 16)] : [NaN];
    });
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array(Math.max(fill, 0)).fill(0), ...tail];
  if (groups.length !== 8 || groups.some(Number.isNaN) || (halves.length === 2 && fill < 1)) {
    return undefined;
  }
  return groups;
}

/**
 * Keys under which docker's `config.json` may hold credentials for `registry`, in the order to
 * try them. Docker Hub's credentials live under its legacy v1 URL. Keys found in a config file
 * may carry a scheme and a path: compare them through {@link normalizeConfigKey}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { credentialKeys } from "./reference.ts";
 * assert(credentialKeys("docker.io")[0] === "https://index.docker.io/v1/");
 * assert(credentialKeys("ghcr.io").join() === "ghcr.io,https://ghcr.io,http://ghcr.io");
 * ```
 */
export function credentialKeys(registry: string): string[] {
  if (isDockerHub(registry)) {
    return ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"];
  }
  return [registry, `https://${registry}`, `http://${registry}`];
}

/**
 * A `config.json` key reduced to its host[:port], lowercased, for matching: the scheme and any
 * path (`/v1/`, `/v2/`) are dropped, as docker's `ConvertToHostname` does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeConfigKey } from "./reference.ts";
 * assert(normalizeConfigKey("https://index.docker.io/v1/") === "index.docker.io");
 * assert(normalizeConfigKey("http://R.example:5000/v2/") === "r.example:5000");
 * ```
 */
export function normalizeConfigKey(key: string): string {
  return key.trim().replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//, "").replace(/\/.*$/, "")
    .toLowerCase();
}
