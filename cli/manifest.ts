/**
 * `manifest-tool manifest create|annotate|push|inspect|rm`: a drop-in for `docker manifest` that
 * needs no Docker. It works in docker's own manifest store (`lib/local_store.ts`), prints docker's
 * lines and messages, and `push` sends the bytes docker sends (`lib/list_push.ts`). This file only
 * parses arguments, prints and returns exit codes; the work is in `lib/list_*.ts`.
 *
 * @module
 */

import { escapeJsonText, jsonText } from "../lib/format/escape.ts";
import { UsageError } from "../lib/errors.ts";
import { storedEntryView, storedListView } from "../lib/format/docker_json.ts";
import { annotatePlatform } from "../lib/list_annotate.ts";
import { inspectRemote } from "../lib/list_inspect.ts";
import { pushList } from "../lib/list_push.ts";
import { createList } from "../lib/list_sources.ts";
import {
  findEntry,
  type LocalEntry,
  LocalStore,
  ManifestEntryNotFoundError,
  ManifestListNotFoundError,
} from "../lib/local_store.ts";
import type { IndexFormat } from "../lib/media_types.ts";
import { parseReference, type Reference } from "../lib/reference.ts";
import {
  type CommandContext,
  type GlobalOptions,
  makeClient,
  makeLogger,
  parseCommandArgs,
} from "./context.ts";
import { progressMode } from "./output.ts";
import { pushResultJson } from "../lib/format/push.ts";
import { takeReferrersFlag } from "./_referrers_flag.ts";
import { referrersLine } from "./_push_referrers.ts";
import { startProgress } from "./progress.ts";

const STORE_HELP = `Lists are kept in docker's manifest store, shared with 'docker manifest':
$DOCKER_CONFIG/manifests, else ~/.docker/manifests (--docker-cfg DIR: DIR/manifests);
MANIFEST_TOOL_HOME names a separate store instead.

Global flags (--username, --password, --docker-cfg, --plain-http, --ca-file, --timeout, --debug):
see 'manifest-tool --help'.`;

/**
 * docker treats loopback registries as insecure ones: their certificates are not verified. So do
 * the `manifest` commands (the others verify every certificate).
 */
const DOCKER_LOOPBACK = { loopbackUnverified: true } as const;

/** Help of `manifest`. */
export const MANIFEST_HELP = `Usage: manifest-tool manifest COMMAND

A drop-in for 'docker manifest' that needs no Docker: alias docker-manifest='manifest-tool manifest'.
Beyond docker: a source that is an index gives its platform images, sources may be in other
registries than the list, and a loopback registry needs no --insecure.

Commands:
  annotate    Add additional information to a local image manifest
  create      Create a local manifest list for annotating and pushing to a registry
  inspect     Display an image manifest, or manifest list
  push        Push a manifest list to a repository
  rm          Delete one or more manifest lists from local storage

Examples:
  manifest-tool manifest create registry.example/app:1.0 registry.example/app:1.0-amd64 registry.example/app:1.0-arm64
  manifest-tool manifest annotate --variant v8 registry.example/app:1.0 registry.example/app:1.0-arm64
  manifest-tool manifest push --purge registry.example/app:1.0

${STORE_HELP}

Run 'manifest-tool manifest COMMAND --help' for more information on a command.
`;

/** Help of each subcommand: docker's usage and flags, and what we do beyond them. */
export const SUBCOMMAND_HELP: Record<string, string> = {
  create: `Usage: manifest-tool manifest create [OPTIONS] MANIFEST_LIST MANIFEST [MANIFEST...]

Create a local manifest list for annotating and pushing to a registry.
Each MANIFEST gives its digest and the platform its config names; a MANIFEST that is an index
gives one entry per platform image (attestations left out). A MANIFEST the list holds already is
kept as it is.

Options:
  -a, --amend      Amend an existing manifest list
      --insecure   Allow communication with an insecure registry

${STORE_HELP}
`,
  annotate: `Usage: manifest-tool manifest annotate [OPTIONS] MANIFEST_LIST MANIFEST

Add additional information to a local image manifest.
An empty --variant, --os-version or --os-features clears the field (docker keeps it). What is set
here is what 'manifest push' publishes.

Options:
      --arch string           Set architecture
      --os string             Set operating system
      --os-features strings   Set operating system feature
      --os-version string     Set operating system version
      --variant string        Set architecture variant

${STORE_HELP}
`,
  push: `Usage: manifest-tool manifest push [OPTIONS] MANIFEST_LIST

Push a manifest list to a repository.
Without --type the bytes are docker's for the same list (same digest): an OCI index when the
first entry is an OCI manifest, else a Docker manifest list. Entries from other repositories (or
registries) are copied into the list's repository first.

Options:
      --insecure   Allow push to an insecure registry
  -p, --purge      Remove the local manifest list after push
      --type TYPE  docker (a Docker manifest list) or oci (an OCI index with the entries' annotations)
      --json       Print the push's JSON record instead of the lines
      --referrers[=TYPES]
                   Then copy the entries' referrers (signatures, SBOMs, attestations; TYPES:
                   comma-separated artifact types) into the list's repository

${STORE_HELP}
`,
  inspect: `Usage: manifest-tool manifest inspect [OPTIONS] [MANIFEST_LIST] MANIFEST

Display an image manifest, or manifest list.
MANIFEST alone: a local list of that name, else the registry's manifest or list.

Options:
      --insecure   Allow communication with an insecure registry
  -v, --verbose    Output additional info including layers and platform

${STORE_HELP}
`,
  rm: `Usage: manifest-tool manifest rm MANIFEST_LIST [MANIFEST_LIST...]

Delete one or more manifest lists from local storage.

${STORE_HELP}
`,
};

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

/** Arguments of a subcommand; its help when asked; docker's message for a wrong count. */
function parse(
  ctx: CommandContext,
  sub: string,
  options: Parameters<typeof parseCommandArgs>[2],
  count: { min: number; max: number },
) {
  const parsed = parseCommandArgs(ctx, `manifest ${sub}`, options);
  if (parsed.values.help) return { ...parsed, help: true };
  const n = parsed.positionals.length;
  if (n < count.min || n > count.max) {
    const noun = (k: number) => `${k} argument${k === 1 ? "" : "s"}`;
    const want = count.min === count.max
      ? noun(count.min)
      : count.max === Infinity
      ? `at least ${noun(count.min)}`
      : `at least ${count.min} and at most ${noun(count.max)}`;
    throw new UsageError(`'manifest-tool manifest ${sub}' requires ${want}`);
  }
  return { ...parsed, help: false };
}

function help(ctx: CommandContext, sub: string): number {
  ctx.out(SUBCOMMAND_HELP[sub]);
  return 0;
}

function openStore(ctx: CommandContext, globals: GlobalOptions): LocalStore {
  return new LocalStore(LocalStore.defaultDir(ctx.env, globals.dockerCfg));
}

/** A list's name as docker keys it: the normalised reference, which must be a tag. */
function listRef(s: string): Reference {
  const ref = parseReference(s);
  if (ref.digest) throw new UsageError(`Manifest list "${s}" must name a tag, not a digest`);
  return ref;
}

async function create(ctx: CommandContext): Promise<number> {
  const { values, positionals, globals, help: h } = parse(ctx, "create", {
    amend: { type: "boolean", short: "a" },
  }, { min: 2, max: Infinity });
  if (h) return help(ctx, "create");
  const list = listRef(positionals[0]);
  // Every reference is parsed before any request: a malformed one is a usage error (exit 2).
  const sources = positionals.slice(1).map((s) => parseReference(s));
  const store = openStore(ctx, globals);
  const logger = makeLogger(ctx, globals);
  const registries = [...new Set([list.registry, ...sources.map((s) => s.registry)])];
  await using client = makeClient(ctx, globals, registries, logger, registries, DOCKER_LOOPBACK);
  await createList(client, store, list, sources, { amend: values.amend === true, logger });
  if (!globals.quiet) ctx.out(`Created manifest list ${list}\n`);
  return 0;
}

async function annotate(ctx: CommandContext): Promise<number> {
  const { values, positionals, globals, help: h } = parse(ctx, "annotate", {
    os: { type: "string" },
    arch: { type: "string" },
    variant: { type: "string" },
    "os-version": { type: "string" },
    "os-features": { type: "string", multiple: true },
  }, { min: 2, max: 2 });
  if (h) return help(ctx, "annotate");
  const [typedList, typedEntry] = positionals;
  const name = listRef(typedList).toString();
  parseReference(typedEntry);
  const store = openStore(ctx, globals);
  const entries = await store.find(name);
  if (!entries) throw new ManifestEntryNotFoundError(typedList, typedEntry);
  let entry: LocalEntry;
  try {
    entry = findEntry(name, entries, typedEntry);
  } catch (e) {
    // docker names the list and the entry as typed.
    if (e instanceof ManifestEntryNotFoundError) {
      throw new ManifestEntryNotFoundError(typedList, typedEntry, { cause: e });
    }
    throw e;
  }
  const str = (k: string) => values[k] as string | undefined;
  const platform = annotatePlatform(entry.descriptor.platform, {
    os: str("os"),
    arch: str("arch"),
    variant: str("variant"),
    osVersion: str("os-version"),
    osFeatures: values["os-features"] as string[] | undefined,
  });
  await store.update(name, [{ ...entry, descriptor: { ...entry.descriptor, platform } }]);
  return 0;
}

async function push(ctx: CommandContext): Promise<number> {
  const { args, referrers } = takeReferrersFlag(ctx.args); // --referrers (issue 18)
  const { values, positionals, globals, help: h } = parse({ ...ctx, args }, "push", {
    purge: { type: "boolean", short: "p" },
    type: { type: "string" },
    json: { type: "boolean" },
  }, { min: 1, max: 1 });
  if (h) return help(ctx, "push");
  const type = values.type as string | undefined;
  if (type !== undefined && type !== "docker" && type !== "oci") {
    throw new UsageError(`Invalid --type "${type}": expected docker or oci`);
  }
  const list = listRef(positionals[0]);
  const store = openStore(ctx, globals);
  const entries = await store.entries(list.toString());
  const registries = [
    ...new Set([list.registry, ...entries.map((e) => parseReference(e.ref).registry)]),
  ];
  // Credentials given by flag go to the list's registry only, as for push from-spec.
  await using client = makeClient(
    ctx,
    globals,
    registries,
    makeLogger(ctx, globals),
    [list.registry],
    DOCKER_LOOPBACK,
  );
  using progress = startProgress(ctx, progressMode({ ...ctx, globals }));
  const result = await pushList(client, list, entries, type as IndexFormat | undefined, {
    onProgress: progress.onProgress,
    onBlob: progress.onBlob,
    // Copied in the same run once the list is committed; a failure throws (exit 1), the list stays.
    referrers,
  });
  progress.stop();
  if (values.purge) await store.remove(list.toString());
  const copied = result.push.referrers;
  if (values.json) {
    const json = pushResultJson(result.push);
    ctx.out(jsonText(copied ? { ...json, referrers: copied } : json, 2) + "\n");
    return 0;
  }
  if (!globals.quiet) {
    for (const p of result.pushedRefs) ctx.out(`Pushed ref ${p.ref} with digest: ${p.digest}\n`);
    if (copied) ctx.out(referrersLine(copied));
  }
  ctx.out(`${result.digest}\n`);
  return 0;
}

async function inspectCommand(ctx: CommandContext): Promise<number> {
  const { values, positionals, globals, help: h } = parse(ctx, "inspect", {
    verbose: { type: "boolean", short: "v" },
  }, { min: 1, max: 2 });
  if (h) return help(ctx, "inspect");
  const verbose = values.verbose === true;
  const ref = parseReference(positionals[positionals.length - 1]);
  if (positionals.length === 2) {
    // An entry of a local list, as stored.
    const name = listRef(positionals[0]).toString();
    const store = openStore(ctx, globals);
    const entry = await store.get(name, ref.toString()) ?? findStored(
      name,
      await store.find(name),
      ref,
    );
    ctx.out(escapeJsonText(storedEntryView(entry, verbose)));
    return 0;
  }
  // As docker: a local list of that name first, then the registry. Without a place for a store
  // (no HOME) there is no local list, and the registry still answers.
  const local = ref.digest ? undefined : await tryStore(ctx, globals)?.find(ref.toString());
  if (local) {
    ctx.out(escapeJsonText(storedListView(local, verbose)));
    return 0;
  }
  const logger = makeLogger(ctx, globals);
  const registries = [ref.registry];
  await using client = makeClient(ctx, globals, registries, logger, registries, DOCKER_LOOPBACK);
  // docker prints registry text raw; the same JSON, with what would act on a terminal escaped.
  ctx.out(escapeJsonText(await inspectRemote(client, ref, verbose)));
  return 0;
}

/** The entry `ref` names among a list's (by digest or index too); docker's error otherwise. */
function findStored(name: string, entries: LocalEntry[] | undefined, ref: Reference): LocalEntry {
  try {
    if (entries) return findEntry(name, entries, ref.toString());
  } catch (e) {
    if (!(e instanceof ManifestEntryNotFoundError)) throw e;
  }
  throw new ManifestListNotFoundError(ref.toString());
}

function tryStore(ctx: CommandContext, globals: GlobalOptions): LocalStore | undefined {
  try {
    return openStore(ctx, globals);
  } catch (e) {
    if (e instanceof UsageError) return undefined;
    throw e;
  }
}

async function rm(ctx: CommandContext): Promise<number> {
  const { positionals, globals, help: h } = parse(ctx, "rm", {}, { min: 1, max: Infinity });
  if (h) return help(ctx, "rm");
  const names = positionals.map((l) => listRef(l).toString());
  const store = openStore(ctx, globals);
  // As docker: every list that exists is removed, then each missing one is named on its own line.
  let missing = 0;
  for (const name of names) {
    if (await store.remove(name)) continue;
    missing++;
    ctx.err(`manifest-tool: ${new ManifestListNotFoundError(name).message}\n`);
  }
  return missing > 0 ? 1 : 0;
}
