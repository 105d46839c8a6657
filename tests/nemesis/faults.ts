/**
 * The nemesis: a fault schedule drawn from a seed, applied one fault at a
 * time to a {@link NemesisCluster} while the workload runs. Each fault is
 * injected, held for a drawn time, and undone (processes restarted, links
 * healed) before the next, so a run always ends in a healable state.
 * @module
 */
import type { Prng } from "@eraft/raft";
import type { NemesisCluster, Proc } from "./cluster.ts";

/** Every fault the nemesis knows. */
export const FAULTS = [
  "kill_store",
  "kill_leader_store",
  "kill_meta",
  "kill_db",
  "pause_leader_store",
  "partition_store",
  "partition_leader_store",
  "one_way_drop",
  "transfer_leader",
  "split",
  "move_peer",
] as const;
export type Fault = typeof FAULTS[number];

/** Named fault mixes for CI scenarios and long runs. */
export const MIXES: Record<string, readonly Fault[]> = {
  all: FAULTS,
  crash: ["kill_store", "kill_leader_store", "kill_meta", "kill_db"],
  network: ["partition_store", "partition_leader_store", "one_way_drop", "pause_leader_store"],
  admin: ["transfer_leader", "split", "move_peer", "pause_leader_store"],
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A log line per fault, with the run-relative time. */
export type FaultLog = (line: string) => void;

/** Runs faults from `mix` until `until_ms` (Date.now() based). */
export async function runNemesis(
  cluster: NemesisCluster,
  rng: Prng,
  mix: readonly Fault[],
  until_ms: number,
  log: FaultLog,
): Promise<Record<string, number>> {
  const done: Record<string, number> = {};
  while (Date.now() < until_ms) {
    await sleep(500 + rng.intBelow(1500));
    if (Date.now() >= until_ms) break;
    const fault = mix[rng.intBelow(mix.length)];
    const hold_ms = 800 + rng.intBelow(2500);
    try {
      await applyFault(cluster, rng, fault, hold_ms, log);
      done[fault] = (done[fault] ?? 0) + 1;
    } catch (err) {
      log(`${fault}: could not apply: ${String(err).slice(0, 300)}`);
    } finally {
      // Whatever happened, leave no fault behind.
      await cluster.healAll();
      await restartDead(cluster, log);
    }
  }
  return done;
}

/** Restarts every process that is not running; a process nobody killed is reported. */
export async function restartDead(cluster: NemesisCluster, log: FaultLog): Promise<void> {
  const dead = (p: Proc) => !p.child || p.child.exited;
  const report = async (p: Proc) => {
    const st = p.child ? JSON.stringify(await p.child.status) : "never started";
    log(`restart ${p.name}: it exited on its own (${st}):\n${p.child?.output(3000) ?? ""}`);
    cluster.crashes.push(p.name);
  };
  if (dead(cluster.meta)) {
    await report(cluster.meta);
    await cluster.startMeta();
  }
  for (let i = 0; i < cluster.stores.length; i++) {
    if (!dead(cluster.stores[i])) continue;
    await report(cluster.stores[i]);
    await cluster.startStore(i);
  }
  for (let i = 0; i < cluster.dbs.length; i++) {
    if (!dead(cluster.dbs[i])) continue;
    await report(cluster.dbs[i]);
    await cluster.startDb(i);
  }
}

/** A region (with a leader) picked at random, from meta's view. */
async function someRegion(cluster: NemesisCluster, rng: Prng) {
  const rs = (await cluster.regions()).filter((r) => r.leader);
  if (rs.length === 0) throw new Error("no region with a known leader");
  return rs[rng.intBelow(rs.length)];
}

async function leaderStoreIndex(cluster: NemesisCluster, rng: Prng): Promise<number> {
  const r = await someRegion(cluster, rng);
  const i = cluster.storeIndex(r.leader!.store_id);
  if (i < 0) throw new Error(`no process for store ${r.leader!.store_id}`);
  return i;
}

async function isolate(cluster: NemesisCluster, i: number): Promise<void> {
  const ids = cluster.stores.map((_, j) => cluster.storeId(j));
  const me = ids[i];
  await cluster.setDrops(i, ids.filter((id) => id !== me));
  for (let j = 0; j < ids.length; j++) if (j !== i) await cluster.setDrops(j, [me]);
}

/** Injects one fault, holds it `hold_ms`, undoes it. */
export async function applyFault(
  cluster: NemesisCluster,
  rng: Prng,
  fault: Fault,
  hold_ms: number,
  log: FaultLog,
): Promise<void> {
  const n = cluster.stores.length;
  switch (fault) {
    case "kill_store":
    case "kill_leader_store": {
      const i = fault === "kill_store" ? rng.intBelow(n) : await leaderStoreIndex(cluster, rng);
      log(`${fault}: kill -9 store${i + 1} for ${hold_ms} ms`);
      await cluster.kill(cluster.stores[i]);
      await sleep(hold_ms);
      await cluster.startStore(i);
      return;
    }
    case "kill_meta":
      log(`kill_meta: kill -9 meta for ${hold_ms} ms`);
      await cluster.kill(cluster.meta);
      await sleep(hold_ms);
      await cluster.startMeta();
      return;
    case "kill_db": {
      const i = rng.intBelow(cluster.dbs.length);
      log(`kill_db: kill -9 db${i + 1} for ${hold_ms} ms`);
      await cluster.kill(cluster.dbs[i]);
      await sleep(hold_ms);
      await cluster.startDb(i);
      return;
    }
    case "pause_leader_store": {
      const i = await leaderStoreIndex(cluster, rng);
      log(`pause_leader_store: SIGSTOP store${i + 1} for ${hold_ms} ms`);
      cluster.pause(cluster.stores[i]);
      await sleep(hold_ms);
      cluster.resume(cluster.stores[i]);
      return;
    }
    case "partition_store":
    case "partition_leader_store": {
      const i = fault === "partition_store"
        ? rng.intBelow(n)
        : await leaderStoreIndex(cluster, rng);
      log(`${fault}: isolate store${i + 1} for ${hold_ms} ms`);
      await isolate(cluster, i);
      await sleep(hold_ms);
      return; // the caller heals
    }
    case "one_way_drop": {
      const i = await leaderStoreIndex(cluster, rng);
      const others = cluster.stores.map((_, j) => j).filter((j) => j !== i);
      const ids = others.map((j) => cluster.storeId(j));
      log(`one_way_drop: store${i + 1} (a leader) cannot send to ${ids} for ${hold_ms} ms`);
      await cluster.setDropsTo(i, ids);
      await sleep(hold_ms);
      return;
    }
    case "transfer_leader": {
      const r = await someRegion(cluster, rng);
      const followers = r.region!.peers.filter((p) => p.store_id !== r.leader!.store_id);
      if (followers.length === 0) throw new Error(`region ${r.region!.id} has no follower`);
      const to = followers[rng.intBelow(followers.length)].store_id;
      log(`transfer_leader: region ${r.region!.id} to store ${to}`);
      await cluster.admin.transferLeader(r.region!.id, to);
      return;
    }
    case "split": {
      // At the raw (encoded) key of one of the workload's keys: 'k' | u32 BE len | key.
      const user = `nem:${"rl"[rng.intBelow(2)]}${rng.intBelow(6)}`;
      const key = `k\0\0\0${String.fromCharCode(user.length)}${user}`;
      log(`split: at the raw key of ${JSON.stringify(user)}`);
      await cluster.admin.split(new Uint8Array([...key].map((ch) => ch.charCodeAt(0))));
      return;
    }
    case "move_peer": {
      const r = await someRegion(cluster, rng);
      const followers = r.region!.peers.filter((p) => p.store_id !== r.leader!.store_id);
      if (followers.length === 0) throw new Error(`region ${r.region!.id} has no follower`);
      const store = followers[rng.intBelow(followers.length)].store_id;
      const id = String(r.region!.id);
      log(`move_peer: region ${id} remove the peer on store ${store}, then add one back`);
      await cluster.admin.removePeer(r.region!.id, store);
      await sleep(hold_ms);
      // Meta's replica checker may already have added it back; that is fine.
      await cluster.admin.addPeer(r.region!.id, store).catch((err) =>
        log(`move_peer: add-peer: ${String(err).slice(0, 200)}`)
      );
      return;
    }
  }
}
