/**
 * The GRAPH.QUERY engine: parse, plan and execute one openCypher query
 * against a {@link GraphStore} view, or explain its plan.
 *
 * The caller (command layer) runs {@link executeQuery} inside one atomic
 * transaction, commits the store's buffered writes when it returns (only
 * needed when `stats.wrote`), and re-runs the whole call on a conflict. Any
 * {@link CypherError} thrown is a user error to reply with; other exceptions
 * are internal.
 * @module
 */
import { WRITE_CLAUSES } from "../cypher/ast.ts";
import { parseQuery } from "../cypher/parser.ts";
import type { GraphStore } from "../graph_store.ts";
import { CypherError, EdgeValue, NodeValue, PathValue, type Value } from "../values.ts";
import { ExecContext, type QueryStats, type Row } from "./context.ts";
import { planQuery } from "./plan.ts";
import { explainLines, rowsOf, runPipeline } from "./stage.ts";

export type { QueryStats } from "./context.ts";
export { CypherError } from "../values.ts";

/** Options of one execution. */
export interface QueryOptions {
  /** GRAPH.RO_QUERY: reject write clauses before running anything. */
  read_only: boolean;
  /** Absolute deadline, `Date.now()` based; past it the query fails with "Query timed out". */
  deadline_ms: number;
  /** Largest number of result rows; more is an error (default unlimited). */
  max_rows?: number;
  /** Extra parameters (merged under the query's own `CYPHER k=v` prefix, which wins). */
  params?: ReadonlyMap<string, Value>;
}

/** The outcome of a query. */
export interface QueryResult {
  /** Column names (empty when the query has no RETURN). */
  header: string[];
  /** Rows of values, one per header column; entities are their final versions. */
  rows: Value[][];
  stats: QueryStats;
}

/** The error GRAPH.RO_QUERY gives for a query that writes. */
export const READ_ONLY_ERROR = "graph.RO_QUERY is to be executed only on read-only queries";

/** Parses, checks, plans and runs `query_text` against `store`. */
export async function executeQuery(
  store: GraphStore,
  query_text: string,
  opts: QueryOptions,
): Promise<QueryResult> {
  try {
    return await run(store, query_text, opts);
  } catch (e) {
    // Values nested tens of thousands deep (built at run time, e.g. with
    // reduce) can exhaust the stack in comparisons or formatting.
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new CypherError("Query exceeded the maximum nesting depth of values");
    }
    throw e;
  }
}

async function run(
  store: GraphStore,
  query_text: string,
  opts: QueryOptions,
): Promise<QueryResult> {
  const q = parseQuery(query_text);
  const all = [q.clauses, ...q.union.map((u) => u.clauses)].flat();
  if (opts.read_only && all.some((c) => WRITE_CLAUSES.has(c.k))) {
    throw new CypherError(READ_ONLY_ERROR);
  }
  const params = new Map([...(opts.params ?? []), ...q.params]);
  const plan = await planQuery(q, store, params);
  const ctx = new ExecContext(store, params, opts.deadline_ms, plan.subplans);
  if (Date.now() > opts.deadline_ms) throw new CypherError("Query timed out");
  const rows: Value[][] = [];
  const max_rows = opts.max_rows ?? Infinity;
  const start: Row = new Map();
  for await (const row of runPipeline(plan.stages, rowsOf([start]), ctx)) {
    ctx.tick();
    if (plan.columns.length === 0) continue;
    if (rows.length >= max_rows) {
      throw new CypherError(`Query result exceeds the limit of ${max_rows} rows`);
    }
    rows.push(plan.columns.map((c) => resolve(row.get(c) ?? null, ctx)));
  }
  return { header: plan.columns, rows, stats: ctx.stats };
}

/** The final version of entities inside `v` (as written by this query). */
function resolve(v: Value, ctx: ExecContext): Value {
  if (v instanceof NodeValue) return ctx.node(v) ?? v;
  if (v instanceof EdgeValue) return ctx.edge(v) ?? v;
  if (v instanceof PathValue) {
    return new PathValue(
      v.nodes.map((n) => ctx.node(n) ?? n),
      v.edges.map((e) => ctx.edge(e) ?? e),
    );
  }
  if (Array.isArray(v)) return v.map((x) => resolve(x, ctx));
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, resolve(x, ctx)]));
  return v;
}

/**
 * GRAPH.EXPLAIN: the plan as RedisGraph prints it, one string per operation,
 * indented four spaces per depth ("Results", "    Project", ...). Reads only
 * indexes and label counts.
 */
export async function explainQuery(
  store: GraphStore,
  query_text: string,
  params?: ReadonlyMap<string, Value>,
): Promise<string[]> {
  const q = parseQuery(query_text);
  const all = new Map([...(params ?? []), ...q.params]);
  const plan = await planQuery(q, store, all);
  const lines = explainLines(plan.stages, plan.columns.length > 0 ? 1 : 0);
  return plan.columns.length > 0 ? ["Results", ...lines] : lines;
}
