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

/** {@link parseI64} as a JS number; null when invalid or beyond ±2^53. */
export function parseSafeInt(b: Uint8Array): number | null {
  const v = parseI64(b);
  if (v === null) return null;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : null;
}

/** int64 bounds. */
export const INT64 = { max: I64_MAX, min: I64_MIN } as const;
