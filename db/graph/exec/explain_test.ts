/** EXPLAIN output and the planner's choice of start node. */
import assert from "node:assert/strict";
import { explainQuery } from "./mod.ts";
import { graphOf, SOCIAL } from "./test_support.ts";

const g = await graphOf(
  SOCIAL,
  "UNWIND range(1, 20) AS i CREATE (:City {n: i})",
  "CREATE INDEX ON :Person(name)",
);
const explain = (q: string) => explainQuery(g.transaction(), q);

Deno.test("explain: label scan, filter, project, sort, limit", async () => {
  assert.deepEqual(
    await explain("MATCH (p:Person) WHERE p.age > 30 RETURN p.name ORDER BY p.name LIMIT 2"),
    [
      "Results",
      "    Limit",
      "        Sort",
      "            Project",
      "                Filter",
      "                    Node By Label Scan | (p:Person)",
    ],
  );
});

Deno.test("explain: an indexed equality becomes an index scan, from a map or from WHERE", async () => {
  const viaMap = await explain("MATCH (p:Person {name:'Bob'})-[:KNOWS]->(f) RETURN f");
  assert.deepEqual(viaMap, [
    "Results",
    "    Project",
    "        Conditional Traverse | (p)-[:KNOWS]->(f)",
    "            Node By Index Scan | (p:Person)",
  ]);
  const viaWhere = await explain("MATCH (f)<-[:KNOWS]-(p:Person) WHERE p.name = 'Bob' RETURN f");
  assert.deepEqual(viaWhere, [
    "Results",
    "    Project",
    "        Conditional Traverse | (p)-[:KNOWS]->(f)",
    "            Node By Index Scan | (p:Person)",
  ]);
});

Deno.test("explain: the smallest label is scanned first", async () => {
  // 5 Person nodes, 1 Admin, 20 City.
  const lines = await explain("MATCH (a:Person)-[:KNOWS]->(b:Admin) RETURN a");
  assert.deepEqual(lines, [
    "Results",
    "    Project",
    "        Filter",
    "            Conditional Traverse | (b)<-[:KNOWS]-(a:Person)",
    "                Node By Label Scan | (b:Admin)",
  ]);
  assert.ok(
    (await explain("MATCH (c:City), (n) RETURN c, n")).includes("        All Node Scan | (n)"),
  );
});

Deno.test("explain: bound variables, var-length, expand into, optional, writes", async () => {
  assert.deepEqual(
    await explain("MATCH (a:Person) MATCH (a)-[:KNOWS*1..2]->(b), (b)-->(a) RETURN count(*)"),
    [
      "Results",
      "    Aggregate",
      "        Expand Into | (b)-->(a)",
      "            Conditional Variable Length Traverse | (a)-[:KNOWS*1..2]->(b)",
      "                Node By Label Scan | (a:Person)",
    ],
  );
  assert.deepEqual(await explain("MATCH (a:Admin) OPTIONAL MATCH (a)-->(b) RETURN a, b"), [
    "Results",
    "    Project",
    "        Optional",
    "            Conditional Traverse | (a)-->(b)",
    "            Node By Label Scan | (a:Admin)",
  ]);
  assert.deepEqual(await explain("UNWIND [1] AS x MERGE (n:N {x: x}) SET n.y = 1 DELETE n"), [
    "Delete",
    "    Update",
    "        Merge",
    "            Filter",
    "                Node By Label Scan | (n:N)",
    "            Unwind",
  ]);
  assert.deepEqual(await explain("CREATE (:A) WITH 1 AS x RETURN DISTINCT x SKIP 1"), [
    "Results",
    "    Skip",
    "        Distinct",
    "            Project",
    "                Project",
    "                    Create",
  ]);
});

Deno.test("explain: UNION branches", async () => {
  assert.deepEqual(await explain("MATCH (a:Admin) RETURN a.name AS n UNION RETURN 'x' AS n"), [
    "Results",
    "    Join",
    "        Project",
    "            Node By Label Scan | (a:Admin)",
    "        Project",
  ]);
});

Deno.test("explain: id(n) = value seeks the node directly", async () => {
  assert.deepEqual(
    await explain("MATCH (a:Person), (b) WHERE id(a) = 1 AND id(b) = 2 RETURN a, b"),
    [
      "Results",
      "    Project",
      "        NodeByIdSeek | (b)",
      "            Filter",
      "                NodeByIdSeek | (a:Person)",
    ],
  );
});
