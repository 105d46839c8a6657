/**
 * MULTI, EXEC, DISCARD, WATCH and UNWATCH, with Redis 7.0's replies and
 * texts. Commands after MULTI are checked and queued; EXEC runs them in order
 * on one Txn (each sees the writes of the ones before it) and commits them as
 * one RawBatch: all or nothing, isolated from other clients and db processes
 * by the preconditions on every key read. A conflicting writer makes EXEC run
 * again from the start; a change to a WATCHed key since WATCH makes it answer
 * nil and apply nothing. A command failing at run time answers its error in
 * its place and its writes are undone, the others apply (as in Redis).
 *
 * What differs: the keys a transaction writes must lie in one region (else
 * EXEC answers the cross-region error and applies nothing), and commands that
 * walk the whole keyspace (KEYS, SCAN, RANDOMKEY, DBSIZE, FLUSHALL, FLUSHDB)
 * or graphs cannot be queued, as they would not see the transaction's writes.
 * @module
 */
import { CF_DEFAULT, CrossRegionError } from "./backend.ts";
import { equal, latin1 } from "./encoding/bytes.ts";
import { metaKey } from "./encoding/keys.ts";
import { array, err, Errors, NULL_ARRAY, OK, type Reply, simple } from "./resp/reply.ts";
import { MAX_TXN_ATTEMPTS, Txn } from "./txn.ts";
import { type Call, type CommandSpec, type ConnState, spec } from "./commands/types.ts";

/** A connection's transaction state between MULTI and EXEC or DISCARD. */
export interface QueuedTransaction {
  commands: Uint8Array[][];
  /** A command was refused while queueing: EXEC aborts. */
  dirty: boolean;
}

/** A key watched by WATCH, with its metadata record as it was then (null: absent). */
export interface WatchedKey {
  key: Uint8Array;
  raw: Uint8Array | null;
}

/** Commands that run at once even inside MULTI. */
const RUN_AT_ONCE = new Set(["exec", "discard", "multi", "watch", "quit", "reset"]);

/** Most commands one transaction may queue (a bound on a connection's memory). */
export const MAX_QUEUED_COMMANDS = 65_536;

/** Commands that cannot be queued (see the module comment). */
const NOT_IN_MULTI = new Set(["keys", "scan", "randomkey", "dbsize", "flushall", "flushdb"]);

/** True when `name` must be queued because the connection is inside MULTI. */
export function queuesInMulti(conn: ConnState, name: string): boolean {
  return conn.multi !== null && !RUN_AT_ONCE.has(name);
}

/** Queues a checked command of a connection inside MULTI (unknown and arity errors come first). */
export function queueCommand(c: Call, name: string): Reply {
  const multi = c.conn.multi!;
  if (NOT_IN_MULTI.has(name) || name.startsWith("graph.")) {
    multi.dirty = true;
    return err("ERR Command not allowed inside a transaction");
  }
  if (multi.commands.length >= MAX_QUEUED_COMMANDS) {
    multi.dirty = true;
    return err(`ERR a transaction queues at most ${MAX_QUEUED_COMMANDS} commands`);
  }
  multi.commands.push(c.args);
  return simple("QUEUED");
}

/** Marks the open transaction (if any) as failed: a command was refused while queueing. */
export function refuseInMulti(conn: ConnState): void {
  if (conn.multi) conn.multi.dirty = true;
}

function multi(c: Call): Reply {
  if (c.conn.multi) return err("ERR MULTI calls can not be nested");
  c.conn.multi = { commands: [], dirty: false };
  return OK;
}

function discard(c: Call): Reply {
  if (!c.conn.multi) return err("ERR DISCARD without MULTI");
  c.conn.multi = null;
  c.conn.watched = [];
  return OK;
}

async function watch(c: Call): Promise<Reply> {
  if (c.conn.multi) return err("ERR WATCH inside MULTI is not allowed");
  for (const key of c.args.slice(1)) {
    if (c.conn.watched.some((w) => equal(w.key, key))) continue;
    c.conn.watched.push({ key, raw: await c.db.backend.get(CF_DEFAULT, metaKey(key)) });
  }
  return OK;
}

function unwatch(c: Call): Reply {
  c.conn.watched = [];
  return OK;
}

/** What EXEC needs from the command table (passed in: the table lists EXEC itself). */
export interface ExecDeps {
  dispatch(c: Call): Promise<Reply>;
  requestKeys(args: Uint8Array[]): string[] | null;
}

async function exec(c: Call, deps: ExecDeps): Promise<Reply> {
  const queued = c.conn.multi;
  if (!queued) return err("ERR EXEC without MULTI");
  const watched = c.conn.watched;
  c.conn.multi = null;
  c.conn.watched = [];
  if (queued.dirty) return err("EXECABORT Transaction discarded because of previous errors.");
  const ids = new Set(watched.map((w) => latin1(w.key)));
  for (const args of queued.commands) for (const id of deps.requestKeys(args) ?? []) ids.add(id);
  const release = await c.db.latches.acquire([...ids]);
  try {
    for (let attempt = 0; attempt < MAX_TXN_ATTEMPTS; attempt++) {
      const outcome = await attemptExec(c, deps, queued.commands, watched);
      if (outcome !== "retry") return outcome;
      await new Promise((r) => setTimeout(r, Math.min(attempt + 1, 10)));
    }
    return err("ERR too much contention on the keys of this transaction, try again");
  } finally {
    release();
  }
}

/** One run of the queued commands and its commit; "retry" when a concurrent writer got in first. */
async function attemptExec(
  c: Call,
  deps: ExecDeps,
  commands: Uint8Array[][],
  watched: WatchedKey[],
): Promise<Reply | "retry"> {
  const t = new Txn(c.db.backend, c.db.now_ms());
  t.merge_scans = true;
  t.group_size = commands.length;
  // Watched keys' preconditions come first: a failure among them is a WATCH abort.
  for (const w of watched) t.expectMeta(w.key, w.raw);
  const db = { ...c.db, exec: t };
  const replies: Reply[] = [];
  for (const args of commands) {
    const sp = t.beginCommand();
    const reply = await deps.dispatch({ ...c, db, args });
    if (reply.k === "error") t.rollback(sp); // a failed command changes nothing
    replies.push(reply);
  }
  const failed = await commit(c, t);
  if (failed === "cross_region") return err(Errors.crossRegion);
  if (failed === null) return array(replies);
  return failed < watched.length ? NULL_ARRAY : "retry";
}

/** Commits the Txn's writes, or re-checks its reads when it wrote nothing; the failed precondition's index or null. */
async function commit(c: Call, t: Txn): Promise<number | null | "cross_region"> {
  if (t.mutations.length === 0) return await t.firstChangedRead();
  try {
    const outcome = await c.db.backend.batch(t.mutations, t.preconditions);
    return outcome.ok ? null : outcome.failed_index;
  } catch (e) {
    if (e instanceof CrossRegionError) return "cross_region";
    throw e;
  }
}

/** The table rows (EXEC needs the table's dispatch, hence `deps`). */
export function multiCommands(deps: ExecDeps): CommandSpec[] {
  const flags = "noscript loading stale fast allow_busy";
  return [
    spec("multi", 1, flags, [0, 0, 0], "transactions", "Start a transaction", multi),
    spec(
      "exec",
      1,
      "noscript loading stale",
      [0, 0, 0],
      "transactions",
      "Run the queue",
      (c) => exec(c, deps),
    ),
    spec("discard", 1, flags, [0, 0, 0], "transactions", "Drop the queued commands", discard),
    spec("watch", -2, flags, [1, -1, 1], "transactions", "Abort EXEC if keys change", watch),
    spec("unwatch", 1, flags, [0, 0, 0], "transactions", "Forget the watched keys", unwatch),
  ];
}
