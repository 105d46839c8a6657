/**
 * Malformed-frame fuzz: seeded random garbage and truncated/mutated RESP is
 * thrown at the server on many connections; the server must keep serving a
 * well-behaved client throughout. Replay a seed with FUZZ_SEED=<n>.
 * @module
 */
import assert from "node:assert/strict";
import { str, utf8 } from "./encoding/bytes.ts";
import { MemoryBackend } from "./memory_backend.ts";
import { startDbServer } from "./server.ts";
import { prng } from "./testing/gen.ts";
import { encodeCommand, RespClient } from "./testing/resp_client.ts";

const ROUNDS = Number(Deno.env.get("FUZZ_ROUNDS") ?? "150");
const SEED = Number(Deno.env.get("FUZZ_SEED") ?? "7");

const SNIPPETS = [
  "*",
  "$",
  "\r\n",
  "\r",
  "\n",
  "-1",
  "99999999999999999999",
  "0",
  "3",
  "*1\r\n",
  "$3\r\nGET\r\n",
  '"',
  "'",
  "\\x",
  " ",
  "PING",
  "\u0000",
  "*-5\r\n",
  "$-1\r\n",
  "*2\r\n$3\r\nSET\r\n",
];

function garbage(r: () => number): Uint8Array {
  const kind = Math.floor(r() * 3);
  if (kind === 0) {
    // Random bytes.
    return Uint8Array.from({ length: 1 + Math.floor(r() * 200) }, () => Math.floor(r() * 256));
  }
  if (kind === 1) {
    // Valid command with random byte flips / truncation.
    const b = encodeCommand(["SET", "k" + Math.floor(r() * 5), "v".repeat(Math.floor(r() * 50))]);
    for (let i = 0; i < 3; i++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
    return b.subarray(0, 1 + Math.floor(r() * b.length));
  }
  let s = "";
  for (let i = 0; i < 1 + r() * 12; i++) s += SNIPPETS[Math.floor(r() * SNIPPETS.length)];
  return utf8(s);
}

Deno.test("fuzz: malformed frames never crash the server or disturb other clients", async () => {
  const s = await startDbServer({
    addr: "127.0.0.1:0",
    backend: new MemoryBackend(),
    sweeper: null,
  });
  const good = await RespClient.connect(s.port);
  const r = prng(SEED);
  try {
    assert.equal(str(await good.call("SET", "stable", "1")), "+OK\r\n");
    for (let round = 0; round < ROUNDS; round++) {
      const bad = await RespClient.connect(s.port);
      try {
        await bad.send(garbage(r));
        // Close half of the time without reading: abrupt disconnects too.
        if (r() < 0.5) {
          await bad.send(utf8("\r\n*1\r\n$4\r\nPING\r\n")).catch(() => {});
          let timer: ReturnType<typeof setTimeout> | undefined;
          await Promise.race([
            bad.readFrame().catch(() => null),
            new Promise((res) => (timer = setTimeout(res, 5))),
          ]);
          clearTimeout(timer);
        }
      } catch {
        // The server may close the connection under us: fine.
      } finally {
        bad.close();
      }
      assert.equal(
        str(await good.call("INCR", "stable")),
        `:${round + 2}\r\n`,
        `seed ${SEED} round ${round}`,
      );
    }
  } finally {
    good.close();
    await s.close();
  }
});
