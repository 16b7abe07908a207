/**
 * With `referrers`: every manifest verified is looked up in the referrers API (OCI distribution
 * spec 1.1 "Listing Referrers", or its tag-schema fallback `<alg>-<hex>`), and each referrer
 * listed must be in the repository, be what its descriptor says, and name as its `subject` the
 * digest it is listed under.
 *
 * @module
 */

import type { Descriptor } from "../manifest.ts";
import type { FetchedManifest } from "../registry/client.ts";
import { MAX_REFERRERS, REFERRERS_DEPTH } from "../referrers_list.ts";
import { descriptorProblems } from "./graph.ts";
import { problem } from "./problems.ts";
import { settleAll, type VerifyRun } from "./run.ts";

/**
 * Checks the referrers of every manifest the run has verified so far, then theirs, to the depth
 * inspect and push follow ({@link REFERRERS_DEPTH}).
 */
export async function verifyReferrers(run: VerifyRun): Promise<void> {
  const asked = new Set<string>();
  const top = [...run.manifests];
  let subjects = top;
  let verified = 0;
  for (let level = 0; level < REFERRERS_DEPTH && subjects.length > 0; level++) {
    subjects.forEach((s) => asked.add(s));
    const found = await settleAll(subjects.map((subject) => verifyListed(run, subject)));
    verified += found.reduce((n, f) => n + f.length, 0);
    subjects = [...new Set(found.flat())].filter((d) => !asked.has(d));
    if (verified > MAX_REFERRERS && subjects.length > 0) {
      // As many as one listing takes in all (inspect, push): the rest is not walked.
      run.report(problem(
        "error",
        "referrers-too-many",
        `more than ${MAX_REFERRERS} referrers within ${level + 1} levels: the rest not verified`,
        { digest: top[0] },
      ));
      return;
    }
  }
}

/** Checks the referrers listed for `subject`; returns their digests (theirs are next). */
async function verifyListed(run: VerifyRun, subject: string): Promise<string[]> {
  let listed: Descriptor[];
  try {
    listed = await run.referrers(subject);
  } catch (e) {
    run.failed(e, subject, "manifest", "referrers list");
    return [];
  }
  if (listed.length > MAX_REFERRERS) {
    // A handful is usual; thousands would each be fetched and reported.
    run.report(problem(
      "error",
      "referrers-too-many",
      `${listed.length} referrers listed, more than ${MAX_REFERRERS}: not verified`,
      { digest: subject },
    ));
    return [];
  }
  await settleAll(listed.map((d) => verifyReferrer(run, subject, d)));
  return listed.map((d) => d.digest);
}

async function verifyReferrer(run: VerifyRun, subject: string, d: Descriptor): Promise<void> {
  let m: FetchedManifest;
  try {
    m = await run.manifest(d.digest);
  } catch (e) {
    return run.failed(e, d.digest, "manifest", `referrer of ${subject}`);
  }
  run.manifests.add(d.digest);
  run.report(...descriptorProblems(d, m, `referrer of ${subject}`));
  const named = m.parsed.kind === "index"
    ? m.parsed.index.subject?.digest
    : m.parsed.manifest.subject?.digest;
  if (named !== subject) {
    run.report(problem(
      "error",
      "referrer-subject-mismatch",
      `listed as a referrer of ${subject}, but its subject is ${named ?? "absent"}`,
      { digest: d.digest },
    ));
  }
}
