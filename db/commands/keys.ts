/**
 * Generic key commands: DEL, EXISTS, TYPE, expiry, KEYS, SCAN, RENAME,
 * RANDOMKEY.
 * @module
 */
import { equal, str } from "../encoding/bytes.ts";
import { dataKey, dataPrefix, decodeRawKey, rangeEnd, scorePrefix } from "../encoding/keys.ts";
import { isExpired, nextVersion, RedisType, typeName } from "../encoding/metadata.ts";
import { INT64 } from "../resp/int.ts";
import {
  array,
  bulk,
  bulkArray,
  err,
  Errors,
  int,
  NULL,
  OK,
  type Reply,
  simple,
} from "../resp/reply.ts";
import { afterUserKey, decodeCursor, encodeCursor, randomPosition, walkKeys } from "../keyspace.ts";
import { runRead, runWrite, type Txn } from "../txn.ts";
import { fail, intArg, lower, numArg } from "./args.ts";
import { globMatch } from "./glob.ts";
import { type Call, type CommandSpec, spec } from "./types.ts";

async function del(c: Call): Promise<Reply> {
  const keys = c.args.slice(1);
  return await runWrite(c.db, keys, async (t) => {
    const metas = await t.metaMany(keys);
    let n = 0;
    const seen = new Set<string>();
    keys.forEach((k, i) => {
      const id = str(k) + "\u0000" + k.length;
      if (metas[i] && !seen.has(id)) {
        seen.add(id);
        t.deleteKey(k);
        n++;
      }
    });
    return int(n);
  });
}

function exists(c: Call): Promise<Reply> {
  return runRead(c.db, async (t) => {
    const metas = await t.metaMany(c.args.slice(1));
    return int(metas.filter((m) => m !== null).length);
  });
}

function parseExpireFlags(args: Uint8Array[]) {
  const f = { nx: false, xx: false, gt: false, lt: false };
  for (let j = 3; j < args.length; j++) {
    const a = lower(args[j]);
    if (a === "nx" || a === "xx" || a === "gt" || a === "lt") f[a] = true;
    else fail(`ERR Unsupported option ${str(args[j])}`);
  }
  if (f.nx && (f.xx || f.gt || f.lt)) {
    fail("ERR NX and XX, GT or LT options at the same time are not compatible");
  }
  if (f.gt && f.lt) fail("ERR GT and LT options at the same time are not compatible");
  return f;
}

async function expireGeneric(
  c: Call,
  cmd: string,
  unit_ms: 1 | 1000,
  absolute: boolean,
): Promise<Reply> {
  const key = c.args[1];
  const f = parseExpireFlags(c.args);
  let when = intArg(c.args[2]);
  const bad = `ERR invalid expire time in '${cmd}' command`;
  if (unit_ms === 1000) {
    if (when > INT64.max / 1000n || when < INT64.min / 1000n) return err(bad);
    when *= 1000n;
  }
  return await runWrite(c.db, [key], async (t) => {
    if (!absolute) {
      when += BigInt(t.now_ms);
      if (when > INT64.max || when < INT64.min) fail(bad);
    }
    const m = await t.meta(key);
    if (!m) return int(0);
    const cur = m.expire_at_ms;
    const w = when > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(when);
    if (f.nx && cur !== 0) return int(0);
    if (f.xx && cur === 0) return int(0);
    if (f.gt && (cur === 0 || w <= cur)) return int(0);
    if (f.lt && cur !== 0 && w >= cur) return int(0);
    if (w <= t.now_ms) t.deleteKey(key);
    else t.setMeta(key, { ...m, expire_at_ms: w });
    return int(1);
  });
}

/** TTL and PTTL (time left, seconds rounded), EXPIRETIME and PEXPIRETIME (Unix time, truncated). */
function ttl(c: Call, unit_ms: 1 | 1000, absolute = false): Promise<Reply> {
  return runRead(c.db, async (t) => {
    const m = await t.meta(c.args[1]);
    if (!m) return int(-2);
    if (m.expire_at_ms === 0) return int(-1);
    if (absolute) return int(Math.floor(m.expire_at_ms / unit_ms));
    const left = Math.max(0, m.expire_at_ms - t.now_ms);
    return int(unit_ms === 1 ? left : Math.floor((left + 500) / 1000));
  });
}

async function keysCmd(c: Call): Promise<Reply> {
  const pattern = c.args[1];
  const out: Uint8Array[] = [];
  const now = c.db.now_ms();
  let pos: Uint8Array | null = new Uint8Array(0);
  while (pos) {
    const r: Awaited<ReturnType<typeof walkKeys>> = await walkKeys(c.db.backend, pos, 512);
    for (const k of r.keys) {
      if (!isExpired(k.meta, now) && globMatch(pattern, k.key)) out.push(k.key);
    }
    pos = r.next;
  }
  return bulkArray(out);
}

async function scanCmd(c: Call): Promise<Reply> {
  let after: Uint8Array | null;
  try {
    after = decodeCursor(str(c.args[1]));
  } catch {
    return err("ERR invalid cursor");
  }
  let count = 10;
  let pattern: Uint8Array | null = null;
  let type: string | null = null;
  for (let j = 2; j < c.args.length; j++) {
    const a = lower(c.args[j]);
    const more = j + 1 < c.args.length;
    if (a === "count" && more) {
      count = numArg(c.args[++j]);
      if (count < 1) return err(Errors.syntax);
    } else if (a === "match" && more) pattern = c.args[++j];
    else if (a === "type" && more) type = lower(c.args[++j]);
    else return err(Errors.syntax);
  }
  const now = c.db.now_ms();
  const r = await walkKeys(
    c.db.backend,
    after ? afterUserKey(after) : new Uint8Array(0),
    Math.min(count, 100000),
  );
  const keys = r.keys.filter((k) =>
    !isExpired(k.meta, now) && (!pattern || globMatch(pattern, k.key)) &&
    (!type || typeName(k.meta.type) === type)
  );
  const last = r.keys.length > 0 ? r.keys[r.keys.length - 1].key : null;
  const cursor = r.next && last ? encodeCursor(last) : "0";
  return array([bulk(cursor), bulkArray(keys.map((k) => k.key))]);
}

/** Copies every record of `src`'s generation to `dst` under a new version. */
async function copyKey(t: Txn, src: Uint8Array, dst: Uint8Array): Promise<void> {
  const m = (await t.meta(src))!;
  if (m.type === RedisType.String) {
    t.setMeta(dst, { ...m, rev: 0 });
    return;
  }
  const version = nextVersion(t.now_ms);
  // A graph's size counts nodes, not its records (edges, adjacency, indexes).
  const max = m.type === RedisType.Graph ? Number.MAX_SAFE_INTEGER : m.size + 1;
  for (const prefix of [dataPrefix(src, m.version), scorePrefix(src, m.version)]) {
    const recs = await t.scanAll(prefix, rangeEnd(prefix), max);
    for (const r of recs) {
      const info = decodeRawKey(r.key);
      if (info.kind !== "data" && info.kind !== "score") {
        throw new Error("foreign record in key range");
      }
      const target = info.kind === "data" ? dataKey(dst, version, info.rest) : new Uint8Array([
        ...scorePrefix(dst, version),
        ...info.rest,
      ]);
      t.put(target, r.value);
    }
  }
  t.setMeta(dst, { ...m, version, rev: 0 });
}

async function rename(c: Call, nx: boolean): Promise<Reply> {
  const [, src, dst] = c.args;
  return await runWrite(c.db, [src, dst], async (t) => {
    const [ms, md] = await t.metaMany([src, dst]);
    if (!ms) fail(Errors.noSuchKey);
    if (equal(src, dst)) return nx ? int(0) : OK;
    if (nx && md) return int(0);
    await copyKey(t, src, dst);
    t.deleteKey(src);
    return nx ? int(1) : OK;
  });
}

/**
 * COPY source destination [DB 0] [REPLACE], as Redis 7.0 checks it. eraft has
 * one database: any other DB index is out of range, as for SELECT.
 */
async function copy(c: Call): Promise<Reply> {
  const [, src, dst] = c.args;
  let replace = false;
  for (let j = 3; j < c.args.length; j++) {
    const a = lower(c.args[j]);
    if (a === "replace") replace = true;
    else if (a === "db" && j + 1 < c.args.length) {
      const index = intArg(c.args[++j]);
      if (index < -(2n ** 31n) || index >= 2n ** 31n) fail(Errors.notInteger);
      if (index !== 0n) return err("ERR DB index is out of range");
    } else return err(Errors.syntax);
  }
  if (equal(src, dst)) return err("ERR source and destination objects are the same");
  return await runWrite(c.db, [src, dst], async (t) => {
    const [ms, md] = await t.metaMany([src, dst]);
    if (!ms || (md && !replace)) return int(0);
    await copyKey(t, src, dst);
    return int(1);
  });
}

async function randomKey(c: Call): Promise<Reply> {
  const now = c.db.now_ms();
  for (const from of [randomPosition(Math.random), new Uint8Array(0)]) {
    let pos: Uint8Array | null = from;
    for (let pages = 0; pos && pages < 64; pages++) {
      const r: Awaited<ReturnType<typeof walkKeys>> = await walkKeys(c.db.backend, pos, 64);
      const live = r.keys.find((k) => !isExpired(k.meta, now));
      if (live) return bulk(live.key);
      pos = r.next;
    }
  }
  return NULL;
}

/** Key command table rows. */
export const KEY_COMMANDS: CommandSpec[] = [
  spec("del", -2, "write", [1, -1, 1], "generic", "Delete keys", del),
  spec("unlink", -2, "write fast", [1, -1, 1], "generic", "Delete keys (O(1) here too)", del),
  spec("copy", -3, "write denyoom", [1, 2, 1], "generic", "Copy a key", copy),
  spec("exists", -2, "readonly fast", [1, -1, 1], "generic", "Count existing keys", exists),
  // Redis's TOUCH updates access times (for LRU eviction, which eraft has
  // not) and answers what EXISTS answers.
  spec("touch", -2, "readonly fast", [1, -1, 1], "generic", "Count existing keys", exists),
  spec(
    "type",
    2,
    "readonly fast",
    [1, 1, 1],
    "generic",
    "Type of a key",
    (c) =>
      runRead(c.db, async (t) => {
        const m = await t.meta(c.args[1]);
        return simple(m ? typeName(m.type) : "none");
      }),
  ),
  spec(
    "expire",
    -3,
    "write fast",
    [1, 1, 1],
    "generic",
    "Set a TTL in seconds",
    (c) => expireGeneric(c, "expire", 1000, false),
  ),
  spec(
    "pexpire",
    -3,
    "write fast",
    [1, 1, 1],
    "generic",
    "Set a TTL in ms",
    (c) => expireGeneric(c, "pexpire", 1, false),
  ),
  spec(
    "expireat",
    -3,
    "write fast",
    [1, 1, 1],
    "generic",
    "Set an expiry time in s",
    (c) => expireGeneric(c, "expireat", 1000, true),
  ),
  spec(
    "pexpireat",
    -3,
    "write fast",
    [1, 1, 1],
    "generic",
    "Set an expiry time in ms",
    (c) => expireGeneric(c, "pexpireat", 1, true),
  ),
  spec("ttl", 2, "readonly fast", [1, 1, 1], "generic", "TTL in seconds", (c) => ttl(c, 1000)),
  spec("pttl", 2, "readonly fast", [1, 1, 1], "generic", "TTL in ms", (c) => ttl(c, 1)),
  spec(
    "expiretime",
    2,
    "readonly fast",
    [1, 1, 1],
    "generic",
    "Expiry as a Unix time in seconds",
    (c) => ttl(c, 1000, true),
  ),
  spec(
    "pexpiretime",
    2,
    "readonly fast",
    [1, 1, 1],
    "generic",
    "Expiry as a Unix time in ms",
    (c) => ttl(c, 1, true),
  ),
  spec(
    "persist",
    2,
    "write fast",
    [1, 1, 1],
    "generic",
    "Remove the TTL",
    (c) =>
      runWrite(c.db, [c.args[1]], async (t) => {
        const m = await t.meta(c.args[1]);
        if (!m || m.expire_at_ms === 0) return int(0);
        t.setMeta(c.args[1], { ...m, expire_at_ms: 0 });
        return int(1);
      }),
  ),
  spec("keys", 2, "readonly", [0, 0, 0], "generic", "Keys matching a pattern", keysCmd),
  spec("scan", -2, "readonly", [0, 0, 0], "generic", "Iterate the keyspace", scanCmd),
  spec("rename", 3, "write", [1, 2, 1], "generic", "Rename a key", (c) => rename(c, false)),
  spec(
    "renamenx",
    3,
    "write fast",
    [1, 2, 1],
    "generic",
    "Rename if the target is absent",
    (c) => rename(c, true),
  ),
  spec("randomkey", 1, "readonly", [0, 0, 0], "generic", "A random key", randomKey),
];
