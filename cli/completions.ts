/**
 * `manifest-tool completions bash|zsh|fish`: shell completion scripts. The words come from the
 * command table and from each command's own `--help` (its subcommands, the fixed words of its usage
 * lines, every `--flag` it and its subcommands list), so a new command, subcommand or flag
 * completes without being declared twice.
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

/** The help text a command prints for `args` (its own, or a subcommand's with `[sub, "--help"]`). */
async function helpText(name: string, args: string[], ctx: CommandContext): Promise<string> {
  let text = "";
  await COMMANDS[name].run({ ...ctx, args, out: (t) => text += t, err: () => {} }).catch(() => 0);
  return text;
}

/**
 * The subcommands and fixed words a command's help names: the `Commands:` list (`manifest
 * create`…) and the plain lowercase words of its usage lines (`push from-spec`, `completions
 * bash|zsh|fish`).
 */
function subcommandsOf(name: string, text: string): string[] {
  const words: string[] = [];
  const listed = /\nCommands:\n((?: {2}\S.*\n)+)/.exec(text);
  for (const line of listed?.[1].split("\n") ?? []) {
    const word = /^ {2}([a-z][a-z-]*)\s/.exec(line)?.[1];
    if (word) words.push(word);
  }
  // The usage lines only (up to the first blank line): examples name values, not words to offer.
  const block = /^Usage:[^]*?(?:\n\n|$)/.exec(text)?.[0] ?? "";
  const usage = new RegExp(`manifest-tool (?:\\[global flags\\] )?${name} ([^\\n]*)`, "g");
  for (const m of block.matchAll(usage)) {
    for (const token of m[1].split(/\s+/)) {
      if (/^[a-z][a-z-]*(\|[a-z][a-z-]*)*$/.test(token)) words.push(...token.split("|"));
    }
  }
  return [...new Set(words)];
}

/** What completes after a command: its subcommands and fixed words, and every `--flag` of theirs. */
async function wordsOf(name: string, ctx: CommandContext): Promise<string[]> {
  const text = await helpText(name, ["--help"], ctx);
  const subs = subcommandsOf(name, text);
  // A subcommand with flags of its own (manifest create -a, annotate --os…) lists them in its help.
  const more = await Promise.all(subs.map((s) => helpText(name, [s, "--help"], ctx)));
  const flags = [text, ...more].flatMap((t) => t.match(/--[a-z][a-z-]*/g) ?? []);
  return [...subs, ...[...new Set(flags)].sort()];
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
  for (const c of commands) perCommand[c] = await wordsOf(c, ctx);
  // Global flags that take a value: the word after one is that value, not the command.
  const valued = Object.entries(GLOBAL_OPTIONS).filter(([, o]) => o.type === "string")
    .map(([f]) => `--${f}`);
  ctx.out(
    shell === "bash"
      ? bash(commands, globals, perCommand, valued)
      : shell === "zsh"
      ? zsh(commands, globals, perCommand, valued)
      : fish(commands, globals, perCommand),
  );
  return 0;
}

function bash(
  commands: string[],
  globals: string[],
  per: Record<string, string[]>,
  valued: string[],
): string {
  const cases = commands.map((c) => `    ${c}) words="${per[c].join(" ")}" ;;`).join("\n");
  return `# bash completion for manifest-tool
_manifest_tool() {
  local cur cmd words i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      ${valued.join("|")}) ((i++)) ;;
      -*) ;;
      *) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
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

function zsh(
  commands: string[],
  globals: string[],
  per: Record<string, string[]>,
  valued: string[],
): string {
  const cases = commands.map((c) =>
    `    ${c}) compadd -- ${per[c].join(" ")} ${globals.join(" ")}; _files ;;`
  ).join("\n");
  return `#compdef manifest-tool
_manifest_tool() {
  local cmd="" i
  for ((i = 2; i < CURRENT; i++)); do
    case $words[i] in
      ${valued.join("|")}) ((i++)) ;;
      -*) ;;
      *) cmd=$words[i]; break ;;
    esac
  done
  if [[ -z $cmd ]]; then
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
  const lines = ["# fish completion for manifest-tool"];
  // The command name is a word, not a file; after it, files complete too (spec files, CA files).
  lines.push(
    `complete -c manifest-tool -f -n "not __fish_seen_subcommand_from ${commands.join(" ")}" -a "${
      commands.join(" ")
    }"`,
  );
  for (const g of globals) lines.push(`complete -c manifest-tool -l ${g.slice(2)}`);
  for (const c of commands) {
    const when = `-n "__fish_seen_subcommand_from ${c}"`;
    const words = per[c].filter((w) => !w.startsWith("--"));
    if (words.length) lines.push(`complete -c manifest-tool ${when} -a "${words.join(" ")}"`);
    for (const f of per[c].filter((w) => w.startsWith("--"))) {
      lines.push(`complete -c manifest-tool ${when} -l ${f.slice(2)}`);
    }
  }
  return lines.join("\n") + "\n";
}
