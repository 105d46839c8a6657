/**
 * Sorted-set commands. Each member has a data record (`M(K)|'d'|v|member` ->
 * f64 score) and a score-index record (`M(K)|'z'|v|ordered f64|member`), both
 * written in the same batch. Reads currently load the member records and sort
 * them (exact, O(n)); the index is kept for range scans at scale.
 * @module
 */
import { latin1 } from "../encoding/bytes.ts";
import { decodeF64 } from "../encoding/float.ts";
import { type Metadata, RedisType } from "../encoding/metadata.ts";
import { array, bulk, err, Errors, int, NULL, type Reply } from "../resp/reply.ts";
import { formatDouble } from "../resp/format.ts";
import { runRead, runWrite, type Txn } from "../txn.ts";
import { fail, floatArg, lower, numArg } from "./args.ts";
import {
  mpop,
  openCollection,
  pairsReply,
  pickRandom,
  randomCountArgs,
  saveCollection,
  subKey,
  subScan,
  uniqueSubs,
} from "./collection.ts";
import { type Call, type CommandSpec, spec } from "./types.ts";
import { zsetCombineCommands } from "./zset_combine.ts";
import { zrangeCommands } from "./zset_queries.ts";
import type { Entry } from "./zset_range.ts";
import { delMember, loadZset, putMember, scoreReply } from "./zset_store.ts";

const Z = RedisType.ZSet;

function parseZaddFlags(args: Uint8Array[]) {
  const f = { nx: false, xx: false, gt: false, lt: false, ch: false, incr: false };
  let i = 2;
  for (; i < args.length; i++) {
    const a = lower(args[i]);
    if (a === "nx" || a === "xx" || a === "gt" || a === "lt" || a === "ch" || a === "incr") {
      f[a] = true;
    } else break;
  }
  const elements = args.length - i;
  if (elements % 2 !== 0 || elements === 0) fail(Errors.syntax);
  if (f.nx && f.xx) fail("ERR XX and NX options at the same time are not compatible");
  if ((f.gt && f.nx) || (f.lt && f.nx) || (f.gt && f.lt)) {
    fail("ERR GT, LT, and/or NX options at the same time are not compatible");
  }
  if (f.incr && elements > 2) fail("ERR INCR option supports a single increment-element pair");
  const pairs: Array<[number, Uint8Array]> = [];
  for (let j = i; j < args.length; j += 2) pairs.push([floatArg(args[j]), args[j + 1]]);
  return { f, pairs };
}

function zadd(c: Call): Promise<Reply> {
  const key = c.args[1];
  const { f, pairs } = parseZaddFlags(c.args);
  return runWrite(c.db, [key], async (t) => {
    const found = await t.metaOf(key, Z);
    if (!found && f.xx) return f.incr ? NULL : int(0);
    const m = { ...(found ?? await openCollection(t, key, Z)) };
    // Only the members named are read (point reads: O(members), not O(zset)).
    const cur = new Map<string, number>();
    if (found) {
      const members = uniqueSubs(pairs.map(([, member]) => member));
      const raws = await t.getMany(members.map((member) => subKey(key, m, member)));
      members.forEach((member, i) => {
        if (raws[i] !== null) cur.set(latin1(member), decodeF64(raws[i]!));
      });
    }
    let added = 0, updated = 0;
    let last: number | null = null;
    for (const [score0, member] of pairs) {
      const id = latin1(member);
      const old = cur.has(id) ? cur.get(id)! : null;
      let score = score0;
      if (old !== null) {
        if (f.nx) continue;
        if (f.incr) {
          score = old + score;
          if (Number.isNaN(score)) fail("ERR resulting score is not a number (NaN)");
        }
        if ((f.lt && score >= old) || (f.gt && score <= old)) continue;
        last = score;
        // Stored scores are never -0 (putMember): ZADD -0 over 0 changes nothing, as in Redis.
        if (score !== old) {
          putMember(t, key, m, member, old, score);
          cur.set(id, score);
          updated++;
        }
      } else if (!f.xx) {
        putMember(t, key, m, member, null, score);
        cur.set(id, score);
        added++;
        last = score;
      }
    }
    m.size += added;
    if (added + updated > 0 || t.mutations.length > 0) saveCollection(t, key, m);
    if (f.incr) return last === null ? NULL : scoreReply(last);
    return int(f.ch ? added + updated : added);
  });
}

function zincrby(c: Call): Promise<Reply> {
  const [, key, , member] = c.args;
  const by = floatArg(c.args[2]);
  return runWrite(c.db, [key], async (t) => {
    const m = { ...(await openCollection(t, key, Z)) };
    const raw = m.size > 0 ? await t.get(subKey(key, m, member)) : null;
    const old = raw ? decodeF64(raw) : null;
    // A new member takes the increment itself (Redis's zsetAdd): -0 stays -0 in the reply.
    const score = old === null ? by : old + by;
    if (Number.isNaN(score)) fail("ERR resulting score is not a number (NaN)");
    // An unchanged score writes nothing, so a WATCH of the key holds (Redis's zsetAdd).
    if (score === old) return scoreReply(score);
    putMember(t, key, m, member, old, score);
    if (old === null) m.size++;
    saveCollection(t, key, m);
    return scoreReply(score);
  });
}

function zrem(c: Call): Promise<Reply> {
  const key = c.args[1];
  return runWrite(c.db, [key], async (t) => {
    const found = await t.metaOf(key, Z);
    if (!found) return int(0);
    const m = { ...found };
    const uniq = uniqueSubs(c.args.slice(2));
    const raws = await t.getMany(uniq.map((x) => subKey(key, m, x)));
    let n = 0;
    uniq.forEach((member, i) => {
      const raw = raws[i];
      if (raw) {
        delMember(t, key, m, { member, score: decodeF64(raw) });
        n++;
      }
    });
    m.size -= n;
    if (n > 0) saveCollection(t, key, m);
    return int(n);
  });
}

function zscore(c: Call, many: boolean): Promise<Reply> {
  return runRead(c.db, async (t) => {
    const m = await t.metaOf(c.args[1], Z);
    const members = c.args.slice(2);
    const raws = m
      ? await t.getMany(members.map((x) => subKey(c.args[1], m, x)))
      : members.map(() => null);
    const out = raws.map((r) => (r ? scoreReply(decodeF64(r)) : NULL));
    return many ? array(out) : out[0];
  });
}

function zrank(c: Call, rev: boolean): Promise<Reply> {
  return runRead(c.db, async (t) => {
    const m = await t.metaOf(c.args[1], Z);
    const es = await loadZset(t, c.args[1], m);
    const i = es.findIndex((e) => latin1(e.member) === latin1(c.args[2]));
    if (i < 0) return NULL;
    return int(rev ? es.length - 1 - i : i);
  });
}

/** Pops up to `count` lowest (or, with `max`, highest) members of a live zset, in pop order. */
async function popMembers(
  t: Txn,
  key: Uint8Array,
  found: Metadata,
  max: boolean,
  count: number,
): Promise<Entry[]> {
  const m = { ...found };
  const es = await loadZset(t, key, found);
  const take = max ? es.slice(-count).reverse() : es.slice(0, count);
  for (const e of take) delMember(t, key, m, e);
  m.size -= take.length;
  saveCollection(t, key, m);
  return take;
}

function zpop(c: Call, max: boolean): Promise<Reply> | Reply {
  const key = c.args[1];
  if (c.args.length > 3) return err(Errors.syntax);
  const count = c.args.length === 3 ? numArg(c.args[2], Errors.mustBePositive) : null;
  if (count !== null && count < 0) return err(Errors.mustBePositive);
  return runWrite(c.db, [key], async (t) => {
    const found = await t.metaOf(key, Z);
    if (!found || count === 0) return array([]);
    const take = await popMembers(t, key, found, max, count ?? 1);
    const pairs: Array<[Reply, Reply]> = take.map((e) => [bulk(e.member), scoreReply(e.score)]);
    // Without a count Redis answers flat pairs in RESP3 too.
    return count === null ? array(pairs.flat()) : pairsReply(c, pairs);
  });
}

/** ZMPOP: pops from the first of the keys that holds a sorted set; nil when none does. */
function zmpop(c: Call): Promise<Reply> {
  return mpop(c, ["min", "max"], Z, async (t, key, m, min, count) => {
    const take = await popMembers(t, key, m, !min, count);
    return take.map((e) => array([bulk(e.member), scoreReply(e.score)]));
  });
}

function zrandmember(c: Call): Promise<Reply> {
  const { count, with_values } = randomCountArgs(c, "withscores");
  return runRead(c.db, async (t) => {
    const es = await loadZset(t, c.args[1], await t.metaOf(c.args[1], Z));
    if (count === null) return es.length > 0 ? bulk(pickRandom(es, 1)[0].member) : NULL;
    const picked = pickRandom(es, count);
    if (!with_values) return array(picked.map((e) => bulk(e.member)));
    return pairsReply(c, picked.map((e) => [bulk(e.member), scoreReply(e.score)]));
  });
}

/** Sorted-set command table rows. */
export const ZSET_COMMANDS: CommandSpec[] = [
  spec("zadd", -4, "write denyoom fast", [1, 1, 1], "sortedset", "Add members", zadd),
  spec("zincrby", 4, "write denyoom fast", [1, 1, 1], "sortedset", "Increment a score", zincrby),
  spec("zrem", -3, "write fast", [1, 1, 1], "sortedset", "Remove members", zrem),
  spec(
    "zscore",
    3,
    "readonly fast",
    [1, 1, 1],
    "sortedset",
    "Score of a member",
    (c) => zscore(c, false),
  ),
  spec(
    "zmscore",
    -3,
    "readonly fast",
    [1, 1, 1],
    "sortedset",
    "Scores of members",
    (c) => zscore(c, true),
  ),
  spec(
    "zcard",
    2,
    "readonly fast",
    [1, 1, 1],
    "sortedset",
    "Member count",
    (c) => runRead(c.db, async (t) => int((await t.metaOf(c.args[1], Z))?.size ?? 0)),
  ),
  spec(
    "zrank",
    3,
    "readonly fast",
    [1, 1, 1],
    "sortedset",
    "Rank of a member",
    (c) => zrank(c, false),
  ),
  spec(
    "zrevrank",
    3,
    "readonly fast",
    [1, 1, 1],
    "sortedset",
    "Reverse rank",
    (c) => zrank(c, true),
  ),
  spec("zpopmin", -2, "write fast", [1, 1, 1], "sortedset", "Pop lowest", (c) => zpop(c, false)),
  spec("zpopmax", -2, "write fast", [1, 1, 1], "sortedset", "Pop highest", (c) => zpop(c, true)),
  spec(
    "zscan",
    -3,
    "readonly",
    [1, 1, 1],
    "sortedset",
    "Iterate members",
    (c) => subScan(c, Z, (member, v) => [bulk(member), bulk(formatDouble(decodeF64(v)))]),
  ),
  spec("zmpop", -4, "write", [2, -1, 1], "sortedset", "Pop from the first non-empty", zmpop),
  spec("zrandmember", -2, "readonly", [1, 1, 1], "sortedset", "Random members", zrandmember),
  ...zrangeCommands(),
  ...zsetCombineCommands(),
];
