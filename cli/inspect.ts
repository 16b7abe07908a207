/**
 * `manifest-tool inspect [--raw] [--expand-config] [--platform os/arch[/variant]] REF` and
 * `manifest-tool platforms [--json] REF…`.
 *
 * @module
 */

import { UsageError } from "../lib/errors.ts";
import { entryName, inspect } from "../lib/inspect.ts";
import { formatHuman } from "../lib/format/human.ts";
import { inspectPlatforms } from "../lib/inspect_platforms.ts";
import { formatRaw } from "../lib/format/raw.ts";
import { errorLine, jsonText } from "../lib/format/escape.ts";
import {
  formatPlatformSummary,
  type PlatformSummary,
  summarizePlatforms,
} from "../lib/format/platforms.ts";
import { parsePlatform, validatePlatform } from "../lib/platform.ts";
import { mapConcurrent } from "../lib/pool.ts";
import { parseReference } from "../lib/reference.ts";
import { takeReferrersFlag } from "./_referrers_flag.ts";
import {
  type CommandContext,
  GLOBAL_HELP,
  makeClient,
  makeLogger,
  parseCommandArgs,
} from "./context.ts";
import { colorsFor } from "./output.ts";

/** Help of `inspect`. */
export const INSPECT_HELP = `Usage: manifest-tool [global flags] inspect [flags] REF

Show an image manifest or a manifest list / OCI index with every entry's platform and layers
(buildx attestations are labelled with the image they attest). The tag defaults to latest;
REF@sha256:… inspects by digest.

Flags:
  --raw                 JSON with everything the view shows (manifest-tool v2 field names, plus
                        each entry's digest, size, platform and mediaType)
  --json                the same as --raw
  --expand-config       embed the image config(s) in the JSON, for an index too (implies --raw)
  --platform P          inspect the entry of an index for platform os/arch[/variant] (a single
                        image is shown when its config matches); exit 1 when there is none
  --referrers[=TYPES]   also list, for the index and each image, the manifests that refer to it
                        (signatures, SBOMs, attestations: artifact type, digest, size, created),
                        and theirs to a depth of 3; TYPES (comma-separated) keeps only those
                        artifact types. With --raw each entry gets a "referrers" array

Examples:
  manifest-tool inspect alpine:3.20
  manifest-tool inspect registry.example/app@sha256:<digest>
  manifest-tool inspect --raw registry.example/app:1.0 | jq -r '.manifests[].digest'
  manifest-tool inspect --raw --expand-config registry.example/app:1.0
  manifest-tool inspect --platform linux/arm/v7 registry.example/app:1.0
  manifest-tool inspect --referrers registry.example/app:1.0
  manifest-tool --plain-http inspect localhost:5000/app:1.0

${GLOBAL_HELP}
`;

/** Help of `platforms`. */
export const PLATFORMS_HELP = `Usage: manifest-tool [global flags] platforms [--json] REF [REF…]

Say for each reference whether it is a manifest list / index (with its media type and digest) and
which platforms it supports (mquery's summary; Windows entries as windows/amd64:OS.VERSION).
References are looked up concurrently; one that fails is reported on stderr, the others are still
shown, and the exit code is 1.

Flags:
  --json                a JSON array, one object per reference: reference, isIndex,
                        mediaType, digest, platforms (a reference that failed: reference,
                        failure)

Examples:
  manifest-tool platforms alpine golang:1.22
  manifest-tool platforms --json registry.example/app:1.0 | jq -r '.[].platforms[]'

${GLOBAL_HELP}
`;

/** Runs `inspect`. */
export async function inspectCommand(ctx: CommandContext): Promise<number> {
  const { args, referrers } = takeReferrersFlag(ctx.args);
  const { values, positionals, globals } = parseCommandArgs({ ...ctx, args }, "inspect", {
    raw: { type: "boolean" },
    json: { type: "boolean" },
    "expand-config": { type: "boolean" },
    platform: { type: "string" },
  });
  if (values.help) {
    ctx.out(INSPECT_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      `inspect takes one image reference, got ${
        positionals.length === 0 ? "none" : positionals.length
      }`,
    );
  }
  const ref = parseReference(positionals[0]);
  if (values.platform === "") throw new UsageError('Flag "--platform" needs os/arch[/variant]');
  const platform = values.platform ? parsePlatform(values.platform as string) : undefined;
  // A platform no registry can have is bad input: say so before any request.
  if (platform) validatePlatform(platform);
  const logger = makeLogger(ctx, globals);
  await using client = makeClient(ctx, globals, [ref.registry], logger);
  const expandConfig = values["expand-config"] === true;
  // Only --expand-config prints the configs of an index's images (see InspectOptions.entryConfigs).
  const result = await inspect(client, ref, { platform, referrers, entryConfigs: expandConfig });
  // An entry picked from an index is named by its own digest, so the name pulls what is shown.
  const name = result.pickedFrom
    ? entryName(positionals[0], result.descriptor.digest)
    : positionals[0];
  if (values.raw || values.json || values["expand-config"]) {
    ctx.out(
      jsonText(formatRaw(name, result, expandConfig), 4) + "\n",
    );
    return 0;
  }
  ctx.out(formatHuman(name, result, colorsFor({ ...ctx, globals })));
  return 0;
}

/** Runs `platforms`. */
export async function platformsCommand(ctx: CommandContext): Promise<number> {
  const { values, positionals, globals } = parseCommandArgs(ctx, "platforms", {
    json: { type: "boolean" },
  });
  if (values.help) {
    ctx.out(PLATFORMS_HELP);
    return 0;
  }
  if (positionals.length === 0) {
    throw new UsageError("platforms takes at least one image reference");
  }
  // Every reference is parsed before any is looked up: a malformed one is a usage error (exit 2).
  const refs = positionals.map((p) => parseReference(p));
  const logger = makeLogger(ctx, globals);
  await using client = makeClient(ctx, globals, [...new Set(refs.map((r) => r.registry))], logger);
  // An index needs only its own document and its nested indexes'; an image its config.
  const outcomes = await mapConcurrent(refs, 8, async (ref, i) => {
    try {
      return summarizePlatforms(positionals[i], await inspectPlatforms(client, ref));
    } catch (e) {
      return { error: e };
    }
  });
  const summaries = outcomes.filter((o): o is PlatformSummary => !("error" in o));
  if (values.json) {
    // One record per reference, in order, as verify --json: a failed one says why.
    const records = outcomes.map((o, i) =>
      "error" in o ? { reference: positionals[i], failure: errorLine(o.error) } : o
    );
    ctx.out(jsonText(records, 2) + "\n");
  } else if (summaries.length > 0) {
    ctx.out(summaries.map(formatPlatformSummary).join("\n"));
  }
  let code = 0;
  for (const o of outcomes) {
    if (!("error" in o)) continue;
    const e = o.error;
    ctx.err(`manifest-tool: ${errorLine(e)}\n`);
    if (globals.debug && e instanceof Error && e.stack) ctx.err(`${e.stack}\n`);
    code = 1;
  }
  return code;
}
