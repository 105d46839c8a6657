/**
 * E-STORE under faults, real processes: a partitioned leader stops serving
 * (no stale reads) while the majority continues; a crashed worker is
 * restarted with no loss; malformed requests never crash a store.
 */
import assert from "node:assert/strict";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import { CROSS_PROCESS, withCluster } from "./support/cluster.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test({
  name: "a partitioned leader serves no stale reads; the majority side continues",
  ...CROSS_PROCESS,
  fn: () =>
    withCluster({ stores: 3 }, async (cluster) => {
      const client = cluster.client;
      await client.put(enc("x"), enc("old"));
      // Workers exchange Raft messages directly (skipping the stores' main
      // threads); the rules below must cut that path too.
      const direct = async () => {
        let n = 0;
        for (const s of cluster.stores) {
          for (const w of (await cluster.status(s.id))?.workers ?? []) n += w.direct_raft_messages;
        }
        return n;
      };
      await cluster.waitUntil("Raft messages between workers", async () => {
        await client.put(enc("warm"), enc("up"));
        return (await direct()) > 0;
      });
      const old_leader = (await cluster.leaderOf(1))!;
      await cluster.isolate(old_leader);
      // The majority elects a leader and takes a new write.
      await client.put(enc("x"), enc("new"));
      assert.equal(dec((await client.get(enc("x"))).value), "new");
      // Led from the majority side: had any message crossed the cut, the old leader would lead.
      await cluster.waitUntil("a leader on the majority side", async () => {
        for (const s of cluster.stores.filter((p) => p.id !== old_leader)) {
          const r = (await cluster.status(s.id))?.regions.find((x) => x.region.id === 1);
          if (r && r.leader_peer_id === r.peer_id) return true;
        }
        return false;
      });
      // The old leader must not answer with the old value, whatever it answers.
      const region = client.region(1)!;
      for (let i = 0; i < 5; i++) {
        let res: kvrpcpb.RawGetResponse | null = null;
        try {
          res = await client.direct<kvrpcpb.RawGetResponse>(old_leader, "RawGet", {
            context: client.context(region, old_leader),
            key: enc("x"),
          });
        } catch {
          continue; // a timeout is a fine answer from a partitioned store
        }
        if (res.region_error === null || res.region_error === undefined) {
          assert.notEqual(dec(res.value), "old", "stale read from the partitioned leader");
        }
      }
      await cluster.heal();
      await client.put(enc("y"), enc("after heal"));
      assert.equal(dec((await client.get(enc("y"))).value), "after heal");
    }),
});

Deno.test({
  name: "a worker killed by an uncaught error is restarted with no loss",
  ...CROSS_PROCESS,
  fn: () =>
    withCluster({ stores: 3, workers: 2 }, async (cluster) => {
      const client = cluster.client;
      for (let i = 0; i < 20; i++) await client.put(enc(`a${i}`), enc(`v${i}`), i + 1);
      const leader = (await cluster.leaderOf(1))!;
      const status = (await cluster.status(leader))!;
      const worker_id = status.regions.find((r) => r.region.id === 1)!.worker_id;
      assert.ok(await cluster.crashWorker(leader, worker_id));
      for (let i = 20; i < 40; i++) await client.put(enc(`a${i}`), enc(`v${i}`), i + 1);
      await cluster.waitUntil("the worker to restart", async () => {
        const st = await cluster.status(leader);
        const w = st?.workers[worker_id];
        return w !== undefined && w.ready && w.restarts >= 1;
      });
      for (let i = 0; i < 40; i++) {
        assert.equal(dec((await client.get(enc(`a${i}`))).value), `v${i}`);
      }
      assert.ok(cluster.store(leader).running, "the store process survived");
    }),
});

Deno.test({
  name: "malformed requests get region errors or clear errors, never a crash",
  ...CROSS_PROCESS,
  fn: () =>
    withCluster({ stores: 3 }, async (cluster) => {
      const client = cluster.client;
      await client.put(enc("k"), enc("v"));
      const leader = (await cluster.leaderOf(1))!;
      const region = client.region(1)!;
      const ctx = client.context(region, leader);
      const call = (method: string, req: object) =>
        client.direct<{ error: string; region_error?: Record<string, unknown> | null }>(
          leader,
          method,
          req,
        );
      const unknown = await call("RawGet", { context: { ...ctx, region_id: 77 }, key: enc("k") });
      assert.ok(unknown.region_error?.region_not_found);
      const none = await call("RawGet", { key: enc("k") });
      assert.ok(none.region_error?.region_not_found);
      const epoch = await call("RawPut", {
        context: { ...ctx, region_epoch: { conf_ver: 1, version: 9 } },
        key: enc("k"),
        value: enc("v"),
      });
      assert.ok(epoch.region_error?.epoch_not_match);
      const big_key = await call("RawPut", {
        context: ctx,
        key: new Uint8Array(9000),
        value: enc("v"),
      });
      assert.match(big_key.error, /over the limit/);
      const big_value = await call("RawPut", {
        context: ctx,
        key: enc("k"),
        value: new Uint8Array(9 * 1024 * 1024),
      });
      assert.match(big_value.error, /over the limit/);
      const limit = await call("RawScan", { context: ctx, start_key: enc("k"), limit: 0 });
      assert.match(limit.error, /scan limit/);
      const cf = await call("RawGet", { context: ctx, key: enc("k"), cf: "nope" });
      assert.match(cf.error, /column family/);
      const follower = cluster.stores.find((s) => s.id !== leader)!.id;
      const not_leader = await client.direct<kvrpcpb.RawGetResponse>(follower, "RawGet", {
        context: client.context(region, follower),
        key: enc("k"),
      });
      assert.equal(not_leader.region_error?.not_leader?.leader?.store_id, leader);
      assert.ok(not_leader.region_error?.not_leader?.leader?.addr);
      assert.equal(dec((await client.get(enc("k"))).value), "v");
      for (const s of cluster.stores) assert.ok(s.running, `store ${s.id} alive`);
    }),
});
