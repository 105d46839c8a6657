import assert from "node:assert/strict";
import { str, utf8 } from "./encoding/bytes.ts";
import { MemoryBackend } from "./memory_backend.ts";
import { type DbServerOptions, startDbServer } from "./server.ts";
import { RespClient } from "./testing/resp_client.ts";

async function withServer(
  opts: Partial<DbServerOptions>,
  fn: (port: number, backend: MemoryBackend) => Promise<void>,
): Promise<void> {
  const backend = new MemoryBackend();
  const s = await startDbServer({ addr: "127.0.0.1:0", backend, sweeper: null, ...opts });
  try {
    await fn(s.port, backend);
  } finally {
    await s.close();
  }
}

async function call(c: RespClient, ...args: string[]): Promise<string> {
  return str(await c.call(...args));
}

Deno.test("server: pipelined replies come back in request order", async () => {
  await withServer({}, async (port) => {
    const c = await RespClient.connect(port);
    try {
      let req = "";
      for (let i = 0; i < 200; i++) req += `SET k${i} ${i}\r\nGET k${i}\r\n`;
      await c.send(utf8(req));
      for (let i = 0; i < 200; i++) {
        assert.equal(str((await c.readFrame())!.raw), "+OK\r\n");
        assert.equal(str((await c.readFrame())!.raw), `$${String(i).length}\r\n${i}\r\n`);
      }
    } finally {
      c.close();
    }
  });
});

Deno.test("server: pipelined requests on distinct keys run together; one key keeps its order", async () => {
  await withServer({}, async (port, backend) => {
    // Reads wait a little so that concurrently running requests overlap.
    let in_flight = 0, most_in_flight = 0;
    const get = backend.get.bind(backend);
    backend.get = async (cf, key) => {
      most_in_flight = Math.max(most_in_flight, ++in_flight);
      await new Promise((r) => setTimeout(r, 1));
      in_flight--;
      return await get(cf, key);
    };
    const c = await RespClient.connect(port);
    try {
      let req = "";
      for (let i = 0; i < 50; i++) req += `INCR n${i % 5}\r\nGET g${i}\r\nAPPEND a x${i}\r\n`;
      req += "PING\r\nGET a\r\n";
      await c.send(utf8(req));
      for (let i = 0; i < 50; i++) {
        assert.equal(str((await c.readFrame())!.raw), `:${Math.floor(i / 5) + 1}\r\n`);
        assert.equal(str((await c.readFrame())!.raw), "$-1\r\n");
        const appended = Array.from({ length: i + 1 }, (_, j) => `x${j}`).join("").length;
        assert.equal(str((await c.readFrame())!.raw), `:${appended}\r\n`);
      }
      assert.equal(str((await c.readFrame())!.raw), "+PONG\r\n");
      const all = Array.from({ length: 50 }, (_, j) => `x${j}`).join("");
      assert.equal(str((await c.readFrame())!.raw), `$${all.length}\r\n${all}\r\n`);
      assert.ok(most_in_flight > 1, `reads overlapped (${most_in_flight} at most)`);
    } finally {
      c.close();
    }
  });
});

Deno.test("server: requirepass gates commands with NOAUTH until AUTH", async () => {
  await withServer({ requirepass: "s3cret" }, async (port) => {
    const c = await RespClient.connect(port);
    try {
      assert.equal(await call(c, "GET", "k"), "-NOAUTH Authentication required.\r\n");
      assert.match(await call(c, "AUTH", "nope"), /^-WRONGPASS/);
      assert.equal(await call(c, "AUTH", "s3cret"), "+OK\r\n");
      assert.equal(await call(c, "GET", "k"), "$-1\r\n");
    } finally {
      c.close();
    }
  });
});

Deno.test("server: HELLO 3 switches to RESP3 and returns a map; SELECT and COPY only allow DB 0", async () => {
  await withServer({}, async (port) => {
    const c = await RespClient.connect(port);
    try {
      const hello = await call(c, "HELLO", "3", "SETNAME", "me");
      assert.match(hello, /^%7\r\n\$6\r\nserver\r\n\$5\r\nredis\r\n/);
      assert.equal(await call(c, "CLIENT", "GETNAME"), "$2\r\nme\r\n");
      assert.equal(await call(c, "GET", "nothing"), "_\r\n");
      assert.equal(await call(c, "SELECT", "0"), "+OK\r\n");
      assert.equal(await call(c, "SELECT", "1"), "-ERR DB index is out of range\r\n");
      // One database: COPY to another is refused as SELECT is (redis-server has 16).
      assert.equal(await call(c, "SET", "a", "1"), "+OK\r\n");
      assert.equal(await call(c, "COPY", "a", "b", "DB", "1"), "-ERR DB index is out of range\r\n");
      assert.equal(await call(c, "COPY", "a", "b", "DB", "0"), ":1\r\n");
      assert.equal(await call(c, "HELLO", "4"), "-NOPROTO unsupported protocol version\r\n");
      assert.match(await call(c, "INFO"), /^=\d+\r\ntxt:[^]*loading:0/);
    } finally {
      c.close();
    }
  });
});

Deno.test("server: QUIT replies OK and closes", async () => {
  await withServer({}, async (port) => {
    const c = await RespClient.connect(port);
    try {
      await c.send(utf8("QUIT\r\nPING\r\n"));
      assert.equal(str(await c.readToEnd()), "+OK\r\n");
    } finally {
      c.close();
    }
  });
});

Deno.test("server: max clients refuses the extra connection with Redis's error", async () => {
  await withServer({ limits: { max_clients: 1 } }, async (port) => {
    const a = await RespClient.connect(port);
    try {
      assert.equal(await call(a, "PING"), "+PONG\r\n");
      const b = await RespClient.connect(port);
      try {
        assert.equal(str(await b.readToEnd()), "-ERR max number of clients reached\r\n");
      } finally {
        b.close();
      }
      assert.equal(await call(a, "PING"), "+PONG\r\n");
    } finally {
      a.close();
    }
  });
});

Deno.test("server: pipeline memory bound closes the flooding connection only", async () => {
  await withServer({ limits: { max_pipeline_bytes: 4096 } }, async (port) => {
    const a = await RespClient.connect(port);
    const b = await RespClient.connect(port);
    try {
      await a.send(utf8(`*2\r\n$3\r\nGET\r\n$100000\r\n${"x".repeat(8000)}`));
      assert.match(str(await a.readToEnd()), /^-ERR Protocol error/);
      assert.equal(await call(b, "PING"), "+PONG\r\n");
    } finally {
      a.close();
      b.close();
    }
  });
});

Deno.test("server: COMMAND, COMMAND COUNT and COMMAND DOCS answer (redis-cli needs them)", async () => {
  await withServer({}, async (port) => {
    const c = await RespClient.connect(port);
    try {
      const count = Number((await call(c, "COMMAND", "COUNT")).slice(1));
      assert.ok(count > 100);
      assert.match(await call(c, "COMMAND", "DOCS", "get"), /^\*2\r\n\$3\r\nget\r\n/);
      assert.match(await call(c, "COMMAND", "INFO", "get"), /^\*1\r\n\*10\r\n\$3\r\nget\r\n:2\r\n/);
      assert.equal(
        await call(c, "NOPE", "a"),
        "-ERR unknown command 'NOPE', with args beginning with: 'a' \r\n",
      );
      assert.equal(await call(c, "GET"), "-ERR wrong number of arguments for 'get' command\r\n");
    } finally {
      c.close();
    }
  });
});

Deno.test("server: redis-cli works against it (if installed)", {
  ignore: (() => {
    try {
      return !Deno.statSync("/usr/bin/redis-cli").isFile;
    } catch {
      console.warn("server_test: redis-cli test IGNORED — /usr/bin/redis-cli not found");
      return true;
    }
  })(),
}, async () => {
  await withServer({}, async (port) => {
    const cli = (...args: string[]) =>
      new Deno.Command("/usr/bin/redis-cli", {
        args: ["-p", String(port), ...args],
        stdout: "piped",
        stderr: "piped",
      }).output();
    assert.equal(str((await cli("SET", "k", "v")).stdout), "OK\n");
    assert.equal(str((await cli("GET", "k")).stdout), "v\n");
    assert.equal(str((await cli("HSET", "h", "a", "1")).stdout), "1\n");
    assert.equal(str((await cli("-3", "HGETALL", "h")).stdout), "a 1\n"); // a RESP3 map
  });
});
