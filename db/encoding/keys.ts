/**
 * Raw key layout (Kvrocks-style, adapted so one user key's records are
 * contiguous). Every record of user key K starts with the same prefix
 *
 *     M(K) = 'k' | u32 BE len(K) | K                 metadata record
 *     M(K) | 'd' | u64 BE version | sub key           data record
 *     M(K) | 't'                                     expiry marker (value empty)
 *     M(K) | 'z' | u64 BE version | f64 ordered | m   sorted-set score index
 *
 * M(K) is a prefix of all of K's records, so the metadata sorts first and the
 * records sort together; the length field keeps "a" and "ab" apart (no user
 * key's group nests inside another's). The version separates generations of a
 * key: DEL only drops the metadata, stale generations are garbage collected.
 * A key with a TTL also has an expiry marker, written with its metadata, so
 * the active expiry finds such keys from their keys alone (as Redis keeps its
 * `expires` dict beside the keyspace) instead of reading every metadata value.
 * @module
 */
import { concat, prefixEnd, requestBytes, u64 } from "./bytes.ts";
import { encodeOrderedFloat } from "./float.ts";
import {
  META_HEADER_BYTES as SHARED_META_HEADER_BYTES,
  NS_USER as SHARED_NS_USER,
  writeUserKeyPrefix,
} from "@eraft/shared/keyspace";

/** Namespace byte of user-key records. */
export const NS_USER: number = SHARED_NS_USER; // 'k'
/** Tag byte of data records (hash fields, set/zset members, list items). */
export const TAG_DATA = 0x64; // 'd'
/** Tag byte of expiry markers. */
export const TAG_TTL = 0x74; // 't'
/** Tag byte of the sorted-set score index. */
export const TAG_SCORE = 0x7a; // 'z'
/** Length of the fixed part of M(K) before K. */
export const META_HEADER_BYTES: number = SHARED_META_HEADER_BYTES;
/** Largest user key we encode (Redis allows 512 MiB; the u32 field allows more). */
export const MAX_USER_KEY_BYTES = 512 * 1024 * 1024;

/** First raw key of the user keyspace (inclusive). */
export const USER_SPACE_START: Uint8Array = new Uint8Array([NS_USER]);
/** End of the user keyspace (exclusive). */
export const USER_SPACE_END: Uint8Array = new Uint8Array([NS_USER + 1]);

/** M(K): the metadata record's key, also the common prefix of K's records. */
export function metaKey(user_key: Uint8Array): Uint8Array {
  const n = user_key.length;
  if (n > MAX_USER_KEY_BYTES) throw new Error("user key too long");
  // Built in place: every command makes one or more of these.
  return writeUserKeyPrefix(user_key, requestBytes.alloc(META_HEADER_BYTES + n));
}

/** Prefix of all data records of one generation. */
export function dataPrefix(user_key: Uint8Array, version: number): Uint8Array {
  return concat(metaKey(user_key), new Uint8Array([TAG_DATA]), u64(version));
}

/** One data record's key. */
export function dataKey(user_key: Uint8Array, version: number, sub: Uint8Array): Uint8Array {
  return concat(dataPrefix(user_key, version), sub);
}

/** Prefix of the score index of one generation. */
export function scorePrefix(user_key: Uint8Array, version: number): Uint8Array {
  return concat(metaKey(user_key), new Uint8Array([TAG_SCORE]), u64(version));
}

/** One score-index record's key. */
export function scoreKey(
  user_key: Uint8Array,
  version: number,
  score: number,
  member: Uint8Array,
): Uint8Array {
  return concat(scorePrefix(user_key, version), encodeOrderedFloat(score), member);
}

/** The expiry marker of `user_key`: present while the key may have a TTL. */
export function ttlKey(user_key: Uint8Array): Uint8Array {
  return concat(metaKey(user_key), new Uint8Array([TAG_TTL]));
}

/** Exclusive end of a prefix range (delegates to bytes.prefixEnd). */
export function rangeEnd(prefix: Uint8Array): Uint8Array {
  return prefixEnd(prefix);
}

/** What a raw key is, once decoded. */
export type RawKeyInfo =
  | { kind: "meta"; user_key: Uint8Array }
  | { kind: "data" | "score"; user_key: Uint8Array; version: number; rest: Uint8Array }
  | { kind: "ttl"; user_key: Uint8Array }
  | { kind: "other" };

/** Decodes a raw key into its user key and record kind. */
export function decodeRawKey(raw: Uint8Array): RawKeyInfo {
  if (raw.length < META_HEADER_BYTES || raw[0] !== NS_USER) return { kind: "other" };
  const len = new DataView(raw.buffer, raw.byteOffset + 1, 4).getUint32(0);
  const end = META_HEADER_BYTES + len;
  if (raw.length < end) return { kind: "other" };
  const user_key = raw.slice(META_HEADER_BYTES, end);
  if (raw.length === end) return { kind: "meta", user_key };
  if (raw.length === end + 1 && raw[end] === TAG_TTL) return { kind: "ttl", user_key };
  if (raw.length < end + 9) return { kind: "other" };
  const tag = raw[end];
  const version = new DataView(raw.buffer, raw.byteOffset + end + 1, 8).getUint32(0) * 2 ** 32 +
    new DataView(raw.buffer, raw.byteOffset + end + 5, 4).getUint32(0);
  const rest = raw.slice(end + 9);
  if (tag === TAG_DATA) return { kind: "data", user_key, version, rest };
  if (tag === TAG_SCORE) return { kind: "score", user_key, version, rest };
  return { kind: "other" };
}

/** The split-key function for meta (lives in shared/keyspace.ts; re-exported here). */
export { userKeyBoundary } from "@eraft/shared/keyspace";
