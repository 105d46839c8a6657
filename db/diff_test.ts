/**
 * Differential test: the same seeded random command sequences go to eraft's db
 * server and to a real redis-server; replies must be byte-identical
 * (order-free replies are compared sorted, TTLs by sign, random picks by shape
 * — see testing/gen.ts). The db runs on a MemoryBackend (fast: the command
 * layer), and in one test on a real cluster of 1 meta, 3 stores and 2 dbs
 * (the encoding over Raft, store preconditions, merged batches; consecutive
 * commands outside transactions go to different dbs, which must agree). In
 * two more, the MemoryBackend, then a real cluster (`eraft ctl split
 * --redis-key`), are cut into regions that split every family's keys: a write
 * or EXEC whose keys span regions must answer CROSSREGION, name keys
 * redis-server places in two regions or more, and write nothing (it is not
 * sent to redis-server, so any write shows in a later reply). A failing seed
 * prints its replay line, e.g. `DIFF_SEED=<seed> ./denow test -A
 * db/diff_test.ts`. Longer runs: `DIFF_SEEDS=<count>` seeds from
 * `DIFF_SEED_FROM` (default 1), `DIFF_BACKEND=cluster`, `regions` or
 * `cluster-regions` to run them on a cluster, split, or both,
 * `DIFF_FAMILIES=...,big` to add collections of hundreds of elements.
 * @module
 */
import assert from "node:assert/strict";
import { latin1 } from "./encoding/bytes.ts";
import { metaKey } from "./encoding/keys.ts";
import { MemoryBackend } from "./memory_backend.ts";
import { startDbServer } from "./server.ts";
import { type Compare, type Family, type GenCommand, generate } from "./testing/gen.ts";
import { findRedisServer, startRedis } from "./testing/redis_server.ts";
import { type Proc, splitAtRedisKey, startEraftClusterDbs, stopProc } from "./testing/procs.ts";
import { encodeCommand, encodeFrame, type Frame, RespClient } from "./testing/resp_client.ts";

const SEEDS = Number(Deno.env.get("DIFF_SEEDS") ?? "24");
/** First seed of the run: seeds already run clean are skipped with DIFF_SEED_FROM=N+1. */
const SEED_FROM = Number(Deno.env.get("DIFF_SEED_FROM") ?? "1");
/** Commands per seed; a replay of a run of another length names it. */
const COMMANDS_PER_SEED_DEFAULT = 400;
const COMMANDS_PER_SEED = Number(
  Deno.env.get("DIFF_COMMANDS") ?? String(COMMANDS_PER_SEED_DEFAULT),
);
const ONLY_SEED = Deno.env.get("DIFF_SEED");
/** Seeds divisible by this run in RESP3 (0 = never). */
const RESP3_EVERY = Number(Deno.env.get("DIFF_RESP3_EVERY") ?? "3");
const DEFAULT_FAMILIES = "string,key,hash,list,set,zset,txn";
/** The command families of the seeded runs (testing/gen.ts; `big` is opt-in). */
const FAMILIES = Deno.env.get("DIFF_FAMILIES") ?? DEFAULT_FAMILIES;

const redis_bin = findRedisServer();
if (!redis_bin) {
  console.warn("diff_test: IGNORED — redis-server not found in /usr/bin or /usr/local/bin");
}

/** Bytes of a reply a failure message shows (a big collection's reply runs to kilobytes). */
const SHOWN_REPLY_BYTES = 400;

function show(b: Uint8Array): string {
  const text = JSON.stringify(new TextDecoder().decode(b.subarray(0, SHOWN_REPLY_BYTES)));
  return b.length > SHOWN_REPLY_BYTES ? `${text}… (${b.length} bytes)` : text;
}

function keyOf(f: Frame): string {
  return new TextDecoder().decode(encodeFrame(f));
}

/** EXEC's reply: each element compared the way its queued command is. */
function normaliseExec(f: Frame, queued: GenCommand[]): string {
  if (!f.items || f.items.length !== queued.length) return keyOf(f);
  return `${f.t}${f.items.length}|` +
    f.items.map((item, i) => normalise(item, queued[i].compare, queued[i].args[0])).join("|");
}

/** Types and lengths of an aggregate, all the way down; no values (random picks). */
function shapeOf(f: Frame): string {
  if (!f.items) return f.t;
  return `${f.t}${f.items.length}[${f.items.map(shapeOf).join(",")}]`;
}

/** Canonical form of a reply for comparison mode `mode`. */
export function normalise(f: Frame, mode: Compare, cmd: string): string {
  if (mode === "exact" || f.t === "-") return keyOf(f);
  if (mode === "ttl") return f.t === ":" && Number(f.line) >= 0 ? ":positive" : keyOf(f);
  if (mode === "shape") {
    if (f.items) return shapeOf(f);
    return f.t === "$" && f.bulk ? "$bulk" : keyOf(f);
  }
  if (!f.items) return keyOf(f);
  const flat = cmd === "HGETALL";
  const units: string[] = [];
  for (let i = 0; i < f.items.length; i += flat ? 2 : 1) {
    units.push(flat ? keyOf(f.items[i]) + keyOf(f.items[i + 1]) : keyOf(f.items[i]));
  }
  return `${f.t}${f.line}|${units.sort().join("|")}`;
}

/**
 * True for `EXPIRE`/`PEXPIRE ... GT|LT`: the new expiry time is compared with
 * the stored one, and when both came from the same duration (EXPIRE k 1000,
 * then EXPIRE k 1000 GT) the answer depends on whether the two commands ran in
 * the same millisecond, on each server apart (seed 2,103,595 with regions).
 */
function comparesExpiryTimes(name: string, args: string[]): boolean {
  return (name === "EXPIRE" || name === "PEXPIRE") &&
    args.slice(3).some((a) => /^(gt|lt)$/i.test(a));
}

/** Lets both servers' clocks pass the millisecond of every earlier command. */
function nextMillisecond(): Promise<void> {
  return new Promise((r) => setTimeout(r, 2));
}

async function roundTrip(c: RespClient, args: string[]): Promise<{ raw: Uint8Array; f: Frame }> {
  await c.send(encodeCommand(args));
  return (await c.readFrame())!;
}

/**
 * Where eraft's db (on a MemoryBackend) starts a new region: at the metadata
 * key of each user key here, so every family's keys (gen.ts: `<prefix>0`..`2`
 * and a few shared ones) lie on both sides of one. Every record of a user key
 * sorts after its metadata key (encoding/keys.ts): a key is never cut.
 */
const REGION_STARTS = ["S1", "h1", "l1", "s1", "z1"];

/** The region model of a run with regions, and how many commands eraft refused across them. */
interface Regions {
  starts: string[];
  refused: number;
}

/**
 * The keys redis-server says `cmd` names (`COMMAND GETKEYS`: Redis's own key
 * specs); null when it names none or does not parse.
 */
async function keysOf(redis: RespClient, cmd: string[]): Promise<Uint8Array[] | null> {
  const r = await roundTrip(redis, ["COMMAND", "GETKEYS", ...cmd]);
  return r.f.items?.map((k) => k.bulk!) ?? null;
}

/** The raw keys where the regions after the first start (the metadata keys of REGION_STARTS). */
function regionStartKeys(): Uint8Array[] {
  return REGION_STARTS.map((k) => metaKey(new TextEncoder().encode(k)).slice());
}

function newRegions(): Regions {
  return { starts: regionStartKeys().map(latin1), refused: 0 };
}

/** The region of user key `key`: how many region starts sort at or below its metadata key. */
function regionOf(regions: Regions, key: Uint8Array): number {
  const m = latin1(metaKey(key));
  return regions.starts.filter((start) => start <= m).length;
}

function isCrossRegion(f: Frame): boolean {
  return f.t === "-" && f.line.startsWith("ERR CROSSREGION");
}

/**
 * eraft refused a command, or an EXEC (`commands`: the queued ones and the
 * watched keys), for spanning regions: fails unless the keys redis-server
 * finds in them lie in two regions or more. An EXEC is DISCARDed on
 * redis-server instead.
 */
async function expectCrossRegion(
  redis: RespClient,
  redis_port: number,
  regions: Regions,
  commands: string[][],
  exec: boolean,
  where: string,
): Promise<void> {
  const keys: Uint8Array[] = [];
  // A connection of its own: the compared one may be inside MULTI.
  const keys_conn = await RespClient.connect(redis_port);
  try {
    for (const cmd of commands) {
      const named = await keysOf(keys_conn, cmd);
      // A queued command may name no key (EXEC is refused for the others); a
      // refused command itself must name keys as redis-server parses it.
      if (named === null && !exec) {
        assert.fail(`${where}: ${cmd.join(" ")}: CROSSREGION, but redis-server finds no keys`);
      }
      keys.push(...(named ?? []));
    }
  } finally {
    keys_conn.close();
  }
  const touched = new Set(keys.map((k) => regionOf(regions, k)));
  const what = exec ? "EXEC" : commands[0].join(" ");
  assert(touched.size > 1, `${where}: ${what}: CROSSREGION for keys in one region`);
  if (exec) {
    assert.equal(new TextDecoder().decode((await roundTrip(redis, ["DISCARD"])).raw), "+OK\r\n");
  }
}

/**
 * Sends `cmds` to eraft then to redis-server (flushed first; RESP3 when asked)
 * and fails at the first reply that differs; `replay` says how to run the case
 * again. With `regions`, a command eraft refuses for spanning regions must
 * span them and is not sent to redis-server.
 */
async function compareCommands(
  cmds: GenCommand[],
  eraft_ports: number[],
  redis_port: number,
  resp3: boolean,
  replay: string,
  regions: Regions | null,
): Promise<void> {
  const eraft = await Promise.all(eraft_ports.map((port) => RespClient.connect(port)));
  const b = await RespClient.connect(redis_port);
  try {
    await eraft[0].call("FLUSHALL");
    await b.call("FLUSHALL");
    if (resp3) {
      for (const a of eraft) await a.call("HELLO", "3");
      await b.call("HELLO", "3");
    }
    // Commands queued since MULTI: EXEC's reply holds theirs, each compared its own way.
    let queued: GenCommand[] | null = null;
    // A WATCH may be in force on the current connection (kept until surely gone).
    let watching = false;
    // The keys watched (EXEC checks them in the same atomic batch as its writes).
    let watched: string[] = [];
    let at = 0; // the eraft connection of the next command
    for (let i = 0; i < cmds.length; i++) {
      const { args, compare } = cmds[i];
      const a = eraft[at];
      const name = args[0].toUpperCase();
      if (queued === null && comparesExpiryTimes(name, args)) await nextMillisecond();
      const ra = await roundTrip(a, args);
      if (regions !== null && isCrossRegion(ra.f)) {
        // Refused whole: redis-server must not run it either, and what
        // follows shows whether eraft wrote anything.
        const where = `${replay} command #${i}`;
        const exec = name === "EXEC"
          ? [...(queued ?? []).map((c) => c.args), ["EXISTS", ...watched]]
          : null;
        await expectCrossRegion(b, redis_port, regions, exec ?? [args], exec !== null, where);
        regions.refused++;
        if (exec !== null) [queued, watching, watched] = [null, false, []];
        continue;
      }
      const rb = await roundTrip(b, args);
      const exec = name === "EXEC" ? queued : null;
      const norm = (f: Frame) => exec ? normaliseExec(f, exec) : normalise(f, compare, args[0]);
      const na = norm(ra.f);
      const nb = norm(rb.f);
      if (name === "MULTI" && rb.f.t === "+") queued = [];
      else if (name === "EXEC" || name === "DISCARD") queued = null;
      else if (queued && rb.f.t === "+" && rb.f.line === "QUEUED") queued.push(cmds[i]);
      if (name === "WATCH" && rb.f.t === "+") {
        [watching, watched] = [true, [...watched, ...args.slice(1)]];
      }
      const unwatched = name === "EXEC" || name === "DISCARD" ? rb.f.t !== "-" : name === "UNWATCH";
      if (unwatched) [watching, watched] = [false, []];
      // The dbs are stateless: outside MULTI and WATCH (connection state), the next command
      // goes to the next db, and must see everything the others wrote.
      if (queued === null && !watching) at = (at + 1) % eraft.length;
      if (na !== nb) {
        const history = cmds.slice(Math.max(0, i - 12), i).map((c) => "  " + c.args.join(" ")).join(
          "\n",
        );
        assert.fail(
          `${replay} command #${i}: ${args.join(" ")}\n  eraft: ${show(ra.raw)}\n  redis: ${
            show(rb.raw)
          }\n` +
            `previous commands:\n${history}\nreplay: ${replay}`,
        );
      }
    }
  } finally {
    for (const a of eraft) a.close();
    b.close();
  }
}

/**
 * Where eraft's replies come from: a db on a MemoryBackend (one region, or
 * `regions` split at REGION_STARTS), or a real cluster's db.
 */
type Eraft = "memory" | "regions" | "cluster" | "cluster-regions";

/**
 * The backend of the seeded and fixed-case tests (`DIFF_BACKEND=cluster`,
 * `regions` or `cluster-regions` for long runs).
 */
const BACKEND: Eraft =
  (["cluster", "regions", "cluster-regions"] as const).find((b) =>
    b === Deno.env.get("DIFF_BACKEND")
  ) ?? "memory";

/** What a comparison runs against: eraft's dbs, redis-server, and the region model (`regions`). */
type BothFn = (eraft_ports: number[], redis_port: number, regions: Regions | null) => Promise<void>;

/** Runs `fn` against eraft (as `eraft` says) and a real redis-server. */
function withBoth(eraft: Eraft, fn: BothFn): Promise<void> {
  const split = eraft === "regions" || eraft === "cluster-regions";
  return eraft.startsWith("cluster") ? withClusterBoth(fn, split) : withMemoryBoth(fn, split);
}

/** Runs `fn` against a db server on a MemoryBackend (split at REGION_STARTS or not) and a real redis-server. */
async function withMemoryBoth(fn: BothFn, split: boolean) {
  const redis = await startRedis(redis_bin!);
  const regions = split ? newRegions() : null;
  const server = await startDbServer({
    addr: "127.0.0.1:0",
    backend: new MemoryBackend({
      region_boundaries: split ? regionStartKeys() : [],
    }),
    sweeper: null,
  });
  try {
    await fn([server.port], redis.port, regions);
  } finally {
    await server.close();
    await redis.stop();
  }
}

/** Stateless db processes of a cluster run: the sequences alternate between them. */
const CLUSTER_DBS = 2;

/**
 * Runs `fn` against a real eraft cluster (1 meta, 3 stores, CLUSTER_DBS dbs;
 * its region split at REGION_STARTS or not) and a real redis-server.
 */
async function withClusterBoth(fn: BothFn, split: boolean) {
  const redis = await startRedis(redis_bin!);
  const procs: Proc[] = [];
  let dir: string | null = null;
  try {
    dir = await Deno.makeTempDir({ prefix: "diff_cluster_" });
    const ports = await startEraftClusterDbs(dir, procs, CLUSTER_DBS);
    if (split) { for (const key of REGION_STARTS) await splitAtRedisKey(procs, key); }
    await fn(ports, redis.port, split ? newRegions() : null);
  } finally {
    for (const p of procs.reverse()) await stopProc(p);
    await redis.stop();
    if (dir !== null) await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Sends each seed's sequence to both servers; every few seeds in RESP3 (the
 * HELLO replies differ in id/version). `replay_env` prefixes the replay line.
 */
async function compareSeeds(
  seeds: number[],
  families: string,
  eraft_ports: number[],
  redis_port: number,
  replay_env: string,
  regions: Regions | null,
): Promise<void> {
  const length = COMMANDS_PER_SEED === COMMANDS_PER_SEED_DEFAULT
    ? ""
    : `DIFF_COMMANDS=${COMMANDS_PER_SEED} `;
  const named = families === DEFAULT_FAMILIES ? "" : `DIFF_FAMILIES=${families} `;
  for (const seed of seeds) {
    const resp3 = RESP3_EVERY > 0 && seed % RESP3_EVERY === 0;
    const cmds = generate(seed, COMMANDS_PER_SEED, families.split(",") as Family[]);
    const replay =
      `${replay_env}${named}${length}DIFF_SEED=${seed} ./denow test -A db/diff_test.ts`;
    await compareCommands(cmds, eraft_ports, redis_port, resp3, replay, regions);
  }
}

/** `count` seeds from `from`, or only DIFF_SEED when set. */
function seedRange(from: number, count: number): number[] {
  return ONLY_SEED ? [Number(ONLY_SEED)] : Array.from({ length: count }, (_, i) => from + i);
}

/** The replay prefix that selects BACKEND. */
const BACKEND_ENV = BACKEND === "memory" ? "" : `DIFF_BACKEND=${BACKEND} `;

Deno.test({
  name: "differential: seeded random commands give byte-identical replies to redis-server",
  ignore: redis_bin === null,
  fn: () =>
    withBoth(BACKEND, (eraft_ports, redis_port, regions) =>
      compareSeeds(
        seedRange(SEED_FROM, SEEDS),
        FAMILIES,
        eraft_ports,
        redis_port,
        BACKEND_ENV,
        regions,
      )),
});

/**
 * A command after WATCH of its key: redis-server signals a modification only
 * for some (LTRIM and HINCRBY by 0 always, SADD of a member already there or
 * PERSIST of a key without TTL never), and an EXEC after it runs or answers nil
 * accordingly. Each entry: a setup command on the key, then the command watched.
 */
const NO_OP_WRITES: Array<[setup: string[], watched: string[]]> = [
  [["SADD", "n1", "a"], ["SADD", "n1", "a"]],
  [["SADD", "n2", "a"], ["SREM", "n2", "zz"]],
  [["HSET", "n3", "f", "v"], ["HDEL", "n3", "missing"]],
  [["ZADD", "n4", "1", "m"], ["ZREM", "n4", "missing"]],
  [["RPUSH", "n5", "a"], ["LREM", "n5", "0", "nomatch"]],
  [["SET", "n6", "v"], ["PERSIST", "n6"]],
  [["HSET", "n7", "f", "v"], ["HSETNX", "n7", "f", "w"]],
  [["SET", "n8", "v"], ["SETNX", "n8", "w"]],
  [["SET", "n9", "v"], ["SET", "n9", "w", "NX"]],
  [["SADD", "n10", "a"], ["SMOVE", "n10", "n10b", "zz"]],
  [["ZADD", "n11", "1", "m"], ["ZREMRANGEBYSCORE", "n11", "5", "6"]],
  [["RPUSH", "n12", "a"], ["LINSERT", "n12", "BEFORE", "nopivot", "x"]],
  [["ZADD", "n13", "1", "m"], ["ZADD", "n13", "XX", "2", "missing"]],
  [["SET", "n14", "v", "EX", "100"], ["EXPIRE", "n14", "50", "NX"]],
  [["SET", "n15", "v"], ["GETEX", "n15"]],
  [["SET", "n16", "v"], ["SETRANGE", "n16", "0", ""]],
  [["SET", "n17", "v"], ["RENAME", "n17", "n17"]],
  [["SET", "n18", "v"], ["MSETNX", "n18", "w", "n18b", "x"]],
  [["SET", "n19", "v"], ["COPY", "n18b", "n19"]],
  [["SET", "n20", "v", "EX", "100"], ["PEXPIRE", "n20", "1000", "GT"]],
  [["ZADD", "n21", "1", "m"], ["ZREMRANGEBYRANK", "n21", "5", "6"]],
  [["ZADD", "n22", "1", "m"], ["ZREMRANGEBYLEX", "n22", "[x", "[y"]],
  [["RPUSH", "n23", "a", "b"], ["LTRIM", "n23", "0", "-1"]],
  [["HSET", "n24", "f", "v"], ["HINCRBY", "n24", "g", "0"]],
];

function watchedNoOp([setup, watched]: [string[], string[]]): string[][] {
  const key = setup[1];
  return [setup, ["WATCH", key], watched, ["MULTI"], ["EXISTS", key], ["EXEC"]];
}

/** Fixed cases random sequences are unlikely to hit. */
const FIXED_CASES: string[][] = [
  // Sums whose value depends on the order of the additions: Redis adds the
  // inputs smallest first (1e16 + -1e16 + 1 = 1), not as given (0).
  ["ZADD", "big", "1e16", "m"],
  ["ZADD", "mid", "1", "m", "1", "x", "1", "y"],
  ["ZADD", "neg", "-1e16", "m", "1", "p"],
  ["ZUNION", "3", "big", "mid", "neg", "WITHSCORES"],
  ["ZINTERSTORE", "out", "3", "big", "mid", "neg"],
  ["ZRANGE", "out", "0", "-1", "WITHSCORES"],
  // +inf and -inf sum to 0; a set input scores 1.
  ["ZADD", "inf", "inf", "m"],
  ["ZADD", "minf", "-inf", "m"],
  ["SADD", "plain", "m", "q"],
  ["ZUNION", "3", "inf", "minf", "plain", "WITHSCORES"],
  ["ZINTER", "2", "inf", "plain", "WEIGHTS", "0", "2", "WITHSCORES"],
  ["ZDIFF", "2", "plain", "big", "WITHSCORES"],
  // A byte of ones: where BITPOS finds (or does not find) a clear bit.
  ...Array.from({ length: 8 }, (_, i) => ["SETBIT", "ones", String(i), "1"]),
  ["SETBIT", "ones", "12", "1"],
  ["BITPOS", "ones", "0"],
  ["BITPOS", "ones", "0", "0"],
  ["BITPOS", "ones", "0", "0", "0"],
  ["BITPOS", "ones", "0", "0", "7", "BIT"],
  ["BITPOS", "ones", "0", "0", "12", "BIT"],
  ["BITPOS", "ones", "1", "-3", "-5"],
  ["BITPOS", "ones", "1", "9", "-1", "BIT"],
  ["BITCOUNT", "ones", "1", "12", "BIT"],
  ["BITCOUNT", "ones", "-1", "-2"],
  ["GET", "ones"],
  // COPY keeps members, scores and the TTL; REPLACE overwrites any type.
  ["ZADD", "cz", "1", "a", "2.5", "b"],
  ["EXPIRE", "cz", "100"],
  ["COPY", "cz", "cz2"],
  ["ZRANGE", "cz2", "0", "-1", "WITHSCORES"],
  ["PERSIST", "cz2"],
  ["COPY", "cz", "cz2"],
  ["COPY", "cz", "cz"],
  // -0 reads back as 0 once stored (small sorted sets), but computed replies keep the sign.
  ["ZADD", "zero", "0", "m"],
  ["ZUNIONSTORE", "negzero", "1", "zero", "WEIGHTS", "-1"],
  ["ZSCORE", "negzero", "m"],
  ["ZUNION", "1", "zero", "WEIGHTS", "-1", "WITHSCORES"],
  ["ZINCRBY", "incr0", "-0", "m"],
  ["ZSCORE", "incr0", "m"],
  ["ZADD", "add0", "-0", "m"],
  ["ZRANGE", "add0", "0", "-1", "WITHSCORES"],
  // A command that changes nothing does not trip a WATCH (SPOP k 0 writes nothing).
  ["SADD", "ws", "a"],
  ["WATCH", "ws"],
  ["SPOP", "ws", "0"],
  ["MULTI"],
  ["SCARD", "ws"],
  ["EXEC"],
  ["ZADD", "wz", "1", "m", "0", "n"],
  ["WATCH", "wz"],
  ["ZINCRBY", "wz", "0", "m"],
  ["ZINCRBY", "wz", "-0", "n"],
  ["ZADD", "wz", "1", "m"],
  ["MULTI"],
  ["ZCARD", "wz"],
  ["EXEC"],
  ...NO_OP_WRITES.flatMap(watchedNoOp),
  ["RPUSH", "wl", "a"],
  ["WATCH", "wl"],
  ["RPOP", "wl", "0"],
  ["LPOP", "wl", "0"],
  ["MULTI"],
  ["LLEN", "wl"],
  ["EXEC"],
  // A one-item list moved onto itself keeps its TTL: Redis pushes before it
  // deletes an emptied source (PERSIST answers 1 only for a key with a TTL).
  ["RPUSH", "rot", "a"],
  ["EXPIRE", "rot", "1000"],
  ["LMOVE", "rot", "rot", "LEFT", "RIGHT"],
  ["RPOPLPUSH", "rot", "rot"],
  ["LRANGE", "rot", "0", "-1"],
  ["PERSIST", "rot"],
  // Empty values (a store decodes them without a copy: they must read as bytes).
  ["HSET", "hempty", "f", ""],
  ["HINCRBYFLOAT", "hempty", "f", "1"],
  ["HINCRBY", "hempty", "f", "1"],
  ["HSTRLEN", "hempty", "f"],
  ["SET", "sempty", ""],
  ["INCRBYFLOAT", "sempty", "1"],
  ["SETRANGE", "sempty", "2", "x"],
  ["GET", "sempty"],
  ["RPUSH", "lempty", "", "a"],
  ["LPOS", "lempty", ""],
  ["SADD", "Sempty", ""],
  ["SMISMEMBER", "Sempty", "", "a"],
  ["ZADD", "zempty", "1", ""],
  ["ZRANGEBYLEX", "zempty", "[", "+"],
  ["SET", "cs", "v"],
  ["COPY", "cs", "cz2", "REPLACE"],
  ["TYPE", "cz2"],
  ["GET", "cz2"],
];

/** The fixed cases, in RESP2 then RESP3. */
async function compareFixedCases(
  eraft_ports: number[],
  redis_port: number,
  replay_env: string,
  regions: Regions | null,
): Promise<void> {
  const cmds = FIXED_CASES.map((args) => ({ args, compare: "exact" as const }));
  for (const resp3 of [false, true]) {
    const replay = `${replay_env}./denow test -A db/diff_test.ts --filter "fixed cases" (RESP${
      resp3 ? 3 : 2
    })`;
    await compareCommands(cmds, eraft_ports, redis_port, resp3, replay, regions);
  }
}

Deno.test({
  name:
    "differential: fixed cases (float sum order, infinities, set inputs, bit searches, COPY) in RESP2 and RESP3",
  ignore: redis_bin === null,
  fn: () =>
    withBoth(
      BACKEND,
      (eraft_ports, redis_port, regions) =>
        compareFixedCases(eraft_ports, redis_port, BACKEND_ENV, regions),
    ),
});

/** Seeds the real-cluster test runs (its own range: the memory test covers 1..DIFF_SEEDS). */
const CLUSTER_SEEDS = 8;
const CLUSTER_SEED_FROM = 1_000_001;
/** Seeds of big collections (hundreds of records per command) the real-cluster test also runs. */
const CLUSTER_BIG_SEEDS = 3;

Deno.test({
  name:
    "differential on a real cluster (1 meta, 3 stores, 2 dbs taking turns): seeded commands, big collections and the fixed cases match redis-server",
  ignore: redis_bin === null,
  fn: () =>
    withBoth("cluster", async (eraft_ports, redis_port) => {
      const env = "DIFF_BACKEND=cluster ";
      const seeds = seedRange(CLUSTER_SEED_FROM, CLUSTER_SEEDS);
      await compareSeeds(seeds, FAMILIES, eraft_ports, redis_port, env, null);
      const big = seedRange(CLUSTER_SEED_FROM, CLUSTER_BIG_SEEDS);
      await compareSeeds(big, "big", eraft_ports, redis_port, env, null);
      await compareFixedCases(eraft_ports, redis_port, env, null);
    }),
});

/**
 * `count` seeds from `from` on eraft split into regions (`eraft`): they must
 * match redis-server, and be refused across regions at least once a seed on
 * average (~20 multi-key writes and EXECs a seed span regions), else the
 * test proves nothing.
 */
function compareAcrossRegions(
  eraft: "regions" | "cluster-regions",
  from: number,
  count: number,
): Promise<void> {
  return withBoth(eraft, async (eraft_ports, redis_port, regions) => {
    const seeds = seedRange(from, count);
    const env = `DIFF_BACKEND=${eraft} `;
    await compareSeeds(seeds, FAMILIES, eraft_ports, redis_port, env, regions);
    assert(regions!.refused >= seeds.length, `only ${regions!.refused} commands spanned regions`);
  });
}

Deno.test({
  name:
    "differential across regions: a command or EXEC whose keys span regions answers CROSSREGION and writes nothing; the rest matches redis-server",
  ignore: redis_bin === null,
  fn: () => compareAcrossRegions("regions", 2_000_001, 24),
});

Deno.test({
  name:
    "differential across regions on a real cluster (split 5 times, 2 dbs): CROSSREGION writes change nothing, the rest matches redis-server",
  ignore: redis_bin === null,
  fn: () => compareAcrossRegions("cluster-regions", 3_000_001, 6),
});
