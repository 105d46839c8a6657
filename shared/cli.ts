/**
 * Subcommand plumbing for `eraft`: flag specs with help text, strict parsing
 * (`node:util` parseArgs standing in for @std/cli), and usage output.
 * @module
 */
import { parseArgs } from "node:util";
import { splitHostPort } from "./net.ts";

/** One flag: its parseArgs kind, default and one line of help. */
export interface FlagSpec {
  type: "string" | "boolean";
  help: string;
  default?: string | boolean;
  short?: string;
  multiple?: boolean;
}

/** Parsed flag values by name. */
export type Flags = Record<string, string | boolean | Array<string | boolean> | undefined>;

/** A subcommand: what it does, its flags, and how to run it. */
export interface CommandSpec {
  name: string;
  summary: string;
  flags: Record<string, FlagSpec>;
  /** Positional argument names shown in usage, e.g. `[STORE_ID]`. */
  positionals?: string;
  run(flags: Flags, positionals: string[]): Promise<number>;
}

/** Raised for a bad command line; the caller prints it with usage and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** "eraft store", or just the program for a task script's spec (empty name). */
function commandTitle(program: string, spec: CommandSpec): string {
  return spec.name === "" ? program : `${program} ${spec.name}`;
}

/** Help text for one subcommand. */
export function commandHelp(program: string, spec: CommandSpec): string {
  const title = commandTitle(program, spec);
  const lines = [
    `${title} — ${spec.summary}`,
    "",
    `Usage: ${title} [flags]${spec.positionals ? " " + spec.positionals : ""}`,
    "",
    "Flags:",
  ];
  const all: Record<string, FlagSpec> = {
    ...spec.flags,
    help: { type: "boolean", help: "show this help" },
  };
  const width = Math.max(...Object.keys(all).map((k) => k.length)) + 8;
  for (const [name, flag] of Object.entries(all)) {
    const arg = flag.type === "string" ? " VALUE" : "";
    const left = `  --${name}${arg}`.padEnd(width + 6);
    const def = flag.default !== undefined && flag.default !== ""
      ? ` (default: ${flag.default})`
      : "";
    lines.push(`${left}${flag.help}${def}`);
  }
  return lines.join("\n");
}

/** Parses `args` strictly against the spec; unknown flags are a UsageError. */
export function parseFlags(
  spec: CommandSpec,
  args: string[],
): { flags: Flags; positionals: string[] } {
  const options: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = {
    help: { type: "boolean" },
  };
  for (const [name, flag] of Object.entries(spec.flags)) {
    options[name] = { type: flag.type };
    if (flag.short !== undefined) options[name].short = flag.short;
    if (flag.multiple !== undefined) options[name].multiple = flag.multiple;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options,
      allowPositionals: spec.positionals !== undefined,
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const flags: Flags = { ...parsed.values };
  for (const [name, flag] of Object.entries(spec.flags)) {
    if (flags[name] === undefined && flag.default !== undefined) flags[name] = flag.default;
  }
  return { flags, positionals: parsed.positionals };
}

/** A string flag's value; a UsageError when it is missing. */
export function stringFlag(flags: Flags, name: string): string {
  const v = flags[name];
  if (typeof v !== "string" || v === "") throw new UsageError(`--${name} is required`);
  return v;
}

/**
 * An address flag (`host:port`), checked here so a typo is a usage error
 * rather than a failure deep in start-up. With `empty_ok`, an empty value is
 * returned as "" (the listener it configures is off).
 */
export function addrFlag(flags: Flags, name: string, empty_ok = false): string {
  if (empty_ok && flags[name] === "") return "";
  const raw = stringFlag(flags, name);
  try {
    splitHostPort(raw);
  } catch {
    throw new UsageError(`--${name} must be host:port, got '${raw}'`);
  }
  return raw;
}

/** A flag parsed as an integer within [min, max]. */
export function intFlag(flags: Flags, name: string, min: number, max: number): number {
  const raw = stringFlag(flags, name);
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got '${raw}'`);
  }
  return n;
}

/**
 * Runs one command line against `spec`: `--help` prints the help, a bad flag
 * prints the error with the help (exit code 2), otherwise the exit code of
 * `spec.run`. Shared by `eraft <command>` and the `deno task` scripts.
 */
export async function runCommand(
  program: string,
  spec: CommandSpec,
  args: string[],
): Promise<number> {
  const title = commandTitle(program, spec);
  try {
    const { flags, positionals } = parseFlags(spec, args);
    if (flags.help) {
      console.log(commandHelp(program, spec));
      return 0;
    }
    return await spec.run(flags, positionals);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${title}: ${err.message}\n\n${commandHelp(program, spec)}`);
      return 2;
    }
    throw err;
  }
}
