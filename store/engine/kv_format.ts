/**
 * KV record formats. Every record is a frame (see record.ts) whose body is:
 *
 *   batch:  kind=1 u8 | op_count u32 | op*
 *   op:     op u8 | cf u8 | key_len u32 | value_len u32 | key | value
 *
 * A whole write batch is one frame, so it is applied all or nothing across a
 * crash: its single checksum either holds or the frame is a torn tail. For
 * `DeleteRange` the value is the exclusive end key (empty = end of the cf).
 *
 * Hint files (`<segment>.hint`, built while the segment is written and put in
 * place when it is sealed, see HintBuilder) hold the same ops without values,
 * so a restart reads keys and locations only:
 *
 *   hint:   kind=2 u8 | count u32 | (op u8 | cf u8 | key_len u32 | value_len u32 |
 *           op_offset u32 | key | [end key for DeleteRange])*
 *   footer: kind=3 u8 | segment_size u64 | op_count u32   (last frame)
 * @module
 */
import assert from "node:assert/strict";
import { concatBytes } from "@eraft/shared/bytes";
import { ByteReader, ByteWriter } from "./bytes.ts";
import { beginFrame, FRAME_HEADER_BYTES, scanFrames } from "./record.ts";

/** Column families, in id order. `raft` holds region meta (apply/region state). */
export const CFS = ["default", "lock", "write", "raft"] as const;
/** A column family name. */
export type Cf = typeof CFS[number];
/** Column family -> id stored in records. */
export const CF_ID: Readonly<Record<Cf, number>> = { default: 0, lock: 1, write: 2, raft: 3 };

/** Op codes stored in records. */
export const Op = { Put: 1, Delete: 2, DeleteRange: 3 } as const;
/** An op code. */
export type Op = typeof Op[keyof typeof Op];

/** Bytes before an op's key: op, cf, key_len, value_len. */
export const OP_HEADER_BYTES = 10;
const KIND_BATCH = 1;
const KIND_HINT = 2;
const KIND_HINT_FOOTER = 3;
const HINT_FRAME_TARGET_BYTES = 64 * 1024;

/** One operation of a write batch. For DeleteRange, `value` is the end key. */
export interface BatchOp {
  op: Op;
  cf: number;
  key: Uint8Array;
  value: Uint8Array;
  /** A put the writer expects to create its key: an index hint only, never stored. */
  likely_new?: boolean;
}

/** Encodes one batch as one frame; returns each op's offset in `w`. */
export function encodeBatch(w: ByteWriter, ops: readonly BatchOp[]): number[] {
  if (ops.length === 0) assert.fail("empty batch");
  const frame = beginFrame(w);
  w.u8(KIND_BATCH);
  w.u32(ops.length);
  const offsets: number[] = [];
  for (const o of ops) {
    offsets.push(w.length);
    w.u8(o.op);
    w.u8(o.cf);
    w.u32(o.key.length);
    w.u32(o.value.length);
    w.bytes(o.key);
    w.bytes(o.value);
  }
  frame.end();
  return offsets;
}

/** An op as read back: `value` is a view into the record; `offset` is the op's file offset. */
export interface DecodedOp extends BatchOp {
  offset: number;
}

function checkOp(op: number, cf: number): void {
  if (op < Op.Put || op > Op.DeleteRange) throw new Error(`bad op ${op}`);
  if (cf >= CFS.length) throw new Error(`bad cf ${cf}`);
}

/** Decodes a batch frame body starting at file offset `frame_offset`. */
export function decodeBatch(
  body: Uint8Array,
  frame_offset: number,
  on_op: (o: DecodedOp) => void,
): void {
  const r = new ByteReader(body);
  const kind = r.u8();
  if (kind !== KIND_BATCH) throw new Error(`not a batch record (kind ${kind})`);
  const count = r.u32();
  for (let i = 0; i < count; i++) {
    const offset = frame_offset + FRAME_HEADER_BYTES + r.pos;
    const op = r.u8() as Op;
    const cf = r.u8();
    checkOp(op, cf);
    const key_len = r.u32();
    const value_len = r.u32();
    const key = r.bytes(key_len);
    const value = r.bytes(value_len);
    on_op({ op, cf, key, value, offset });
  }
  if (r.remaining !== 0) throw new Error(`${r.remaining} trailing bytes in batch`);
}

/** A hint entry: the op without its value (except a DeleteRange's end key). */
export interface HintOp {
  op: Op;
  cf: number;
  key: Uint8Array;
  value_len: number;
  /** DeleteRange end key; empty otherwise. */
  end: Uint8Array;
  offset: number;
}

/**
 * A segment's hint, built op by op as the segment is written (and, at
 * recovery, as its head is replayed), so sealing a segment writes the hint
 * without reading the segment back: re-reading and re-checking a 64 MiB
 * segment stalled its worker ~1 s, on every replica, every ~50 s of writes.
 * Frames are kept as finished chunks of ~HINT_FRAME_TARGET_BYTES each, so the
 * hint never needs one large buffer.
 */
export class HintBuilder {
  readonly #chunks: Uint8Array[] = [];
  /**
   * `sink` takes each finished chunk (a view, valid only during the call);
   * without one the builder keeps copies and `finish` returns them.
   */
  constructor(readonly sink?: (chunk: Uint8Array) => void) {}

  #w = new ByteWriter(HINT_FRAME_TARGET_BYTES + 1024);
  #frame: { start: number; end: () => void } | null = null;
  #count_at = 0;
  #in_frame = 0;
  #op_count = 0;
  #finished = false;

  /** Ops recorded so far. */
  get op_count(): number {
    return this.#op_count;
  }

  /**
   * Records one op written at file offset `offset`: its value's length, and
   * the value itself for a DeleteRange (its end key).
   */
  add(op: Op, cf: number, key: Uint8Array, value: Uint8Array, offset: number) {
    // Once per op written: node:assert's assert() costs ~0.1 µs a call, this test ~1 ns.
    if (this.#finished) assert.fail("hint already finished");
    if (this.#frame !== null && this.#w.length - this.#count_at > HINT_FRAME_TARGET_BYTES) {
      this.#endFrame();
    }
    if (this.#frame === null) this.#startFrame();
    const w = this.#w;
    w.u8(op);
    w.u8(cf);
    w.u32(key.length);
    w.u32(value.length);
    w.u32(offset);
    w.bytes(key);
    if (op === Op.DeleteRange) w.bytes(value);
    this.#in_frame++;
    this.#op_count++;
  }

  /**
   * Ends the hint of a segment of `segment_size` bytes; returns its chunks
   * (none when a sink took them).
   */
  finish(segment_size: number): Uint8Array[] {
    assert(!this.#finished, "hint already finished");
    this.#finished = true;
    if (this.#frame !== null || this.#op_count === 0) {
      if (this.#frame === null) this.#startFrame();
      this.#endFrame();
    }
    const w = this.#w;
    const footer = beginFrame(w);
    w.u8(KIND_HINT_FOOTER);
    w.u64(segment_size);
    w.u32(this.#op_count);
    footer.end();
    this.#emit(w.view());
    return this.#chunks;
  }

  #emit(chunk: Uint8Array): void {
    if (this.sink) this.sink(chunk);
    else this.#chunks.push(chunk.slice());
  }

  #startFrame(): void {
    this.#frame = beginFrame(this.#w);
    this.#w.u8(KIND_HINT);
    this.#count_at = this.#w.length;
    this.#w.u32(0);
    this.#in_frame = 0;
  }

  #endFrame(): void {
    this.#w.patchU32(this.#count_at, this.#in_frame);
    this.#frame!.end();
    this.#frame = null;
    this.#emit(this.#w.view());
    this.#w.length = 0;
  }
}

/** Builds the hint file for a sealed segment's bytes (already validated). */
export function buildHint(segment: Uint8Array, file: string): Uint8Array {
  const hint = new HintBuilder();
  scanFrames(segment, file, "strict", (body, frame_offset) => {
    decodeBatch(body, frame_offset, (o) => {
      hint.add(o.op, o.cf, o.key, o.value, o.offset);
    });
  });
  return concatBytes(hint.finish(segment.length));
}

/**
 * Replays a hint file. Returns false (caller falls back to scanning the
 * segment) when the hint does not describe a segment of `segment_size` bytes.
 * Hints are derived data, so a bad hint is never an error. Two passes: every
 * checksum and the footer are verified before the first op is applied, and
 * `on_op` gets one reused object (no allocation per key on the restart path).
 */
export function readHint(
  hint: Uint8Array,
  file: string,
  segment_size: number,
  on_op: (o: HintOp) => void,
): boolean {
  let counted = 0;
  let footer_ok = false;
  try {
    scanFrames(hint, file, "strict", (body) => {
      const r = new ByteReader(body);
      const kind = r.u8();
      if (footer_ok) throw new Error("record after hint footer");
      if (kind === KIND_HINT) counted += r.u32();
      else if (kind === KIND_HINT_FOOTER) {
        footer_ok = r.u64() === segment_size && r.u32() === counted;
        if (!footer_ok) throw new Error("hint footer does not match segment");
      } else throw new Error(`bad hint kind ${kind}`);
    });
    if (!footer_ok) return false;
    // Structure check without side effects, then the real pass.
    for (const apply of [false, true]) decodeHintOps(hint, file, apply ? on_op : null);
  } catch {
    return false;
  }
  return true;
}

function decodeHintOps(hint: Uint8Array, file: string, on_op: ((o: HintOp) => void) | null) {
  const o: HintOp = { op: Op.Put, cf: 0, key: hint, value_len: 0, end: hint, offset: 0 };
  const empty = new Uint8Array(0);
  scanFrames(hint, file, "strict", (body) => {
    const r = new ByteReader(body);
    if (r.u8() !== KIND_HINT) return;
    const count = r.u32();
    for (let i = 0; i < count; i++) {
      o.op = r.u8() as Op;
      o.cf = r.u8();
      checkOp(o.op, o.cf);
      const key_len = r.u32();
      o.value_len = r.u32();
      o.offset = r.u32();
      o.key = r.bytes(key_len);
      o.end = o.op === Op.DeleteRange ? r.bytes(o.value_len) : empty;
      on_op?.(o);
    }
    if (r.remaining !== 0) throw new Error("trailing bytes in hint record");
  });
}
