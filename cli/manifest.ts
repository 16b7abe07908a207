/**
 * `manifest-tool manifest create|annotate|push|inspect|rm`: docker manifest's workflow without
 * Docker. Lists live in the local store (`lib/local_store.ts`); `push` goes through the same engine
 * as `push from-spec` (mounts, streamed copies, nothing half-pushed).
 *
 * @module
 */

import { decodeBase64, encodeBase64 } from "./_base64.ts";
import { UsageError } from "../lib/errors.ts";
import { inspect } from "../lib/inspect.ts";
import { type LocalEntry, LocalStore } from "../lib/local_store.ts";
import { type Descriptor, isAttestation } from "../lib/manifest.ts";
import { DOCKER_LIST, OCI_MANIFEST } from "../lib/media_types.ts";
import { type Platform, validatePlatform } from "../lib/platform.ts";
import { mapConcurrent } from "../lib/pool.ts";
import { pushIndex } from "../lib/push.ts";
import { parseReference, Reference } from "../lib/reference.ts";
import type { RegistryClient } from "../lib/registry/client.ts";
import {
  type CommandContext,
  GLOBAL_HELP,
  makeClient,
  makeLogger,
  parseCommandArgs,
} from "./context.ts";

/** Help of `manifest`. */
export const MANIFEST_HELP = `Usage: manifest-tool manifest COMMAND

A drop-in for 'docker manifest' that needs no Docker: alias docker-manifest='manifest-tool manifest'.

Commands:
  create [--amend] LIST SOURCE...        store a local list of the sources' manifests (indexes are expanded)
  annotate [flags] LIST SOURCE           set --os, --arch, --variant, --os-version, --os-features of an entry
  push [--purge] [--type docker|oci] LIST
                                         push the list (docker type by default) and print its digest
  inspect [-v|--verbose] [LIST] MANIFEST show a manifest or list (a local entry when LIST is given)
  rm LIST...                             delete local lists

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
      return await inspectCmd(sctx);
    case "rm":
      return await rm(sctx);
    case undefined:
    case "--help":
    case "-h":
      ctx.out(MANIFEST_HELP);
      return sub === undefined ? 2 : 0;
    default:
      throw new UsageError(
        `Unknown manifest command "${sub}": expected create, annotate, push, inspect or rm`,
      );
  }
}

function store(ctx: CommandContext): LocalStore {
  return new LocalStore(LocalStore.defaultDir(ctx.env));
}

/** The list name as docker keys it: the normalised reference. */
function listName(s: string): { ref: Reference; name: string } {
  const ref = parseReference(s);
  if (ref.digest) throw new UsageError(`Manifest list "${s}" must be a tag, not a digest`);
  return { ref, name: ref.toString() };
}

async function resolveEntries(client: RegistryClient, source: string): Promise<LocalEntry[]> {
  const ref = parseReference(source);
  const top = await inspect(client, ref, { children: false });
  const bytes = top.bytes;
  if (top.kind === "image") {
    const c = top.config ?? {};
    if (!c.os || !c.architecture) {
      throw new UsageError(`Cannot tell the platform of "${source}" from its config`);
    }
    const platform: Platform = { os: c.os, architecture: c.architecture };
    if (c.variant) platform.variant = c.variant;
    if (c["os.version"]) platform["os.version"] = c["os.version"];
    if (c["os.features"]?.length) platform["os.features"] = c["os.features"];
    return [{
      ref: ref.withDigest(top.descriptor.digest).toString(),
      descriptor: {
        mediaType: top.descriptor.mediaType,
        digest: top.descriptor.digest,
        size: top.descriptor.size,
        platform,
      },
      raw: encodeBase64(bytes),
    }];
  }
  // docker refuses a source that is an index; its platform entries are what the user means.
  const repo = client.repositoryOf(ref);
  const children = top.index.manifests.filter((d) => !isAttestation(d) && d.platform);
  return await mapConcurrent(children, 8, async (d) => {
    const m = await repo.getManifest(d.digest, d);
    return {
      ref: new Reference({ registry: ref.registry, repository: ref.repository, digest: d.digest })
        .toString(),
      descriptor: { mediaType: d.mediaType, digest: d.digest, size: d.size, platform: d.platform! },
      raw: encodeBase64(m.bytes),
    };
  });
}

async function create(ctx: CommandContext): Promise<number> {
  const { values, positionals, globals } = parseCommandArgs(ctx, "manifest create", {
    amend: { type: "boolean", short: "a" },
  });
  if (values.help) return help(ctx);
  if (positionals.length < 2) {
    throw new UsageError("manifest create needs a list and at least one source");
  }
  const [list, ...sources] = positionals;
  const { ref, name } = listName(list);
  for (const s of sources) parseReference(s);
  const st = store(ctx);
  if (!values.amend && await st.exists(name)) {
    throw new UsageError(`Manifest list "${name}" exists already: use --amend to add to it`);
  }
  const registries = [
    ...new Set([ref.registry, ...sources.map((s) => parseReference(s).registry)]),
  ];
  await using client = makeClient(ctx, globals, registries, makeLogger(ctx, globals));
  const entries = (await mapConcurrent(sources, 8, (s) => resolveEntries(client, s))).flat();
  await st.create(name);
  // --amend replaces an entry of the same digest: entries are keyed by their ref, which holds it.
  for (const e of entries) await st.put(name, e);
  ctx.out(`Created manifest list ${name}\n`);
  return 0;
}

/** Finds the entry a user names: by digest, or by the reference the source was created from. */
async function findEntry(st: LocalStore, list: string, source: string): Promise<LocalEntry> {
  const entries = await st.entries(list);
  if (!entries) {
    throw new UsageError(`No local manifest list "${list}": create it with manifest create`);
  }
  const want = parseReference(source, { defaultTag: false });
  const match = entries.find((e) => {
    const r = parseReference(e.ref, { defaultTag: false });
    if (want.digest) return r.digest === want.digest;
    return r.name === want.name;
  });
  if (!match) throw new UsageError(`Manifest list "${list}" has no entry for "${source}"`);
  return match;
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
    throw new UsageError("manifest annotate takes a list and one source");
  }
  const { name } = listName(positionals[0]);
  const st = store(ctx);
  const entry = await findEntry(st, name, positionals[1]);
  const p: Platform = { ...entry.descriptor.platform };
  if (values.os !== undefined) p.os = values.os as string;
  if (values.arch !== undefined) p.architecture = values.arch as string;
  if (values.variant !== undefined) {
    if (values.variant) p.variant = values.variant as string;
    else delete p.variant;
  }
  if (values["os-version"] !== undefined) p["os.version"] = values["os-version"] as string;
  if (values["os-features"] !== undefined) {
    p["os.features"] = (values["os-features"] as string[]).flatMap((f) => f.split(",")).filter(
      Boolean,
    );
  }
  validatePlatform(p);
  entry.descriptor.platform = p;
  await st.put(name, entry);
  return 0;
}

async function push(ctx: CommandContext): Promise<number> {
  const { values, positionals, globals } = parseCommandArgs(ctx, "manifest push", {
    purge: { type: "boolean", short: "p" },
    type: { type: "string" },
  });
  if (values.help) return help(ctx);
  if (positionals.length !== 1) throw new UsageError("manifest push takes one list");
  const type = (values.type as string | undefined) ?? "docker";
  if (type !== "docker" && type !== "oci") {
    throw new UsageError(`Invalid --type "${type}": expected docker or oci`);
  }
  const { ref, name } = listName(positionals[0]);
  const st = store(ctx);
  const entries = await st.entries(name);
  if (!entries) {
    throw new UsageError(`No local manifest list "${name}": create it with manifest create`);
  }
  if (entries.length === 0) throw new UsageError(`Manifest list "${name}" is empty`);
  const registries = [
    ...new Set([ref.registry, ...entries.map((e) => parseReference(e.ref).registry)]),
  ];
  await using client = makeClient(ctx, globals, registries, makeLogger(ctx, globals), [
    ref.registry,
  ]);
  const result = await pushIndex(client, {
    image: name,
    // By digest: exactly the manifests stored, whatever their tags point at now.
    manifests: entries.map((e) => ({
      image: byDigest(e.ref, e.descriptor.digest),
      platform: e.descriptor.platform,
    })),
  }, { format: type });
  if (values.purge) await st.remove(name);
  ctx.out(`${result.descriptor.digest}\n`);
  return 0;
}

async function inspectCmd(ctx: CommandContext): Promise<number> {
  const { values, positionals, globals } = parseCommandArgs(ctx, "manifest inspect", {
    verbose: { type: "boolean", short: "v" },
  });
  if (values.help) return help(ctx);
  if (positionals.length < 1 || positionals.length > 2) {
    throw new UsageError("manifest inspect takes [LIST] MANIFEST");
  }
  const st = store(ctx);
  const verbose = values.verbose === true;
  if (positionals.length === 2) {
    const { name } = listName(positionals[0]);
    const e = await findEntry(st, name, positionals[1]);
    const raw = decodeBase64(e.raw);
    ctx.out(
      verbose
        ? tabs(verboseEntry(`${name}@${e.descriptor.digest}`, e.descriptor, raw))
        : indentRaw(raw),
    );
    return 0;
  }
  const only = positionals[0];
  const local = await st.entries(parseReference(only).toString());
  if (local) {
    // A local list: shown as the list `manifest push` would write, as docker does.
    const name = parseReference(only).toString();
    ctx.out(
      verbose
        ? tabs(
          local.map((e) =>
            verboseEntry(`${name}@${e.descriptor.digest}`, e.descriptor, decodeBase64(e.raw))
          ),
        )
        : listJson(DOCKER_LIST, local.map((e) => e.descriptor)),
    );
    return 0;
  }
  const ref = parseReference(only);
  await using client = makeClient(ctx, globals, [ref.registry], makeLogger(ctx, globals));
  const top = await inspect(client, ref, { children: false, configs: verbose });
  if (top.kind === "image") {
    if (!verbose) {
      ctx.out(indentRaw(top.bytes));
      return 0;
    }
    const c = top.config ?? {};
    const platform: Platform = { os: c.os ?? "", architecture: c.architecture ?? "" };
    if (c.variant) platform.variant = c.variant;
    if (c["os.version"]) platform["os.version"] = c["os.version"];
    ctx.out(tabs(verboseEntry(ref.toString(), { ...top.descriptor, platform }, top.bytes)));
    return 0;
  }
  if (!verbose) {
    ctx.out(listJson(top.descriptor.mediaType, top.index.manifests));
    return 0;
  }
  const repo = client.repositoryOf(ref);
  const out = await mapConcurrent(top.index.manifests, 8, async (d) => {
    const m = await repo.getManifest(d.digest, d);
    return verboseEntry(`${ref}@${d.digest}`, d, m.bytes);
  });
  ctx.out(tabs(out));
  return 0;
}

/** docker's order of platform fields. */
function platformJson(p: Platform): Record<string, unknown> {
  const o: Record<string, unknown> = { architecture: p.architecture, os: p.os };
  if (p["os.version"]) o["os.version"] = p["os.version"];
  if (p["os.features"]?.length) o["os.features"] = p["os.features"];
  if (p.variant) o.variant = p.variant;
  if (p.features?.length) o.features = p.features;
  return o;
}

/**
 * A list as docker prints it: three-space indentation, its own field order, and (as docker's list
 * type has none) no annotations: use `manifest-tool inspect --raw` to see those.
 */
function listJson(mediaType: string, entries: Descriptor[]): string {
  const doc: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType,
    manifests: entries.map((d) => {
      const o: Record<string, unknown> = { mediaType: d.mediaType, size: d.size, digest: d.digest };
      if (d.platform) o.platform = platformJson(d.platform);
      return o;
    }),
  };
  return JSON.stringify(doc, null, 3) + "\n";
}

/** docker's verbose structure of one manifest. */
function verboseEntry(ref: string, descriptor: Descriptor, raw: Uint8Array): unknown {
  const doc = JSON.parse(new TextDecoder().decode(raw));
  const key = descriptor.mediaType === OCI_MANIFEST ? "OCIManifest" : "SchemaV2Manifest";
  const d: Record<string, unknown> = {
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
  };
  if (descriptor.platform) d.platform = platformJson(descriptor.platform);
  return { Ref: ref, Descriptor: d, Raw: encodeBase64(raw), [key]: doc };
}

/** Tab-indented JSON, as docker prints its verbose output. */
function tabs(v: unknown): string {
  return JSON.stringify(v, null, "\t") + "\n";
}

/** The raw manifest re-indented with tabs, keeping its trailing white space (docker's json.Indent). */
function indentRaw(raw: Uint8Array): string {
  const text = new TextDecoder().decode(raw);
  const trailing = /\s*$/.exec(text)?.[0] ?? "";
  return JSON.stringify(JSON.parse(text), null, "\t") + trailing + "\n";
}

function byDigest(ref: string, digest: string): string {
  const r = parseReference(ref);
  return new Reference({ registry: r.registry, repository: r.repository, digest }).toString();
}

async function rm(ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx, "manifest rm", {});
  if (values.help) return help(ctx);
  if (positionals.length === 0) throw new UsageError("manifest rm takes at least one list");
  const st = store(ctx);
  const missing: string[] = [];
  for (const l of positionals) {
    const { name } = listName(l);
    if (!await st.remove(name)) missing.push(name);
  }
  if (missing.length > 0) {
    throw new UsageError(`No such manifest list: ${missing.map((m) => `"${m}"`).join(", ")}`);
  }
  return 0;
}

function help(ctx: CommandContext): number {
  ctx.out(MANIFEST_HELP);
  return 0;
}
