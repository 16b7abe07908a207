/**
 * `manifest-tool verify [--json] [--platform P …] [--blobs[=full]] [--referrers] REF [REF …]`, and
 * the check `push --verify` runs on what it pushed.
 *
 * @module
 */

import { jsonText } from "../lib/format/escape.ts";
import { UsageError } from "../lib/errors.ts";
import { formatVerifyText, verifyRecord } from "../lib/format/verify.ts";
import { parsePlatform, type Platform, validatePlatform } from "../lib/platform.ts";
import { mapConcurrent } from "../lib/pool.ts";
import { parseReference, type Reference } from "../lib/reference.ts";
import type { RegistryClient } from "../lib/registry/client.ts";
import { verify, type VerifyOptions, type VerifyResult } from "../lib/verify.ts";
import {
  type CommandContext,
  GLOBAL_HELP,
  makeClient,
  makeLogger,
  parseCommandArgs,
} from "./context.ts";

/** Help of `verify`. */
export const VERIFY_HELP =
  `Usage: manifest-tool [global flags] verify [--json] [--platform P …] [--blobs[=full]] [--referrers] REF [REF…]

Prove that a published manifest list / index is whole and says the truth: every child manifest
(nested indexes too) is in the same repository with the digest, size and media type its entry
says; every entry's platform agrees with its image's config, no two entries share a platform, and
every platform is one Go knows; every buildx attestation names an image of the index and has the
platform unknown/unknown. A Docker list naming OCI manifests (or the reverse), Docker layers in an
OCI index and annotations on a Docker list are warnings. A single image is verified as one image.

One line per problem, "error: REF: DIGEST|PLATFORM: what is wrong" (or "warning: …"), then
"OK REF (N manifests, M blobs checked)" or "REF: N errors, M warnings".
Exit 0 when no reference has an error (warnings allowed), 1 otherwise, 2 for bad usage.

Flags:
  --blobs               also check that every config and layer exists with its size (HEAD)
  --blobs=full          download every config and layer and check its digest (streamed)
  --referrers           check that each referrer's subject is the digest it is listed under
  --platform P          follow only the entries for os/arch[/variant] (repeatable, or a,b,c);
                        a platform with no entry is an error
  --json                a JSON array, one record per reference, problems as objects
                        (severity, kind, subject, message, digest, platform)

Examples:
  manifest-tool verify registry.example/app:1.0
  manifest-tool verify --blobs registry.example/app:1.0 registry.example/base:2
  manifest-tool verify --json --platform linux/arm64 registry.example/app:1.0 | jq '.[].problems'

${GLOBAL_HELP}
`;

/** Runs `verify`. */
export async function verifyCommand(ctx: CommandContext): Promise<number> {
  const blobs = blobsMode(ctx.args);
  const { values, positionals, globals } = parseCommandArgs(
    { ...ctx, args: ctx.args.filter((a) => !a.startsWith("--blobs=")) },
    "verify",
    {
      json: { type: "boolean" },
      blobs: { type: "boolean" },
      referrers: { type: "boolean" },
      platform: { type: "string", multiple: true },
    },
  );
  if (values.help) {
    ctx.out(VERIFY_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError("verify takes at least one image reference");
  // Everything the user typed is checked before any request: bad input is exit 2.
  const refs = positionals.map((p) => parseReference(p));
  const platforms = parsePlatforms(values.platform as string[] | undefined);
  const logger = makeLogger(ctx, globals);
  await using client = makeClient(ctx, globals, [...new Set(refs.map((r) => r.registry))], logger);
  const options: VerifyOptions = {
    blobs: blobs ?? (values.blobs ? "head" : false),
    referrers: values.referrers === true,
    platforms,
  };
  const outcomes = await mapConcurrent(refs, 4, async (ref) => {
    try {
      return await verify(client, ref, options);
    } catch (e) {
      return e instanceof Error ? e : new Error(String(e));
    }
  });
  if (values.json) {
    const records = outcomes.map((o, i) => verifyRecord(positionals[i], o));
    ctx.out(jsonText(records, 2) + "\n");
  } else {
    outcomes.forEach((o, i) => {
      if (!(o instanceof Error)) {
        ctx.out(formatVerifyText(positionals[i], o, { quiet: globals.quiet }));
      }
    });
  }
  for (const o of outcomes) {
    if (!(o instanceof Error)) continue;
    ctx.err(`manifest-tool: ${o.message.replace(/\s*\n\s*/g, " ")}\n`);
    if (globals.debug && o.stack) ctx.err(`${o.stack}\n`);
  }
  return outcomes.every((o) => !(o instanceof Error) && o.ok) ? 0 : 1;
}

/** `--blobs=full` / `--blobs=head` (the flag parser has no optional values). */
function blobsMode(args: string[]): "head" | "full" | undefined {
  let mode: "head" | "full" | undefined;
  for (const a of args) {
    if (!a.startsWith("--blobs=")) continue;
    const v = a.slice("--blobs=".length);
    if (v !== "full" && v !== "head") {
      throw new UsageError(
        `Invalid --blobs "${v}": expected --blobs, --blobs=head or --blobs=full`,
      );
    }
    mode = v;
  }
  return mode;
}

function parsePlatforms(values: string[] | undefined): Platform[] | undefined {
  if (!values) return undefined;
  const list = values.flatMap((v) => v.split(",")).map((v) => v.trim());
  if (list.some((v) => v === "")) throw new UsageError('Flag "--platform" needs os/arch[/variant]');
  return list.map((s) => {
    const p = parsePlatform(s);
    validatePlatform(p);
    return p;
  });
}

/**
 * `push --verify`: verifies what was just pushed (`target` pinned to `digest`), writing problems
 * and the summary to stderr (stdout keeps the `Digest:` line last, or the JSON alone); with `quiet`,
 * only a failure's errors and summary. Returns the exit code: 0 when there is no error, 1 otherwise.
 */
export async function verifyPushed(
  ctx: CommandContext,
  client: RegistryClient,
  target: string,
  digest: string,
  options: { quiet?: boolean } = {},
): Promise<number> {
  const ref: Reference = parseReference(target).withDigest(digest);
  const result: VerifyResult = await verify(client, ref);
  // --quiet: only a failure is told, by its errors and summary.
  if (!options.quiet || !result.ok) ctx.err(formatVerifyText(target, result, options));
  return result.ok ? 0 : 1;
}
