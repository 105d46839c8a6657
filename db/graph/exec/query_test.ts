/** Read queries on a small social graph: matching, expressions, projections, aggregates. */
import assert from "node:assert/strict";
import { CypherError } from "../values.ts";
import { column, graphOf, rows, run, SOCIAL } from "./test_support.ts";

const g = await graphOf(SOCIAL);

Deno.test("query: label scan, property map, WHERE, ORDER BY DESC", async () => {
  assert.deepEqual(
    await rows(g, "MATCH (p:Person) WHERE p.age > 24 RETURN p.name, p.age ORDER BY p.age DESC"),
    [["Dave", 40], ["Carol", 35], ["Alice", 30], ["Bob", 25]],
  );
  assert.deepEqual(await column(g, "MATCH (p {city:'Paris'}) RETURN p.name ORDER BY p.name"), [
    "Alice",
    "Carol",
  ]);
  assert.deepEqual(await column(g, "MATCH (p:Admin) RETURN p.name"), ["Dave"]);
  assert.deepEqual(await column(g, "MATCH (p:Person:Admin) RETURN p.name"), ["Dave"]);
  assert.deepEqual(await column(g, "MATCH (p:Nope) RETURN p.name"), []);
});

Deno.test("query: directions, type alternatives and undirected patterns", async () => {
  assert.deepEqual(
    await column(g, "MATCH (:Person {name:'Alice'})-[:KNOWS]->(f) RETURN f.name ORDER BY f.name"),
    ["Bob", "Carol"],
  );
  assert.deepEqual(
    await column(g, "MATCH (:Person {name:'Carol'})<-[:KNOWS]-(f) RETURN f.name ORDER BY f.name"),
    ["Alice", "Bob"],
  );
  assert.deepEqual(
    await column(g, "MATCH (:Person {name:'Carol'})-[:KNOWS]-(f) RETURN f.name ORDER BY f.name"),
    ["Alice", "Bob", "Dave"],
  );
  assert.deepEqual(
    await column(
      g,
      "MATCH (:Person {name:'Alice'})-[r:KNOWS|LIKES]->(f) RETURN type(r) + ':' + f.name AS x ORDER BY x",
    ),
    ["KNOWS:Bob", "KNOWS:Carol", "LIKES:Dave"],
  );
  assert.deepEqual(
    await column(g, "MATCH (:Person {name:'Alice'})-[r]->() RETURN r.since ORDER BY r.since"),
    [2010, 2012, null],
  );
  assert.deepEqual(
    await column(g, "MATCH (a)-[:KNOWS {since: 2015}]->(b) RETURN a.name + '>' + b.name"),
    ["Bob>Carol"],
  );
});

Deno.test("query: variable-length paths with bounds and relationship uniqueness", async () => {
  const reach = (q: string) => column(g, q);
  assert.deepEqual(
    await reach("MATCH (:Person {name:'Alice'})-[:KNOWS*2]->(x) RETURN x.name ORDER BY x.name"),
    ["Carol", "Dave"],
  );
  assert.deepEqual(
    await reach("MATCH (:Person {name:'Alice'})-[:KNOWS*..2]->(x) RETURN x.name ORDER BY x.name"),
    ["Bob", "Carol", "Carol", "Dave"],
  );
  assert.deepEqual(
    await reach(
      "MATCH (:Person {name:'Alice'})-[:KNOWS*1..3]->(x) RETURN DISTINCT x.name ORDER BY x.name",
    ),
    ["Bob", "Carol", "Dave"],
  );
  assert.deepEqual(
    await reach("MATCH (:Person {name:'Alice'})-[:KNOWS*0..1]->(x) RETURN x.name ORDER BY x.name"),
    ["Alice", "Bob", "Carol"],
  );
  // Undirected unbounded: edges are never reused, so this terminates; the longest
  // trail from Dave over KNOWS visits all 4 edges.
  assert.deepEqual(
    await rows(g, "MATCH (:Person {name:'Dave'})-[r:KNOWS*]-(x) RETURN max(size(r))"),
    [[4]],
  );
  // The relationship list is in pattern order, also when matched right to left.
  assert.deepEqual(
    await rows(
      g,
      "MATCH (a {name:'Bob'})-[r:KNOWS*2]->(d:Admin) RETURN r[0].since, r[1].since",
    ),
    [[2015, 2020]],
  );
});

Deno.test("query: named paths, nodes(), relationships(), length()", async () => {
  assert.deepEqual(
    await rows(
      g,
      "MATCH p = (a {name:'Alice'})-[:KNOWS]->(b)-[:KNOWS]->(c) " +
        "RETURN length(p), nodes(p), size(relationships(p)) ORDER BY c.name",
    ),
    [
      [2, ["node:Alice", "node:Bob", "node:Carol"], 2],
      [2, ["node:Alice", "node:Carol", "node:Dave"], 2],
    ],
  );
  assert.deepEqual(
    await rows(g, "MATCH p = (a {name:'Alice'})-[:KNOWS*3]->(x) RETURN x.name, length(p)"),
    [["Dave", 3]],
  );
});

Deno.test("query: OPTIONAL MATCH yields nulls for missing parts", async () => {
  assert.deepEqual(
    await rows(
      g,
      "MATCH (p:Person) OPTIONAL MATCH (p)-[:LIKES]->(x) RETURN p.name, x.name ORDER BY p.name",
    ),
    [["Alice", "Dave"], ["Bob", null], ["Carol", null], ["Dave", null], ["Eve", null]],
  );
  assert.deepEqual(
    await rows(
      g,
      "MATCH (p:Person {name:'Eve'}) OPTIONAL MATCH (p)-[r]-(q) RETURN p.name, r, q, count(q)",
    ),
    [["Eve", null, null, 0]],
  );
  // The WHERE of an OPTIONAL MATCH filters the optional part only.
  assert.deepEqual(
    await rows(
      g,
      "MATCH (p:Person {name:'Alice'}) OPTIONAL MATCH (p)-[:KNOWS]->(f) WHERE f.age > 100 RETURN p.name, f",
    ),
    [["Alice", null]],
  );
});

Deno.test("query: aggregates, grouping, DISTINCT, count(DISTINCT)", async () => {
  assert.deepEqual(
    await rows(
      g,
      "MATCH (p:Person) RETURN count(*), sum(p.age), avg(p.age), min(p.age), max(p.name), count(p.city)",
    ),
    [[5, 152, 30.4, 22, "Eve", 3]],
  );
  assert.deepEqual(
    await rows(g, "MATCH (p:Person) RETURN p.city AS city, count(*) AS n ORDER BY n DESC, city"),
    [["Paris", 2], [null, 2], ["Berlin", 1]],
  );
  assert.deepEqual(
    await rows(g, "MATCH (p:Person) RETURN count(DISTINCT p.city), collect(DISTINCT p.city)"),
    [[2, ["Paris", "Berlin"]]],
  );
  assert.deepEqual(await column(g, "MATCH (p:Person) RETURN DISTINCT p.city ORDER BY p.city"), [
    "Berlin",
    "Paris",
    null,
  ]);
  assert.deepEqual(await rows(g, "MATCH (p:Nobody) RETURN count(p), sum(p.x), collect(p)"), [[
    0,
    0,
    [],
  ]]);
  assert.deepEqual(await rows(g, "MATCH (p:Nobody) RETURN p.x, count(*)"), []);
  assert.deepEqual(
    await rows(
      g,
      "MATCH (p:Person) RETURN count(*) * 10 + 1 AS x, sum(p.age) / count(*) AS avgInt",
    ),
    [[51, 30]],
  );
  assert.deepEqual(
    await rows(
      g,
      "MATCH (p:Person) RETURN p.city, count(*) ORDER BY count(*) DESC, p.city LIMIT 1",
    ),
    [["Paris", 2]],
  );
});

Deno.test("query: WITH, WHERE after WITH, SKIP/LIMIT, UNWIND", async () => {
  assert.deepEqual(
    await rows(
      g,
      "MATCH (p:Person)-[:KNOWS]->(f) WITH p, count(f) AS n WHERE n > 1 RETURN p.name, n",
    ),
    [["Alice", 2]],
  );
  assert.deepEqual(
    await column(g, "MATCH (p:Person) WITH p ORDER BY p.age SKIP 1 LIMIT 2 RETURN p.name"),
    ["Bob", "Alice"],
  );
  assert.deepEqual(await column(g, "UNWIND [3, 1, 2] AS x RETURN x ORDER BY x DESC"), [3, 2, 1]);
  assert.deepEqual(await column(g, "UNWIND [] AS x RETURN x"), []);
  assert.deepEqual(await column(g, "UNWIND null AS x RETURN x"), []);
  assert.deepEqual(
    await rows(g, "UNWIND range(1, 10) AS x WITH x WHERE x % 3 = 0 RETURN collect(x)"),
    [[[3, 6, 9]]],
  );
  assert.deepEqual(await column(g, "RETURN 1 AS x SKIP 0 LIMIT 0"), []);
  assert.deepEqual(
    await rows(g, "MATCH (a:Person {name:'Alice'}) WITH a.name AS n, a.age AS age RETURN *"),
    [["Alice", 30]],
  );
});

Deno.test("query: expressions, null semantics and functions", async () => {
  const one = async (e: string) => (await rows(g, `RETURN ${e}`))[0][0];
  assert.equal(await one("1 + 2 * 3 - 4 / 2"), 5);
  assert.equal(await one("7 / 2"), 3);
  assert.equal(await one("7 / 2.0"), 3.5);
  assert.equal(await one("-7 % 3"), -1);
  assert.equal(await one("2 ^ 10"), 1024);
  assert.equal(await one("'a' + 1 + 1.5"), "a11.5");
  assert.deepEqual(await one("[1, 2] + 3"), [1, 2, 3]);
  assert.equal(await one("null + 1"), null);
  assert.equal(await one("null = null"), null);
  assert.equal(await one("null IS NULL"), true);
  assert.equal(await one("1 = 1.0"), true);
  assert.equal(await one("1 < 2 < 3"), true);
  assert.equal(await one("3 > 2 > 2"), false);
  assert.equal(await one("true AND null"), null);
  assert.equal(await one("false AND null"), false);
  assert.equal(await one("true OR null"), true);
  assert.equal(await one("true XOR false"), true);
  assert.equal(await one("NOT null"), null);
  assert.equal(await one("2 IN [1, 2]"), true);
  assert.equal(await one("3 IN [1, null]"), null);
  assert.equal(await one("'hello' STARTS WITH 'he'"), true);
  assert.equal(await one("'hello' ENDS WITH 'lo'"), true);
  assert.equal(await one("'hello' CONTAINS 'ell'"), true);
  assert.equal(await one("'hello' CONTAINS null"), null);
  assert.equal(await one("[1, 2, 3][-1]"), 3);
  assert.deepEqual(await one("[1, 2, 3, 4][1..3]"), [2, 3]);
  assert.equal(await one("{a: {b: 5}}.a.b"), 5);
  assert.equal(await one("toUpper('abc') + toLower('DEF')"), "ABCdef");
  assert.equal(await one("toString(1.5) + toString(2) + toString(true)"), "1.52true");
  assert.equal(await one("toInteger('42') + toInteger(3.9)"), 45);
  assert.equal(await one("toFloat('2.5')"), 2.5);
  assert.equal(await one("toInteger('x')"), null);
  assert.equal(await one("coalesce(null, null, 'z')"), "z");
  assert.equal(await one("abs(-3) + abs(-1.5)"), 4.5);
  assert.deepEqual(await one("range(0, 10, 5)"), [0, 5, 10]);
  assert.deepEqual(await one("range(3, 1, -1)"), [3, 2, 1]);
  assert.equal(await one("head([4, 5]) + last([4, 5])"), 9);
  assert.equal(await one("size('héllo') + size([1, 2])"), 7);
  assert.equal(await one("substring('hello', 1, 3)"), "ell");
  assert.deepEqual(await one("split('a,b', ',')"), ["a", "b"]);
  assert.equal(await one("CASE WHEN 1 > 2 THEN 'a' WHEN 2 > 1 THEN 'b' ELSE 'c' END"), "b");
  assert.equal(await one("CASE 2 WHEN 1 THEN 'one' WHEN 2 THEN 'two' END"), "two");
  assert.equal(await one("CASE 3 WHEN 1 THEN 'one' END"), null);
  assert.equal(await one("9223372036854775807"), 9223372036854775807);
  assert.equal(await one("-9223372036854775808 < 0"), true);
  await assert.rejects(run(g, "RETURN 9223372036854775807 + 1"), /Integer overflow/);
  await assert.rejects(run(g, "RETURN 1 / 0"), /Division by zero/);
  assert.equal(await one("1 / 0.0"), Infinity);
});

Deno.test("query: integers stay integers and floats stay floats", async () => {
  const [r] = (await run(g, "RETURN 1, 1.0, 3 / 2, 3 / 2.0, sum(1), avg(1)")).rows;
  assert.deepEqual(r, [1n, 1, 1n, 1.5, 1n, 1]);
  assert.equal(typeof r[1], "number");
});

Deno.test("query: entity functions", async () => {
  assert.deepEqual(
    await rows(
      g,
      "MATCH (a {name:'Alice'})-[r:KNOWS]->(b {name:'Bob'}) " +
        "RETURN labels(a), type(r), keys(r), properties(b).city, startNode(r).name, endNode(r).name, " +
        "id(startNode(r)) = id(a)",
    ),
    [[["Person"], "KNOWS", ["since"], "Berlin", "Alice", "Bob", true]],
  );
  assert.deepEqual(
    await rows(g, "MATCH (d:Admin) RETURN keys(d), labels(d)"),
    [[["name", "age"], ["Person", "Admin"]]],
  );
});

Deno.test("query: parameters from the CYPHER prefix", async () => {
  assert.deepEqual(
    await column(
      g,
      "CYPHER min=30 names=['Alice','Dave','Zed'] MATCH (p:Person) WHERE p.age >= $min " +
        "AND p.name IN $names RETURN p.name ORDER BY p.name",
    ),
    ["Alice", "Dave"],
  );
  assert.deepEqual(
    await column(g, "CYPHER props={name:'Bob'} MATCH (p:Person $props) RETURN p.age"),
    [25],
  );
  assert.deepEqual(await column(g, "CYPHER x=-1.5 y=null RETURN $x"), [-1.5]);
  await assert.rejects(run(g, "RETURN $missing"), /Missing parameters/);
});

Deno.test("query: RETURN * and column names", async () => {
  const r = await run(g, "MATCH (a {name:'Alice'})-[r:LIKES]->(b) RETURN *");
  assert.deepEqual(r.header, ["a", "r", "b"]);
  const r2 = await run(g, "MATCH (a {name:'Alice'}) RETURN a.name, a.age AS age, toUpper(a.name)");
  assert.deepEqual(r2.header, ["a.name", "age", "toUpper(a.name)"]);
});

Deno.test("query: cartesian products and already-bound variables", async () => {
  assert.deepEqual(
    await rows(g, "MATCH (a:Admin), (b {name:'Eve'}) RETURN a.name, b.name"),
    [["Dave", "Eve"]],
  );
  assert.deepEqual(
    await rows(
      g,
      "MATCH (a {name:'Alice'}) MATCH (a)-[:KNOWS]->(b)-[:KNOWS]->(c) RETURN b.name, c.name",
    ),
    [["Bob", "Carol"], ["Carol", "Dave"]],
  );
  // A triangle closes onto a bound variable (Expand Into).
  assert.deepEqual(
    await rows(g, "MATCH (a)-[:KNOWS]->(b)-[:KNOWS]->(c), (a)-[:KNOWS]->(c) RETURN a.name, c.name"),
    [["Alice", "Carol"]],
  );
});

Deno.test("query: read-only mode and deadlines", async () => {
  await assert.rejects(
    run(g, "CREATE (:X)", { read_only: true }),
    /graph\.RO_QUERY is to be executed only on read-only queries/,
  );
  assert.deepEqual((await run(g, "MATCH (n) RETURN count(n)", { read_only: true })).rows, [[5n]]);
  await assert.rejects(
    run(g, "UNWIND range(1, 1000000) AS x RETURN count(x)", { deadline_ms: Date.now() + 20 }),
    (e) => e instanceof CypherError && e.message === "Query timed out",
  );
  await assert.rejects(
    run(g, "UNWIND range(1, 10) AS x RETURN x", { max_rows: 5 }),
    /exceeds the limit of 5 rows/,
  );
});

Deno.test("query: semantic errors", async () => {
  const bad: Array<[string, RegExp]> = [
    ["MATCH (a) RETURN b", /'b' not defined/],
    ["MATCH (a) WHERE count(a) > 1 RETURN a", /Invalid use of aggregating function 'count'/],
    ["RETURN count(count(1))", /inside of aggregate functions/],
    ["RETURN nosuch(1)", /Unknown function 'nosuch'/],
    ["RETURN toUpper('a', 'b')", /Received 2 arguments to function 'toupper'/],
    ["MATCH (a) WITH a.name RETURN 1", /must be aliased/],
    ["MATCH (a) RETURN a.x AS y, a.z AS y", /Multiple result columns/],
    ["MATCH (a)-[r]->(b)-[r]->(c) RETURN a", /same relationship variable/],
    ["MATCH (a) WITH a AS b RETURN a", /'a' not defined/],
    ["RETURN 'a' - 1", /Type mismatch/],
    ["MATCH (n) RETURN n.name, count(*) + n.age", /Ambiguous aggregation expression/],
    ["MATCH (a) RETURN a SKIP -1", /Skip/],
  ];
  for (const [q, re] of bad) {
    await assert.rejects(run(g, q), (e) => e instanceof CypherError && re.test(e.message), q);
  }
});

Deno.test("query: list comprehensions, quantifiers, reduce", async () => {
  assert.deepEqual(
    await rows(
      g,
      "RETURN [x IN range(1, 5) WHERE x % 2 = 1 | x * 10], [x IN [1, 2]], " +
        "all(x IN [1, 2] WHERE x > 0), any(x IN [1, null] WHERE x > 1), none(x IN [] WHERE true), " +
        "single(x IN [1, 2, 3] WHERE x = 2), reduce(s = 0, x IN [1, 2, 3] | s + x)",
    ),
    [[[10, 30, 50], [1, 2], true, null, true, true, 6]],
  );
  assert.deepEqual(
    await rows(
      g,
      "MATCH p = (:Person {name:'Alice'})-[:KNOWS*2]->(x) " +
        "RETURN [n IN nodes(p) | n.name] AS names ORDER BY names",
    ),
    [[["Alice", "Bob", "Carol"]], [["Alice", "Carol", "Dave"]]],
  );
  // The comprehension variable is local: it neither leaks nor clashes.
  assert.deepEqual(
    await rows(g, "WITH 5 AS x RETURN [x IN [1] | x + 1], x"),
    [[[2], 5]],
  );
  await assert.rejects(run(g, "RETURN [y IN [1] | y], y"), /'y' not defined/);
});

Deno.test("query: pattern predicates in WHERE", async () => {
  assert.deepEqual(
    await column(g, "MATCH (p:Person) WHERE (p)-[:KNOWS]->() RETURN p.name ORDER BY p.name"),
    ["Alice", "Bob", "Carol"],
  );
  assert.deepEqual(
    await column(g, "MATCH (p:Person) WHERE NOT (p)--() RETURN p.name"),
    ["Eve"],
  );
  assert.deepEqual(
    await column(
      g,
      "MATCH (a:Person), (b:Person) WHERE a.name < b.name AND exists((a)-[:KNOWS]->(b)) " +
        "AND NOT (a)-[:LIKES]->(b) RETURN a.name + b.name AS x ORDER BY x",
    ),
    ["AliceBob", "AliceCarol", "BobCarol", "CarolDave"],
  );
  assert.deepEqual(
    await column(g, "MATCH (p:Person) RETURN (p)-[:LIKES]->(:Admin) AS likesAdmin ORDER BY p.name"),
    [true, false, false, false, false],
  );
});

Deno.test("query: variable-length traversal of a long chain (iterative, stoppable)", async () => {
  const chain = await graphOf(
    "UNWIND range(0, 1999) AS i CREATE (:C {i: i})",
    "CREATE INDEX ON :C(i)",
    "MATCH (a:C), (b:C) WHERE b.i = a.i + 1 CREATE (a)-[:N]->(b)",
  );
  assert.deepEqual(
    await rows(chain, "MATCH (:C {i: 0})-[:N*]->(x) RETURN count(x), max(x.i)"),
    [[1999, 1999]],
  );
  assert.deepEqual(
    await rows(chain, "MATCH (:C {i: 1999})<-[r:N*1500..]-(x) RETURN min(x.i), max(size(r))"),
    [[0, 1999]],
  );
  assert.deepEqual(
    await column(chain, "MATCH (:C {i: 10})-[:N*]->(x) RETURN x.i LIMIT 3"),
    [11, 12, 13],
  );
});

Deno.test("query: ORDER BY with LIMIT keeps the top rows only, stably", async () => {
  assert.deepEqual(
    await column(g, "UNWIND range(1, 1000) AS x RETURN x ORDER BY x % 7 DESC, x LIMIT 4"),
    [6, 13, 20, 27],
  );
  assert.deepEqual(
    await column(g, "UNWIND range(1, 1000) AS x RETURN x ORDER BY x % 7 DESC, x SKIP 2 LIMIT 2"),
    [20, 27],
  );
  assert.deepEqual(
    await column(g, "UNWIND [3, 1, 2, 1] AS x WITH x ORDER BY x LIMIT 0 RETURN x"),
    [],
  );
  // Equal keys keep input order.
  assert.deepEqual(
    await column(
      g,
      "UNWIND ['b1', 'a1', 'b2', 'a2', 'b3'] AS s RETURN s ORDER BY left(s, 1) LIMIT 3",
    ),
    ["a1", "a2", "b1"],
  );
});

Deno.test("query: RETURN * after CREATE lists variables in pattern order", async () => {
  const g2 = await graphOf("CREATE (:Seed)");
  const r = await run(g2, "MATCH (s:Seed) CREATE (a)-[r:R]->(s), (s)-[q:Q]->(b) RETURN *");
  assert.deepEqual(r.header, ["s", "a", "r", "q", "b"]);
});

Deno.test("query: UNION removes duplicates, UNION ALL keeps them", async () => {
  assert.deepEqual(
    await column(
      g,
      "MATCH (p:Person {city:'Paris'}) RETURN p.city AS c UNION MATCH (p:Person) RETURN p.city AS c",
    ),
    ["Paris", "Berlin", null],
  );
  assert.deepEqual(
    await column(g, "RETURN 1 AS x UNION ALL RETURN 1 AS x UNION ALL UNWIND [2, 3] AS x RETURN x"),
    [1, 1, 2, 3],
  );
  await assert.rejects(run(g, "RETURN 1 AS x UNION RETURN 1 AS y"), /same column names/);
  await assert.rejects(
    run(g, "RETURN 1 AS x UNION CREATE (n) RETURN 2 AS x", { read_only: true }),
    /read-only/,
  );
  const r = await run(g, "CREATE (n:U1) RETURN 1 AS x UNION CREATE (m:U2) RETURN 1 AS x");
  assert.deepEqual(r.rows, [[1n]]);
  assert.equal(r.stats.nodes_created, 2);
  await run(g, "MATCH (n) WHERE n:U1 OR n:U2 DELETE n");
});

Deno.test("query: map projections", async () => {
  const [[m]] = (await run(
    g,
    "MATCH (a:Person {name:'Alice'}) RETURN a {.name, .missing, twice: a.age * 2, .*} AS m",
  )).rows;
  assert.deepEqual(
    [...(m as Map<string, unknown>)],
    [["name", "Alice"], ["missing", null], ["twice", 60n], ["age", 30n], ["city", "Paris"]],
  );
  assert.deepEqual(
    await rows(g, "WITH {a: 1, b: 2} AS x, 5 AS y RETURN x {.a, y}"),
    [[{ a: 1, y: 5 }]],
  );
  assert.deepEqual(await rows(g, "OPTIONAL MATCH (z:None) RETURN z {.name}"), [[null]]);
  const r = await rows(g, "RETURN rand() < 1.0 AND rand() >= 0.0");
  assert.deepEqual(r, [[true]]);
});

Deno.test("query: id seeks agree with scans", async () => {
  const ids = await column(g, "MATCH (n) RETURN id(n) ORDER BY id(n)");
  for (const id of ids) {
    assert.deepEqual(
      await column(g, `MATCH (n) WHERE id(n) = ${id} RETURN n.name`),
      await column(g, `MATCH (n) WITH n WHERE id(n) = ${id} RETURN n.name`),
    );
  }
  assert.deepEqual(await column(g, "MATCH (n:Admin) WHERE id(n) = 0 RETURN n"), []);
  assert.deepEqual(await column(g, "MATCH (n) WHERE id(n) = 0.0 RETURN n.name"), ["Alice"]);
  assert.deepEqual(await column(g, "MATCH (n) WHERE id(n) = 0.5 OR id(n) = -1 RETURN n"), []);
  assert.deepEqual(await column(g, "MATCH (n) WHERE id(n) = 'x' RETURN n"), []);
});

Deno.test("query: aggregate items may use grouping keys", async () => {
  assert.deepEqual(
    await rows(
      g,
      "MATCH (p:Person) RETURN p.city AS city, p.city + ':' + toString(count(*)) AS label ORDER BY label",
    ),
    [["Berlin", "Berlin:1"], ["Paris", "Paris:2"], [null, null]],
  );
  assert.deepEqual(
    await rows(
      g,
      "MATCH (p:Person)-[:KNOWS]->(f) RETURN p, size(collect(f)) * 10 + p.age AS x ORDER BY x",
    ),
    [["node:Bob", 35], ["node:Carol", 45], ["node:Alice", 50]],
  );
});

Deno.test("query: stDev and percentiles", async () => {
  const [[sd, sdp, cont, disc, contInt, disc0, none]] = await rows(
    g,
    "UNWIND [1, 2, 3, 4] AS x RETURN stDev(x), stDevP(x), percentileCont(x, 0.5), " +
      "percentileDisc(x, 0.5), percentileCont(x, 1), percentileDisc(x, 0), " +
      "percentileDisc(CASE WHEN x > 9 THEN x END, 0.5)",
  );
  assert.ok(Math.abs((sd as number) - Math.sqrt(5 / 3)) < 1e-12);
  assert.ok(Math.abs((sdp as number) - Math.sqrt(5 / 4)) < 1e-12);
  assert.deepEqual([cont, disc, contInt, disc0, none], [2.5, 2, 4, 1, null]);
  await assert.rejects(run(g, "UNWIND [1] AS x RETURN percentileCont(x, 2)"), /range 0.0 to 1.0/);
  await assert.rejects(run(g, "UNWIND [1] AS x RETURN percentileCont(x)"), /expected 2/);
});

Deno.test("query: shortest paths respect direction, types, bounds and zero length", async () => {
  assert.deepEqual(
    await rows(
      g,
      "MATCH p = shortestPath((a {name:'Alice'})-[r:KNOWS*]->(d {name:'Dave'})) " +
        "RETURN length(p), [n IN nodes(p) | n.name], [x IN r | x.since]",
    ),
    [[2, ["Alice", "Carol", "Dave"], [2012, 2020]]],
  );
  assert.deepEqual(
    await rows(
      g,
      "MATCH p = shortestPath((a {name:'Dave'})-[:KNOWS*]->(b {name:'Alice'})) RETURN p",
    ),
    [],
  );
  assert.deepEqual(
    await rows(
      g,
      "MATCH p = shortestPath((a {name:'Dave'})-[:KNOWS*]-(b {name:'Alice'})) RETURN length(p)",
    ),
    [[2]],
  );
  assert.deepEqual(
    await rows(
      g,
      "MATCH p = shortestPath((a {name:'Alice'})-[*0..]-(b {name:'Alice'})) RETURN length(p)",
    ),
    [[0]],
  );
  assert.deepEqual(
    await rows(
      g,
      "MATCH p = allShortestPaths((a {name:'Alice'})-[:KNOWS|LIKES*]->(d:Admin)) RETURN count(p), max(length(p))",
    ),
    [[1, 1]],
  );
  await assert.rejects(
    run(g, "MATCH (a) CREATE p = shortestPath((a)-[:R*]->(b))"),
    /shortestPath cannot/,
  );
});

Deno.test("query: pattern comprehensions", async () => {
  assert.deepEqual(
    await rows(
      g,
      "MATCH (a:Person) RETURN a.name, [(a)-[:KNOWS]->(f) WHERE f.age > 26 | f.name] AS older " +
        "ORDER BY a.name",
    ),
    [["Alice", ["Carol"]], ["Bob", ["Carol"]], ["Carol", ["Dave"]], ["Dave", []], ["Eve", []]],
  );
  assert.deepEqual(
    await rows(
      g,
      "MATCH (a {name:'Alice'}) RETURN size([(a)-->(x) | x]) AS out, [(a)<--(x) | x] AS inc",
    ),
    [[3, []]],
  );
  await assert.rejects(run(g, "MATCH (a) RETURN [(a)-->(b) | c]"), /'c' not defined/);
});

Deno.test("query: very long AND/OR chains evaluate without deep recursion", async () => {
  const ors = Array.from({ length: 20000 }, (_, i) => `p.age = ${i + 1000}`).join(" OR ");
  assert.deepEqual(
    await column(g, `MATCH (p:Person) WHERE ${ors} OR p.name = 'Eve' RETURN p.name`),
    ["Eve"],
  );
  const ands = Array.from({ length: 5000 }, () => "p.age > 0").join(" AND ");
  assert.deepEqual(await rows(g, `MATCH (p:Person) WHERE ${ands} RETURN count(p)`), [[5]]);
});

Deno.test("query: absurdly nested run-time values fail cleanly", async () => {
  await assert.rejects(
    run(g, "WITH reduce(acc = [], x IN range(1, 200000) | [acc]) AS deep RETURN deep = deep"),
    (e) => e instanceof CypherError && /nesting depth/.test(e.message),
  );
});
