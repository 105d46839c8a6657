/**
 * The Raft log store: one per worker, shared by all its regions. Segment files
 * (`<id>.raftlog`) of checksummed records (raft_log_format.ts); per region an
 * in-memory index of first/last index, terms and record positions; entry data
 * is read back from disk through a bounded cache.
 *
 * Segments: when the head fills, it is synced and a new one starts with a
 * checkpoint (hard state, conf state and compaction point of every region), so
 * older segments only ever hold entries. The oldest segment is deleted once
 * every region with entries in it has compacted past them. Oldest-first keeps
 * replay simple: a deleted segment never hides a later record's context.
 *
 * Recovery replays every segment in order; the newest may have a torn tail
 * (truncated), any other damage is a CorruptionError.
 * @module
 */
import assert from "node:assert/strict";
import type { ConfState, Entry, HardState, Snapshot } from "@eraft/proto/gen/eraftpb.ts";
import { LogCompactedError, LogUnavailableError } from "@eraft/raft";
import { ByteWriter, locOffset, locSegment, packLoc } from "./bytes.ts";
import { ByteLru } from "./cache.ts";
import { fsyncDir, listSegments, removeTempFiles, SegmentFile } from "./files.ts";
import {
  decodeRecord,
  encodeConfState,
  encodeEntry,
  encodeHardState,
  encodeMarker,
  ENTRY_BODY_OVERHEAD_BYTES,
  Kind,
  type RaftRecord,
} from "./raft_log_format.ts";
import { CorruptionError, FRAME_HEADER_BYTES, scanFrames, validFrameAt } from "./record.ts";
import { RegionStorage } from "./raft_storage.ts";

/** Tuning knobs; every one has a default. */
export interface RaftLogOptions {
  /** The head is sealed and a new segment started past this size. */
  segment_size_bytes?: number;
  /** Bound on cached decoded entries (counted as data bytes + 64). */
  entry_cache_bytes?: number;
  /**
   * The head is extended with zeros this many bytes at a time ahead of its
   * appends, so a sync rarely commits a new file size (see SegmentFile); 0: off.
   */
  prealloc_bytes?: number;
}

/** What one region persists in one `write` (the Raft `Ready` of that region). */
export interface RaftLogUpdate {
  region_id: number;
  /** Contiguous entries; those at or below the compaction point are skipped. */
  entries?: readonly Entry[];
  hard_state?: HardState;
  conf_state?: ConfState;
}

const EXT = "raftlog";
const DEFAULTS: Required<RaftLogOptions> = {
  segment_size_bytes: 64 * 1024 * 1024,
  entry_cache_bytes: 16 * 1024 * 1024,
  prealloc_bytes: 1024 * 1024,
};
/** Raft's per-entry overhead when limiting sizes (raft/util.ts ENTRY_OVERHEAD_BYTES). */
const RAFT_ENTRY_OVERHEAD_BYTES = 16;

/** One region's log index. Entry i lives at slot i - first_index. */
class RegionLog {
  first_index = 1;
  dummy_term = 0;
  terms: number[] = [];
  locs: number[] = [];
  sizes: number[] = [];
  hard_state: HardState = { term: 0, vote: 0, commit: 0 };
  conf_state: ConfState = { nodes: [], learners: [] };
  /** Recovery only: entries up to here are missing until a Compact covers them. */
  needs_compact = 0;

  get last_index(): number {
    return this.first_index + this.terms.length - 1;
  }

  truncateFrom(index: number): void {
    const keep = index - this.first_index;
    assert(keep >= 0 && keep <= this.terms.length);
    this.terms.length = keep;
    this.locs.length = keep;
    this.sizes.length = keep;
  }

  reset(first_index: number, dummy_term: number): void {
    this.first_index = first_index;
    this.dummy_term = dummy_term;
    this.terms = [];
    this.locs = [];
    this.sizes = [];
  }
}

const EMPTY_LOG = new RegionLog();

/** See the module comment. */
export class RaftLogStore {
  /** Open segments by id; the largest is the head. */
  readonly segments: Map<number, SegmentFile> = new Map();
  readonly opts: Required<RaftLogOptions>;
  #regions = new Map<number, RegionLog>();
  /** Per segment: region -> highest entry index recorded there. */
  #seg_max = new Map<number, Map<number, number>>();
  #cache: ByteLru<number, Entry>;
  #w = new ByteWriter(64 * 1024);
  #head: SegmentFile;
  #closed = false;

  private constructor(readonly dir: string, opts: RaftLogOptions) {
    this.opts = { ...DEFAULTS, ...opts };
    assert(this.opts.segment_size_bytes >= 1024);
    this.#cache = new ByteLru(this.opts.entry_cache_bytes, (e) => e.data.length + 64);
    try {
      this.#head = this.#recover();
    } catch (e) {
      // A failed open must not leak the files it had opened.
      for (const seg of this.segments.values()) seg.close();
      throw e;
    }
  }

  /** Opens (creating if needed) the log store in `dir`, recovering from a crash. */
  static open(dir: string, opts: RaftLogOptions = {}): RaftLogStore {
    Deno.mkdirSync(dir, { recursive: true });
    return new RaftLogStore(dir, opts);
  }

  #recover(): SegmentFile {
    removeTempFiles(this.dir);
    const ids = listSegments(this.dir, EXT);
    for (const [i, id] of ids.entries()) {
      const seg = SegmentFile.open(this.dir, id, EXT, this.opts.prealloc_bytes);
      this.segments.set(id, seg);
      const tail = i === ids.length - 1;
      const scan = scanFrames(seg.readAll(), seg.path, tail ? "tail" : "strict", (body, off) => {
        this.#apply(decodeRecord(body), packLoc(id, off), body.length, true);
      });
      if (tail && scan.valid_bytes < seg.size) seg.truncate(scan.valid_bytes);
    }
    for (const [r, log] of this.#regions) {
      if (log.needs_compact > 0) {
        throw new CorruptionError(this.dir, 0, `region ${r}: entries to ${log.needs_compact} lost`);
      }
    }
    if (ids.length > 0) return this.segments.get(ids[ids.length - 1])!;
    const head = SegmentFile.create(this.dir, 1, EXT, this.opts.prealloc_bytes);
    this.segments.set(1, head);
    return head;
  }

  #logFor(region_id: number): RegionLog {
    let log = this.#regions.get(region_id);
    if (!log) {
      log = new RegionLog();
      this.#regions.set(region_id, log);
    }
    return log;
  }

  /** Applies a record to the in-memory state: shared by writes and replay. */
  #apply(rec: RaftRecord, loc: number, body_bytes: number, replay: boolean): void {
    const r = rec.region_id;
    if (rec.kind === Kind.Destroy) {
      this.#regions.delete(r);
      return;
    }
    const log = this.#logFor(r);
    if (rec.kind === Kind.HardState) {
      log.hard_state = { term: rec.term, vote: rec.vote, commit: rec.index };
    } else if (rec.kind === Kind.ConfState) log.conf_state = rec.conf_state!;
    else if (rec.kind === Kind.Compact) this.#compactIndex(log, rec.index, rec.term);
    else this.#applyEntry(log, r, rec, loc, body_bytes, replay);
  }

  #applyEntry(
    log: RegionLog,
    r: number,
    rec: RaftRecord,
    loc: number,
    body_bytes: number,
    replay: boolean,
  ): void {
    const i = rec.index;
    if (i < log.first_index || i > log.last_index + 1) {
      // Only after a deleted segment: the Compact that allowed deleting it
      // comes later in the replay and must cover everything below i.
      if (!replay) {
        assert.fail(`region ${r}: entry ${i} outside [${log.first_index}, ${log.last_index + 1}]`);
      }
      log.reset(i, 0);
      log.needs_compact = i - 1;
    } else log.truncateFrom(i);
    log.terms.push(rec.term);
    log.locs.push(loc);
    log.sizes.push(body_bytes);
    const seg = locSegment(loc);
    let m = this.#seg_max.get(seg);
    if (!m) this.#seg_max.set(seg, m = new Map());
    m.set(r, Math.max(m.get(r) ?? 0, i));
  }

  #compactIndex(log: RegionLog, index: number, term: number): void {
    if (log.needs_compact <= index) log.needs_compact = 0;
    if (index < log.first_index) return;
    const drop = Math.min(index - log.first_index + 1, log.terms.length);
    if (index > log.last_index) log.reset(index + 1, term);
    else {
      log.terms.splice(0, drop);
      log.locs.splice(0, drop);
      log.sizes.splice(0, drop);
      log.first_index = index + 1;
      log.dummy_term = term;
    }
  }

  #checkOpen(): void {
    if (this.#closed) assert.fail("raft log store is closed");
  }

  /**
   * Persists several regions' updates with one write call (durable at the next
   * `sync()`). A region may appear at most once per call. Entries overwrite
   * any stored entries from their first index on (conflict resolution).
   */
  write(updates: readonly RaftLogUpdate[]): void {
    this.#checkOpen();
    const w = this.#w;
    w.reset();
    const pending: [RaftRecord, number, number][] = [];
    const seen = new Set<number>();
    for (const u of updates) {
      if (seen.has(u.region_id)) assert.fail(`region ${u.region_id} twice in one write`);
      seen.add(u.region_id);
      this.#encodeUpdate(w, u, pending);
    }
    if (w.length === 0) return;
    if (this.#head.size > 0 && this.#head.size + w.length > this.opts.segment_size_bytes) {
      this.#rotate();
    }
    const at = this.#head.append(w.view());
    for (const [rec, off, size] of pending) {
      const loc = packLoc(this.#head.id, at + off);
      this.#apply(rec, loc, size, false);
      if (rec.kind === Kind.Entry) {
        this.#cache.set(loc, {
          entry_type: rec.entry_type,
          term: rec.term,
          index: rec.index,
          data: rec.data,
        });
      }
    }
    if (w.length > 1024 * 1024) this.#w = new ByteWriter(64 * 1024);
  }

  #encodeUpdate(w: ByteWriter, u: RaftLogUpdate, pending: [RaftRecord, number, number][]): void {
    const r = u.region_id;
    const log = this.#regions.get(r) ?? EMPTY_LOG;
    const rec = (kind: Kind, term: number, index: number): RaftRecord => ({
      kind,
      region_id: r,
      term,
      index,
      entry_type: 0,
      data: new Uint8Array(0),
      vote: 0,
      conf_state: null,
    });
    const ents = (u.entries ?? []).filter((e) => e.index >= log.first_index);
    for (const [k, e] of ents.entries()) {
      if (k === 0) {
        if (!(e.index <= log.last_index + 1)) {
          assert.fail(`region ${r}: gap before entry ${e.index}`);
        }
      } else if (e.index !== ents[k - 1].index + 1) {
        assert.fail(`region ${r}: entries not contiguous`);
      }
      const off = encodeEntry(w, r, e);
      const entry = { ...rec(Kind.Entry, e.term, e.index), entry_type: e.entry_type, data: e.data };
      pending.push([entry, off, ENTRY_BODY_OVERHEAD_BYTES + e.data.length]);
    }
    const hs = u.hard_state;
    const old = log.hard_state;
    if (hs && (hs.term !== old.term || hs.vote !== old.vote || hs.commit !== old.commit)) {
      encodeHardState(w, r, hs);
      pending.push([{ ...rec(Kind.HardState, hs.term, hs.commit), vote: hs.vote }, 0, 0]);
    }
    if (u.conf_state) {
      encodeConfState(w, r, u.conf_state);
      const cs = { nodes: [...u.conf_state.nodes], learners: [...u.conf_state.learners] };
      pending.push([{ ...rec(Kind.ConfState, 0, 0), conf_state: cs }, 0, 0]);
    }
  }

  /** Appends entries of one region (see `write`). */
  append(region_id: number, entries: readonly Entry[]): void {
    this.write([{ region_id, entries }]);
  }

  /** Persists a region's hard state (skipped when unchanged). */
  setHardState(region_id: number, hard_state: HardState): void {
    this.write([{ region_id, hard_state }]);
  }

  /** Persists a region's membership. */
  setConfState(region_id: number, conf_state: ConfState): void {
    this.write([{ region_id, conf_state }]);
  }

  /**
   * Discards entries up to and including `index`. Past the last entry (a
   * snapshot was applied) the log is emptied and `term` must be given.
   * Deletes the oldest segments that no region needs any more.
   */
  compact(region_id: number, index: number, term?: number): void {
    this.#checkOpen();
    const log = this.#logFor(region_id);
    if (index < log.first_index) return;
    const t = index <= log.last_index ? this.term(region_id, index) : term;
    if (t === undefined) {
      assert.fail(`compact past the last entry of region ${region_id} needs a term`);
    }
    this.#marker(Kind.Compact, region_id, t, index);
    this.#compactIndex(log, index, t);
    this.purge();
  }

  /** Forgets a region (it was removed from this store). */
  destroy(region_id: number): void {
    this.#checkOpen();
    if (!this.#regions.has(region_id)) return;
    this.#marker(Kind.Destroy, region_id, 0, 0);
    this.#regions.delete(region_id);
    this.purge();
  }

  #marker(kind: typeof Kind.Compact | typeof Kind.Destroy, r: number, t: number, i: number) {
    const w = this.#w;
    w.reset();
    encodeMarker(w, kind, r, t, i);
    if (this.#head.size + w.length > this.opts.segment_size_bytes) this.#rotate();
    this.#head.append(w.view());
  }

  /** Seals the head and starts a new segment with a checkpoint of every region. */
  #rotate(): void {
    const old = this.#head;
    old.trimPreallocation(); // a sealed segment is records only (recovered strictly)
    old.sync();
    const head = SegmentFile.create(this.dir, old.id + 1, EXT, this.opts.prealloc_bytes);
    this.segments.set(head.id, head);
    this.#head = head;
    const w = new ByteWriter(4096);
    for (const [r, log] of this.#regions) {
      encodeHardState(w, r, log.hard_state);
      encodeConfState(w, r, log.conf_state);
      encodeMarker(w, Kind.Compact, r, log.dummy_term, log.first_index - 1);
    }
    if (w.length > 0) head.append(w.view());
    this.purge();
  }

  /** Deletes the oldest segments whose entries every region has compacted past. */
  purge(): void {
    const ids = [...this.segments.keys()].sort((a, b) => a - b);
    let removed = 0;
    for (const id of ids) {
      if (id === this.#head.id || !this.#deletable(id)) break;
      if (removed === 0) this.#head.sync(); // the Compact records that allow this
      this.segments.get(id)!.remove();
      this.segments.delete(id);
      this.#seg_max.delete(id);
      removed++;
    }
    if (removed > 0) fsyncDir(this.dir);
  }

  #deletable(id: number): boolean {
    for (const [r, max] of this.#seg_max.get(id) ?? []) {
      const log = this.#regions.get(r);
      if (log && log.first_index - 1 < max) return false;
    }
    return true;
  }

  /** Makes every write so far durable (one fdatasync of the head). */
  sync(): void {
    this.#checkOpen();
    this.#head.sync();
  }

  /** `sync()` on a runtime thread; writes may go on meanwhile (the next sync covers them). */
  syncAsync(): Promise<void> {
    this.#checkOpen();
    return this.#head.syncAsync();
  }

  /** True when writes since the last sync are pending. */
  get dirty(): boolean {
    return this.#head.dirty;
  }

  /** Regions with any persisted state. */
  regionIds(): number[] {
    return [...this.#regions.keys()].sort((a, b) => a - b);
  }

  #read(region_id: number): RegionLog {
    this.#checkOpen();
    return this.#regions.get(region_id) ?? EMPTY_LOG;
  }

  /** Last persisted hard state (zeros for an unknown region). */
  hardState(region_id: number): HardState {
    return { ...this.#read(region_id).hard_state };
  }

  /** Last persisted membership (empty for an unknown region). */
  confState(region_id: number): ConfState {
    const cs = this.#read(region_id).conf_state;
    return { nodes: [...cs.nodes], learners: [...cs.learners] };
  }

  /** First stored index (compaction point + 1). */
  firstIndex(region_id: number): number {
    return this.#read(region_id).first_index;
  }

  /** Last stored index (firstIndex - 1 when empty). */
  lastIndex(region_id: number): number {
    return this.#read(region_id).last_index;
  }

  /** Term at `index`, for firstIndex - 1 <= index <= lastIndex. */
  term(region_id: number, index: number): number {
    const log = this.#read(region_id);
    if (index < log.first_index - 1) throw new LogCompactedError(index, log.first_index);
    if (index > log.last_index) throw new LogUnavailableError(index, log.last_index);
    return index === log.first_index - 1 ? log.dummy_term : log.terms[index - log.first_index];
  }

  /**
   * Entries in [lo, hi), cut to `max_size_bytes` (data + 16 B each, as raft/
   * counts) but at least one. Returned entries are shared: do not mutate.
   */
  entries(region_id: number, lo: number, hi: number, max_size_bytes: number): Entry[] {
    const log = this.#read(region_id);
    if (lo < log.first_index) throw new LogCompactedError(lo, log.first_index);
    if (hi > log.last_index + 1) throw new LogUnavailableError(hi - 1, log.last_index);
    if (!(lo <= hi)) assert.fail(`entries: lo ${lo} > hi ${hi}`);
    const out: Entry[] = [];
    let size = 0;
    for (let i = lo; i < hi; i++) {
      const k = i - log.first_index;
      size += log.sizes[k] - ENTRY_BODY_OVERHEAD_BYTES + RAFT_ENTRY_OVERHEAD_BYTES;
      if (out.length > 0 && size > max_size_bytes) break;
      const e = this.#readEntry(log.locs[k], log.sizes[k]);
      if (!(e.index === i && e.term === log.terms[k])) assert.fail(`entry ${i} mismatch on read`);
      out.push(e);
    }
    return out;
  }

  #readEntry(loc: number, body_bytes: number): Entry {
    const hit = this.#cache.get(loc);
    if (hit) return hit;
    const seg = this.segments.get(locSegment(loc));
    if (!seg) assert.fail(`entry in deleted segment ${locSegment(loc)}`);
    const buf = new Uint8Array(FRAME_HEADER_BYTES + body_bytes);
    const n = seg.readAt(locOffset(loc), buf);
    if (n !== buf.length || validFrameAt(buf, 0) !== body_bytes) {
      throw new CorruptionError(seg.path, locOffset(loc), "entry record fails its checksum");
    }
    const rec = decodeRecord(buf.subarray(FRAME_HEADER_BYTES));
    const e: Entry = {
      entry_type: rec.entry_type,
      term: rec.term,
      index: rec.index,
      data: rec.data,
    };
    this.#cache.set(loc, e);
    return e;
  }

  /** The Raft `Storage` of one region; `snapshot` builds its snapshot on demand. */
  storage(region_id: number, snapshot: () => Snapshot): RegionStorage {
    return new RegionStorage(this, region_id, snapshot);
  }

  /** Sizes and counts. */
  stats(): { regions: number; segments: number; disk_bytes: number } {
    let disk_bytes = 0;
    for (const s of this.segments.values()) disk_bytes += s.size;
    return { regions: this.#regions.size, segments: this.segments.size, disk_bytes };
  }

  /** Syncs and closes every file. */
  close(): void {
    if (this.#closed) return;
    this.#head.sync();
    for (const s of this.segments.values()) s.close();
    this.segments.clear();
    this.#closed = true;
  }
}
