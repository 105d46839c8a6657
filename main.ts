/**
 * `eraft` — the one executable: `eraft meta | store | db | dev | ctl | bench`.
 * Each subcommand's `--help` lists its flags. An unknown subcommand or a bad
 * flag prints an error and exits with code 2.
 * @module
 */
import { type CommandSpec, runCommand } from "@eraft/shared/cli";
import { metaCommand } from "@eraft/meta/cli";
import { ctlCommand } from "@eraft/meta/ctl";
import { storeCommand } from "@eraft/store/cli";
import { dbCommand } from "@eraft/db/cli";
import { devCommand } from "./tasks/dev.ts";
import { runBench } from "./tasks/bench.ts";

const PROGRAM = "eraft";

const COMMANDS: CommandSpec[] = [
  metaCommand,
  storeCommand,
  dbCommand,
  devCommand,
  ctlCommand,
  {
    name: "bench",
    summary: "run benchmarks: engine (store/engine), more with later issues",
    flags: {},
    positionals: "[SUITE...]",
    run: (_flags, positionals) => runBench(positionals),
  },
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    `${PROGRAM} — a Redis-compatible distributed database on multi-Raft`,
    "",
    `Usage: ${PROGRAM} <command> [flags]`,
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    `Run '${PROGRAM} <command> --help' for the flags of a command.`,
  ].join("\n");
}

async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const spec: CommandSpec | undefined = COMMANDS.find((c) => c.name === name);
  if (spec === undefined) {
    console.error(`${PROGRAM}: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return await runCommand(PROGRAM, spec, rest);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
