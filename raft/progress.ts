/**
 * The leader's view of one follower (after etcd-io/raft's `tracker.Progress`):
 * match/next indexes and the replication state machine
 * Probe -> Replicate -> Snapshot.
 * @module
 */
import { assert } from "./assert.ts";
import { Inflights } from "./inflights.ts";

/** How the leader currently sends to a follower. */
export const ProgressState = {
  /** One append per heartbeat interval until the match point is found. */
  Probe: 0,
  /** Optimistic streaming, bounded by the inflights window. */
  Replicate: 1,
  /** A snapshot is in flight; appends are paused. */
  Snapshot: 2,
} as const;
/** See {@link ProgressState}. */
export type ProgressState = typeof ProgressState[keyof typeof ProgressState];

/** Replication progress of one peer. */
export class Progress {
  /** Highest index known to be replicated on the peer. */
  match = 0;
  /** Index of the next entry to send. */
  next: number;
  /** Current replication state. */
  state: ProgressState = ProgressState.Probe;
  /** Index of the snapshot in flight (state Snapshot). */
  pending_snapshot = 0;
  /** Heard from within the last election timeout (check-quorum). */
  recent_active = false;
  /** Highest leader tick echoed by this peer's heartbeat responses (-1: none). */
  lease_ack_ticks = -1;
  /** In Probe: an append was sent and we wait for a reply or a heartbeat. */
  msg_app_flow_paused = false;
  /** Appends in flight (state Replicate). */
  readonly inflights: Inflights;
  /** Learners replicate but do not vote or count for commit. */
  is_learner: boolean;

  constructor(
    next: number,
    max_inflight_msgs: number,
    max_inflight_bytes: number,
    is_learner: boolean,
  ) {
    assert(next >= 1, "progress next must be >= 1");
    this.next = next;
    this.inflights = new Inflights(max_inflight_msgs, max_inflight_bytes);
    this.is_learner = is_learner;
  }

  private resetState(state: ProgressState): void {
    this.msg_app_flow_paused = false;
    this.pending_snapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  /** Back to probing, from the match point (or past a snapshot just sent). */
  becomeProbe(): void {
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pending_snapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
  }

  /** Streams appends optimistically from match + 1. */
  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  /** A snapshot at `snapshot_index` is being sent. */
  becomeSnapshot(snapshot_index: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pending_snapshot = snapshot_index;
  }

  /**
   * The follower acknowledged up to `n`. Returns false for a stale
   * acknowledgement. `match` never decreases and stays below `next`.
   */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.msg_app_flow_paused = false;
    }
    this.next = Math.max(this.next, n + 1);
    assert(this.match < this.next, "progress match must stay below next");
    return updated;
  }

  /** Entries up to `last_index` were sent (`count` entries, `bytes` in total). */
  sentEntries(last_index: number, count: number, bytes: number): void {
    if (this.state === ProgressState.Replicate && count > 0) {
      this.next = last_index + 1;
      this.inflights.add(last_index, bytes);
    } else if (this.state === ProgressState.Probe && count > 0) {
      this.msg_app_flow_paused = true;
    }
    assert(this.match < this.next, "progress match must stay below next");
  }

  /**
   * The follower rejected an append at `rejected`; `match_hint` is where to
   * probe next. Returns false if the rejection is stale.
   */
  maybeDecrTo(rejected: number, match_hint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      // Stale if the rejected index is already known to match.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // Probe: the rejection must be for the one append we sent (next - 1).
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, match_hint + 1), this.match + 1, 1);
    this.msg_app_flow_paused = false;
    return true;
  }

  /** True when no append may be sent now. */
  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.msg_app_flow_paused;
      case ProgressState.Replicate:
        return this.inflights.full();
      default:
        return true;
    }
  }
}
