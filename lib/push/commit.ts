/**
 * Stage 5, commit: once every child is in the target repository (the transfer `PUT` each by
 * digest), the index is written under its first tag, checked against the digest it was assembled
 * with, then under its other tags. Nothing before this stage writes a tag, so a spec that fails
 * earlier leaves every tag as it was; an aborted run commits nothing more.
 *
 * @module
 */

import { DigestMismatchError } from "../errors.ts";
import type { Repository } from "../registry/client.ts";
import type { AssembledIndex } from "./assemble.ts";

/**
 * Writes `assembled` to `target` under `tags` (the first one first); `rest` is the view of `target`
 * the other tags are written through (one without the run's signal, so they all follow).
 *
 * @example
 * ```ts ignore
 * await commitIndex(repo, ["1.0", "latest"], assembled, { signal });
 * ```
 */
export async function commitIndex(
  target: Repository,
  tags: readonly string[],
  assembled: AssembledIndex,
  options: { signal?: AbortSignal; rest?: Repository } = {},
): Promise<void> {
  const { bytes, descriptor } = assembled;
  options.signal?.throwIfAborted();
  const put = await target.putManifest(tags[0], bytes, descriptor.mediaType);
  if (put.digest !== descriptor.digest) {
    throw new DigestMismatchError(descriptor.digest, put.digest, `index put to ${target}`);
  }
  // The first tag is written: the rest follow even if the run is aborted now, so the index is
  // never left under some of its tags only.
  const rest = options.rest ?? target;
  await Promise.all(tags.slice(1).map((t) => rest.putManifest(t, bytes, descriptor.mediaType)));
}
