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

/** Resume positions remembered per db process (oldest forgotten first). */
const MAX_CURSORS = 65_536;
const cursors = new Map<number, Uint8Array>();
/** Random high bits, so cursors of two db processes (or two runs) rarely collide. */
const CURSOR_TAG = Math.floor(Math.random() * 2 ** 20) * 2 ** 32;
let next_cursor = 1;

/**
 * Registers a resume position and returns its cursor: a decimal below 2^53,
 * since clients parse cursors as 64-bit integers (redis-cli uses strtoull) and
 * a position (a whole raw key) does not fit one. Cursors live in this db
 * process, like Kvrocks's: another db process answers "invalid cursor".
 */
export function encodeCursor(position: Uint8Array): string {
  const id = CURSOR_TAG + next_cursor;
  next_cursor = next_cursor % (2 ** 32 - 1) + 1;
  cursors.delete(id);
  cursors.set(id, position.slice());
  if (cursors.size > MAX_CURSORS) cursors.delete(cursors.keys().next().value!);
  return String(id);
}

/** The position of a cursor from {@link encodeCursor}; null for "0" (start); throws when unknown. */
export function decodeCursor(cursor: string): Uint8Array | null {
  if (cursor === "0") return null;
  const id = /^[1-9][0-9]{0,15}$/.test(cursor) ? Number(cursor) : NaN;
  const position = cursors.get(id);
  if (position === undefined) throw new Error("invalid cursor");
  return position;
}

/** Random raw position in the user keyspace (for RANDOMKEY). */
export function randomPosition(rand: () => number): Uint8Array {
  // Keys order by (length, bytes); short lengths are the common ones.
  const b = new Uint8Array(Math.floor(rand() * 16));
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(rand() * 256);
  return metaKey(b);
}
