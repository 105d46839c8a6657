/**
 * KV compaction (Bitcask "merge"), done incrementally so writers are never
 * blocked for long: each `step` reads a bounded slice of one sealed segment,
 * copies the records the index still points at to the head, and when the
 * segment is done, syncs the head and deletes the segment.
 *
 * Tombstones: a point delete is copied forward only while an older segment
 * could still hold a put of that key (so the victim is not the oldest file on
 * disk) and the key is still absent; the oldest segment drops them all. A
 * range delete cannot be moved forward safely (it would also hit keys written
 * after it), so a segment holding one is compacted only when it is the oldest.
 * @module
 */
import assert from "node:assert/strict";
import { bytesToKey, packLoc } from "./bytes.ts";
import type { SegmentFile } from "./files.ts";
import { type BatchOp, decodeBatch, Op } from "./kv_format.ts";
import type { KvEngine } from "./kv.ts";
import { CorruptionError, FRAME_HEADER_BYTES, validFrameAt } from "./record.ts";

/** The segment to compact next, or null when none is worth it. */
export function pickVictim(e: KvEngine): { id: number; drop_tombstones: boolean } | null {
  const ids = [...e.segments.keys()].filter((id) => id !== e.head.id).sort((a, b) => a - b);
  let best: { id: number; drop_tombstones: boolean } | null = null;
  let best_ratio = e.opts.compact_max_live_ratio;
  for (const [i, id] of ids.entries()) {
    const retired_below = [...e.retired.keys()].some((r) => r < id);
    const oldest = i === 0 && !retired_below;
    const s = e.index.stats.get(id);
    if (!s) assert.fail(`no stats for segment ${id}`);
    if (!oldest && s.range_deletes > 0) continue;
    const live = s.live_puts + (oldest ? 0 : s.tombstones);
    const ratio = s.ops === 0 ? 0 : live / s.ops;
    if (ratio <= best_ratio && (best === null || ratio < best_ratio)) {
      best = { id, drop_tombstones: oldest };
      best_ratio = ratio;
    }
  }
  return best;
}

/** Whole frames from `pos`, reading about `budget_bytes` (at least one frame). */
function readFrames(
  seg: SegmentFile,
  pos: number,
  budget_bytes: number,
): { frames: [Uint8Array, number][]; next: number } {
  const header = new Uint8Array(FRAME_HEADER_BYTES);
  assert.equal(seg.readAt(pos, header), FRAME_HEADER_BYTES, `short read in ${seg.path}`);
  const first = FRAME_HEADER_BYTES + new DataView(header.buffer).getUint32(0, true);
  const size = Math.min(Math.max(budget_bytes, first), seg.size - pos);
  const buf = new Uint8Array(size);
  assert.equal(seg.readAt(pos, buf), size, `short read in ${seg.path}`);
  const frames: [Uint8Array, number][] = [];
  let p = 0;
  while (p + FRAME_HEADER_BYTES <= buf.length) {
    const len = new DataView(buf.buffer, p, 4).getUint32(0, true);
    if (p + FRAME_HEADER_BYTES + len > buf.length && frames.length > 0) break;
    if (validFrameAt(buf, p) !== len) {
      throw new CorruptionError(seg.path, pos + p, "bad record found by compaction");
    }
    frames.push([buf.subarray(p + FRAME_HEADER_BYTES, p + FRAME_HEADER_BYTES + len), pos + p]);
    p += FRAME_HEADER_BYTES + len;
  }
  assert(frames.length > 0);
  return { frames, next: pos + p };
}

/** Compaction of one segment, advanced by `step`. */
export class CompactionJob {
  #pos = 0;

  constructor(
    readonly engine: KvEngine,
    readonly id: number,
    readonly drop_tombstones: boolean,
  ) {}

  /** Processes about `budget_bytes`; returns false once the segment is gone. */
  step(budget_bytes: number): boolean {
    const seg = this.engine.segments.get(this.id);
    if (!seg) assert.fail(`compaction victim ${this.id} vanished`);
    if (this.#pos >= seg.size) {
      this.engine.sync(); // the copies are durable before the original goes
      this.engine.retire(this.id);
      return false;
    }
    const { frames, next } = readFrames(seg, this.#pos, budget_bytes);
    const keep: BatchOp[] = [];
    for (const [body, frame_offset] of frames) {
      decodeBatch(body, frame_offset, (o) => {
        if (this.#live(o.op, o.cf, o.key, o.offset)) keep.push(o);
      });
    }
    if (keep.length > 0) this.engine.appendOps([keep]);
    this.#pos = next;
    return true;
  }

  #live(op: Op, cf: number, key: Uint8Array, offset: number): boolean {
    const tree = this.engine.index.trees[cf];
    if (op === Op.Put) return tree.get(bytesToKey(key)) === packLoc(this.id, offset);
    if (op === Op.Delete) return !this.drop_tombstones && !tree.has(bytesToKey(key));
    assert(this.drop_tombstones, "range delete in a segment that is not the oldest");
    return false;
  }
}
