/**
 * E-META with real processes: the bootstrap race, automatic splits at user-key
 * boundaries with every key readable through GetRegion routing, scale-out to
 * a 4th store, and replicas rebuilt after a store stays down past the
 * timeout. Prints the numbers for the closing note (never asserts times).
 * @module
 */
import assert from "node:assert/strict";
import { compareBytes } from "@eraft/shared/bytes";
import { userKeyBoundary } from "@eraft/shared/keyspace";
import { CROSS_PROCESS } from "./support/cluster.ts";
import { type MetaCluster, waitFor, withMetaCluster } from "./support/meta_cluster.ts";

const te = new TextEncoder();

/** M(K) as E-DB encodes it: 'k' | u32 BE len | K. */
function metaKey(k: string): Uint8Array {
  const kb = te.encode(k);
  const out = new Uint8Array(5 + kb.length);
  out[0] = 0x6b;
  new DataView(out.buffer).setUint32(1, kb.length);
  out.set(kb, 5);
  return out;
}

/** One data record of K: M(K) | 'd' | u64 version 1 | sub. */
function dataKey(k: string, sub: string): Uint8Array {
  const m = metaKey(k);
  const s = te.encode(sub);
  const out = new Uint8Array(m.length + 9 + s.length);
  out.set(m);
  out[m.length] = 0x64;
  out[m.length + 8] = 1;
  out.set(s, m.length + 9);
  return out;
}

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

async function allReplicated(c: MetaCluster, replicas: number, n_stores: number) {
  const regions = await c.regions();
  const ok = regions.every((r) => r.region!.peers.length === replicas && r.leader) &&
    (await c.regionCounts()).size >= Math.min(n_stores, replicas);
  return ok ? regions : null;
}

Deno.test({
  name: "meta: bootstrap race, splits, scale-out and replica repair with real processes",
  ...CROSS_PROCESS,
  fn: () =>
    withMetaCluster(
      { metas: 1, stores: 3, split_keys: 150, store_down_timeout: "4s" },
      async (c) => {
        // Bootstrap race: exactly one store won.
        const winners = c.stores.filter((s) =>
          /bootstrapped the cluster/.test(s.child!.output(1e6))
        );
        assert.equal(winners.length, 1, "exactly one store bootstraps");
        const first = await c.regions();
        assert.equal(first.length, 1, "one first region");
        await waitFor("3 replicas", () => allReplicated(c, 3, 3));

        // Write user keys (metadata + 3 data records each) until several splits.
        const users: string[] = [];
        const t_write = Date.now();
        for (let i = 0; (await c.regions()).length < 4; i++) {
          assert.ok(Date.now() - t_write < 90_000, "splits did not happen in 90 s");
          const k = `user:${String(i).padStart(5, "0")}`;
          users.push(k);
          await c.put(metaKey(k), te.encode(`m${i}`));
          for (const f of ["a", "b", "c"]) await c.put(dataKey(k, f), te.encode(`${k}/${f}`));
        }
        const regions = await c.regions();
        console.log(`splits: ${regions.length} regions after ${users.length} user keys`);
        // Every record readable through GetRegion routing; a user key's records in one
        // region: no region boundary falls between them. (Checked against boundaries,
        // which are only ever added: region lookups one by one race with splits still
        // finishing, and a key looked up before and after one moves region legitimately.)
        const boundaries = regions.map((r) => r.region!.start_key).filter((s) => s.length > 0);
        for (const k of users) {
          assert.equal(
            new TextDecoder().decode((await c.get(metaKey(k)))!),
            `m${users.indexOf(k)}`,
          );
          const records = [metaKey(k)];
          for (const f of ["a", "b", "c"]) {
            records.push(dataKey(k, f));
            assert.equal(new TextDecoder().decode((await c.get(dataKey(k, f)))!), `${k}/${f}`);
          }
          records.sort(compareBytes);
          const [lo, hi] = [records[0], records[records.length - 1]];
          for (const b of boundaries) {
            const splits = compareBytes(lo, b) < 0 && compareBytes(b, hi) <= 0;
            assert.ok(!splits, `${k}: region boundary ${hex(b)} splits its records`);
          }
        }
        for (const r of regions.slice(1)) {
          const start = r.region!.start_key;
          assert.equal(hex(userKeyBoundary(start)), hex(start), "splits at user-key boundaries");
        }
        const split_times = c.stores.flatMap((s) =>
          [...s.child!.output(1e7).matchAll(/split region \d+ at .* in (\d+) ms/g)].map((m) =>
            Number(m[1])
          )
        );
        console.log(`split durations (ms, AskSplit..ReportSplit): ${split_times.join(", ")}`);

        // Scale-out: a 4th store receives regions until balanced.
        await waitFor("replicated after splits", () => allReplicated(c, 3, 3));
        const n_regions = (await c.regions()).length;
        const t_add = Date.now();
        await c.startStore();
        const id4 = c.storeId(3);
        await waitFor("store 4 balanced", async () => {
          const counts = await c.regionCounts();
          const vals = [...counts.values()];
          return (counts.get(id4) ?? 0) >= Math.floor((n_regions * 3) / 4) - 1 &&
            Math.max(...vals) - Math.min(...vals) <= 2 && await allReplicated(c, 3, 4);
        }, 120_000);
        console.log(
          `rebalance after adding a store: ${Date.now() - t_add} ms for ${n_regions} regions ` +
            `(counts ${JSON.stringify([...(await c.regionCounts())])})`,
        );

        // A store down past the timeout: its replicas are rebuilt elsewhere.
        const victim = c.storeId(0);
        const t_kill = Date.now();
        await c.stores[0].child!.stop();
        let shown = 0;
        await waitFor("replicas rebuilt", async () => {
          if (Deno.env.get("ERAFT_TEST_LOGS") && Date.now() - shown > 5000) {
            shown = Date.now();
            for (const r of await c.regions()) {
              console.log(
                `${Date.now() - t_kill} ms: region ${r.region!.id} v${
                  r.region!.region_epoch!.conf_ver
                } peers ${
                  r.region!.peers.map((p) => `${p.id}@${p.store_id}`).join(",")
                } leader ${r.leader?.id}`,
              );
            }
          }
          const counts = await c.regionCounts();
          return !counts.has(victim) && await allReplicated(c, 3, 3);
        }, 120_000);
        console.log(`replicas rebuilt ${Date.now() - t_kill} ms after kill (timeout 4 s)`);
        for (const k of users.slice(0, 20)) assert.ok(await c.get(metaKey(k)));
      },
    ),
});
