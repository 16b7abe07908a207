/**
 * Registers tests per registry kind: one `Deno.test` per kind, ignored with the reason in its name
 * (and printed once) when the kind is not installed here or lacks a capability the test needs.
 */

import {
  type Capability,
  REGISTRY_KINDS,
  type RegistryKind,
  skipReason,
} from "../../scripts/harness/mod.ts";

const told = new Set<string>();

/**
 * `Deno.test` named `"<kind>: <name>"` for every kind (or those given), skipped, saying why, where
 * the kind cannot run it.
 */
export async function testEachKind(
  name: string,
  fn: (t: Deno.TestContext, kind: RegistryKind) => Promise<void>,
  options: { needs?: readonly Capability[]; kinds?: readonly RegistryKind[] } = {},
): Promise<void> {
  for (const kind of options.kinds ?? REGISTRY_KINDS) {
    const why = await skipReason(kind, options.needs);
    if (why && !told.has(why)) {
      told.add(why);
      console.log(`skipped: ${why}`);
    }
    Deno.test({
      name: why ? `${kind}: ${name} (skipped: ${why})` : `${kind}: ${name}`,
      ignore: why !== undefined,
      fn: (t) => fn(t, kind),
    });
  }
}
