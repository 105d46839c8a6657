/**
 * Tiny assertion helpers for raft/ (TIGER_STYLE: a broken invariant is a crash,
 * never a returned error). No `node:` imports are allowed in raft/, so this is
 * our own.
 * @module
 */

/** Thrown when an invariant of the Raft core does not hold. */
export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

/**
 * Crashes with `message` (a string, or a function building one lazily on the
 * failure path only) when `condition` is falsy.
 */
export function assert(
  condition: unknown,
  message: string | (() => string),
): asserts condition {
  if (!condition) {
    throw new AssertionError(typeof message === "string" ? message : message());
  }
}

/** Marks a code path that must never run (exhaustive switches). */
export function unreachable(what: string): never {
  throw new AssertionError(`unreachable: ${what}`);
}
