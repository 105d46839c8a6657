/**
 * Test helpers for the query engine: run queries against a {@link MemoryGraph}
 * the way the command layer does (one transaction per query, committed only
 * on success), and turn results into plain values for deepEqual.
 * @module
 */
import { MemoryGraph } from "../memory_graph.ts";
import { EdgeValue, NodeValue, PathValue, type Value } from "../values.ts";
import { executeQuery, type QueryOptions, type QueryResult } from "./mod.ts";

/** Runs `query` in its own transaction; commits when it succeeds. */
export async function run(
  g: MemoryGraph,
  query: string,
  opts: Partial<QueryOptions> = {},
): Promise<QueryResult> {
  const t = g.transaction();
  const r = await executeQuery(t, query, {
    read_only: false,
    deadline_ms: Date.now() + 30_000,
    ...opts,
  });
  t.commit();
  return r;
}

/** Plain form of a value: ints as numbers, entities as short strings, maps as objects. */
export function plain(v: Value): unknown {
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k, plain(x)]));
  if (v instanceof NodeValue) return `node:${v.properties.get("name") ?? v.id}`;
  if (v instanceof EdgeValue) return `edge:${v.type}`;
  if (v instanceof PathValue) return `path:${v.edges.length}`;
  return v;
}

/** Runs `query` and returns its rows in plain form. */
export async function rows(g: MemoryGraph, query: string, opts?: Partial<QueryOptions>) {
  return (await run(g, query, opts)).rows.map((r) => r.map(plain));
}

/** The same as {@link rows} but one column flattened. */
export async function column(g: MemoryGraph, query: string): Promise<unknown[]> {
  return (await rows(g, query)).map((r) => r[0]);
}

/** A graph built by `setup` queries. */
export async function graphOf(...setup: string[]): Promise<MemoryGraph> {
  const g = new MemoryGraph();
  for (const q of setup) await run(g, q);
  return g;
}

/**
 * A small social graph: Alice -KNOWS-> Bob -KNOWS-> Carol -KNOWS-> Dave,
 * Alice -KNOWS-> Carol, Alice -LIKES-> Dave; Eve knows nobody. Ages 30, 25,
 * 35, 40, 22; cities on some.
 */
export const SOCIAL = `
CREATE (a:Person {name:'Alice', age:30, city:'Paris'}),
       (b:Person {name:'Bob', age:25, city:'Berlin'}),
       (c:Person {name:'Carol', age:35, city:'Paris'}),
       (d:Person:Admin {name:'Dave', age:40}),
       (e:Person {name:'Eve', age:22}),
       (a)-[:KNOWS {since:2010}]->(b),
       (b)-[:KNOWS {since:2015}]->(c),
       (c)-[:KNOWS {since:2020}]->(d),
       (a)-[:KNOWS {since:2012}]->(c),
       (a)-[:LIKES]->(d)`;

/** The movie graph of testdata/movies.cypher. */
export async function moviesGraph(): Promise<MemoryGraph> {
  const text = await Deno.readTextFile(new URL("../testdata/movies.cypher", import.meta.url));
  return await graphOf(text);
}
