/**
 * The scheduler on the meta leader (after TinyKV/PD): on every region
 * heartbeat it advances the region's operator, or asks its checkers for one.
 *
 * - **replica checker**: peers on down (silent past `store_down_timeout_ms`),
 *   Offline or Tombstone stores are replaced elsewhere; a region with fewer
 *   than `min(max_replicas, usable stores)` peers gets one added; extra peers
 *   are removed.
 * - **balance region**: a peer moves from the store with the most regions to
 *   the one with the fewest when they differ by more than the threshold
 *   (add on target, then remove from source; leadership moves away first).
 * - **balance leader**: leadership moves to the follower store holding the
 *   fewest leaders when the difference passes the threshold.
 *
 * An operator is a list of steps; a step is done when the reported region
 * shows its effect. Counts used for balancing include the effect of
 * operators still in flight, so balancing does not overshoot. Pure and
 * synchronous: time is an argument, ids come from a synchronous allocator.
 * @module
 */
import assert from "node:assert/strict";
import type * as metapb from "@eraft/proto/gen/metapb.ts";
import { StoreState } from "@eraft/proto/gen/metapb.ts";
import { type ClusterState, epochOf, type RegionEntry } from "./state.ts";

/** Scheduler settings. */
export interface SchedulerConfig {
  /** Replicas every region should have once enough stores are up. */
  max_replicas: number;
  /** A store silent this long is down: its peers are replaced. */
  store_down_timeout_ms: number;
  /** Move a region when the most and least loaded stores differ by more than this. */
  region_balance_threshold: number;
  /** Move a leader when leader counts differ by more than this. */
  leader_balance_threshold: number;
  /** Balance operators (region and leader) in flight at once. */
  max_balance_operators: number;
  /** Replica operators in flight at once. */
  max_replica_operators: number;
  /** An operator not finished within this is dropped. */
  operator_timeout_ms: number;
}

/** Defaults (production). */
export const SCHEDULER_DEFAULTS: SchedulerConfig = {
  max_replicas: 3,
  store_down_timeout_ms: 60_000,
  region_balance_threshold: 1,
  leader_balance_threshold: 1,
  max_balance_operators: 4,
  max_replica_operators: 16,
  operator_timeout_ms: 60_000,
};

/** One step of an operator: what the region leader is asked to do. */
export type Step =
  | { kind: "add_peer"; peer: metapb.Peer }
  | { kind: "remove_peer"; peer: metapb.Peer }
  | { kind: "transfer_leader"; peer: metapb.Peer }
  | { kind: "split"; split_key: Uint8Array; version: number };

/** Where an operator came from. */
export type OperatorSource = "replica" | "balance-region" | "balance-leader" | "admin";

/** A sequence of steps for one region. */
export interface Operator {
  region_id: number;
  source: OperatorSource;
  steps: Step[];
  created_ms: number;
}

/** Returns a fresh id, or null when none is available without waiting. */
export type IdSource = () => number | null;

/** True when `region` shows the effect of `step`. */
export function stepDone(step: Step, entry: RegionEntry): boolean {
  const peers = entry.region.peers;
  switch (step.kind) {
    case "add_peer":
      return peers.some((p) => p.id === step.peer.id);
    case "remove_peer":
      return !peers.some((p) => p.id === step.peer.id);
    case "transfer_leader":
      return entry.leader?.store_id === step.peer.store_id;
    case "split":
      return epochOf(entry.region).version > step.version;
  }
}

/** See the module comment. */
export class Scheduler {
  readonly operators = new Map<number, Operator>();

  constructor(readonly config: SchedulerConfig) {
    assert.ok(config.max_replicas >= 1);
    assert.ok(config.store_down_timeout_ms > 0);
  }

  /** Installs an operator (ctl), replacing any in flight for the region. */
  addOperator(op: Operator): void {
    assert.ok(op.steps.length > 0, "an operator has steps");
    this.operators.set(op.region_id, op);
  }

  /**
   * The step the leader of `region_id` should take now, or null. Called on
   * each region heartbeat after the state has been updated.
   */
  onRegionHeartbeat(
    state: ClusterState,
    region_id: number,
    now_ms: number,
    alloc: IdSource,
  ): Step | null {
    const entry = state.regions.get(region_id);
    if (entry === undefined || entry.leader === null) return null;
    const op = this.operators.get(region_id);
    if (op !== undefined) {
      const step = this.#advance(op, entry, now_ms);
      // A store that went down (or Offline) since the operator was made gets
      // nothing from it: the operator goes, and the replica checker steps in.
      if (step !== null && this.#targetsBadStore(state, step, now_ms)) {
        this.operators.delete(region_id);
      } else if (step !== null) return this.#issuable(state, step, entry, now_ms);
    }
    const created = this.#check(state, entry, now_ms, alloc);
    if (created === null) return null;
    this.operators.set(region_id, created);
    return this.#issuable(state, created.steps[0], entry, now_ms);
  }

  #targetsBadStore(state: ClusterState, step: Step, now_ms: number): boolean {
    return (step.kind === "add_peer" || step.kind === "transfer_leader") &&
      this.#badStore(state, step.peer.store_id, now_ms);
  }

  /** Drops the operator's done steps; null (and forgotten) when done or expired. */
  #advance(op: Operator, entry: RegionEntry, now_ms: number): Step | null {
    while (op.steps.length > 0 && stepDone(op.steps[0], entry)) op.steps.shift();
    if (op.steps.length === 0 || now_ms - op.created_ms > this.config.operator_timeout_ms) {
      this.operators.delete(op.region_id);
      return null;
    }
    return op.steps[0];
  }

  /**
   * A leader cannot remove itself: it hands leadership to another voter first,
   * one on a healthy store that is not still catching up.
   */
  #issuable(state: ClusterState, step: Step, entry: RegionEntry, now_ms: number): Step {
    if (step.kind !== "remove_peer" || entry.leader?.id !== step.peer.id) return step;
    const pending = new Set(entry.pending_peers.map((p) => p.id));
    const other = entry.region.peers.find((p) =>
      p.id !== step.peer.id && (p.role ?? 0) === 0 && !pending.has(p.id) &&
      !this.#badStore(state, p.store_id, now_ms)
    );
    return other ? { kind: "transfer_leader", peer: other } : step;
  }

  #check(
    state: ClusterState,
    entry: RegionEntry,
    now_ms: number,
    alloc: IdSource,
  ): Operator | null {
    const counts = this.#inFlight();
    if (counts.replica < this.config.max_replica_operators) {
      const steps = this.#replicaSteps(state, entry, now_ms, alloc);
      if (steps !== null) {
        return { region_id: entry.region.id, source: "replica", steps, created_ms: now_ms };
      }
    }
    if (counts.balance >= this.config.max_balance_operators) return null;
    const move = this.#balanceRegionSteps(state, entry, now_ms, alloc);
    if (move !== null) {
      return {
        region_id: entry.region.id,
        source: "balance-region",
        steps: move,
        created_ms: now_ms,
      };
    }
    const lead = this.#balanceLeaderStep(state, entry, now_ms);
    if (lead !== null) {
      return {
        region_id: entry.region.id,
        source: "balance-leader",
        steps: [lead],
        created_ms: now_ms,
      };
    }
    return null;
  }

  #inFlight(): { replica: number; balance: number } {
    let replica = 0;
    let balance = 0;
    for (const op of this.operators.values()) {
      if (op.source === "replica") replica++;
      else if (op.source !== "admin") balance++;
    }
    return { replica, balance };
  }

  /** Stores that can take new peers: Up and heartbeating. */
  usableStores(state: ClusterState, now_ms: number): number[] {
    return [...state.stores.values()]
      .filter((s) =>
        s.store.state === StoreState.Up &&
        !state.isStoreDown(s.store.id, now_ms, this.config.store_down_timeout_ms)
      )
      .map((s) => s.store.id)
      .sort((a, b) => a - b);
  }

  /** True when a peer on this store must be replaced. */
  #badStore(state: ClusterState, store_id: number, now_ms: number): boolean {
    const s = state.stores.get(store_id);
    return s === undefined || s.store.state !== StoreState.Up ||
      state.isStoreDown(store_id, now_ms, this.config.store_down_timeout_ms);
  }

  /** Region counts per usable store, including operators in flight. */
  projectedRegionCounts(state: ClusterState, now_ms: number): Map<number, number> {
    const counts = new Map<number, number>();
    for (const id of this.usableStores(state, now_ms)) counts.set(id, 0);
    for (const e of state.regions.values()) {
      for (const p of e.region.peers) {
        if (counts.has(p.store_id)) counts.set(p.store_id, counts.get(p.store_id)! + 1);
      }
    }
    for (const op of this.operators.values()) {
      const entry = state.regions.get(op.region_id);
      for (const step of op.steps) {
        if (entry === undefined || stepDone(step, entry)) continue;
        const store = step.kind === "split" ? 0 : step.peer.store_id;
        if (!counts.has(store)) continue;
        if (step.kind === "add_peer") counts.set(store, counts.get(store)! + 1);
        if (step.kind === "remove_peer") counts.set(store, counts.get(store)! - 1);
      }
    }
    return counts;
  }

  #pickTarget(
    state: ClusterState,
    entry: RegionEntry,
    now_ms: number,
  ): number | null {
    const counts = this.projectedRegionCounts(state, now_ms);
    const taken = new Set(entry.region.peers.map((p) => p.store_id));
    let best: number | null = null;
    for (const [id, n] of counts) {
      if (taken.has(id)) continue;
      if (best === null || n < counts.get(best)! || (n === counts.get(best)! && id < best)) {
        best = id;
      }
    }
    return best;
  }

  #newPeer(state: ClusterState, store_id: number, alloc: IdSource): metapb.Peer | null {
    const id = alloc();
    if (id === null) return null;
    return { id, store_id, addr: state.stores.get(store_id)?.store.address ?? "", role: 0 };
  }

  #replicaSteps(
    state: ClusterState,
    entry: RegionEntry,
    now_ms: number,
    alloc: IdSource,
  ): Step[] | null {
    const peers = entry.region.peers;
    const bad = peers.filter((p) => this.#badStore(state, p.store_id, now_ms));
    const usable = this.usableStores(state, now_ms);
    const target = Math.min(this.config.max_replicas, usable.length);
    if (bad.length > 0) {
      const store = this.#pickTarget(state, entry, now_ms);
      if (store !== null) {
        const peer = this.#newPeer(state, store, alloc);
        if (peer === null) return null;
        return [{ kind: "add_peer", peer }, { kind: "remove_peer", peer: bad[0] }];
      }
      // Nowhere to move: drop the bad peer only when the region has too many.
      if (peers.length > this.config.max_replicas) return [{ kind: "remove_peer", peer: bad[0] }];
      return null;
    }
    if (peers.length < target) {
      const store = this.#pickTarget(state, entry, now_ms);
      if (store === null) return null;
      const peer = this.#newPeer(state, store, alloc);
      return peer === null ? null : [{ kind: "add_peer", peer }];
    }
    if (peers.length > this.config.max_replicas) {
      const counts = this.projectedRegionCounts(state, now_ms);
      const victim = peers
        .filter((p) => p.id !== entry.leader?.id)
        .sort((a, b) =>
          (counts.get(b.store_id) ?? 0) - (counts.get(a.store_id) ?? 0) || b.store_id - a.store_id
        )[0];
      return victim ? [{ kind: "remove_peer", peer: victim }] : null;
    }
    return null;
  }

  #healthy(state: ClusterState, entry: RegionEntry, now_ms: number): boolean {
    return entry.pending_peers.length === 0 &&
      entry.region.peers.every((p) => !this.#badStore(state, p.store_id, now_ms));
  }

  #balanceRegionSteps(
    state: ClusterState,
    entry: RegionEntry,
    now_ms: number,
    alloc: IdSource,
  ): Step[] | null {
    if (!this.#healthy(state, entry, now_ms)) return null;
    const counts = this.projectedRegionCounts(state, now_ms);
    let source: metapb.Peer | null = null;
    for (const p of entry.region.peers) {
      const n = counts.get(p.store_id) ?? -1;
      if (source === null || n > (counts.get(source.store_id) ?? -1)) source = p;
    }
    const target = this.#pickTarget(state, entry, now_ms);
    if (source === null || target === null) return null;
    const diff = counts.get(source.store_id)! - counts.get(target)!;
    // A move changes the difference by 2: only move when it shrinks it.
    if (diff <= Math.max(1, this.config.region_balance_threshold)) return null;
    const peer = this.#newPeer(state, target, alloc);
    if (peer === null) return null;
    return [{ kind: "add_peer", peer }, { kind: "remove_peer", peer: source }];
  }

  #balanceLeaderStep(state: ClusterState, entry: RegionEntry, now_ms: number): Step | null {
    if (!this.#healthy(state, entry, now_ms) || entry.leader === null) return null;
    const leaders = new Map<number, number>();
    for (const id of this.usableStores(state, now_ms)) leaders.set(id, 0);
    for (const e of state.regions.values()) {
      const s = e.leader?.store_id ?? 0;
      if (leaders.has(s)) leaders.set(s, leaders.get(s)! + 1);
    }
    for (const op of this.operators.values()) {
      const step = op.steps[0];
      if (step?.kind !== "transfer_leader") continue;
      const from = state.regions.get(op.region_id)?.leader?.store_id ?? 0;
      if (leaders.has(from)) leaders.set(from, leaders.get(from)! - 1);
      const to = step.peer.store_id;
      if (leaders.has(to)) leaders.set(to, leaders.get(to)! + 1);
    }
    const mine = leaders.get(entry.leader.store_id);
    if (mine === undefined) return null;
    let best: metapb.Peer | null = null;
    for (const p of entry.region.peers) {
      if (p.id === entry.leader.id || (p.role ?? 0) !== 0) continue;
      const n = leaders.get(p.store_id);
      if (n === undefined) continue;
      if (best === null || n < leaders.get(best.store_id)!) best = p;
    }
    if (best === null) return null;
    const diff = mine - leaders.get(best.store_id)!;
    if (diff <= Math.max(1, this.config.leader_balance_threshold)) return null;
    return { kind: "transfer_leader", peer: best };
  }

  /** Offline stores that host no region any more: ready to become Tombstone. */
  drainedOfflineStores(state: ClusterState): number[] {
    const counts = state.counts();
    return [...state.stores.values()]
      .filter((s) => s.store.state === StoreState.Offline && counts.get(s.store.id)!.regions === 0)
      .map((s) => s.store.id);
  }
}
