/**
 * List commands. Items live at `M(K)|'d'|version|u64 index`; the metadata
 * keeps [head, tail). Pushes and pops touch only the ends; commands that
 * change the middle (LREM, LINSERT) rewrite the list as a new generation.
 * @module
 */
import { equal, u64 } from "../encoding/bytes.ts";
import { dataKey } from "../encoding/keys.ts";
import {
  LIST_INITIAL_INDEX,
  type Metadata,
  newMetadata,
  nextVersion,
  RedisType,
} from "../encoding/metadata.ts";
import { array, bulk, err, Errors, int, NULL, NULL_ARRAY, OK, type Reply } from "../resp/reply.ts";
import { runRead, runWrite, type Txn } from "../txn.ts";
import { fail, lower, numArg } from "./args.ts";
import { mpop, openCollection, saveCollection } from "./collection.ts";
import { type Call, type CommandSpec, spec } from "./types.ts";

const L = RedisType.List;

function itemKey(key: Uint8Array, m: Metadata, index: number): Uint8Array {
  return dataKey(key, m.version, u64(index));
}

/** Ranges shorter than this are read by key rather than scanned. */
const POINT_READ_ITEMS = 32;

/** Items at logical positions [from, to] (inclusive, already clamped). */
async function readRange(
  t: Txn,
  key: Uint8Array,
  m: Metadata,
  from: number,
  to: number,
): Promise<Uint8Array[]> {
  if (from > to) return [];
  if (to - from + 1 <= POINT_READ_ITEMS) {
    // Point reads: a group commit's earlier writes and reads answer them locally.
    const keys = [];
    for (let i = from; i <= to; i++) keys.push(itemKey(key, m, m.head + i));
    const values = await t.getMany(keys);
    if (values.some((v) => v === null)) throw new Error("list records missing inside [head, tail)");
    return values as Uint8Array[];
  }
  const recs = await t.scanAll(
    itemKey(key, m, m.head + from),
    itemKey(key, m, m.head + to + 1),
    to - from + 1,
  );
  if (recs.length !== to - from + 1) throw new Error("list records missing inside [head, tail)");
  return recs.map((r) => r.value);
}

/** Redis's start/stop normalisation; null when the range is empty. */
function clamp(start: number, stop: number, len: number): [number, number] | null {
  if (start < 0) start += len;
  if (stop < 0) stop += len;
  if (start < 0) start = 0;
  if (start > stop || start >= len) return null;
  if (stop >= len) stop = len - 1;
  return [start, stop];
}

/** Replaces the list with `items` as a fresh generation. */
function rewrite(t: Txn, key: Uint8Array, m: Metadata, items: Uint8Array[]): void {
  const fresh = newMetadata(L, nextVersion(t.now_ms));
  fresh.expire_at_ms = m.expire_at_ms;
  items.forEach((v, i) => t.put(itemKey(key, fresh, fresh.head + i), v));
  fresh.tail = fresh.head + items.length;
  fresh.size = items.length;
  saveCollection(t, key, fresh);
}

function push(c: Call, left: boolean, only_existing: boolean): Promise<Reply> {
  const key = c.args[1];
  return runWrite(c.db, [key], async (t) => {
    const found = await t.metaOf(key, L);
    if (only_existing && !found) return int(0);
    const m = { ...(found ?? await openCollection(t, key, L)) };
    pushItems(t, key, m, left, c.args.slice(2));
    saveCollection(t, key, m);
    return int(m.size);
  });
}

/** Puts `items` one after another onto one end of the list `m` (a copy the caller saves). */
function pushItems(
  t: Txn,
  key: Uint8Array,
  m: Metadata,
  left: boolean,
  items: Uint8Array[],
): void {
  for (const v of items) {
    if (left) t.put(itemKey(key, m, --m.head), v);
    else t.put(itemKey(key, m, m.tail++), v);
    m.size++;
  }
  if (m.head < 0 || m.tail > 2 * LIST_INITIAL_INDEX) fail("ERR list index space exhausted");
}

function pop(c: Call, left: boolean): Promise<Reply> | Reply {
  if (c.args.length > 3) return arityErr(left ? "lpop" : "rpop");
  const key = c.args[1];
  const count = c.args.length === 3 ? numArg(c.args[2], Errors.mustBePositive) : null;
  if (count !== null && count < 0) return err(Errors.mustBePositive);
  return runWrite(c.db, [key], async (t) => {
    const found = await t.metaOf(key, L);
    if (!found) return count === null ? NULL : NULL_ARRAY;
    const items = await popItems(t, key, found, left, count ?? 1);
    return count === null ? bulk(items[0]) : array(items.map((x) => bulk(x)));
  });
}

/** LMPOP: pops from the first of the keys that holds a list; nil when none does. */
function lmpop(c: Call): Promise<Reply> {
  return mpop(c, ["left", "right"], L, async (t, key, m, left, count) => {
    return (await popItems(t, key, m, left, count)).map((x) => bulk(x));
  });
}

/** Pops up to `count` items from one end of a live list, in pop order, and saves it. */
async function popItems(
  t: Txn,
  key: Uint8Array,
  found: Metadata,
  left: boolean,
  count: number,
): Promise<Uint8Array[]> {
  if (count === 0) return []; // writes nothing, so a WATCH of the key holds (as in Redis)
  const m = { ...found };
  const items = await takeItems(t, key, m, left, count);
  saveCollection(t, key, m);
  return items;
}

/** Takes up to `count` items from one end of the list `m` (a copy the caller saves). */
async function takeItems(
  t: Txn,
  key: Uint8Array,
  m: Metadata,
  left: boolean,
  count: number,
): Promise<Uint8Array[]> {
  const n = Math.min(count, m.size);
  const from = left ? 0 : m.size - n;
  // Pops in one group commit take item after item from the same end: read
  // ahead so the next ones find their items in the Txn's read cache.
  const ahead = Math.min(m.size, Math.max(n, Math.min(t.group_size, POINT_READ_ITEMS)));
  const ahead_from = left ? 0 : m.size - ahead;
  if (!t.isLocal(itemKey(key, m, m.head + from))) {
    await readRange(t, key, m, ahead_from, ahead_from + ahead - 1);
  }
  const items = await readRange(t, key, m, from, from + n - 1);
  for (let i = 0; i < n; i++) t.del(itemKey(key, m, m.head + from + i));
  if (left) m.head += n;
  else m.tail -= n;
  m.size -= n;
  if (!left) items.reverse();
  return items;
}

/**
 * LMOVE and RPOPLPUSH: pops one end of `src` and pushes the item onto one end
 * of `dst` in one atomic batch (one list: a rotation). Redis 7.0's order: a
 * missing source answers nil before the destination's type is checked.
 */
function lmove(c: Call, from_left: boolean, to_left: boolean): Promise<Reply> {
  const [, src, dst] = c.args;
  return runWrite(c.db, [src, dst], async (t) => {
    const found = await t.metaOf(src, L);
    if (!found) return NULL;
    await t.metaOf(dst, L); // WRONGTYPE before anything moves
    if (equal(src, dst)) {
      // A rotation: Redis pushes before it deletes an emptied source, so a
      // one-item list (and its TTL) stays.
      const m = { ...found };
      const items = await takeItems(t, src, m, from_left, 1);
      pushItems(t, src, m, to_left, items);
      saveCollection(t, src, m);
      return bulk(items[0]);
    }
    const [item] = await popItems(t, src, found, from_left, 1);
    const dm = { ...(await openCollection(t, dst, L)) };
    pushItems(t, dst, dm, to_left, [item]);
    saveCollection(t, dst, dm);
    return bulk(item);
  });
}

/** LMOVE's LEFT or RIGHT (any case); a syntax error otherwise. */
function listEnd(arg: Uint8Array): boolean {
  const a = lower(arg);
  if (a !== "left" && a !== "right") fail(Errors.syntax);
  return a === "left";
}

function arityErr(name: string): Reply {
  return err(`ERR wrong number of arguments for '${name}' command`);
}

function lrange(c: Call): Promise<Reply> {
  const start = numArg(c.args[2]), stop = numArg(c.args[3]);
  return runRead(c.db, async (t) => {
    const m = await t.metaOf(c.args[1], L);
    const r = m ? clamp(start, stop, m.size) : null;
    return array(r ? (await readRange(t, c.args[1], m!, r[0], r[1])).map((x) => bulk(x)) : []);
  });
}

function lindex(c: Call): Promise<Reply> {
  return runRead(c.db, async (t) => {
    const m = await t.metaOf(c.args[1], L);
    if (!m) return NULL;
    const idx = numArg(c.args[2]); // Redis checks the key before the index
    const i = idx < 0 ? idx + m.size : idx;
    if (i < 0 || i >= m.size) return NULL;
    return bulk((await readRange(t, c.args[1], m, i, i))[0]);
  });
}

function lset(c: Call): Promise<Reply> {
  const [, key, , value] = c.args;
  return runWrite(c.db, [key], async (t) => {
    const m = await t.metaOf(key, L);
    if (!m) fail(Errors.noSuchKey);
    const idx = numArg(c.args[2]); // Redis checks the key before the index
    const i = idx < 0 ? idx + m.size : idx;
    if (i < 0 || i >= m.size) fail(Errors.indexRange);
    t.put(itemKey(key, m, m.head + i), value);
    t.setMeta(key, { ...m });
    return OK;
  });
}

function ltrim(c: Call): Promise<Reply> {
  const key = c.args[1];
  const start = numArg(c.args[2]), stop = numArg(c.args[3]);
  return runWrite(c.db, [key], async (t) => {
    const found = await t.metaOf(key, L);
    if (!found) return OK;
    const m = { ...found };
    const r = clamp(start, stop, m.size);
    const [keep_from, keep_to] = r ?? [m.size, m.size - 1];
    for (let i = 0; i < keep_from; i++) t.del(itemKey(key, m, m.head + i));
    for (let i = keep_to + 1; i < m.size; i++) t.del(itemKey(key, m, m.head + i));
    m.tail = m.head + keep_to + 1;
    m.head += keep_from;
    m.size = Math.max(0, m.tail - m.head);
    if (m.size === 0) m.tail = m.head;
    saveCollection(t, key, m);
    return OK;
  });
}

function lrem(c: Call): Promise<Reply> {
  const [, key, , elem] = c.args;
  const count = numArg(c.args[2]);
  return runWrite(c.db, [key], async (t) => {
    const m = await t.metaOf(key, L);
    if (!m) return int(0);
    const items = await readRange(t, key, m, 0, m.size - 1);
    const order = count < 0 ? [...items.keys()].reverse() : [...items.keys()];
    const drop = new Set<number>();
    for (const i of order) {
      if (count !== 0 && drop.size >= Math.abs(count)) break;
      if (equal(items[i], elem)) drop.add(i);
    }
    if (drop.size > 0) rewrite(t, key, m, items.filter((_, i) => !drop.has(i)));
    return int(drop.size);
  });
}

function linsert(c: Call): Promise<Reply> | Reply {
  const [, key, where_arg, pivot, elem] = c.args;
  const where = lower(where_arg);
  if (where !== "before" && where !== "after") return err(Errors.syntax);
  return runWrite(c.db, [key], async (t) => {
    const m = await t.metaOf(key, L);
    if (!m) return int(0);
    const items = await readRange(t, key, m, 0, m.size - 1);
    const at = items.findIndex((x) => equal(x, pivot));
    if (at < 0) return int(-1);
    items.splice(where === "before" ? at : at + 1, 0, elem);
    rewrite(t, key, m, items);
    return int(items.length);
  });
}

function lpos(c: Call): Promise<Reply> | Reply {
  let rank = 1, count: number | null = null, maxlen = 0;
  for (let j = 3; j < c.args.length; j++) {
    const a = lower(c.args[j]);
    if (j + 1 >= c.args.length) return err(Errors.syntax);
    if (a === "rank") {
      rank = numArg(c.args[++j]);
      if (rank === 0) {
        return err(
          "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
        );
      }
    } else if (a === "count") {
      count = numArg(c.args[++j]);
      if (count < 0) return err("ERR COUNT can't be negative");
    } else if (a === "maxlen") {
      maxlen = numArg(c.args[++j]);
      if (maxlen < 0) return err("ERR MAXLEN can't be negative");
    } else return err(Errors.syntax);
  }
  return runRead(c.db, async (t) => {
    const m = await t.metaOf(c.args[1], L);
    if (!m) return count === null ? NULL : array([]);
    const items = await readRange(t, c.args[1], m, 0, m.size - 1);
    const idxs = rank > 0 ? [...items.keys()] : [...items.keys()].reverse();
    const want = count === 0 ? Infinity : count ?? 1;
    const out: number[] = [];
    let skip = Math.abs(rank) - 1;
    for (let n = 0; n < idxs.length && out.length < want; n++) {
      if (maxlen && n >= maxlen) break;
      if (!equal(items[idxs[n]], c.args[2])) continue;
      if (skip > 0) skip--;
      else out.push(idxs[n]);
    }
    if (count === null) return out.length ? int(out[0]) : NULL;
    return array(out.map((x) => int(x)));
  });
}

/** List command table rows. */
export const LIST_COMMANDS: CommandSpec[] = [
  spec(
    "lpush",
    -3,
    "write denyoom fast",
    [1, 1, 1],
    "list",
    "Prepend",
    (c) => push(c, true, false),
  ),
  spec(
    "rpush",
    -3,
    "write denyoom fast",
    [1, 1, 1],
    "list",
    "Append",
    (c) => push(c, false, false),
  ),
  spec(
    "lpushx",
    -3,
    "write denyoom fast",
    [1, 1, 1],
    "list",
    "Prepend if exists",
    (c) => push(c, true, true),
  ),
  spec(
    "rpushx",
    -3,
    "write denyoom fast",
    [1, 1, 1],
    "list",
    "Append if exists",
    (c) => push(c, false, true),
  ),
  spec("lpop", -2, "write fast", [1, 1, 1], "list", "Pop from the head", (c) => pop(c, true)),
  // Keys from argument 2 on (numkeys makes the list movable): every later argument counts.
  spec("lmpop", -4, "write", [2, -1, 1], "list", "Pop from the first non-empty list", lmpop),
  spec(
    "lmove",
    5,
    "write denyoom",
    [1, 2, 1],
    "list",
    "Pop from one list, push onto another",
    (c) => {
      const from_left = listEnd(c.args[3]), to_left = listEnd(c.args[4]);
      return lmove(c, from_left, to_left);
    },
  ),
  spec(
    "rpoplpush",
    3,
    "write denyoom",
    [1, 2, 1],
    "list",
    "Pop the tail of one list, push it onto the head of another",
    (c) => lmove(c, false, true),
  ),
  spec("rpop", -2, "write fast", [1, 1, 1], "list", "Pop from the tail", (c) => pop(c, false)),
  spec(
    "llen",
    2,
    "readonly fast",
    [1, 1, 1],
    "list",
    "Length",
    (c) => runRead(c.db, async (t) => int((await t.metaOf(c.args[1], L))?.size ?? 0)),
  ),
  spec("lrange", 4, "readonly", [1, 1, 1], "list", "Range of items", lrange),
  spec("lindex", 3, "readonly", [1, 1, 1], "list", "Item by index", lindex),
  spec("lset", 4, "write denyoom", [1, 1, 1], "list", "Set item by index", lset),
  spec("ltrim", 4, "write", [1, 1, 1], "list", "Trim to a range", ltrim),
  spec("lrem", 4, "write", [1, 1, 1], "list", "Remove items", lrem),
  spec("linsert", 5, "write denyoom", [1, 1, 1], "list", "Insert before/after a pivot", linsert),
  spec("lpos", -3, "readonly", [1, 1, 1], "list", "Index of matching items", lpos),
];
