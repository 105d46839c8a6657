/** Write clauses: CREATE, MERGE, SET, REMOVE, DELETE, indexes, statistics. */
import assert from "node:assert/strict";
import { MemoryGraph } from "../memory_graph.ts";
import { CypherError } from "../values.ts";
import { column, graphOf, rows, run, SOCIAL } from "./test_support.ts";

Deno.test("writes: CREATE statistics and ids", async () => {
  const g = new MemoryGraph();
  const r = await run(
    g,
    "CREATE (a:A:B {x: 1, y: 'two', z: null})-[:R {w: [1, 2]}]->(b:A), (b)-[:S]->(a) RETURN id(a), id(b)",
  );
  assert.deepEqual(r.rows, [[0n, 1n]]);
  const s = r.stats;
  assert.equal(s.nodes_created, 2);
  assert.equal(s.labels_added, 2, "A and B are new; the second A is not");
  assert.equal(s.properties_set, 3, "null properties are not stored");
  assert.equal(s.relationships_created, 2);
  assert.equal(s.wrote, true);
  assert.deepEqual(g.size(), { nodes: 2, edges: 2 });
  assert.deepEqual(await rows(g, "MATCH (a:B)-[r:R]->(b) RETURN a.x, a.y, a.z, r.w"), [[
    1,
    "two",
    null,
    [1, 2],
  ]]);
});

Deno.test("writes: CREATE per input row, using bound nodes", async () => {
  const g = await graphOf("UNWIND range(1, 3) AS i CREATE (:N {i: i})");
  const r = await run(g, "MATCH (a:N), (b:N) WHERE a.i + 1 = b.i CREATE (a)-[:NEXT]->(b)");
  assert.equal(r.stats.relationships_created, 2);
  assert.equal(r.stats.nodes_created, 0);
  assert.deepEqual(
    await rows(g, "MATCH p = (:N {i: 1})-[:NEXT*]->(x) RETURN x.i, length(p) ORDER BY x.i"),
    [[2, 1], [3, 2]],
  );
  // Reads before a write see the graph as it was: no endless loop.
  const r2 = await run(g, "MATCH (n:N) CREATE (:N {i: n.i + 10})");
  assert.equal(r2.stats.nodes_created, 3);
  assert.deepEqual(await rows(g, "MATCH (n:N) RETURN count(n)"), [[6]]);
});

Deno.test("writes: CREATE errors", async () => {
  const g = await graphOf("CREATE (:A)");
  const bad: Array<[string, RegExp]> = [
    ["CREATE (a)-[:R|S]->(b)", /Exactly one relationship type/],
    ["CREATE (a)-[]->(b)", /Exactly one relationship type/],
    ["CREATE (a)-[:R]-(b)", /Only directed relationships/],
    ["CREATE (a)-[:R*2]->(b)", /Variable length relationships cannot be used in CREATE/],
    ["MATCH (a:A) CREATE (a:B)", /can't be redeclared in a CREATE clause/],
    ["CREATE ({x: {a: 1}})", /Property values can only be of primitive types/],
    ["OPTIONAL MATCH (z:Missing) CREATE (z)-[:R]->()", /endpoint was not found/],
  ];
  for (const [q, re] of bad) {
    await assert.rejects(run(g, q), (e) => e instanceof CypherError && re.test(e.message), q);
  }
  assert.deepEqual(g.size(), { nodes: 1, edges: 0 }, "failed queries commit nothing");
});

Deno.test("writes: MERGE is idempotent and runs ON CREATE / ON MATCH", async () => {
  const g = new MemoryGraph();
  const q = "MERGE (p:Person {name: 'Ann'}) ON CREATE SET p.created = 1 " +
    "ON MATCH SET p.matched = coalesce(p.matched, 0) + 1 RETURN p.created, p.matched";
  const first = await run(g, q);
  assert.deepEqual(first.rows, [[1n, null]]);
  assert.equal(first.stats.nodes_created, 1);
  const second = await run(g, q);
  assert.deepEqual(second.rows, [[1n, 1n]]);
  assert.equal(second.stats.nodes_created, 0);
  assert.equal(second.stats.properties_set, 1);
  await run(g, q);
  assert.deepEqual(await rows(g, "MATCH (p:Person) RETURN count(p), max(p.matched)"), [[1, 2]]);
});

Deno.test("writes: MERGE relationships between bound nodes; per-row visibility", async () => {
  const g = await graphOf("CREATE (:U {n: 1}), (:U {n: 2})");
  const q = "MATCH (a:U {n: 1}), (b:U {n: 2}) MERGE (a)-[r:LINK]->(b) RETURN id(r)";
  const r1 = await run(g, q);
  const r2 = await run(g, q);
  assert.equal(r1.stats.relationships_created, 1);
  assert.equal(r2.stats.relationships_created, 0);
  assert.deepEqual(r1.rows, r2.rows);
  // Later rows see nodes merged by earlier rows of the same query.
  const r3 = await run(g, "UNWIND ['x', 'y', 'x', 'x'] AS k MERGE (t:Tag {k: k}) RETURN count(*)");
  assert.equal(r3.stats.nodes_created, 2);
  assert.deepEqual(r3.rows, [[4n]]);
  await assert.rejects(run(g, "MERGE (t:Tag {k: null})"), /Cannot merge node using null/);
});

Deno.test("writes: SET forms and REMOVE with statistics", async () => {
  const g = await graphOf("CREATE (:P {name: 'a', x: 1, y: 2})");
  let r = await run(g, "MATCH (p:P) SET p.x = p.x + 10, p.z = 'new' RETURN p.x, p.z");
  assert.deepEqual(r.rows, [[11n, "new"]]);
  assert.equal(r.stats.properties_set, 2);
  r = await run(g, "MATCH (p:P) SET p.y = null RETURN p.y, keys(p)");
  assert.deepEqual(r.rows, [[null, ["name", "x", "z"]]]);
  assert.equal(r.stats.properties_removed, 1);
  r = await run(g, "MATCH (p:P) SET p += {x: 0, w: true} RETURN properties(p)");
  assert.deepEqual(r.rows.map((x) => [...(x[0] as Map<string, unknown>)]), [[
    ["name", "a"],
    ["x", 0n],
    ["z", "new"],
    ["w", true],
  ]]);
  r = await run(g, "MATCH (p:P) SET p = {name: 'b'} RETURN properties(p)");
  assert.deepEqual(r.rows.map((x) => [...(x[0] as Map<string, unknown>)]), [[["name", "b"]]]);
  assert.equal(r.stats.properties_removed, 3);
  r = await run(g, "MATCH (p:P) SET p:Q:R RETURN labels(p)");
  assert.deepEqual(r.rows, [[["P", "Q", "R"]]]);
  assert.equal(r.stats.labels_added, 2);
  r = await run(g, "MATCH (p:P) REMOVE p:Q, p.name RETURN labels(p), p.name");
  assert.deepEqual(r.rows, [[["P", "R"], null]]);
  assert.equal(r.stats.labels_removed, 1);
  assert.equal(r.stats.properties_removed, 1);
  await assert.rejects(run(g, "MATCH (p:P) SET p.bad = {a: 1}"), /primitive types/);
});

Deno.test("writes: SET on relationships", async () => {
  const g = await graphOf(SOCIAL);
  const r = await run(
    g,
    "MATCH (:Person {name:'Alice'})-[k:KNOWS]->(b) SET k.weight = b.age / 5 RETURN b.name, k.weight ORDER BY b.name",
  );
  assert.deepEqual(r.rows, [["Bob", 5n], ["Carol", 7n]]);
  assert.deepEqual(
    await column(g, "MATCH ()-[k:KNOWS]->() WHERE k.weight IS NOT NULL RETURN count(k)"),
    [2],
  );
});

Deno.test("writes: DELETE refuses connected nodes, DETACH DELETE removes edges", async () => {
  const g = await graphOf(SOCIAL);
  await assert.rejects(
    run(g, "MATCH (n:Person {name:'Bob'}) DELETE n"),
    (e) =>
      e instanceof CypherError &&
      /^Cannot delete node<\d+> as it still has connections/.test(e.message),
  );
  let r = await run(g, "MATCH (n:Person {name:'Eve'}) DELETE n");
  assert.equal(r.stats.nodes_deleted, 1);
  r = await run(g, "MATCH (n:Person {name:'Bob'}) DETACH DELETE n");
  assert.equal(r.stats.nodes_deleted, 1);
  assert.equal(r.stats.relationships_deleted, 2);
  // Deleting the edges and the node together is allowed without DETACH.
  r = await run(g, "MATCH (d:Admin)-[r]-() DELETE r, d");
  assert.equal(r.stats.nodes_deleted, 1);
  assert.equal(r.stats.relationships_deleted, 2);
  assert.deepEqual(await column(g, "MATCH (n) RETURN n.name ORDER BY n.name"), ["Alice", "Carol"]);
  assert.deepEqual(g.size(), { nodes: 2, edges: 1 });
  // Deleting the same node from several rows counts it once; null is ignored.
  const g2 = await graphOf("CREATE (:X), (:X)");
  r = await run(g2, "MATCH (a:X), (b:X) DELETE a");
  assert.equal(r.stats.nodes_deleted, 2);
  r = await run(g2, "OPTIONAL MATCH (n:Missing) DELETE n");
  assert.equal(r.stats.nodes_deleted, 0);
  await assert.rejects(run(g2, "WITH 1 AS x DELETE x"), /Delete type mismatch/);
});

Deno.test("writes: DELETE of a path, then RETURN of deleted values", async () => {
  const g = await graphOf("CREATE (:A {v: 1})-[:R]->(:B {v: 2})-[:R]->(:C {v: 3})");
  const r = await run(g, "MATCH p = (:A)-[:R*]->(:C) DELETE p RETURN length(p)");
  assert.deepEqual(r.rows, [[2n]]);
  assert.equal(r.stats.nodes_deleted, 3);
  assert.equal(r.stats.relationships_deleted, 2);
  assert.deepEqual(g.size(), { nodes: 0, edges: 0 });
});

Deno.test("writes: indexes are created, used, dropped", async () => {
  const g = await graphOf(SOCIAL);
  let r = await run(g, "CREATE INDEX ON :Person(name)");
  assert.equal(r.stats.indices_created, 1);
  r = await run(g, "CREATE INDEX ON :Person(name)");
  assert.equal(r.stats.indices_created, 0, "creating an existing index is a no-op");
  assert.deepEqual(await column(g, "MATCH (p:Person) WHERE p.name = 'Carol' RETURN p.age"), [35]);
  r = await run(g, "DROP INDEX ON :Person(name)");
  assert.equal(r.stats.indices_deleted, 1);
  await assert.rejects(run(g, "DROP INDEX ON :Person(name)"), /Unable to drop index/);
});

Deno.test("writes: a failed query leaves the graph untouched", async () => {
  const g = await graphOf(SOCIAL);
  const commits = g.commits;
  await assert.rejects(run(g, "MATCH (n:Person) SET n.age = 0 WITH n RETURN 1 / 0"));
  assert.equal(g.commits, commits);
  assert.deepEqual(await column(g, "MATCH (n:Person {name:'Alice'}) RETURN n.age"), [30]);
});

Deno.test("writes: each clause sees all rows' writes of the clause before", async () => {
  const g = new MemoryGraph();
  assert.deepEqual(
    (await run(g, "UNWIND [1, 2] AS i CREATE (:X) WITH i MATCH (n:X) RETURN i, count(n)")).rows,
    [[1n, 2n], [2n, 2n]],
  );
  // MERGE after CREATE finds nodes created for later rows.
  const m = await run(g, "UNWIND [1, 2] AS i CREATE (:Y {v: i}) MERGE (:Y {v: 3 - i})");
  assert.equal(m.stats.nodes_created, 2);
  // SET after MERGE: the second row's MERGE matches the first row's node.
  const s = await run(g, "UNWIND [1, 1] AS i MERGE (n:Z {v: i}) SET n.v = 5 RETURN n.v");
  assert.equal(s.stats.nodes_created, 1);
  assert.deepEqual(s.rows, [[5n], [5n]]);
  await run(g, "CREATE (:Cnt {c: 0})");
  assert.deepEqual(
    (await run(
      g,
      "UNWIND [1, 2] AS i MATCH (n:Cnt) SET n.c = n.c + 1 WITH i, n.c AS c RETURN i, c",
    ))
      .rows,
    [[1n, 2n], [2n, 2n]],
  );
});

Deno.test("writes: FOREACH runs its updates per element; its variables stay inside", async () => {
  const g = await graphOf("CREATE (:Root {name: 'r'})");
  const r = await run(
    g,
    "MATCH (root:Root) FOREACH (i IN range(1, 3) | CREATE (root)-[:HAS]->(:Leaf {i: i})) " +
      "RETURN root.name",
  );
  assert.deepEqual(r.rows, [["r"]]);
  assert.equal(r.stats.nodes_created, 3);
  assert.equal(r.stats.relationships_created, 3);
  assert.deepEqual(await column(g, "MATCH (:Root)-[:HAS]->(l) RETURN l.i ORDER BY l.i"), [1, 2, 3]);
  // Nested FOREACH with SET and MERGE; null lists do nothing.
  await run(
    g,
    "MATCH (l:Leaf) FOREACH (x IN CASE WHEN l.i > 1 THEN [l.i] ELSE null END | " +
      "SET l.big = true MERGE (:Tag {n: x % 2}))",
  );
  assert.deepEqual(await column(g, "MATCH (l:Leaf) RETURN l.big ORDER BY l.i"), [null, true, true]);
  assert.deepEqual(await column(g, "MATCH (t:Tag) RETURN t.n ORDER BY t.n"), [0, 1]);
  await assert.rejects(run(g, "FOREACH (i IN [1] | CREATE (a)) RETURN a"), /'a' not defined/);
  await assert.rejects(run(g, "FOREACH (i IN 5 | CREATE ())"), /Type mismatch/);
  await assert.rejects(run(g, "FOREACH (i IN [1] | CREATE ())", { read_only: true }), /read-only/);
});
