/**
 * `--referrers[=TYPE,TYPE]`: a flag that is a switch alone and takes an optional artifact-type
 * filter after `=` (node's parseArgs has no optional values, and `--referrers from-spec` must not
 * take `from-spec` as its value). Taken out of the arguments before they are parsed.
 *
 * @module
 */

import { UsageError } from "../lib/errors.ts";
import { parseArtifactTypes } from "../lib/referrers.ts";

/** The arguments without `--referrers[=…]`, and what it asked: undefined when absent. */
export function takeReferrersFlag(
  args: readonly string[],
): { args: string[]; referrers?: { artifactTypes?: string[] } } {
  let referrers: { artifactTypes?: string[] } | undefined;
  const rest: string[] = [];
  for (const [i, a] of args.entries()) {
    if (a === "--") {
      rest.push(...args.slice(i));
      break;
    }
    if (a === "--referrers") {
      referrers ??= {};
    } else if (a.startsWith("--referrers=")) {
      const types = parseArtifactTypes(a.slice("--referrers=".length));
      if (types.length === 0) {
        throw new UsageError(
          'Flag "--referrers=" needs artifact types, e.g. --referrers=application/spdx+json',
        );
      }
      referrers = { artifactTypes: [...(referrers?.artifactTypes ?? []), ...types] };
    } else {
      rest.push(a);
    }
  }
  return { args: rest, referrers };
}
