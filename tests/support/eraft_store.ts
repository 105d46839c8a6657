/**
 * `eraft store` as its own entry point for cross-process tests: the same
 * command spec main.ts runs, without loading every other subcommand (so a
 * store test does not depend on unrelated members being in a runnable state).
 * @module
 */
import { parseFlags } from "@eraft/shared/cli";
import { storeCommand } from "@eraft/store/cli";

const { flags, positionals } = parseFlags(storeCommand, Deno.args);
Deno.exit(await storeCommand.run(flags, positionals));
