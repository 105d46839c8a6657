import assert from "node:assert/strict";
import { CypherError } from "../values.ts";
import type { Clause, Expr } from "./ast.ts";
import { parseExpression, parseQuery } from "./parser.ts";

const clauses = (q: string) => parseQuery(q).clauses;
const only = <K extends Clause["k"]>(q: string, k: K): Extract<Clause, { k: K }> => {
  const c = clauses(q).find((x) => x.k === k);
  assert.ok(c, `no ${k} clause`);
  return c as Extract<Clause, { k: K }>;
};

Deno.test("parser: MATCH patterns with labels, types, directions, properties", () => {
  const m = only(
    "match (a:Person:Admin {name: 'x'})-[r:KNOWS|:LIKES]->(b)<-[:R]-(c)--(d) RETURN a",
    "match",
  );
  assert.equal(m.optional, false);
  const [p] = m.patterns;
  assert.deepEqual(p.nodes.map((n) => n.variable), ["a", "b", "c", "d"]);
  assert.deepEqual(p.nodes[0].labels, ["Person", "Admin"]);
  assert.deepEqual(p.nodes[0].properties, { k: "map", entries: [["name", { k: "lit", v: "x" }]] });
  assert.deepEqual(p.rels.map((r) => r.direction), ["out", "in", "both"]);
  assert.deepEqual(p.rels[0].types, ["KNOWS", "LIKES"]);
  assert.equal(p.rels[0].variable, "r");
  assert.equal(p.rels[2].variable, null);
});

Deno.test("parser: variable-length bounds", () => {
  const lens = (q: string) => only(q, "match").patterns[0].rels.map((r) => r.varLength);
  assert.deepEqual(lens("MATCH ()-[*]->() RETURN 1"), [{ min: 1, max: null }]);
  assert.deepEqual(lens("MATCH ()-[*2]->() RETURN 1"), [{ min: 2, max: 2 }]);
  assert.deepEqual(lens("MATCH ()-[:T*1..3]->() RETURN 1"), [{ min: 1, max: 3 }]);
  assert.deepEqual(lens("MATCH ()-[*..3]->() RETURN 1"), [{ min: 1, max: 3 }]);
  assert.deepEqual(lens("MATCH ()-[*0..]->() RETURN 1"), [{ min: 0, max: null }]);
  assert.throws(() => parseQuery("MATCH ()-[*3..1]->() RETURN 1"), /Invalid variable length/);
});

Deno.test("parser: named paths, OPTIONAL MATCH, WHERE", () => {
  const [m1, m2] = clauses("MATCH p = (a)-->(b) OPTIONAL MATCH (b)-->(c) WHERE c.x > 1 RETURN p");
  assert.equal(m1.k === "match" && m1.patterns[0].variable, "p");
  assert.ok(m2.k === "match" && m2.optional && m2.where);
});

Deno.test("parser: operator precedence and associativity", () => {
  const e = parseExpression("1 + 2 * 3 ^ 2 - -4");
  // ((1 + (2 * (3 ^ 2))) - (-4))
  assert.deepEqual(e, {
    k: "bin",
    op: "-",
    l: {
      k: "bin",
      op: "+",
      l: { k: "lit", v: 1n },
      r: {
        k: "bin",
        op: "*",
        l: { k: "lit", v: 2n },
        r: { k: "bin", op: "^", l: { k: "lit", v: 3n }, r: { k: "lit", v: 2n } },
      },
    },
    r: { k: "lit", v: -4n },
  });
  const b = parseExpression("NOT a = 1 OR b AND c XOR d") as Extract<Expr, { k: "bin" }>;
  assert.equal(b.op, "OR");
  assert.equal(b.l.k, "not");
  assert.equal((b.r as Extract<Expr, { k: "bin" }>).op, "XOR");
  assert.deepEqual(parseExpression("x IS NOT NULL"), {
    k: "isnull",
    e: { k: "var", name: "x" },
    negated: true,
  });
  assert.equal(
    (parseExpression("a STARTS WITH 'x'") as Extract<Expr, { k: "bin" }>).op,
    "STARTS WITH",
  );
  assert.equal((parseExpression("a ENDS WITH 'x'") as Extract<Expr, { k: "bin" }>).op, "ENDS WITH");
  assert.equal((parseExpression("a IN [1]") as Extract<Expr, { k: "bin" }>).op, "IN");
  assert.equal(parseExpression("n:Person").k, "haslabels");
  assert.equal(parseExpression("1.5").k, "lit");
  assert.deepEqual(parseExpression("-9223372036854775808"), { k: "lit", v: -(2n ** 63n) });
  assert.throws(() => parseExpression("9223372036854775808"), /Integer overflow/);
});

Deno.test("parser: literals, property access, indexing, calls", () => {
  assert.deepEqual(parseExpression("[1, 'a', true, null, {k: 2.5}]"), {
    k: "list",
    items: [
      { k: "lit", v: 1n },
      { k: "lit", v: "a" },
      { k: "lit", v: true },
      { k: "lit", v: null },
      { k: "map", entries: [["k", { k: "lit", v: 2.5 }]] },
    ],
  });
  assert.deepEqual(parseExpression("n.a.b[0]"), {
    k: "index",
    e: { k: "prop", e: { k: "prop", e: { k: "var", name: "n" }, key: "a" }, key: "b" },
    idx: { k: "lit", v: 0n },
  });
  assert.deepEqual(parseExpression("COUNT(*)"), {
    k: "call",
    name: "count",
    distinct: false,
    args: [],
    star: true,
  });
  assert.deepEqual(parseExpression("count(DISTINCT x)"), {
    k: "call",
    name: "count",
    distinct: true,
    args: [{ k: "var", name: "x" }],
    star: false,
  });
  assert.equal(parseExpression("l[1..]").k, "slice");
  assert.equal(parseExpression("CASE WHEN a THEN 1 ELSE 2 END").k, "case");
  assert.deepEqual(parseExpression("$p"), { k: "param", name: "p" });
});

Deno.test("parser: RETURN/WITH projections", () => {
  const r = only(
    "MATCH (n) RETURN DISTINCT n.name AS name, count(*) ORDER BY name DESC, n.x SKIP 1 LIMIT 2",
    "return",
  );
  const p = r.projection;
  assert.equal(p.distinct, true);
  assert.deepEqual(p.items.map((i) => [i.name, i.aliased]), [["name", true], ["count(*)", false]]);
  assert.deepEqual(p.order.map((o) => o.descending), [true, false]);
  assert.deepEqual(p.skip, { k: "lit", v: 1n });
  assert.deepEqual(p.limit, { k: "lit", v: 2n });
  const w = only("MATCH (n) WITH *, n.x AS x WHERE x > 1 RETURN x", "with");
  assert.equal(w.projection.star, true);
  assert.ok(w.where);
});

Deno.test("parser: write clauses", () => {
  const c = clauses(
    "MATCH (n) SET n.x = 1, n += {y: 2}, n = {z: 3}, n:L1:L2 REMOVE n.x, n:L1 DETACH DELETE n",
  );
  assert.deepEqual(c.map((x) => x.k), ["match", "set", "remove", "delete"]);
  const set = c[1] as Extract<Clause, { k: "set" }>;
  assert.deepEqual(set.items.map((i) => i.k), ["prop", "merge", "replace", "labels"]);
  const rem = c[2] as Extract<Clause, { k: "remove" }>;
  assert.deepEqual(rem.items.map((i) => i.k), ["prop", "labels"]);
  assert.equal((c[3] as Extract<Clause, { k: "delete" }>).detach, true);
  const m = only("MERGE (a:A {k: 1}) ON CREATE SET a.c = 1 ON MATCH SET a.m = 1, a.n = 2", "merge");
  assert.equal(m.onCreate.length, 1);
  assert.equal(m.onMatch.length, 2);
  const u = only("UNWIND [1, 2] AS x CREATE (:N {v: x})", "unwind");
  assert.equal(u.variable, "x");
});

Deno.test("parser: index DDL in both syntaxes", () => {
  assert.deepEqual(clauses("CREATE INDEX ON :Person(name)"), [
    { k: "create_index", label: "Person", property: "name" },
  ]);
  assert.deepEqual(clauses("create index for (p:Person) on (p.age)"), [
    { k: "create_index", label: "Person", property: "age" },
  ]);
  assert.deepEqual(clauses("DROP INDEX ON :Person(name)"), [
    { k: "drop_index", label: "Person", property: "name" },
  ]);
  assert.throws(() => parseQuery("CREATE INDEX ON :P(a, b)"), /Composite indexes is not supported/);
});

Deno.test("parser: CYPHER parameter prefix", () => {
  const q = parseQuery("CYPHER a=1 b='x' c=[1, -2.5] d={k: null} MATCH (n) RETURN $a");
  assert.deepEqual([...q.params], [
    ["a", 1n],
    ["b", "x"],
    ["c", [1n, -2.5]],
    ["d", new Map([["k", null]])],
  ]);
  assert.throws(() => parseQuery("CYPHER a=b RETURN 1"), /Parameter values must be literals/);
});

Deno.test("parser: keywords are case-insensitive; backticks make identifiers", () => {
  const m = only("mAtCh (`match`:`Label With Space`) ReTuRn `match`", "match");
  assert.equal(m.patterns[0].nodes[0].variable, "match");
  assert.deepEqual(m.patterns[0].nodes[0].labels, ["Label With Space"]);
});

Deno.test("parser: syntax errors give line and column", () => {
  assert.throws(
    () => parseQuery("MATCH (n RETURN n"),
    (e) =>
      e instanceof CypherError &&
      e.message === "errMsg: Invalid input 'RETURN': expected ')' line: 1, column: 10, offset: 9",
  );
  assert.throws(() => parseQuery("MATCH (n)\nRETURN n +"), /line: 2, column: 11/);
  assert.throws(() => parseQuery("RETURN 1 2"), /Invalid input '2': expected a clause keyword/);
  assert.throws(() => parseQuery(""), /expected a clause/);
  assert.throws(() => parseQuery("MATCH (n)"), /Query cannot conclude with MATCH/);
  assert.throws(
    () => parseQuery("RETURN 1 MATCH (n) RETURN n"),
    /RETURN can only be used at the end/,
  );
});

Deno.test("parser: unsupported features are named", () => {
  const cases: Array<[string, RegExp]> = [
    ["CALL db.labels()", /CALL is not supported/],
    [
      "FOREACH (y IN [1] | MATCH (n) CREATE ())",
      /Only updating clauses may be used inside FOREACH/,
    ],
    ["MATCH (a), (b) RETURN shortestPath((a)-[*]-(b))", /shortestPath\(\) outside of MATCH/],
    ["MATCH p = shortestPath((a)-[*2..]-(b)) RETURN p", /minimal length of 0 or 1/],
    ["MATCH p = shortestPath((a)-->(b)-->(c)) RETURN p", /single relationship pattern/],
    ["RETURN filter(x IN [1] WHERE x > 0)", /filter\(\) is not supported/],
    ["RETURN 'a' =~ 'a'", /Regular expression matching/],
    ["MATCH (a) WHERE EXISTS { MATCH (a) } RETURN a", /EXISTS subqueries is not supported/],
    ["CREATE CONSTRAINT ON (n:A) ASSERT n.x IS UNIQUE", /CREATE CONSTRAINT is not supported/],
    ["LOAD CSV FROM 'x' AS r RETURN r", /LOAD CSV is not supported/],
  ];
  for (const [q, re] of cases) assert.throws(() => parseQuery(q), re, q);
});

Deno.test("parser: list comprehensions, quantifiers, reduce, pattern predicates", () => {
  assert.deepEqual(parseExpression("[x IN l WHERE x > 1 | x * 2]"), {
    k: "listcomp",
    variable: "x",
    list: { k: "var", name: "l" },
    where: { k: "bin", op: ">", l: { k: "var", name: "x" }, r: { k: "lit", v: 1n } },
    map: { k: "bin", op: "*", l: { k: "var", name: "x" }, r: { k: "lit", v: 2n } },
  });
  const q = parseExpression("ANY(x IN l WHERE x)");
  assert.equal(q.k === "quantifier" && q.fn, "any");
  const r = parseExpression("reduce(s = 0, x IN l | s + x)");
  assert.equal(r.k === "reduce" && r.acc, "s");
  const w = only("MATCH (a), (b) WHERE NOT (a)-[:R]->(b) AND exists((b)<--()) RETURN a", "match");
  const and = w.where as Extract<Expr, { k: "bin" }>;
  assert.equal(and.l.k === "not" && and.l.e.k, "pattern");
  assert.equal(and.r.k, "pattern");
  assert.deepEqual(
    [and.l, and.r].map((x) => (x.k === "not" ? x.e : x)).map((x) => x.k === "pattern" && x.id),
    [0, 1],
  );
});

Deno.test("parser: UNION and UNION ALL", () => {
  const q = parseQuery("MATCH (a) RETURN a.x AS x UNION ALL RETURN 1 AS x UNION ALL RETURN 2 AS x");
  assert.equal(q.clauses.length, 2);
  assert.deepEqual(q.union.map((u) => [u.all, u.clauses.length]), [[true, 1], [true, 1]]);
  assert.throws(
    () => parseQuery("RETURN 1 AS x UNION RETURN 2 AS x UNION ALL RETURN 3 AS x"),
    /UNION and UNION ALL/,
  );
  assert.throws(() => parseQuery("RETURN 1 AS x UNION CREATE ()"), /must end with RETURN/);
  assert.throws(() => parseQuery("RETURN 1 AS x UNION"), /expected a clause/);
});

Deno.test("parser: shortestPath and allShortestPaths in MATCH", () => {
  const [p] = only("MATCH p = shortestPath((a)-[:R*..5]->(b)) RETURN p", "match").patterns;
  assert.equal(p.shortest, "one");
  assert.equal(p.variable, "p");
  assert.deepEqual(p.rels[0].varLength, { min: 1, max: 5 });
  const [q] = only("MATCH allShortestPaths((a)-[:R]-(b)) RETURN a", "match").patterns;
  assert.equal(q.shortest, "all");
  assert.deepEqual(q.rels[0].varLength, { min: 1, max: 1 });
});

Deno.test("parser: deep nesting is a clear error, not a stack overflow", () => {
  const deep = "RETURN " + "(".repeat(5000) + "1" + ")".repeat(5000);
  assert.throws(
    () => parseQuery(deep),
    (e) => e instanceof CypherError && /nested too deeply/.test(e.message),
  );
  const lists = "RETURN " + "[".repeat(5000) + "]".repeat(5000);
  assert.throws(() => parseQuery(lists), /nested too deeply/);
  assert.equal(parseQuery("RETURN " + "(".repeat(100) + "1" + ")".repeat(100)).clauses.length, 1);
  assert.throws(
    () => parseQuery("RETURN " + "-".repeat(5000) + "1"),
    /nested too deeply|Invalid input/,
  );
});

Deno.test("parser: FOREACH with nested updating clauses", () => {
  const f = only(
    "MATCH (n) FOREACH (x IN [1, 2] | CREATE (:A {v: x}) FOREACH (y IN [x] | SET n.y = y))",
    "foreach",
  );
  assert.equal(f.variable, "x");
  assert.deepEqual(f.clauses.map((c) => c.k), ["create", "foreach"]);
});
