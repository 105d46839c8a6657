/**
 * `eraft db` as its own entry point for cross-process tests: the same command
 * spec main.ts runs, without loading the other subcommands.
 * @module
 */
import { parseFlags } from "@eraft/shared/cli";
import { dbCommand } from "@eraft/db/cli";

const { flags, positionals } = parseFlags(dbCommand, Deno.args);
Deno.exit(await dbCommand.run(flags, positionals));
