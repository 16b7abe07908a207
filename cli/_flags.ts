/**
 * A strict argv parser with the semantics of `node:util`'s `parseArgs` for what the CLI uses:
 * `--name`, `--name=value`, `--name value`, grouped boolean short flags (`-qh`), repeatable
 * (`multiple`) flags, `--` ending the flags. It replaces `node:util` because importing that costs
 * about 5 ms of CPU at every start under Deno (Node compatibility start-up), two thirds of an empty
 * Deno program's own start.
 *
 * @module
 */

import { UsageError } from "../lib/errors.ts";

/** How one flag is written and what it holds. */
export interface FlagSpec {
  /** `boolean` (present or not) or `string` (takes a value). */
  type: "boolean" | "string";
  /** A one-letter alias (`-q`); only for booleans here. */
  short?: string;
  /** Repeatable: the values are collected in order. */
  multiple?: boolean;
}

/** Flag definitions by long name (without the dashes). */
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/** Parsed flag values (by long name) and the positional arguments, in order. */
export interface ParsedFlags {
  /** `true` for a boolean flag, the value(s) for a string flag; absent when not given. */
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  /** Arguments that are not flags or flag values. */
  positionals: string[];
}

/**
 * Parses `args` against `options`. An unknown flag, a missing value, a value given to a boolean
 * flag, or a positional argument where none are allowed is a {@link UsageError} naming the flag.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFlags } from "./_flags.ts";
 * const { values, positionals } = parseFlags(
 *   ["-q", "--tag=a", "x", "--tag", "b"],
 *   { quiet: { type: "boolean", short: "q" }, tag: { type: "string", multiple: true } },
 * );
 * assert.deepEqual(values, { quiet: true, tag: ["a", "b"] });
 * assert.deepEqual(positionals, ["x"]);
 * assert.throws(() => parseFlags(["--nope"], {}), /unknown flag "--nope"/);
 * ```
 */
export function parseFlags(
  args: readonly string[],
  options: FlagSpecs,
  allowPositionals = true,
): ParsedFlags {
  const values: ParsedFlags["values"] = Object.create(null);
  const positionals: string[] = [];
  const set = (name: string, value: string | boolean) => {
    if (options[name].multiple) {
      const list = (values[name] ?? []) as (string | boolean)[];
      values[name] = [...list, value] as string[] | boolean[];
    } else values[name] = value;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const spec = Object.hasOwn(options, name) ? options[name] : undefined;
      if (!spec) throw new UsageError(`unknown flag "--${name}"`);
      if (spec.type === "boolean") {
        if (eq >= 0) throw new UsageError(`flag "--${name}" does not take a value`);
        set(name, true);
      } else if (eq >= 0) set(name, arg.slice(eq + 1));
      else {
        const value = args[i + 1];
        if (value === undefined) throw new UsageError(`flag "--${name}" needs a value`);
        // As node:util does: "--timeout -1" more likely forgot the value than means "-1".
        if (value.length > 1 && value.startsWith("-")) {
          throw new UsageError(
            `flag "--${name}" needs a value (write --${name}=${value} for one starting with "-")`,
          );
        }
        set(name, value);
        i++;
      }
    } else if (arg.startsWith("-") && arg.length > 1) {
      for (const letter of arg.slice(1)) {
        const name = Object.keys(options).find((n) => options[n].short === letter);
        if (!name) throw new UsageError(`unknown flag "-${letter}"`);
        set(name, true);
      }
    } else if (allowPositionals) positionals.push(arg);
    else throw new UsageError(`unexpected argument "${arg}"`);
  }
  return { values: { ...values }, positionals };
}
