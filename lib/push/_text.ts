// Small text helpers shared by the push stages (private to lib/push/).

import type { Platform } from "../platform.ts";

/** `os/arch[/variant][:os.version]` of a platform that may lack fields (`?` for those). */
export function platformText(p: Partial<Platform>): string {
  return [p.os ?? "?", p.architecture ?? "?", p.variant].filter(Boolean).join("/") +
    (p["os.version"] ? `:${p["os.version"]}` : "");
}

/** The message of anything thrown. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
