/**
 * Redis's strict integer parsing (util.c `string2ll`): optional '-', no '+',
 * no leading zeros, no spaces, within int64.
 * @module
 */

const I64_MAX = 2n ** 63n - 1n;
const I64_MIN = -(2n ** 63n);

/** Parses bytes as an int64 exactly like Redis's string2ll; null when invalid. */
export function parseI64(b: Uint8Array, start = 0, end = b.length): bigint | null {
  const n = end - start;
  if (n === 0 || n > 20) return null;
  if (n === 1 && b[start] === 0x30) return 0n;
  let i = start;
  let neg = false;
  if (b[i] === 0x2d) {
    neg = true;
    i++;
    if (i === end) return null;
  }
  if (b[i] < 0x31 || b[i] > 0x39) return null;
  let s = "";
  for (; i < end; i++) {
    if (b[i] < 0x30 || b[i] > 0x39) return null;
    s += String.fromCharCode(b[i]);
  }
  const v = neg ? -BigInt(s) : BigInt(s);
  if (v > I64_MAX || v < I64_MIN) return null;
  return v;
}

/** Digits a number may have and still be exact in a double. */
const FAST_DIGITS = 15;

/**
 * {@link parseI64} as a JS number: exact for the usual short ones (no BigInt
 * on the hot path), Number(int64) for long ones, NaN when invalid.
 */
export function parseI64Number(b: Uint8Array, start = 0, end = b.length): number {
  const neg = b[start] === 0x2d;
  const from = neg ? start + 1 : start;
  const digits = end - from;
  if (digits < 1 || digits > FAST_DIGITS) {
    const v = parseI64(b, start, end);
    return v === null ? NaN : Number(v);
  }
  if (digits > 1 && b[from] === 0x30) return NaN; // no leading zeros
  let n = 0;
  for (let i = from; i < end; i++) {
    const d = b[i] - 0x30;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  if (neg && n === 0) return NaN; // "-0" is not an int64 either
  return neg ? -n : n;
}

/** {@link parseI64} as a JS number; null when invalid or beyond ±2^53. */
export function parseSafeInt(b: Uint8Array): number | null {
  const n = parseI64Number(b);
  return Number.isSafeInteger(n) ? n : null;
}

/** int64 bounds. */
export const INT64 = { max: I64_MAX, min: I64_MIN } as const;
