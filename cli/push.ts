/**
 * `manifest-tool push [--type docker|oci] from-spec|from-args …`: manifest-tool v2's push, on the
 * engine of `lib/push.ts`.
 *
 * @module
 */

import { jsonText } from "../lib/format/escape.ts";
import { InterruptedError, UsageError } from "../lib/errors.ts";
import { outcomeLine, outcomeRecord, outcomeSummary, pushPlanText } from "../lib/format/push.ts";
import type { IndexFormat } from "../lib/media_types.ts";
import {
  pushIndex,
  pushIndexes,
  type PushRunOptions,
  type PushSpec,
  type SpecOutcome,
} from "../lib/push.ts";
import { parseReference } from "../lib/reference.ts";
import type { RegistryClient } from "../lib/registry/client.ts";
import { loadSpecs, parseShard } from "../lib/spec.ts";
import { specFromArgs } from "../lib/spec_args.ts";
import {
  type CommandContext,
  GLOBAL_HELP,
  makeClient,
  makeLogger,
  parseCommandArgs,
} from "./context.ts";
import { interruptSignal } from "./interrupt.ts";
import { progressMode } from "./output.ts";
import { pushResultJson } from "../lib/format/push.ts";
import { startProgress } from "./progress.ts";
import { verifyPushed } from "./verify.ts";
import { takeReferrersFlag } from "./_referrers_flag.ts";
import { referrersLine } from "./_push_referrers.ts";
import type { ParsedFlags } from "./_flags.ts";

/** Help of `push`. */
export const PUSH_HELP = `Usage:
  manifest-tool [global flags] push [--type docker|oci] from-spec [flags] FILE|DIR [FILE|DIR...]
  manifest-tool [global flags] push [--type docker|oci] from-args --platforms LIST --template T --target REF [flags]

Assemble per-platform images into one manifest list (--type docker, the default) or OCI image
index (--type oci) and push it. Sources in other repositories of the target registry are mounted,
sources in other registries are copied; the index is written only once every image it names is in
the target repository.

from-spec takes one or more files (several specs in one file are separated by "---") and
directories (their *.yaml and *.yml files, in name order). Every spec is checked before anything
is sent; then all of them are pushed in one run, sharing tokens, source reads and blob mounts. A
spec that fails leaves its tags untouched and does not stop the others (unless --fail-fast).

Flags:
  --type docker|oci       index media type (default docker)
  --ignore-missing        warn about and skip sources that cannot be read
  --dry-run               resolve and print the index and the plan, write nothing
  --json                  print a JSON description of what was pushed (an array for several specs)
  --verify                verify what was pushed (as the verify command) before the Digest line;
                          problems go to stderr, exit 1 on an error
  --referrers[=TYPES]     after the index, copy the referrers (signatures, SBOMs, attestations) of
                          every image it names into the target, to a depth of 3, keeping the
                          tag-schema fallback index where the registry has no referrers API;
                          TYPES (comma-separated) copies only those artifact types
from-spec flags:
  --fail-fast             with several specs, start no more after the first failure
  --shard I/N             push only specs I, I+N, I+2N, ... (1-based, across all files given)
from-args flags:
  --platforms LIST        comma-separated os/arch[/variant] (repeatable)
  --template T            source pattern; OS, ARCH and VARIANT are replaced per platform
  --target REF            the index to push
  --tags LIST             extra tags (comma-separated, repeatable)
  --annotations LIST      index annotations k=v (comma-separated, repeatable; OCI only)

Examples:
  manifest-tool push from-spec push.yaml
  manifest-tool push --type oci from-args --platforms linux/amd64,linux/arm/v7 \\
    --template registry.example/app:1.0-OS-ARCHVARIANT --target registry.example/app:1.0

The last line printed is "Digest: sha256:<hex> <size>". With several specs, one line per spec in
input order ("Digest: sha256:<hex> <size> <target>" or "Failed: <target>: <reason>"), then
"N pushed, M failed"; the exit code is 1 if any failed. Ctrl-C stops the run: nothing more is
committed, exit code 130.

${GLOBAL_HELP}
`;

const OPTIONS = {
  type: { type: "string" },
  "ignore-missing": { type: "boolean" },
  "dry-run": { type: "boolean" },
  json: { type: "boolean" },
  verify: { type: "boolean" },
  "fail-fast": { type: "boolean" },
  shard: { type: "string" },
  platforms: { type: "string", multiple: true },
  template: { type: "string" },
  target: { type: "string" },
  tags: { type: "string", multiple: true },
  annotations: { type: "string", multiple: true },
} as const;

/** Runs `push`. */
export async function pushCommand(ctx: CommandContext): Promise<number> {
  const { args, referrers } = takeReferrersFlag(ctx.args); // --referrers (issue 18)
  const { values, positionals, globals } = parseCommandArgs({ ...ctx, args }, "push", OPTIONS);
  if (values.help) {
    ctx.out(PUSH_HELP);
    return 0;
  }
  const type = (values.type as string | undefined) ?? "docker";
  if (type !== "docker" && type !== "oci") {
    throw new UsageError(`Invalid --type "${type}": expected docker or oci`);
  }
  const { specs, batch } = await readSpecs(positionals, values, type);

  const targets = specs.map((s) => parseReference(s.image).registry);
  const registries = [
    ...targets,
    ...specs.flatMap((s) => s.manifests.map((m) => parseReference(m.image).registry)),
  ];
  const logger = makeLogger(ctx, globals);
  // Flag credentials go to the target registries only, never to a source registry elsewhere.
  await using client = makeClient(ctx, globals, [...new Set(registries)], logger, [
    ...new Set(targets),
  ]);
  using interrupt = interruptSignal();
  const dryRun = values["dry-run"] === true;
  // The progress view on stderr (cli/progress.ts); a dry run transfers nothing.
  using progress = startProgress(ctx, dryRun ? "none" : progressMode({ ...ctx, globals }));
  const options: PushRunOptions = {
    format: type as IndexFormat,
    ignoreMissing: values["ignore-missing"] === true,
    dryRun,
    failFast: values["fail-fast"] === true,
    signal: interrupt.signal,
    onProgress: progress.onProgress,
    onBlob: progress.onBlob,
    // --referrers (issue 18): copied in the same run once each index is committed.
    referrers,
  };
  const run: PushRun = {
    ctx,
    client,
    options,
    json: values.json === true,
    quiet: globals.quiet === true,
    verify: values.verify === true,
    stopProgress: () => progress.stop(),
    onSpec: progress.onSpec,
  };
  return batch ? await pushBatch(run, specs) : await pushOne(run, specs[0]);
}

/** The specs a `push` names (from-spec files, or from-args flags) and whether to report as a batch. */
async function readSpecs(
  positionals: string[],
  values: ParsedFlags["values"],
  type: string,
): Promise<{ specs: PushSpec[]; batch: boolean }> {
  const [mode, ...rest] = positionals;
  if (mode === "from-spec") {
    for (const f of ["platforms", "template", "target", "tags", "annotations"]) {
      if (values[f] !== undefined) {
        throw new UsageError(`push from-spec: flag "--${f}" belongs to from-args`);
      }
    }
    if (rest.length === 0) {
      throw new UsageError("push from-spec takes YAML files or directories, got none");
    }
    const shard = values.shard === undefined ? undefined : parseShard(values.shard as string);
    const loaded = await loadSpecs(rest, { shard, format: type as IndexFormat });
    const specs = loaded.map((l) => l.spec);
    // One spec: today's output; several (or a shard of them): one line each and a summary.
    return { specs, batch: specs.length !== 1 || shard !== undefined };
  }
  if (mode === "from-args") {
    for (const f of ["fail-fast", "shard"]) {
      if (values[f] !== undefined) {
        throw new UsageError(`push from-args: flag "--${f}" belongs to from-spec`);
      }
    }
    if (rest.length > 0) {
      throw new UsageError(`push from-args takes no arguments, got "${rest[0]}"`);
    }
    const spec = specFromArgs({
      platforms: values.platforms as string[] | undefined,
      template: values.template as string | undefined,
      target: values.target as string | undefined,
      tags: values.tags as string[] | undefined,
      annotations: values.annotations as string[] | undefined,
    });
    return { specs: [spec], batch: false };
  }
  if (mode === undefined) throw new UsageError("push needs a mode: from-spec FILE or from-args");
  throw new UsageError(`Unknown push mode "${mode}": expected from-spec or from-args`);
}

/** What the output of a push depends on. */
interface PushRun {
  ctx: CommandContext;
  client: RegistryClient;
  options: PushRunOptions;
  json: boolean;
  quiet: boolean;
  verify: boolean;
  stopProgress(): void;
  /** Batch progress: specs ended out of all. */
  onSpec?: (done: number, total: number) => void;
}

async function pushOne(run: PushRun, spec: PushSpec): Promise<number> {
  const { ctx, client } = run;
  // With --referrers, a failure copying them throws ReferrersCopyError (exit 1): the index stays.
  const result = await pushIndex(client, spec, run.options);
  run.stopProgress();
  const copied = result.referrers;
  // push --verify (issue 17): check what was pushed before anything claims success.
  if (run.verify && !result.dryRun) {
    const code = await verifyPushed(ctx, client, result.target, result.descriptor.digest, {
      quiet: run.quiet,
    });
    if (code !== 0) return code;
  }
  if (run.json) {
    const json = pushResultJson(result);
    ctx.out(jsonText(copied ? { ...json, referrers: copied } : json, 2) + "\n");
    return 0;
  }
  if (copied && !run.quiet) ctx.out(referrersLine(copied));
  if (result.dryRun && !run.quiet) {
    ctx.out(new TextDecoder().decode(result.bytes) + "\n");
    ctx.out(pushPlanText(result));
  }
  ctx.out(`Digest: ${result.descriptor.digest} ${result.descriptor.size}\n`);
  return 0;
}

/**
 * Several specs in one run: a line per spec in input order as each ends, then the summary. With
 * --referrers (copied within the run) or --verify, a failure there counts.
 */
async function pushBatch(run: PushRun, specs: PushSpec[]): Promise<number> {
  const { ctx, client } = run;
  let ended = 0;
  run.onSpec?.(0, specs.length);
  const seen: SpecOutcome[] = [];
  let outcomes: SpecOutcome[];
  try {
    outcomes = await pushIndexes(client, specs, {
      ...run.options,
      onOutcome: (o) => {
        seen.push(o);
        run.onSpec?.(++ended, specs.length);
        if (run.json) return;
        if (o.result?.dryRun && !run.quiet) {
          ctx.out(new TextDecoder().decode(o.result.bytes) + "\n");
          ctx.out(pushPlanText(o.result));
        }
        ctx.out(outcomeLine(o) + "\n");
      },
    });
  } catch (e) {
    // Interrupted: every spec's outcome was told (the ones not started too); the summary, or the
    // JSON a script reads, still says which were committed. Exit 130 follows.
    run.stopProgress();
    if (e instanceof InterruptedError && seen.length === specs.length) {
      ctx.out(run.json ? jsonText(seen.map(outcomeRecord), 2) + "\n" : outcomeSummary(seen) + "\n");
    }
    throw e;
  }
  run.stopProgress();
  let failed = outcomes.some((o) => o.status === "failed");
  for (const o of outcomes) {
    if (o.status !== "pushed" || !o.result) continue;
    const { referrers, referrersError } = o.result;
    if (referrersError) {
      ctx.err(`manifest-tool: ${o.target}: ${referrersError.message}\n`);
      failed = true;
    }
    if (referrers && !run.quiet && !run.json) ctx.out(referrersLine(referrers));
    if (run.verify) {
      const code = await verifyPushed(ctx, client, o.target, o.result.descriptor.digest, {
        quiet: run.quiet,
      });
      if (code !== 0) failed = true;
    }
  }
  if (run.json) ctx.out(jsonText(outcomes.map(outcomeRecord), 2) + "\n");
  else ctx.out(outcomeSummary(outcomes) + "\n");
  return failed ? 1 : 0;
}
