import assert from "node:assert/strict";
import { str, utf8 } from "./encoding/bytes.ts";
import { CF_DEFAULT } from "./backend.ts";
import { USER_SPACE_END, USER_SPACE_START } from "./encoding/keys.ts";
import { Latches } from "./latch.ts";
import { MemoryBackend } from "./memory_backend.ts";
import { dispatch } from "./commands/table.ts";
import type { ServerState } from "./commands/types.ts";
import { encodeReply } from "./resp/writer.ts";
import { Sweeper } from "./sweeper.ts";
import type { DbContext } from "./txn.ts";

const server: ServerState = {
  requirepass: null,
  started_ms: 0,
  clients: new Map(),
  config: new Map(),
  port: 0,
  commands_processed: 0,
  rejected_connections: 0,
};

Deno.test("sweeper: expires keys and collects dead generations, bounded per tick", async () => {
  let now_ms = 1_000_000;
  const backend = new MemoryBackend();
  const db: DbContext = {
    backend,
    latches: new Latches(),
    now_ms: () => now_ms,
    max_bulk_bytes: 1 << 29,
  };
  const run = async (...args: string[]) =>
    str(encodeReply(
      await dispatch({
        db,
        server,
        args: args.map(utf8),
        conn: {
          id: 1,
          addr: "",
          resp: 2,
          authed: true,
          name: null,
          db_index: 0,
          created_ms: 0,
          close_after_reply: false,
          last_command: "",
        },
      }),
      2,
    ));
  const hset = ["HSET", "h"];
  for (let i = 0; i < 100; i++) hset.push(`f${i}`, "v");
  await run(...hset);
  await run("SADD", "s", "a", "b", "c");
  await run("ZADD", "z", "1", "a", "2", "b");
  await run("SET", "short", "x", "PX", "10");
  await run("DEL", "h");
  await run("SET", "s", "now-a-string");
  await run("PEXPIRE", "z", "10");
  now_ms += 20; // lazily expired now: reads see nothing, records remain
  assert.equal(await run("EXISTS", "short", "z"), ":0\r\n");
  const sweeper = new Sweeper(db, { max_records_per_tick: 16 });
  let expired = 0, collected = 0;
  for (let tick = 0; tick < 100; tick++) {
    const r = await sweeper.tick();
    expired += r.expired;
    collected += r.collected_generations;
    if (r.wrapped && tick > 0 && r.expired === 0 && r.collected_generations === 0) break;
  }
  assert.equal(expired, 2);
  // h's fields, s's members, z's members and z's score index.
  assert.equal(collected, 4);
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
  const backend = new MemoryBackend();
  let now = 1_000_000;
  const db: DbContext = { backend, latches: new Latches(), now_ms: () => now, max_bulk_bytes: 99 };
  const conn = {
    id: 1,
    addr: "",
    resp: 2 as const,
    authed: true,
    name: null,
    db_index: 0,
    created_ms: 0,
    close_after_reply: false,
    last_command: "",
  };
  const run = (...args: string[]) => dispatch({ db, conn, server, args: args.map(utf8) });
  const s = new Sweeper(db, { interval_ms: 10, idle_interval_ms: 80 });
  assert.equal(s.pause_ms, 10);
  const paces = [];
  for (let i = 0; i < 5; i++) paces.push((await s.step(), s.pause_ms));
  assert.deepEqual(paces, [20, 40, 80, 80, 80]);
  await run("SET", "k", "v", "PX", "5");
  now += 100;
  const r = await s.step();
  assert.equal(r.expired, 1);
  assert.equal(s.pause_ms, 10);
});
