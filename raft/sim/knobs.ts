/**
 * Per-seed random knobs of a simulation (protocol options, flow-control
 * sizes, fault and client rates) and the bootstrap storage of initial members.
 * @module
 */
import { MemoryStorage } from "../memory_storage.ts";
import type { Prng } from "../prng.ts";
import { emptySm, encodeSm } from "./state_machine.ts";

/** What a seed decides about a run. */
export interface Knobs {
  pre_vote: boolean;
  check_quorum: boolean;
  lease_reads: boolean;
  max_inflight_msgs: number;
  max_size_per_msg_bytes: number;
  compact_threshold: number;
  propose_probability: number;
  conf_change_probability: number;
  transfer_probability: number;
  read_probability: number;
  partition_probability: number;
  heal_probability: number;
  crash_probability: number;
  restart_probability: number;
  /** Raft's broadcast_commit (false: followers learn commits from the next append or heartbeat). */
  broadcast_commit: boolean;
  /**
   * Raft's async_storage_writes: written entries become durable some steps
   * later (one sync covers all writes so far); until then a node holds every
   * message but a leader's, and reports durability with `persisted()`.
   */
  async_storage_writes: boolean;
  /** Chance per step that an async node's pending sync completes. */
  sync_probability: number;
}

/**
 * Storage of an initial member: the membership lives in a snapshot at index 1
 * (as a store bootstraps a region), so a node added later, with an empty log,
 * is caught up by snapshot and learns the whole membership.
 */
export function bootstrapStorage(voters: number[]): MemoryStorage {
  const s = new MemoryStorage();
  const cs = { nodes: [...voters], learners: [] };
  const sm = emptySm(cs);
  sm.applied_index = 1;
  sm.applied_term = 1;
  s.applySnapshot({ data: encodeSm(sm), metadata: { conf_state: cs, index: 1, term: 1 } });
  s.setHardState({ term: 1, vote: 0, commit: 1 });
  return s;
}

/** Draws the knobs of a run from its seed. */
export function randomKnobs(rng: Prng): Knobs {
  const check_quorum = rng.chance(0.8);
  return {
    pre_vote: rng.chance(0.8),
    check_quorum,
    lease_reads: check_quorum && rng.chance(0.2),
    max_inflight_msgs: 1 + rng.intBelow(8),
    max_size_per_msg_bytes: 1 + rng.intBelow(200),
    compact_threshold: 3 + rng.intBelow(40),
    propose_probability: 0.05 + rng.nextFloat() * 0.25,
    conf_change_probability: rng.nextFloat() * 0.01,
    transfer_probability: rng.nextFloat() * 0.01,
    read_probability: rng.nextFloat() * 0.05,
    partition_probability: rng.nextFloat() * 0.01,
    heal_probability: 0.005 + rng.nextFloat() * 0.03,
    crash_probability: rng.nextFloat() * 0.005,
    restart_probability: 0.005 + rng.nextFloat() * 0.05,
    broadcast_commit: rng.chance(0.5),
    async_storage_writes: rng.chance(0.5),
    sync_probability: 0.02 + rng.nextFloat() * 0.5,
  };
}
