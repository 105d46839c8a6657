/**
 * E-STORE membership and topology, real processes: leader transfer; adding a
 * 4th peer (created lazily, caught up by snapshot) and removing one while
 * writing; splitting a region and using both halves; 1,000 regions over the
 * worker pool.
 */
import assert from "node:assert/strict";
import { ConfChangeType } from "@eraft/proto/gen/eraftpb.ts";
import { CROSS_PROCESS, withCluster } from "./support/cluster.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test({
  name: "transfer leader moves leadership and the new leader serves",
  ...CROSS_PROCESS,
  fn: () =>
    withCluster({ stores: 3 }, async (cluster) => {
      const client = cluster.client;
      await client.put(enc("t"), enc("1"));
      const leader = (await cluster.leaderOf(1))!;
      const target = cluster.stores.find((s) => s.id !== leader)!.id;
      await cluster.waitUntil("leadership to move", async () => {
        await client.transferLeader(1, target);
        return (await cluster.leaderOf(1)) === target;
      });
      await client.put(enc("t"), enc("2"));
      assert.equal(dec((await client.get(enc("t"))).value), "2");
    }),
});

Deno.test({
  name: "add a 4th peer and remove one while writing; no acknowledged write is lost",
  ...CROSS_PROCESS,
  fn: () =>
    withCluster({ stores: 3 }, async (cluster) => {
      const client = cluster.client;
      let writing = true;
      const acked: string[] = [];
      const writer = (async () => {
        for (let i = 0; writing && i < 2000; i++) {
          await client.put(enc(`m${i}`), enc(`v${i}`), i + 1);
          acked.push(`m${i}`);
        }
      })();
      try {
        await cluster.waitUntil("some writes", () => Promise.resolve(acked.length >= 20));
        const s4 = await cluster.addStore();
        const added = await client.changePeer(1, ConfChangeType.AddNode, {
          id: 4,
          store_id: s4.id,
          addr: s4.addr,
          role: 0,
        });
        assert.equal(added.peers.length, 4);
        await cluster.waitUntil("store 4 to host region 1", async () => {
          const st = await cluster.status(s4.id);
          return st?.regions.some((r) => r.region.id === 1) ?? false;
        });
        const leader = (await cluster.leaderOf(1))!;
        const victim = [1, 2, 3].find((id) => id !== leader)!;
        const removed = await client.changePeer(1, ConfChangeType.RemoveNode, {
          id: victim,
          store_id: victim,
          addr: cluster.store(victim).addr,
          role: 0,
        });
        assert.deepEqual(
          removed.peers.map((p) => p.store_id).sort(),
          [1, 2, 3, 4].filter((id) => id !== victim),
        );
        const before = acked.length;
        await cluster.waitUntil("writes after the changes", () =>
          Promise.resolve(acked.length >= before + 20));
      } finally {
        writing = false;
        await writer;
      }
      // Store 4 can lead: it caught up.
      await cluster.waitUntil("store 4 to lead", async () => {
        await client.transferLeader(1, 4);
        return (await cluster.leaderOf(1)) === 4;
      });
      for (const key of acked) {
        assert.equal(dec((await client.get(enc(key))).value), `v${key.slice(1)}`);
      }
    }),
});

Deno.test({
  name: "split a region, then read and write both halves",
  ...CROSS_PROCESS,
  fn: () =>
    withCluster({ stores: 3 }, async (cluster) => {
      const client = cluster.client;
      for (const k of ["a", "f", "m", "t", "z"]) await client.put(enc(k), enc(`v${k}`));
      const regions = await client.split(1, enc("m"), 2, [12, 13, 14]);
      assert.equal(regions.length, 2);
      await client.refresh();
      assert.equal(client.locate(enc("a"))?.id, 1);
      assert.equal(client.locate(enc("z"))?.id, 2);
      for (const k of ["a", "f", "m", "t", "z"]) {
        assert.equal(dec((await client.get(enc(k))).value), `v${k}`);
      }
      await client.put(enc("b"), enc("left"));
      await client.put(enc("y"), enc("right"));
      assert.equal(dec((await client.get(enc("b"))).value), "left");
      assert.equal(dec((await client.get(enc("y"))).value), "right");
      const left = await client.scan(enc("a"), 100);
      assert.deepEqual(left.map((kv) => dec(kv.key)), ["a", "b", "f"], "scan stops at the split");
    }),
});
