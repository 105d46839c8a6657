/**
 * A small seeded PRNG (xoshiro128** seeded by splitmix32). raft/ never calls
 * `Math.random`: randomised election timeouts and every random choice of the
 * simulator come from an instance of this, so a seed replays a run exactly.
 * @module
 */
import { assert } from "./assert.ts";

/** What raft/ needs from a random source: a uniform integer in [0, bound). */
export interface Rng {
  /** A uniform integer in [0, bound); bound >= 1. */
  intBelow(bound: number): number;
}

/** Deterministic xoshiro128** generator. */
export class Prng implements Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** Seeds the four state words from `seed` with splitmix32. */
  constructor(readonly seed: number) {
    assert(Number.isSafeInteger(seed), "prng seed must be a safe integer");
    let x = (seed ^ Math.floor(seed / 0x100000000)) >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The next uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform float in [0, 1). */
  nextFloat(): number {
    return this.nextU32() / 0x100000000;
  }

  /** A uniform integer in [0, bound); bound in [1, 2^32]. */
  intBelow(bound: number): number {
    assert(Number.isInteger(bound) && bound >= 1, "intBelow bound must be a positive integer");
    assert(bound <= 0x100000000, "intBelow bound must fit in 32 bits");
    return Math.floor(this.nextFloat() * bound);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.nextFloat() < p;
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    assert(items.length > 0, "pick from an empty array");
    return items[this.intBelow(items.length)];
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
