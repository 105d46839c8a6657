/**
 * Range parsing and selection for sorted sets (score ranges, lex ranges,
 * rank ranges), with Redis's error texts and its listpack iteration order.
 * @module
 */
import { compare, str } from "../encoding/bytes.ts";
import { parseFloatStrict } from "./args.ts";

/** One member with its score. */
export interface Entry {
  member: Uint8Array;
  score: number;
}

/** A score range (zslParseRange). */
export interface ScoreRange {
  min: number;
  max: number;
  minex: boolean;
  maxex: boolean;
}

function parseScoreBound(b: Uint8Array): { v: number; ex: boolean } | null {
  if (b[0] === 0x28 /* ( */) {
    const v = parseFloatStrict(b.subarray(1));
    return v === null ? null : { v, ex: true };
  }
  const v = parseFloatStrict(b);
  return v === null ? null : { v, ex: false };
}

/** Parses min/max; null means "ERR min or max is not a float". */
export function parseScoreRange(min: Uint8Array, max: Uint8Array): ScoreRange | null {
  const a = parseScoreBound(min), b = parseScoreBound(max);
  if (!a || !b) return null;
  return { min: a.v, max: b.v, minex: a.ex, maxex: b.ex };
}

/** Score >= min (or >). */
export function gteMin(s: number, r: ScoreRange): boolean {
  return r.minex ? s > r.min : s >= r.min;
}
/** Score <= max (or <). */
export function lteMax(s: number, r: ScoreRange): boolean {
  return r.maxex ? s < r.max : s <= r.max;
}

/** A lex range: null bound = infinite. */
export interface LexRange {
  min: Uint8Array | null;
  max: Uint8Array | null;
  minex: boolean;
  maxex: boolean;
  /** "+" as min or "-" as max: empty range. */
  empty: boolean;
}

function parseLexBound(
  b: Uint8Array,
): { v: Uint8Array | null; ex: boolean; inf: "-" | "+" | null } | null {
  const s = str(b);
  if (s === "-" || s === "+") return { v: null, ex: false, inf: s };
  if (b[0] === 0x28) return { v: b.subarray(1), ex: true, inf: null };
  if (b[0] === 0x5b) return { v: b.subarray(1), ex: false, inf: null };
  return null;
}

/** Parses a lex range; null means "ERR min or max not valid string range item". */
export function parseLexRange(min: Uint8Array, max: Uint8Array): LexRange | null {
  const a = parseLexBound(min), b = parseLexBound(max);
  if (!a || !b) return null;
  let empty = a.inf === "+" || b.inf === "-";
  if (a.v !== null && b.v !== null) {
    const c = compare(a.v, b.v);
    if (c > 0 || (c === 0 && (a.ex || b.ex))) empty = true;
  }
  return { min: a.v, max: b.v, minex: a.ex, maxex: b.ex, empty };
}

/** Member >= min (lex). */
export function lexGteMin(m: Uint8Array, r: LexRange): boolean {
  if (r.empty) return false;
  if (r.min === null) return true;
  const c = compare(m, r.min);
  return r.minex ? c > 0 : c >= 0;
}
/** Member <= max (lex). */
export function lexLteMax(m: Uint8Array, r: LexRange): boolean {
  if (r.empty) return false;
  if (r.max === null) return true;
  const c = compare(m, r.max);
  return r.maxex ? c < 0 : c <= 0;
}

/**
 * Indexes of `sorted` in a range, iterating like Redis's listpack code: find
 * the first element past the low bound, stop at the first one past the high
 * bound (reverse: from the tail). Then apply LIMIT offset/count.
 */
export function selectRange(
  n: number,
  gte: (i: number) => boolean,
  lte: (i: number) => boolean,
  reverse: boolean,
  offset: number,
  count: number,
): number[] {
  const out: number[] = [];
  if (offset < 0 || n === 0) return out;
  // zzlIsInRange / zzlIsInLexRange: the last element must pass the low bound
  // and the first the high bound (matters for lex ranges over mixed scores).
  if (!gte(n - 1) || !lte(0)) return out;
  if (!reverse) {
    let i = 0;
    while (i < n && !gte(i)) i++;
    for (; i < n && lte(i); i++) out.push(i);
  } else {
    let i = n - 1;
    while (i >= 0 && !lte(i)) i--;
    for (; i >= 0 && gte(i); i--) out.push(i);
  }
  const skipped = out.slice(offset);
  return count < 0 ? skipped : skipped.slice(0, count);
}

/** Redis's rank range normalisation; null when empty. */
export function rankRange(start: number, end: number, n: number): [number, number] | null {
  if (start < 0) start += n;
  if (end < 0) end += n;
  if (start < 0) start = 0;
  if (start > end || start >= n) return null;
  if (end >= n) end = n - 1;
  return [start, end];
}

/** Sorts entries by (score, member bytes), the order of Redis and of the score index. */
export function sortEntries(xs: Entry[]): Entry[] {
  return xs.sort((a, b) => (a.score - b.score) || compare(a.member, b.member));
}
