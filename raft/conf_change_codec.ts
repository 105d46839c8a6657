/**
 * Protobuf wire encoding of `eraftpb.ConfChange` (three fields), so raft/ can
 * put a conf change in an entry's `data` without a protobuf runtime; the bytes
 * are what protobufjs produces and accepts for the same message.
 * @module
 */
import type { ConfChange, ConfChangeType } from "@eraft/proto/gen/eraftpb.ts";
import { assert } from "./assert.ts";

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;
/** Upper bound on fields read from one ConfChange (bounded loop). */
const MAX_FIELDS = 64;

/** Encodes a ConfChange (proto3: zero/empty fields are omitted). */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  const out: number[] = [];
  if (cc.change_type !== 0) {
    out.push((1 << 3) | WIRE_VARINT);
    pushVarint(out, cc.change_type);
  }
  if (cc.node_id !== 0) {
    out.push((2 << 3) | WIRE_VARINT);
    pushVarint(out, cc.node_id);
  }
  if (cc.context.byteLength > 0) {
    out.push((3 << 3) | WIRE_LEN);
    pushVarint(out, cc.context.byteLength);
    for (const b of cc.context) out.push(b);
  }
  return new Uint8Array(out);
}

/** Decodes a ConfChange; unknown fields are skipped. */
export function decodeConfChange(data: Uint8Array): ConfChange {
  const cc: ConfChange = { change_type: 0, node_id: 0, context: new Uint8Array(0) };
  const cur = { pos: 0 };
  for (let n = 0; cur.pos < data.byteLength; n++) {
    assert(n < MAX_FIELDS, "conf change has too many fields");
    const key = readVarint(data, cur);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 1 && wire === WIRE_VARINT) {
      cc.change_type = readVarint(data, cur) as ConfChangeType;
    } else if (field === 2 && wire === WIRE_VARINT) {
      cc.node_id = readVarint(data, cur);
    } else if (field === 3 && wire === WIRE_LEN) {
      const len = readVarint(data, cur);
      assert(cur.pos + len <= data.byteLength, "conf change context overruns");
      cc.context = data.slice(cur.pos, cur.pos + len);
      cur.pos += len;
    } else {
      skipField(data, cur, wire);
    }
  }
  return cc;
}

function pushVarint(out: number[], value: number): void {
  assert(Number.isSafeInteger(value) && value >= 0, "varint must be a non-negative safe integer");
  let v = value;
  for (let i = 0; i < 10; i++) {
    if (v < 0x80) {
      out.push(v);
      return;
    }
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
}

function readVarint(data: Uint8Array, cur: { pos: number }): number {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    assert(cur.pos < data.byteLength, "truncated varint");
    const b = data[cur.pos++];
    result += (b & 0x7f) * mul;
    if (b < 0x80) return result;
    mul *= 0x80;
  }
  throw new Error("varint too long");
}

function skipField(data: Uint8Array, cur: { pos: number }, wire: number): void {
  if (wire === WIRE_VARINT) readVarint(data, cur);
  else if (wire === WIRE_I64) cur.pos += 8;
  else if (wire === WIRE_I32) cur.pos += 4;
  else if (wire === WIRE_LEN) cur.pos += readVarint(data, cur);
  else throw new Error(`unsupported wire type ${wire}`);
  assert(cur.pos <= data.byteLength, "field overruns the conf change");
}
