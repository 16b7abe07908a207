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
  /**
   * Whether a run with these arguments (after the command's name) will talk to registries; absent:
   * never. `cli.ts` then prepares TLS (lib/registry/tls_prepare.ts) before loading the command.
   */
  network?: (args: readonly string[]) => boolean;
}

/** Every run talks to registries, except the one that prints the command's help. */
const unlessHelp = (args: readonly string[]) => !args.includes("--help") && !args.includes("-h");

/** All commands, in the order the help lists them. */
export const COMMANDS: Record<string, CommandEntry> = {
  inspect: {
    summary: "show an image manifest or a manifest list / OCI index",
    run: lazy(() => import("./inspect.ts"), (m) => m.inspectCommand),
    network: unlessHelp,
  },
  push: {
    summary: "push a manifest list / OCI index from a YAML spec or from arguments",
    run: lazy(() => import("./push.ts"), (m) => m.pushCommand),
    network: unlessHelp,
  },
  platforms: {
    summary: "say whether references are indexes and which platforms they support",
    run: lazy(() => import("./inspect.ts"), (m) => m.platformsCommand),
    network: unlessHelp,
  },
  verify: {
    summary: "check that an index is whole and honest: children, digests, sizes, platforms",
    run: lazy(() => import("./verify.ts"), (m) => m.verifyCommand),
    network: unlessHelp,
  },
  manifest: {
    summary: "create, annotate, push, inspect and rm local lists: a drop-in for docker manifest",
    run: lazy(() => import("./manifest.ts"), (m) => m.manifestCommand),
    // annotate and rm work on the local store only.
    network: (args) => unlessHelp(args) && ["create", "inspect", "push"].includes(args[0]),
  },
  "check-registry": {
    summary: "check that a registry can hold manifest lists and OCI indexes",
    run: lazy(() => import("./check_registry.ts"), (m) => m.checkRegistryCommand),
    network: unlessHelp,
  },
  completions: {
    summary: "print a shell completion script (bash, zsh, fish)",
    run: lazy(() => import("./completions.ts"), (m) => m.completionsCommand),
  },
};
