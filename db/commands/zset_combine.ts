/**
 * ZUNION, ZINTER, ZDIFF and their STORE forms, as Redis 7.0's
 * zunionInterDiffGenericCommand answers them: inputs are sorted sets or sets
 * (a set member scores 1), WEIGHTS and AGGREGATE SUM|MIN|MAX apply to union
 * and intersection, WITHSCORES to the forms that reply with members. Scores
 * are combined in Redis's order (inputs by cardinality, then as given), so
 * float sums round the same way.
 * @module
 */
import { latin1 } from "../encoding/bytes.ts";
import { RedisType } from "../encoding/metadata.ts";
import { array, bulk, Errors, int, type Reply } from "../resp/reply.ts";
import { runRead, runWrite, type Txn, wrongType } from "../txn.ts";
import { fail, floatArg, lower, numArg } from "./args.ts";
import { allData, cardLimit, pairsReply } from "./collection.ts";
import { type Call, type CommandSpec, spec } from "./types.ts";
import { type Entry, sortEntries } from "./zset_range.ts";
import { loadZset, replaceWithZset, scoreReply } from "./zset_store.ts";

type CombineOp = "union" | "inter" | "diff";
type Aggregate = "sum" | "min" | "max";

/** One input: its members in order and their scores by member id. */
interface Source {
  entries: Entry[];
  scores: Map<string, number>;
  weight: number;
}

/** Where the key count is (after the destination for the STORE forms). */
function numkeysAt(store: boolean): number {
  return store ? 2 : 1;
}

/** The input keys, checked as Redis checks them before any key is read. */
function inputKeys(c: Call, name: string, store: boolean): Uint8Array[] {
  const at = numkeysAt(store);
  const n = numArg(c.args[at]);
  if (n < 1) fail(`ERR at least 1 input key is needed for '${name}' command`);
  if (n > c.args.length - (at + 1)) fail(Errors.syntax);
  return c.args.slice(at + 1, at + 1 + n);
}

async function readSource(t: Txn, key: Uint8Array): Promise<Source> {
  const m = await t.meta(key);
  let entries: Entry[] = [];
  if (m?.type === RedisType.ZSet) entries = await loadZset(t, key, m);
  else if (m?.type === RedisType.Set) {
    entries = (await allData(t, key, m)).map(([member]) => ({ member, score: 1 }));
  } else if (m) wrongType();
  return { entries, scores: new Map(entries.map((e) => [latin1(e.member), e.score])), weight: 1 };
}

/** Options after the keys; mutates the sources' weights. */
function parseOptions(
  c: Call,
  from: number,
  op: CombineOp,
  store: boolean,
  sources: Source[],
): { aggregate: Aggregate; withscores: boolean } {
  let aggregate: Aggregate = "sum", withscores = false;
  for (let j = from; j < c.args.length;) {
    const a = lower(c.args[j]), left = c.args.length - j;
    if (op !== "diff" && a === "weights" && left >= sources.length + 1) {
      for (let i = 0; i < sources.length; i++) {
        sources[i].weight = floatArg(c.args[j + 1 + i], "ERR weight value is not a float");
      }
      j += sources.length + 1;
    } else if (op !== "diff" && a === "aggregate" && left >= 2) {
      const how = lower(c.args[j + 1]);
      if (how !== "sum" && how !== "min" && how !== "max") fail(Errors.syntax);
      aggregate = how;
      j += 2;
    } else if (!store && a === "withscores") {
      withscores = true;
      j += 1;
    } else fail(Errors.syntax);
  }
  return { aggregate, withscores };
}

/** zunionInterAggregate: a SUM of +inf and -inf is 0. */
function combine(target: number, value: number, aggregate: Aggregate): number {
  if (aggregate === "sum") {
    const sum = target + value;
    return Number.isNaN(sum) ? 0 : sum;
  }
  if (aggregate === "min") return value < target ? value : target;
  return value > target ? value : target;
}

/** A weighted score (NaN, from 0 × inf, is 0). */
function weighted(score: number, weight: number): number {
  const v = score * weight;
  return Number.isNaN(v) ? 0 : v;
}

function compute(sources: Source[], op: CombineOp, aggregate: Aggregate): Entry[] {
  if (op === "diff") {
    const [first, ...rest] = sources;
    return first.entries.filter((e) => !rest.some((s) => s.scores.has(latin1(e.member))));
  }
  // Smallest input first, as Redis sorts them (stably), which fixes the order of float sums.
  const ordered = [...sources].sort((a, b) => a.entries.length - b.entries.length);
  const out = new Map<string, Entry>();
  if (op === "inter") {
    const [first, ...rest] = ordered;
    for (const e of first.entries) {
      const id = latin1(e.member);
      let score = weighted(e.score, first.weight);
      let everywhere = true;
      for (const s of rest) {
        const v = s.scores.get(id);
        if (v === undefined) {
          everywhere = false;
          break;
        }
        score = combine(score, v * s.weight, aggregate);
      }
      if (everywhere) out.set(id, { member: e.member, score });
    }
  } else {
    for (const s of ordered) {
      for (const e of s.entries) {
        const id = latin1(e.member);
        const score = weighted(e.score, s.weight);
        const seen = out.get(id);
        out.set(id, {
          member: e.member,
          score: seen ? combine(seen.score, score, aggregate) : score,
        });
      }
    }
  }
  return sortEntries([...out.values()]);
}

/** ZUNION, ZINTER, ZDIFF: the combined members in order, with scores when asked. */
function combineRead(c: Call, name: string, op: CombineOp): Promise<Reply> {
  const keys = inputKeys(c, name, false);
  return runRead(c.db, async (t) => {
    const sources = [];
    for (const k of keys) sources.push(await readSource(t, k));
    const opts = parseOptions(c, numkeysAt(false) + 1 + keys.length, op, false, sources);
    const es = compute(sources, op, opts.aggregate);
    if (!opts.withscores) return array(es.map((e) => bulk(e.member)));
    return pairsReply(c, es.map((e) => [bulk(e.member), scoreReply(e.score)]));
  });
}

/** ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE: the destination becomes the result (or goes). */
function combineStore(c: Call, name: string, op: CombineOp): Promise<Reply> {
  const dst = c.args[1];
  const keys = inputKeys(c, name, true);
  return runWrite(c.db, [dst, ...keys], async (t) => {
    const sources = [];
    for (const k of keys) sources.push(await readSource(t, k));
    const opts = parseOptions(c, numkeysAt(true) + 1 + keys.length, op, true, sources);
    const es = compute(sources, op, opts.aggregate);
    await replaceWithZset(t, dst, es);
    return int(es.length);
  });
}

/** ZINTERCARD: the size of the intersection, at most LIMIT (0: no limit). */
function zintercard(c: Call): Promise<Reply> {
  const keys = inputKeys(c, "zintercard", false);
  return runRead(c.db, async (t) => {
    const sources = [];
    for (const k of keys) sources.push(await readSource(t, k));
    const limit = cardLimit(c, numkeysAt(false) + 1 + keys.length);
    const n = compute(sources, "inter", "sum").length;
    return int(limit > 0 ? Math.min(n, limit) : n);
  });
}

/** Table rows of the seven commands. */
export function zsetCombineCommands(): CommandSpec[] {
  const row = (name: string, op: CombineOp, store: boolean, summary: string) =>
    spec(
      name,
      store ? -4 : -3,
      store ? "write denyoom" : "readonly",
      // Every argument from the first key on counts as a key (numkeys makes the
      // key list movable): pipelined requests touching any input run in order.
      store ? [1, -1, 1] : [2, -1, 1],
      "sortedset",
      summary,
      (c) => store ? combineStore(c, name, op) : combineRead(c, name, op),
    );
  return [
    row("zunion", "union", false, "Union of sorted sets"),
    row("zinter", "inter", false, "Intersection of sorted sets"),
    row("zdiff", "diff", false, "Difference of sorted sets"),
    row("zunionstore", "union", true, "Store the union of sorted sets"),
    row("zinterstore", "inter", true, "Store the intersection of sorted sets"),
    row("zdiffstore", "diff", true, "Store the difference of sorted sets"),
    spec("zintercard", -3, "readonly", [2, -1, 1], "sortedset", "Intersection size", zintercard),
  ];
}
