/**
 * `eraft ctl` as its own entry point for cross-process tests (see
 * eraft_store.ts for why tests do not go through main.ts). Usage errors exit 2.
 * @module
 */
import { parseFlags, UsageError } from "@eraft/shared/cli";
import { ctlCommand } from "@eraft/meta/ctl";

try {
  const { flags, positionals } = parseFlags(ctlCommand, Deno.args);
  Deno.exit(await ctlCommand.run(flags, positionals));
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  console.error(`eraft ctl: ${err.message}`);
  Deno.exit(2);
}
