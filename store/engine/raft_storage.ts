/**
 * One region's view of the worker's Raft log store, implementing the Storage
 * interface raft/ reads from. The snapshot comes from a callback supplied by
 * the store (it is built from the KV engine, which this file knows nothing of).
 * @module
 */
import type { Entry, Snapshot } from "@eraft/proto/gen/eraftpb.ts";
import type { InitialState, Storage } from "@eraft/raft";
import type { RaftLogStore } from "./raft_log.ts";

/** `Storage` for region `region_id`, reading from a RaftLogStore. */
export class RegionStorage implements Storage {
  constructor(
    readonly log: RaftLogStore,
    readonly region_id: number,
    readonly snapshot_fn: () => Snapshot,
  ) {}

  initialState(): InitialState {
    return {
      hard_state: this.log.hardState(this.region_id),
      conf_state: this.log.confState(this.region_id),
    };
  }

  entries(lo: number, hi: number, max_size_bytes: number): Entry[] {
    return this.log.entries(this.region_id, lo, hi, max_size_bytes);
  }

  term(index: number): number {
    return this.log.term(this.region_id, index);
  }

  firstIndex(): number {
    return this.log.firstIndex(this.region_id);
  }

  lastIndex(): number {
    return this.log.lastIndex(this.region_id);
  }

  snapshot(): Snapshot {
    return this.snapshot_fn();
  }
}
