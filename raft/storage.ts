/**
 * The log storage raft/ reads from (after etcd-io/raft's `Storage`). raft/ never
 * writes through it: the host persists `Ready.entries`, `Ready.hard_state` and
 * `Ready.snapshot`, then calls `advance()`. The store's engine
 * (store/engine) implements it per region; `MemoryStorage` implements it for
 * tests and the simulator.
 * @module
 */
import type { ConfState, Entry, HardState, Snapshot } from "@eraft/proto/gen/eraftpb.ts";

/** Thrown when asked for an index at or below the last compaction point. */
export class LogCompactedError extends Error {
  constructor(readonly index: number, readonly first_index: number) {
    super(`raft log index ${index} is compacted (first index ${first_index})`);
    this.name = "LogCompactedError";
  }
}

/** Thrown when asked for an index past the last stored entry. */
export class LogUnavailableError extends Error {
  constructor(readonly index: number, readonly last_index: number) {
    super(`raft log index ${index} is unavailable (last index ${last_index})`);
    this.name = "LogUnavailableError";
  }
}

/** What a node restarts from. */
export interface InitialState {
  hard_state: HardState;
  conf_state: ConfState;
}

/**
 * Read access to a node's persisted log. Indexes are 1-based; a compacted log
 * keeps the term of its last compacted entry (the "dummy" entry at
 * `firstIndex() - 1`), so `term(firstIndex() - 1)` always answers.
 */
export interface Storage {
  /** Hard state and membership persisted at the last `advance()`. */
  initialState(): InitialState;
  /**
   * Entries in [lo, hi), cut so their summed data size stays within
   * `max_size_bytes` — but always at least one entry when lo < hi.
   * Throws LogCompactedError / LogUnavailableError outside the stored range.
   */
  entries(lo: number, hi: number, max_size_bytes: number): Entry[];
  /** Term of the entry at `index`, for firstIndex()-1 <= index <= lastIndex(). */
  term(index: number): number;
  /** Index of the first entry still stored (last compacted index + 1). */
  firstIndex(): number;
  /** Index of the last stored entry (firstIndex() - 1 when empty). */
  lastIndex(): number;
  /** The most recent snapshot, to send to a follower that fell behind compaction. */
  snapshot(): Snapshot;
}
