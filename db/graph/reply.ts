/**
 * GRAPH.QUERY replies in RedisGraph/FalkorDB's verbose (non-compact) form:
 *
 * - a query without RETURN: `[stats]`;
 * - with RETURN: `[header, rows, stats]`, header = column names, rows =
 *   arrays of values;
 * - stats = bulk strings, one per non-zero counter ("Nodes created: 1", ...),
 *   then "Cached execution: 0" and "Query internal execution time: X
 *   milliseconds" (6 decimals).
 *
 * Values as FalkorDB's verbose formatter writes them
 * (src/resultset/formatters/resultset_replyverbose.c): integer -> RESP
 * integer, string -> bulk, float -> bulk "%.15g", boolean -> bulk
 * "true"/"false", null -> nil, node -> `[["id", n], ["labels", [..]],
 * ["properties", [[k, v], ...]]]`, edge -> `[["id", n], ["type", t],
 * ["src_node", n], ["dest_node", n], ["properties", [...]]]`; lists, maps and
 * paths are bulk strings of their text form (SIValue_ToString: "[1, a]",
 * "{k: v}", "[(0), [1], (2)]", floats inside as "%f", null as "NULL").
 * @module
 */
import { array, bulk, int, NULL, type Reply } from "../resp/reply.ts";
import type { QueryStats } from "./exec/context.ts";
import { EdgeValue, NodeValue, PathValue, type PropertyValue, type Value } from "./values.ts";

/** C's `printf("%.15g", d)` (how RedisGraph replies floats). */
export function formatDoubleG15(d: number): string {
  if (Number.isNaN(d)) return "nan";
  if (d === Infinity) return "inf";
  if (d === -Infinity) return "-inf";
  if (d === 0) return Object.is(d, -0) ? "-0" : "0";
  const e = d.toExponential(14);
  const at = e.indexOf("e");
  const x = Number(e.slice(at + 1));
  if (x < -4 || x >= 15) {
    const mant = stripZeros(e.slice(0, at));
    const sign = x < 0 ? "-" : "+";
    const digits = String(Math.abs(x)).padStart(2, "0");
    return `${mant}e${sign}${digits}`;
  }
  return stripZeros(d.toFixed(14 - x));
}

function stripZeros(s: string): string {
  if (!s.includes(".")) return s;
  return s.replace(/0+$/, "").replace(/\.$/, "");
}

/** C's `printf("%f", d)` (floats nested in lists and maps). */
export function formatDoubleF6(d: number): string {
  if (Number.isNaN(d)) return "nan";
  if (d === Infinity) return "inf";
  if (d === -Infinity) return "-inf";
  if (Math.abs(d) < 1e21) return d.toFixed(6);
  // toFixed switches to exponent notation from 1e21; %f prints every digit.
  return `${d < 0 ? "-" : ""}${BigInt(Math.abs(d)).toString()}.000000`;
}

/** FalkorDB's SIValue_ToString: the text of a value nested in a list, map or path. */
export function valueText(v: Value): string {
  if (v === null) return "NULL";
  switch (typeof v) {
    case "boolean":
      return v ? "true" : "false";
    case "bigint":
      return v.toString();
    case "number":
      return formatDoubleF6(v);
    case "string":
      return v;
  }
  if (Array.isArray(v)) return `[${v.map(valueText).join(", ")}]`;
  if (v instanceof Map) return `{${[...v].map(([k, x]) => `${k}: ${valueText(x)}`).join(", ")}}`;
  if (v instanceof NodeValue) return `(${v.id})`;
  if (v instanceof EdgeValue) return `[${v.id}]`;
  if (v instanceof PathValue) {
    const parts: string[] = [valueText(v.nodes[0])];
    v.edges.forEach((e, i) => parts.push(valueText(e), valueText(v.nodes[i + 1])));
    return `[${parts.join(", ")}]`;
  }
  throw new Error(`unknown value ${String(v)}`);
}

function properties(props: ReadonlyMap<string, PropertyValue>): Reply {
  return array([...props].map(([k, v]) => array([bulk(k), formatValue(v)])));
}

/** One value of a result row, verbose form (see the module comment). */
export function formatValue(v: Value): Reply {
  if (v === null) return NULL;
  switch (typeof v) {
    case "boolean":
      return bulk(v ? "true" : "false");
    case "bigint":
      return int(v);
    case "number":
      return bulk(formatDoubleG15(v));
    case "string":
      return bulk(v);
  }
  if (v instanceof NodeValue) {
    return array([
      array([bulk("id"), int(v.id)]),
      array([bulk("labels"), array(v.labels.map((l) => bulk(l)))]),
      array([bulk("properties"), properties(v.properties)]),
    ]);
  }
  if (v instanceof EdgeValue) {
    return array([
      array([bulk("id"), int(v.id)]),
      array([bulk("type"), bulk(v.type)]),
      array([bulk("src_node"), int(v.src)]),
      array([bulk("dest_node"), int(v.dst)]),
      array([bulk("properties"), properties(v.properties)]),
    ]);
  }
  return bulk(valueText(v));
}

/** The counters a reply reports: the engine's QueryStats without its `wrote` flag. */
export type ReplyStats = Omit<QueryStats, "wrote">;

/** The statistics lines (counters in FalkorDB's order, then cache flag and time). */
export function statsLines(stats: ReplyStats, elapsed_ms: number): string[] {
  const out: string[] = [];
  const add = (n: number, what: string) => n > 0 && out.push(`${what}: ${n}`);
  add(stats.labels_added, "Labels added");
  add(stats.labels_removed, "Labels removed");
  add(stats.nodes_created, "Nodes created");
  add(stats.properties_set, "Properties set");
  add(stats.properties_removed, "Properties removed");
  add(stats.relationships_created, "Relationships created");
  add(stats.nodes_deleted, "Nodes deleted");
  add(stats.relationships_deleted, "Relationships deleted");
  add(stats.indices_created, "Indices created");
  add(stats.indices_deleted, "Indices deleted");
  out.push("Cached execution: 0");
  out.push(`Query internal execution time: ${elapsed_ms.toFixed(6)} milliseconds`);
  return out;
}

/** What a query produced, as the reply needs it. */
export interface QueryOutput {
  /** Column names; empty when the query has no RETURN. */
  header: readonly string[];
  rows: ReadonlyArray<ReadonlyArray<Value>>;
  stats: ReplyStats;
}

/** The whole GRAPH.QUERY reply. */
export function formatQueryReply(out: QueryOutput, elapsed_ms: number): Reply {
  const stats = array(statsLines(out.stats, elapsed_ms).map((s) => bulk(s)));
  if (out.header.length === 0) return array([stats]);
  for (const r of out.rows) {
    if (r.length !== out.header.length) throw new Error("row width differs from the header");
  }
  return array([
    array(out.header.map((c) => bulk(c))),
    array(out.rows.map((r) => array(r.map(formatValue)))),
    stats,
  ]);
}

/** A reply as a client sees it (what {@link frameValue} returns). */
export type ClientValue = string | number | null | ClientValue[] | { error: string };

/**
 * A decoded RESP frame (db/testing/resp_client.ts) as plain JS: bulk and
 * simple strings as strings, integers as numbers, nil as null, arrays as
 * arrays, errors as `{ error }`. For tests and the benchmark.
 */
export function frameValue(
  f: { t: string; line: string; bulk: Uint8Array | null; items: unknown[] | null },
): ClientValue {
  switch (f.t) {
    case "+":
      return f.line;
    case "-":
      return { error: f.line };
    case ":":
      return Number(f.line);
    case "$":
      return f.bulk === null ? null : new TextDecoder().decode(f.bulk);
    case "_":
      return null;
    case "*":
      return f.items === null
        ? null
        : f.items.map((i) => frameValue(i as Parameters<typeof frameValue>[0]));
  }
  throw new Error(`unexpected reply type ${f.t}`);
}
