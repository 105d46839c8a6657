import assert from "node:assert/strict";
import { concat, utf8 } from "./encoding/bytes.ts";
import { metaKey } from "./encoding/keys.ts";
import { MemoryBackend } from "./memory_backend.ts";
import { MAX_QUEUED_COMMANDS } from "./multi.ts";
import { startDbServer } from "./server.ts";
import { encodeCommand, RespClient } from "./testing/resp_client.ts";

/** Runs `fn` with a db server on `backend` and a way to open connections to it. */
async function withServer(
  backend: MemoryBackend,
  fn: (connect: () => Promise<RespClient>) => Promise<void>,
): Promise<void> {
  const server = await startDbServer({ addr: "127.0.0.1:0", backend, sweeper: null });
  const clients: RespClient[] = [];
  try {
    await fn(async () => {
      const c = await RespClient.connect(server.port);
      clients.push(c);
      return c;
    });
  } finally {
    for (const c of clients) c.close();
    await server.close();
  }
}

/** One command's raw RESP2 reply as text. */
async function call(c: RespClient, ...args: string[]): Promise<string> {
  return new TextDecoder().decode(await c.call(...args));
}

Deno.test("multi: WATCH aborts EXEC (nil, nothing applied) when another client changed the key", async () => {
  await withServer(new MemoryBackend(), async (connect) => {
    const a = await connect(), b = await connect();
    assert.equal(await call(a, "WATCH", "w"), "+OK\r\n");
    assert.equal(await call(b, "SET", "w", "theirs"), "+OK\r\n");
    assert.equal(await call(a, "MULTI"), "+OK\r\n");
    assert.equal(await call(a, "SET", "mine", "1"), "+QUEUED\r\n");
    assert.equal(await call(a, "EXEC"), "*-1\r\n");
    assert.equal(await call(a, "GET", "mine"), "$-1\r\n");
    // EXEC forgot the watch: the next transaction applies.
    assert.equal(await call(a, "MULTI"), "+OK\r\n");
    assert.equal(await call(a, "SET", "mine", "1"), "+QUEUED\r\n");
    assert.equal(await call(a, "EXEC"), "*1\r\n+OK\r\n");
    // A watched key nobody touched does not abort; one another client deleted does.
    assert.equal(await call(a, "WATCH", "mine", "w"), "+OK\r\n");
    assert.equal(await call(a, "MULTI"), "+OK\r\n");
    assert.equal(await call(a, "INCR", "mine"), "+QUEUED\r\n");
    assert.equal(await call(a, "EXEC"), "*1\r\n:2\r\n");
    assert.equal(await call(a, "WATCH", "w"), "+OK\r\n");
    assert.equal(await call(b, "DEL", "w"), ":1\r\n");
    assert.equal(await call(a, "MULTI"), "+OK\r\n");
    assert.equal(await call(a, "INCR", "mine"), "+QUEUED\r\n");
    assert.equal(await call(a, "EXEC"), "*-1\r\n");
    assert.equal(await call(a, "GET", "mine"), "$1\r\n2\r\n");
  });
});

Deno.test("multi: concurrent transactions are atomic and isolated (two counters never differ)", async () => {
  await withServer(new MemoryBackend(), async (connect) => {
    const clients = await Promise.all(Array.from({ length: 6 }, () => connect()));
    const rounds = 15;
    await Promise.all(clients.map(async (c) => {
      for (let i = 0; i < rounds; i++) {
        assert.equal(await call(c, "MULTI"), "+OK\r\n");
        assert.equal(await call(c, "INCR", "x"), "+QUEUED\r\n");
        assert.equal(await call(c, "INCR", "y"), "+QUEUED\r\n");
        const reply = await call(c, "EXEC");
        const m = /^\*2\r\n:(\d+)\r\n:(\d+)\r\n$/.exec(reply);
        assert.ok(m, `EXEC answered ${JSON.stringify(reply)}`);
        assert.equal(m[1], m[2], "another transaction ran between the two INCRs");
      }
    }));
    const total = String(clients.length * rounds);
    assert.equal(
      await call(clients[0], "MGET", "x", "y"),
      `*2\r\n$2\r\n${total}\r\n$2\r\n${total}\r\n`,
    );
  });
});

Deno.test("multi: a transaction writing keys of two regions applies nothing and says why", async () => {
  const backend = new MemoryBackend({ region_boundaries: [metaKey(utf8("m"))] });
  await withServer(backend, async (connect) => {
    const c = await connect();
    assert.equal(await call(c, "MULTI"), "+OK\r\n");
    assert.equal(await call(c, "SET", "a", "1"), "+QUEUED\r\n");
    assert.equal(await call(c, "SET", "z", "1"), "+QUEUED\r\n");
    assert.match(await call(c, "EXEC"), /^-ERR .*region/);
    assert.equal(await call(c, "MGET", "a", "z"), "*2\r\n$-1\r\n$-1\r\n");
    // Within one region it commits.
    assert.equal(await call(c, "MULTI"), "+OK\r\n");
    assert.equal(await call(c, "SET", "a", "1"), "+QUEUED\r\n");
    assert.equal(await call(c, "SET", "b", "2"), "+QUEUED\r\n");
    assert.equal(await call(c, "EXEC"), "*2\r\n+OK\r\n+OK\r\n");
  });
});

Deno.test("multi: queued commands see earlier queued writes, also through scans (long lists, deletes)", async () => {
  await withServer(new MemoryBackend(), async (connect) => {
    const c = await connect();
    assert.equal(await call(c, "RPUSH", "l", "old"), ":1\r\n");
    assert.equal(await call(c, "HSET", "h", "f1", "a", "f2", "b"), ":2\r\n");
    // Sent in one write: the server must queue each in order, not run them side by side.
    const items = Array.from({ length: 40 }, (_, i) => `i${i}`);
    const pipeline = [
      ["MULTI"],
      ["RPUSH", "l", ...items],
      ["LRANGE", "l", "0", "-1"],
      ["HDEL", "h", "f1"],
      ["HSET", "h", "f3", "c"],
      ["HGETALL", "h"],
      ["EXEC"],
    ];
    await c.send(concat(...pipeline.map((args) => encodeCommand(args))));
    const replies = [];
    for (let i = 0; i < pipeline.length; i++) replies.push((await c.readFrame())!);
    assert.deepEqual(replies.slice(1, 6).map((r) => r.f.line), Array(5).fill("QUEUED"));
    const exec = replies[6].f.items!;
    assert.equal(exec[0].line, "41");
    assert.deepEqual(exec[1].items!.map((x) => new TextDecoder().decode(x.bulk!)), [
      "old",
      ...items,
    ]);
    assert.deepEqual(
      exec[4].items!.map((x) => new TextDecoder().decode(x.bulk!)),
      ["f2", "b", "f3", "c"],
    );
  });
});

Deno.test("multi: the queue is bounded; one command past the bound aborts the EXEC", async () => {
  await withServer(new MemoryBackend(), async (connect) => {
    const c = await connect();
    const commands = [["MULTI"], ...Array(MAX_QUEUED_COMMANDS + 1).fill(["INCR", "n"]), ["EXEC"]];
    await c.send(concat(...commands.map((args) => encodeCommand(args))));
    const last_two = [];
    for (let i = 0; i < commands.length; i++) {
      const r = (await c.readFrame())!;
      if (i >= commands.length - 2) last_two.push(new TextDecoder().decode(r.raw));
    }
    assert.match(last_two[0], /^-ERR a transaction queues at most \d+ commands/);
    assert.match(last_two[1], /^-EXECABORT/);
    assert.equal(await call(c, "GET", "n"), "$-1\r\n");
  });
});
