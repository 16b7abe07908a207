/**
 * `manifest-tool check-registry [--json] HOST/NAMESPACE`.
 *
 * @module
 */

import { jsonText } from "../lib/format/escape.ts";
import { checkRegistry } from "../lib/check_registry.ts";
import { UsageError } from "../lib/errors.ts";
import { formatCheckReport } from "../lib/format/check.ts";
import { parseReference } from "../lib/reference.ts";
import {
  type CommandContext,
  GLOBAL_HELP,
  makeClient,
  makeLogger,
  parseCommandArgs,
} from "./context.ts";

/** Help of `check-registry`. */
export const CHECK_HELP =
  `Usage: manifest-tool [global flags] check-registry [--json] HOST/NAMESPACE

Push tiny generated images into a new repository under NAMESPACE and check, one line each, what
multi-platform publishing needs: blob uploads (monolithic, chunked), cross-repository mounts,
Docker manifest lists, OCI indexes (with annotations), extra tags, manifests with a subject and
the referrers API (or its tag-schema fallback), delete by digest, and reading the same bytes back.
What it created is deleted where the registry allows it. Exit 0 when manifest lists or indexes
are fully supported, 1 otherwise.

Examples:
  manifest-tool check-registry registry.example/team
  manifest-tool --username me --password "$TOKEN" check-registry --json ghcr.io/me

${GLOBAL_HELP}
`;

/** Runs `check-registry`. */
export async function checkRegistryCommand(ctx: CommandContext): Promise<number> {
  const { values, positionals, globals } = parseCommandArgs(ctx, "check-registry", {
    json: { type: "boolean" },
  });
  if (values.help) {
    ctx.out(CHECK_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("check-registry takes one HOST/NAMESPACE");
  const target = positionals[0];
  const ref = parseReference(`${target.replace(/\/+$/, "")}/x`, { defaultTag: false });
  if (!target.includes("/") || ref.tag || ref.digest) {
    throw new UsageError(
      `Invalid target "${target}": expected HOST/NAMESPACE, e.g. registry.example/team`,
    );
  }
  await using client = makeClient(ctx, globals, [ref.registry], makeLogger(ctx, globals));
  const report = await checkRegistry(client, target);
  ctx.out(values.json ? jsonText(report, 2) + "\n" : formatCheckReport(report));
  return report.supported ? 0 : 1;
}
