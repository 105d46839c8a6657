import assert from "node:assert/strict";
import { MemoryGraph } from "./memory_graph.ts";
import { CypherError, type PropertyValue } from "./values.ts";

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

Deno.test("memory graph: writes are visible inside the transaction and only after commit", async () => {
  const g = new MemoryGraph();
  const t = g.transaction();
  const a = await t.createNode(["A"], new Map([["x", 1n]]));
  const b = await t.createNode(["B"], new Map());
  const e = await t.createEdge("R", a, b, new Map([["w", 2.5]]));
  assert.deepEqual([a, b, e], [0, 1, 0]);
  assert.equal((await t.getNode(a))!.properties.get("x"), 1n);
  assert.deepEqual((await collect(t.expand(a, "out", []))).map((x) => x.neighbour), [b]);
  assert.deepEqual((await collect(t.expand(b, "in", ["R"]))).map((x) => x.neighbour), [a]);
  assert.deepEqual(await collect(t.expand(b, "out", [])), []);
  assert.deepEqual(await collect(t.expand(a, "both", ["S"])), []);
  assert.deepEqual(g.size(), { nodes: 0, edges: 0 });
  t.commit();
  assert.deepEqual(g.size(), { nodes: 2, edges: 1 });
  assert.throws(() => t.commit(), /already finished/);
});

Deno.test("memory graph: a self-loop is expanded once for both directions", async () => {
  const t = new MemoryGraph().transaction();
  const a = await t.createNode([], new Map());
  await t.createEdge("SELF", a, a, new Map());
  assert.equal((await collect(t.expand(a, "both", []))).length, 1);
  assert.equal(await t.deleteNode(a, true), 1);
});

Deno.test("memory graph: deleteNode refuses nodes with edges unless detach", async () => {
  const t = new MemoryGraph().transaction();
  const a = await t.createNode([], new Map());
  const b = await t.createNode([], new Map());
  await t.createEdge("R", a, b, new Map());
  await assert.rejects(t.deleteNode(b, false), (e) => e instanceof CypherError);
  assert.ok(await t.getNode(b), "nothing changed");
  assert.equal(await t.deleteNode(b, true), 1);
  assert.equal(await t.getNode(b), null);
  assert.deepEqual(await collect(t.expand(a, "both", [])), []);
  assert.equal(await t.deleteNode(b, true), 0, "deleting twice is a no-op");
});

Deno.test("memory graph: labels, properties, counts, indexes", async () => {
  const t = new MemoryGraph().transaction();
  const a = await t.createNode(["P"], new Map([["name", "x"]]));
  await t.createNode(["P"], new Map<string, PropertyValue>([["name", "y"], ["age", 3n]]));
  assert.equal(await t.addLabels(a, ["P", "Q"]), 1);
  assert.equal(await t.removeLabels(a, ["Q", "Z"]), 1);
  await t.setNodeProperty(a, "age", 7n);
  assert.equal(await t.removeNodeProperty(a, "name"), true);
  assert.equal(await t.removeNodeProperty(a, "name"), false);
  assert.deepEqual([...(await t.getNode(a))!.properties], [["age", 7n]]);
  assert.equal(await t.countNodesByLabel("P"), 2);
  assert.equal(await t.countNodes(), 2);
  assert.equal(await t.createIndex("P", "age"), true);
  assert.equal(await t.createIndex("P", "age"), false);
  assert.deepEqual((await collect(t.seekIndex("P", "age", 7))).map((n) => n.id), [a]);
  assert.deepEqual(
    (await collect(t.seekIndexRange("P", "age", { lower: { value: 3n, inclusive: false } })))
      .map((n) => n.id),
    [a],
  );
  assert.deepEqual(await t.listIndexes(), [{ label: "P", property: "age" }]);
  assert.equal(await t.dropIndex("P", "age"), true);
  assert.equal(await t.dropIndex("P", "age"), false);
});
