/**
 * Seeded random Redis command sequences for the differential test. Keys come
 * from small per-type pools (with some cross-type mixing, to exercise
 * WRONGTYPE), values from small pools, so commands interact.
 * @module
 */

import { prng } from "@eraft/shared/testing";
export { prng };

/** How replies of a generated command are compared. */
export type Compare =
  | "exact"
  /** Array elements (or map pairs) in unspecified order: compare sorted. */
  | "unordered"
  /** A TTL: compare -2/-1 exactly, positive values only as "positive". */
  | "ttl"
  /** Random choice (SPOP/SRANDMEMBER/RANDOMKEY): compare the reply's shape only. */
  | "shape";

/** One generated command. */
export interface GenCommand {
  args: string[];
  compare: Compare;
}

/** Command families the generator can draw from. */
export type Family = "string" | "key" | "hash" | "list" | "set" | "zset" | "txn" | "big";

class Gen {
  constructor(readonly r: () => number) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.r() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)];
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
}

const VALUES = [
  "a",
  "b",
  "c",
  "1",
  "2",
  "-3",
  "10",
  "0",
  "3.5",
  "abc",
  "",
  "x y",
  "007",
  "99999999999999999999",
];
const FIELDS = ["f1", "f2", "f3", "f4", "a", "b"];
const MEMBERS = ["m1", "m2", "m3", "m4", "m5", "a", "b", "c"];
const SCORES = ["0", "1", "2", "-1", "1.5", "3", "10", "-inf", "+inf", "2.5", "1e3", "abc"];
const INTS = ["0", "1", "2", "-1", "-2", "3", "5", "10", "-10", "100", "x", "9223372036854775807"];

function key(g: Gen, prefix: string): string {
  if (g.chance(0.08)) return g.pick(["s0", "h0", "l0", "S0", "z0", "nokey"]);
  return `${prefix}${g.int(0, 2)}`;
}

/** A SETBIT/GETBIT offset, sometimes invalid (negative, not a number, past 512 MiB). */
function bitOffset(g: Gen): string {
  return g.pick(["0", "1", "6", "7", "8", "15", "23", "31", "100", "-1", "x", "4294967296"]);
}

/** BITCOUNT's and BITPOS's optional range, sometimes malformed. */
function bitRange(g: Gen): string[] {
  const i = () => g.pick(["0", "1", "2", "-1", "-2", "-3", "-5", "5", "100", "x"]);
  const shape = g.int(0, 3);
  if (shape === 0) return [];
  if (shape === 1) return [i()];
  if (shape === 2) return [i(), i()];
  return [i(), i(), g.pick(["BIT", "BYTE", "bit", "nibble"])];
}

function stringCmd(g: Gen): GenCommand {
  const k = key(g, "s");
  const v = g.pick(VALUES);
  const ex = (): string[] =>
    g.pick([[], ["EX", "1000"], ["PX", "1000000"], ["KEEPTTL"], ["EX", "0"], ["EX", "x"]]);
  const cmds: Array<() => string[]> = [
    () => [
      "SET",
      k,
      v,
      ...(g.chance(0.3) ? [g.pick(["NX", "XX"])] : []),
      ...(g.chance(0.2) ? ["GET"] : []),
      ...(g.chance(0.3) ? ex() : []),
    ],
    () => ["GET", k],
    () => ["SETNX", k, v],
    () => ["SETEX", k, g.pick(["1000", "0", "-1", "x"]), v],
    () => ["PSETEX", k, g.pick(["1000000", "0"]), v],
    () => ["GETSET", k, v],
    () => ["GETDEL", k],
    () => ["GETEX", k, ...g.pick([[], ["PERSIST"], ["EX", "1000"], ["EX", "-5"], ["FOO"]])],
    () => ["MGET", k, key(g, "s"), key(g, "s")],
    () => ["MSET", k, v, key(g, "s"), g.pick(VALUES), ...(g.chance(0.1) ? ["odd"] : [])],
    () => ["MSETNX", k, v, key(g, "s"), g.pick(VALUES)],
    () => ["INCR", k],
    () => ["DECR", k],
    () => ["INCRBY", k, g.pick(INTS)],
    () => ["DECRBY", k, g.pick(INTS)],
    () => [
      "INCRBYFLOAT",
      k,
      g.pick(["0.1", "1.5", "-2", "3", "1e2", "x", "0.25", "-0.3", "10.001"]),
    ],
    () => ["APPEND", k, v],
    () => ["STRLEN", k],
    () => [
      g.pick(["GETRANGE", "SUBSTR"]),
      k,
      g.pick(INTS.slice(0, 10)),
      g.pick(INTS.slice(0, 10)),
    ],
    () => ["SETRANGE", k, g.pick(["0", "1", "3", "-1", "10"]), v],
    () => ["SETBIT", k, bitOffset(g), g.pick(["0", "1", "1", "2", "x"])],
    () => ["GETBIT", k, bitOffset(g)],
    () => ["BITCOUNT", k, ...bitRange(g)],
    () => ["BITPOS", k, g.pick(["0", "1", "1", "0", "2", "x"]), ...bitRange(g)],
  ];
  return { args: g.pick(cmds)(), compare: "exact" };
}

function keyCmd(g: Gen): GenCommand {
  const any = () => g.pick(["s", "h", "l", "S", "z"]);
  const k = key(g, any());
  const opts = (): string[] => (g.chance(0.3) ? [g.pick(["NX", "XX", "GT", "LT", "FOO"])] : []);
  const cmds: Array<() => GenCommand> = [
    () => ({ args: ["DEL", k, ...(g.chance(0.3) ? [key(g, any())] : [])], compare: "exact" }),
    () => ({ args: ["UNLINK", k], compare: "exact" }),
    () => ({ args: [g.pick(["EXISTS", "TOUCH"]), k, key(g, any()), k], compare: "exact" }),
    () => ({ args: ["TYPE", k], compare: "exact" }),
    () => ({
      args: ["EXPIRE", k, g.pick(["1000", "0", "-1", "x", "2000"]), ...opts()],
      compare: "exact",
    }),
    () => ({
      args: ["PEXPIRE", k, g.pick(["1000000", "-5", "2000000"]), ...opts()],
      compare: "exact",
    }),
    () => ({ args: ["EXPIREAT", k, g.pick(["1", "99999999999", "x"])], compare: "exact" }),
    () => ({ args: ["PEXPIREAT", k, g.pick(["1", "99999999999999"])], compare: "exact" }),
    () => ({ args: ["TTL", k], compare: "ttl" }),
    () => ({ args: ["PTTL", k], compare: "ttl" }),
    () => ({ args: [g.pick(["EXPIRETIME", "PEXPIRETIME"]), k], compare: "ttl" }),
    () => ({ args: ["PERSIST", k], compare: "exact" }),
    () => ({ args: ["KEYS", g.pick(["*", "s*", "?0", "[hl]*", "nomatch"])], compare: "unordered" }),
    () => ({ args: ["RENAME", k, key(g, any())], compare: "exact" }),
    () => ({ args: ["RENAMENX", k, key(g, any())], compare: "exact" }),
    // COPY to another DB succeeds on redis-server (16 DBs); eraft has one, so DB 0 only.
    () => ({
      args: [
        "COPY",
        k,
        key(g, any()),
        ...g.pick([[], ["REPLACE"], ["DB", "0"], ["DB", "x"], ["replace", "DB", "0"], ["FOO"]]),
      ],
      compare: "exact",
    }),
    () => ({ args: ["DBSIZE"], compare: "exact" }),
    () => ({ args: ["RANDOMKEY"], compare: "shape" }),
  ];
  return g.pick(cmds)();
}

/** HRANDFIELD's and ZRANDMEMBER's optional `count [WITH...]`, sometimes malformed. */
function randomCount(g: Gen, with_word: string): string[] {
  if (g.chance(0.3)) return [];
  const count = g.pick(["0", "1", "2", "-3", "10", "x", "-9223372036854775808"]);
  if (g.chance(0.5)) return [count];
  return [count, g.pick([with_word, with_word.toLowerCase(), "FOO"])];
}

function hashCmd(g: Gen): GenCommand {
  const k = key(g, "h");
  const f = () => g.pick(FIELDS);
  const cmds: Array<() => GenCommand> = [
    () => ({
      args: ["HSET", k, f(), g.pick(VALUES), ...(g.chance(0.4) ? [f(), g.pick(VALUES)] : [])],
      compare: "exact",
    }),
    () => ({ args: ["HMSET", k, f(), g.pick(VALUES)], compare: "exact" }),
    () => ({ args: ["HGET", k, f()], compare: "exact" }),
    () => ({ args: ["HMGET", k, f(), f()], compare: "exact" }),
    () => ({ args: ["HDEL", k, f(), ...(g.chance(0.3) ? [f()] : [])], compare: "exact" }),
    () => ({ args: ["HLEN", k], compare: "exact" }),
    () => ({ args: ["HEXISTS", k, f()], compare: "exact" }),
    () => ({ args: ["HGETALL", k], compare: "unordered" }),
    () => ({ args: ["HKEYS", k], compare: "unordered" }),
    () => ({ args: ["HVALS", k], compare: "unordered" }),
    () => ({ args: ["HINCRBY", k, f(), g.pick(INTS)], compare: "exact" }),
    () => ({ args: ["HINCRBYFLOAT", k, f(), g.pick(["0.1", "2", "-1.5", "x"])], compare: "exact" }),
    () => ({ args: ["HSETNX", k, f(), g.pick(VALUES)], compare: "exact" }),
    () => ({ args: ["HSTRLEN", k, f()], compare: "exact" }),
    () => ({ args: ["HRANDFIELD", k, ...randomCount(g, "WITHVALUES")], compare: "shape" }),
  ];
  return g.pick(cmds)();
}

function listCmd(g: Gen): GenCommand {
  const k = key(g, "l");
  const v = () => g.pick(VALUES.slice(0, 8));
  const idx = () => g.pick(["0", "1", "-1", "2", "-2", "5", "-10", "100", "x"]);
  const cmds: Array<() => string[]> = [
    () => ["LPUSH", k, v(), ...(g.chance(0.5) ? [v(), v()] : [])],
    () => ["RPUSH", k, v(), ...(g.chance(0.5) ? [v()] : [])],
    () => ["LPUSHX", k, v()],
    () => ["RPUSHX", k, v()],
    () => ["LPOP", k, ...(g.chance(0.3) ? [g.pick(["0", "1", "2", "10", "-1"])] : [])],
    () => ["RPOP", k, ...(g.chance(0.3) ? [g.pick(["0", "1", "3"])] : [])],
    () => ["LLEN", k],
    () => ["LRANGE", k, idx(), idx()],
    () => ["LINDEX", k, idx()],
    () => ["LSET", k, idx(), v()],
    () => ["LTRIM", k, idx(), idx()],
    () => ["LREM", k, g.pick(["0", "1", "-1", "2", "-2"]), v()],
    () => ["LINSERT", k, g.pick(["BEFORE", "AFTER", "bad"]), v(), v()],
    () => [
      "LMOVE",
      k,
      key(g, "l"),
      g.pick(["LEFT", "RIGHT", "left"]),
      g.pick(["LEFT", "RIGHT", "up"]),
    ],
    () => ["RPOPLPUSH", k, key(g, "l")],
    () => [
      "LMPOP",
      ...multiKeys(g, "l"),
      g.pick(["LEFT", "RIGHT", "right", "up"]),
      ...mpopCount(g),
    ],
    () => [
      "LPOS",
      k,
      v(),
      ...g.pick([[], ["RANK", g.pick(["1", "-1", "2", "0"])], ["COUNT", g.pick(["0", "2", "-1"])], [
        "MAXLEN",
        "2",
      ]]),
    ],
  ];
  return { args: g.pick(cmds)(), compare: "exact" };
}

function setCmd(g: Gen): GenCommand {
  const k = key(g, "S");
  const m = () => g.pick(MEMBERS);
  const cmds: Array<() => GenCommand> = [
    () => ({ args: ["SADD", k, m(), ...(g.chance(0.5) ? [m(), m()] : [])], compare: "exact" }),
    () => ({ args: ["SREM", k, m(), ...(g.chance(0.3) ? [m()] : [])], compare: "exact" }),
    () => ({ args: ["SMOVE", k, key(g, "S"), m()], compare: "exact" }),
    () => ({ args: ["SINTERCARD", ...multiKeys(g, "S"), ...cardLimit(g)], compare: "exact" }),
    () => ({ args: ["SMEMBERS", k], compare: "unordered" }),
    () => ({ args: ["SISMEMBER", k, m()], compare: "exact" }),
    () => ({ args: ["SMISMEMBER", k, m(), m()], compare: "exact" }),
    () => ({ args: ["SCARD", k], compare: "exact" }),
    // SPOP picks at random: only counts that remove all or nothing keep both servers in step.
    () => ({ args: ["SPOP", k, g.pick(["0", "10", "-1"])], compare: "unordered" }),
    () => ({
      args: ["SRANDMEMBER", k, ...(g.chance(0.5) ? [g.pick(["0", "2", "-2", "10"])] : [])],
      compare: "shape",
    }),
    () => ({ args: [g.pick(["SINTER", "SUNION", "SDIFF"]), k, key(g, "S")], compare: "unordered" }),
    () => ({
      args: [g.pick(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), key(g, "S"), k, key(g, "S")],
      compare: "exact",
    }),
  ];
  return g.pick(cmds)();
}

/** `numkeys key [key ...]` of the *MPOP and *INTERCARD commands, the count sometimes wrong. */
function multiKeys(g: Gen, prefix: string): string[] {
  const n = g.int(1, 3);
  const keys = Array.from({ length: n }, () => key(g, prefix));
  return [g.chance(0.9) ? String(n) : g.pick(["0", "-1", "x", String(n + 1)]), ...keys];
}

/** LMPOP's and ZMPOP's optional `COUNT n`, sometimes malformed. */
function mpopCount(g: Gen): string[] {
  if (g.chance(0.4)) return [];
  return [
    "COUNT",
    g.pick(["1", "2", "10", "0", "-1", "x"]),
    ...(g.chance(0.1) ? ["COUNT", "1"] : []),
  ];
}

/** SINTERCARD's and ZINTERCARD's optional `LIMIT n`, sometimes malformed. */
function cardLimit(g: Gen): string[] {
  if (g.chance(0.5)) return [];
  return [g.pick(["LIMIT", "limit", "LIMITS"]), g.pick(["0", "1", "2", "-1", "x"])];
}

/** ZUNION/ZINTER/ZDIFF and their STORE forms over sorted sets and sets, sometimes malformed. */
function zsetCombine(g: Gen): string[] {
  const store = g.chance(0.5);
  const op = g.pick(["ZUNION", "ZINTER", "ZDIFF"]);
  const n = g.int(1, 3);
  const keys = Array.from({ length: n }, () => key(g, g.chance(0.7) ? "z" : "S"));
  const numkeys = g.chance(0.9) ? String(n) : g.pick(["0", "x", String(n + 2)]);
  const opts: string[] = [];
  if (g.chance(0.4)) {
    const weights = Array.from({ length: n }, () => g.pick(["1", "2", "-1", "0.5", "3", "inf"]));
    opts.push("WEIGHTS", ...(g.chance(0.9) ? weights : ["x"]));
  }
  if (g.chance(0.4)) opts.push("AGGREGATE", g.pick(["SUM", "MIN", "max", "avg"]));
  if (g.chance(0.4)) opts.push("WITHSCORES");
  const head = store ? [`${op}STORE`, key(g, "z")] : [op];
  return [...head, numkeys, ...keys, ...opts];
}

function zsetCmd(g: Gen): GenCommand {
  const k = key(g, "z");
  const m = () => g.pick(MEMBERS);
  const s = () => g.pick(SCORES);
  const lim =
    (): string[] => (g.chance(0.3)
      ? ["LIMIT", g.pick(["0", "1", "-1"]), g.pick(["1", "2", "-1", "0"])]
      : []);
  const rng = () => g.pick(["-inf", "+inf", "0", "1", "(1", "2", "(2.5", "10", "x"]);
  const lex = () => g.pick(["-", "+", "[a", "(b", "[m2", "(m3", "m1"]);
  const flags = (): string[] => (g.chance(0.4) ? [g.pick(["NX", "XX", "GT", "LT", "CH"])] : []);
  const cmds: Array<() => string[]> = [
    () => ["ZADD", k, ...flags(), ...flags(), s(), m(), ...(g.chance(0.4) ? [s(), m()] : [])],
    () => ["ZADD", k, "INCR", s(), m()],
    () => ["ZREM", k, m(), ...(g.chance(0.3) ? [m()] : [])],
    () => ["ZSCORE", k, m()],
    () => ["ZMSCORE", k, m(), m()],
    () => ["ZINCRBY", k, s(), m()],
    () => ["ZCARD", k],
    () => ["ZCOUNT", k, rng(), rng()],
    () => [g.pick(["ZRANK", "ZREVRANK"]), k, m()],
    () => [
      "ZRANGE",
      k,
      g.pick(["0", "1", "-1", "-2"]),
      g.pick(["-1", "2", "0", "10"]),
      ...(g.chance(0.3) ? ["REV"] : []),
      ...(g.chance(0.4) ? ["WITHSCORES"] : []),
    ],
    () => [
      "ZRANGE",
      k,
      rng(),
      rng(),
      "BYSCORE",
      ...(g.chance(0.3) ? ["REV"] : []),
      ...lim(),
      ...(g.chance(0.4) ? ["WITHSCORES"] : []),
    ],
    () => ["ZRANGE", k, lex(), lex(), "BYLEX", ...lim()],
    () => ["ZRANGEBYSCORE", k, rng(), rng(), ...(g.chance(0.4) ? ["WITHSCORES"] : []), ...lim()],
    () => ["ZREVRANGEBYSCORE", k, rng(), rng(), ...(g.chance(0.4) ? ["WITHSCORES"] : []), ...lim()],
    () => [g.pick(["ZRANGEBYLEX", "ZREVRANGEBYLEX"]), k, lex(), lex(), ...lim()],
    () => ["ZLEXCOUNT", k, lex(), lex()],
    () => {
      const [lo, hi, by] = g.pick([
        [g.pick(["0", "1", "-1"]), g.pick(["-1", "2", "0"]), []],
        [rng(), rng(), ["BYSCORE"]],
        [lex(), lex(), ["BYLEX"]],
      ] as Array<[string, string, string[]]>);
      const rev = g.chance(0.3) ? ["REV"] : [];
      const extra = g.chance(0.1) ? ["WITHSCORES"] : [];
      return ["ZRANGESTORE", key(g, "z"), k, lo, hi, ...by, ...rev, ...lim(), ...extra];
    },
    () => ["ZREMRANGEBYLEX", k, lex(), lex()],
    () => [
      g.pick(["ZPOPMIN", "ZPOPMAX"]),
      k,
      ...(g.chance(0.4) ? [g.pick(["0", "1", "2", "10", "-1"])] : []),
    ],
    () => ["ZREMRANGEBYSCORE", k, rng(), rng()],
    () => ["ZREMRANGEBYRANK", k, g.pick(["0", "1", "-1"]), g.pick(["0", "-1", "1"])],
  ];
  if (g.chance(0.05)) {
    return { args: ["ZRANDMEMBER", k, ...randomCount(g, "WITHSCORES")], compare: "shape" };
  }
  if (g.chance(0.08)) return { args: zsetCombine(g), compare: "exact" };
  if (g.chance(0.03)) {
    return { args: ["ZINTERCARD", ...multiKeys(g, "z"), ...cardLimit(g)], compare: "exact" };
  }
  if (g.chance(0.04)) {
    const end = g.pick(["MIN", "MAX", "max", "middle"]);
    return { args: ["ZMPOP", ...multiKeys(g, "z"), end, ...mpopCount(g)], compare: "exact" };
  }
  return { args: g.pick(cmds)(), compare: "exact" };
}

/** The families of small, shared keys (MULTI queues its commands from these). */
const DATA_FAMILIES: Record<Exclude<Family, "txn" | "big">, (g: Gen) => GenCommand> = {
  string: stringCmd,
  key: keyCmd,
  hash: hashCmd,
  list: listCmd,
  set: setCmd,
  zset: zsetCmd,
};

/** Commands eraft refuses inside MULTI (db/multi.ts): they walk the whole keyspace. */
const NOT_QUEUEABLE = new Set(["KEYS", "SCAN", "RANDOMKEY", "DBSIZE", "FLUSHALL", "FLUSHDB"]);

/** A command of a random data family that may be queued inside MULTI. */
function queueable(g: Gen): GenCommand {
  const families = Object.values(DATA_FAMILIES);
  for (let tries = 0; tries < 20; tries++) {
    const c = g.pick(families)(g);
    if (!NOT_QUEUEABLE.has(c.args[0].toUpperCase())) return c;
  }
  return { args: ["PING"], compare: "exact" };
}

/**
 * MULTI, up to five queued commands, then EXEC (or DISCARD); sometimes after
 * WATCH of a key that a command between WATCH and MULTI may change (EXEC then
 * answers nil), sometimes with a misspelt command that aborts the EXEC.
 */
function txnBlock(g: Gen): GenCommand[] {
  const exact = (...args: string[]): GenCommand => ({ args, compare: "exact" });
  const out: GenCommand[] = [];
  if (g.chance(0.4)) out.push(exact("WATCH", key(g, g.pick(["s", "h", "l", "S", "z"]))));
  if (g.chance(0.3)) out.push(queueable(g));
  out.push(exact("MULTI"));
  const n = g.int(0, 5);
  for (let i = 0; i < n; i++) out.push(g.chance(0.05) ? exact("NOSUCH", "x") : queueable(g));
  out.push(exact(g.chance(0.85) ? "EXEC" : "DISCARD"));
  if (g.chance(0.2)) out.push(exact("UNWATCH"));
  return out;
}

/** `count` consecutive numbers from `from`, each through `each`. */
function run<T>(from: number, count: number, each: (n: number) => T): T[] {
  return Array.from({ length: count }, (_, i) => each(from + i));
}

/**
 * Collections of hundreds of elements (150-840): writes of hundreds of
 * records in one batch, ranges, pops and removals over hundreds of records,
 * whole-collection replies, set and sorted-set algebra, and DEL of a big
 * collection (a version bump whose old records must never show again). Own
 * keys (`bl0`, `bh1`, ...): replies this long would swamp the other
 * families' sequences. Members and scores are distinct numbers, so every
 * reply is deterministic.
 */
function bigCmd(g: Gen): GenCommand {
  const exact = (args: string[]): GenCommand => ({ args, compare: "exact" });
  const unordered = (args: string[]): GenCommand => ({ args, compare: "unordered" });
  const size = () => g.int(150, 420);
  const at = () => g.int(0, 300);
  const [bl, bh, bs, bz] = ["bl", "bh", "bs", "bz"].map((p) => `${p}${g.int(0, 1)}`);
  const value = () => `v${g.int(0, 60)}`;
  const cmds: Array<() => GenCommand> = [
    () => exact([g.pick(["RPUSH", "LPUSH"]), bl, ...run(at(), size(), (j) => `v${j % 61}`)]),
    () => exact(["LRANGE", bl, g.pick(["0", "100", "250", "-300"]), g.pick(["-1", "299", "-100"])]),
    () => exact(["LINDEX", bl, g.pick(["257", "300", "-257"])]),
    () => exact(["LSET", bl, g.pick(["256", "300", "-1"]), "changed"]),
    () => exact(["LREM", bl, g.pick(["0", "3", "-3"]), value()]),
    () => exact(["LTRIM", bl, g.pick(["0", "10"]), g.pick(["-1", "-10", "300"])]),
    () => exact(["LPOS", bl, value(), ...g.pick([[], ["COUNT", "0"], ["RANK", "-2"]])]),
    () => exact(["LINSERT", bl, g.pick(["BEFORE", "AFTER"]), value(), "inserted"]),
    () => exact([g.pick(["LPOP", "RPOP"]), bl, g.pick(["1", "100", "300"])]),
    () => exact(["LMOVE", bl, `bl${g.int(0, 1)}`, "LEFT", "RIGHT"]),
    () => exact(["HSET", bh, ...run(at(), size(), (j) => [`f${j}`, `v${j}`]).flat()]),
    () => unordered([g.pick(["HGETALL", "HKEYS", "HVALS"]), bh]),
    () => exact(["HDEL", bh, ...run(at(), g.int(50, 300), (j) => `f${j}`)]),
    () => exact(["HMGET", bh, `f${g.int(0, 720)}`, `f${g.int(0, 720)}`]),
    () => exact(["SADD", bs, ...run(at(), size(), (j) => `m${j}`)]),
    () => unordered(["SMEMBERS", bs]),
    () => unordered([g.pick(["SINTER", "SUNION", "SDIFF"]), "bs0", "bs1"]),
    () => exact([g.pick(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), bs, "bs0", "bs1"]),
    () => exact(["SREM", bs, ...run(at(), g.int(50, 300), (j) => `m${j}`)]),
    () => exact(["SINTERCARD", "2", "bs0", "bs1"]),
    // A count past the size removes every member: the same set on both servers.
    () => unordered(["SPOP", bs, "1000"]),
    () => exact(["ZADD", bz, ...run(at(), size(), (j) => [String(j), `m${j}`]).flat()]),
    () =>
      exact([
        "ZRANGE",
        bz,
        g.pick(["0", "200", "-300"]),
        g.pick(["-1", "299"]),
        ...(g.chance(0.3) ? ["REV"] : []),
        ...(g.chance(0.5) ? ["WITHSCORES"] : []),
      ]),
    () =>
      exact([
        "ZRANGE",
        bz,
        g.pick(["(100", "-inf", "250"]),
        g.pick(["400", "+inf", "(600"]),
        "BYSCORE",
        ...(g.chance(0.5) ? ["LIMIT", g.pick(["0", "150"]), g.pick(["-1", "200"])] : []),
      ]),
    () => exact(["ZCOUNT", bz, g.pick(["100", "(257"]), g.pick(["(500", "+inf"])]),
    () => exact([g.pick(["ZRANK", "ZREVRANK", "ZSCORE"]), bz, `m${g.int(0, 720)}`]),
    () => exact(["ZREMRANGEBYRANK", bz, "0", g.pick(["99", "299"])]),
    () => exact(["ZREMRANGEBYSCORE", bz, "-inf", g.pick(["200", "(350"])]),
    () => exact([g.pick(["ZPOPMIN", "ZPOPMAX"]), bz, g.pick(["1", "270", "1000"])]),
    // Ties (an incremented score meeting another's) order by member on both servers.
    () => exact(["ZINCRBY", bz, g.pick(["1", "0.5", "-2"]), `m${g.int(0, 720)}`]),
    () => exact(["ZUNIONSTORE", bz, "2", "bz0", "bz1", ...g.pick([[], ["AGGREGATE", "MAX"]])]),
    () => exact(g.pick([["LLEN", bl], ["HLEN", bh], ["SCARD", bs], ["ZCARD", bz], ["LLEN", bz]])),
    () => exact(["DEL", g.pick([bl, bh, bs, bz])]),
    () => exact(["RENAME", g.pick(["bl", "bh", "bs", "bz"]) + "0", `moved${g.int(0, 1)}`]),
    () => unordered(["KEYS", g.pick(["b*", "moved*"])]),
  ];
  return g.pick(cmds)();
}

const FAMILIES: Record<Family, (g: Gen) => GenCommand | GenCommand[]> = {
  ...DATA_FAMILIES,
  txn: txnBlock,
  big: bigCmd,
};

/** `count` commands from `seed`, drawn from `families`. */
export function generate(seed: number, count: number, families: Family[]): GenCommand[] {
  const g = new Gen(prng(seed));
  const out: GenCommand[] = [];
  while (out.length < count) {
    const made = FAMILIES[g.pick(families)](g);
    out.push(...(Array.isArray(made) ? made : [made]));
  }
  return out.slice(0, count);
}
