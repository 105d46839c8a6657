/**
 * Helpers shared by the collection types (hash, set, list, zset): creating a
 * generation, saving metadata (an empty collection deletes its key, like
 * Redis), reading all records of a generation, and the *SCAN cursor loop.
 * @module
 */
import type { RawPair } from "../backend.ts";
import { latin1, str } from "../encoding/bytes.ts";
import { dataKey, dataPrefix, rangeEnd } from "../encoding/keys.ts";
import { type Metadata, newMetadata, nextVersion, type RedisType } from "../encoding/metadata.ts";
import { decodeCursor, encodeCursor } from "../keyspace.ts";
import { INT64, parseI64 } from "../resp/int.ts";
import { array, bulk, err, Errors, NULL_ARRAY, type Reply } from "../resp/reply.ts";
import { runRead, runWrite, type Txn } from "../txn.ts";
import { fail, intArg, lower, numArg } from "./args.ts";
import { globMatch } from "./glob.ts";
import type { Call } from "./types.ts";

/** Live metadata of `key` of `type`, or a fresh empty generation. */
export async function openCollection(t: Txn, key: Uint8Array, type: RedisType): Promise<Metadata> {
  return (await t.metaOf(key, type)) ?? newMetadata(type, nextVersion(t.now_ms));
}

/** Writes metadata, or deletes the key when the collection became empty. */
export function saveCollection(t: Txn, key: Uint8Array, m: Metadata): void {
  if (m.size < 0) throw new Error("collection size below zero");
  if (m.size === 0) t.deleteKey(key);
  else t.setMeta(key, m);
}

/** Every data record of the key's generation, as [sub key, value] in key order. */
export async function allData(
  t: Txn,
  key: Uint8Array,
  m: Metadata,
): Promise<Array<[Uint8Array, Uint8Array]>> {
  const prefix = dataPrefix(key, m.version);
  const recs: RawPair[] = await t.scanAll(prefix, rangeEnd(prefix), m.size);
  if (recs.length !== m.size) throw new Error(`metadata size ${m.size} != ${recs.length} records`);
  return recs.map((r) => [r.key.subarray(prefix.length), r.value]);
}

/** Most items a negative count (repeats allowed) makes a reply hold. */
const MAX_RANDOM_REPEATS = 10_000_000;

/**
 * The count rule of SRANDMEMBER, HRANDFIELD and ZRANDMEMBER: a positive
 * `count` picks that many distinct items (all of them when fewer), a negative
 * one |count| items that may repeat.
 */
export function pickRandom<T>(xs: readonly T[], count: number): T[] {
  if (xs.length === 0 || count === 0) return [];
  if (count > 0) {
    // Fisher-Yates stopped after `count` draws: the first `count` places are the pick.
    const out = [...xs];
    const n = Math.min(count, out.length);
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(Math.random() * (out.length - i));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out.slice(0, n);
  }
  const n = Math.min(-count, MAX_RANDOM_REPEATS);
  return Array.from({ length: n }, () => xs[Math.floor(Math.random() * xs.length)]);
}

/**
 * The `count [WITHVALUES|WITHSCORES]` arguments of HRANDFIELD and ZRANDMEMBER
 * in Redis 7.0's order and texts (null count: the one-item form).
 */
export function randomCountArgs(
  c: Call,
  with_word: "withvalues" | "withscores",
): { count: number | null; with_values: boolean } {
  if (c.args.length < 3) return { count: null, with_values: false };
  const count = intArg(c.args[2]);
  if (count < -INT64.max) {
    // Only LONG_MIN: Redis's getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX).
    fail(`ERR value is out of range, value must between ${-INT64.max} and ${INT64.max}`);
  }
  if (c.args.length > 4 || (c.args.length === 4 && lower(c.args[3]) !== with_word)) {
    fail(Errors.syntax);
  }
  const with_values = c.args.length === 4;
  // Redis refuses what would overflow 2 * count reply items.
  if (with_values && (count < -INT64.max / 2n || count > INT64.max / 2n)) {
    fail("ERR value is out of range");
  }
  return { count: numArg(c.args[2]), with_values };
}

/** A count in 1..LONG_MAX, any other argument failing with `message` (getRangeLongFromObjectOrReply). */
export function positiveArg(arg: Uint8Array, message: string): number {
  const v = parseI64(arg);
  if (v === null || v < 1n) fail(`ERR ${message}`);
  return numArg(arg);
}

/**
 * LMPOP's and ZMPOP's `numkeys key [key ...] END [COUNT count]`, in Redis
 * 7.0's order: the keys, whether the first of `ends` was named, and the count.
 */
function mpopArgs(
  c: Call,
  ends: [string, string],
): { keys: Uint8Array[]; first: boolean; count: number } {
  const n = positiveArg(c.args[1], "numkeys should be greater than 0");
  const end_at = 2 + n;
  if (end_at >= c.args.length) fail(Errors.syntax);
  const end = lower(c.args[end_at]);
  if (end !== ends[0] && end !== ends[1]) fail(Errors.syntax);
  let count = -1;
  for (let j = end_at + 1; j < c.args.length; j++) {
    const more = c.args.length - 1 - j;
    if (count !== -1 || lower(c.args[j]) !== "count" || more === 0) fail(Errors.syntax);
    count = positiveArg(c.args[++j], "count should be greater than 0");
  }
  return { keys: c.args.slice(2, end_at), first: end === ends[0], count: count === -1 ? 1 : count };
}

/**
 * LMPOP and ZMPOP: `pop` takes up to `count` items from the first of the keys
 * holding a `type` collection (from the end named first in `ends` when
 * `first`); the reply is `[key, items]`, nil when no key holds one.
 */
export function mpop(
  c: Call,
  ends: [string, string],
  type: RedisType,
  pop: (t: Txn, key: Uint8Array, m: Metadata, first: boolean, count: number) => Promise<Reply[]>,
): Promise<Reply> {
  const { keys, first, count } = mpopArgs(c, ends);
  return runWrite(c.db, keys, async (t) => {
    for (const key of keys) {
      const found = await t.metaOf(key, type);
      if (found) return array([bulk(key), array(await pop(t, key, found, first, count))]);
    }
    return NULL_ARRAY;
  });
}

/** SINTERCARD's and ZINTERCARD's `LIMIT limit` after the keys (0: none). */
export function cardLimit(c: Call, from: number): number {
  let limit = 0;
  for (let j = from; j < c.args.length; j++) {
    if (lower(c.args[j]) !== "limit" || j === c.args.length - 1) fail(Errors.syntax);
    const v = parseI64(c.args[++j]);
    if (v === null || v < 0n) fail("ERR LIMIT can't be negative");
    limit = numArg(c.args[j]);
  }
  return limit;
}

/**
 * Member/value pairs as Redis 7 answers them for HRANDFIELD ... WITHVALUES and
 * the sorted-set commands WITHSCORES: a pair per item in RESP3, flat in RESP2.
 */
export function pairsReply(c: Call, pairs: Array<[Reply, Reply]>): Reply {
  if (c.conn.resp === 3) return array(pairs.map((p) => array(p)));
  return array(pairs.flat());
}

/** Sub keys (fields, members) without repeats, first occurrence kept, in order. */
export function uniqueSubs(subs: Uint8Array[]): Uint8Array[] {
  return [...new Map(subs.map((x) => [latin1(x), x])).values()];
}

/** Key of one sub-record. */
export function subKey(key: Uint8Array, m: Metadata, sub: Uint8Array): Uint8Array {
  return dataKey(key, m.version, sub);
}

/**
 * HSCAN/SSCAN/ZSCAN: `render` turns the sub key and value of each record into
 * reply items. The cursor encodes the last sub key returned.
 */
export function subScan(
  c: Call,
  type: RedisType,
  render: (sub: Uint8Array, value: Uint8Array) => Reply[],
): Promise<Reply> {
  const key = c.args[1];
  let after: Uint8Array | null;
  try {
    after = decodeCursor(str(c.args[2]));
  } catch {
    return Promise.resolve(err("ERR invalid cursor"));
  }
  let count = 10;
  let pattern: Uint8Array | null = null;
  for (let j = 3; j < c.args.length; j++) {
    const a = lower(c.args[j]);
    if (a === "count" && j + 1 < c.args.length) {
      count = numArg(c.args[++j]);
      if (count < 1) return Promise.resolve(err(Errors.syntax));
    } else if (a === "match" && j + 1 < c.args.length) pattern = c.args[++j];
    else return Promise.resolve(err(Errors.syntax));
  }
  return runRead(c.db, async (t) => {
    const m = await t.metaOf(key, type);
    if (!m) return array([bulk("0"), array([])]);
    const prefix = dataPrefix(key, m.version);
    const start = after ? dataKey(key, m.version, new Uint8Array([...after, 0])) : prefix;
    const page = await t.scan(start, rangeEnd(prefix), Math.min(count, 10000));
    const items: Reply[] = [];
    for (const r of page) {
      const sub = r.key.subarray(prefix.length);
      if (!pattern || globMatch(pattern, sub)) items.push(...render(sub, r.value));
    }
    const done = page.length < Math.min(count, 10000);
    const cursor = done ? "0" : encodeCursor(page[page.length - 1].key.subarray(prefix.length));
    return array([bulk(cursor), array(items)]);
  });
}
