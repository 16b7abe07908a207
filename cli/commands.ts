/**
 * The command table: name → summary and implementation. `cli.ts` dispatches through it and builds
 * the top-level help from it.
 *
 * @module
 */

import type { Command } from "./context.ts";
import { inspectCommand, platformsCommand } from "./inspect.ts";
import { pushCommand } from "./push.ts";
import { completionsCommand } from "./completions.ts";
import { manifestCommand } from "./manifest.ts";
import { checkRegistryCommand } from "./check_registry.ts";
import { verifyCommand } from "./verify.ts";

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
    run: inspectCommand,
  },
  push: {
    summary: "push a manifest list / OCI index from a YAML spec or from arguments",
    run: pushCommand,
  },
  platforms: {
    summary: "say whether references are indexes and which platforms they support",
    run: platformsCommand,
  },
  verify: {
    summary: "check that an index is whole and honest: children, digests, sizes, platforms",
    run: verifyCommand,
  },
  manifest: {
    summary: "create, annotate, push, inspect and rm local lists: a drop-in for docker manifest",
    run: manifestCommand,
  },
  "check-registry": {
    summary: "check that a registry can hold manifest lists and OCI indexes",
    run: checkRegistryCommand,
  },
  completions: {
    summary: "print a shell completion script (bash, zsh, fish)",
    run: completionsCommand,
  },
};
