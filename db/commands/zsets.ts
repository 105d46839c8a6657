/** Commands (filled in below). @module */
import type { CommandSpec } from "./types.ts";
/** Command table rows. */
export const ZSET_COMMANDS: CommandSpec[] = [];
