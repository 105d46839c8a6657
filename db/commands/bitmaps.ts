/**
 * Bitmaps on string values, as Redis 7.0's bitops.c answers them: SETBIT,
 * GETBIT, BITCOUNT and BITPOS (ranges in bytes or, with BIT, in bits). Bit 0
 * is the most significant bit of the first byte; a string reads as if padded
 * with zero bytes on the right.
 * @module
 */
import { EMPTY_BYTES } from "../encoding/bytes.ts";
import { parseI64 } from "../resp/int.ts";
import { err, Errors, int, type Reply } from "../resp/reply.ts";
import { runRead, runWrite } from "../txn.ts";
import { fail, lower, numArg } from "./args.ts";
import { currentExpiry, readString, writeString } from "./strings.ts";
import { type Call, type CommandSpec, spec } from "./types.ts";

const OFFSET_ERROR = "ERR bit offset is not an integer or out of range";
const BIT_ERROR = "ERR bit is not an integer or out of range";

/** A bit offset whose byte fits a string of at most `max_bytes` (getBitOffsetFromArgument). */
function bitOffset(arg: Uint8Array, max_bytes: number): number {
  const v = parseI64(arg);
  if (v === null || v < 0n || v >> 3n >= BigInt(max_bytes)) fail(OFFSET_ERROR);
  return Number(v);
}

function bitAt(s: Uint8Array, offset: number): number {
  const byte = Math.floor(offset / 8);
  return byte < s.length ? (s[byte] >> (7 - (offset % 8))) & 1 : 0;
}

function setbit(c: Call): Promise<Reply> {
  const key = c.args[1];
  const offset = bitOffset(c.args[2], c.db.max_bulk_bytes);
  const on = parseI64(c.args[3]);
  if (on !== 0n && on !== 1n) fail(BIT_ERROR);
  return runWrite(c.db, [key], async (t) => {
    const cur = await readString(t, key);
    const old = cur === null ? 0 : bitAt(cur, offset);
    const byte = Math.floor(offset / 8);
    if (cur !== null && byte < cur.length && old === Number(on)) return int(old);
    const out = new Uint8Array(Math.max(cur?.length ?? 0, byte + 1));
    out.set(cur ?? EMPTY_BYTES);
    const mask = 1 << (7 - (offset % 8));
    out[byte] = on ? out[byte] | mask : out[byte] & ~mask;
    writeString(t, key, out, await currentExpiry(t, key));
    return int(old);
  });
}

function getbit(c: Call): Promise<Reply> {
  const offset = bitOffset(c.args[2], c.db.max_bulk_bytes);
  return runRead(c.db, async (t) => {
    const cur = await readString(t, c.args[1]);
    return int(cur === null ? 0 : bitAt(cur, offset));
  });
}

/**
 * The bit range [from, to] that `start end [BYTE|BIT]` names in a string of
 * `len` bytes, after Redis's negative-index rules; null when it is empty.
 */
function bitRange(
  start: number,
  end: number,
  unit_bits: boolean,
  len: number,
): [number, number] | null {
  const total = unit_bits ? len * 8 : len;
  if (start < 0) start += total;
  if (end < 0) end += total;
  start = Math.max(0, start);
  end = Math.min(Math.max(0, end), total - 1);
  if (start > end) return null;
  return unit_bits ? [start, end] : [start * 8, end * 8 + 7];
}

/** BYTE or BIT (any case) at `c.args[i]`, when present. */
function unitIsBit(c: Call, i: number): boolean {
  if (i >= c.args.length) return false;
  const unit = lower(c.args[i]);
  if (unit !== "bit" && unit !== "byte") fail(Errors.syntax);
  return unit === "bit";
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let x = b; x > 0; x >>= 1) n += x & 1;
  return n;
});

/** Set bits in bit positions [from, to] of `s`. */
function countBits(s: Uint8Array, from: number, to: number): number {
  let n = 0, i = from;
  for (; i <= to && i % 8 !== 0; i++) n += bitAt(s, i);
  for (; i + 7 <= to; i += 8) n += POPCOUNT[s[i / 8]];
  for (; i <= to; i++) n += bitAt(s, i);
  return n;
}

function bitcount(c: Call): Promise<Reply> {
  return runRead(c.db, async (t) => {
    // Redis looks the key up before it reads the range: a missing key is 0 whatever follows.
    const cur = await readString(t, c.args[1]);
    if (cur === null) return int(0);
    if (c.args.length === 2) return int(countBits(cur, 0, cur.length * 8 - 1));
    if (c.args.length !== 4 && c.args.length !== 5) return err(Errors.syntax);
    const start = numArg(c.args[2]), end = numArg(c.args[3]);
    // Two negative indexes in the wrong order count nothing, before the unit is read
    // (BITPOS has no such rule: it clamps them to 0).
    if (start < 0 && end < 0 && start > end) return int(0);
    const range = bitRange(start, end, unitIsBit(c, 4), cur.length);
    return int(range ? countBits(cur, range[0], range[1]) : 0);
  });
}

/** First bit position in [from, to] holding `bit`, or -1. */
function findBit(s: Uint8Array, bit: number, from: number, to: number): number {
  const skip = bit === 1 ? 0x00 : 0xff; // bytes that cannot hold the bit sought
  for (let i = from; i <= to;) {
    if (i % 8 === 0 && i + 7 <= to && s[i / 8] === skip) {
      i += 8;
      continue;
    }
    if (bitAt(s, i) === bit) return i;
    i++;
  }
  return -1;
}

function bitpos(c: Call): Promise<Reply> {
  const b = parseI64(c.args[2]);
  if (b === null) fail(Errors.notInteger);
  if (b !== 0n && b !== 1n) return Promise.resolve(err("ERR The bit argument must be 1 or 0."));
  const bit = Number(b);
  return runRead(c.db, async (t) => {
    // A missing key is an endless run of zero bits.
    const cur = await readString(t, c.args[1]);
    if (cur === null) return int(bit === 1 ? -1 : 0);
    if (c.args.length > 6) return err(Errors.syntax);
    const start = c.args.length > 3 ? numArg(c.args[3]) : 0;
    const unit_bits = unitIsBit(c, 5);
    const end_given = c.args.length > 4;
    const end = end_given ? numArg(c.args[4]) : (unit_bits ? cur.length * 8 : cur.length) - 1;
    const range = bitRange(start, end, unit_bits, cur.length);
    if (range === null) return int(-1);
    const found = findBit(cur, bit, range[0], range[1]);
    if (found !== -1 || bit === 1) return int(found);
    // No clear bit inside: without an explicit end, the padding right of the string has one.
    return int(end_given ? -1 : range[1] + 1);
  });
}

/** Bitmap command table rows. */
export const BITMAP_COMMANDS: CommandSpec[] = [
  spec("setbit", 4, "write denyoom", [1, 1, 1], "bitmap", "Set or clear one bit", setbit),
  spec("getbit", 3, "readonly fast", [1, 1, 1], "bitmap", "Read one bit", getbit),
  spec("bitcount", -2, "readonly", [1, 1, 1], "bitmap", "Count set bits", bitcount),
  spec("bitpos", -3, "readonly", [1, 1, 1], "bitmap", "Find the first set or clear bit", bitpos),
];
