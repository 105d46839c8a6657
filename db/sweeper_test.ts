import assert from "node:assert/strict";
import { str } from "./encoding/bytes.ts";
import { CF_DEFAULT } from "./backend.ts";
import { decodeRawKey, USER_SPACE_END, USER_SPACE_START } from "./encoding/keys.ts";
import { Latches } from "./latch.ts";
import { MemoryBackend } from "./memory_backend.ts";
import { Sweeper } from "./sweeper.ts";
import { runCommand } from "./testing/run_command.ts";
import type { DbContext } from "./txn.ts";

/** A db on a MemoryBackend whose clock the test moves, and a command runner. */
function testDb(backend = new MemoryBackend()) {
  const clock = { now_ms: 1_000_000 };
  const db: DbContext = {
    backend,
    latches: new Latches(),
    now_ms: () => clock.now_ms,
    max_bulk_bytes: 1 << 20,
  };
  return { db, clock, run: (...args: string[]) => runCommand(db, ...args) };
}

Deno.test("sweeper: expires keys and collects dead generations, bounded per tick", async () => {
  const backend = new MemoryBackend();
  const { db, clock, run } = testDb(backend);
  const hset = ["HSET", "h"];
  for (let i = 0; i < 100; i++) hset.push(`f${i}`, "v");
  await run(...hset);
  await run("SADD", "s", "a", "b", "c");
  await run("ZADD", "z", "1", "a", "2", "b");
  await run("SET", "short", "x", "PX", "10");
  await run("DEL", "h");
  await run("SET", "s", "now-a-string");
  await run("PEXPIRE", "z", "10");
  clock.now_ms += 20; // lazily expired now: reads see nothing, records remain
  assert.equal(await run("EXISTS", "short", "z"), ":0\r\n");
  const sweeper = new Sweeper(db, { max_records_per_tick: 16 });
  // short and z expire; h's fields, s's members, z's members and z's score index go.
  assert.deepEqual(await sweepUntilQuiet(sweeper), {
    expired: 2,
    collected_generations: 4,
    dropped_markers: 0,
  });
  const left = await backend.scan(CF_DEFAULT, USER_SPACE_START, USER_SPACE_END, 1000, false);
  assert.equal(left.length, 1, "only the metadata record of s (a string) remains");
  assert.equal(await run("GET", "s"), "$12\r\nnow-a-string\r\n");
});

Deno.test("sweeper: start/stop leaves no timers behind", async () => {
  const db: DbContext = {
    backend: new MemoryBackend(),
    latches: new Latches(),
    now_ms: Date.now,
    max_bulk_bytes: 1,
  };
  const s = new Sweeper(db, { interval_ms: 1 });
  s.start();
  await new Promise((r) => setTimeout(r, 10));
  await s.stop();
});

Deno.test("sweeper: idle ticks back off to idle_interval_ms; work brings the pace back", async () => {
  const { db, clock, run } = testDb();
  const s = new Sweeper(db, { interval_ms: 10, idle_interval_ms: 80 });
  assert.equal(s.pause_ms, 10);
  const paces = [];
  for (let i = 0; i < 5; i++) paces.push((await s.step(), s.pause_ms));
  assert.deepEqual(paces, [20, 40, 80, 80, 80]);
  await run("SET", "k", "v", "PX", "5");
  clock.now_ms += 100;
  const r = await s.step();
  assert.equal(r.expired, 1);
  assert.equal(s.pause_ms, 10);
});

/** Ticks until a pass over the whole keyspace did nothing; sums what the ticks did. */
async function sweepUntilQuiet(sweeper: Sweeper) {
  const sum = { expired: 0, collected_generations: 0, dropped_markers: 0 };
  for (let tick = 0, quiet_pass = false; tick < 1000 && !quiet_pass; tick++) {
    const r = await sweeper.tick();
    sum.expired += r.expired;
    sum.collected_generations += r.collected_generations;
    sum.dropped_markers += r.dropped_markers;
    quiet_pass = r.wrapped && r.expired + r.collected_generations + r.dropped_markers === 0;
  }
  return sum;
}

/** The user keys with an expiry marker stored, sorted. */
async function markers(backend: MemoryBackend): Promise<string[]> {
  const raw = await backend.scan(CF_DEFAULT, USER_SPACE_START, USER_SPACE_END, 10_000, false);
  return raw.flatMap(({ key }) => {
    const info = decodeRawKey(key);
    return info.kind === "ttl" ? [str(info.user_key)] : [];
  }).sort();
}

Deno.test("sweeper: walks by key only and reads no metadata of strings without TTL", async () => {
  const backend = new MemoryBackend();
  const calls = { scans: 0, value_scans: 0, gets: 0 };
  const scan = backend.scan.bind(backend);
  const get = backend.get.bind(backend);
  const batchGet = backend.batchGet.bind(backend);
  backend.batchGet = (cf, keys) => (calls.gets++, batchGet(cf, keys));
  backend.scan = (cf, start, end, limit, reverse, key_only) => {
    calls.scans++;
    if (!key_only) calls.value_scans++;
    return scan(cf, start, end, limit, reverse, key_only);
  };
  backend.get = (cf, key) => (calls.gets++, get(cf, key));
  const { db, run } = testDb(backend);
  for (let i = 0; i < 50; i++) await run("SET", `k${i}`, "v");
  const r = await sweepUntilQuiet(new Sweeper(db, { max_records_per_tick: 16 }));
  assert.deepEqual(r, { expired: 0, collected_generations: 0, dropped_markers: 0 });
  assert.ok(calls.scans >= 4, `${calls.scans} scans cover 50 keys 16 at a time`);
  assert.equal(calls.value_scans, 0, "a scan read values");
  assert.equal(calls.gets, 0, "metadata read for keys with nothing to do");
});

Deno.test("sweeper: a key has a marker while it has a TTL; stale markers are dropped, keys untouched", async () => {
  const { db, clock, run } = testDb();
  await run("SET", "deleted", "v", "PX", "1000");
  await run("DEL", "deleted"); // read first: its marker goes with it
  await run("SET", "persisted", "v", "PX", "1000");
  await run("PERSIST", "persisted"); // likewise
  await run("SET", "renewed", "v", "PX", "1000");
  await run("PEXPIRE", "renewed", "50000");
  await run("SET", "reset", "v", "PX", "1000");
  await run("SET", "reset", "v2", "PX", "2000");
  await run("SET", "overwritten", "v", "PX", "1000");
  await run("SET", "overwritten", "v2"); // a plain SET without TTL leaves the marker: stale
  await run("SET", "plain", "v");
  const backend = db.backend as MemoryBackend;
  assert.deepEqual(await markers(backend), ["overwritten", "renewed", "reset"]);
  const sweeper = new Sweeper(db, { max_records_per_tick: 4 });
  // Nothing has expired yet: only the stale marker goes.
  assert.deepEqual(await sweepUntilQuiet(sweeper), {
    expired: 0,
    collected_generations: 0,
    dropped_markers: 1,
  });
  assert.equal(await run("GET", "overwritten"), "$2\r\nv2\r\n");
  assert.equal(await run("TTL", "overwritten"), ":-1\r\n");
  clock.now_ms += 2500; // reset expires
  assert.deepEqual(await sweepUntilQuiet(sweeper), {
    expired: 1,
    collected_generations: 0,
    dropped_markers: 0,
  });
  assert.deepEqual(await markers(backend), ["renewed"]);
  const raw = await backend.scan(CF_DEFAULT, USER_SPACE_START, USER_SPACE_END, 100, false);
  assert.deepEqual(
    raw.map(({ key }) => decodeRawKey(key)).flatMap((i) =>
      i.kind === "meta" ? [str(i.user_key)] : []
    ).sort(),
    ["overwritten", "persisted", "plain", "renewed"],
    "reset's metadata went with its marker",
  );
});

Deno.test("sweeper: a page's metadata is read in one batch, however many keys it spans", async () => {
  const backend = new MemoryBackend();
  const calls = { gets: 0, batch_gets: 0 };
  const get = backend.get.bind(backend);
  const batchGet = backend.batchGet.bind(backend);
  backend.get = (cf, key) => (calls.gets++, get(cf, key));
  backend.batchGet = (cf, keys) => (calls.batch_gets++, batchGet(cf, keys));
  const { db, run } = testDb(backend);
  for (let i = 0; i < 40; i++) await run("HSET", `h${i}`, "f", "v");
  for (let i = 0; i < 40; i += 2) await run("DEL", `h${i}`);
  const sweeper = new Sweeper(db, { max_records_per_tick: 1000 });
  const before = { ...calls };
  const r = await sweeper.tick();
  assert.equal(r.collected_generations, 20);
  assert.ok(r.wrapped);
  assert.deepEqual(
    [calls.gets - before.gets, calls.batch_gets - before.batch_gets],
    [0, 1],
    "one batch read for the page's 40 hashes",
  );
  assert.equal(await run("HLEN", "h1"), ":1\r\n");
});
