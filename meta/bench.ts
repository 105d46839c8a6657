/**
 * `deno task bench meta`: on a local cluster (1 meta, 3 stores, real
 * processes) measures meta RPC throughput (GetRegion and AllocID calls/s from
 * one client at 1 and 64 in flight), the time from a region passing the split
 * threshold to two serving regions, and the time to rebalance after adding a
 * 4th store to N regions. Writes bench-results/meta.json.
 * @module
 */
import type * as mpb from "@eraft/proto/gen/metaservicepb.ts";
import { ServiceClient } from "@eraft/shared/grpc";
import { MetaCluster, waitFor } from "../tests/support/meta_cluster.ts";

const PHASE_MS = 3000;
const SPLIT_KEYS = 400;
const te = new TextEncoder();

async function rate(
  inflight: number,
  fn: () => Promise<void>,
): Promise<{ calls_per_s: number; errors: number }> {
  let calls = 0;
  let errors = 0;
  const end = Date.now() + PHASE_MS;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inflight }, async () => {
    while (Date.now() < end) {
      try {
        await fn();
        calls++;
      } catch {
        errors++;
      }
    }
  }));
  return { calls_per_s: Math.round(calls / ((performance.now() - t0) / 1000)), errors };
}

async function main(): Promise<void> {
  const c = new MetaCluster({ metas: 1, stores: 3, split_keys: SPLIT_KEYS });
  const result: Record<string, unknown> = {};
  try {
    await c.start();
    await waitFor("3 replicas", async () => {
      const rs = await c.regions();
      return rs.length === 1 && rs[0].region!.peers.length === 3 && rs[0].leader;
    });
    const cluster_id = (await c.client.members()).header!.cluster_id;
    const header = { cluster_id };
    const direct = new ServiceClient("metaservicepb.Meta", c.metas[0].addr);
    try {
      let n = 0;
      for (const inflight of [1, 64]) {
        result[`GetRegion, ${inflight} in flight`] = await rate(inflight, async () => {
          const res = await direct.unary<mpb.GetRegionResponse>("GetRegion", {
            header,
            region_key: te.encode(`key${n++ % 1000}`),
          });
          if (!res.region) throw new Error("no region");
        });
        result[`AllocID, ${inflight} in flight`] = await rate(inflight, async () => {
          const res = await direct.unary<mpb.AllocIDResponse>("AllocID", { header });
          if (!res.id) throw new Error("no id");
        });
      }
    } finally {
      direct.close();
    }
    console.log(result);

    // Split: write past the key threshold; time from the crossing write to two serving regions.
    let i = 0;
    const put = async () => {
      const k = te.encode(`k${String(i++).padStart(6, "0")}`);
      await c.put(k, k);
    };
    while (i <= SPLIT_KEYS) await put();
    const t_cross = Date.now();
    await waitFor("two serving regions", async () => {
      const rs = await c.regions();
      return rs.length >= 2 && rs.every((r) => r.leader);
    }, 60_000);
    result["split: threshold passed -> two serving regions (ms)"] = Date.now() - t_cross;
    console.log(result);

    // Rebalance: grow to N regions, add a 4th store, time until counts are even.
    const deadline = Date.now() + 120_000;
    while ((await c.regions()).length < 8 && Date.now() < deadline) {
      for (let j = 0; j < 50; j++) await put();
    }
    await waitFor("3 replicas each", async () => {
      const rs = await c.regions();
      return rs.every((r) => r.region!.peers.length === 3 && r.leader);
    }, 60_000);
    const n_regions = (await c.regions()).length;
    const t_add = Date.now();
    await c.startStore();
    const id4 = c.storeId(3);
    await waitFor("balanced", async () => {
      const rs = await c.regions();
      const counts = await c.regionCounts();
      const vals = [...counts.values()];
      return counts.size === 4 && (counts.get(id4) ?? 0) >= Math.floor((n_regions * 3) / 4) - 1 &&
        Math.max(...vals) - Math.min(...vals) <= 2 &&
        rs.every((r) => r.region!.peers.length === 3 && r.leader);
    }, 180_000);
    result[`rebalance after adding a 4th store to ${n_regions} regions (ms)`] = Date.now() - t_add;
    result["region counts after rebalance"] = Object.fromEntries(await c.regionCounts());
  } finally {
    await c.close();
  }
  console.log(result);
  const dir = new URL("../bench-results/", import.meta.url).pathname;
  Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(
    `${dir}meta.json`,
    JSON.stringify({ date: new Date().toISOString(), ...result }, null, 2) + "\n",
  );
}

if (import.meta.main) await main();
