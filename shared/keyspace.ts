/**
 * The raw keyspace layout facts that more than one member needs. E-DB encodes
 * every record of user key K under the common prefix
 * `M(K) = 'k' | u32 BE len(K) | K` (see db/encoding/keys.ts); stores and meta
 * only need to know where one user key's group of records starts, so a region
 * split never separates a key's records.
 * @module
 */

/** Namespace byte of user-key records ('k'). */
export const NS_USER = 0x6b;
/** Length of the fixed part of M(K) before K: the namespace byte and the u32 length. */
export const META_HEADER_BYTES = 5;

/**
 * The split-key function: maps any raw key to a cut point at or below it that
 * never falls inside one user key's group of records. A region split at
 * `userKeyBoundary(k)` keeps every user key's records in one region.
 *
 * If `raw` lies in user key K's group, the result is M(K) (the group's first
 * key). Otherwise `raw` is already between groups and is returned as is.
 */
export function userKeyBoundary(raw: Uint8Array): Uint8Array {
  if (raw.length < META_HEADER_BYTES || raw[0] !== NS_USER) return raw.slice();
  const len = new DataView(raw.buffer, raw.byteOffset + 1, 4).getUint32(0);
  const end = META_HEADER_BYTES + len;
  // A raw key shorter than its declared group prefix sorts before that group.
  if (raw.length <= end) return raw.slice();
  return raw.slice(0, end);
}
