/**
 * Splits under load, end to end: Redis clients write through a db while the
 * stores split the region several times (a small split threshold). Every
 * command succeeds (the db follows EpochNotMatch/KeyNotInRegion to the new
 * regions itself), and every acknowledged write reads back afterwards.
 * @module
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { type Child, spawnDeno } from "@eraft/shared/testing";
import { CROSS_PROCESS, freePort } from "./support/cluster.ts";
import { waitFor, withMetaCluster } from "./support/meta_cluster.ts";

const DB_MAIN = new URL("./support/eraft_db.ts", import.meta.url).pathname;

Deno.test({
  name: "db: regions split while clients write; no client sees an error or loses a write",
  ...CROSS_PROCESS,
  async fn() {
    await withMetaCluster({ metas: 1, stores: 3, split_keys: 120 }, async (c) => {
      await waitFor("3 replicas", async () => {
        const rs = await c.regions();
        return rs.length > 0 && rs.every((r) => r.region!.peers.length === 3 && r.leader);
      }, 60_000);
      const port = freePort();
      const db: Child = spawnDeno("db", DB_MAIN, [
        "--addr",
        `127.0.0.1:${port}`,
        "--meta",
        c.metas.map((m) => m.addr).join(","),
      ]);
      const r = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0 });
      try {
        await db.waitFor(/db listening on/, 60_000);
        await r.connect();
        const errors: string[] = [];
        const acked = new Map<string, string>();
        let stop = false;
        const writer = async (w: number) => {
          for (let i = 0; !stop && i < 5_000; i++) {
            const k = `split:${w}:${String(i).padStart(4, "0")}`;
            try {
              assert.equal(await r.hset(k, "f", `${w}/${i}`, "g", "x"), 2);
              acked.set(k, `${w}/${i}`);
            } catch (e) {
              errors.push(`${k}: ${e}`);
            }
          }
        };
        const writers = Array.from({ length: 6 }, (_, w) => writer(w));
        try {
          await waitFor(
            "4 regions and 200 writes",
            async () => acked.size >= 200 && (await c.regions()).length >= 4,
            120_000,
          );
        } finally {
          stop = true;
          await Promise.all(writers);
        }
        const regions = (await c.regions()).length;
        console.log(`${acked.size} HSETs acknowledged across ${regions} regions`);
        assert.deepEqual(errors, [], "splits are invisible to clients");
        for (const [k, v] of acked) assert.equal(await r.hget(k, "f"), v, `${k} reads back`);
      } finally {
        r.disconnect();
        await db.stop("SIGTERM");
      }
    });
  },
});
