import assert from "node:assert/strict";
import { type ClientValue, frameValue } from "../graph/reply.ts";
import { MemoryBackend } from "../memory_backend.ts";
import { startDbServer } from "../server.ts";
import { Sweeper } from "../sweeper.ts";
import { encodeCommand, RespClient } from "../testing/resp_client.ts";
import { CF_DEFAULT } from "../backend.ts";

async function withServer(fn: (c: RespClient, backend: MemoryBackend) => Promise<void>) {
  const backend = new MemoryBackend();
  const s = await startDbServer({ addr: "127.0.0.1:0", backend, sweeper: null });
  const c = await RespClient.connect(s.port);
  try {
    await fn(c, backend);
  } finally {
    c.close();
    await s.close();
  }
}

async function cmd(c: RespClient, ...args: string[]): Promise<ClientValue> {
  await c.send(encodeCommand(args));
  const r = await c.readFrame();
  assert.ok(r, "a reply");
  return frameValue(r.f);
}

/** The stats lines of a GRAPH.QUERY reply, without the timing line. */
function stats(reply: ClientValue): string[] {
  assert.ok(Array.isArray(reply), `an array reply, got ${JSON.stringify(reply)}`);
  const lines = reply[reply.length - 1] as string[];
  const time = lines[lines.length - 1];
  assert.match(time, /^Query internal execution time: \d+\.\d{6} milliseconds$/);
  return lines.slice(0, -1);
}

const error = (reply: ClientValue) => (reply as { error: string }).error;

Deno.test("GRAPH.QUERY: writes reply [stats]; RETURN replies [header, rows, stats]", async () => {
  await withServer(async (c) => {
    const w = await cmd(c, "GRAPH.QUERY", "g", "CREATE (:Person {name: 'Ann', age: 30})");
    assert.equal((w as ClientValue[]).length, 1);
    assert.deepEqual(stats(w), [
      "Labels added: 1",
      "Nodes created: 1",
      "Properties set: 2",
      "Cached execution: 0",
    ]);
    const w2 = await cmd(
      c,
      "GRAPH.QUERY",
      "g",
      "MATCH (a:Person {name: 'Ann'}) CREATE (a)-[:KNOWS {since: 2020}]->(:Person {name: 'Bob', score: 1.5})",
    );
    // Person is not a new label: no "Labels added" line (FalkorDB counts new labels).
    assert.deepEqual(stats(w2), [
      "Nodes created: 1",
      "Properties set: 3",
      "Relationships created: 1",
      "Cached execution: 0",
    ]);
    const r = await cmd(
      c,
      "GRAPH.QUERY",
      "g",
      "MATCH (a:Person)-[k:KNOWS]->(b) RETURN a, k, b.name, b.score, b.missing, [1, 'x'], true",
    ) as ClientValue[];
    assert.equal(r.length, 3);
    assert.deepEqual(r[0], ["a", "k", "b.name", "b.score", "b.missing", "[1, 'x']", "true"]);
    assert.deepEqual(r[1], [[
      [["id", 0], ["labels", ["Person"]], ["properties", [["name", "Ann"], ["age", 30]]]],
      [
        ["id", 0],
        ["type", "KNOWS"],
        ["src_node", 0],
        ["dest_node", 1],
        ["properties", [["since", 2020]]],
      ],
      "Bob",
      "1.5",
      null,
      "[1, x]",
      "true",
    ]]);
    assert.deepEqual(stats(r), ["Cached execution: 0"]);
    // A RETURN with no rows still has a header.
    const none = await cmd(c, "GRAPH.QUERY", "g", "MATCH (n:Nobody) RETURN n") as ClientValue[];
    assert.deepEqual(none.slice(0, 2), [["n"], []]);
  });
});

Deno.test("GRAPH.RO_QUERY reads, refuses writes and missing graphs; errors are -ERR", async () => {
  await withServer(async (c) => {
    assert.equal(
      error(await cmd(c, "GRAPH.RO_QUERY", "g", "MATCH (n) RETURN n")),
      "ERR Invalid graph operation on empty key",
    );
    await cmd(c, "GRAPH.QUERY", "g", "UNWIND range(1, 5) AS i CREATE (:N {i: i})");
    const r = await cmd(c, "GRAPH.RO_QUERY", "g", "MATCH (n:N) RETURN count(n), sum(n.i)");
    assert.deepEqual((r as ClientValue[])[1], [[5, 15]]);
    assert.equal(
      error(await cmd(c, "GRAPH.RO_QUERY", "g", "CREATE (:X)")),
      "ERR graph.RO_QUERY is to be executed only on read-only queries",
    );
    assert.match(error(await cmd(c, "GRAPH.QUERY", "g", "MATCH (n RETURN n")), /^ERR /);
    assert.match(error(await cmd(c, "GRAPH.QUERY", "g", "RETURN 1", "BOGUS")), /^ERR Unknown/);
    assert.equal(
      error(await cmd(c, "GRAPH.QUERY", "g")),
      "ERR wrong number of arguments for 'graph.query' command",
    );
    // A failed query changes nothing (its buffered writes are dropped).
    assert.match(
      error(await cmd(c, "GRAPH.QUERY", "g", "CREATE (:Y) WITH 1 AS x RETURN 1 / 0")),
      /^ERR /,
    );
    const y = await cmd(c, "GRAPH.RO_QUERY", "g", "MATCH (y:Y) RETURN count(y)");
    assert.deepEqual((y as ClientValue[])[1], [[0]]);
    // A query writing more than one atomic batch holds stops early, writing nothing.
    assert.match(
      error(await cmd(c, "GRAPH.QUERY", "g", "UNWIND range(1, 20000) AS i CREATE (:Big {i: i})")),
      /^ERR query writes over 10000 records but one atomic batch holds at most 10000 records/,
    );
    const big = await cmd(c, "GRAPH.RO_QUERY", "g", "MATCH (b:Big) RETURN count(b)");
    assert.deepEqual((big as ClientValue[])[1], [[0]]);
  });
});

Deno.test("GRAPH.* key semantics: TYPE graphdata, WRONGTYPE, LIST, DELETE, DEL, RENAME", async () => {
  await withServer(async (c, backend) => {
    await cmd(c, "GRAPH.QUERY", "g1", "CREATE (:A)-[:R]->(:B)");
    // GRAPH.QUERY creates the graph even for a read.
    await cmd(c, "GRAPH.QUERY", "g2", "MATCH (n) RETURN n");
    await cmd(c, "SET", "s", "v");
    assert.equal(await cmd(c, "TYPE", "g1"), "graphdata");
    assert.equal(await cmd(c, "TYPE", "g2"), "graphdata");
    assert.deepEqual(await cmd(c, "GRAPH.LIST"), ["g1", "g2"]);
    assert.deepEqual(await cmd(c, "SCAN", "0", "TYPE", "graphdata"), ["0", ["g1", "g2"]]);
    assert.match(error(await cmd(c, "GRAPH.QUERY", "s", "RETURN 1")), /^WRONGTYPE/);
    assert.match(error(await cmd(c, "GET", "g1")), /^WRONGTYPE/);
    assert.match(error(await cmd(c, "HGETALL", "g1")), /^WRONGTYPE/);
    assert.equal(await cmd(c, "GRAPH.DELETE", "g2"), "OK");
    assert.equal(
      error(await cmd(c, "GRAPH.DELETE", "g2")),
      "ERR Invalid graph operation on empty key",
    );
    assert.equal(
      error(await cmd(c, "GRAPH.DELETE", "s")),
      "ERR Invalid graph operation on empty key",
    );
    assert.equal(await cmd(c, "RENAME", "g1", "g3"), "OK");
    const moved = await cmd(c, "GRAPH.RO_QUERY", "g3", "MATCH (a:A)-[:R]->(b:B) RETURN count(*)");
    assert.deepEqual((moved as ClientValue[])[1], [[1]]);
    assert.deepEqual(await cmd(c, "GRAPH.LIST"), ["g3"]);
    assert.equal(await cmd(c, "EXISTS", "g3"), 1);
    // Expiry works on graphs like on any key.
    await cmd(c, "GRAPH.QUERY", "gx", "CREATE (:T)");
    assert.equal(await cmd(c, "PEXPIRE", "gx", "100000"), 1);
    assert.equal(await cmd(c, "EXISTS", "gx"), 1);
    assert.equal(await cmd(c, "PEXPIREAT", "gx", "1"), 1); // in the past: gone now
    assert.equal(await cmd(c, "EXISTS", "gx"), 0);
    assert.match(error(await cmd(c, "GRAPH.RO_QUERY", "gx", "MATCH (n) RETURN n")), /empty key/);
    assert.equal(await cmd(c, "DEL", "g3"), 1);
    assert.deepEqual(await cmd(c, "GRAPH.LIST"), []);
    assert.equal(
      error(await cmd(c, "GRAPH.RO_QUERY", "g3", "MATCH (n) RETURN n")),
      "ERR Invalid graph operation on empty key",
    );
    // Deleted graphs' records are garbage the sweeper collects.
    const db = { backend, latches: undefined!, now_ms: () => Date.now(), max_bulk_bytes: 0 };
    const sweeper = new Sweeper(db, { max_records_per_tick: 10_000 });
    await sweeper.tick();
    await sweeper.tick();
    assert.equal(backend.recordCount(CF_DEFAULT), 1, "only the string key is left");
  });
});

Deno.test("GRAPH.EXPLAIN prints the plan; indexes show up in it", async () => {
  await withServer(async (c) => {
    assert.equal(
      error(await cmd(c, "GRAPH.EXPLAIN", "g", "MATCH (n) RETURN n")),
      "ERR Invalid graph operation on empty key",
    );
    const idx = await cmd(c, "GRAPH.QUERY", "g", "CREATE INDEX FOR (p:P) ON (p.v)");
    assert.deepEqual(stats(idx), ["Indices created: 1", "Cached execution: 0"]);
    await cmd(c, "GRAPH.QUERY", "g", "UNWIND range(1, 50) AS i CREATE (:P {v: i})");
    const plan = await cmd(c, "GRAPH.EXPLAIN", "g", "MATCH (p:P) WHERE p.v = 7 RETURN p.v");
    assert.ok(Array.isArray(plan) && plan.every((l) => typeof l === "string"));
    assert.equal(plan[0], "Results");
    assert.ok(plan.some((l) => /Index/.test(l as string)), plan.join("\n"));
    const r = await cmd(c, "GRAPH.RO_QUERY", "g", "MATCH (p:P) WHERE p.v = 7 RETURN p.v");
    assert.deepEqual((r as ClientValue[])[1], [[7]]);
  });
});

Deno.test("GRAPH.QUERY: the time limit (TIMEOUT argument, CONFIG graph-timeout-ms) stops a query", async () => {
  await withServer(async (c) => {
    const huge = "UNWIND range(1, 1000000) AS x UNWIND range(1, 1000000) AS y RETURN count(*)";
    assert.equal(
      error(await cmd(c, "GRAPH.QUERY", "g", huge, "TIMEOUT", "1")),
      "ERR Query timed out",
    );
    assert.deepEqual(await cmd(c, "CONFIG", "GET", "graph-timeout-ms"), [
      "graph-timeout-ms",
      "10000",
    ]);
    assert.equal(await cmd(c, "CONFIG", "SET", "graph-timeout-ms", "1"), "OK");
    assert.equal(error(await cmd(c, "GRAPH.QUERY", "g", huge)), "ERR Query timed out");
    assert.equal(
      error(await cmd(c, "GRAPH.QUERY", "g", "RETURN 1", "TIMEOUT", "-5")),
      "ERR Failed to parse query timeout value",
    );
  });
});
