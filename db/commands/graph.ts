/**
 * GRAPH.* commands (RedisGraph/FalkorDB compatible): GRAPH.QUERY,
 * GRAPH.RO_QUERY, GRAPH.EXPLAIN, GRAPH.DELETE, GRAPH.LIST. A graph is one user
 * key of type graph (db/graph/encoding.ts); a query runs on a
 * {@link KvGraphStore} inside {@link runGraph}, which commits its writes as
 * one guarded RawBatch and re-runs the query on a conflict. Replies are the
 * verbose result-set form (db/graph/reply.ts).
 * @module
 */
import { str } from "../encoding/bytes.ts";
import { isExpired, RedisType } from "../encoding/metadata.ts";
import { executeQuery, explainQuery } from "../graph/mod.ts";
import { type KvGraphStore, runGraph } from "../graph/kv_graph.ts";
import { formatQueryReply } from "../graph/reply.ts";
import { CypherError } from "../graph/values.ts";
import { walkKeys } from "../keyspace.ts";
import { array, bulk, bulkArray, err, OK, type Reply } from "../resp/reply.ts";
import { CommandError, runWrite } from "../txn.ts";
import { lower } from "./args.ts";
import { type Call, type CommandSpec, spec } from "./types.ts";

/** CONFIG parameter: per-query time limit in ms (0 = none), like FalkorDB's TIMEOUT. */
export const GRAPH_TIMEOUT_CONFIG = "graph-timeout-ms";
/** Default of {@link GRAPH_TIMEOUT_CONFIG}. */
export const DEFAULT_GRAPH_TIMEOUT_MS = 10_000;

/** FalkorDB's error for RO_QUERY/EXPLAIN/DELETE on a key that holds no graph. */
export const EMPTY_KEY_ERROR = "ERR Invalid graph operation on empty key";

function queryError(e: CypherError): Reply {
  return err(e.message.startsWith("ERR ") ? e.message : `ERR ${e.message}`);
}

/** Runs `fn`, turning a query error into its `-ERR` reply. */
async function guarded(fn: () => Promise<Reply>): Promise<Reply> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof CypherError) return queryError(e);
    throw e;
  }
}

/**
 * Parses the optional arguments after the query: `TIMEOUT <ms>` (as
 * FalkorDB) overrides the configured limit. Returns the limit in ms (0 =
 * none) or an error reply.
 */
function parseOptions(c: Call): { timeout_ms: number } | Reply {
  const configured = Number(c.server.config.get(GRAPH_TIMEOUT_CONFIG) ?? DEFAULT_GRAPH_TIMEOUT_MS);
  let timeout_ms = Number.isFinite(configured) && configured >= 0
    ? configured
    : DEFAULT_GRAPH_TIMEOUT_MS;
  for (let i = 3; i < c.args.length; i++) {
    const a = lower(c.args[i]);
    if (a === "timeout") {
      const v = i + 1 < c.args.length ? Number(str(c.args[++i])) : NaN;
      if (!Number.isSafeInteger(v) || v < 0) return err("ERR Failed to parse query timeout value");
      timeout_ms = v;
    } else if (a === "--compact") {
      return err("ERR --compact result sets are not supported; use the verbose form");
    } else {
      return err(`ERR Unknown argument '${str(c.args[i])}'`);
    }
  }
  return { timeout_ms };
}

function deadline(c: Call, timeout_ms: number): number {
  return timeout_ms === 0 ? Number.MAX_SAFE_INTEGER : c.db.now_ms() + timeout_ms;
}

function query(c: Call, read_only: boolean): Promise<Reply> | Reply {
  const opts = parseOptions(c);
  if ("k" in opts) return opts;
  const key = c.args[1];
  const text = str(c.args[2]);
  const started = performance.now();
  const deadline_ms = deadline(c, opts.timeout_ms);
  return guarded(async () => {
    const out = await runGraph(
      c.db,
      key,
      // GRAPH.QUERY creates the graph (even for a read, like RedisGraph) and
      // queues behind other writers here; RO_QUERY neither.
      { create: !read_only, latch: !read_only, deadline_ms },
      async (store: KvGraphStore | null) => {
        if (!store) throw new CommandError(err(EMPTY_KEY_ERROR));
        return await executeQuery(store, text, { read_only, deadline_ms });
      },
    );
    return formatQueryReply(out, performance.now() - started);
  });
}

function explain(c: Call): Promise<Reply> | Reply {
  const opts = parseOptions(c);
  if ("k" in opts) return opts;
  const key = c.args[1];
  const text = str(c.args[2]);
  return guarded(async () => {
    const lines = await runGraph(
      c.db,
      key,
      { create: false, latch: false, deadline_ms: deadline(c, opts.timeout_ms) },
      async (store) => {
        if (!store) throw new CommandError(err(EMPTY_KEY_ERROR));
        return await explainQuery(store, text);
      },
    );
    return bulkArray(lines);
  });
}

function deleteGraph(c: Call): Promise<Reply> {
  const key = c.args[1];
  return runWrite(c.db, [key], async (t) => {
    const m = await t.meta(key);
    if (!m || m.type !== RedisType.Graph) return err(EMPTY_KEY_ERROR);
    // O(1) like DEL: the generation's records are garbage for the sweeper.
    t.deleteKey(key);
    return OK;
  });
}

async function list(c: Call): Promise<Reply> {
  const out: Reply[] = [];
  const now = c.db.now_ms();
  let pos: Uint8Array | null = new Uint8Array(0);
  while (pos) {
    const r: Awaited<ReturnType<typeof walkKeys>> = await walkKeys(c.db.backend, pos, 512);
    for (const k of r.keys) {
      if (k.meta.type === RedisType.Graph && !isExpired(k.meta, now)) out.push(bulk(k.key));
    }
    pos = r.next;
  }
  return array(out);
}

/** Graph command table rows. */
export const GRAPH_COMMANDS: CommandSpec[] = [
  spec(
    "graph.query",
    -3,
    "write denyoom",
    [1, 1, 1],
    "graph",
    "Run a Cypher query (creates the graph)",
    (c) => query(c, false),
  ),
  spec(
    "graph.ro_query",
    -3,
    "readonly",
    [1, 1, 1],
    "graph",
    "Run a read-only Cypher query",
    (c) => query(c, true),
  ),
  spec("graph.explain", 3, "readonly", [1, 1, 1], "graph", "Execution plan of a query", explain),
  spec("graph.delete", 2, "write", [1, 1, 1], "graph", "Delete a graph", deleteGraph),
  spec("graph.list", 1, "readonly", [0, 0, 0], "graph", "Names of all graphs", list),
];
