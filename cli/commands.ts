/**
 * The command table: name → summary and implementation. `cli.ts` dispatches through it and builds
 * the top-level help from it. Each command's module is imported on first use.
 *
 * @module
 */

import type { Command } from "./context.ts";

/**
 * A command whose module is imported when it first runs: start-up (`--version`, `--help`, or one
 * command) then loads only what it uses, not every command's dependencies.
 */
function lazy<M>(load: () => Promise<M>, pick: (module: M) => Command): Command {
  return async (ctx) => await pick(await load())(ctx);
}

/** One command of the CLI. */
export interface CommandEntry {
  /** One line for the top-level help. */
  summary: string;
  /** The implementation. */
  run: Command;
}

/** All commands, in the order the help lists them. */
export const COMMANDS: Record<string, CommandEntry> = {
  inspect: {
    summary: "show an image manifest or a manifest list / OCI index",
    run: lazy(() => import("./inspect.ts"), (m) => m.inspectCommand),
  },
  push: {
    summary: "push a manifest list / OCI index from a YAML spec or from arguments",
    run: lazy(() => import("./push.ts"), (m) => m.pushCommand),
  },
  platforms: {
    summary: "say whether references are indexes and which platforms they support",
    run: lazy(() => import("./inspect.ts"), (m) => m.platformsCommand),
  },
  verify: {
    summary: "check that an index is whole and honest: children, digests, sizes, platforms",
    run: lazy(() => import("./verify.ts"), (m) => m.verifyCommand),
  },
  manifest: {
    summary: "create, annotate, push, inspect and rm local lists: a drop-in for docker manifest",
    run: lazy(() => import("./manifest.ts"), (m) => m.manifestCommand),
  },
  "check-registry": {
    summary: "check that a registry can hold manifest lists and OCI indexes",
    run: lazy(() => import("./check_registry.ts"), (m) => m.checkRegistryCommand),
  },
  completions: {
    summary: "print a shell completion script (bash, zsh, fish)",
    run: lazy(() => import("./completions.ts"), (m) => m.completionsCommand),
  },
};
