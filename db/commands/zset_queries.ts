/**
 * Sorted-set range commands: ZRANGE (BYSCORE/BYLEX/REV/LIMIT/WITHSCORES),
 * ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX, ZCOUNT,
 * ZLEXCOUNT, ZREMRANGEBYSCORE, ZREMRANGEBYLEX, ZREMRANGEBYRANK — parsed in Redis 7.0's order with its error texts.
 * @module
 */
import { RedisType } from "../encoding/metadata.ts";
import { array, bulk, err, Errors, int, type Reply } from "../resp/reply.ts";
import { runRead, runWrite } from "../txn.ts";
import { intArg, lower, numArg } from "./args.ts";
import { pairsReply, saveCollection } from "./collection.ts";
import {
  type Entry,
  gteMin,
  lexGteMin,
  lexLteMax,
  lteMax,
  parseLexRange,
  parseScoreRange,
  rankRange,
  selectRange,
} from "./zset_range.ts";
import { delMember, loadZset, replaceWithZset, scoreReply } from "./zset_store.ts";
import { type Call, type CommandSpec, spec } from "./types.ts";

const Z = RedisType.ZSet;
type RangeType = "rank" | "score" | "lex";

interface RangeReq {
  type: RangeType;
  rev: boolean;
  withscores: boolean;
  offset: number;
  count: number;
}

/**
 * Parses the options after key/min/max (zrangeGenericCommand step 1), which
 * start at `from`; ZRANGESTORE (`store`) takes no WITHSCORES.
 */
function parseRangeOptions(
  c: Call,
  preset: { type: RangeType | null; rev: boolean | null },
  from: number,
  store: boolean,
): RangeReq {
  let type = preset.type, rev = preset.rev;
  let withscores = false, offset = 0, count = -1;
  for (let j = from; j < c.args.length; j++) {
    const a = lower(c.args[j]);
    const left = c.args.length - j - 1;
    if (!store && a === "withscores") withscores = true;
    else if (a === "limit" && left >= 2) {
      offset = numArg(c.args[j + 1]);
      count = numArg(c.args[j + 2]);
      j += 2;
    } else if (rev === null && a === "rev") rev = true;
    else if (type === null && a === "bylex") type = "lex";
    else if (type === null && a === "byscore") type = "score";
    else throw err(Errors.syntax);
  }
  return { type: type ?? "rank", rev: rev ?? false, withscores, offset, count };
}

function renderRange(c: Call, es: Entry[], withscores: boolean): Reply {
  if (!withscores) return array(es.map((e) => bulk(e.member)));
  return pairsReply(c, es.map((e) => [bulk(e.member), scoreReply(e.score)]));
}

/**
 * ZRANGE and its older forms; with `store`, ZRANGESTORE (destination first,
 * then the same arguments), which writes the picked members and answers how
 * many.
 */
function zrangeGeneric(
  c: Call,
  preset: { type: RangeType | null; rev: boolean | null },
  store = false,
): Promise<Reply> | Reply {
  const src = store ? 2 : 1;
  let r: RangeReq;
  try {
    r = parseRangeOptions(c, preset, src + 3, store);
  } catch (e) {
    return e as Reply;
  }
  if (r.count !== -1 && r.type === "rank") {
    return err(
      "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
    );
  }
  if (r.withscores && r.type === "lex") {
    return err("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
  }
  let [lo, hi] = [c.args[src + 1], c.args[src + 2]];
  if (r.rev && r.type !== "rank") [lo, hi] = [hi, lo];
  let pick: (es: Entry[]) => number[];
  if (r.type === "rank") {
    const start = numArg(lo), end = numArg(hi);
    pick = (es) => {
      const rr = rankRange(start, end, es.length);
      if (!rr) return [];
      const idx = Array.from({ length: rr[1] - rr[0] + 1 }, (_, i) => rr[0] + i);
      return r.rev ? idx.map((i) => es.length - 1 - i) : idx;
    };
  } else {
    const picker = rangePicker(lo, hi, r.type, r.rev, r.offset, r.count);
    if (typeof picker !== "function") return picker;
    pick = picker;
  }
  if (store) return storeRange(c, pick);
  return runRead(c.db, async (t) => {
    const es = await loadZset(t, c.args[1], await t.metaOf(c.args[1], Z));
    return renderRange(c, pick(es).map((i) => es[i]), r.withscores);
  });
}

/** ZRANGESTORE's write: the destination (any old type) becomes the picked members, or goes. */
function storeRange(c: Call, pick: (es: Entry[]) => number[]): Promise<Reply> {
  const [, dst, src] = c.args;
  return runWrite(c.db, [dst, src], async (t) => {
    const es = await loadZset(t, src, await t.metaOf(src, Z));
    const picked = pick(es).map((i) => es[i]);
    await replaceWithZset(t, dst, picked);
    return int(picked.length);
  });
}

/**
 * Picks the indices of the entries in the score or lex range `lo`..`hi`
 * (ascending, or descending with `rev`), after `offset`, at most `count` (-1:
 * all); or the error reply for a range that does not parse.
 */
function rangePicker(
  lo: Uint8Array,
  hi: Uint8Array,
  by: "score" | "lex",
  rev = false,
  offset = 0,
  count = -1,
): ((es: Entry[]) => number[]) | Reply {
  if (by === "score") {
    const sr = parseScoreRange(lo, hi);
    if (!sr) return err("ERR min or max is not a float");
    return (es) =>
      selectRange(
        es.length,
        (i) => gteMin(es[i].score, sr),
        (i) => lteMax(es[i].score, sr),
        rev,
        offset,
        count,
      );
  }
  const lr = parseLexRange(lo, hi);
  if (!lr) return err("ERR min or max not valid string range item");
  return (es) =>
    selectRange(
      es.length,
      (i) => lexGteMin(es[i].member, lr),
      (i) => lexLteMax(es[i].member, lr),
      rev,
      offset,
      count,
    );
}

/** ZCOUNT and ZLEXCOUNT. */
function zcount(c: Call, by: "score" | "lex"): Promise<Reply> | Reply {
  const pick = rangePicker(c.args[2], c.args[3], by);
  if (typeof pick !== "function") return pick;
  return runRead(c.db, async (t) => {
    const es = await loadZset(t, c.args[1], await t.metaOf(c.args[1], Z));
    return int(pick(es).length);
  });
}

/** ZREMRANGEBYSCORE, ZREMRANGEBYLEX and ZREMRANGEBYRANK. */
function zremrange(c: Call, by: "score" | "lex" | "rank"): Promise<Reply> | Reply {
  const key = c.args[1];
  let pick: (es: Entry[]) => number[];
  if (by !== "rank") {
    const picker = rangePicker(c.args[2], c.args[3], by);
    if (typeof picker !== "function") return picker;
    pick = picker;
  } else {
    const start = Number(intArg(c.args[2])), end = Number(intArg(c.args[3]));
    pick = (es) => {
      const rr = rankRange(start, end, es.length);
      return rr ? Array.from({ length: rr[1] - rr[0] + 1 }, (_, i) => rr[0] + i) : [];
    };
  }
  return runWrite(c.db, [key], async (t) => {
    const found = await t.metaOf(key, Z);
    if (!found) return int(0);
    const m = { ...found };
    const es = await loadZset(t, key, found);
    const idx = pick(es);
    for (const i of idx) delMember(t, key, m, es[i]);
    m.size -= idx.length;
    if (idx.length > 0) saveCollection(t, key, m);
    return int(idx.length);
  });
}

/** Range command table rows. */
export function zrangeCommands(): CommandSpec[] {
  return [
    spec(
      "zrange",
      -4,
      "readonly",
      [1, 1, 1],
      "sortedset",
      "Range by rank, score or lex",
      (c) => zrangeGeneric(c, { type: null, rev: null }),
    ),
    spec(
      "zrangestore",
      -5,
      "write denyoom",
      [1, 2, 1],
      "sortedset",
      "Store a range by rank, score or lex",
      (c) => zrangeGeneric(c, { type: null, rev: null }, true),
    ),
    spec(
      "zrangebyscore",
      -4,
      "readonly",
      [1, 1, 1],
      "sortedset",
      "Range by score",
      (c) => zrangeGeneric(c, { type: "score", rev: false }),
    ),
    spec(
      "zrevrangebyscore",
      -4,
      "readonly",
      [1, 1, 1],
      "sortedset",
      "Reverse range by score",
      (c) => zrangeGeneric(c, { type: "score", rev: true }),
    ),
    spec(
      "zrangebylex",
      -4,
      "readonly",
      [1, 1, 1],
      "sortedset",
      "Range by lex",
      (c) => zrangeGeneric(c, { type: "lex", rev: false }),
    ),
    spec(
      "zrevrange",
      -4,
      "readonly",
      [1, 1, 1],
      "sortedset",
      "Reverse range by rank",
      (c) => zrangeGeneric(c, { type: "rank", rev: true }),
    ),
    spec(
      "zrevrangebylex",
      -4,
      "readonly",
      [1, 1, 1],
      "sortedset",
      "Reverse range by lex",
      (c) => zrangeGeneric(c, { type: "lex", rev: true }),
    ),
    spec(
      "zcount",
      4,
      "readonly fast",
      [1, 1, 1],
      "sortedset",
      "Count in a score range",
      (c) => zcount(c, "score"),
    ),
    spec(
      "zlexcount",
      4,
      "readonly fast",
      [1, 1, 1],
      "sortedset",
      "Count in a lex range",
      (c) => zcount(c, "lex"),
    ),
    spec(
      "zremrangebylex",
      4,
      "write",
      [1, 1, 1],
      "sortedset",
      "Remove a lex range",
      (c) => zremrange(c, "lex"),
    ),
    spec(
      "zremrangebyscore",
      4,
      "write",
      [1, 1, 1],
      "sortedset",
      "Remove a score range",
      (c) => zremrange(c, "score"),
    ),
    spec(
      "zremrangebyrank",
      4,
      "write",
      [1, 1, 1],
      "sortedset",
      "Remove a rank range",
      (c) => zremrange(c, "rank"),
    ),
  ];
}
