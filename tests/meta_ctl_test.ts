/**
 * `eraft ctl` against a real cluster (1 meta, 4 stores): every subcommand as
 * a child process, human tables and `--json`, and its errors.
 * @module
 */
import assert from "node:assert/strict";
import { spawnDeno } from "@eraft/shared/testing";
import { CROSS_PROCESS } from "./support/cluster.ts";
import { type MetaCluster, waitFor, withMetaCluster } from "./support/meta_cluster.ts";

const CTL_MAIN = new URL("./support/eraft_ctl.ts", import.meta.url).pathname;

interface CtlRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function ctl(c: MetaCluster, ...args: string[]): Promise<CtlRun> {
  const child = spawnDeno("ctl", CTL_MAIN, ["--meta", c.metas[0].addr, ...args]);
  const status = await child.status;
  await child.stop();
  return { code: status.code, stdout: child.stdout, stderr: child.stderr };
}

/** Runs a ctl command until it exits 0 (the scheduler may hold a conf change). */
async function ctlOk(c: MetaCluster, ...args: string[]): Promise<string> {
  let last: CtlRun | null = null;
  for (let i = 0; i < 10; i++) {
    last = await ctl(c, ...args);
    if (last.code === 0) return last.stdout;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`ctl ${args.join(" ")} kept failing: ${last!.stderr}`);
}

async function json<T>(c: MetaCluster, ...args: string[]): Promise<T> {
  return JSON.parse(await ctlOk(c, ...args, "--json"));
}

interface RegionRow {
  id: number;
  leader_store: number;
  stores: string;
  epoch: string;
}

Deno.test({
  name: "meta: eraft ctl subcommands against a real cluster, tables and --json",
  ...CROSS_PROCESS,
  fn: () =>
    withMetaCluster({ metas: 1, stores: 4 }, async (c) => {
      await waitFor("3 replicas", async () => {
        const rs = await c.regions();
        return rs.length === 1 && rs[0].region!.peers.length === 3 && rs[0].leader;
      });

      // members
      const members = await ctlOk(c, "members");
      assert.match(members.split("\n")[0], /^id\s+name\s+url\s+leader$/);
      assert.match(members, new RegExp(`${c.metas[0].addr}\\s+\\*`));
      const mj = await json<Array<{ leader: string }>>(c, "members");
      assert.equal(mj.length, 1);
      assert.equal(mj[0].leader, "*");

      // stores
      const stores = await ctlOk(c, "stores");
      assert.match(stores.split("\n")[0], /^id\s+address\s+state\s+version$/);
      assert.equal(stores.trim().split("\n").length, 5);
      const sj = await json<Array<{ id: number; state: string }>>(c, "stores");
      assert.equal(sj.length, 4);
      assert.ok(sj.every((s) => s.state === "Up"));

      // split KEY, then regions and region KEY
      const split = await json<{ left: number; right: number }>(c, "split", "m");
      assert.ok(split.left > 0 && split.right > 0 && split.left !== split.right);
      // Splitting again at a region's first key: the store's region error, word for word
      // (before the new half has a leader the error is NotLeader, also passed through).
      const m = new TextEncoder().encode("m");
      await waitFor("right half led", async () => (await c.client.getRegion(m)).leader);
      let again = await ctl(c, "split", "m");
      for (let i = 0; i < 10 && /not leader/.test(again.stderr); i++) {
        await new Promise((r) => setTimeout(r, 300));
        again = await ctl(c, "split", "m");
      }
      assert.equal(again.code, 1);
      assert.match(again.stderr, /region error: key m is not in region \d+/);
      const regions = await ctlOk(c, "regions");
      assert.match(regions.split("\n")[0], /^id\s+start\s+end\s+epoch\s+leader_store\s+stores$/);
      assert.equal(regions.trim().split("\n").length, 3);
      const rj = await json<RegionRow[]>(c, "regions");
      assert.equal(rj.length, 2);
      const human = await ctlOk(c, "region", "z");
      assert.match(human, /^id:\s+\d+$/m);
      assert.match(human, /^start:\s+m$/m);
      const zr = await json<{ id: number; start: string; peers: string }>(c, "region", "z");
      assert.equal(zr.start, "m");
      assert.equal((await json<{ id: number }>(c, "region", "a")).id === zr.id, false);

      // transfer-leader REGION STORE: to a store leading nothing (so leader balancing
      // has no reason to move it back); retried, as the scheduler may be moving peers.
      const z = new TextEncoder().encode("z");
      let r = await c.client.getRegion(z);
      let target = 0;
      for (let attempt = 0; attempt < 5 && r.leader?.store_id !== target; attempt++) {
        r = await waitFor("region z led by a voter", async () => {
          const one = await c.client.getRegion(z);
          return one.leader && one.region!.peers.length === 3 ? one : null;
        });
        const leading = new Set((await c.regions()).map((x) => x.leader?.store_id));
        target = r.region!.peers.find((p) => !leading.has(p.store_id))?.store_id ??
          r.region!.peers.find((p) => p.store_id !== r.leader!.store_id)!.store_id;
        assert.deepEqual(
          await json(c, "transfer-leader", String(r.region!.id), String(target)),
          { ok: true },
        );
        try {
          r = await waitFor("leader moved", async () => {
            const one = await c.client.getRegion(z);
            return one.leader?.store_id === target ? one : null;
          }, 10_000);
        } catch {
          // Moved back or not yet: try again.
        }
      }
      assert.equal(r.leader?.store_id, target, "transfer-leader moved the leader");

      // add-peer / remove-peer (the scheduler then restores 3 replicas)
      const spare = sj.map((s) => s.id).find((id) =>
        !r.region!.peers.some((p) => p.store_id === id)
      )!;
      const conf0 = r.region!.region_epoch!.conf_ver;
      assert.deepEqual(await json(c, "add-peer", String(r.region!.id), String(spare)), {
        ok: true,
      });
      await waitFor("conf_ver moved past the add", async () => {
        const one = await c.client.getRegionById(r.region!.id);
        return one.region!.region_epoch!.conf_ver > conf0;
      }, 30_000);
      const now = await c.client.getRegionById(r.region!.id);
      const follower = now.region!.peers.find((p) => p.id !== now.leader?.id)!.store_id;
      const conf1 = now.region!.region_epoch!.conf_ver;
      assert.match(await ctlOk(c, "remove-peer", String(r.region!.id), String(follower)), /ok/);
      await waitFor("conf_ver moved past the removal", async () => {
        const one = await c.client.getRegionById(r.region!.id);
        return one.region!.region_epoch!.conf_ver > conf1;
      }, 30_000);

      // decommission STORE: Offline, drained, then Tombstone.
      const hosted = (await c.regionCounts()).entries();
      const victim = [...hosted].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0];
      const dec = await ctlOk(c, "decommission", String(victim));
      assert.match(dec, /^state:\s+Offline$/m);
      const t0 = Date.now();
      await waitFor("store drained and Tombstone", async () => {
        const now = await json<Array<{ id: number; state: string }>>(c, "stores");
        return now.find((s) => s.id === victim)?.state === "Tombstone";
      }, 90_000);
      console.log(
        `decommission of store ${victim} (hosting peers): Tombstone after ${Date.now() - t0} ms`,
      );
      const after = await json<RegionRow[]>(c, "regions");
      assert.ok(after.every((x) => !x.stores.split(",").includes(String(victim))));

      // --redis-key (last: a third region would give leader balancing more to move above):
      // split where a Redis key's records start (M(K)) and look it up there;
      // the raw form the tables print names the same key.
      const sk = await json<{ left: number; right: number }>(c, "split", "--redis-key", "S1");
      const at_s1 = await json<{ id: number; start: string }>(c, "region", "--redis-key", "S1");
      assert.equal(at_s1.start, "k\\x00\\x00\\x00\\x02S1");
      assert.equal(at_s1.id, sk.right);
      assert.equal((await json<{ id: number }>(c, "region", at_s1.start)).id, sk.right);
      assert.equal((await json<{ id: number }>(c, "region", "--redis-key", "S0")).id, sk.left);

      // Errors: usage errors exit 2, failures exit 1 with a message.
      assert.equal((await ctl(c, "bogus")).code, 2);
      assert.equal((await ctl(c, "region")).code, 2);
      const bad_key = await ctl(c, "split", "\\xZZ");
      assert.equal(bad_key.code, 2);
      assert.match(bad_key.stderr, /bad escape at 0/);
      assert.equal((await ctl(c, "transfer-leader", "x", "1")).code, 2);
      const missing = await ctl(c, "transfer-leader", "987654", "1");
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /eraft ctl: .*987654/);
    }),
});
