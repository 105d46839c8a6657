/**
 * mulberry32: a small seeded PRNG returning floats in [0, 1), for tests and
 * generators that must replay from a seed (never Math.random in a test).
 * @module
 */

/** A deterministic generator of floats in [0, 1) for `seed`. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
