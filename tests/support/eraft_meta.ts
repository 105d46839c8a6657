/**
 * `eraft meta` as its own entry point for cross-process tests (see
 * eraft_store.ts for why tests do not go through main.ts).
 * @module
 */
import { parseFlags } from "@eraft/shared/cli";
import { metaCommand } from "@eraft/meta/cli";

const { flags, positionals } = parseFlags(metaCommand, Deno.args);
Deno.exit(await metaCommand.run(flags, positionals));
