/**
 * Reading values: point reads through a bounded LRU cache, sequential reads
 * (scans, snapshots) through a small adaptive read-ahead (or read-behind)
 * window, and the
 * `KvView` that answers get/scan/entries over a set of key trees (the live
 * trees, or a snapshot's copy-on-write clones).
 * @module
 */
import assert from "node:assert/strict";
import { bytesToKey, keyToBytes, locOffset, locSegment } from "./bytes.ts";
import type { ByteLru } from "./cache.ts";
import type { SegmentFile } from "./files.ts";
import { type Cf, CF_ID, Op, OP_HEADER_BYTES } from "./kv_format.ts";
import type { KeyTree } from "./kv_index.ts";

/** A key and its value. */
export type KvPair = [key: Uint8Array, value: Uint8Array];

const SPECULATIVE_VALUE_BYTES = 120;
const WINDOW_MIN_BYTES = 4 * 1024;
const WINDOW_MAX_BYTES = 256 * 1024;

/** Little-endian u32 at `at` (no DataView allocation on the hot path). */
function u32At(buf: Uint8Array, at: number): number {
  return (buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16)) + buf[at + 3] * 0x100_0000;
}

/** Reads values by packed location from the engine's segment files. */
export class ValueReader {
  #win_seg = -1;
  #win_off = 0;
  #win = new Uint8Array(0);
  #win_size = WINDOW_MIN_BYTES;

  constructor(
    readonly segment: (id: number) => SegmentFile,
    readonly cache: ByteLru<number, Uint8Array>,
  ) {}

  /** Point read: cache, else one speculative read sized for small values. */
  get(loc: number, key_len: number): Uint8Array {
    const hit = this.cache.get(loc);
    if (hit) return hit;
    const seg = this.segment(locSegment(loc));
    const off = locOffset(loc);
    const head = new Uint8Array(OP_HEADER_BYTES + key_len + SPECULATIVE_VALUE_BYTES);
    const n = seg.readAt(off, head);
    const value_len = this.#checkHeader(head, 0, n, key_len, loc);
    const start = OP_HEADER_BYTES + key_len;
    let value: Uint8Array;
    if (start + value_len <= n) value = head.slice(start, start + value_len);
    else {
      value = new Uint8Array(value_len);
      const got = seg.readAt(off + start, value);
      if (got !== value_len) assert.fail(`short value read at ${loc}`);
    }
    this.cache.set(loc, value);
    return value;
  }

  /** Sequential read: served from a read-ahead window that grows while reads hit it. */
  scanGet(loc: number, key_len: number): Uint8Array {
    const seg_id = locSegment(loc);
    const off = locOffset(loc);
    const need_min = OP_HEADER_BYTES + key_len;
    const rel = off - this.#win_off;
    const inWindow = seg_id === this.#win_seg && rel >= 0 && rel + need_min <= this.#win.length;
    if (inWindow) {
      const value_len = u32At(this.#win, rel + 6);
      if (rel + need_min + value_len <= this.#win.length) {
        this.#win_size = Math.min(this.#win_size * 2, WINDOW_MAX_BYTES);
        this.#checkHeader(this.#win, rel, this.#win.length, key_len, loc);
        return this.#win.slice(rel + need_min, rel + need_min + value_len);
      }
    }
    // Records written one after another are often read in the opposite order
    // (LPUSH prepends: ascending keys were written last first). A miss just
    // below the window reads the window that ends here, so the next ones hit.
    const backward = seg_id === this.#win_seg && off < this.#win_off &&
      this.#win_off - off <= this.#win_size;
    if (!inWindow && !backward) this.#win_size = WINDOW_MIN_BYTES;
    else this.#win_size = Math.min(this.#win_size * 2, WINDOW_MAX_BYTES);
    const start = backward ? Math.max(0, off + WINDOW_MIN_BYTES - this.#win_size) : off;
    const buf = new Uint8Array(backward ? off - start + WINDOW_MIN_BYTES : this.#win_size);
    const n = this.segment(seg_id).readAt(start, buf);
    const rel_here = off - start;
    const value_len = this.#checkHeader(buf, rel_here, n, key_len, loc);
    if (rel_here + need_min + value_len > n) return this.get(loc, key_len);
    this.#win = buf.subarray(0, n);
    this.#win_seg = seg_id;
    this.#win_off = start;
    return this.#win.slice(rel_here + need_min, rel_here + need_min + value_len);
  }

  /** Checks the op header at buf[at..] (n bytes valid) and returns the value length. */
  #checkHeader(buf: Uint8Array, at: number, n: number, key_len: number, loc: number): number {
    if (n - at < OP_HEADER_BYTES + key_len) assert.fail(`short read at location ${loc}`);
    if (buf[at] !== Op.Put) assert.fail(`index points at a non-put at location ${loc}`);
    if (u32At(buf, at + 2) !== key_len) assert.fail(`key length mismatch at location ${loc}`);
    return u32At(buf, at + 6);
  }
}

/** get/scan/entries over a fixed set of key trees. */
export class KvView {
  constructor(readonly trees: readonly KeyTree[], readonly reader: ValueReader) {}

  /** The value of `key`, or undefined. */
  get(cf: Cf, key: Uint8Array): Uint8Array | undefined {
    const loc = this.trees[CF_ID[cf]].get(bytesToKey(key));
    return loc === undefined ? undefined : this.reader.get(loc, key.length);
  }

  /**
   * Up to `limit` pairs with start <= key < end (empty `end` = no upper bound),
   * ascending, or descending from just below `end` when `reverse`.
   */
  scan(cf: Cf, start: Uint8Array, end: Uint8Array, limit: number, reverse = false): KvPair[] {
    assert(limit >= 0);
    const out: KvPair[] = [];
    if (limit === 0) return out;
    for (const pair of this.entries(cf, start, end, reverse)) {
      out.push(pair);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Up to `limit` keys in [start, end), ordered as {@link scan}'s, without reading a value. */
  scanKeys(
    cf: Cf,
    start: Uint8Array,
    end: Uint8Array,
    limit: number,
    reverse = false,
  ): Uint8Array[] {
    assert(limit >= 0);
    const out: Uint8Array[] = [];
    if (limit === 0) return out;
    for (const [k] of this.locations(cf, start, end, reverse)) {
      out.push(keyToBytes(k));
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Iterates [start, end) lazily; the caller may stop at any point. */
  *entries(cf: Cf, start: Uint8Array, end: Uint8Array, reverse = false): Generator<KvPair> {
    for (const [k, loc] of this.locations(cf, start, end, reverse)) {
      yield [keyToBytes(k), this.reader.scanGet(loc, k.length)];
    }
  }

  /**
   * Keys in [start, end) (empty `end` = no upper bound). Counted by the tree
   * per leaf (no callback, nothing allocated): a region of 100k keys takes
   * ~1.5k leaf visits, where iterating took 100k yields and as many arrays.
   */
  count(cf: Cf, start: Uint8Array, end: Uint8Array): number {
    const tree = this.trees[CF_ID[cf]];
    const lo = bytesToKey(start);
    if (end.length > 0) return tree.forRange(lo, bytesToKey(end), false);
    const last = tree.maxKey();
    return last === undefined || last < lo ? 0 : tree.forRange(lo, last, true);
  }

  /** Keys (binary strings) and locations in [start, end), without reading values. */
  *locations(
    cf: Cf,
    start: Uint8Array,
    end: Uint8Array,
    reverse = false,
  ): Generator<[string, number]> {
    const tree = this.trees[CF_ID[cf]];
    const lo = bytesToKey(start);
    const hi = end.length === 0 ? null : bytesToKey(end);
    if (!reverse) {
      for (const [k, loc] of tree.entries(lo)) {
        if (hi !== null && k >= hi) return;
        yield [k, loc];
      }
      return;
    }
    const it = hi === null ? tree.entriesReversed() : tree.entriesReversed(hi, undefined, true);
    for (const [k, loc] of it) {
      if (k < lo) return;
      yield [k, loc];
    }
  }
}
