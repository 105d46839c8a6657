/**
 * Running commands in-process for unit tests: a fixed connection and server
 * state, replies as RESP2 text.
 * @module
 */
import { str, utf8 } from "../encoding/bytes.ts";
import { dispatch } from "../commands/table.ts";
import type { ConnState, ServerState } from "../commands/types.ts";
import { encodeReply } from "../resp/writer.ts";
import type { DbContext } from "../txn.ts";

/** Server state of a test: no password, no clients. */
export function testServer(): ServerState {
  return {
    requirepass: null,
    started_ms: 0,
    clients: new Map(),
    config: new Map(),
    port: 0,
    commands_processed: 0,
    rejected_connections: 0,
  };
}

/** An authenticated RESP2 connection. */
export function testConn(): ConnState {
  return {
    id: 1,
    addr: "t",
    resp: 2,
    authed: true,
    name: null,
    db_index: 0,
    created_ms: 0,
    close_after_reply: false,
    multi: null,
    watched: [],
    last_command: "",
  };
}

const SERVER = testServer();

/** Runs one command against `db` and returns its RESP2 reply as text. */
export async function runCommand(db: DbContext, ...args: string[]): Promise<string> {
  return str(
    encodeReply(await dispatch({ db, conn: testConn(), server: SERVER, args: args.map(utf8) }), 2),
  );
}
