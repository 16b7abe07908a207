/**
 * `manifest-tool push [--type docker|oci] from-spec|from-args …`: manifest-tool v2's push, on the
 * engine of `lib/push.ts`.
 *
 * @module
 */

import { UsageError } from "../lib/errors.ts";
import type { IndexFormat } from "../lib/media_types.ts";
import { parsePlatform } from "../lib/platform.ts";
import { pushIndex, type PushOptions, type PushResult, type PushSpec } from "../lib/push.ts";
import { parseReference } from "../lib/reference.ts";
import { readSpecFile } from "../lib/spec.ts";
import {
  type CommandContext,
  GLOBAL_HELP,
  makeClient,
  makeLogger,
  parseCommandArgs,
} from "./context.ts";
import { progressMode, pushResultJson } from "./output.ts";
import { startProgress } from "./progress.ts";
import { verifyPushed } from "./verify.ts";
import { takeReferrersFlag } from "./_referrers_flag.ts";
import { copyPushReferrers, referrersLine } from "./_push_referrers.ts";

/** Help of `push`. */
export const PUSH_HELP = `Usage:
  manifest-tool [global flags] push [--type docker|oci] from-spec [flags] FILE.yaml
  manifest-tool [global flags] push [--type docker|oci] from-args --platforms LIST --template T --target REF [flags]

Assemble per-platform images into one manifest list (--type docker, the default) or OCI image
index (--type oci) and push it. Sources in other repositories of the target registry are mounted,
sources in other registries are copied; the index is written only once every image it names is in
the target repository.

Flags:
  --type docker|oci       index media type (default docker)
  --ignore-missing        warn about and skip sources that cannot be read
  --dry-run               resolve and print the index and the plan, write nothing
  --json                  print a JSON description of what was pushed
  --verify                verify what was pushed (as the verify command) before the Digest line;
                          problems go to stderr, exit 1 on an error
  --referrers[=TYPES]     after the index, copy the referrers (signatures, SBOMs, attestations) of
                          every image it names into the target, to a depth of 3, keeping the
                          tag-schema fallback index where the registry has no referrers API;
                          TYPES (comma-separated) copies only those artifact types
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

The last line printed is "Digest: sha256:<hex> <size>".

${GLOBAL_HELP}
`;

const OPTIONS = {
  type: { type: "string" },
  "ignore-missing": { type: "boolean" },
  "dry-run": { type: "boolean" },
  json: { type: "boolean" },
  verify: { type: "boolean" },
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
  const [mode, ...rest] = positionals;
  let spec: PushSpec;
  if (mode === "from-spec") {
    for (const f of ["platforms", "template", "target", "tags", "annotations"]) {
      if (values[f] !== undefined) {
        throw new UsageError(`push from-spec: flag "--${f}" belongs to from-args`);
      }
    }
    if (rest.length !== 1) {
      throw new UsageError(
        `push from-spec takes one YAML file, got ${rest.length === 0 ? "none" : rest.length}`,
      );
    }
    spec = await readSpecFile(rest[0]);
  } else if (mode === "from-args") {
    if (rest.length > 0) {
      throw new UsageError(`push from-args takes no arguments, got "${rest[0]}"`);
    }
    spec = specFromArgs(values);
  } else if (mode === undefined) {
    throw new UsageError("push needs a mode: from-spec FILE or from-args");
  } else {
    throw new UsageError(`Unknown push mode "${mode}": expected from-spec or from-args`);
  }

  const registries = [
    parseReference(spec.image).registry,
    ...spec.manifests.map((m) => parseReference(m.image).registry),
  ];
  const logger = makeLogger(ctx, globals);
  await using client = makeClient(ctx, globals, [...new Set(registries)], logger, [registries[0]]);
  const dryRun = values["dry-run"] === true;
  // The progress view on stderr (cli/progress.ts); a dry run transfers nothing.
  using progress = startProgress(ctx, dryRun ? "none" : progressMode({ ...ctx, globals }));
  const options: PushOptions = {
    format: type as IndexFormat,
    ignoreMissing: values["ignore-missing"] === true,
    dryRun,
    onProgress: progress.onProgress,
    onBlob: progress.onBlob,
  };
  const result = await pushIndex(client, spec, options);
  progress.stop();
  // --referrers (issue 18): only once the index is committed; a failure exits 1, the index stays.
  const copied = referrers && !result.dryRun
    ? await copyPushReferrers(client, result, referrers)
    : undefined;
  // push --verify (issue 17): check what was pushed before anything claims success.
  if (values.verify && !result.dryRun) {
    const code = await verifyPushed(ctx, client, result.target, result.descriptor.digest);
    if (code !== 0) return code;
  }
  if (values.json) {
    const json = pushResultJson(result) as Record<string, unknown>;
    ctx.out(JSON.stringify(copied ? { ...json, referrers: copied } : json, null, 2) + "\n");
    return 0;
  }
  if (copied && !globals.quiet) ctx.out(referrersLine(copied));
  if (result.dryRun && !globals.quiet) {
    ctx.out(new TextDecoder().decode(result.bytes) + "\n");
    ctx.out(planText(result));
  }
  ctx.out(`Digest: ${result.descriptor.digest} ${result.descriptor.size}\n`);
  return 0;
}

/** Builds the spec of `push from-args` (manifest-tool's OS/ARCH/VARIANT template). */
function specFromArgs(values: Record<string, unknown>): PushSpec {
  const list = (k: string) =>
    ((values[k] as string[] | undefined) ?? []).flatMap((v) => v.split(",")).map((v) => v.trim())
      .filter(Boolean);
  const platforms = list("platforms");
  const template = values.template as string | undefined;
  const target = values.target as string | undefined;
  if (platforms.length === 0) {
    throw new UsageError('push from-args needs "--platforms os/arch[/variant],…"');
  }
  if (!template) throw new UsageError('push from-args needs "--template" (e.g. repo:tag-OS-ARCH)');
  if (!target) throw new UsageError('push from-args needs "--target" (the index reference)');
  if (!/OS|ARCH/.test(template)) {
    throw new UsageError(
      `--template "${template}" has no OS or ARCH placeholder: every platform would use the same image`,
    );
  }
  const annotations: Record<string, string> = {};
  for (const a of list("annotations")) {
    const i = a.indexOf("=");
    if (i <= 0) throw new UsageError(`Invalid --annotations "${a}": expected key=value`);
    annotations[a.slice(0, i)] = a.slice(i + 1);
  }
  return {
    image: target,
    tags: list("tags"),
    annotations,
    manifests: platforms.map((s) => {
      const p = parsePlatform(s);
      // VARIANT is dropped (with nothing in its place) for platforms without one.
      const image = template.replaceAll("VARIANT", p.variant ?? "").replaceAll(
        "ARCH",
        p.architecture,
      )
        .replaceAll("OS", p.os);
      return { image, platform: p };
    }),
  };
}

function planText(r: PushResult): string {
  const lines = [`Plan for ${r.target} (dry run, nothing written):`];
  for (const m of r.manifests) {
    lines.push(
      `  manifest ${m.descriptor.digest} ${
        m.action === "present" ? "already present" : "put"
      } (${m.source})`,
    );
  }
  for (const b of r.blobs) lines.push(`  blob ${b.digest} ${b.size} ${b.action} from ${b.from}`);
  for (const s of r.skipped) lines.push(`  skipped ${s.image}: ${s.reason}`);
  lines.push(`  tags: ${r.tags.join(", ")}`);
  return lines.join("\n") + "\n";
}
