/**
 * An in-memory `Storage` (after etcd-io/raft's MemoryStorage) for tests and the
 * simulator. `ents[0]` is a dummy entry holding the index and term of the last
 * compacted entry (the snapshot point).
 * @module
 */
import type { ConfState, Entry, HardState, Snapshot } from "@eraft/proto/gen/eraftpb.ts";
import { assert } from "./assert.ts";
import {
  type InitialState,
  LogCompactedError,
  LogUnavailableError,
  type Storage,
} from "./storage.ts";
import {
  emptyHardState,
  emptySnapshot,
  limitSize,
  newEntry,
  snapConfState,
  snapIndex,
  snapTerm,
} from "./util.ts";

/** Thrown by `applySnapshot`/`createSnapshot` for a snapshot older than the stored one. */
export class SnapshotOutOfDateError extends Error {
  constructor(readonly index: number, readonly snapshot_index: number) {
    super(`snapshot at ${index} is older than the stored snapshot at ${snapshot_index}`);
    this.name = "SnapshotOutOfDateError";
  }
}

/** Log, hard state and snapshot held in memory. */
export class MemoryStorage implements Storage {
  private hard_state: HardState = emptyHardState();
  private snap: Snapshot = emptySnapshot();
  private ents: Entry[] = [newEntry({})];

  /** A storage whose initial membership is `voters` (+ `learners`), as etcd's tests bootstrap. */
  static withPeers(voters: number[], learners: number[] = []): MemoryStorage {
    const s = new MemoryStorage();
    s.snap = {
      data: new Uint8Array(0),
      metadata: { conf_state: { nodes: [...voters], learners: [...learners] }, index: 0, term: 0 },
    };
    return s;
  }

  /** A copy that later writes to either side do not affect (entries are never mutated). */
  clone(): MemoryStorage {
    const c = new MemoryStorage();
    c.hard_state = { ...this.hard_state };
    c.snap = this.snap;
    c.ents = [...this.ents];
    return c;
  }

  /** @inheritdoc */
  initialState(): InitialState {
    return { hard_state: { ...this.hard_state }, conf_state: snapConfState(this.snap) };
  }

  /** Persists the hard state. */
  setHardState(hs: HardState): void {
    this.hard_state = { ...hs };
  }

  /** @inheritdoc */
  entries(lo: number, hi: number, max_size_bytes: number): Entry[] {
    const offset = this.ents[0].index;
    if (lo <= offset) throw new LogCompactedError(lo, this.firstIndex());
    if (hi > this.lastIndex() + 1) throw new LogUnavailableError(hi - 1, this.lastIndex());
    assert(lo <= hi, () => `entries: lo ${lo} > hi ${hi}`);
    if (this.ents.length === 1) return [];
    return limitSize(this.ents.slice(lo - offset, hi - offset), max_size_bytes);
  }

  /** @inheritdoc */
  term(index: number): number {
    const offset = this.ents[0].index;
    if (index < offset) throw new LogCompactedError(index, this.firstIndex());
    if (index - offset >= this.ents.length) throw new LogUnavailableError(index, this.lastIndex());
    return this.ents[index - offset].term;
  }

  /** @inheritdoc */
  lastIndex(): number {
    return this.ents[0].index + this.ents.length - 1;
  }

  /** @inheritdoc */
  firstIndex(): number {
    return this.ents[0].index + 1;
  }

  /** @inheritdoc */
  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces everything with the snapshot (a follower installing it). */
  applySnapshot(snap: Snapshot): void {
    const index = snapIndex(snap);
    if (snapIndex(this.snap) >= index) {
      throw new SnapshotOutOfDateError(index, snapIndex(this.snap));
    }
    this.snap = snap;
    this.ents = [newEntry({ term: snapTerm(snap), index })];
  }

  /**
   * Records a snapshot of the state machine at `index` (which must be stored),
   * with membership `cs`; the log is not compacted (call `compact`).
   */
  createSnapshot(index: number, cs: ConfState, data: Uint8Array): Snapshot {
    if (index <= snapIndex(this.snap)) {
      throw new SnapshotOutOfDateError(index, snapIndex(this.snap));
    }
    assert(
      index <= this.lastIndex(),
      () => `snapshot ${index} past last index ${this.lastIndex()}`,
    );
    const term = this.term(index);
    this.snap = {
      data,
      metadata: { conf_state: { nodes: [...cs.nodes], learners: [...cs.learners] }, index, term },
    };
    return this.snap;
  }

  /** Discards entries before `compact_index` (which becomes the dummy entry). */
  compact(compact_index: number): void {
    const offset = this.ents[0].index;
    if (compact_index <= offset) throw new LogCompactedError(compact_index, this.firstIndex());
    assert(
      compact_index <= this.lastIndex(),
      () => `compact ${compact_index} is out of bound last index ${this.lastIndex()}`,
    );
    const i = compact_index - offset;
    const dummy = newEntry({ index: this.ents[i].index, term: this.ents[i].term });
    this.ents = [dummy, ...this.ents.slice(i + 1)];
  }

  /**
   * Appends entries, truncating any stored suffix they conflict with. They
   * must be contiguous and leave no gap after the stored log.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0].index + entries.length - 1;
    if (last < first) return; // all already compacted
    for (let i = 1; i < entries.length; i++) {
      assert(entries[i].index === entries[i - 1].index + 1, "append: entries not contiguous");
    }
    const ents = first > entries[0].index ? entries.slice(first - entries[0].index) : entries;
    const offset = ents[0].index - this.ents[0].index;
    assert(
      offset <= this.ents.length,
      () => `append: missing log entry [last ${this.lastIndex()}, append at ${ents[0].index}]`,
    );
    this.ents.length = offset; // drop the conflicting suffix, if any
    for (const e of ents) this.ents.push(e);
  }
}
