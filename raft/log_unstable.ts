/**
 * The not-yet-persisted tail of the log (after etcd-io/raft's `unstable`): an
 * optional incoming snapshot and entries from index `offset` on.
 * @module
 */
import type { Entry, Snapshot } from "@eraft/proto/gen/eraftpb.ts";
import { assert } from "./assert.ts";
import { snapIndex, snapTerm } from "./util.ts";

/** Entries and a snapshot the host has not yet written to stable storage. */
export class Unstable {
  /** A snapshot received from the leader, not yet persisted. */
  snapshot: Snapshot | null = null;
  /** Entries not yet persisted; `entries[i].index === offset + i`. */
  entries: Entry[] = [];

  constructor(public offset: number) {
    assert(offset >= 1, "unstable offset must be >= 1");
  }

  /** First index if a snapshot is pending (snapshot index + 1), else null. */
  maybeFirstIndex(): number | null {
    return this.snapshot === null ? null : snapIndex(this.snapshot) + 1;
  }

  /** Last index of the unstable entries or pending snapshot, else null. */
  maybeLastIndex(): number | null {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot === null ? null : snapIndex(this.snapshot);
  }

  /** Term of entry `index` if held here, else null. */
  maybeTerm(index: number): number | null {
    if (index < this.offset) {
      if (this.snapshot !== null && snapIndex(this.snapshot) === index) {
        return snapTerm(this.snapshot);
      }
      return null;
    }
    const last = this.maybeLastIndex();
    if (last === null || index > last) return null;
    return this.entries[index - this.offset].term;
  }

  /** The host persisted entries up to (index, term): drop them from here. */
  stableTo(index: number, term: number): void {
    const t = this.maybeTerm(index);
    if (t === null || index < this.offset) return;
    // Only if the entry was not overwritten since the Ready was built.
    if (t === term) {
      this.entries = this.entries.slice(index + 1 - this.offset);
      this.offset = index + 1;
    }
  }

  /** The host persisted the snapshot at `index`. */
  stableSnapTo(index: number): void {
    if (this.snapshot !== null && snapIndex(this.snapshot) === index) this.snapshot = null;
  }

  /** Replaces everything with an incoming snapshot. */
  restore(snap: Snapshot): void {
    this.offset = snapIndex(snap) + 1;
    this.entries = [];
    this.snapshot = snap;
  }

  /** Appends entries, truncating any conflicting unstable suffix. */
  truncateAndAppend(ents: readonly Entry[]): void {
    assert(ents.length > 0, "truncateAndAppend of nothing");
    const after = ents[0].index;
    if (after === this.offset + this.entries.length) {
      for (const e of ents) this.entries.push(e);
    } else if (after <= this.offset) {
      // Replace everything unstable; the log is truncated to before `after`.
      this.offset = after;
      this.entries = [...ents];
    } else {
      this.entries = [...this.slice(this.offset, after), ...ents];
    }
  }

  /** Unstable entries in [lo, hi). */
  slice(lo: number, hi: number): Entry[] {
    this.mustCheckOutOfBounds(lo, hi);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }

  private mustCheckOutOfBounds(lo: number, hi: number): void {
    assert(lo <= hi, () => `invalid unstable.slice ${lo} > ${hi}`);
    const upper = this.offset + this.entries.length;
    assert(
      lo >= this.offset && hi <= upper,
      () => `unstable.slice[${lo},${hi}) out of bound [${this.offset},${upper}]`,
    );
  }
}
