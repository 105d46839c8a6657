/**
 * Byte-string helpers shared by the encoding, the backend and the commands.
 * Keys and values are `Uint8Array`; comparisons are unsigned lexicographic,
 * the order of the store's engine.
 * @module
 */

import { BytePool, concatBytes, EMPTY_BYTES, readU64BE, writeU64BE } from "@eraft/shared/bytes";

export { EMPTY_BYTES };

/**
 * The db's pool for bytes that live as long as one request: arguments, keys,
 * decoded values, replies (see BytePool; the db posts nothing to workers).
 */
export const requestBytes: BytePool = new BytePool();

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 encodes a JS string. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Decodes UTF-8 (invalid sequences become U+FFFD; use only for display). */
export function str(b: Uint8Array): string {
  return decoder.decode(b);
}

/** Maps bytes 1:1 onto a string of code units 0..255 (order-preserving, lossless). */
export function latin1(b: Uint8Array): string {
  let s = "";
  // Short keys (the common case) are fastest char by char; longer ones in
  // chunks through apply (spreading a typed array goes through its iterator,
  // several times slower).
  if (b.length <= 64) {
    for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
    return s;
  }
  const chunk_len = 8192;
  for (let i = 0; i < b.length; i += chunk_len) {
    const part = b.subarray(i, Math.min(b.length, i + chunk_len));
    s += String.fromCharCode.apply(null, part as unknown as number[]);
  }
  return s;
}

/** Inverse of {@link latin1}. */
export function fromLatin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}

/** Unsigned lexicographic comparison: negative, zero or positive. */
export function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

/** Byte equality. */
export function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True when `p` is a prefix of `b`. */
export function hasPrefix(b: Uint8Array, p: Uint8Array): boolean {
  if (p.length > b.length) return false;
  for (let i = 0; i < p.length; i++) if (b[i] !== p[i]) return false;
  return true;
}

/**
 * The smallest key greater than every key starting with `p` (exclusive end of
 * a prefix scan). Empty result means "no upper bound" (p was all 0xff).
 */
export function prefixEnd(p: Uint8Array): Uint8Array {
  const out = p.slice();
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] !== 0xff) {
      out[i]++;
      return out.subarray(0, i + 1);
    }
  }
  return EMPTY_BYTES;
}

/** Writes a non-negative safe integer as 8 bytes big-endian at `off`. */
export function putU64(buf: Uint8Array, off: number, n: number): void {
  if (off + 8 > buf.length) throw new RangeError(`u64 at ${off} past ${buf.length} bytes`);
  writeU64BE(buf, off, n); // no DataView: one costs ~0.13 µs to make
}

/** Reads 8 bytes big-endian at `off` as a safe integer (asserts it is one). */
export function getU64(buf: Uint8Array, off: number): number {
  if (off + 8 > buf.length) throw new RangeError(`u64 at ${off} past ${buf.length} bytes`);
  const n = readU64BE(buf, off);
  if (!Number.isSafeInteger(n)) throw new Error("u64 beyond 2^53 in record");
  return n;
}

/** 8-byte big-endian encoding of a non-negative safe integer. */
export function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  putU64(b, 0, n);
  return b;
}

/** 4-byte big-endian encoding of a u32. */
export function u32(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`u32 out of range: ${n}`);
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}
