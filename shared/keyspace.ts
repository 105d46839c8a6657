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
 * Writes M(K) for user key `user_key` into `out` (META_HEADER_BYTES + its
 * length); returns `out`. E-DB builds every record key on it; `eraft ctl`
 * names a region boundary by a Redis key with it.
 */
export function writeUserKeyPrefix(user_key: Uint8Array, out: Uint8Array): Uint8Array {
  const n = user_key.length;
  if (out.length !== META_HEADER_BYTES + n) throw new RangeError("prefix buffer of the wrong size");
  // Byte by byte: E-DB builds one or more per command, a DataView would be an allocation each.
  out[0] = NS_USER;
  out[1] = n >>> 24;
  out[2] = (n >>> 16) & 0xff;
  out[3] = (n >>> 8) & 0xff;
  out[4] = n & 0xff;
  out.set(user_key, META_HEADER_BYTES);
  return out;
}

/** M(K) of user key `user_key` in a new array: where its records start. */
export function userKeyPrefix(user_key: Uint8Array): Uint8Array {
  return writeUserKeyPrefix(user_key, new Uint8Array(META_HEADER_BYTES + user_key.length));
}

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
