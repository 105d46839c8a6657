/**
 * Set commands: one empty-valued data record per member.
 * @module
 */
import { equal, latin1 } from "../encoding/bytes.ts";
import { newMetadata, nextVersion, RedisType } from "../encoding/metadata.ts";
import { array, bulk, Errors, int, NULL, type Reply, set } from "../resp/reply.ts";
import { runRead, runWrite, type Txn } from "../txn.ts";
import { fail, numArg } from "./args.ts";
import {
  allData,
  cardLimit,
  openCollection,
  pickRandom,
  positiveArg,
  saveCollection,
  subKey,
  subScan,
  uniqueSubs,
} from "./collection.ts";
import { type Call, type CommandSpec, spec } from "./types.ts";

const S = RedisType.Set;
const EMPTY = new Uint8Array(0);

/** Members of a set (null metadata = empty), in member order. */
async function members(t: Txn, key: Uint8Array): Promise<Uint8Array[]> {
  const m = await t.metaOf(key, S);
  return m ? (await allData(t, key, m)).map(([sub]) => sub) : [];
}

function sadd(c: Call): Promise<Reply> {
  const key = c.args[1];
  return runWrite(c.db, [key], async (t) => {
    const m = await openCollection(t, key, S);
    const ms = uniqueSubs(c.args.slice(2));
    const old = await t.getMany(ms.map((x) => subKey(key, m, x)));
    let n = 0;
    ms.forEach((x, i) => {
      if (old[i] === null) {
        t.put(subKey(key, m, x), EMPTY);
        n++;
      }
    });
    if (n > 0) saveCollection(t, key, { ...m, size: m.size + n });
    return int(n);
  });
}

function srem(c: Call): Promise<Reply> {
  const key = c.args[1];
  return runWrite(c.db, [key], async (t) => {
    const m = await t.metaOf(key, S);
    if (!m) return int(0);
    const ms = uniqueSubs(c.args.slice(2));
    const old = await t.getMany(ms.map((x) => subKey(key, m, x)));
    let n = 0;
    ms.forEach((x, i) => {
      if (old[i] !== null) {
        t.del(subKey(key, m, x));
        n++;
      }
    });
    if (n > 0) saveCollection(t, key, { ...m, size: m.size - n });
    return int(n);
  });
}

function spop(c: Call): Promise<Reply> | Reply {
  if (c.args.length > 3) return { k: "error", s: Errors.syntax };
  const key = c.args[1];
  const count = c.args.length === 3 ? numArg(c.args[2], Errors.mustBePositive) : null;
  if (count !== null && count < 0) fail(Errors.mustBePositive);
  return runWrite(c.db, [key], async (t) => {
    const m = await t.metaOf(key, S);
    if (!m) return count === null ? NULL : set([]);
    const picked = pickRandom((await allData(t, key, m)).map(([s]) => s), count ?? 1);
    // SPOP k 0 changes nothing, so it must not write (a WATCH of k would see a change).
    if (picked.length > 0) {
      for (const x of picked) t.del(subKey(key, m, x));
      saveCollection(t, key, { ...m, size: m.size - picked.length });
    }
    return count === null ? bulk(picked[0]) : set(picked.map((x) => bulk(x)));
  });
}

function srandmember(c: Call): Promise<Reply> | Reply {
  if (c.args.length > 3) return { k: "error", s: Errors.syntax };
  const count = c.args.length === 3 ? numArg(c.args[2]) : null;
  return runRead(c.db, async (t) => {
    const ms = await members(t, c.args[1]);
    if (count === null) return ms.length ? bulk(pickRandom(ms, 1)[0]) : NULL;
    return array(pickRandom(ms, count).map((x) => bulk(x)));
  });
}

/** SMOVE, in Redis 7.0's order: a missing source answers 0 before any type check of the destination. */
function smove(c: Call): Promise<Reply> {
  const [, src, dst, member] = c.args;
  return runWrite(c.db, [src, dst], async (t) => {
    const sm = await t.metaOf(src, S);
    if (!sm) return int(0);
    const same = equal(src, dst);
    const dm = same ? sm : await t.metaOf(dst, S);
    const present = (await t.get(subKey(src, sm, member))) !== null;
    if (same || !present) return int(present ? 1 : 0);
    t.del(subKey(src, sm, member));
    saveCollection(t, src, { ...sm, size: sm.size - 1 });
    const to = dm ?? await openCollection(t, dst, S);
    if (dm === null || (await t.get(subKey(dst, to, member))) === null) {
      t.put(subKey(dst, to, member), EMPTY);
      saveCollection(t, dst, { ...to, size: to.size + 1 });
    }
    return int(1);
  });
}

type SetOp = "inter" | "union" | "diff";

async function combine(t: Txn, keys: Uint8Array[], op: SetOp): Promise<Uint8Array[]> {
  const sets = [];
  for (const k of keys) sets.push(await members(t, k));
  let acc = new Map(sets[0].map((x) => [latin1(x), x]));
  for (const s of sets.slice(1)) {
    const ids = new Set(s.map(latin1));
    if (op === "inter") acc = new Map([...acc].filter(([id]) => ids.has(id)));
    else if (op === "diff") acc = new Map([...acc].filter(([id]) => !ids.has(id)));
    else for (const x of s) acc.set(latin1(x), x);
  }
  return [...acc.values()];
}

function setOp(c: Call, op: SetOp): Promise<Reply> {
  return runRead(
    c.db,
    async (t) => set((await combine(t, c.args.slice(1), op)).map((x) => bulk(x))),
  );
}

/** SINTERCARD: the size of the intersection, at most LIMIT (0: no limit). */
function sintercard(c: Call): Promise<Reply> {
  const n = positiveArg(c.args[1], "numkeys should be greater than 0");
  if (n > c.args.length - 2) fail("ERR Number of keys can't be greater than number of args");
  const keys = c.args.slice(2, 2 + n);
  const limit = cardLimit(c, 2 + n);
  return runRead(c.db, async (t) => {
    const count = (await combine(t, keys, "inter")).length;
    return int(limit > 0 ? Math.min(count, limit) : count);
  });
}

function setOpStore(c: Call, op: SetOp): Promise<Reply> {
  const dst = c.args[1];
  const srcs = c.args.slice(2);
  return runWrite(c.db, [dst, ...srcs], async (t) => {
    const out = await combine(t, srcs, op);
    // The destination is overwritten whatever its type; its old records become garbage.
    await t.meta(dst);
    t.deleteKey(dst);
    if (out.length > 0) {
      const fresh = { ...newMetadata(S, nextVersion(t.now_ms)), size: out.length };
      for (const x of out) t.put(subKey(dst, fresh, x), EMPTY);
      t.setMeta(dst, fresh);
    }
    return int(out.length);
  });
}

/** Set command table rows. */
export const SET_COMMANDS: CommandSpec[] = [
  spec("sadd", -3, "write denyoom fast", [1, 1, 1], "set", "Add members", sadd),
  spec("srem", -3, "write fast", [1, 1, 1], "set", "Remove members", srem),
  spec(
    "smembers",
    2,
    "readonly",
    [1, 1, 1],
    "set",
    "All members",
    (c) => runRead(c.db, async (t) => set((await members(t, c.args[1])).map((x) => bulk(x)))),
  ),
  spec(
    "sismember",
    3,
    "readonly fast",
    [1, 1, 1],
    "set",
    "Is member",
    (c) =>
      runRead(c.db, async (t) => {
        const m = await t.metaOf(c.args[1], S);
        return int(m && (await t.get(subKey(c.args[1], m, c.args[2]))) !== null ? 1 : 0);
      }),
  ),
  spec(
    "smismember",
    -3,
    "readonly fast",
    [1, 1, 1],
    "set",
    "Are members",
    (c) =>
      runRead(c.db, async (t) => {
        const m = await t.metaOf(c.args[1], S);
        const xs = c.args.slice(2);
        if (!m) return array(xs.map(() => int(0)));
        const got = await t.getMany(xs.map((x) => subKey(c.args[1], m, x)));
        return array(got.map((g) => int(g === null ? 0 : 1)));
      }),
  ),
  spec(
    "scard",
    2,
    "readonly fast",
    [1, 1, 1],
    "set",
    "Member count",
    (c) => runRead(c.db, async (t) => int((await t.metaOf(c.args[1], S))?.size ?? 0)),
  ),
  spec("spop", -2, "write fast", [1, 1, 1], "set", "Remove random members", spop),
  spec("srandmember", -2, "readonly", [1, 1, 1], "set", "Random members", srandmember),
  spec("smove", 4, "write fast", [1, 2, 1], "set", "Move a member to another set", smove),
  spec("sinter", -2, "readonly", [1, -1, 1], "set", "Intersection", (c) => setOp(c, "inter")),
  spec("sintercard", -3, "readonly", [2, -1, 1], "set", "Intersection size", sintercard),
  spec("sunion", -2, "readonly", [1, -1, 1], "set", "Union", (c) => setOp(c, "union")),
  spec("sdiff", -2, "readonly", [1, -1, 1], "set", "Difference", (c) => setOp(c, "diff")),
  spec(
    "sinterstore",
    -3,
    "write denyoom",
    [1, -1, 1],
    "set",
    "Store intersection",
    (c) => setOpStore(c, "inter"),
  ),
  spec(
    "sunionstore",
    -3,
    "write denyoom",
    [1, -1, 1],
    "set",
    "Store union",
    (c) => setOpStore(c, "union"),
  ),
  spec(
    "sdiffstore",
    -3,
    "write denyoom",
    [1, -1, 1],
    "set",
    "Store difference",
    (c) => setOpStore(c, "diff"),
  ),
  spec(
    "sscan",
    -3,
    "readonly",
    [1, 1, 1],
    "set",
    "Iterate members",
    (c) => subScan(c, S, (x) => [bulk(x)]),
  ),
];
