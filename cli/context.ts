/**
 * What every CLI command receives: its argv (after the command name), the global options, the
 * output streams, and a way to build a registry client. Commands write through `out`/`err`; only
 * `cli.ts` exits.
 *
 * @module
 */

import { type FlagSpecs, parseFlags } from "./_flags.ts";
import { UsageError } from "../lib/errors.ts";
import { CA_FILE_CAP } from "../lib/files.ts";
import { errorLine } from "../lib/format/escape.ts";
import { type ClientOptions, RegistryClient } from "../lib/registry/client.ts";
import type { Logger } from "../lib/registry/transport.ts";
import { VERSION } from "../lib/version.ts";
import { mergeOutputGlobals, OUTPUT_HELP, OUTPUT_OPTIONS, type OutputGlobals } from "./output.ts";

/** Global flags, accepted before or after the command name. */
export interface GlobalOptions extends OutputGlobals {
  /** `--username`. */
  username?: string;
  /** `--password`. */
  password?: string;
  /** `--docker-cfg`. */
  dockerCfg?: string;
  /** `--insecure`. */
  insecure: boolean;
  /** `--plain-http`. */
  plainHttp: boolean;
  /** `--ca-file` (repeatable). */
  caFiles: string[];
  /** `--debug`. */
  debug: boolean;
  /** `--timeout` in seconds. */
  timeout?: number;
  /** `--concurrency`: requests in flight to any one registry. */
  concurrency?: number;
}

/** Option definitions of the global flags (see cli/_flags.ts). */
export const GLOBAL_OPTIONS: FlagSpecs = {
  username: { type: "string" },
  password: { type: "string" },
  "docker-cfg": { type: "string" },
  insecure: { type: "boolean" },
  "plain-http": { type: "boolean" },
  "ca-file": { type: "string", multiple: true },
  debug: { type: "boolean" },
  timeout: { type: "string" },
  concurrency: { type: "string" },
  // --quiet, --progress, --no-color (cli/output.ts).
  ...OUTPUT_OPTIONS,
};

/** Text of the global flags for help screens. */
export const GLOBAL_HELP = `Global flags (before or after the command):
  --username USER        registry user name (used only for the registries the command names)
  --password PASS        registry password or token
  --docker-cfg PATH      docker config directory or config.json file (default: $DOCKER_CONFIG or ~/.docker)
  --insecure             skip TLS verification for the registries named, and allow HTTP for them
  --plain-http           talk plain HTTP to the registries named
  --ca-file FILE         trust the CA certificates in FILE (repeatable)
  --timeout SECONDS      time to wait for a registry to answer (default 60, 1 to 86400)
  --concurrency N        at most N requests in flight to any one registry (default 8, 1 to 256)
  --debug                log every request line and status (never credentials) and show stack traces
${OUTPUT_HELP}
  -h, --help             help
  -v, --version          version`;

/** What a command gets. */
export interface CommandContext {
  /** Arguments after the command name (global flags still among them). */
  args: string[];
  /** Global flags given before the command name. */
  globals: GlobalOptions;
  /** Writes to standard output. */
  out(text: string): void;
  /** Writes to standard error. */
  err(text: string): void;
  /** Whether standard output is a terminal (colour of the views). */
  isTerminal: boolean;
  /** Whether standard error is a terminal (progress view); false when not known. */
  errIsTerminal?: boolean;
  /** Environment lookup. */
  env(name: string): string | undefined;
}

/** A command: parses its own flags from `ctx.args`, returns the exit code. */
export type Command = (ctx: CommandContext) => Promise<number>;

/**
 * Parses a command's argv with its own options plus the global ones (which may follow the command
 * name too). Unknown flags are a {@link UsageError} naming the flag.
 */
export function parseCommandArgs<T extends FlagSpecs>(
  ctx: CommandContext,
  command: string,
  options: T,
): {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  globals: GlobalOptions;
} {
  let parsed;
  try {
    parsed = parseFlags(ctx.args, {
      ...GLOBAL_OPTIONS,
      ...options,
      help: { type: "boolean", short: "h" },
    });
  } catch (e) {
    throw new UsageError(`${command}: ${(e as Error).message}`, { cause: e });
  }
  const globals = mergeGlobals(ctx.globals, parsed.values as Record<string, unknown>);
  return {
    values: parsed.values as Record<string, string | boolean | string[] | undefined>,
    positionals: parsed.positionals,
    globals,
  };
}

/** Parses the global flags that stand before the command name; returns the rest. */
export function parseGlobalArgs(
  args: string[],
): { globals: GlobalOptions; rest: string[]; help: boolean; version: boolean } {
  const firstPositional = args.findIndex((a, i) => !a.startsWith("-") && !takesValue(args[i - 1]));
  const head = firstPositional < 0 ? args : args.slice(0, firstPositional);
  const rest = firstPositional < 0 ? [] : args.slice(firstPositional);
  const parsed = parseFlags(head, {
    ...GLOBAL_OPTIONS,
    help: { type: "boolean", short: "h" },
    version: { type: "boolean", short: "v" },
  }, false);
  const v = parsed.values as Record<string, unknown>;
  return {
    globals: mergeGlobals(undefined, v),
    rest,
    help: v.help === true,
    version: v.version === true,
  };
}

function takesValue(flag: string | undefined): boolean {
  if (!flag?.startsWith("--") || flag.includes("=")) return false;
  const def = GLOBAL_OPTIONS[flag.slice(2)];
  return def?.type === "string";
}

/** `--timeout` bounds, seconds: past 24 h a timer overflows, and under 1 s nothing answers. */
const TIMEOUT_RANGE = { min: 1, max: 86_400 } as const;
/** `--concurrency` bounds. */
const CONCURRENCY_RANGE = { min: 1, max: 256 } as const;

/** `--timeout`: integer or decimal seconds within {@link TIMEOUT_RANGE}. */
function parseTimeout(text: string | undefined, base: number | undefined): number | undefined {
  if (text === undefined) return base;
  const seconds = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : NaN;
  if (!(seconds >= TIMEOUT_RANGE.min && seconds <= TIMEOUT_RANGE.max)) {
    throw new UsageError(
      `Invalid --timeout "${text}": expected a positive number of seconds from ${TIMEOUT_RANGE.min} to ${TIMEOUT_RANGE.max}`,
    );
  }
  return seconds;
}

/** `--concurrency`: an integer within {@link CONCURRENCY_RANGE}. */
function parseConcurrency(text: string | undefined, base: number | undefined): number | undefined {
  if (text === undefined) return base;
  const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!(n >= CONCURRENCY_RANGE.min && n <= CONCURRENCY_RANGE.max)) {
    throw new UsageError(
      `Invalid --concurrency "${text}": expected a whole number from ${CONCURRENCY_RANGE.min} to ${CONCURRENCY_RANGE.max}`,
    );
  }
  return n;
}

function mergeGlobals(base: GlobalOptions | undefined, v: Record<string, unknown>): GlobalOptions {
  return {
    username: (v.username as string | undefined) ?? base?.username,
    password: (v.password as string | undefined) ?? base?.password,
    dockerCfg: (v["docker-cfg"] as string | undefined) ?? base?.dockerCfg,
    insecure: v.insecure === true || (base?.insecure ?? false),
    plainHttp: v["plain-http"] === true || (base?.plainHttp ?? false),
    caFiles: [...(base?.caFiles ?? []), ...((v["ca-file"] as string[] | undefined) ?? [])],
    debug: v.debug === true || (base?.debug ?? false),
    timeout: parseTimeout(v.timeout as string | undefined, base?.timeout),
    concurrency: parseConcurrency(v.concurrency as string | undefined, base?.concurrency),
    ...mergeOutputGlobals(base, v),
  };
}

/**
 * Builds the registry client for a command: `--insecure` and `--plain-http` apply to `registries`
 * (the ones the command names), the flag credentials only to `credentialRegistries` (by default
 * the same; a push gives them to its target's registry only, so a password is never sent to a
 * source registry elsewhere); `overrides` set client options a command needs (e.g. `manifest`'s
 * docker rule for loopback certificates).
 */
export function makeClient(
  ctx: CommandContext,
  globals: GlobalOptions,
  registries: readonly string[],
  logger: Logger,
  credentialRegistries: readonly string[] = registries,
  overrides: Partial<ClientOptions> = {},
): RegistryClient {
  checkCaFiles(globals.caFiles);
  const options: ClientOptions = {
    username: globals.username,
    password: globals.password,
    flagRegistries: credentialRegistries,
    dockerConfig: globals.dockerCfg,
    env: ctx.env,
    insecure: globals.insecure ? registries : undefined,
    plainHttp: globals.plainHttp ? registries : undefined,
    caFiles: [...globals.caFiles, ...envCaFile(ctx)],
    timeoutMs: globals.timeout !== undefined ? Math.round(globals.timeout * 1000) : undefined,
    maxConcurrencyPerHost: globals.concurrency,
    logger,
    userAgent: `manifest-tool-deno/${VERSION}`,
    ...overrides,
  };
  return new RegistryClient(options);
}

/**
 * `SSL_CERT_FILE`, which Go tools (docker, crane, manifest-tool v2) read for their roots: added to
 * the trusted CAs when it names a readable file (as Go, nothing is said when it does not).
 */
function envCaFile(ctx: CommandContext): string[] {
  const file = ctx.env("SSL_CERT_FILE");
  if (!file) return [];
  try {
    return Deno.statSync(file).isFile ? [file] : [];
  } catch {
    return [];
  }
}

/**
 * Each `--ca-file` is a file that holds a PEM certificate, checked before any request: a path
 * mistyped or a file of another kind is bad input (exit 2), not a failed request.
 */
function checkCaFiles(files: readonly string[]): void {
  for (const f of files) {
    let text: string;
    try {
      const info = Deno.statSync(f);
      if (!info.isFile) throw new Error("not a file");
      if (info.size > CA_FILE_CAP) throw new Error(`larger than ${CA_FILE_CAP / 1024 / 1024} MiB`);
      text = Deno.readTextFileSync(f);
    } catch (e) {
      const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
      throw new UsageError(`--ca-file "${f}": ${why}`, { cause: e, usage: false });
    }
    if (!text.includes("-----BEGIN CERTIFICATE-----")) {
      throw new UsageError(
        `--ca-file "${f}": holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
      );
    }
  }
}

/**
 * A logger writing debug lines to stderr only with `--debug`, warnings (each once) unless `--quiet`. Each
 * message is one escaped line ({@link errorLine}): messages quote registry text (headers, error
 * bodies, media types) that must not act on the terminal.
 */
export function makeLogger(ctx: CommandContext, globals: GlobalOptions): Logger {
  // A warning is said once per run (a batch of 200 specs with the same fault: one line).
  const said = new Set<string>();
  return {
    debug: (m) => {
      if (globals.debug) ctx.err(`debug: ${errorLine(m)}\n`);
    },
    warn: (m) => {
      const line = `warning: ${errorLine(m)}\n`;
      if (globals.quiet || said.has(line)) return;
      said.add(line);
      ctx.err(line);
    },
  };
}
