import assert from "node:assert/strict";
import { concat, str, utf8 } from "./encoding/bytes.ts";
import { metaKey } from "./encoding/keys.ts";
import { encodeMetadata, newMetadata, RedisType } from "./encoding/metadata.ts";
import { CF_DEFAULT, MutationOp, type RawPair } from "./backend.ts";
import { Latches } from "./latch.ts";
import { MemoryBackend } from "./memory_backend.ts";
import { COMMANDS } from "./commands/table.ts";
import { type GenCommand, generate } from "./testing/gen.ts";
import { type DbContext, Txn } from "./txn.ts";
import { runCommand } from "./testing/run_command.ts";

function ctx(backend: MemoryBackend, now_ms: () => number = () => Date.now()): DbContext {
  return {
    backend,
    latches: new Latches(),
    now_ms,
    max_bulk_bytes: 512 * 1024 * 1024,
  };
}

const run = runCommand;

Deno.test("txn: concurrent writers in two db processes never lose an update", async () => {
  const backend = new MemoryBackend();
  // Two contexts = two db processes: separate latches, one store.
  const a = ctx(backend), b = ctx(backend);
  const work = [];
  for (let i = 0; i < 50; i++) {
    work.push(
      run(a, "INCR", "n"),
      run(b, "INCR", "n"),
      run(a, "HINCRBY", "h", "f", "1"),
      run(b, "RPUSH", "l", "x"),
    );
  }
  await Promise.all(work);
  assert.equal(await run(a, "GET", "n"), "$3\r\n100\r\n");
  assert.equal(await run(a, "HGET", "h", "f"), "$2\r\n50\r\n");
  assert.equal(await run(a, "LLEN", "l"), ":50\r\n");
  assert.ok(backend.stats.precondition_failures > 0, "the race was exercised");
});

Deno.test("txn: a racing write makes the command retry, not clobber", async () => {
  const backend = new MemoryBackend();
  const db = ctx(backend);
  await run(db, "SET", "k", "1");
  let injected = false;
  backend.before_batch = () => {
    if (injected) return;
    injected = true;
    backend.before_batch = null;
    // Another process rewrites the key between our read and our commit.
    const m = newMetadata(RedisType.String, 0);
    m.value = utf8("10");
    m.rev = 99;
    void backend.batch([{
      op: MutationOp.Put,
      cf: CF_DEFAULT,
      key: metaKey(utf8("k")),
      value: encodeMetadata(m),
      type: 1,
      end_key: new Uint8Array(0),
    }], []);
  };
  assert.equal(await run(db, "INCR", "k"), ":11\r\n");
});

Deno.test("txn: a multi-key write across regions fails cleanly and writes nothing", async () => {
  const backend = new MemoryBackend({ region_boundaries: [metaKey(utf8("m"))] });
  const db = ctx(backend);
  const r = await run(db, "MSET", "a", "1", "z", "2");
  assert.match(r, /^-ERR CROSSREGION/);
  assert.equal(await run(db, "EXISTS", "a", "z"), ":0\r\n");
  assert.equal(await run(db, "MSET", "a", "1", "b", "2"), "+OK\r\n");
  assert.match(await run(db, "RENAME", "a", "zz"), /^-ERR CROSSREGION/);
  assert.equal(await run(db, "GET", "a"), "$1\r\n1\r\n");
});

Deno.test("txn: DEL of a big hash is one metadata delete; data becomes garbage", async () => {
  const backend = new MemoryBackend();
  const db = ctx(backend);
  const args = ["HSET", "big"];
  for (let i = 0; i < 500; i++) args.push(`f${i}`, "v");
  await run(db, ...args);
  const before = backend.stats.batches;
  assert.equal(await run(db, "DEL", "big"), ":1\r\n");
  assert.equal(backend.stats.batches, before + 1);
  assert.equal(await run(db, "HLEN", "big"), ":0\r\n");
  assert.equal(await run(db, "HSET", "big", "f1", "new"), ":1\r\n");
  assert.equal(await run(db, "HGETALL", "big"), "*2\r\n$2\r\nf1\r\n$3\r\nnew\r\n");
});

/** Reads that show a key's whole state, whatever its type. */
function dumpCommands(k: string): string[][] {
  return [["TYPE", k], ["GET", k], ["HGETALL", k], ["LRANGE", k, "0", "-1"], ["SMEMBERS", k], [
    "ZRANGE",
    k,
    "0",
    "-1",
    "WITHSCORES",
  ], ["TTL", k]];
}

/** Commands of `gen` that write exactly one key and reply deterministically. */
function singleKeyWrites(seed: number, count: number): GenCommand[] {
  return generate(seed, count, ["string", "hash", "list", "set", "zset", "key"])
    .filter((c) => c.compare === "exact" || c.compare === "unordered")
    .filter(({ args }) => {
      const s = COMMANDS.get(args[0].toLowerCase());
      if (!s || !s.flags.includes("write") || s.first_key !== 1) return false;
      return s.last_key === 1 || args.length === 2;
    });
}

Deno.test("txn: concurrent commands on one key, folded into group commits, reply as if run one by one", async () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const cmds = singleKeyWrites(seed, 600);
    assert.ok(cmds.length > 100, `seed ${seed}: enough single-key writes`);
    const grouped = new MemoryBackend(), serial = new MemoryBackend();
    // One frozen clock for both runs: a group shares one time where the serial
    // run's clock moves on, so `EXPIRE k 1000` then `EXPIRE k 1000 GT` would
    // tie in one run and not in the other.
    const frozen_ms = Date.now();
    const g = ctx(grouped, () => frozen_ms), s = ctx(serial, () => frozen_ms);
    // Queued in submission order: each key's queue runs in that order.
    const concurrent = await Promise.all(cmds.map((c) => run(g, ...c.args)));
    const one_by_one: string[] = [];
    for (const c of cmds) one_by_one.push(await run(s, ...c.args));
    for (let i = 0; i < cmds.length; i++) {
      // Order-free replies (SPOP with a count) are compared line-sorted.
      const norm = (r: string) =>
        cmds[i].compare === "unordered" ? r.split("\r\n").sort().join("\n") : r;
      assert.equal(
        norm(concurrent[i]),
        norm(one_by_one[i]),
        `seed ${seed}, command ${i}: ${cmds[i].args.join(" ")}`,
      );
    }
    assert.ok(
      grouped.stats.batches < serial.stats.batches / 2,
      `seed ${seed}: ${grouped.stats.batches} group commits for ${serial.stats.batches} serial ones`,
    );
    for (const k of ["s0", "s1", "s2", "h0", "h1", "l0", "l1", "S0", "S1", "z0", "z1", "nokey"]) {
      for (const read of dumpCommands(k)) {
        assert.equal(await run(g, ...read), await run(s, ...read), `seed ${seed}: ${read}`);
      }
    }
  }
});

Deno.test("txn: a failing command of a group writes nothing; the others commit", async () => {
  const backend = new MemoryBackend();
  const db = ctx(backend);
  const replies = await Promise.all([
    run(db, "RPUSH", "l", "a"),
    run(db, "LSET", "l", "5", "x"), // out of range: an error, nothing written
    run(db, "RPUSH", "l", "b"),
    run(db, "INCR", "l"), // WRONGTYPE
    run(db, "LREM", "l", "0", "a"), // scans the list: starts a new group
    run(db, "RPUSH", "l", "c"),
  ]);
  assert.deepEqual(replies, [
    ":1\r\n",
    "-ERR index out of range\r\n",
    ":2\r\n",
    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    ":1\r\n",
    ":2\r\n",
  ]);
  assert.equal(await run(db, "LRANGE", "l", "0", "-1"), "*2\r\n$1\r\nb\r\n$1\r\nc\r\n");
  assert.ok(backend.stats.batches <= 3, `${backend.stats.batches} commits for 4 writing commands`);
});

Deno.test("SCAN and HSCAN cursors fit in 64 bits (redis-cli parses them with strtoull)", async () => {
  const db = ctx(new MemoryBackend());
  for (let i = 0; i < 300; i++) await run(db, "SET", `key:${i}`, "v");
  await run(db, "HSET", "h", ...Array.from({ length: 300 }, (_, i) => [`f${i}`, "v"]).flat());
  for (const scan of [["SCAN"], ["HSCAN", "h"]]) {
    const seen = new Set<string>();
    let cursor = "0";
    for (let round = 0; round < 100; round++) {
      const reply = await run(db, ...scan, cursor, "COUNT", "50");
      const [next, ...items] = reply.split("\r\n").filter((l) => !/^[*$]/.test(l));
      assert.ok(/^\d+$/.test(next) && BigInt(next) < 2n ** 53n, `cursor ${next}`);
      items.filter((x) => x !== "" && x !== "v").forEach((x) => seen.add(x));
      cursor = next;
      if (cursor === "0") break;
    }
    assert.equal(cursor, "0", `${scan[0]} finished`);
    assert.equal(seen.size, scan[0] === "SCAN" ? 301 : 300, `${scan[0]} saw every item once`);
  }
  assert.equal(await run(db, "SCAN", "18446744073709551615"), "-ERR invalid cursor\r\n");
});

Deno.test("txn: with merge_scans, scans page through stored records and buffered writes alike, both ways", async () => {
  const backend = new MemoryBackend();
  const stored = ["k1", "k3", "k5", "k7", "k9"];
  await backend.batch(
    stored.map((k) => ({
      op: MutationOp.Put,
      cf: CF_DEFAULT,
      key: utf8(k),
      value: utf8("old"),
      type: 0,
      end_key: new Uint8Array(0),
    })),
    [],
  );
  const t = new Txn(backend, Date.now());
  t.merge_scans = true;
  t.beginCommand();
  t.del(utf8("k3"));
  t.put(utf8("k4"), utf8("new"));
  t.put(utf8("k9"), utf8("new"));
  t.del(utf8("k1"));
  t.put(utf8("k0"), utf8("new"));
  t.beginCommand(); // a later command sees them (a group commit would have to flush first)
  const expected = [["k0", "new"], ["k4", "new"], ["k5", "old"], ["k7", "old"], ["k9", "new"]];
  const show = (ps: RawPair[]) => ps.map((p) => [str(p.key), str(p.value)]);
  for (const reverse of [false, true]) {
    // Pages of two, each starting past the last key of the one before.
    const seen: string[][] = [];
    let [lo, hi] = [utf8("k"), utf8("l")];
    for (let pages = 0; pages < 10; pages++) {
      const page = await t.scan(lo, hi, 2, reverse);
      seen.push(...show(page));
      if (page.length < 2) break;
      const last = page[page.length - 1].key;
      if (reverse) hi = last;
      else lo = concat(last, Uint8Array.of(0));
    }
    assert.deepEqual(seen, reverse ? [...expected].reverse() : expected, `reverse ${reverse}`);
  }
});
