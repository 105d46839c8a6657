import assert from "node:assert/strict";
import { CF_DEFAULT } from "../backend.ts";
import { equal, fromLatin1, latin1, utf8 } from "../encoding/bytes.ts";
import {
  dataPrefix,
  metaKey,
  rangeEnd,
  USER_SPACE_END,
  USER_SPACE_START,
} from "../encoding/keys.ts";
import { decodeMetadata, newMetadata, RedisType } from "../encoding/metadata.ts";
import {
  adjSub,
  decodeEdge,
  decodeHeader,
  decodeNode,
  edgeSub,
  indexSub,
  labelSub,
  nodeSub,
  orderedValue,
  SUB_EDGE,
  SUB_NODE,
  trailingId,
} from "./encoding.ts";
import { Latches } from "../latch.ts";
import { MemoryBackend } from "../memory_backend.ts";
import { Sweeper } from "../sweeper.ts";
import { CommandError, type DbContext, runWrite } from "../txn.ts";
import type { GraphStore, NodeRecord } from "./graph_store.ts";
import {
  GRAPH_SCAN_PAGE,
  type KvGraphStore,
  MAX_GRAPH_BATCH_BYTES,
  MAX_GRAPH_BATCH_ITEMS,
  runGraph,
} from "./kv_graph.ts";
import { MAX_BATCH_BYTES, MAX_BATCH_ITEMS } from "../../store/server/validate.ts";
import { executeQuery } from "./exec/mod.ts";
import { MemoryGraph } from "./memory_graph.ts";
import type { PropertyValue } from "./values.ts";

const G = utf8("g");

function ctx(backend = new MemoryBackend()): DbContext & { backend: MemoryBackend } {
  return { backend, latches: new Latches(), now_ms: () => Date.now(), max_bulk_bytes: 1 << 20 };
}

const WRITE = { create: true, latch: true, deadline_ms: Number.MAX_SAFE_INTEGER };
const READ = { create: false, latch: false, deadline_ms: Number.MAX_SAFE_INTEGER };

/** Runs `fn` on graph "g" (created if missing) and commits. */
function write<T>(db: DbContext, fn: (s: KvGraphStore) => Promise<T>): Promise<T> {
  return runGraph(db, G, WRITE, (s) => fn(s!));
}

/** Runs `fn` read-only on graph "g", which must exist. */
function read<T>(db: DbContext, fn: (s: KvGraphStore) => Promise<T>): Promise<T> {
  return runGraph(db, G, READ, (s) => {
    assert.ok(s, "graph exists");
    return fn(s);
  });
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const props = (o: Record<string, PropertyValue>) => new Map(Object.entries(o));
const ids = (ns: NodeRecord[]) => ns.map((n) => n.id).sort((a, b) => a - b);

/** A small social graph: 0:Person{name:a,age:30} -KNOWS-> 1:Person{b,40}, 1 -LIKES-> 2:Thing. */
async function seed(db: DbContext): Promise<void> {
  await write(db, async (s) => {
    const a = await s.createNode(["Person"], props({ name: "a", age: 30n }));
    const b = await s.createNode(["Person"], props({ name: "b", age: 40n }));
    const c = await s.createNode(["Thing"], props({ name: "c" }));
    await s.createEdge("KNOWS", a, b, props({ since: 2020n }));
    await s.createEdge("LIKES", b, c, new Map());
  });
}

Deno.test("kv graph: committed nodes and edges read back; counts; expansion by direction and type", async () => {
  const db = ctx();
  await seed(db);
  await read(db, async (s) => {
    assert.deepEqual(await s.getNode(0), {
      id: 0,
      labels: ["Person"],
      properties: props({ name: "a", age: 30n }),
    });
    assert.deepEqual(await s.getEdge(0), {
      id: 0,
      type: "KNOWS",
      src: 0,
      dst: 1,
      properties: props({ since: 2020n }),
    });
    assert.equal(await s.getNode(99), null);
    assert.deepEqual(ids(await all(s.scanNodes())), [0, 1, 2]);
    assert.deepEqual(ids(await all(s.scanNodesByLabel("Person"))), [0, 1]);
    assert.deepEqual(await all(s.scanNodesByLabel("Nope")), []);
    assert.equal(await s.countNodes(), 3);
    assert.equal(await s.countNodesByLabel("Person"), 2);
    assert.equal(await s.countEdgesByType("KNOWS"), 1);
    assert.equal(await s.countEdgesByType("NOPE"), 0);
    const nb = async (n: number, d: "out" | "in" | "both", t: string[]) =>
      (await all(s.expand(n, d, t))).map((x) => `${x.edge.type}:${x.neighbour}`).sort();
    assert.deepEqual(await nb(1, "out", []), ["LIKES:2"]);
    assert.deepEqual(await nb(1, "in", []), ["KNOWS:0"]);
    assert.deepEqual(await nb(1, "both", []), ["KNOWS:0", "LIKES:2"]);
    assert.deepEqual(await nb(1, "both", ["KNOWS"]), ["KNOWS:0"]);
    assert.deepEqual(await nb(1, "both", ["NOPE"]), []);
    assert.deepEqual(await nb(99, "both", []), []);
    const [x] = await all(s.expand(0, "out", ["KNOWS"]));
    assert.deepEqual(x.edge.properties, props({ since: 2020n }));
  });
});

Deno.test("kv graph: a query reads its own writes (get, scans, expand, counts)", async () => {
  const db = ctx();
  await seed(db);
  await write(db, async (s) => {
    const d = await s.createNode(["Person"], props({ name: "d" }));
    assert.equal(d, 3);
    assert.deepEqual((await s.getNode(d))?.properties, props({ name: "d" }));
    assert.deepEqual(ids(await all(s.scanNodesByLabel("Person"))), [0, 1, 3]);
    await s.setNodeProperty(0, "age", 31n);
    await s.setNodeProperty(0, "extra", [1n, "x"]);
    assert.deepEqual(
      (await s.getNode(0))?.properties,
      props({ name: "a", age: 31n, extra: [1n, "x"] }),
    );
    assert.equal(await s.removeNodeProperty(0, "name"), true);
    assert.equal(await s.removeNodeProperty(0, "name"), false);
    const e = await s.createEdge("KNOWS", d, 0, props({ w: 1.5 }));
    assert.deepEqual(
      (await all(s.expand(0, "in", ["KNOWS"]))).map((x) => [x.edge.id, x.neighbour]),
      [[e, d]],
    );
    await s.setEdgeProperty(e, "w", 2.5);
    const [back] = await all(s.expand(d, "out", []));
    assert.deepEqual(back.edge.properties, props({ w: 2.5 }));
    assert.equal(await s.deleteEdge(1), true);
    assert.equal(await s.deleteEdge(1), false);
    assert.deepEqual(await all(s.expand(1, "out", [])), []);
    assert.equal(await s.addLabels(2, ["Person", "Thing"]), 1);
    assert.equal(await s.removeLabels(2, ["Thing", "Nope"]), 1);
    assert.deepEqual((await s.getNode(2))?.labels, ["Person"]);
    assert.equal(await s.countNodesByLabel("Person"), 4);
    assert.equal(await s.countNodesByLabel("Thing"), 0);
    assert.equal(await s.countEdgesByType("LIKES"), 0);
    assert.deepEqual(ids(await all(s.scanNodesByLabel("Thing"))), []);
  });
  // And all of it committed.
  await read(db, async (s) => {
    assert.deepEqual(ids(await all(s.scanNodesByLabel("Person"))), [0, 1, 2, 3]);
    assert.deepEqual((await s.getNode(0))?.properties, props({ age: 31n, extra: [1n, "x"] }));
    assert.equal(await s.getEdge(1), null);
    assert.equal(await s.countNodes(), 4);
  });
});

Deno.test("kv graph: scans over many pages merge the query's writes exactly once", async () => {
  const db = ctx();
  const n = GRAPH_SCAN_PAGE * 2 + 50;
  await write(db, async (s) => {
    for (let i = 0; i < n; i++) await s.createNode(["N"], props({ i: BigInt(i) }));
  });
  await write(db, async (s) => {
    for (let i = 0; i < n; i += 3) assert.equal(await s.deleteNode(i, false), 0);
    for (let i = 0; i < 40; i++) await s.createNode(["N"], new Map());
    await s.setNodeProperty(1, "i", -1n);
    const want = [
      ...Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 !== 0),
      ...Array.from({ length: 40 }, (_, i) => n + i),
    ];
    const scanned = await all(s.scanNodes());
    assert.deepEqual(scanned.map((r) => r.id), want);
    assert.equal(scanned.find((r) => r.id === 1)?.properties.get("i"), -1n);
    assert.deepEqual((await all(s.scanNodesByLabel("N"))).map((r) => r.id), want);
    // Deleting ahead of a running scan hides the node; writes behind it are not revisited.
    const seen: number[] = [];
    for await (const r of s.scanNodes()) {
      seen.push(r.id);
      if (r.id === 2) await s.deleteNode(4, false);
      if (r.id === 5) await s.createNode([], new Map());
    }
    assert.ok(!seen.includes(4));
    assert.equal(new Set(seen).size, seen.length);
  });
});

Deno.test("kv graph: deleting a node with edges needs DETACH; self-loops counted once", async () => {
  const db = ctx();
  await seed(db);
  await write(db, async (s) => {
    await assert.rejects(() => s.deleteNode(1, false), /still has connections/);
    await s.createEdge("SELF", 1, 1, new Map());
    const both = await all(s.expand(1, "both", []));
    assert.equal(both.length, 3);
    assert.equal(both.filter((x) => x.edge.type === "SELF").length, 1);
    assert.equal(await s.deleteNode(1, true), 3);
    assert.equal(await s.deleteNode(1, true), 0);
    assert.deepEqual(await all(s.expand(0, "both", [])), []);
    assert.deepEqual(await all(s.expand(2, "both", [])), []);
    assert.equal(await s.countEdgesByType("KNOWS"), 0);
  });
  await read(db, async (s) => {
    assert.equal(await s.getNode(1), null);
    assert.equal((await s.header()).edge_count, 0);
  });
});

Deno.test("kv graph: property indexes — backfill, equality (1 = 1.0), ranges, maintenance, drop", async () => {
  const db = ctx();
  await write(db, async (s) => {
    for (let i = 0; i < 20; i++) {
      await s.createNode(["P"], props({ v: i % 2 === 0 ? BigInt(i) : i + 0.5 }));
    }
    await s.createNode(["P"], props({ v: "str" }));
    await s.createNode(["Q"], props({ v: 4n }));
    await s.createNode(["P"], props({ v: [1n] }));
  });
  await write(db, async (s) => {
    assert.equal(await s.createIndex("P", "v"), true);
    assert.equal(await s.createIndex("P", "v"), false);
    assert.deepEqual(await s.listIndexes(), [{ label: "P", property: "v" }]);
    assert.deepEqual(ids(await all(s.seekIndex("P", "v", 4.0))), [4]);
    assert.deepEqual(ids(await all(s.seekIndex("P", "v", 4n))), [4]);
  });
  const seekIds = (s: GraphStore, lo?: PropertyValue, hi?: PropertyValue, incl = true) =>
    all(s.seekIndexRange("P", "v", {
      lower: lo === undefined ? undefined : { value: lo, inclusive: incl },
      upper: hi === undefined ? undefined : { value: hi, inclusive: incl },
    })).then(ids);
  await read(db, async (s) => {
    assert.deepEqual(ids(await all(s.seekIndex("P", "v", "str"))), [20]);
    assert.deepEqual(ids(await all(s.seekIndex("P", "v", 5n))), []);
    assert.deepEqual(ids(await all(s.seekIndex("P", "v", [1n]))), [22]);
    assert.deepEqual(await seekIds(s, 3n, 6n), [3, 4, 5, 6]);
    assert.deepEqual(await seekIds(s, 4n, 6n, false), [5]);
    assert.deepEqual(await seekIds(s, 17n), [17, 18, 19]);
    assert.deepEqual(await seekIds(s, undefined, 1.5), [0, 1]);
    assert.deepEqual(await seekIds(s, undefined, 1n), [0]);
    assert.deepEqual(await seekIds(s, "a"), [20]);
    assert.deepEqual(await seekIds(s, 1n, "z"), []);
  });
  await write(db, async (s) => {
    await s.setNodeProperty(4, "v", 100n);
    assert.deepEqual(ids(await all(s.seekIndex("P", "v", 4n))), []);
    assert.deepEqual(ids(await all(s.seekIndex("P", "v", 100n))), [4]);
    await s.removeLabels(6, ["P"]);
    assert.deepEqual(ids(await all(s.seekIndex("P", "v", 6n))), []);
    await s.addLabels(21, ["P"]);
    assert.deepEqual(ids(await all(s.seekIndex("P", "v", 4n))), [21]);
    await s.removeNodeProperty(8, "v");
    await s.deleteNode(10, false);
    const created = await s.createNode(["P"], props({ v: 8n }));
    assert.deepEqual(ids(await all(s.seekIndex("P", "v", 8n))), [created]);
    assert.deepEqual(await seekIds(s, 8n, 12n), [9, 11, 12, created].sort((a, b) => a - b));
  });
  const before = db.backend.recordCount(CF_DEFAULT);
  await write(db, async (s) => {
    assert.equal(await s.dropIndex("P", "v"), true);
    assert.equal(await s.dropIndex("P", "v"), false);
    assert.deepEqual(await s.listIndexes(), []);
  });
  // The 20 index records left the keyspace: 21 backfilled (the list is not
  // indexable), -1 label removed, +1 label added, -1 property removed,
  // -1 node deleted, +1 node created.
  assert.equal(db.backend.recordCount(CF_DEFAULT), before - 20);
});

Deno.test("kv graph: two concurrent writers conflict and retry; no update is lost", async () => {
  const db = ctx();
  await write(db, (s) => s.createNode(["C"], props({ n: 0n })));
  // latch: false, as if every writer were in another db process.
  const writers = Array.from(
    { length: 8 },
    () =>
      runGraph(db, G, { ...WRITE, latch: false }, async (s) => {
        const n = await s!.getNode(0);
        await new Promise((r) => setTimeout(r, 1));
        await s!.setNodeProperty(0, "n", (n!.properties.get("n") as bigint) + 1n);
        await s!.createNode([], new Map());
      }),
  );
  await Promise.all(writers);
  assert.ok(db.backend.stats.precondition_failures > 0, "the writers did collide");
  await read(db, async (s) => {
    assert.equal((await s.getNode(0))?.properties.get("n"), 8n);
    assert.equal(await s.countNodes(), 9);
    assert.deepEqual(ids(await all(s.scanNodes())), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

Deno.test("kv graph: a read-only run that raced a writer is re-run, never torn", async () => {
  const db = ctx();
  await seed(db);
  let runs = 0;
  const seen = await runGraph(db, G, READ, async (s) => {
    runs++;
    const a = await s!.getNode(0);
    if (runs === 1) await write(db, (w) => w.setNodeProperty(1, "age", 41n));
    const b = await s!.getNode(1);
    return [a!.properties.get("age"), b!.properties.get("age")];
  });
  assert.equal(runs, 2);
  assert.deepEqual(seen, [30n, 41n]);
});

Deno.test("kv graph: missing graph, create flag, WRONGTYPE", async () => {
  const db = ctx();
  assert.equal(await runGraph(db, G, READ, (s) => Promise.resolve(s)), null);
  const before = db.backend.stats.batches;
  // GRAPH.QUERY on a missing key creates an empty graph even when it writes nothing.
  await write(db, async (s) => assert.equal(await s.countNodes(), 0));
  assert.equal(db.backend.stats.batches, before + 1);
  // A read of an existing graph commits nothing.
  await write(db, async (s) => assert.equal(await s.countNodes(), 0));
  assert.equal(db.backend.stats.batches, before + 1);
  const str = utf8("s");
  await runWrite(db, [str], async (t) => {
    await t.meta(str);
    t.setMeta(str, { ...newMetadata(RedisType.String, 0), value: utf8("v") });
    return { k: "simple", s: "OK" };
  });
  await assert.rejects(
    () => runGraph(db, str, WRITE, () => Promise.resolve()),
    (e: unknown) => e instanceof CommandError && /WRONGTYPE/.test(e.message),
  );
});

Deno.test("kv graph: DEL drops the graph at once; the sweeper then collects its records", async () => {
  const db = ctx();
  await seed(db);
  await write(db, (s) => s.createIndex("Person", "name"));
  assert.ok(db.backend.recordCount(CF_DEFAULT) > 10);
  await runWrite(db, [G], async (t) => {
    await t.meta(G);
    t.deleteKey(G);
    return { k: "int", n: 1 };
  });
  assert.equal(await runGraph(db, G, READ, (s) => Promise.resolve(s)), null);
  // Recreating it starts from an empty generation.
  await write(db, async (s) => {
    assert.equal(await s.countNodes(), 0);
    assert.deepEqual(await all(s.scanNodes()), []);
    await s.createNode(["X"], new Map());
  });
  const sweeper = new Sweeper(db, { max_records_per_tick: 1000 });
  while (!(await sweeper.tick()).wrapped);
  await sweeper.tick();
  const left = await db.backend.scan(CF_DEFAULT, USER_SPACE_START, USER_SPACE_END, 100, false);
  // The new generation's metadata, node and label records remain.
  assert.equal(left.length, 3);
  await read(db, async (s) => assert.deepEqual(ids(await all(s.scanNodes())), [0]));
});

/**
 * Checks graph "g"'s raw records against each other: exactly one label record
 * per (label, node), one index record per indexed value, out/in adjacency
 * records equal to their edge record, and header counts that match.
 */
async function checkRecords(db: DbContext & { backend: MemoryBackend }): Promise<void> {
  const raw_meta = await db.backend.get(CF_DEFAULT, metaKey(G));
  assert.ok(raw_meta);
  const m = decodeMetadata(raw_meta);
  const h = decodeHeader(m.value);
  const prefix = dataPrefix(G, m.version);
  const recs = await db.backend.scan(CF_DEFAULT, prefix, rangeEnd(prefix), 1e9, false);
  const actual = new Map(recs.map((r) => [latin1(r.key.subarray(prefix.length)), r.value]));
  const want = new Map<string, Uint8Array>();
  const empty = new Uint8Array(0);
  const label_counts = h.labels.map(() => 0), type_counts = h.types.map(() => 0);
  let nodes = 0, edges = 0;
  for (const [sub, v] of actual) {
    const id = trailingId(fromLatin1(sub));
    if (sub.charCodeAt(0) === SUB_NODE) {
      nodes++;
      want.set(sub, v);
      const n = decodeNode(v);
      for (const l of n.labels) {
        label_counts[l]++;
        want.set(latin1(labelSub(l, id)), empty);
        for (const ix of h.indexes.filter((i) => i.label === l)) {
          const pv = n.props.get(ix.key);
          const o = pv === undefined ? null : orderedValue(pv);
          if (o) want.set(latin1(indexSub(l, ix.key, o, id)), empty);
        }
      }
    } else if (sub.charCodeAt(0) === SUB_EDGE) {
      edges++;
      want.set(sub, v);
      const e = decodeEdge(v);
      type_counts[e.type]++;
      assert.ok(actual.has(latin1(nodeSub(e.src))) && actual.has(latin1(nodeSub(e.dst))));
      want.set(latin1(adjSub("out", e.src, e.type, e.dst, id)), v);
      want.set(latin1(adjSub("in", e.dst, e.type, e.src, id)), v);
      assert.equal(sub, latin1(edgeSub(id)));
    }
  }
  assert.deepEqual([...actual.keys()].sort(), [...want.keys()].sort(), "record set");
  for (const [k, v] of want) assert.ok(equal(actual.get(k)!, v), "record value");
  assert.deepEqual(
    [h.node_count, h.edge_count, h.label_counts, h.type_counts],
    [nodes, edges, label_counts, type_counts],
  );
}

/** mulberry32 (as shared/testing prng) whose state can be saved and restored. */
function replayable(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Object.assign(next, { state: () => a, restore: (x: number) => void (a = x) });
}

/**
 * Differential test against the engine's reference store (MemoryGraph):
 * seeded random sequences of every GraphStore operation, in transactions of
 * random length; after each operation both stores must answer every read the
 * same (reads inside a transaction see its writes), and commits must agree.
 */
Deno.test("kv graph: behaves like the in-memory reference store (seeded random operations)", async () => {
  const SEEDS = 8;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const rnd = replayable(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const int = (n: number) => Math.floor(rnd() * n);
    const value = (): PropertyValue =>
      pick<() => PropertyValue>([
        () => BigInt(int(7) - 3),
        () => int(7) - 3 + 0.5,
        () => int(4) - 2 + 0.0,
        () => pick(["", "a", "b", "ab", "a\u0000"]),
        () => rnd() < 0.5,
        () => [BigInt(int(3))],
      ])();
    const LABELS = ["A", "B", "C"], TYPES = ["R", "S"], KEYS = ["x", "y", "z"];
    const mem = new MemoryGraph();
    const db = ctx();
    const dump = async (s: GraphStore) => {
      const out: unknown[] = [];
      out.push(await all(s.scanNodes()));
      for (const l of LABELS) {
        out.push(await all(s.scanNodesByLabel(l)), await s.countNodesByLabel(l));
      }
      for (const t of TYPES) out.push(await s.countEdgesByType(t));
      out.push(await s.countNodes(), await s.listIndexes());
      const nodes = (out[0] as NodeRecord[]).map((n) => n.id);
      for (const n of [...nodes, 999]) {
        for (const d of ["out", "in", "both"] as const) {
          const xs = await all(s.expand(n, d, rnd() < 0.5 ? [] : [pick(TYPES)]));
          out.push(xs.sort((a, b) => a.edge.id - b.edge.id));
        }
      }
      for (const ix of await s.listIndexes()) {
        const v = value();
        out.push(ids(await all(s.seekIndex(ix.label, ix.property, v))));
        const lo = rnd() < 0.7 ? { value: value(), inclusive: rnd() < 0.5 } : undefined;
        const hi = rnd() < 0.7 ? { value: value(), inclusive: rnd() < 0.5 } : undefined;
        out.push(ids(await all(s.seekIndexRange(ix.label, ix.property, { lower: lo, upper: hi }))));
      }
      return out;
    };
    let next_node = 0, next_edge = 0;
    for (let txn = 0; txn < 25; txn++) {
      const m = mem.transaction();
      const ops = 1 + int(12);
      const state = { m_next_node: next_node, m_next_edge: next_edge };
      await runGraph(db, G, WRITE, async (k) => {
        for (let i = 0; i < ops; i++) {
          const op = int(12);
          // Each operation draws its arguments once and applies them to both stores.
          const node = int(state.m_next_node + 2);
          const edge = int(state.m_next_edge + 2);
          const run = async (s: GraphStore): Promise<unknown> => {
            switch (op) {
              case 0:
              case 1:
                return await s.createNode(
                  [...new Set([pick(LABELS), pick(LABELS)])].slice(0, int(3)),
                  new Map([[pick(KEYS), value()]]),
                );
              case 2: {
                if (!(await s.getNode(node)) || !(await s.getNode(node + 1))) return "skip";
                return await s.createEdge(
                  pick(TYPES),
                  node,
                  node + (rnd() < 0.2 ? 0 : 1),
                  new Map([[pick(KEYS), value()]]),
                );
              }
              case 3:
                if (!(await s.getNode(node))) return "skip";
                return await s.setNodeProperty(node, pick(KEYS), value());
              case 4:
                if (!(await s.getNode(node))) return "skip";
                return await s.removeNodeProperty(node, pick(KEYS));
              case 5:
                if (!(await s.getNode(node))) return "skip";
                return await s.addLabels(node, [pick(LABELS)]);
              case 6:
                if (!(await s.getNode(node))) return "skip";
                return await s.removeLabels(node, [pick(LABELS)]);
              case 7:
                try {
                  return await s.deleteNode(node, rnd() < 0.5);
                } catch (e) {
                  return String(e);
                }
              case 8:
                return await s.deleteEdge(edge);
              case 9:
                if (!(await s.getEdge(edge))) return "skip";
                return rnd() < 0.5
                  ? await s.setEdgeProperty(edge, pick(KEYS), value())
                  : await s.removeEdgeProperty(edge, pick(KEYS));
              case 10:
                return await s.createIndex(pick(LABELS), pick(KEYS));
              default:
                return await s.dropIndex(pick(LABELS), pick(KEYS));
            }
          };
          // Same random draws for both: replay the generator state.
          const saved = rnd.state();
          const a = await run(m);
          rnd.restore(saved);
          const b = await run(k!);
          assert.deepEqual(b, a, `seed ${seed} txn ${txn} op ${i} (${op})`);
          if ((op === 0 || op === 1) && typeof a === "number") state.m_next_node = a + 1;
          if (op === 2 && typeof a === "number") state.m_next_edge = a + 1;
          const saved2 = rnd.state();
          const da = await dump(m);
          rnd.restore(saved2);
          assert.deepEqual(await dump(k!), da, `seed ${seed} txn ${txn} after op ${i} (${op})`);
        }
      });
      m.commit();
      next_node = state.m_next_node;
      next_edge = state.m_next_edge;
      const saved = rnd.state();
      const da = await dump(mem.transaction());
      rnd.restore(saved);
      assert.deepEqual(await read(db, dump), da, `seed ${seed} after commit ${txn}`);
      await checkRecords(db);
    }
  }
});

Deno.test("kv graph: a query writing more than one store batch holds is refused whole", async () => {
  assert.equal(MAX_GRAPH_BATCH_ITEMS, MAX_BATCH_ITEMS);
  assert.equal(MAX_GRAPH_BATCH_BYTES, MAX_BATCH_BYTES);
  const db = ctx();
  await write(db, (s) => s.createNode([], new Map()));
  const before = db.backend.recordCount(CF_DEFAULT);
  await assert.rejects(
    () =>
      write(db, async (s) => {
        for (let i = 0; i < MAX_GRAPH_BATCH_ITEMS; i++) await s.createNode([], new Map());
      }),
    (e: unknown) => e instanceof CommandError && /at most 10000 records/.test(e.message),
  );
  assert.equal(db.backend.recordCount(CF_DEFAULT), before);
  await write(db, async (s) => {
    for (let i = 0; i < MAX_GRAPH_BATCH_ITEMS - 10; i++) await s.createNode([], new Map());
  });
  await read(db, async (s) => assert.equal(await s.countNodes(), MAX_GRAPH_BATCH_ITEMS - 9));
});

/** Counts backend reads (get, batchGet, scan) of a MemoryBackend. */
function countReads(b: MemoryBackend): { n: number } {
  const c = { n: 0 };
  const get = b.get.bind(b), many = b.batchGet.bind(b), scan = b.scan.bind(b);
  b.get = (cf, k) => (c.n++, get(cf, k));
  b.batchGet = (cf, ks) => (c.n++, many(cf, ks));
  b.scan = (cf, s, e, l, r) => (c.n++, scan(cf, s, e, l, r));
  return c;
}

Deno.test("kv graph: reads of one graph state are shared across queries until the next write", async () => {
  const db = ctx();
  await seed(db);
  const reads = countReads(db.backend);
  const hop = (s: KvGraphStore) =>
    all(s.expand(0, "out", [])).then(async (xs) => {
      const out: unknown[] = [];
      for (const x of xs) out.push(await s.getNode(x.neighbour));
      return [out, await all(s.scanNodesByLabel("Person"))];
    });
  const first = await read(db, hop);
  const cold = reads.n;
  assert.ok(cold > 2, `the first query went to the backend (${cold} reads)`);
  reads.n = 0;
  assert.deepEqual(await read(db, hop), first);
  assert.equal(reads.n, 1, "only the metadata was read again");
  // A write changes the state: the next query reads (and sees) the new data.
  await write(db, (s) => s.setNodeProperty(1, "age", 99n));
  reads.n = 0;
  const [after] = await read(db, hop) as [NodeRecord[]];
  assert.equal(after[0].properties.get("age"), 99n);
  assert.ok(reads.n > 1);
});

Deno.test("kv graph: a query that raced a writer re-runs; the re-run's reads are the ones cached", async () => {
  const db = ctx();
  await seed(db);
  let runs = 0;
  await runGraph(db, G, READ, async (s) => {
    runs++;
    await s!.getNode(0);
    // A write lands between this query's reads: node 1 read next is of the new state.
    if (runs === 1) await write(db, (w) => w.setNodeProperty(1, "age", 41n));
    return await s!.getNode(1);
  });
  assert.equal(runs, 2);
  // The first run read two states and failed validation, publishing nothing;
  // the second read only the current state and published it.
  const n = await read(db, (s) => s.getNode(1));
  assert.equal(n?.properties.get("age"), 41n);
  const reads = countReads(db.backend);
  assert.deepEqual((await read(db, (s) => s.getNode(0)))?.properties.get("age"), 30n);
  assert.equal(reads.n, 1, "node 0 of the current state was cached by the second run");
});

/**
 * The engine on the KV store answers like on the reference store: the movie
 * graph (testdata/movies.cypher) loaded into both, then reads, index seeks,
 * writes and deletes, each query run on both and compared.
 */
Deno.test("kv graph: the query engine gives the same answers as on MemoryGraph (movie graph)", async () => {
  const movies = await Deno.readTextFile(new URL("./testdata/movies.cypher", import.meta.url));
  const mem = new MemoryGraph();
  const db = ctx();
  const deadline_ms = Date.now() + 60_000;
  const onMem = async (q: string) => {
    const t = mem.transaction();
    try {
      const r = await executeQuery(t, q, { read_only: false, deadline_ms });
      t.commit();
      return r;
    } catch (e) {
      return String(e);
    }
  };
  const onKv = async (q: string) => {
    try {
      return await runGraph(
        db,
        G,
        WRITE,
        (s) => executeQuery(s!, q, { read_only: false, deadline_ms }),
      );
    } catch (e) {
      return String(e);
    }
  };
  const queries = [
    movies,
    "MATCH (n) RETURN count(n)",
    "MATCH ()-[r]->() RETURN type(r), count(r) ORDER BY type(r)",
    "MATCH (p:Person {name: 'Keanu Reeves'})-[:ACTED_IN]->(m) RETURN m.title, m.released ORDER BY m.released",
    "MATCH (p:Person)-[:ACTED_IN]->(m)<-[:DIRECTED]-(p) RETURN p.name, m.title ORDER BY p.name, m.title",
    "MATCH (a:Person {name: 'Tom Hanks'})-[:ACTED_IN]->()<-[:ACTED_IN]-(c) RETURN DISTINCT c.name ORDER BY c.name",
    "MATCH (m:Movie) WHERE m.released >= 1990 AND m.released < 2000 RETURN m.title ORDER BY m.title",
    "MATCH (p:Person)-[r:REVIEWED]->(m) RETURN p.name, r.rating, m ORDER BY r.rating DESC, p.name",
    "MATCH (p:Person) OPTIONAL MATCH (p)-[:DIRECTED]->(m) RETURN p.name, count(m) AS n ORDER BY n DESC, p.name LIMIT 10",
    "MATCH (a)-[:FOLLOWS]-(b) RETURN a.name, b.name ORDER BY a.name, b.name",
    "MATCH p = (a:Person {name: 'Kevin Bacon'})-[:ACTED_IN]->(m)<-[:ACTED_IN]-(b) RETURN p ORDER BY b.name LIMIT 5",
    "CREATE INDEX FOR (m:Movie) ON (m.released)",
    "CREATE INDEX FOR (p:Person) ON (p.name)",
    "MATCH (m:Movie) WHERE m.released > 2005 RETURN m.title ORDER BY m.title",
    "MATCH (p:Person {name: 'Tom Hanks'}) RETURN p",
    "MATCH (p:Person) WHERE p.name = 'Nobody' RETURN p",
    "MATCH (m:Movie {title: 'The Matrix'}) SET m.rating = 9.5, m:Classic RETURN m",
    "MATCH (m:Classic) RETURN m.title, m.rating",
    "MATCH (p:Person {name: 'Keanu Reeves'}) SET p.name = 'K. Reeves' RETURN p.born",
    "MATCH (p:Person {name: 'K. Reeves'})-[:ACTED_IN]->(m) RETURN count(m)",
    "MATCH (p:Person {name: 'Keanu Reeves'}) RETURN count(p)",
    "MATCH (p:Person {name: 'Emil Eifrem'}) DELETE p",
    "MATCH (p:Person {name: 'Emil Eifrem'}) DETACH DELETE p",
    "MATCH (m:Movie) WHERE m.released < 1990 DETACH DELETE m",
    "MERGE (p:Person {name: 'New Person'}) ON CREATE SET p.born = 2000 RETURN p.born",
    "MERGE (p:Person {name: 'New Person'}) ON MATCH SET p.seen = true RETURN p.seen",
    "MATCH (n) RETURN count(n)",
    "MATCH ()-[r]->() RETURN count(r)",
    "MATCH (m:Movie) REMOVE m.tagline RETURN count(m)",
    "MATCH (m:Movie) WHERE m.tagline IS NOT NULL RETURN count(m)",
    "MATCH (p:Person) WITH p ORDER BY p.born DESC LIMIT 3 RETURN p.name, p.born",
  ];
  for (const q of queries) {
    const a = await onMem(q);
    const b = await onKv(q);
    assert.deepEqual(b, a, q.slice(0, 100));
  }
  await checkRecords(db);
});
