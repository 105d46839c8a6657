/** Hash commands (filled in below). @module */
import type { CommandSpec } from "./types.ts";
/** Hash command table rows. */
export const HASH_COMMANDS: CommandSpec[] = [];
