import assert from "node:assert/strict";
import { StoreState } from "@eraft/proto/gen/metapb.ts";
import { Scheduler, SCHEDULER_DEFAULTS, type SchedulerConfig, type Step } from "./scheduler.ts";
import { ClusterState, epochOf } from "./state.ts";
import { peer, prng, region, store } from "./testing.ts";

const DOWN_MS = 10_000;
const config: SchedulerConfig = { ...SCHEDULER_DEFAULTS, store_down_timeout_ms: DOWN_MS };

/** What a region leader does with a step, applied to the model at once. */
function apply(state: ClusterState, region_id: number, step: Step, now_ms: number): void {
  const e = state.regions.get(region_id)!;
  const r = structuredClone(e.region);
  const ep = epochOf(r);
  let leader = e.leader;
  let term = e.term;
  if (step.kind === "add_peer") {
    r.peers.push(step.peer);
    r.region_epoch = { ...ep, conf_ver: ep.conf_ver + 1 };
  } else if (step.kind === "remove_peer") {
    assert.notEqual(step.peer.id, e.leader?.id, "a leader never removes itself");
    r.peers = r.peers.filter((p) => p.id !== step.peer.id);
    r.region_epoch = { ...ep, conf_ver: ep.conf_ver + 1 };
  } else if (step.kind === "transfer_leader") {
    leader = step.peer;
    term++;
  }
  state.applyRegion({ region: r, leader, term }, now_ms);
}

/** Heartbeats every region each round, applying steps; returns rounds until quiet. */
let next_id = 1000;
const alloc = () => next_id++;

function run(state: ClusterState, sched: Scheduler, now_ms: number, max_rounds = 500): number {
  let quiet = 0;
  for (let round = 1; round <= max_rounds; round++) {
    let steps = 0;
    for (const id of [...state.regions.keys()]) {
      for (const s of state.stores.keys()) {
        if (!state.isStoreDown(s, now_ms, DOWN_MS)) {
          state.storeHeartbeat({ store_id: s } as never, now_ms);
        }
      }
      const step = sched.onRegionHeartbeat(state, id, now_ms, alloc);
      if (step !== null) {
        apply(state, id, step, now_ms);
        steps++;
      }
    }
    quiet = steps === 0 ? quiet + 1 : 0;
    if (quiet >= 2 && sched.operators.size === 0) return round;
  }
  throw new Error(`no convergence in ${max_rounds} rounds`);
}

function regionCounts(state: ClusterState, stores: number[]): number[] {
  const c = state.counts();
  return stores.map((s) => c.get(s)!.regions);
}

function leaderCounts(state: ClusterState, stores: number[]): number[] {
  const c = state.counts();
  return stores.map((s) => c.get(s)!.leaders);
}

function spread(xs: number[]): number {
  return Math.max(...xs) - Math.min(...xs);
}

Deno.test("replica checker: a lone region reaches 3 replicas once 3 stores are up", () => {
  const state = new ClusterState();
  state.putStore(store(1), 0);
  state.applyRegion({ region: region(1, "", "", [[1, 1]]), leader: peer(1, 1), term: 1 }, 0);
  const sched = new Scheduler(config);
  run(state, sched, 0);
  assert.equal(state.regions.get(1)!.region.peers.length, 1);
  state.putStore(store(2), 0);
  run(state, sched, 0);
  assert.equal(state.regions.get(1)!.region.peers.length, 2);
  state.putStore(store(3), 0);
  state.putStore(store(4), 0);
  run(state, sched, 0);
  assert.equal(state.regions.get(1)!.region.peers.length, 3);
});

Deno.test("replica checker: peers on a store down past the timeout are replaced", () => {
  const state = new ClusterState();
  for (const s of [1, 2, 3, 4]) state.putStore(store(s), 0);
  state.applyRegion({
    region: region(1, "", "", [[1, 1], [2, 2], [3, 3]]),
    leader: peer(3, 3),
    term: 1,
  }, 0);
  const sched = new Scheduler(config);
  // Store 3 stops heartbeating at t=0; everyone else goes on.
  state.stores.get(3)!.last_heartbeat_ms = 0;
  const later = DOWN_MS + 1;
  for (const s of [1, 2, 4]) state.storeHeartbeat({ store_id: s } as never, later);
  run(state, sched, later);
  const stores = state.regions.get(1)!.region.peers.map((p) => p.store_id).sort();
  assert.deepEqual(stores, [1, 2, 4]);
  assert.notEqual(state.regions.get(1)!.leader!.store_id, 3);
});

Deno.test("an operator toward a store that went down is dropped for the replica checker", () => {
  const state = new ClusterState();
  for (const s of [1, 2, 3, 4]) state.putStore(store(s), 0);
  state.applyRegion({
    region: region(1, "", "", [[1, 1], [2, 2], [3, 3]]),
    leader: peer(1, 1),
    term: 1,
  }, 0);
  const sched = new Scheduler(config);
  sched.addOperator({
    region_id: 1,
    source: "balance-leader",
    steps: [{ kind: "transfer_leader", peer: peer(3, 3) }],
    created_ms: 0,
  });
  // Store 3 dies before the transfer happened; the others go on heartbeating.
  state.stores.get(3)!.last_heartbeat_ms = 0;
  const later = DOWN_MS + 1;
  for (const s of [1, 2, 4]) state.storeHeartbeat({ store_id: s } as never, later);
  const step = sched.onRegionHeartbeat(state, 1, later, alloc);
  assert.ok(step !== null);
  assert.notEqual(step.kind === "transfer_leader" ? step.peer.store_id : 0, 3);
  assert.deepEqual(step.kind === "add_peer" ? step.peer.store_id : 0, 4);
  run(state, sched, later);
  const stores = state.regions.get(1)!.region.peers.map((p) => p.store_id).sort();
  assert.deepEqual(stores, [1, 2, 4]);
});

Deno.test("a leader being removed hands over to a voter on a healthy store", () => {
  const state = new ClusterState();
  for (const s of [1, 2, 3, 4]) state.putStore(store(s), 0);
  state.applyRegion({
    region: region(1, "", "", [[1, 1], [2, 2], [3, 3]]),
    leader: peer(3, 3),
    term: 1,
  }, 0);
  const sched = new Scheduler(config);
  sched.addOperator({
    region_id: 1,
    source: "admin",
    steps: [{ kind: "remove_peer", peer: peer(3, 3) }],
    created_ms: 0,
  });
  state.stores.get(1)!.last_heartbeat_ms = 0; // store 1 is down
  const later = DOWN_MS + 1;
  for (const s of [2, 3, 4]) state.storeHeartbeat({ store_id: s } as never, later);
  const step = sched.onRegionHeartbeat(state, 1, later, alloc);
  assert.equal(step?.kind, "transfer_leader");
  assert.equal(step.kind === "transfer_leader" && step.peer.store_id, 2);
});

Deno.test("replica checker: a down store with nowhere to move keeps its peer", () => {
  const state = new ClusterState();
  for (const s of [1, 2, 3]) state.putStore(store(s), 0);
  state.applyRegion({ region: region(1, "", "", [[1, 1], [2, 2], [3, 3]]), leader: peer(1, 1) }, 0);
  state.stores.get(3)!.last_heartbeat_ms = -DOWN_MS - 1;
  const sched = new Scheduler(config);
  assert.equal(sched.onRegionHeartbeat(state, 1, 0, () => 9), null);
});

function threeStoreCluster(regions: number): ClusterState {
  const state = new ClusterState();
  for (const s of [1, 2, 3]) state.putStore(store(s), 0);
  let pid = 100;
  for (let i = 0; i < regions; i++) {
    const start = i === 0 ? "" : `k${String(i).padStart(3, "0")}`;
    const end = i === regions - 1 ? "" : `k${String(i + 1).padStart(3, "0")}`;
    const r = region(i + 1, start, end, [[pid++, 1], [pid++, 2], [pid++, 3]]);
    state.applyRegion({ region: r, leader: r.peers[0], term: 1 }, 0);
  }
  return state;
}

Deno.test("balance: leaders spread over stores", () => {
  const state = threeStoreCluster(12);
  run(state, new Scheduler(config), 0);
  assert.ok(spread(leaderCounts(state, [1, 2, 3])) <= 1, `${leaderCounts(state, [1, 2, 3])}`);
});

Deno.test("scale-out: a new store receives regions until balanced", () => {
  const state = threeStoreCluster(12);
  const sched = new Scheduler(config);
  run(state, sched, 0);
  state.putStore(store(4), 0);
  run(state, sched, 0);
  const counts = regionCounts(state, [1, 2, 3, 4]);
  assert.ok(spread(counts) <= 1, `region counts ${counts}`);
  assert.equal(counts.reduce((a, b) => a + b), 36);
  for (const e of state.regions.values()) assert.equal(e.region.peers.length, 3);
  assert.ok(spread(leaderCounts(state, [1, 2, 3, 4])) <= 1);
});

Deno.test("decommission: an Offline store is drained, then ready for Tombstone", () => {
  const state = threeStoreCluster(6);
  state.putStore(store(4), 0);
  const sched = new Scheduler(config);
  run(state, sched, 0);
  assert.deepEqual(sched.drainedOfflineStores(state), []);
  state.putStore({ ...store(2), state: StoreState.Offline }, 0);
  run(state, sched, 0);
  assert.equal(regionCounts(state, [2])[0], 0);
  assert.deepEqual(sched.drainedOfflineStores(state), [2]);
  for (const e of state.regions.values()) assert.equal(e.region.peers.length, 3);
});

Deno.test("admin operators run step by step and finish", () => {
  const state = threeStoreCluster(1);
  const sched = new Scheduler(config);
  sched.addOperator({
    region_id: 1,
    source: "admin",
    steps: [{ kind: "transfer_leader", peer: state.regions.get(1)!.region.peers[2] }],
    created_ms: 0,
  });
  const step = sched.onRegionHeartbeat(state, 1, 0, () => null);
  assert.equal(step?.kind, "transfer_leader");
  apply(state, 1, step!, 0);
  assert.equal(state.regions.get(1)!.leader!.store_id, 3);
  assert.equal(sched.onRegionHeartbeat(state, 1, 0, () => null), null);
  assert.equal(sched.operators.size, 0);
});

Deno.test("operators past their timeout are dropped", () => {
  const state = threeStoreCluster(1);
  state.putStore(store(4), 0);
  const sched = new Scheduler({
    ...config,
    store_down_timeout_ms: 10 * config.operator_timeout_ms,
  });
  sched.addOperator({
    region_id: 1,
    source: "admin",
    steps: [{ kind: "add_peer", peer: peer(77, 4) }],
    created_ms: 0,
  });
  assert.equal(sched.onRegionHeartbeat(state, 1, 1, () => null)?.kind, "add_peer");
  assert.equal(sched.onRegionHeartbeat(state, 1, config.operator_timeout_ms + 1, () => null), null);
  assert.equal(sched.operators.size, 0);
});

Deno.test("seeded clusters converge: full replicas, balanced regions and leaders", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const rand = prng(seed);
    const n_stores = 3 + Math.floor(rand() * 5);
    const n_regions = 1 + Math.floor(rand() * 30);
    const state = new ClusterState();
    for (let s = 1; s <= n_stores; s++) state.putStore(store(s), 0);
    let pid = 100;
    for (let i = 0; i < n_regions; i++) {
      const start = i === 0 ? "" : `k${String(i).padStart(3, "0")}`;
      const end = i === n_regions - 1 ? "" : `k${String(i + 1).padStart(3, "0")}`;
      const replicas = 1 + Math.floor(rand() * 3);
      const stores = [...Array(n_stores).keys()].map((x) => x + 1).sort(() => rand() - 0.5)
        .slice(0, replicas);
      const r = region(i + 1, start, end, stores.map((s) => [pid++, s]));
      state.applyRegion({ region: r, leader: r.peers[0], term: 1 }, 0);
    }
    const sched = new Scheduler(config);
    try {
      run(state, sched, 0);
      const all = [...Array(n_stores).keys()].map((x) => x + 1);
      for (const e of state.regions.values()) assert.equal(e.region.peers.length, 3);
      assert.ok(spread(regionCounts(state, all)) <= 2, `regions ${regionCounts(state, all)}`);
      assert.ok(spread(leaderCounts(state, all)) <= 2, `leaders ${leaderCounts(state, all)}`);
    } catch (err) {
      throw new Error(`seed ${seed}: ${(err as Error).message}`);
    }
  }
});
