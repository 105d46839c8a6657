/**
 * Order-preserving encoding of float64 scores for the sorted-set score index:
 * the byte order of the encodings equals the numeric order of the scores
 * (-inf < ... < -0 == 0 < ... < +inf). NaN is never stored (Redis rejects it).
 * @module
 */

/** Encodes `score` into 8 bytes whose unsigned byte order is numeric order. */
export function encodeOrderedFloat(score: number): Uint8Array {
  if (Number.isNaN(score)) throw new Error("NaN score cannot be indexed");
  const b = new Uint8Array(8);
  const view = new DataView(b.buffer);
  // -0 and 0 compare equal in Redis, so they must index identically.
  view.setFloat64(0, score === 0 ? 0 : score);
  if (b[0] & 0x80) {
    // Negative: flip every bit so larger magnitudes sort first.
    for (let i = 0; i < 8; i++) b[i] = ~b[i] & 0xff;
  } else {
    b[0] |= 0x80;
  }
  return b;
}

/** Inverse of {@link encodeOrderedFloat} (returns +0 for either zero). */
export function decodeOrderedFloat(b: Uint8Array, off = 0): number {
  const c = b.slice(off, off + 8);
  if (c.length !== 8) throw new Error("ordered float needs 8 bytes");
  if (c[0] & 0x80) c[0] &= 0x7f;
  else for (let i = 0; i < 8; i++) c[i] = ~c[i] & 0xff;
  return new DataView(c.buffer).getFloat64(0);
}

/** Plain big-endian float64 (the score kept in a member's data record). */
export function encodeF64(x: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, x);
  return b;
}

/** Inverse of {@link encodeF64}. */
export function decodeF64(b: Uint8Array): number {
  if (b.length !== 8) throw new Error("f64 record needs 8 bytes");
  return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0);
}
