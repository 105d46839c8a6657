/**
 * Robustness: random queries assembled from Cypher fragments either run or
 * fail with a CypherError (a user-facing message), never with an internal
 * exception, and a failed query commits nothing.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { CypherError } from "../values.ts";
import { graphOf, run, SOCIAL } from "./test_support.ts";

const FRAGMENTS = [
  "MATCH",
  "OPTIONAL MATCH",
  "WHERE",
  "RETURN",
  "WITH",
  "UNWIND",
  "AS",
  "CREATE",
  "MERGE",
  "SET",
  "DELETE",
  "DETACH DELETE",
  "REMOVE",
  "ORDER BY",
  "SKIP",
  "LIMIT",
  "DISTINCT",
  "ON CREATE SET",
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
  ",",
  ".",
  ":",
  "|",
  "=",
  "<>",
  "<",
  ">=",
  "+",
  "-",
  "*",
  "/",
  "%",
  "^",
  "..",
  "->",
  "<-",
  "--",
  "-[",
  "]-",
  "]->",
  "(n)",
  "(m:Person)",
  "(n:Person {name:'Bob'})",
  "-[r:KNOWS]->",
  "-[:KNOWS*1..2]-",
  "n",
  "m",
  "r",
  "x",
  "n.name",
  "n.age",
  "m.age",
  "r.since",
  "1",
  "2.5",
  "-3",
  "'s'",
  "null",
  "true",
  "[1, 2]",
  "{a: 1}",
  "$p",
  "count(*)",
  "count(n)",
  "collect(n.name)",
  "size(x)",
  "labels(n)",
  "id(n)",
  "toUpper(n.name)",
  "range(1, 3)",
  "AND",
  "OR",
  "NOT",
  "IN",
  "IS NULL",
  "IS NOT NULL",
  "STARTS WITH",
  "CONTAINS",
  "CASE",
  "WHEN",
  "THEN",
  "ELSE",
  "END",
  "x IN [1, 2] WHERE",
  "exists(n.age)",
  "*",
  "p =",
  "DESC",
];

const CLAUSES = [
  "MATCH (n:Person)",
  "MATCH (n)",
  "MATCH (n)-[r]->(m)",
  "MATCH (n)-[r:KNOWS*1..2]-(m)",
  "MATCH p = (n)-->(m)",
  "MATCH p = shortestPath((n)-[*]-(m))",
  "MATCH allShortestPaths((n)-[r:KNOWS*]->(m))",
  "OPTIONAL MATCH (n)-[:LIKES]->(m)",
  "OPTIONAL MATCH (m)<-[r]-(x)",
  "WHERE n.age > 25",
  "WHERE m IS NULL OR m.name STARTS WITH 'C'",
  "WHERE NOT (n)-->()",
  "WITH n, count(*) AS c",
  "WITH n",
  "WITH *",
  "WITH n, m ORDER BY n.name LIMIT 3",
  "UNWIND [1, 2, null] AS x",
  "UNWIND range(1, 3) AS x",
  "CREATE (x:T {v: 1})",
  "CREATE (n)-[:MADE]->(:T)",
  "MERGE (t:T {v: 2})",
  "MERGE (n)-[:M]->(m)",
  "MERGE (n:Person {name: 'Zoe'}) ON CREATE SET n.age = 1 ON MATCH SET n.age = n.age + 1",
  "SET n.z = 1",
  "SET n += {q: 'w'}",
  "SET n = {name: 'N'}",
  "SET m:Tag",
  "SET r.w = 2",
  "REMOVE n.age",
  "REMOVE n:Person",
  "DELETE r",
  "DELETE n",
  "DETACH DELETE m",
  "DELETE p",
  "RETURN n.name",
  "RETURN *",
  "RETURN count(*)",
  "RETURN DISTINCT m",
  "RETURN n, c ORDER BY c DESC",
  "RETURN x + 1 AS y ORDER BY y SKIP 1",
  "RETURN collect(n.name) AS names, avg(n.age)",
  "RETURN [v IN collect(m) | id(v)]",
  "RETURN length(p), nodes(p)",
  "CREATE INDEX ON :Person(name)",
  "DROP INDEX ON :Person(age)",
  "UNION",
  "UNION ALL",
  "FOREACH (v IN [1, 2] | SET n.f = v)",
  "FOREACH (v IN range(1, 2) | CREATE (:F {v: v}) MERGE (:G))",
];

Deno.test("fuzz: random clause sequences fail only with CypherError", async () => {
  const g = await graphOf(SOCIAL);
  let ran = 0, rejected = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.constantFrom(...CLAUSES), { minLength: 1, maxLength: 6 }),
      async (parts) => {
        const q = parts.join(" ");
        const before = g.commits;
        try {
          await run(g, q, { deadline_ms: Date.now() + 500, max_rows: 10_000 });
          ran++;
        } catch (e) {
          if (!(e instanceof CypherError)) {
            throw new Error(`internal error for ${JSON.stringify(q)}: ${(e as Error).stack}`);
          }
          assert.equal(g.commits, before, "a failed query commits nothing");
          rejected++;
        }
      },
    ),
    { numRuns: 1000, seed: 11 },
  );
  assert.ok(ran > 30 && rejected > 100, `ran ${ran}, rejected ${rejected}`);
});

Deno.test("fuzz: random fragment soups fail only with CypherError", async () => {
  const g = await graphOf(SOCIAL);
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.constantFrom(...FRAGMENTS), { minLength: 1, maxLength: 14 }),
      async (parts) => {
        const q = parts.join(" ");
        try {
          await run(g, q, { deadline_ms: Date.now() + 200, max_rows: 10_000 });
        } catch (e) {
          if (!(e instanceof CypherError)) {
            throw new Error(`internal error for ${JSON.stringify(q)}: ${(e as Error).stack}`);
          }
        }
      },
    ),
    { numRuns: 1500, seed: 11 },
  );
});

Deno.test("fuzz: well-formed random read queries run or fail cleanly", async () => {
  const g = await graphOf(SOCIAL);
  const pattern = fc.constantFrom(
    "(a)",
    "(a:Person)",
    "(a)-[r]->(b)",
    "(a)-[r:KNOWS*0..2]-(b)",
    "(a {name:'Alice'})<-[r]-(b:Person)",
    "p = (a)-->(b)",
  );
  const expr = fc.constantFrom(
    "a.name",
    "a.age + 1",
    "a.age / 0.0",
    "size(a.name)",
    "a.name STARTS WITH 'A'",
    "coalesce(a.city, 'none')",
    "labels(a)",
    "[x IN range(1, 3) | x * a.age]",
    "CASE WHEN a.age > 30 THEN 'old' ELSE 'young' END",
    "a.missing IS NULL",
    "a.age % 7",
    "toString(a.age)",
  );
  await fc.assert(
    fc.asyncProperty(
      pattern,
      fc.option(expr),
      expr,
      fc.boolean(),
      async (pat, where, ret, agg) => {
        const w = where ? ` WHERE ${where} IS NOT NULL` : "";
        const q = `MATCH ${pat}${w} RETURN ${agg ? `count(*), collect(${ret})` : ret} LIMIT 20`;
        try {
          const r = await run(g, q);
          assert.ok(r.rows.length <= 20);
          if (agg) assert.equal(r.rows.length, 1);
        } catch (e) {
          if (!(e instanceof CypherError)) throw e;
          assert.ok(!/not defined|Invalid input/.test(e.message), `${q}: ${e.message}`);
        }
      },
    ),
    { numRuns: 300, seed: 7 },
  );
});
