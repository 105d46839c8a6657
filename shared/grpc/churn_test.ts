/**
 * Regression test for the Deno/grpc-js server abort (DESIGN.md §10): a client
 * makes 500 calls on one connection and closes it, 20 times; the server runs
 * in a child process so an abort shows up as a failed assertion, not a dead
 * test runner.
 */
import assert from "node:assert/strict";
import { spawnDeno } from "../testing/child.ts";
import { ServiceClient } from "./client.ts";
import { MAX_CALLS_PER_CONNECTION_DEFAULT } from "./server.ts";

const SERVER = new URL("./testdata/echo_server.ts", import.meta.url).pathname;
const ROUNDS = 20;
const CALLS_PER_CONNECTION = 500;

Deno.test("grpc server survives clients closing connections after many calls", async () => {
  const child = spawnDeno("echo_server", SERVER, [String(MAX_CALLS_PER_CONNECTION_DEFAULT)]);
  try {
    const port = Number((await child.waitFor(/listening (\d+)/))[1]);
    const addr = `127.0.0.1:${port}`;
    for (let round = 0; round < ROUNDS; round++) {
      const client = new ServiceClient("storepb.Store", addr);
      try {
        for (let i = 0; i < CALLS_PER_CONNECTION; i++) {
          const key = new Uint8Array([round, i & 0xff]);
          const res = await client.unary<{ value: Uint8Array }>("RawGet", { key });
          assert.deepEqual([...res.value], [...key]);
        }
      } finally {
        client.close();
      }
      assert.equal(child.exited, false, `server died after round ${round}:\n${child.output()}`);
    }
    const probe = new ServiceClient("storepb.Store", addr);
    try {
      const res = await probe.unary<{ value: Uint8Array }>("RawGet", { key: new Uint8Array([7]) });
      assert.deepEqual([...res.value], [7]);
    } finally {
      probe.close();
    }
  } finally {
    const status = await child.stop("SIGTERM");
    assert.equal(status.signal ?? null, null, `server was killed by a signal:\n${child.output()}`);
  }
});
