/**
 * GRAPH.* end to end on a real cluster (1 `eraft meta`, 3 `eraft store`, 1
 * `eraft db` on free 127.0.0.1 ports): a redis-cli session (skipped, with the
 * reason printed, when redis-cli is not installed) and ioredis, including a
 * graph spanning many records and a graph key living beside ordinary keys.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { hasCommand } from "@eraft/shared/testing";
import { NemesisCluster } from "./nemesis/cluster.ts";
import { runTool } from "./support/run_tool.ts";
import { withIoredis } from "./support/ioredis.ts";

const CROSS_PROCESS = { sanitizeOps: false, sanitizeResources: false } as const;

function redisCli(port: number, args: string[], stdin?: string): Promise<string> {
  return runTool("redis-cli", ["-p", String(port), ...args], stdin);
}

/** redis-cli output without the timing line (it varies). */
function lines(out: string): string[] {
  return out.trim().split("\n").filter((l) =>
    l !== "" && !l.startsWith("Query internal execution time:")
  );
}

Deno.test({
  name: "graph e2e: redis-cli session and ioredis against a real cluster",
  ...CROSS_PROCESS,
  async fn(t) {
    const cluster = new NemesisCluster({ stores: 3, dbs: 1 });
    try {
      await cluster.start();
      const port = cluster.dbPort(0);

      await t.step({
        name: "redis-cli: create, match, list, type, explain, delete",
        ignore: !hasCommand("redis-cli"),
        async fn() {
          const created = await redisCli(port, [
            "GRAPH.QUERY",
            "social",
            "CREATE (:Person {name: 'Ann', age: 30})-[:KNOWS {since: 2020}]->(:Person {name: 'Bob', age: 25.5})",
          ]);
          assert.deepEqual(lines(created).filter((l) => !l.startsWith("Labels added")), [
            "Nodes created: 2",
            "Properties set: 5",
            "Relationships created: 1",
            "Cached execution: 0",
          ]);
          assert.match(created, /Query internal execution time: \d+\.\d{6} milliseconds/);
          const matched = await redisCli(port, [
            "GRAPH.QUERY",
            "social",
            "MATCH (a:Person)-[k:KNOWS]->(b:Person) RETURN a.name, k.since, b.age ORDER BY a.name",
          ]);
          assert.deepEqual(lines(matched), [
            "a.name",
            "k.since",
            "b.age",
            "Ann",
            "2020",
            "25.5",
            "Cached execution: 0",
          ]);
          // An interactive-style session from stdin, with ordinary keys beside the graph.
          const session = await redisCli(
            port,
            [],
            [
              "SET plain v",
              "GRAPH.LIST",
              "TYPE social",
              "GET social",
              'GRAPH.RO_QUERY social "MATCH (p:Person) RETURN count(p)"',
              'GRAPH.RO_QUERY social "CREATE (:X)"',
              'GRAPH.EXPLAIN social "MATCH (p:Person) RETURN p"',
              "GRAPH.DELETE social",
              "GRAPH.LIST",
              "GET plain",
              "",
            ].join("\n"),
          );
          const out = lines(session);
          assert.deepEqual(out.slice(0, 3), ["OK", "social", "graphdata"]);
          assert.match(out[3], /WRONGTYPE/);
          assert.deepEqual(out.slice(4, 7), ["count(p)", "2", "Cached execution: 0"]);
          assert.match(out[7], /RO_QUERY is to be executed only on read-only queries/);
          assert.equal(out[8], "Results");
          assert.ok(out.some((l) => /Node By Label Scan|Label Scan/.test(l)), session);
          assert.deepEqual(out.slice(-2), ["OK", "v"]);
          assert.ok(out.includes("OK"));
        },
      });
      if (!hasCommand("redis-cli")) {
        console.warn("graph e2e: redis-cli session SKIPPED — redis-cli is not installed");
      }

      await t.step("ioredis: a 2 000-node graph, hops, indexes, DEL", async () => {
        await withIoredis(port, async (r) => {
          const idx = await r.call("GRAPH.QUERY", "chain", "CREATE INDEX FOR (n:N) ON (n.i)");
          assert.deepEqual((idx as string[][])[0].slice(0, 1), ["Indices created: 1"]);
          const made = await r.call(
            "GRAPH.QUERY",
            "chain",
            "UNWIND range(0, 1999) AS i CREATE (:N {i: i})",
          ) as string[][];
          assert.ok(made[0].includes("Nodes created: 2000"), made[0].join("\n"));
          const linked = await r.call(
            "GRAPH.QUERY",
            "chain",
            "MATCH (a:N), (b:N) WHERE b.i = a.i + 1 AND a.i % 10 = 0 CREATE (a)-[:NEXT]->(b)",
          ) as string[][];
          assert.ok(linked[0].includes("Relationships created: 200"), linked[0].join("\n"));
          const hop = await r.call(
            "GRAPH.RO_QUERY",
            "chain",
            "MATCH (a:N {i: 500})-[:NEXT]->(b) RETURN b.i",
          ) as unknown[][];
          assert.deepEqual(hop[1], [[501]]);
          const n = await r.call("GRAPH.RO_QUERY", "chain", "MATCH (n:N) RETURN count(n)");
          assert.deepEqual((n as unknown[][])[1], [[2000]]);
          assert.equal(await r.del("chain"), 1);
          await assert.rejects(
            () => r.call("GRAPH.RO_QUERY", "chain", "MATCH (n) RETURN n"),
            /Invalid graph operation on empty key/,
          );
        });
      });
    } catch (e) {
      console.error(cluster.logs(3000));
      throw e;
    } finally {
      await cluster.close();
    }
  },
});

Deno.test({
  name: "graph e2e: writers on two db processes conflict on one graph and retry; no update lost",
  ...CROSS_PROCESS,
  async fn() {
    const cluster = new NemesisCluster({ stores: 3, dbs: 2 });
    try {
      await cluster.start();
      const conns = [
        new Redis({ port: cluster.dbPort(0), host: "127.0.0.1", maxRetriesPerRequest: 0 }),
        new Redis({ port: cluster.dbPort(1), host: "127.0.0.1", maxRetriesPerRequest: 0 }),
      ];
      try {
        await conns[0].call("GRAPH.QUERY", "counter", "CREATE (:C {n: 0})");
        const per_writer = 25;
        // Three writers per db process, each a read-modify-write of the same node.
        await Promise.all(
          conns.flatMap((r) =>
            [0, 1, 2].map(async () => {
              for (let i = 0; i < per_writer; i++) {
                const out = await r.call(
                  "GRAPH.QUERY",
                  "counter",
                  "MATCH (c:C) SET c.n = c.n + 1 CREATE (:Step)",
                ) as string[][];
                assert.ok(out[0].includes("Nodes created: 1"), out[0].join("\n"));
              }
            })
          ),
        );
        const total = 2 * 3 * per_writer;
        const res = await conns[1].call(
          "GRAPH.RO_QUERY",
          "counter",
          "MATCH (c:C) MATCH (s:Step) RETURN c.n, count(s)",
        ) as unknown[][];
        assert.deepEqual(res[1], [[total, total]]);
      } finally {
        for (const r of conns) r.disconnect();
      }
    } catch (e) {
      console.error(cluster.logs(3000));
      throw e;
    } finally {
      await cluster.close();
    }
  },
});
