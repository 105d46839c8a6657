/**
 * 1,000 regions on real processes: one store split into 1,000 regions, each
 * serving reads and writes; then a second store gets a peer of every region,
 * created lazily from Raft messages and spread over its worker pool.
 */
import assert from "node:assert/strict";
import { ConfChangeType } from "@eraft/proto/gen/eraftpb.ts";
import { CROSS_PROCESS, withCluster } from "./support/cluster.ts";
import type { StoreClient } from "./support/store_client.ts";

const REGIONS = 1000;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const boundary = (i: number) => `r${String(i).padStart(4, "0")}`;

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(lanes);
}

/** Splits the region covering boundaries [lo, hi) in halves until one boundary each. */
async function splitRange(
  client: StoreClient,
  ids: { next: number },
  region_id: number,
  lo: number,
  hi: number,
): Promise<void> {
  if (hi - lo <= 1) return;
  const mid = (lo + hi) >> 1;
  const right = ids.next++;
  await client.split(region_id, enc(boundary(mid)), right, [right + 10_000]);
  await Promise.all([
    splitRange(client, ids, region_id, lo, mid),
    splitRange(client, ids, right, mid, hi),
  ]);
}

Deno.test({
  name: "1,000 regions serve reads and writes and spread over a worker pool",
  ...CROSS_PROCESS,
  fn: () =>
    withCluster({ stores: 1, workers: 2 }, async (cluster) => {
      const client = cluster.client;
      await client.put(enc("r0000-seed"), enc("x"));
      await splitRange(client, { next: 2 }, 1, 0, REGIONS);
      await client.refresh();
      const indices = Array.from({ length: REGIONS }, (_, i) => i);
      await pool(indices, 32, (i) => client.put(enc(`${boundary(i)}-k`), enc(`v${i}`)));
      const ids = new Set<number>();
      await pool(indices, 32, async (i) => {
        const key = enc(`${boundary(i)}-k`);
        assert.equal(dec((await client.get(key)).value), `v${i}`);
        ids.add(client.locate(key)!.id);
      });
      assert.equal(ids.size, REGIONS, "every key in its own region");

      const s2 = await cluster.addStore();
      await pool([...ids], 16, async (region_id) => {
        await client.changePeer(region_id, ConfChangeType.AddNode, {
          id: 20_000 + region_id,
          store_id: s2.id,
          addr: s2.addr,
          role: 0,
        });
      });
      await cluster.waitUntil("store 2 to host every region", async () => {
        const st = await cluster.status(s2.id, 3000);
        return st?.regions.length === REGIONS;
      }, 60_000);
      const st = (await cluster.status(s2.id, 3000))!;
      for (const w of st.workers) {
        assert.ok(
          w.regions >= REGIONS / st.workers.length / 2,
          `worker ${w.worker_id}: ${w.regions}`,
        );
      }
    }),
});
