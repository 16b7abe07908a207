/**
 * The tool's version and the git commit it was built from. `scripts/release.ts` stamps `COMMIT`
 * into release builds; a test keeps `VERSION` equal to `deno.json`'s.
 *
 * @module
 */

/** Semantic version of this release. */
export const VERSION = "0.1.0";

/** Git commit of the build, `dev` for a source checkout. */
export const COMMIT = "dev";
