/**
 * E-DB end to end on a real cluster (1 `eraft meta`, 3 `eraft store --meta`,
 * 1 `eraft db` process on free 127.0.0.1 ports): ioredis, node-redis,
 * redis-cli, redis-benchmark, and kill -9 of the region leader during writes
 * with every acknowledged write present afterwards.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { type Child, hasCommand, spawnDeno } from "@eraft/shared/testing";
import { CF_DEFAULT } from "../db/backend.ts";
import { ClusterBackend } from "../db/cluster_backend.ts";
import { str, utf8 } from "../db/encoding/bytes.ts";
import { metaKey } from "../db/encoding/keys.ts";
import { RespClient } from "../db/testing/resp_client.ts";
import { freePort } from "./support/cluster.ts";
import { runTool } from "./support/run_tool.ts";
import { withIoredis } from "./support/ioredis.ts";
import { MetaCluster, waitFor } from "./support/meta_cluster.ts";

const DB_MAIN = new URL("./support/eraft_db.ts", import.meta.url).pathname;
const CROSS_PROCESS = { sanitizeOps: false, sanitizeResources: false } as const;

Deno.test({
  name: "db e2e: real clients against a real cluster",
  ...CROSS_PROCESS,
  async fn(t) {
    const cluster = new MetaCluster({ metas: 1, stores: 3 });
    let db: Child | null = null;
    try {
      await cluster.start();
      // Wait for region 1 to have 3 peers, so a store kill keeps a quorum.
      await waitFor("3 replicas", async () => {
        const rs = await cluster.regions();
        return rs.length > 0 && rs.every((r) => r.region!.peers.length === 3 && r.leader);
      }, 60_000);
      const port = freePort();
      db = spawnDeno("db", DB_MAIN, [
        "--addr",
        `127.0.0.1:${port}`,
        "--meta",
        cluster.metas.map((m) => m.addr).join(","),
      ]);
      await db.waitFor(/db listening on/, 60_000);

      await t.step("ioredis: strings, hashes, lists, zsets, pipeline", async () => {
        await withIoredis(port, async (r) => {
          assert.equal(await r.set("io:a", "1"), "OK");
          assert.equal(await r.get("io:a"), "1");
          assert.equal(await r.incr("io:a"), 2);
          await r.hset("io:h", { f1: "v1", f2: "v2" });
          assert.deepEqual(await r.hgetall("io:h"), { f1: "v1", f2: "v2" });
          assert.equal(await r.rpush("io:l", "x", "y", "z"), 3);
          assert.deepEqual(await r.lrange("io:l", 0, -1), ["x", "y", "z"]);
          await r.zadd("io:z", 2, "b", 1, "a");
          assert.deepEqual(await r.zrange("io:z", 0, -1), ["a", "b"]);
          const res = await r.pipeline().set("io:p1", "1").set("io:p2", "2").mget("io:p1", "io:p2")
            .exec();
          assert.deepEqual(res?.map(([e, v]: [Error | null, unknown]) => [e, v]), [[null, "OK"], [
            null,
            "OK",
          ], [null, [
            "1",
            "2",
          ]]]);
        });
      });

      await t.step(
        "ioredis: MULTI/EXEC applies all at once; WATCH aborts on a change",
        async () => {
          await withIoredis(port, async (r) => {
            const res = await r.multi().set("tx:m1", "1").incr("tx:m1").rpush("tx:ml", "a", "b")
              .lrange("tx:ml", 0, -1).exec();
            assert.deepEqual(res, [[null, "OK"], [null, 2], [null, 2], [null, ["a", "b"]]]);
            await r.watch("tx:m1");
            await withIoredis(port, async (other) => {
              assert.equal(await other.set("tx:m1", "theirs"), "OK");
            });
            assert.equal(await r.multi().set("tx:m1", "mine").exec(), null);
            assert.equal(await r.get("tx:m1"), "theirs");
          });
        },
      );

      await t.step(
        "pipelined plain SETs and GETs share merged RawBatches and RawBatchGets",
        async () => {
          await withIoredis(port, async (r) => {
            const stat = async (name: string) =>
              Number(new RegExp(`${name}:(\\d+)`).exec(await r.info("cluster"))![1]);
            const merged = () => stat("eraft_merged_batches");
            const mergedGets = () => stat("eraft_merged_gets");
            const before = await merged();
            const p = r.pipeline();
            for (let i = 0; i < 400; i++) p.set(`merge:${i}`, `v${i}`);
            const res = await p.exec();
            assert.ok(res?.every(([e, v]: [Error | null, unknown]) => e === null && v === "OK"));
            const keys = Array.from({ length: 400 }, (_, i) => `merge:${i}`);
            assert.deepEqual(await r.mget(...keys), keys.map((_, i) => `v${i}`));
            assert.ok((await merged()) > before, "concurrent blind writes were merged");
            // Pipelined GETs (of present and absent keys) are merged into RawBatchGets.
            const gets_before = await mergedGets();
            const g = r.pipeline();
            for (let i = 0; i < 400; i++) g.get(i % 2 === 0 ? `merge:${i}` : `absent:${i}`);
            const got = (await g.exec())!.map(([e, v]: [Error | null, unknown]) => e ?? v);
            assert.deepEqual(got, keys.map((_, i) => i % 2 === 0 ? `v${i}` : null));
            assert.ok((await mergedGets()) > gets_before, "concurrent GETs were merged");
            // The stores advertise frame listeners: the stream has moved off gRPC.
            const frames_before = await stat("eraft_frame_messages");
            assert.ok(frames_before > 0, "BatchCommands went over the store's frame listener");
            await r.get("merge:0");
            assert.ok((await stat("eraft_frame_messages")) > frames_before);
          });
        },
      );

      await t.step("active expiry removes a key with a TTL from the stores", async () => {
        const raw = new ClusterBackend({ meta: cluster.metas.map((m) => m.addr) });
        try {
          const client = await RespClient.connect(port);
          try {
            assert.equal(str(await client.call("SET", "ttl:k", "v", "PX", "300")), "+OK\r\n");
            assert.equal(str(await client.call("SET", "ttl:kept", "v")), "+OK\r\n");
          } finally {
            client.close();
          }
          /** True while any record of `user_key` is stored (a key-only scan from its prefix). */
          const stored = async (user_key: string) => {
            const prefix = metaKey(utf8(user_key));
            const [first] = await raw.scan(CF_DEFAULT, prefix, new Uint8Array(), 1, false, true);
            return first !== undefined && prefix.every((b, i) => first.key[i] === b);
          };
          assert.ok(await stored("ttl:k"), "the key and its marker were written");
          // Nothing reads the key: only the db's sweeper can remove it.
          await waitFor(
            "the sweeper to remove ttl:k",
            async () => !(await stored("ttl:k")),
            30_000,
          );
          assert.ok(await stored("ttl:kept"), "a key without TTL stays");
        } finally {
          await raw.close();
        }
      });

      await t.step("node-redis; a raw HELLO 3 switches to RESP3", async () => {
        const c = createClient({ url: `redis://127.0.0.1:${port}` });
        c.on("error", () => {});
        await c.connect();
        try {
          assert.equal(await c.set("nr:a", "hello"), "OK");
          assert.equal(await c.get("nr:a"), "hello");
          assert.equal(await c.sAdd("nr:s", ["a", "b", "c"]), 3);
          assert.equal(await c.sCard("nr:s"), 3);
          assert.equal(await c.exists("nr:a"), 1);
          assert.equal(await c.del("nr:a"), 1);
          assert.equal(await c.get("nr:a"), null);
        } finally {
          await c.quit();
        }
        // node-redis 4 speaks RESP2; check the RESP3 handshake with a raw client.
        const raw = await RespClient.connect(port);
        try {
          assert.match(str(await raw.call("HELLO", "3")), /^%/);
          assert.equal(str(await raw.call("GET", "nr:none")), "_\r\n");
        } finally {
          raw.close();
        }
      });

      await t.step({
        name: "redis-cli: --scan and COMMAND DOCS",
        ignore: !hasCommand("redis-cli"),
        async fn() {
          const scan = await runTool("redis-cli", [
            "-p",
            String(port),
            "--scan",
            "--pattern",
            "io:*",
          ]);
          const keys = scan.trim().split("\n").sort();
          assert.deepEqual(keys, ["io:a", "io:h", "io:l", "io:p1", "io:p2", "io:z"]);
          const docs = await runTool("redis-cli", ["-p", String(port), "COMMAND", "DOCS", "get"]);
          assert.match(docs, /summary/);
          // What an interactive session sends first, then a command, from stdin.
          const piped = await runTool(
            "redis-cli",
            ["-p", String(port)],
            "COMMAND DOCS\nGET io:a\n",
          );
          assert.match(piped, /\b2\b/);
        },
      });

      await t.step({
        name: "redis-benchmark: the listed tests complete without errors",
        ignore: !hasCommand("redis-benchmark"),
        async fn() {
          // The command as written: 50 clients, no -r, so every test
          // hammers one hot key (group commits per key carry it).
          const tests =
            "set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange,mset";
          const out = await runTool("redis-benchmark", [
            "-p",
            String(port),
            "-t",
            tests,
            "-n",
            "2000",
            "-q",
          ]);
          const summary = out.split(/[\r\n]/).filter((l) => /requests per second/.test(l));
          console.log(summary.join("\n"));
          // lrange runs LPUSH plus LRANGE_100/300/500/600: 18 summaries for 14 tests.
          assert.ok(summary.length >= 18, `expected a summary per test:\n${out}`);
          assert.doesNotMatch(out, /ERR|TRYAGAIN|WRONGTYPE/);
          // Hot-key writes landed once each: 2000 LPUSH + 2000 RPUSH - 2000 LPOP - 2000 RPOP
          // + 2000 LPUSH (for LRANGE) on "mylist"; 2000 INCR on "counter:__rand_int__".
          const llen = await runTool("redis-cli", ["-p", String(port), "LLEN", "mylist"]);
          assert.equal(llen.trim(), "2000");
          const counter = await runTool("redis-cli", [
            "-p",
            String(port),
            "GET",
            "counter:__rand_int__",
          ]);
          assert.equal(counter.trim(), "2000");
        },
      });

      await t.step("kill -9 of the region leader: every acknowledged write survives", async () => {
        const r = new Redis({
          port,
          host: "127.0.0.1",
          lazyConnect: true,
          maxRetriesPerRequest: 0,
        });
        await r.connect();
        const acked: string[] = [];
        let failures = 0;
        let stop = false;
        const writers = Array.from({ length: 8 }, async (_, w) => {
          for (let i = 0; !stop; i++) {
            const k = `kill:${w}:${i}`;
            try {
              if ((await r.set(k, k)) === "OK") acked.push(k);
            } catch {
              failures++; // TRYAGAIN while the cluster elects a new leader
            }
          }
        });
        try {
          await waitFor("some writes", () => Promise.resolve(acked.length >= 40), 30_000);
          const regions = await cluster.regions();
          const leader_store = regions[0].leader!.store_id;
          const victim = cluster.stores.findIndex((_, i) => cluster.storeId(i) === leader_store);
          assert.ok(victim >= 0, "found the leader's process");
          await cluster.stores[victim].child!.stop("SIGKILL");
          const at_kill = acked.length;
          await waitFor(
            "writes after the kill",
            () => Promise.resolve(acked.length >= at_kill + 40),
            60_000,
          );
          stop = true;
          await Promise.all(writers);
          for (const k of acked) assert.equal(await r.get(k), k, `acknowledged ${k} is present`);
          console.log(`${acked.length} writes acknowledged, ${failures} failed during failover`);
        } finally {
          stop = true;
          await Promise.all(writers);
          r.disconnect();
        }
      });
    } catch (e) {
      for (
        const c of [
          db,
          ...cluster.metas.map((m) => m.child),
          ...cluster.stores.map((s) => s.child),
        ]
      ) {
        if (c) console.error(`==== ${c.name}\n${c.output(2000)}`);
      }
      throw e;
    } finally {
      await db?.stop("SIGTERM");
      await cluster.close();
    }
  },
});
