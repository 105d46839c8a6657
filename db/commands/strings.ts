/**
 * String commands. A string's value lives inline in its metadata record, so
 * every string command reads and writes exactly one record per key.
 * @module
 */
import { concat, EMPTY_BYTES, utf8 } from "../encoding/bytes.ts";
import { type Metadata, newMetadata, RedisType } from "../encoding/metadata.ts";
import { INT64, parseI64 } from "../resp/int.ts";
import {
  arityError,
  array,
  bulk,
  bulkOrNull,
  err,
  Errors,
  int,
  NULL,
  OK,
  type Reply,
} from "../resp/reply.ts";
import { type DbContext, readMeta, runRead, runWrite, type Txn, wrongType } from "../txn.ts";
import { fail, intArg, lower, numArg } from "./args.ts";
import { addLongDouble, formatLongDoubleHuman, isOverflow, parseLongDouble } from "./ldouble.ts";
import { str } from "../encoding/bytes.ts";
import { type Call, type CommandSpec, spec } from "./types.ts";

/** The string value of `key`, null when absent; WRONGTYPE for other types. */
export async function readString(t: Txn, key: Uint8Array): Promise<Uint8Array | null> {
  return stringValue(await t.meta(key));
}

/** {@link readString} for a command that reads nothing else (see readMeta). */
async function readStringAlone(db: DbContext, key: Uint8Array): Promise<Uint8Array | null> {
  return stringValue(await readMeta(db, key));
}

/** A live key's string value, null when absent; WRONGTYPE for other types. */
function stringValue(m: Metadata | null): Uint8Array | null {
  if (!m) return null;
  if (m.type !== RedisType.String) wrongType();
  return m.value;
}

/** Writes a string value with an absolute expiry (0 = none); deletes if already expired. */
export function writeString(
  t: Txn,
  key: Uint8Array,
  value: Uint8Array,
  expire_at_ms: number,
): void {
  if (expire_at_ms !== 0 && expire_at_ms <= t.now_ms) {
    t.deleteKey(key);
    return;
  }
  const m = newMetadata(RedisType.String, 0);
  m.value = value;
  m.expire_at_ms = expire_at_ms;
  t.setMeta(key, m);
}

/** Current expiry of a live key (0 when none or absent). */
export async function currentExpiry(t: Txn, key: Uint8Array): Promise<number> {
  const m = await t.meta(key);
  return m ? m.expire_at_ms : 0;
}

/** Options shared by SET and GETEX. */
interface ExpireOpt {
  unit: "ex" | "px" | "exat" | "pxat" | null;
  value: Uint8Array | null;
  keepttl: boolean;
  persist: boolean;
}

/** Converts an EX/PX/EXAT/PXAT argument into an absolute time, Redis's checks included. */
export function expireAt(opt: ExpireOpt, now_ms: number, cmd: string): number {
  if (!opt.unit || !opt.value) return 0;
  const v = intArg(opt.value);
  const seconds = opt.unit === "ex" || opt.unit === "exat";
  if (v <= 0n || (seconds && v > INT64.max / 1000n)) {
    fail(`ERR invalid expire time in '${cmd}' command`);
  }
  let ms = seconds ? v * 1000n : v;
  if (opt.unit === "ex" || opt.unit === "px") ms += BigInt(now_ms);
  if (ms <= 0n || ms > INT64.max) fail(`ERR invalid expire time in '${cmd}' command`);
  return ms > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(ms);
}

function parseSetOptions(args: Uint8Array[], is_set: boolean) {
  const o = {
    nx: false,
    xx: false,
    get: false,
    exp: { unit: null, value: null, keepttl: false, persist: false } as ExpireOpt,
  };
  for (let j = is_set ? 3 : 2; j < args.length; j++) {
    const a = lower(args[j]);
    const next = j + 1 < args.length ? args[j + 1] : null;
    const e = o.exp;
    const any_exp = e.unit !== null;
    if (a === "nx" && !o.xx && is_set) o.nx = true;
    else if (a === "xx" && !o.nx && is_set) o.xx = true;
    else if (a === "get" && is_set) o.get = true;
    else if (a === "keepttl" && !e.persist && !any_exp && is_set) e.keepttl = true;
    else if (a === "persist" && !is_set && !any_exp && !e.keepttl) e.persist = true;
    else if (
      (a === "ex" || a === "px" || a === "exat" || a === "pxat") && !e.keepttl && !e.persist &&
      (e.unit === null || e.unit === a) && next
    ) {
      e.unit = a;
      e.value = next;
      j++;
    } else fail(Errors.syntax);
  }
  return o;
}

async function setCmd(c: Call): Promise<Reply> {
  const [, key, value] = c.args;
  const o = parseSetOptions(c.args, true);
  const exp_ms = expireAt(o.exp, c.db.now_ms(), "set");
  const blind = !o.nx && !o.xx && !o.get && !o.exp.keepttl &&
    (exp_ms === 0 || exp_ms > c.db.now_ms());
  if (blind) {
    // Plain SET needs nothing of the old value: one write, no read (see Txn.overwriteMeta).
    return await runWrite(c.db, [key], (t) => {
      const m = newMetadata(RedisType.String, 0);
      m.value = value;
      m.expire_at_ms = exp_ms;
      t.overwriteMeta(key, m);
      return Promise.resolve(OK);
    });
  }
  return await runWrite(c.db, [key], async (t) => {
    const old = o.get ? await readString(t, key) : null;
    const m = await t.meta(key);
    if ((o.nx && m) || (o.xx && !m)) return o.get ? bulkOrNull(old) : NULL;
    const keep = o.exp.keepttl && m ? m.expire_at_ms : 0;
    writeString(t, key, value, exp_ms || keep);
    return o.get ? bulkOrNull(old) : OK;
  });
}

async function setWithTtl(c: Call, cmd: "setex" | "psetex"): Promise<Reply> {
  const [, key, ttl, value] = c.args;
  const exp_ms = expireAt(
    { unit: cmd === "setex" ? "ex" : "px", value: ttl, keepttl: false, persist: false },
    c.db.now_ms(),
    cmd,
  );
  return await runWrite(c.db, [key], async (t) => {
    await t.meta(key);
    writeString(t, key, value, exp_ms);
    return OK;
  });
}

async function getexCmd(c: Call): Promise<Reply> {
  const key = c.args[1];
  const o = parseSetOptions(c.args, false);
  return await runWrite(c.db, [key], async (t) => {
    const v = await readString(t, key);
    if (v === null) return NULL;
    // Redis looks the key up before it validates the expire time.
    const exp_ms = expireAt(o.exp, t.now_ms, "getex");
    if (o.exp.unit) writeString(t, key, v, exp_ms);
    else if (o.exp.persist && (await currentExpiry(t, key)) !== 0) writeString(t, key, v, 0);
    return bulk(v);
  });
}

async function incrBy(c: Call, key: Uint8Array, by: bigint): Promise<Reply> {
  return await runWrite(c.db, [key], async (t) => {
    const v = await readString(t, key);
    const cur = v === null ? 0n : parseI64(v);
    if (cur === null) fail(Errors.notInteger);
    const next = cur + by;
    if (next > INT64.max || next < INT64.min) fail(Errors.overflow);
    writeString(t, key, utf8(next.toString()), await currentExpiry(t, key));
    return int(next);
  });
}

async function incrByFloat(c: Call): Promise<Reply> {
  const [, key, incr_arg] = c.args;
  return await runWrite(c.db, [key], async (t) => {
    // Redis checks the type, then the stored value, then the increment.
    const v = await readString(t, key);
    const cur = v === null ? parseLongDouble("0") : parseLongDouble(str(v));
    if (cur === null) fail(Errors.notFloat);
    const incr = parseLongDouble(str(incr_arg));
    if (incr === null) fail(Errors.notFloat);
    if (cur === "inf" || incr === "inf") fail("ERR increment would produce NaN or Infinity");
    const next = addLongDouble(cur, incr);
    if (isOverflow(next)) fail("ERR increment would produce NaN or Infinity");
    const text = utf8(formatLongDoubleHuman(next));
    writeString(t, key, text, await currentExpiry(t, key));
    return bulk(text);
  });
}

/** GETRANGE index arithmetic (Redis 7.0 getrangeCommand); null = empty. */
export function clampRange(start: number, end: number, len: number): [number, number] | null {
  if (start < 0 && end < 0 && start > end) return null;
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) return null;
  return [start, end];
}

/** GETRANGE and SUBSTR. */
function getrange(c: Call): Promise<Reply> {
  const start = numArg(c.args[2]), end = numArg(c.args[3]);
  return readStringAlone(c.db, c.args[1]).then((value) => {
    const v = value ?? EMPTY_BYTES;
    const r = clampRange(start, end, v.length);
    return bulk(r ? v.subarray(r[0], r[1] + 1) : EMPTY_BYTES);
  });
}

async function setrange(c: Call): Promise<Reply> {
  const [, key, off_arg, value] = c.args;
  const offset = numArg(off_arg);
  if (offset < 0) return err("ERR offset is out of range");
  return await runWrite(c.db, [key], async (t) => {
    const cur = await readString(t, key);
    if (value.length === 0) return int(cur ? cur.length : 0);
    if (offset + value.length > c.db.max_bulk_bytes) {
      fail("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    }
    const base = cur ?? new Uint8Array(0);
    const out = new Uint8Array(Math.max(base.length, offset + value.length));
    out.set(base);
    out.set(value, offset);
    writeString(t, key, out, await currentExpiry(t, key));
    return int(out.length);
  });
}

async function msetCmd(c: Call, nx: boolean): Promise<Reply> {
  if (c.args.length % 2 !== 1) return arityError(nx ? "msetnx" : "mset");
  const keys = c.args.filter((_, i) => i % 2 === 1);
  return await runWrite(c.db, keys, async (t) => {
    const metas = await t.metaMany(keys);
    if (nx && metas.some((m) => m !== null)) return int(0);
    for (let i = 1; i < c.args.length; i += 2) writeString(t, c.args[i], c.args[i + 1], 0);
    return nx ? int(1) : OK;
  });
}

async function get(c: Call): Promise<Reply> {
  return bulkOrNull(await readStringAlone(c.db, c.args[1]));
}

function mget(c: Call): Promise<Reply> {
  const keys = c.args.slice(1);
  return runRead(c.db, async (t) => {
    const metas = await t.metaMany(keys);
    return array(metas.map((m) => (m && m.type === RedisType.String ? bulk(m.value) : NULL)));
  });
}

/** String command table rows. */
export const STRING_COMMANDS: CommandSpec[] = [
  spec("get", 2, "readonly fast", [1, 1, 1], "string", "Get the value of a key", get),
  spec("set", -3, "write denyoom", [1, 1, 1], "string", "Set the string value of a key", setCmd),
  spec(
    "setnx",
    3,
    "write denyoom fast",
    [1, 1, 1],
    "string",
    "Set a key if it does not exist",
    (c) =>
      runWrite(c.db, [c.args[1]], async (t) => {
        if (await t.meta(c.args[1])) return int(0);
        writeString(t, c.args[1], c.args[2], 0);
        return int(1);
      }),
  ),
  spec(
    "setex",
    4,
    "write denyoom",
    [1, 1, 1],
    "string",
    "Set with expiry in seconds",
    (c) => setWithTtl(c, "setex"),
  ),
  spec(
    "psetex",
    4,
    "write denyoom",
    [1, 1, 1],
    "string",
    "Set with expiry in ms",
    (c) => setWithTtl(c, "psetex"),
  ),
  spec(
    "getset",
    3,
    "write denyoom fast",
    [1, 1, 1],
    "string",
    "Set and return the old value",
    (c) =>
      runWrite(c.db, [c.args[1]], async (t) => {
        const old = await readString(t, c.args[1]);
        writeString(t, c.args[1], c.args[2], 0);
        return bulkOrNull(old);
      }),
  ),
  spec(
    "getdel",
    2,
    "write fast",
    [1, 1, 1],
    "string",
    "Get and delete",
    (c) =>
      runWrite(c.db, [c.args[1]], async (t) => {
        const old = await readString(t, c.args[1]);
        if (old !== null) t.deleteKey(c.args[1]);
        return bulkOrNull(old);
      }),
  ),
  spec("getex", -2, "write fast", [1, 1, 1], "string", "Get and set expiry", getexCmd),
  spec("mget", -2, "readonly fast", [1, -1, 1], "string", "Get several keys", mget),
  spec(
    "mset",
    -3,
    "write denyoom",
    [1, -1, 2],
    "string",
    "Set several keys",
    (c) => msetCmd(c, false),
  ),
  spec(
    "msetnx",
    -3,
    "write denyoom",
    [1, -1, 2],
    "string",
    "Set several keys if none exist",
    (c) => msetCmd(c, true),
  ),
  spec(
    "incr",
    2,
    "write denyoom fast",
    [1, 1, 1],
    "string",
    "Increment by one",
    (c) => incrBy(c, c.args[1], 1n),
  ),
  spec(
    "decr",
    2,
    "write denyoom fast",
    [1, 1, 1],
    "string",
    "Decrement by one",
    (c) => incrBy(c, c.args[1], -1n),
  ),
  spec(
    "incrby",
    3,
    "write denyoom fast",
    [1, 1, 1],
    "string",
    "Increment by n",
    (c) => incrBy(c, c.args[1], intArg(c.args[2])),
  ),
  spec("decrby", 3, "write denyoom fast", [1, 1, 1], "string", "Decrement by n", (c) => {
    const by = intArg(c.args[2]);
    if (by === INT64.min) return err("ERR decrement would overflow");
    return incrBy(c, c.args[1], -by);
  }),
  spec(
    "incrbyfloat",
    3,
    "write denyoom fast",
    [1, 1, 1],
    "string",
    "Increment by a float",
    incrByFloat,
  ),
  spec(
    "append",
    3,
    "write denyoom fast",
    [1, 1, 1],
    "string",
    "Append to a string",
    (c) =>
      runWrite(c.db, [c.args[1]], async (t) => {
        const cur = await readString(t, c.args[1]);
        const next = cur ? concat(cur, c.args[2]) : c.args[2];
        if (next.length > c.db.max_bulk_bytes) {
          fail("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        }
        writeString(t, c.args[1], next, await currentExpiry(t, c.args[1]));
        return int(next.length);
      }),
  ),
  spec(
    "strlen",
    2,
    "readonly fast",
    [1, 1, 1],
    "string",
    "Length of a string",
    async (c) => int((await readStringAlone(c.db, c.args[1]))?.length ?? 0),
  ),
  spec("getrange", 4, "readonly", [1, 1, 1], "string", "Substring", getrange),
  // Redis keeps SUBSTR as GETRANGE's old name.
  spec("substr", 4, "readonly", [1, 1, 1], "string", "Substring (GETRANGE)", getrange),
  spec("setrange", 4, "write denyoom", [1, 1, 1], "string", "Overwrite part of a string", setrange),
];
