/**
 * The KV engine: Bitcask-style append-only segments (`<id>.kv`) of batch
 * records, an ordered in-memory index per column family, hint files for fast
 * restart, and incremental compaction (kv_compact.ts).
 *
 * Durability: `write(batch, {sync: true})` returns after fdatasync; with
 * `sync: false` the batch is written (visible to reads) and becomes durable at
 * the next `sync()` — one fdatasync for every batch since (group commit).
 * One engine per worker; it is not safe to share across threads.
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { bytesToKey, ByteWriter, locSegment, packLoc } from "./bytes.ts";
import { ByteLru } from "./cache.ts";
import {
  fsyncDir,
  IO_STATS,
  listSegments,
  removeTempFiles,
  SegmentFile,
  segmentName,
  writeAll,
  writeFileAtomic,
} from "./files.ts";
import {
  type BatchOp,
  buildHint,
  type Cf,
  CF_ID,
  decodeBatch,
  encodeBatch,
  HintBuilder,
  Op,
  readHint,
} from "./kv_format.ts";
import { KvIndex } from "./kv_index.ts";
import { type KvPair, KvView, ValueReader } from "./kv_view.ts";
import { scanFrames } from "./record.ts";
import { CompactionJob, pickVictim } from "./kv_compact.ts";

/**
 * The head segment's hint (see HintBuilder), written to `<hint>.tmp` frame by
 * frame as the head is written and renamed when the head is sealed, so the
 * hint is never held whole in memory nor built by reading the segment back.
 * Not fsynced: a hint is checked when read and rebuilt from its segment when
 * missing or bad, so a lost or torn one only costs a rescan (and a write
 * error only abandons it).
 */
class HeadHint {
  readonly builder: HintBuilder;
  readonly #tmp_path: string;
  #file: Deno.FsFile | null;

  constructor(readonly dir: string, readonly segment_id: number) {
    this.#tmp_path = join(dir, segmentName(segment_id, HINT_EXT) + ".tmp");
    try {
      this.#file = Deno.openSync(this.#tmp_path, { write: true, create: true, truncate: true });
    } catch {
      this.#file = null; // cannot create it: no hint for this segment, a restart scans it
    }
    this.builder = new HintBuilder((chunk) => this.#write(chunk));
  }

  #write(chunk: Uint8Array): void {
    if (this.#file === null) return;
    try {
      writeAll(this.#file, chunk);
    } catch {
      this.#abandon(); // an I/O error (disk full, ...): this segment goes without a hint
    }
  }

  #abandon(): void {
    this.close();
    try {
      Deno.removeSync(this.#tmp_path);
    } catch {
      // removed at the next open (removeTempFiles)
    }
  }

  /** Ends the hint for a segment of `size` bytes and puts it in place. */
  seal(size: number): void {
    this.builder.finish(size);
    if (this.#file === null) return;
    this.close();
    try {
      Deno.renameSync(this.#tmp_path, join(this.dir, segmentName(this.segment_id, HINT_EXT)));
    } catch {
      this.#abandon(); // an I/O error (disk full, ...): this segment goes without a hint
    }
  }

  /** Closes the file; an unsealed hint's temp file is removed at the next open. */
  close(): void {
    this.#file?.close();
    this.#file = null;
  }
}

/** Tuning knobs; every one has a default. */
export interface KvEngineOptions {
  /** A segment is sealed (and its hint written) once it reaches this size. */
  segment_size_bytes?: number;
  /** Bound on cached point-read values. */
  read_cache_bytes?: number;
  /** Compact a sealed segment when live ops / ops is at most this. */
  compact_max_live_ratio?: number;
  /** Segment bytes one `compactStep()` processes by default. */
  compact_step_bytes?: number;
}

/** Options for `write`. */
export interface WriteOptions {
  /** fdatasync before returning. */
  sync?: boolean;
}

const DEFAULTS: Required<KvEngineOptions> = {
  segment_size_bytes: 64 * 1024 * 1024,
  read_cache_bytes: 8 * 1024 * 1024,
  compact_max_live_ratio: 0.5,
  compact_step_bytes: 1024 * 1024,
};
const EXT = "kv";
const HINT_EXT = "hint";
/** Cap on one batch; bigger data (snapshot ingest) is split across batches. */
export const BATCH_MAX_BYTES = 64 * 1024 * 1024;

/**
 * An ordered list of puts and deletes applied atomically by `write`. Keys and
 * values are referenced, not copied: do not mutate them until it is written.
 */
export class WriteBatch {
  /** The ops, in order. */
  readonly ops: BatchOp[] = [];
  /** Approximate encoded size. */
  size_bytes = 0;

  #add(op: Op, cf: Cf, key: Uint8Array, value: Uint8Array, likely_new = false): this {
    this.ops.push({ op, cf: CF_ID[cf], key, value, likely_new });
    this.size_bytes += 10 + key.length + value.length;
    if (!(this.size_bytes <= BATCH_MAX_BYTES)) assert.fail(`batch over ${BATCH_MAX_BYTES} bytes`);
    return this;
  }
  put(cf: Cf, key: Uint8Array, value: Uint8Array): this {
    return this.#add(Op.Put, cf, key, value);
  }
  /**
   * A put of a key the caller expects to be absent (a fresh record): the
   * index then walks its tree once instead of twice. A key that does exist is
   * still overwritten exactly as by `put`.
   */
  putNew(cf: Cf, key: Uint8Array, value: Uint8Array): this {
    return this.#add(Op.Put, cf, key, value, true);
  }
  delete(cf: Cf, key: Uint8Array): this {
    return this.#add(Op.Delete, cf, key, new Uint8Array(0));
  }
  /** Deletes start <= key < end; an empty `end` means to the end of the cf. */
  deleteRange(cf: Cf, start: Uint8Array, end: Uint8Array): this {
    return this.#add(Op.DeleteRange, cf, start, end);
  }
  get count(): number {
    return this.ops.length;
  }
}

/** A consistent, read-only view as of `snapshot()`; close it to release files. */
export class KvSnapshot extends KvView {
  #release: (() => void) | null;
  constructor(view: KvView, release: () => void) {
    super(view.trees, view.reader);
    this.#release = release;
  }
  close(): void {
    this.#release?.();
    this.#release = null;
  }
  [Symbol.dispose](): void {
    this.close();
  }
}

/** Sizes and counts, for metrics and the benchmark. */
export interface KvStats {
  keys: number;
  segments: number;
  disk_bytes: number;
  cache_bytes: number;
  compacting: boolean;
}

/** See the module comment. */
export class KvEngine {
  /** In-memory key index (internal to the engine and its compaction). */
  readonly index: KvIndex = new KvIndex();
  readonly opts: Required<KvEngineOptions>;
  /** Sealed segments and the head, by id. */
  readonly segments: Map<number, SegmentFile> = new Map();
  /** Compacted segments kept on disk while a snapshot may still read them. */
  readonly retired: Map<number, SegmentFile> = new Map();
  #head: SegmentFile;
  #reader: ValueReader;
  #live: KvView;
  #writer = new ByteWriter(64 * 1024);
  /** The head segment's hint, built as it is written. */
  #hint!: HeadHint;
  #pins = 0;
  #job: CompactionJob | null = null;
  #closed = false;

  private constructor(readonly dir: string, opts: KvEngineOptions) {
    this.opts = { ...DEFAULTS, ...opts };
    assert(this.opts.segment_size_bytes >= 1024);
    const cache = new ByteLru<number, Uint8Array>(this.opts.read_cache_bytes, (v) => v.length + 64);
    this.#reader = new ValueReader((id) => this.#segment(id), cache);
    this.#live = new KvView(this.index.trees, this.#reader);
    try {
      this.#head = this.#recover();
    } catch (e) {
      // A failed open must not leak the files it had opened.
      for (const seg of this.segments.values()) seg.close();
      (this.#hint as HeadHint | undefined)?.close();
      throw e;
    }
  }

  /** Opens (creating if needed) the engine in `dir`, recovering from a crash. */
  static open(dir: string, opts: KvEngineOptions = {}): KvEngine {
    Deno.mkdirSync(dir, { recursive: true });
    return new KvEngine(dir, opts);
  }

  #segment(id: number): SegmentFile {
    const s = this.segments.get(id) ?? this.retired.get(id);
    if (!s) assert.fail(`no segment ${id}`);
    return s;
  }

  get head(): SegmentFile {
    return this.#head;
  }

  #recover(): SegmentFile {
    removeTempFiles(this.dir);
    const ids = listSegments(this.dir, EXT);
    for (const [i, id] of ids.entries()) {
      const seg = SegmentFile.open(this.dir, id, EXT);
      this.segments.set(id, seg);
      this.index.statsFor(id);
      if (i < ids.length - 1) this.#loadSealed(seg);
      else this.#loadHead(seg);
    }
    if (ids.length > 0) return this.#segment(ids[ids.length - 1]);
    const head = SegmentFile.create(this.dir, 1, EXT);
    this.segments.set(1, head);
    this.index.statsFor(1);
    this.#hint = new HeadHint(this.dir, head.id);
    return head;
  }

  #loadSealed(seg: SegmentFile): void {
    const hint_path = join(this.dir, segmentName(seg.id, HINT_EXT));
    let hint: Uint8Array | null = null;
    try {
      hint = Deno.readFileSync(hint_path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const ok = hint !== null && readHint(hint, hint_path, seg.size, (o) => {
      this.#applyOp(o.op, o.cf, o.key, o.end, packLoc(seg.id, o.offset));
    });
    if (ok) return;
    const bytes = seg.readAll();
    this.#replay(seg, bytes, "strict");
    const rebuilt = buildHint(bytes, seg.path);
    try {
      writeFileAtomic(this.dir, segmentName(seg.id, HINT_EXT), rebuilt);
    } catch {
      // An I/O error on derived data: the next open scans this segment again.
    }
  }

  #loadHead(seg: SegmentFile): void {
    const bytes = seg.readAll();
    this.#hint = new HeadHint(this.dir, seg.id);
    const scan = this.#replay(seg, bytes, "tail", this.#hint.builder);
    if (scan < seg.size) seg.truncate(scan);
  }

  #replay(seg: SegmentFile, bytes: Uint8Array, mode: "tail" | "strict", hint?: HintBuilder) {
    return scanFrames(bytes, seg.path, mode, (body, frame_offset) => {
      decodeBatch(body, frame_offset, (o) => {
        this.#applyOp(o.op, o.cf, o.key, o.value, packLoc(seg.id, o.offset));
        hint?.add(o.op, o.cf, o.key, o.value, o.offset);
      });
    }).valid_bytes;
  }

  #applyOp(
    op: Op,
    cf: number,
    key: Uint8Array,
    value: Uint8Array,
    loc: number,
    likely_new = false,
  ): void {
    const k = bytesToKey(key);
    if (op === Op.Put) this.index.put(cf, k, loc, likely_new);
    else if (op === Op.Delete) this.index.delete(cf, k, locSegment(loc));
    else {
      const end = value.length === 0 ? null : bytesToKey(value);
      this.index.deleteRange(cf, k, end, locSegment(loc));
    }
  }

  #open(): void {
    if (this.#closed) assert.fail("engine is closed");
  }

  /** The value of `key` in `cf`, or undefined. */
  get(cf: Cf, key: Uint8Array): Uint8Array | undefined {
    this.#open();
    return this.#live.get(cf, key);
  }

  /**
   * Keys of `cf` in [start, end) (empty end = unbounded), counted up to `max`
   * from the live index: no values read, no snapshot taken (a snapshot's
   * clone makes the next writes copy the tree nodes they touch).
   */
  countKeys(cf: Cf, start: Uint8Array, end: Uint8Array, max: number): number {
    this.#open();
    return Math.max(0, Math.min(max, this.#live.count(cf, start, end)));
  }

  /** See KvView.scan: up to `limit` pairs in [start, end) (empty end = unbounded). */
  scan(cf: Cf, start: Uint8Array, end: Uint8Array, limit: number, reverse = false): KvPair[] {
    this.#open();
    return this.#live.scan(cf, start, end, limit, reverse);
  }

  /** See KvView.scanKeys: keys only, no value read from disk. */
  scanKeys(...args: Parameters<KvView["scanKeys"]>): Uint8Array[] {
    this.#open();
    return this.#live.scanKeys(...args);
  }

  /** A new, empty batch. */
  newBatch(): WriteBatch {
    return new WriteBatch();
  }

  /** Writes one batch atomically; see `writeMany`. */
  write(batch: WriteBatch, opts: WriteOptions = {}): void {
    this.writeMany([batch], opts);
  }

  /**
   * Writes batches, each atomic, with one write call and (if `sync`) one
   * fdatasync for all of them: the group-commit path for many regions.
   */
  writeMany(batches: readonly WriteBatch[], opts: WriteOptions = {}): void {
    this.#open();
    const ops = batches.filter((b) => b.count > 0).map((b) => b.ops);
    if (ops.length > 0) this.appendOps(ops);
    if (opts.sync) this.sync();
  }

  /** Appends op lists (one frame each) to the head and indexes them. Internal. */
  appendOps(batches: readonly (readonly BatchOp[])[]): void {
    const w = this.#writer;
    w.reset();
    const offsets = batches.map((ops) => encodeBatch(w, ops));
    if (this.#head.size > 0 && this.#head.size + w.length > this.opts.segment_size_bytes) {
      this.#rotate();
    }
    const at = this.#head.append(w.view());
    const id = this.#head.id;
    const hint = this.#hint.builder;
    // Indexed loops: entries() iterators allocate a pair per op on every write.
    for (let b = 0; b < batches.length; b++) {
      const ops = batches[b];
      const at_op = offsets[b];
      for (let i = 0; i < ops.length; i++) {
        const o = ops[i];
        const offset = at + at_op[i];
        this.#applyOp(o.op, o.cf, o.key, o.value, packLoc(id, offset), o.likely_new);
        hint.add(o.op, o.cf, o.key, o.value, offset);
      }
    }
    if (w.length > 1024 * 1024) this.#writer = new ByteWriter(64 * 1024);
  }

  /**
   * Seals the head: fdatasync, the hint built while it was written (not
   * synced: a hint is checked when read and rebuilt when bad), new head.
   */
  #rotate(): void {
    const old = this.#head;
    old.sync();
    this.#hint.seal(old.size);
    const head = SegmentFile.create(this.dir, old.id + 1, EXT);
    this.segments.set(head.id, head);
    this.index.statsFor(head.id);
    this.#head = head;
    this.#hint = new HeadHint(this.dir, head.id);
  }

  /** Makes every write so far durable (one fdatasync of the head). */
  sync(): void {
    this.#open();
    this.#head.sync();
  }

  /** True when writes since the last sync are pending. */
  get dirty(): boolean {
    return this.#head.dirty;
  }

  /** A consistent view that later writes and compaction do not change. */
  snapshot(): KvSnapshot {
    this.#open();
    const trees = this.index.trees.map((t) => t.clone());
    this.#pins++;
    return new KvSnapshot(new KvView(trees, this.#reader), () => this.#unpin());
  }

  #unpin(): void {
    assert(this.#pins > 0);
    this.#pins--;
    if (this.#pins === 0) this.#dropRetired();
  }

  #dropRetired(): void {
    if (this.retired.size === 0) return;
    for (const seg of this.retired.values()) seg.remove();
    this.retired.clear();
    fsyncDir(this.dir);
  }

  /**
   * Replaces [start, end) of each cf in `cfs` with `pairs` (a region snapshot),
   * then writes `last` (e.g. the region's apply state) and syncs. Written as
   * several batches of at most `chunk_bytes`: a crash part-way leaves the range
   * partly filled under the old apply state, and the store re-ingests.
   */
  ingest(
    range: { cfs: readonly Cf[]; start: Uint8Array; end: Uint8Array },
    pairs: Iterable<[Cf, Uint8Array, Uint8Array]>,
    last?: WriteBatch,
    chunk_bytes = 4 * 1024 * 1024,
  ): void {
    let b = this.newBatch();
    for (const cf of range.cfs) b.deleteRange(cf, range.start, range.end);
    for (const [cf, k, v] of pairs) {
      b.put(cf, k, v);
      if (b.size_bytes >= chunk_bytes) {
        this.write(b);
        b = this.newBatch();
      }
    }
    for (const o of last?.ops ?? []) b.ops.push(o);
    this.write(b, { sync: true });
  }

  /**
   * One bounded step of background compaction (call it between worker loop
   * iterations). Returns true while there is more to do.
   */
  compactStep(budget_bytes = this.opts.compact_step_bytes): boolean {
    this.#open();
    if (!this.#job) {
      const victim = pickVictim(this);
      if (!victim) return false;
      this.#job = new CompactionJob(this, victim.id, victim.drop_tombstones);
    }
    if (this.#job.step(budget_bytes)) return true;
    this.#job = null;
    IO_STATS.compactions++;
    return true;
  }

  /** Runs compaction until no segment qualifies. */
  compact(): void {
    for (let i = 0; i < 1_000_000 && this.compactStep(); i++) {
      // each step is bounded; the loop bound guards against a policy bug
    }
  }

  /** Removes a compacted segment (after its live data was copied and synced). Internal. */
  retire(id: number): void {
    const seg = this.#segment(id);
    assert(id !== this.#head.id, "cannot retire the head");
    this.segments.delete(id);
    this.index.stats.delete(id);
    try {
      Deno.removeSync(join(this.dir, segmentName(id, HINT_EXT)));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    if (this.#pins > 0) this.retired.set(id, seg);
    else seg.remove();
    fsyncDir(this.dir);
  }

  /** Sizes and counts. */
  stats(): KvStats {
    let disk_bytes = 0;
    for (const s of this.segments.values()) disk_bytes += s.size;
    return {
      keys: this.index.key_count,
      segments: this.segments.size,
      disk_bytes,
      cache_bytes: this.#reader.cache.bytes,
      compacting: this.#job !== null,
    };
  }

  /** Syncs and closes every file. Open snapshots must be closed first. */
  close(): void {
    if (this.#closed) return;
    assert.equal(this.#pins, 0, "close() with open snapshots");
    this.#head.sync();
    this.#hint.close();
    for (const s of this.segments.values()) s.close();
    this.segments.clear();
    this.#closed = true;
  }
}
