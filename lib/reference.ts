/**
 * Image references, parsed and normalised as docker does (distribution's reference grammar plus
 * docker's defaults): `alpine` is `docker.io/library/alpine:latest`; the first component is a
 * registry when it has a `.` or `:`, is `localhost`, or is a bracketed IPv6 address; a reference
 * may carry a tag and a digest at once.
 *
 * @module
 */

import { InvalidReferenceError } from "./errors.ts";
import { parseDigest } from "./digest.ts";

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::(\d+))?$/;
const MAX_NAME = 255;

/** Docker Hub's name in references. */
export const DOCKER_HUB = "docker.io";

/**
 * A parsed image reference.
 *
 * @example
 * ```ts
 * import { parseReference } from "./reference.ts";
 * const ref = parseReference("alpine");
 * console.assert(ref.toString() === "docker.io/library/alpine:latest");
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

  /** Creates a reference from validated parts (use {@link parseReference} for strings). */
  constructor(init: { registry: string; repository: string; tag?: string; digest?: string }) {
    this.registry = init.registry;
    this.repository = init.repository;
    if (init.tag !== undefined) this.tag = init.tag;
    if (init.digest !== undefined) this.digest = init.digest;
  }

  /** `registry/repository`. */
  get name(): string {
    return `${this.registry}/${this.repository}`;
  }

  /** What to ask the registry for: the digest if set, else the tag (or `latest`). */
  get identifier(): string {
    return this.digest ?? this.tag ?? "latest";
  }

  /** `registry/repository[:tag][@digest]`. */
  toString(): string {
    return this.name + (this.tag ? `:${this.tag}` : "") + (this.digest ? `@${this.digest}` : "");
  }

  /** The same repository with another tag (and no digest). */
  withTag(tag: string): Reference {
    checkTag(this.toString(), tag);
    return new Reference({ registry: this.registry, repository: this.repository, tag });
  }

  /** The same repository pinned to `digest` (the tag is kept). */
  withDigest(digest: string): Reference {
    checkDigest(this.toString(), digest);
    return new Reference({
      registry: this.registry,
      repository: this.repository,
      tag: this.tag,
      digest,
    });
  }
}

/**
 * Parses a reference; throws {@link InvalidReferenceError} naming the rule broken.
 *
 * @example
 * ```ts
 * import { parseReference } from "./reference.ts";
 * const ref = parseReference("localhost:5000/team/app:1.0");
 * console.assert(ref.registry === "localhost:5000" && ref.repository === "team/app" && ref.tag === "1.0");
 * ```
 */
export function parseReference(
  s: string,
  options: { defaultTag?: string | false } = {},
): Reference {
  const input = s;
  if (!s || !s.trim()) throw new InvalidReferenceError(input, "empty reference");
  if (/\s/.test(s)) throw new InvalidReferenceError(input, "must not contain white space");
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) {
    throw new InvalidReferenceError(input, "must not include a scheme");
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
    if (
      first.includes(".") || first.includes(":") || first === "localhost" || first.startsWith("[")
    ) {
      registry = first;
      rest = s.slice(slash + 1);
      const m = HOST.exec(registry);
      if (!m) throw new InvalidReferenceError(input, `invalid registry "${registry}"`);
      if (m[1] !== undefined && (Number(m[1]) < 1 || Number(m[1]) > 65535)) {
        throw new InvalidReferenceError(input, "invalid registry port");
      }
      if (registry.toLowerCase() === "index.docker.io") registry = DOCKER_HUB;
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
    if (!COMPONENT.test(c)) {
      throw new InvalidReferenceError(
        input,
        `invalid repository component "${c}": must match [a-z0-9]+ separated by ".", "_", "__" or "-"`,
      );
    }
  }
  if (registry === DOCKER_HUB && !rest.includes("/")) rest = `library/${rest}`;
  if (`${registry}/${rest}`.length > MAX_NAME) {
    throw new InvalidReferenceError(input, `name is longer than ${MAX_NAME} characters`);
  }
  const defaultTag = options.defaultTag ?? "latest";
  if (tag === undefined && digest === undefined && defaultTag !== false) tag = defaultTag;
  return new Reference({ registry, repository: rest, tag, digest });
}

function checkTag(input: string, tag: string): void {
  if (tag.length > 128) throw new InvalidReferenceError(input, "tag is longer than 128 characters");
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
    throw new InvalidReferenceError(
      input,
      `invalid digest "${digest}": ${
        (e as Error).message.replace(/^Invalid digest "[^"]*": /, "")
      }`,
      { cause: e },
    );
  }
}

/**
 * The host to send API requests to: Docker Hub's API host for `docker.io`.
 *
 * @example
 * ```ts
 * import { registryApiHost } from "./reference.ts";
 * console.assert(registryApiHost("docker.io") === "registry-1.docker.io");
 * ```
 */
export function registryApiHost(registry: string): string {
  return registry === DOCKER_HUB || registry === "index.docker.io"
    ? "registry-1.docker.io"
    : registry;
}

/**
 * True for localhost, 127.0.0.0/8 and ::1 (with or without a port).
 *
 * @example
 * ```ts
 * import { isLoopbackRegistry } from "./reference.ts";
 * console.assert(isLoopbackRegistry("127.0.0.1:5000") && !isLoopbackRegistry("ghcr.io"));
 * ```
 */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith("[")
    ? registry.slice(1, registry.indexOf("]"))
    : registry.replace(/:\d+$/, "");
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Keys under which docker's `config.json` may hold credentials for `registry`, in order.
 *
 * @example
 * ```ts
 * import { credentialKeys } from "./reference.ts";
 * console.assert(credentialKeys("docker.io")[0] === "https://index.docker.io/v1/");
 * ```
 */
export function credentialKeys(registry: string): string[] {
  if (registry === DOCKER_HUB) {
    return ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"];
  }
  return [registry, `https://${registry}`, `http://${registry}`];
}

/**
 * A config key without scheme and path, for matching (`https://r.example/v1/` → `r.example`).
 *
 * @example
 * ```ts
 * import { normalizeConfigKey } from "./reference.ts";
 * console.assert(normalizeConfigKey("https://index.docker.io/v1/") === "index.docker.io");
 * ```
 */
export function normalizeConfigKey(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "").toLowerCase();
}
