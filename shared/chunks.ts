/**
 * Splitting a queue into consecutive runs that each fit one message.
 * @module
 */

/**
 * Consecutive runs of `items`, each of at most `max_count` items whose
 * `size`s add up to at most `max_bytes`. An item larger than `max_bytes`
 * gets a run of its own.
 */
export function chunksBySize<T>(
  items: readonly T[],
  size: (item: T) => number,
  max_bytes: number,
  max_count = Infinity,
): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const b = size(item);
    if (cur.length > 0 && (bytes + b > max_bytes || cur.length >= max_count)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(item);
    bytes += b;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
