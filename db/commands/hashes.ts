/**
 * Hash commands: one data record per field (`M(K)|'d'|version|field` ->
 * value); the metadata holds the field count.
 * @module
 */
import { str, utf8 } from "../encoding/bytes.ts";
import { RedisType } from "../encoding/metadata.ts";
import { INT64, parseI64 } from "../resp/int.ts";
import {
  arityError,
  array,
  bulk,
  bulkOrNull,
  int,
  map,
  NULL,
  OK,
  type Reply,
} from "../resp/reply.ts";
import { runRead, runWrite } from "../txn.ts";
import { fail, intArg } from "./args.ts";
import {
  allData,
  openCollection,
  pairsReply,
  pickRandom,
  randomCountArgs,
  saveCollection,
  subKey,
  subScan,
  uniqueSubs,
} from "./collection.ts";
import { addLongDouble, formatLongDoubleHuman, isOverflow, parseLongDouble } from "./ldouble.ts";
import { type Call, type CommandSpec, spec } from "./types.ts";

const H = RedisType.Hash;

function hset(c: Call, name: string): Promise<Reply> | Reply {
  if (c.args.length % 2 !== 0) return arityError(name);
  const key = c.args[1];
  return runWrite(c.db, [key], async (t) => {
    const m = await openCollection(t, key, H);
    const fields = new Map<string, [Uint8Array, Uint8Array]>();
    for (let i = 2; i < c.args.length; i += 2) {
      fields.set(str(c.args[i]) + "\u0000" + c.args[i].join(","), [c.args[i], c.args[i + 1]]);
    }
    const list = [...fields.values()];
    const old = await t.getMany(list.map(([f]) => subKey(key, m, f)));
    let added = 0;
    list.forEach(([f, v], i) => {
      if (old[i] === null) added++;
      t.put(subKey(key, m, f), v);
    });
    saveCollection(t, key, { ...m, size: m.size + added });
    return name === "hmset" ? OK : int(added);
  });
}

function hdel(c: Call): Promise<Reply> {
  const key = c.args[1];
  return runWrite(c.db, [key], async (t) => {
    const m = await t.metaOf(key, H);
    if (!m) return int(0);
    const uniq = uniqueSubs(c.args.slice(2));
    const old = await t.getMany(uniq.map((f) => subKey(key, m, f)));
    let n = 0;
    uniq.forEach((f, i) => {
      if (old[i] !== null) {
        t.del(subKey(key, m, f));
        n++;
      }
    });
    if (n > 0) saveCollection(t, key, { ...m, size: m.size - n });
    return int(n);
  });
}

function hget(c: Call): Promise<Reply> {
  return runRead(c.db, async (t) => {
    const m = await t.metaOf(c.args[1], H);
    return m ? bulkOrNull(await t.get(subKey(c.args[1], m, c.args[2]))) : NULL;
  });
}

function hmget(c: Call): Promise<Reply> {
  return runRead(c.db, async (t) => {
    const m = await t.metaOf(c.args[1], H);
    const fields = c.args.slice(2);
    if (!m) return array(fields.map(() => NULL));
    const vals = await t.getMany(fields.map((f) => subKey(c.args[1], m, f)));
    return array(vals.map(bulkOrNull));
  });
}

function hgetall(c: Call, what: "all" | "keys" | "vals"): Promise<Reply> {
  return runRead(c.db, async (t) => {
    const m = await t.metaOf(c.args[1], H);
    const recs = m ? await allData(t, c.args[1], m) : [];
    if (what === "all") return map(recs.map(([f, v]) => [bulk(f), bulk(v)]));
    return array(recs.map(([f, v]) => bulk(what === "keys" ? f : v)));
  });
}

function hrandfield(c: Call): Promise<Reply> {
  const { count, with_values } = randomCountArgs(c, "withvalues");
  return runRead(c.db, async (t) => {
    const m = await t.metaOf(c.args[1], H);
    const recs = m ? await allData(t, c.args[1], m) : [];
    if (count === null) return recs.length > 0 ? bulk(pickRandom(recs, 1)[0][0]) : NULL;
    const picked = pickRandom(recs, count);
    if (!with_values) return array(picked.map(([f]) => bulk(f)));
    return pairsReply(c, picked.map(([f, v]) => [bulk(f), bulk(v)]));
  });
}

function hincrby(c: Call): Promise<Reply> {
  const [, key, field] = c.args;
  const by = intArg(c.args[3]);
  return runWrite(c.db, [key], async (t) => {
    const m = await openCollection(t, key, H);
    const cur_raw = await t.get(subKey(key, m, field));
    const cur = cur_raw === null ? 0n : parseI64(cur_raw);
    if (cur === null) fail("ERR hash value is not an integer");
    const next = cur + by;
    if (next > INT64.max || next < INT64.min) fail("ERR increment or decrement would overflow");
    t.put(subKey(key, m, field), utf8(next.toString()));
    saveCollection(t, key, { ...m, size: m.size + (cur_raw === null ? 1 : 0) });
    return int(next);
  });
}

function hincrbyfloat(c: Call): Promise<Reply> {
  const [, key, field] = c.args;
  const by = parseLongDouble(str(c.args[3]));
  if (by === null) fail("ERR value is not a valid float");
  return runWrite(c.db, [key], async (t) => {
    const m = await openCollection(t, key, H);
    const cur_raw = await t.get(subKey(key, m, field));
    const cur = parseLongDouble(cur_raw === null ? "0" : str(cur_raw));
    if (cur === null) fail("ERR hash value is not a float");
    if (cur === "inf" || by === "inf") fail("ERR increment would produce NaN or Infinity");
    const next = addLongDouble(cur, by);
    if (isOverflow(next)) fail("ERR increment would produce NaN or Infinity");
    const text = utf8(formatLongDoubleHuman(next));
    t.put(subKey(key, m, field), text);
    saveCollection(t, key, { ...m, size: m.size + (cur_raw === null ? 1 : 0) });
    return bulk(text);
  });
}

/** Hash command table rows. */
export const HASH_COMMANDS: CommandSpec[] = [
  spec("hset", -4, "write denyoom fast", [1, 1, 1], "hash", "Set fields", (c) => hset(c, "hset")),
  spec("hmset", -4, "write denyoom fast", [1, 1, 1], "hash", "Set fields", (c) => hset(c, "hmset")),
  spec(
    "hsetnx",
    4,
    "write denyoom fast",
    [1, 1, 1],
    "hash",
    "Set a field if absent",
    (c) =>
      runWrite(c.db, [c.args[1]], async (t) => {
        const m = await openCollection(t, c.args[1], H);
        if ((await t.get(subKey(c.args[1], m, c.args[2]))) !== null) return int(0);
        t.put(subKey(c.args[1], m, c.args[2]), c.args[3]);
        saveCollection(t, c.args[1], { ...m, size: m.size + 1 });
        return int(1);
      }),
  ),
  spec("hget", 3, "readonly fast", [1, 1, 1], "hash", "Get a field", hget),
  spec("hmget", -3, "readonly fast", [1, 1, 1], "hash", "Get fields", hmget),
  spec("hdel", -3, "write fast", [1, 1, 1], "hash", "Delete fields", hdel),
  spec(
    "hlen",
    2,
    "readonly fast",
    [1, 1, 1],
    "hash",
    "Number of fields",
    (c) => runRead(c.db, async (t) => int((await t.metaOf(c.args[1], H))?.size ?? 0)),
  ),
  spec(
    "hexists",
    3,
    "readonly fast",
    [1, 1, 1],
    "hash",
    "Field exists",
    (c) =>
      runRead(c.db, async (t) => {
        const m = await t.metaOf(c.args[1], H);
        return int(m && (await t.get(subKey(c.args[1], m, c.args[2]))) !== null ? 1 : 0);
      }),
  ),
  spec(
    "hstrlen",
    3,
    "readonly fast",
    [1, 1, 1],
    "hash",
    "Length of a field's value",
    (c) =>
      runRead(c.db, async (t) => {
        const m = await t.metaOf(c.args[1], H);
        return int(m ? (await t.get(subKey(c.args[1], m, c.args[2])))?.length ?? 0 : 0);
      }),
  ),
  spec(
    "hgetall",
    2,
    "readonly",
    [1, 1, 1],
    "hash",
    "All fields and values",
    (c) => hgetall(c, "all"),
  ),
  spec("hkeys", 2, "readonly", [1, 1, 1], "hash", "All fields", (c) => hgetall(c, "keys")),
  spec("hvals", 2, "readonly", [1, 1, 1], "hash", "All values", (c) => hgetall(c, "vals")),
  spec("hincrby", 4, "write denyoom fast", [1, 1, 1], "hash", "Increment a field", hincrby),
  spec(
    "hincrbyfloat",
    4,
    "write denyoom fast",
    [1, 1, 1],
    "hash",
    "Increment a field by a float",
    hincrbyfloat,
  ),
  spec("hrandfield", -2, "readonly", [1, 1, 1], "hash", "Random fields", hrandfield),
  spec(
    "hscan",
    -3,
    "readonly",
    [1, 1, 1],
    "hash",
    "Iterate fields",
    (c) => subScan(c, H, (f, v) => [bulk(f), bulk(v)]),
  ),
];
