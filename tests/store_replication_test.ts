/**
 * E-STORE replication across real processes: writes through the leader
 * survive a kill -9 of that leader mid-write; a stopped store catches up (by
 * snapshot once the others compacted their logs).
 */
import assert from "node:assert/strict";
import { CROSS_PROCESS, withCluster } from "./support/cluster.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test({
  name: "kill -9 of the leader mid-write: a new leader serves every acknowledged write",
  ...CROSS_PROCESS,
  fn: () =>
    withCluster({ stores: 3 }, async (cluster) => {
      const client = cluster.client;
      const acked: string[] = [];
      let killed = false;
      const writers = Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; i < 40; i++) {
          const key = `w${w}-${i}`;
          await client.put(enc(key), enc(`v-${key}`), w * 1000 + i + 1);
          acked.push(key);
          if (acked.length === 30 && !killed) {
            killed = true;
            const leader = await cluster.leaderOf(1);
            assert.ok(leader !== null, "a leader before the kill");
            await cluster.kill(leader);
          }
        }
      });
      await Promise.all(writers);
      assert.ok(killed);
      assert.equal(acked.length, 160);
      for (const key of acked) {
        const res = await client.get(enc(key));
        assert.equal(res.not_found, false, key);
        assert.equal(dec(res.value), `v-${key}`);
      }
    }),
});

Deno.test({
  name: "a stopped store catches up by snapshot after the others compacted their logs",
  ...CROSS_PROCESS,
  fn: () =>
    withCluster({ stores: 3, raft_log_gc_count_limit: 20 }, async (cluster) => {
      const client = cluster.client;
      await client.put(enc("first"), enc("1"));
      const leader = (await cluster.leaderOf(1))!;
      const lagging = cluster.stores.find((s) => s.id !== leader)!.id;
      await cluster.kill(lagging);
      for (let i = 0; i < 120; i++) await client.put(enc(`k${i}`), enc(`v${i}`));
      await cluster.restart(lagging);
      // Leadership moves to the restarted store only once it has caught up.
      await cluster.waitUntil("the restarted store to lead", async () => {
        try {
          await client.transferLeader(1, lagging);
        } catch {
          return false;
        }
        return (await cluster.leaderOf(1)) === lagging;
      });
      for (const s of cluster.stores) if (s.id !== lagging) await cluster.kill(s.id);
      await cluster.restart(leader);
      for (let i = 0; i < 120; i += 7) {
        const res = await client.get(enc(`k${i}`));
        assert.equal(dec(res.value), `v${i}`);
      }
    }),
});
