/**
 * Graphs on E-DB (GRAPH.QUERY, issue #11): the Cypher engine, the storage
 * contract and its two implementations, and the reply format.
 *
 * - {@link executeQuery}/{@link explainQuery}: parse, plan, run or explain a
 *   query on any {@link GraphStore} (./exec);
 * - {@link KvGraphStore}/{@link runGraph}: a graph as records under one user
 *   key of the KV keyspace, one guarded atomic batch per query (./kv_graph.ts,
 *   layout in ./encoding.ts);
 * - {@link MemoryGraph}: the in-memory reference store (engine tests);
 * - {@link formatQueryReply}: RedisGraph's verbose result-set reply.
 * @module
 */
export {
  executeQuery,
  explainQuery,
  type QueryOptions,
  type QueryResult,
  type QueryStats,
  READ_ONLY_ERROR,
} from "./exec/mod.ts";
export type {
  Direction,
  EdgeRecord,
  Expansion,
  GraphStore,
  IndexInfo,
  IndexRange,
  NodeRecord,
} from "./graph_store.ts";
export { type GraphRunOptions, KvGraphStore, QUERY_TIMED_OUT, runGraph } from "./kv_graph.ts";
export { MemoryGraph } from "./memory_graph.ts";
export { formatQueryReply, formatValue, type QueryOutput, statsLines } from "./reply.ts";
export { CypherError, type PropertyValue, type Value } from "./values.ts";
