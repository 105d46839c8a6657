/**
 * Regression tests for the Deno http2 abort (denoland/deno#36788, DESIGN.md
 * §10, http2_guard.ts): a client makes many calls on one connection and
 * closes it, round after round; the server runs in a child process so an
 * abort shows up as a failed assertion, not a dead test runner. Before the
 * guard, a connection closed after 200-300 calls killed the server in most
 * runs; the per-connection call limit made that rare, and the guard removes
 * the cause.
 */
import assert from "node:assert/strict";
import { spawnDeno } from "../testing/child.ts";
import { ServiceClient } from "./client.ts";
import { MAX_CALLS_PER_CONNECTION_FALLBACK } from "./server.ts";

const SERVER = new URL("./testdata/echo_server.ts", import.meta.url).pathname;
const ROUNDS = 20;

/** The guard's counters the echo server printed on SIGTERM. */
interface GuardStats {
  destroys_deferred: number;
  nested_sends_refused: number;
}

/**
 * ROUNDS clients one after another each make `calls` calls and close; asserts the server
 * served them all, still answers, and exited cleanly; returns its guard stats.
 */
async function churn(max_calls_per_connection: number, calls: number): Promise<GuardStats> {
  const child = spawnDeno("echo_server", SERVER, [String(max_calls_per_connection)]);
  try {
    const port = Number((await child.waitFor(/listening (\d+)/))[1]);
    const addr = `127.0.0.1:${port}`;
    for (let round = 0; round < ROUNDS; round++) {
      const client = new ServiceClient("storepb.Store", addr);
      try {
        for (let i = 0; i < calls; i++) {
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
  const line = child.stdout.match(/^guard (\{.*\})$/m);
  assert.ok(line, `no guard stats in the server's output:\n${child.output()}`);
  return JSON.parse(line[1]) as GuardStats;
}

Deno.test("grpc server with the fallback call limit survives clients closing busy connections", async () => {
  await churn(MAX_CALLS_PER_CONNECTION_FALLBACK, 500);
});

Deno.test("http2 guard alone keeps the server alive when clients close long connections", async () => {
  // No call limit: every connection carries 300 calls, the size that used to abort.
  const stats = await churn(0, 300);
  // The crashing path was taken and defused: a destroy arrived inside nghttp2.
  assert.ok(stats.destroys_deferred > 0, `guard never engaged: ${JSON.stringify(stats)}`);
});
