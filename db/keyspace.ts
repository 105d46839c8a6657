/**
 * Walking the user keyspace: metadata records only, skipping each key's data
 * records with one seek (they sit right after the metadata record). Used by
 * SCAN, KEYS, DBSIZE, RANDOMKEY, FLUSHDB and the sweeper.
 * @module
 */
import { type Backend, CF_DEFAULT } from "./backend.ts";
import { concat } from "./encoding/bytes.ts";
import {
  decodeRawKey,
  metaKey,
  rangeEnd,
  USER_SPACE_END,
  USER_SPACE_START,
} from "./encoding/keys.ts";
import { decodeMetadata, type Metadata } from "./encoding/metadata.ts";

/** One user key found by a walk (possibly expired: callers decide). */
export interface FoundKey {
  key: Uint8Array;
  raw_meta: Uint8Array;
  meta: Metadata;
}

/** Raw position just past every record of `user_key`. */
export function afterUserKey(user_key: Uint8Array): Uint8Array {
  return rangeEnd(metaKey(user_key));
}

/** Page size of keyspace scans. */
export const WALK_PAGE = 128;

/**
 * Up to `max_keys` user keys at raw position >= `from`, and the position to
 * continue from (null at the end of the keyspace). Data records met along
 * the way (of keys before `from`, or garbage) are skipped by seeking.
 */
export async function walkKeys(
  backend: Backend,
  from: Uint8Array,
  max_keys: number,
): Promise<{ keys: FoundKey[]; next: Uint8Array | null }> {
  const keys: FoundKey[] = [];
  let pos = from.length === 0 ? USER_SPACE_START : from;
  // Each round either yields keys or seeks past one key's records, so the
  // number of rounds is bounded by the keys and garbage groups passed.
  while (keys.length < max_keys) {
    const page = await backend.scan(CF_DEFAULT, pos, USER_SPACE_END, WALK_PAGE, false);
    if (page.length === 0) return { keys, next: null };
    let seek: Uint8Array | null = null;
    for (const { key, value } of page) {
      const info = decodeRawKey(key);
      if (info.kind === "other") continue;
      if (info.kind === "meta") {
        keys.push({ key: info.user_key, raw_meta: value, meta: decodeMetadata(value) });
        seek = afterUserKey(info.user_key);
        if (keys.length >= max_keys) break;
        continue;
      }
      // A data record: jump past the rest of this key's group.
      seek = afterUserKey(info.user_key);
      break;
    }
    if (seek === null) {
      // A page of records we could not place: continue right after it.
      seek = concat(page[page.length - 1].key, new Uint8Array([0]));
    }
    pos = seek;
  }
  return { keys, next: pos };
}

/** Encodes a resume position (after `user_key`) as a decimal cursor. */
export function encodeCursor(last: Uint8Array): string {
  let hex = "01";
  for (const b of last) hex += b.toString(16).padStart(2, "0");
  return BigInt("0x" + hex).toString(10);
}

/** Inverse of {@link encodeCursor}; null for "0" (start); throws on garbage. */
export function decodeCursor(cursor: string): Uint8Array | null {
  if (cursor === "0") return null;
  if (!/^[1-9][0-9]*$/.test(cursor) || cursor.length > 4096) throw new Error("invalid cursor");
  const hex = BigInt(cursor).toString(16);
  if (hex.length % 2 !== 0 || !hex.startsWith("01")) throw new Error("invalid cursor");
  const out = new Uint8Array(hex.length / 2 - 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 + 2 * i, 4 + 2 * i), 16);
  return out;
}

/** Random raw position in the user keyspace (for RANDOMKEY). */
export function randomPosition(rand: () => number): Uint8Array {
  // Keys order by (length, bytes); short lengths are the common ones.
  const b = new Uint8Array(Math.floor(rand() * 16));
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(rand() * 256);
  return metaKey(b);
}
