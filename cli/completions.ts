/**
 * `manifest-tool completions bash|zsh|fish`: shell completion scripts. The words come from the
 * command table and from each command's own `--help` (every `--flag` it lists), so a new command
 * or flag completes without being declared twice.
 *
 * @module
 */

import { UsageError } from "../lib/errors.ts";
import { COMMANDS } from "./commands.ts";
import { type CommandContext, GLOBAL_OPTIONS, parseCommandArgs } from "./context.ts";

/** Help of `completions`. */
export const COMPLETIONS_HELP = `Usage: manifest-tool completions bash|zsh|fish

Print a shell completion script.

Examples:
  source <(manifest-tool completions bash)
  manifest-tool completions zsh > "\${fpath[1]}/_manifest-tool"
  manifest-tool completions fish > ~/.config/fish/completions/manifest-tool.fish
`;

/** Collects every `--flag` a command's help lists. */
async function flagsOf(name: string, ctx: CommandContext): Promise<string[]> {
  let text = "";
  await COMMANDS[name].run({ ...ctx, args: ["--help"], out: (t) => text += t, err: () => {} })
    .catch(() => 0);
  return [...new Set(text.match(/--[a-z][a-z-]*/g) ?? [])].sort();
}

/** Runs `completions`. */
export async function completionsCommand(ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx, "completions", {});
  if (values.help) {
    ctx.out(COMPLETIONS_HELP);
    return 0;
  }
  const shell = positionals[0];
  if (positionals.length !== 1 || !["bash", "zsh", "fish"].includes(shell)) {
    throw new UsageError(
      `completions takes one shell: bash, zsh or fish${shell ? `, got "${shell}"` : ""}`,
    );
  }
  const commands = Object.keys(COMMANDS);
  const globals = Object.keys(GLOBAL_OPTIONS).map((f) => `--${f}`).concat(["--help", "--version"]);
  const perCommand: Record<string, string[]> = {};
  for (const c of commands) perCommand[c] = await flagsOf(c, ctx);
  ctx.out(
    shell === "bash"
      ? bash(commands, globals, perCommand)
      : shell === "zsh"
      ? zsh(commands, globals, perCommand)
      : fish(commands, globals, perCommand),
  );
  return 0;
}

function bash(commands: string[], globals: string[], per: Record<string, string[]>): string {
  const cases = commands.map((c) => `    ${c}) words="${per[c].join(" ")}" ;;`).join("\n");
  return `# bash completion for manifest-tool
_manifest_tool() {
  local cur cmd words i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) cmd="\${COMP_WORDS[i]}"; break ;; esac
  done
  case "$cmd" in
${cases}
    *) words="${commands.join(" ")} ${globals.join(" ")}" ;;
  esac
  COMPREPLY=($(compgen -W "$words ${globals.join(" ")}" -- "$cur"))
  [ \${#COMPREPLY[@]} -eq 0 ] && COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _manifest_tool manifest-tool
`;
}

function zsh(commands: string[], globals: string[], per: Record<string, string[]>): string {
  const cases = commands.map((c) =>
    `    ${c}) compadd -- ${per[c].join(" ")} ${globals.join(" ")}; _files ;;`
  ).join("\n");
  return `#compdef manifest-tool
_manifest_tool() {
  local cmd=\${words[(r)[^-]*,2]}
  [[ $cmd == manifest-tool ]] && cmd=""
  if (( CURRENT == 2 )) || [[ -z $cmd || $cmd == $words[CURRENT] ]]; then
    compadd -- ${commands.join(" ")} ${globals.join(" ")}
    return
  fi
  case $cmd in
${cases}
  esac
}
compdef _manifest_tool manifest-tool
`;
}

function fish(commands: string[], globals: string[], per: Record<string, string[]>): string {
  const lines = ["# fish completion for manifest-tool", "complete -c manifest-tool -f"];
  lines.push(
    `complete -c manifest-tool -n "not __fish_seen_subcommand_from ${commands.join(" ")}" -a "${
      commands.join(" ")
    }"`,
  );
  for (const g of globals) lines.push(`complete -c manifest-tool -l ${g.slice(2)}`);
  for (const c of commands) {
    for (const f of per[c]) {
      lines.push(
        `complete -c manifest-tool -n "__fish_seen_subcommand_from ${c}" -l ${f.slice(2)}`,
      );
    }
  }
  return lines.join("\n") + "\n";
}
