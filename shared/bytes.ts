/**
 * Byte-string helpers shared by every member: keys are Uint8Arrays ordered
 * bytewise (memcmp order), as in TiKV.
 * @module
 */

/** memcmp order: negative, zero or positive. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

/** True when `key` is in [start, end); an empty `end` means +infinity. */
export function inRange(key: Uint8Array, start: Uint8Array, end: Uint8Array): boolean {
  return compareBytes(key, start) >= 0 && (end.length === 0 || compareBytes(key, end) < 0);
}

/** True when [a_start, a_end) and [b_start, b_end) share a key (empty end = +infinity). */
export function rangesOverlap(
  a_start: Uint8Array,
  a_end: Uint8Array,
  b_start: Uint8Array,
  b_end: Uint8Array,
): boolean {
  const a_before_b = a_end.length > 0 && compareBytes(a_end, b_start) <= 0;
  const b_before_a = b_end.length > 0 && compareBytes(b_end, a_start) <= 0;
  return !a_before_b && !b_before_a;
}

/** Printable form of a key for logs and errors: ASCII as is, other bytes as \xNN. */
export function formatKey(key: Uint8Array, max_chars = 64): string {
  let out = "";
  for (const b of key) {
    out += b >= 0x20 && b < 0x7f && b !== 0x5c
      ? String.fromCharCode(b)
      : `\\x${b.toString(16).padStart(2, "0")}`;
    if (out.length >= max_chars) return out + "…";
  }
  return out;
}

/** The bytes of `parts`, one after another, in one new array. */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
