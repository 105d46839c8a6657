/**
 * Types shared by the command modules: the per-connection state, the
 * server-wide state and the command table entry.
 * @module
 */
import type { RespVersion } from "../resp/writer.ts";
import type { Reply } from "../resp/reply.ts";
import type { DbContext } from "../txn.ts";
import type { QueuedTransaction, WatchedKey } from "../multi.ts";

/** State of one client connection. */
export interface ConnState {
  id: number;
  addr: string;
  resp: RespVersion;
  authed: boolean;
  name: string | null;
  db_index: number;
  created_ms: number;
  /** Set by QUIT: reply, then close. */
  close_after_reply: boolean;
  last_command: string;
  /** The commands queued since MULTI (null: not in a transaction). */
  multi: QueuedTransaction | null;
  /** Keys WATCHed for the next EXEC. */
  watched: WatchedKey[];
}

/** Server-wide state visible to commands. */
export interface ServerState {
  requirepass: string | null;
  started_ms: number;
  clients: Map<number, ConnState>;
  /** CONFIG GET/SET parameters (strings, like Redis). */
  config: Map<string, string>;
  port: number;
  commands_processed: number;
  /** Connections refused because of max clients. */
  rejected_connections: number;
}

/** Everything a command handler sees. */
export interface Call {
  db: DbContext;
  conn: ConnState;
  server: ServerState;
  /** args[0] is the command name as sent. */
  args: Uint8Array[];
}

/** A command implementation. */
export type Handler = (c: Call) => Promise<Reply> | Reply;

/** One row of the command table (what COMMAND prints). */
export interface CommandSpec {
  name: string;
  /** Exact count if positive, minimum count if negative (Redis convention). */
  arity: number;
  flags: string[];
  first_key: number;
  last_key: number;
  step: number;
  group: string;
  summary: string;
  handler: Handler;
  /** Subcommands (CLIENT, COMMAND, CONFIG), keyed by lowercase name. */
  subcommands?: Map<string, CommandSpec>;
}

/** Builds a table row; keys default to none. */
export function spec(
  name: string,
  arity: number,
  flags: string,
  keys: [number, number, number],
  group: string,
  summary: string,
  handler: Handler,
): CommandSpec {
  return {
    name,
    arity,
    flags: flags ? flags.split(" ") : [],
    first_key: keys[0],
    last_key: keys[1],
    step: keys[2],
    group,
    summary,
    handler,
  };
}
