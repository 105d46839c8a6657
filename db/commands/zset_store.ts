/**
 * Reading and writing sorted-set members (data record + score-index record).
 * @module
 */
import { scoreKey } from "../encoding/keys.ts";
import { decodeF64, encodeF64 } from "../encoding/float.ts";
import { type Metadata, newMetadata, nextVersion, RedisType } from "../encoding/metadata.ts";
import { double, type Reply } from "../resp/reply.ts";
import type { Txn } from "../txn.ts";
import { allData, subKey } from "./collection.ts";
import { type Entry, sortEntries } from "./zset_range.ts";

/** All entries of a zset in (score, member) order. */
export async function loadZset(t: Txn, key: Uint8Array, m: Metadata | null): Promise<Entry[]> {
  if (!m) return [];
  const recs = await allData(t, key, m);
  return sortEntries(recs.map(([member, v]) => ({ member, score: decodeF64(v) })));
}

/**
 * Writes a member's score (replacing `old` in the index). A -0 is stored as
 * 0, as redis-server stores it in a small sorted set (listpack; only a
 * skiplist-encoded one, past 128 members, keeps the sign): `ZUNIONSTORE u 1 t
 * WEIGHTS -1` over a score of 0 then reads back as 0, while replies computed
 * on the way (ZUNION, ZINCRBY's answer) still say -0.
 */
export function putMember(
  t: Txn,
  key: Uint8Array,
  m: Metadata,
  member: Uint8Array,
  old: number | null,
  raw_score: number,
): void {
  if (Number.isNaN(raw_score)) throw new Error("NaN score reached the writer");
  const score = raw_score === 0 ? 0 : raw_score;
  if (old !== null) t.del(scoreKey(key, m.version, old, member));
  t.put(scoreKey(key, m.version, score, member), new Uint8Array(0));
  t.put(subKey(key, m, member), encodeF64(score));
}

/**
 * Makes `dst` a sorted set of exactly `entries` (a new generation; whatever
 * it held, of any type, becomes garbage), or deletes it when there are none.
 */
export async function replaceWithZset(t: Txn, dst: Uint8Array, entries: Entry[]): Promise<void> {
  await t.meta(dst);
  t.deleteKey(dst);
  if (entries.length === 0) return;
  const fresh = { ...newMetadata(RedisType.ZSet, nextVersion(t.now_ms)), size: entries.length };
  for (const e of entries) putMember(t, dst, fresh, e.member, null, e.score);
  t.setMeta(dst, fresh);
}

/** Removes a member's two records. */
export function delMember(t: Txn, key: Uint8Array, m: Metadata, e: Entry): void {
  t.del(scoreKey(key, m.version, e.score, e.member));
  t.del(subKey(key, m, e.member));
}

/** A reply for a score: a double (bulk string in RESP2). */
export function scoreReply(s: number): Reply {
  return double(s);
}
