/**
 * The E-DB TCP server: accepts RESP2/RESP3 clients, parses pipelined requests,
 * runs them in order per connection over a {@link Backend}, and writes the
 * replies in request order. Bad input ends one connection with a protocol
 * error; it never takes the server down.
 * @module
 */
import { acceptEach, splitHostPort } from "@eraft/shared/net";
import { type Backend, BackendUnavailableError } from "./backend.ts";
import { dispatch, requestKeys } from "./commands/table.ts";
import { DEFAULT_GRAPH_TIMEOUT_MS, GRAPH_TIMEOUT_CONFIG } from "./commands/graph.ts";
import type { Call, ConnState, ServerState } from "./commands/types.ts";
import { Latches } from "./latch.ts";
import { commandDone } from "./metrics.ts";
import { DEFAULT_PARSER_LIMITS, type ParserLimits, RequestParser } from "./resp/parser.ts";
import { err, type Reply } from "./resp/reply.ts";
import { ReplyBuffer, writeReply } from "./resp/writer.ts";
import { Sweeper, type SweeperOptions } from "./sweeper.ts";
import type { DbContext } from "./txn.ts";

/** Server limits. */
export interface DbLimits extends ParserLimits {
  /** Concurrent client connections. */
  max_clients: number;
  /** Unprocessed request bytes buffered per connection (Redis client-query-buffer-limit). */
  max_pipeline_bytes: number;
}

/** Defaults (Redis's where Redis has one). */
export const DEFAULT_LIMITS: DbLimits = {
  ...DEFAULT_PARSER_LIMITS,
  max_clients: 10000,
  max_pipeline_bytes: 1024 * 1024 * 1024,
};

/** Options of {@link startDbServer}. */
export interface DbServerOptions {
  /** "host:port"; port 0 picks a free port. */
  addr: string;
  backend: Backend;
  requirepass?: string | null;
  limits?: Partial<DbLimits>;
  /** Active expiry sweeper; null disables it. */
  sweeper?: Partial<SweeperOptions> | null;
  /** Clock, injectable for tests. */
  now_ms?: () => number;
}

/** A running server. */
export interface DbServer {
  port: number;
  hostname: string;
  sweeper: Sweeper | null;
  state: ServerState;
  /** Stops accepting, closes every connection, stops the sweeper; resolves when all is done. */
  close(): Promise<void>;
}

/** Replies flushed once this many bytes are pending mid-pipeline. */
const FLUSH_BYTES = 64 * 1024;

async function writeAll(conn: Deno.Conn, b: Uint8Array): Promise<void> {
  let off = 0;
  while (off < b.length) off += await conn.write(b.subarray(off));
}

/** Starts the server; resolves once it listens. */
export function startDbServer(opts: DbServerOptions): Promise<DbServer> {
  const limits: DbLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const listener = Deno.listen({ ...splitHostPort(opts.addr), transport: "tcp" });
  const db: DbContext = {
    backend: opts.backend,
    latches: new Latches(),
    now_ms: opts.now_ms ?? (() => Date.now()),
    max_bulk_bytes: limits.max_bulk_bytes,
  };
  const state: ServerState = {
    requirepass: opts.requirepass ?? null,
    started_ms: Date.now(),
    clients: new Map(),
    config: defaultConfig(limits, opts.requirepass ?? null),
    port: (listener.addr as Deno.NetAddr).port,
    commands_processed: 0,
    rejected_connections: 0,
  };
  const conns = new Map<number, Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  let next_id = 1;
  const sweeper = opts.sweeper === null ? null : new Sweeper(db, opts.sweeper ?? {});
  sweeper?.start();

  const accept = acceptEach(listener, (conn) => {
    const id = next_id++;
    conns.set(id, conn);
    const task = serveConn(conn, id, db, state, limits).finally(() => {
      conns.delete(id);
      tasks.delete(task);
    });
    tasks.add(task);
  });

  return Promise.resolve({
    port: state.port,
    hostname: (listener.addr as Deno.NetAddr).hostname,
    sweeper,
    state,
    async close() {
      listener.close();
      await accept;
      for (const c of conns.values()) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
      await Promise.all([...tasks]);
      await sweeper?.stop();
    },
  });
}

function defaultConfig(limits: DbLimits, pass: string | null): Map<string, string> {
  return new Map([
    ["save", ""],
    ["appendonly", "no"],
    ["databases", "1"],
    ["maxclients", String(limits.max_clients)],
    ["proto-max-bulk-len", String(limits.max_bulk_bytes)],
    ["client-query-buffer-limit", String(limits.max_pipeline_bytes)],
    ["requirepass", pass ?? ""],
    ["maxmemory", "0"],
    ["timeout", "0"],
    // GRAPH.QUERY time limit per query (db/commands/graph.ts).
    [GRAPH_TIMEOUT_CONFIG, String(DEFAULT_GRAPH_TIMEOUT_MS)],
  ]);
}

/** The reply for a command that threw: TRYAGAIN when the cluster is unavailable. */
function failureReply(e: unknown): Reply {
  if (e instanceof BackendUnavailableError) {
    // Redis Cluster's "retry later" error; the message says why.
    return err(e.message.startsWith("TRYAGAIN") ? e.message : `TRYAGAIN ${e.message}`);
  }
  // A bug in one command must not take the connection or server down.
  console.error("db: command failed:", e);
  return err(`ERR internal error: ${e instanceof Error ? e.message : String(e)}`);
}

async function serveConn(
  conn: Deno.Conn,
  id: number,
  db: DbContext,
  state: ServerState,
  limits: DbLimits,
): Promise<void> {
  const remote = conn.remoteAddr as Deno.NetAddr;
  const cs: ConnState = {
    id,
    addr: `${remote.hostname}:${remote.port}`,
    resp: 2,
    authed: state.requirepass === null,
    name: null,
    db_index: 0,
    created_ms: Date.now(),
    close_after_reply: false,
    multi: null,
    watched: [],
    last_command: "NULL",
  };
  try {
    if (state.clients.size >= limits.max_clients) {
      state.rejected_connections++;
      await writeAll(conn, new TextEncoder().encode("-ERR max number of clients reached\r\n"));
      return;
    }
    state.clients.set(id, cs);
    await connLoop(conn, cs, db, state, limits);
  } catch {
    // Reset by peer, closed by close(): the connection just ends.
  } finally {
    state.clients.delete(id);
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

async function connLoop(
  conn: Deno.Conn,
  cs: ConnState,
  db: DbContext,
  state: ServerState,
  limits: DbLimits,
): Promise<void> {
  const parser = new RequestParser(limits);
  const out = new ReplyBuffer();
  const buf = new Uint8Array(64 * 1024);
  const window = new PipelineWindow();
  const run = (args: Uint8Array[]) => runRequest({ db, conn: cs, server: state, args });
  for (;;) {
    parser.auth_required = !cs.authed;
    const n = await conn.read(buf);
    if (n === null) return;
    parser.push(buf.subarray(0, n));
    if (parser.buffered_bytes > limits.max_pipeline_bytes) {
      writeReply(out, err("ERR Protocol error: query buffer limit exceeded"), cs.resp);
      await writeAll(conn, out.take());
      return;
    }
    for (;;) {
      parser.auth_required = !cs.authed;
      const r = parser.next();
      if (r === null) break;
      if (r.kind === "error") {
        await window.drain(out, cs);
        writeReply(out, err(`ERR ${r.message}`), cs.resp);
        await writeAll(conn, out.take());
        return;
      }
      state.commands_processed++;
      // The only request received with nothing running (a client that waits
      // for each reply) runs as is, without the window's key bookkeeping.
      const lone = parser.buffered_bytes === 0 && window.idle;
      // Inside MULTI every request is queued in order, none runs beside another.
      const keys = cs.authed && !lone && cs.multi === null ? requestKeys(r.args) : null;
      if (!window.idle && (keys === null || !window.admits(keys))) await window.drain(out, cs);
      if (keys !== null) {
        window.add(keys, run(r.args));
        continue;
      }
      writeReply(out, await run(r.args), cs.resp);
      if (cs.close_after_reply) {
        await writeAll(conn, out.take());
        return;
      }
      if (out.size_bytes >= FLUSH_BYTES) await writeAll(conn, out.take());
    }
    // An idle window has nothing to write: no async call per request.
    if (!window.idle) await window.drain(out, cs);
    if (out.size_bytes > 0) await writeAll(conn, out.take());
  }
}

/** Runs one request and records its metrics; never throws. */
async function runRequest(call: Call): Promise<Reply> {
  const started = performance.now();
  let reply: Reply;
  try {
    reply = await dispatch(call);
  } catch (e) {
    reply = failureReply(e);
  }
  commandDone(call.args[0], (performance.now() - started) / 1000, reply.k === "error");
  return reply;
}

/** Pipelined requests of one connection running at once. */
const MAX_PIPELINE_WINDOW = 1024;

/**
 * The pipelined requests of one connection that run concurrently: keyed
 * requests whose keys are disjoint (so each key still sees its requests in
 * order; different keys' requests were in flight together anyway). Replies
 * are written in request order.
 */
class PipelineWindow {
  #keys = new Set<string>();
  #replies: Array<Promise<Reply>> = [];

  /** True when no request is running. */
  get idle(): boolean {
    return this.#replies.length === 0;
  }

  /** True when a request on `keys` may join the requests already running. */
  admits(keys: string[]): boolean {
    if (this.#replies.length >= MAX_PIPELINE_WINDOW) return false;
    return keys.every((k) => !this.#keys.has(k));
  }

  add(keys: string[], reply: Promise<Reply>): void {
    for (const k of keys) this.#keys.add(k);
    this.#replies.push(reply);
  }

  /** Waits for every running request and writes their replies in order. */
  async drain(out: ReplyBuffer, cs: ConnState): Promise<void> {
    const replies = this.#replies;
    this.#replies = [];
    this.#keys.clear();
    for (const reply of replies) writeReply(out, await reply, cs.resp);
  }
}
