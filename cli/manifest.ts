/**
 * `manifest-tool manifest create|annotate|push|inspect|rm`: docker manifest's workflow without
 * Docker. Lists live in the local store (`lib/local_store.ts`); `push` goes through the same engine
 * as `push from-spec` (mounts, streamed copies, nothing half-pushed); `inspect` prints what
 * `docker manifest inspect` prints, byte for byte.
 *
 * Unlike docker, a source that is an index is taken as its platform entries, sources may be in
 * other registries than the list, and a failed `create` leaves no half-made list behind.
 *
 * @module
 */

import { encodeBase64 } from "../lib/base64.ts";
import { RegistryError, UsageError } from "../lib/errors.ts";
import { entryName, inspect, platformOfConfig } from "../lib/inspect.ts";
import {
  findEntry,
  type LocalEntry,
  LocalStore,
  ManifestListExistsError,
  ManifestListNotFoundError,
} from "../lib/local_store.ts";
import {
  type Descriptor,
  type ImageConfig,
  isAttestation,
  parseManifest,
} from "../lib/manifest.ts";
import { DOCKER_LIST, isImageManifestMediaType, OCI_MANIFEST } from "../lib/media_types.ts";
import { type Platform, validatePlatform } from "../lib/platform.ts";
import { mapConcurrent } from "../lib/pool.ts";
import { type BlobAction, pushIndex, type PushOptions } from "../lib/push.ts";
import { parseReference, Reference } from "../lib/reference.ts";
import type { RegistryClient } from "../lib/registry/client.ts";
import type { Logger } from "../lib/registry/transport.ts";
import {
  type CommandContext,
  GLOBAL_HELP,
  makeClient,
  makeLogger,
  parseCommandArgs,
} from "./context.ts";
import { progressMode, pushResultJson } from "./output.ts";
import { startProgress } from "./progress.ts";

/** Help of `manifest`. */
export const MANIFEST_HELP = `Usage: manifest-tool manifest COMMAND [flags] ARGS

A drop-in for 'docker manifest' that needs no Docker: alias docker-manifest='manifest-tool manifest'.
Sources that are indexes are taken as their platform entries, and sources may be in other
registries than the list.

Commands:
  create [-a|--amend] [--insecure] LIST SOURCE...
      store a local list of the sources' manifests and platforms (read from their configs);
      --amend adds to an existing list, replacing entries of the same source or digest
  annotate [--os OS] [--arch ARCH] [--variant V] [--os-version V] [--os-features F,...] LIST SOURCE
      set the platform of an entry (an empty --variant, --os-version or --os-features clears it)
  push [--insecure] [-p|--purge] [--type docker|oci] [--json] LIST
      push the list (a Docker manifest list by default) and print its digest;
      --purge deletes the local list once the push succeeded; --json prints the push's JSON record
  inspect [--insecure] [-v|--verbose] [LIST] MANIFEST
      print a manifest or list as docker does: a local list, an entry of LIST, or the registry's
  rm LIST...
      delete local lists

Examples:
  manifest-tool manifest create registry.example/app:1.0 registry.example/app:1.0-amd64 registry.example/app:1.0-arm64
  manifest-tool manifest annotate --variant v8 registry.example/app:1.0 registry.example/app:1.0-arm64
  manifest-tool manifest push --purge registry.example/app:1.0

Lists are kept under $MANIFEST_TOOL_HOME, else $XDG_DATA_HOME/manifest-tool/manifests, else
~/.local/share/manifest-tool/manifests.

${GLOBAL_HELP}
`;

/** Runs `manifest`. */
export async function manifestCommand(ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = ctx.args;
  const sctx = { ...ctx, args: rest };
  switch (sub) {
    case "create":
      return await create(sctx);
    case "annotate":
      return await annotate(sctx);
    case "push":
      return await push(sctx);
    case "inspect":
      return await inspectCommand(sctx);
    case "rm":
      return await rm(sctx);
    case "--help":
    case "-h":
      ctx.out(MANIFEST_HELP);
      return 0;
    case undefined:
      ctx.err(MANIFEST_HELP);
      return 2;
    default:
      throw new UsageError(
        `Unknown manifest command "${sub}": expected create, annotate, push, inspect or rm`,
      );
  }
}

function help(ctx: CommandContext): number {
  ctx.out(MANIFEST_HELP);
  return 0;
}

function openStore(ctx: CommandContext): LocalStore {
  return new LocalStore(LocalStore.defaultDir(ctx.env));
}

function tryOpenStore(ctx: CommandContext): LocalStore | undefined {
  try {
    return openStore(ctx);
  } catch (e) {
    if (e instanceof UsageError) return undefined;
    throw e;
  }
}

/** A list's name as docker keys it: the normalised reference, which must be a tag. */
function listName(s: string): { ref: Reference; name: string } {
  const ref = parseReference(s);
  if (ref.digest) throw new UsageError(`Manifest list "${s}" must name a tag, not a digest`);
  return { ref, name: ref.toString() };
}

async function create(ctx: CommandContext): Promise<number> {
  const { values, positionals, globals } = parseCommandArgs(ctx, "manifest create", {
    amend: { type: "boolean", short: "a" },
  });
  if (values.help) return help(ctx);
  if (positionals.length < 2) {
    throw new UsageError("manifest create takes a list and at least one source: LIST SOURCE...");
  }
  const { ref, name } = listName(positionals[0]);
  // Every reference is parsed before any request: a malformed one is a usage error (exit 2).
  const sources = positionals.slice(1).map((s) => parseReference(s));
  const store = openStore(ctx);
  if (!values.amend && await store.exists(name)) throw new ManifestListExistsError(name);
  const logger = makeLogger(ctx, globals);
  const registries = [...new Set([ref.registry, ...sources.map((s) => s.registry)])];
  await using client = makeClient(ctx, globals, registries, logger);
  const entries = (await mapConcurrent(sources, 8, (s) => resolveSource(client, s, logger))).flat();
  if (values.amend) await store.amend(name, entries);
  else await store.create(name, entries);
  if (!globals.quiet) ctx.out(`Created manifest list ${name}\n`);
  return 0;
}

/**
 * The entries a source gives: an image with the platform its config names (as docker reads it),
 * or the platform images of an index (docker refuses those; attestations are left out).
 */
async function resolveSource(
  client: RegistryClient,
  ref: Reference,
  logger: Logger,
): Promise<LocalEntry[]> {
  const source = ref.toString();
  const top = await inspect(client, ref, { children: false });
  if (top.kind === "image") {
    const platform = platformOfConfig(top.config);
    if (!platform) {
      logger.warn(
        `"${source}" names no platform in its config: set one with manifest annotate --os --arch`,
      );
    }
    return [{
      ref: source,
      source,
      descriptor: { ...bare(top.descriptor), platform: platform ?? { os: "", architecture: "" } },
      raw: top.bytes,
    }];
  }
  const images = top.index.manifests.filter((d) =>
    !isAttestation(d) && isImageManifestMediaType(d.mediaType)
  );
  const others = top.index.manifests.length - images.length -
    top.index.manifests.filter(isAttestation).length;
  if (others > 0) logger.warn(`Leaving out ${others} entries of "${source}" that are not images`);
  if (images.length === 0) throw new Error(`Index "${source}" has no platform images`);
  const repo = client.repositoryOf(ref);
  try {
    return await mapConcurrent(images, 8, async (d) => {
      const m = await repo.getManifest(d.digest, d);
      let platform = d.platform;
      if ((!platform?.os || !platform.architecture) && m.parsed.kind === "image") {
        // An entry without a platform: read it from the image's config, as for a single image.
        const config = m.parsed.manifest.config;
        const bytes = /json$/i.test(config.mediaType)
          ? await repo.fetchBlobBytes(config)
          : undefined;
        platform = bytes
          ? platformOfConfig(parseConfig(bytes, entryName(source, d.digest)))
          : undefined;
      }
      return {
        ref: entryName(source, d.digest),
        source,
        descriptor: { ...bare(m.descriptor), platform: platform ?? { os: "", architecture: "" } },
        raw: m.bytes,
      };
    });
  } catch (e) {
    throw e instanceof RegistryError ? e.withContext(`"${source}"`) : e;
  }
}

function parseConfig(bytes: Uint8Array, what: string): ImageConfig {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new Error(`The config of "${what}" is not JSON`, { cause: e });
  }
}

function bare(d: Descriptor): Descriptor {
  return { mediaType: d.mediaType, digest: d.digest, size: d.size };
}

async function annotate(ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx, "manifest annotate", {
    os: { type: "string" },
    arch: { type: "string" },
    variant: { type: "string" },
    "os-version": { type: "string" },
    "os-features": { type: "string", multiple: true },
  });
  if (values.help) return help(ctx);
  if (positionals.length !== 2) {
    throw new UsageError("manifest annotate takes a list and one of its sources: LIST SOURCE");
  }
  const { name } = listName(positionals[0]);
  const store = openStore(ctx);
  const entry = findEntry(name, await store.entries(name), positionals[1]);
  const p: Platform = { ...entry.descriptor.platform };
  const str = (k: string) => values[k] as string | undefined;
  // As docker: an empty --os or --arch changes nothing; os features are added, not replaced.
  if (str("os")) p.os = str("os")!;
  if (str("arch")) p.architecture = str("arch")!;
  if (str("variant") !== undefined) {
    if (str("variant")) p.variant = str("variant");
    else delete p.variant;
  }
  if (str("os-version") !== undefined) {
    if (str("os-version")) p["os.version"] = str("os-version");
    else delete p["os.version"];
  }
  const features = values["os-features"] as string[] | undefined;
  if (features !== undefined) {
    const add = features.flatMap((f) => f.split(",")).map((f) => f.trim()).filter(Boolean);
    const all = add.length === 0 ? [] : [...new Set([...(p["os.features"] ?? []), ...add])];
    if (all.length > 0) p["os.features"] = all;
    else delete p["os.features"];
  }
  validatePlatform(p);
  await store.update(name, [{ ...entry, descriptor: { ...entry.descriptor, platform: p } }]);
  return 0;
}

async function push(ctx: CommandContext): Promise<number> {
  const { values, positionals, globals } = parseCommandArgs(ctx, "manifest push", {
    purge: { type: "boolean", short: "p" },
    type: { type: "string" },
    json: { type: "boolean" },
  });
  if (values.help) return help(ctx);
  if (positionals.length !== 1) throw new UsageError("manifest push takes one list: LIST");
  const type = (values.type as string | undefined) ?? "docker";
  if (type !== "docker" && type !== "oci") {
    throw new UsageError(`Invalid --type "${type}": expected docker or oci`);
  }
  const { ref, name } = listName(positionals[0]);
  const store = openStore(ctx);
  const entries = await store.entries(name);
  if (entries.length === 0) throw new Error(`Manifest list "${name}" has no entries`);
  for (const e of entries) {
    if (!e.descriptor.platform.os || !e.descriptor.platform.architecture) {
      throw new UsageError(
        `Entry "${e.ref}" of manifest list "${name}" has no platform: set it with manifest annotate --os OS --arch ARCH`,
      );
    }
  }
  const sources = entries.map((e) => parseReference(e.ref));
  const registries = [...new Set([ref.registry, ...sources.map((s) => s.registry)])];
  // Credentials given by flag go to the list's registry only, as for push from-spec.
  await using client = makeClient(ctx, globals, registries, makeLogger(ctx, globals), [
    ref.registry,
  ]);
  using progress = startProgress(ctx, progressMode({ ...ctx, globals }));
  // `onBlob` is typed here until PushOptions declares it; the engine calls it once per blob.
  const pushOptions: PushOptions & { onBlob?: (a: BlobAction) => void } = {
    format: type,
    onProgress: progress.onProgress,
    onBlob: progress.onBlob,
  };
  const result = await pushIndex(client, {
    image: name,
    // By digest: exactly the manifests stored, whatever their tags point at now.
    manifests: entries.map((e, i) => ({
      image: new Reference({
        registry: sources[i].registry,
        repository: sources[i].repository,
        digest: e.descriptor.digest,
      }).toString(),
      platform: e.descriptor.platform,
    })),
  }, pushOptions);
  progress.stop();
  if (values.purge) await store.remove(name);
  if (values.json) {
    ctx.out(JSON.stringify(pushResultJson(result), null, 2) + "\n");
    return 0;
  }
  // docker prints the digest alone on the last line; so do we (and nothing else on stdout).
  ctx.out(`${result.descriptor.digest}\n`);
  return 0;
}

async function inspectCommand(ctx: CommandContext): Promise<number> {
  const { values, positionals, globals } = parseCommandArgs(ctx, "manifest inspect", {
    verbose: { type: "boolean", short: "v" },
  });
  if (values.help) return help(ctx);
  if (positionals.length < 1 || positionals.length > 2) {
    throw new UsageError("manifest inspect takes [LIST] MANIFEST");
  }
  const verbose = values.verbose === true;
  if (positionals.length === 2) {
    // An entry of a local list, as docker stored it.
    const { name } = listName(positionals[0]);
    const e = findEntry(name, await openStore(ctx).entries(name), positionals[1]);
    ctx.out(verbose ? verboseJson([localVerbose(e)], false) : localRawJson(e.raw));
    return 0;
  }
  const ref = parseReference(positionals[0]);
  // As docker: a local list of that name first, then the registry. Without a place for a store
  // (no HOME) there is no local list, and the registry still answers.
  const store = ref.digest ? undefined : tryOpenStore(ctx);
  const local = await store?.find(ref.toString());
  if (local) {
    ctx.out(
      verbose
        ? verboseJson(local.map(localVerbose), true)
        : listJson(DOCKER_LIST, local.map((e) => e.descriptor)),
    );
    return 0;
  }
  await using client = makeClient(ctx, globals, [ref.registry], makeLogger(ctx, globals));
  const top = await inspect(client, ref, { configs: verbose, children: false });
  const name = ref.toString();
  if (top.kind === "image") {
    if (!verbose) {
      ctx.out(goIndent(new TextDecoder().decode(top.bytes), "\t") + "\n");
      return 0;
    }
    // docker fills the platform from the config, empty when the config has none.
    const c = top.config ?? {};
    const platform: Platform = { os: c.os ?? "", architecture: c.architecture ?? "" };
    if (c.variant) platform.variant = c.variant;
    if (c["os.version"]) platform["os.version"] = c["os.version"];
    if (c["os.features"]?.length) platform["os.features"] = c["os.features"];
    ctx.out(
      verboseJson(
        [{ ref: name, descriptor: { ...top.descriptor, platform }, raw: top.bytes }],
        false,
      ),
    );
    return 0;
  }
  if (!verbose) {
    // docker rebuilds the list from its entries: its own field order, no annotations.
    ctx.out(listJson(top.descriptor.mediaType, top.index.manifests));
    return 0;
  }
  // Every image entry, attestations too, with the platform the list gives it.
  const repo = client.repositoryOf(ref);
  const images = top.index.manifests.filter((d) => isImageManifestMediaType(d.mediaType));
  let entries: VerboseEntry[];
  try {
    entries = await mapConcurrent(images, 8, async (d) => {
      const m = await repo.getManifest(d.digest, d);
      return {
        ref: entryName(name, d.digest),
        descriptor: { ...bare(m.descriptor), platform: d.platform },
        raw: m.bytes,
      };
    });
  } catch (e) {
    throw e instanceof RegistryError ? e.withContext(`"${name}"`) : e;
  }
  ctx.out(verboseJson(entries, true));
  return 0;
}

async function rm(ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx, "manifest rm", {});
  if (values.help) return help(ctx);
  if (positionals.length === 0) {
    throw new UsageError("manifest rm takes at least one list: LIST...");
  }
  const names = positionals.map((l) => listName(l).name);
  const store = openStore(ctx);
  const missing: string[] = [];
  // As docker: every list that exists is removed, then the missing ones are reported.
  for (const name of names) if (!await store.remove(name)) missing.push(name);
  if (missing.length > 0) throw new ManifestListNotFoundError(missing);
  return 0;
}

// docker's output. `docker manifest inspect` prints an image's bytes through Go's json.Indent
// (tabs, its own escapes and trailing white space kept) and everything else through
// json.MarshalIndent: a list as distribution's manifestlist builds it (three spaces, fixed field
// order, a platform on every entry), the verbose view as tab-indented structs whose manifests are
// compacted with HTML escaping. The helpers below reproduce that on the exact bytes, not on a
// JSON.parse round trip (which would reorder numeric keys and change escapes and numbers).

/** An entry in docker's verbose view (`types.ImageManifest`). */
interface VerboseEntry {
  ref: string;
  descriptor: Descriptor;
  raw: Uint8Array;
}

function localVerbose(e: LocalEntry): VerboseEntry {
  return { ref: e.ref, descriptor: e.descriptor, raw: e.raw };
}

/** A locally stored entry without -v: docker prints its compacted copy, re-indented. */
function localRawJson(raw: Uint8Array): string {
  return goIndent(goCompact(new TextDecoder().decode(raw)), "\t") + "\n";
}

/** `manifestlist.FromDescriptors` output: schemaVersion, mediaType, entries with platforms. */
function listJson(mediaType: string, entries: Descriptor[]): string {
  const items = entries.map((d) =>
    `{"mediaType":${goString(d.mediaType)},"size":${d.size},"digest":${goString(d.digest)},` +
    `"platform":${platformJson(d.platform, true)}}`
  );
  const text = `{"schemaVersion":2,"mediaType":${goString(mediaType)},"manifests":[${
    items.join(",")
  }]}`;
  return goIndent(text, "   ") + "\n";
}

/** docker's `-v` view: one object, or an array of them for a list. */
function verboseJson(entries: VerboseEntry[], asList: boolean): string {
  const items = entries.map((e) => {
    const d = e.descriptor;
    const manifestKey = d.mediaType === OCI_MANIFEST ? "OCIManifest" : "SchemaV2Manifest";
    const text = new TextDecoder().decode(e.raw);
    // A manifest that does not parse has no typed view in docker either.
    let typed = "";
    try {
      parseManifest(e.raw);
      typed = `,"${manifestKey}":${goCompact(text)}`;
    } catch { /* left out */ }
    return `{"Ref":${goString(e.ref)},"Descriptor":{"mediaType":${goString(d.mediaType)},` +
      `"digest":${goString(d.digest)},"size":${d.size},"platform":${
        platformJson(d.platform, false)
      }},"Raw":"${encodeBase64(e.raw)}"${typed}}`;
  });
  return goIndent(asList ? `[${items.join(",")}]` : items[0], "\t") + "\n";
}

/**
 * A platform in Go's field order. `withFeatures`: distribution's PlatformSpec (which has
 * `features`); otherwise the OCI Platform docker's verbose view uses (which does not).
 */
function platformJson(p: Platform | undefined, withFeatures: boolean): string {
  const parts = [
    `"architecture":${goString(p?.architecture ?? "")}`,
    `"os":${goString(p?.os ?? "")}`,
  ];
  if (p?.["os.version"]) parts.push(`"os.version":${goString(p["os.version"])}`);
  if (p?.["os.features"]?.length) {
    parts.push(`"os.features":[${p["os.features"].map(goString).join(",")}]`);
  }
  if (p?.variant) parts.push(`"variant":${goString(p.variant)}`);
  if (withFeatures && p?.features?.length) {
    parts.push(`"features":[${p.features.map(goString).join(",")}]`);
  }
  return `{${parts.join(",")}}`;
}

/** A string as Go's encoding/json writes it: `<`, `>`, `&`, U+2028 and U+2029 escaped. */
function goString(s: string): string {
  return escapeHtml(JSON.stringify(s));
}

function escapeHtml(s: string): string {
  return s.replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Go's json.Compact with HTML escaping, as encoding/json applies it to a Marshaler's output. */
function goCompact(text: string): string {
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
 * Go's json.Indent: white space between tokens dropped, a new line and `indent` per level, `{}`
 * and `[]` kept empty, string contents untouched, white space after the value kept.
 */
function goIndent(text: string, indent: string): string {
  let out = "";
  let depth = 0;
  let needIndent = false;
  let inString = false;
  let escaped = false;
  let started = false;
  const newline = (d: number) => "\n" + indent.repeat(d);
  for (const c of text) {
    if (inString) {
      out += c;
      if (escaped) escaped = false;
      else if (c === "\\") escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      if (started && depth === 0 && !needIndent) out += c; // after the value: kept, as Go does
      continue;
    }
    started = true;
    if (needIndent && c !== "}" && c !== "]") {
      needIndent = false;
      depth++;
      out += newline(depth);
    }
    switch (c) {
      case "{":
      case "[":
        needIndent = true;
        out += c;
        break;
      case ",":
        out += c + newline(depth);
        break;
      case ":":
        out += ": ";
        break;
      case "}":
      case "]":
        if (needIndent) needIndent = false;
        else {
          depth--;
          out += newline(depth);
        }
        out += c;
        break;
      case '"':
        inString = true;
        out += c;
        break;
      default:
        out += c;
    }
  }
  return out;
}
