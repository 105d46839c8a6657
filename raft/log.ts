/**
 * The Raft log (after etcd-io/raft's `raftLog`): stable entries in `Storage`,
 * the unstable tail in `Unstable`, and the commit and apply cursors.
 * Invariants (asserted): applied <= committed <= lastIndex; committed never
 * decreases; a committed entry is never truncated.
 * @module
 */
import type { Entry, Snapshot } from "@eraft/proto/gen/eraftpb.ts";
import { assert } from "./assert.ts";
import { Unstable } from "./log_unstable.ts";
import { LogCompactedError, LogUnavailableError, type Storage } from "./storage.ts";
import { limitSize, snapIndex, snapTerm } from "./util.ts";

/** No size limit. */
export const NO_LIMIT_BYTES = Number.MAX_SAFE_INTEGER;

/** The log as raft/ sees it. */
export class RaftLog {
  /** Entries not yet persisted. */
  readonly unstable: Unstable;
  /** Highest index known to be stored on a quorum. */
  committed: number;
  /** Highest index the host has applied to its state machine. */
  applied: number;
  /**
   * Highest index known durable on this node. Used only with
   * `async_durability`, where committed entries are handed out to apply up to
   * it; otherwise every written entry counts as durable.
   */
  durable: number;

  /** `max_apply_size_bytes` bounds the committed entries handed out per Ready. */
  constructor(
    readonly storage: Storage,
    readonly max_apply_size_bytes: number = NO_LIMIT_BYTES,
    readonly async_durability = false,
  ) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    assert(first >= 1 && last >= first - 1, "storage has an invalid index range");
    this.unstable = new Unstable(last + 1);
    // Everything up to the snapshot point is committed and applied.
    this.committed = first - 1;
    this.applied = first - 1;
    // What storage holds at start was recovered from disk.
    this.durable = last;
  }

  /** Index of the first entry still available. */
  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  /** Index of the last entry. */
  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Term of the last entry. */
  lastTerm(): number {
    const t = this.term(this.lastIndex());
    assert(t !== null, "term of the last index is compacted");
    return t;
  }

  /**
   * Term of entry `index`: 0 when past the last index, null when compacted
   * (before the dummy entry at firstIndex() - 1, or under us in storage).
   */
  term(index: number): number | null {
    if (index > this.lastIndex()) return 0;
    if (index < this.firstIndex() - 1) return null;
    const t = this.unstable.maybeTerm(index);
    if (t !== null) return t;
    try {
      return this.storage.term(index);
    } catch (e) {
      if (e instanceof LogCompactedError || e instanceof LogUnavailableError) return null;
      throw e;
    }
  }

  /** True if entry `index` exists with term `term`. */
  matchTerm(index: number, term: number): boolean {
    if (index > this.lastIndex()) return false;
    const t = this.term(index);
    return t !== null && t === term;
  }

  /**
   * Appends `ents` after (index, log_term) if that entry matches, truncating
   * any conflicting suffix, and commits up to min(committed, last new index).
   * Returns the last new index, or null when (index, log_term) does not match.
   */
  maybeAppend(index: number, log_term: number, committed: number, ents: Entry[]): number | null {
    if (!this.matchTerm(index, log_term)) return null;
    const last_new_index = index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      assert(ci > this.committed, () => `entry ${ci} conflicts with committed ${this.committed}`);
      const offset = index + 1;
      assert(ci - offset <= ents.length, "conflict index past appended entries");
      this.append(ents.slice(ci - offset));
    }
    this.commitTo(Math.min(committed, last_new_index));
    return last_new_index;
  }

  /** Appends entries at the end (truncating the unstable tail if needed). */
  append(ents: Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0].index - 1;
    assert(
      after >= this.committed,
      () => `after ${after} is out of range [committed ${this.committed}]`,
    );
    assert(after <= this.lastIndex(), () => `append leaves a gap after ${this.lastIndex()}`);
    // Entries past `after` are replaced: their durability no longer counts.
    this.durable = Math.min(this.durable, after);
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * The index of the first entry in `ents` that is new or conflicts with the
   * log (same index, different term); 0 if all are already present.
   */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The largest (index', term') with index' <= index and term' <= term in the
   * log — where a leader should probe next after a rejection (fast backtracking).
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    const first = this.firstIndex();
    for (let i = index; i >= first - 1; i--) {
      const t = this.term(i);
      if (t === null) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
    }
    return { index: first - 1, term: 0 };
  }

  /** Entries not yet persisted. */
  unstableEntries(): Entry[] {
    return this.unstable.entries;
  }

  /** Committed, not yet applied entries (bounded by max_apply_size_bytes). */
  nextEntries(): Entry[] {
    const off = Math.max(this.applied + 1, this.firstIndex());
    const hi = this.#applicable() + 1;
    if (hi <= off) return [];
    return this.slice(off, hi, this.max_apply_size_bytes) ?? [];
  }

  /** True if there are committed entries to apply. */
  hasNextEntries(): boolean {
    return this.#applicable() + 1 > Math.max(this.applied + 1, this.firstIndex());
  }

  /** The last index that may be applied: committed, and durable here when tracked. */
  #applicable(): number {
    return this.async_durability ? Math.min(this.committed, this.durable) : this.committed;
  }

  /**
   * The host made the log durable up to (index, term). Ignored when that entry
   * was replaced since (a later write, made durable later, reports it).
   */
  persistedTo(index: number, term: number): void {
    if (index <= this.durable || !this.matchTerm(index, term)) return;
    this.durable = index;
  }

  /** The pending unstable snapshot, else the stored one. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Raises the commit index (never lowers it; never past the last index). */
  commitTo(to_commit: number): void {
    if (to_commit <= this.committed) return;
    assert(
      to_commit <= this.lastIndex(),
      () => `commit ${to_commit} is out of range [last index ${this.lastIndex()}]`,
    );
    this.committed = to_commit;
  }

  /** Records that the host applied up to `index`. */
  appliedTo(index: number): void {
    if (index === 0) return;
    assert(
      index <= this.committed && index >= this.applied,
      () =>
        `applied ${index} out of range [prev applied ${this.applied}, committed ${this.committed}]`,
    );
    this.applied = index;
  }

  /** The host persisted entries up to (index, term). */
  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term);
  }

  /** The host persisted the snapshot at `index`. */
  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index);
    // The host installs a snapshot durably before it advances past it.
    if (index > this.durable && index <= this.lastIndex()) this.durable = index;
  }

  /** Entries from `index` on, bounded by `max_size_bytes`; null if compacted. */
  entries(index: number, max_size_bytes: number): Entry[] | null {
    if (index > this.lastIndex()) return [];
    return this.slice(index, this.lastIndex() + 1, max_size_bytes);
  }

  /** Every entry from the first available one (tests and the simulator). */
  allEntries(): Entry[] {
    const ents = this.entries(this.firstIndex(), NO_LIMIT_BYTES);
    assert(ents !== null, "allEntries raced with compaction");
    return ents;
  }

  /** §5.4.1: is a log ending at (last_index, term) at least as up to date as ours? */
  isUpToDate(last_index: number, term: number): boolean {
    const our_term = this.lastTerm();
    return term > our_term || (term === our_term && last_index >= this.lastIndex());
  }

  /**
   * §5.3/§5.4.2: commits up to `max_index` only if that entry is from `term`
   * (the leader's current term). Returns true if the commit index moved.
   */
  maybeCommit(max_index: number, term: number): boolean {
    if (max_index > this.committed && this.term(max_index) === term) {
      this.commitTo(max_index);
      return true;
    }
    return false;
  }

  /** Replaces the log with a snapshot (follower installing it). */
  restore(snap: Snapshot): void {
    assert(snapIndex(snap) > this.committed, "restore of a snapshot at or below commit");
    this.committed = snapIndex(snap);
    // The log behind the snapshot is dropped; the snapshot is durable once advanced past.
    this.durable = Math.min(this.durable, snapIndex(snap));
    this.unstable.restore(snap);
    assert(this.term(snapIndex(snap)) === snapTerm(snap), "restored snapshot term mismatch");
  }

  /** Entries in [lo, hi) bounded by `max_size_bytes`; null if lo is compacted. */
  slice(lo: number, hi: number, max_size_bytes: number): Entry[] | null {
    assert(lo <= hi, () => `invalid slice ${lo} > ${hi}`);
    if (lo < this.firstIndex()) return null;
    assert(hi <= this.lastIndex() + 1, () => `slice[${lo},${hi}) past last ${this.lastIndex()}`);
    if (lo === hi) return [];
    let ents: Entry[] = [];
    const offset = this.unstable.offset;
    if (lo < offset) {
      try {
        ents = this.storage.entries(lo, Math.min(hi, offset), max_size_bytes);
      } catch (e) {
        if (e instanceof LogCompactedError) return null;
        throw e;
      }
      // Storage cut the result short: stop here.
      if (ents.length < Math.min(hi, offset) - lo) return ents;
    }
    if (hi > offset) {
      const unstable = this.unstable.slice(Math.max(lo, offset), hi);
      ents = ents.length > 0 ? [...ents, ...unstable] : unstable;
    }
    return limitSize(ents, max_size_bytes);
  }
}
