/**
 * Rebuilding a worker's regions from its engines after a start or a crash.
 * Each step that writes two files (KV, then Raft log) can be cut between the
 * two; the fix-ups here finish what such a cut left half done:
 *
 * - a snapshot applied to KV but not yet to the Raft log: compact the log up
 *   to the snapshot (the apply state's truncated index/term);
 * - a conf change applied to KV but not to the log's conf state: the region's
 *   peers are the truth;
 * - a commit index below the applied index (hard state not yet written).
 * @module
 */
import type * as raft_serverpb from "@eraft/proto/gen/raft_serverpb.ts";
import type { ConfState } from "@eraft/proto/gen/eraftpb.ts";
import type * as metapb from "@eraft/proto/gen/metapb.ts";
import type { WorkerEngines } from "../engine/engines.ts";
import { applyStateKey, decodeApplyState, decodeRegionState, regionIdOfStateKey } from "./codec.ts";

/** A region found on disk. */
export interface RecoveredRegion {
  region: metapb.Region;
  apply_state: raft_serverpb.RaftApplyState;
  tombstone: boolean;
}

const PEER_STATE_TOMBSTONE = 2;

/** Every region whose RegionLocalState is in the worker's KV engine. */
export function loadRegions(engines: WorkerEngines): RecoveredRegion[] {
  const out: RecoveredRegion[] = [];
  const kv = engines.kv;
  const lo = new Uint8Array([0x72]);
  const hi = new Uint8Array([0x73]);
  for (const [key, value] of kv.scan("raft", lo, hi, Infinity)) {
    const region_id = regionIdOfStateKey(key);
    if (region_id === null) continue;
    const state = decodeRegionState(value);
    const tombstone = state.state === PEER_STATE_TOMBSTONE;
    const raw = kv.get("raft", applyStateKey(region_id));
    const apply_state = raw ? decodeApplyState(raw) : { applied_index: 0, truncated_state: null };
    out.push({ region: state.region!, apply_state, tombstone });
  }
  return out;
}

/** The conf state a region's peers imply. */
export function confStateOf(region: metapb.Region): ConfState {
  return {
    nodes: region.peers.filter((p) => p.role !== 1).map((p) => p.id).sort((a, b) => a - b),
    learners: region.peers.filter((p) => p.role === 1).map((p) => p.id).sort((a, b) => a - b),
  };
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Makes the Raft log agree with the KV engine for one region (see module doc). */
export function repairRaftState(engines: WorkerEngines, r: RecoveredRegion): void {
  const raft = engines.raft;
  const id = r.region.id;
  const truncated = r.apply_state.truncated_state;
  if (truncated && raft.lastIndex(id) < truncated.index) {
    raft.compact(id, truncated.index, truncated.term);
  }
  const want = confStateOf(r.region);
  const have = raft.confState(id);
  if (!sameIds(want.nodes, have.nodes) || !sameIds(want.learners, have.learners)) {
    raft.setConfState(id, want);
  }
  const hs = raft.hardState(id);
  if (hs.commit < r.apply_state.applied_index) {
    raft.setHardState(id, { ...hs, commit: r.apply_state.applied_index });
  }
}
