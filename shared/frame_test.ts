import assert from "node:assert/strict";
import { FRAME_PREAMBLE, FrameConn, type FrameConnOptions, listenFrames } from "./frame.ts";

/** Collects frames and the close reason of one side. */
class Recorder {
  frames: Array<[number, string]> = [];
  closed: { reason: string | null } | null = null;
  #waiters: Array<() => void> = [];

  options(): FrameConnOptions {
    return {
      on_frame: (kind, body) => {
        this.frames.push([kind, new TextDecoder().decode(body)]);
        this.#wake();
      },
      on_close: (reason) => {
        this.closed = { reason };
        this.#wake();
      },
    };
  }

  /** Waits (bounded) until `done()` holds. */
  async until(done: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!done()) {
      assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  #wake(): void {
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) w();
  }
}

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("frames sent in one task arrive whole, in order, with their kinds", async () => {
  const server = new Recorder();
  const listener = listenFrames("127.0.0.1:0", (peer) => {
    const opts = server.options();
    return {
      ...opts,
      on_frame: (kind, body) => {
        opts.on_frame(kind, body);
        peer.send(kind + 1, body); // echo with the next kind
      },
    };
  });
  const client = new Recorder();
  const fc = FrameConn.dial(listener.address, client.options());
  const big = "x".repeat(600_000); // spans many reads
  for (let i = 0; i < 50; i++) fc.send(1, text(`m${i}`));
  fc.send(7, text(big));
  fc.send(2, new Uint8Array(0));
  await client.until(() => client.frames.length === 52, "52 echoes");
  assert.deepEqual(server.frames.slice(0, 3), [[1, "m0"], [1, "m1"], [1, "m2"]]);
  assert.deepEqual(client.frames[49], [2, "m49"]);
  assert.equal(client.frames[50][0], 8);
  assert.equal(client.frames[50][1], big);
  assert.deepEqual(client.frames[51], [3, ""]);
  fc.close();
  await server.until(() => server.closed !== null, "server side closed");
  assert.equal(client.closed?.reason, null, "a local close reports no reason");
  await listener.close();
});

Deno.test("a connection without the preamble is refused; the listener serves the next one", async () => {
  const conns: Recorder[] = [];
  const listener = listenFrames("127.0.0.1:0", () => {
    const r = new Recorder();
    conns.push(r);
    return r.options();
  });
  const [hostname, port] = listener.address.split(":");
  const raw = await Deno.connect({ hostname, port: Number(port) });
  await raw.write(text("GET / HTTP/1.1\r\n\r\n"));
  await new Recorder().until(() => conns[0]?.closed != null, "refusal");
  assert.match(conns[0].closed!.reason!, /not an eraft frame connection/);
  assert.equal(conns[0].frames.length, 0);
  assert.equal(await raw.read(new Uint8Array(16)), null, "the server hung up");
  raw.close();

  const client = new Recorder();
  const fc = FrameConn.dial(listener.address, client.options());
  fc.send(1, text("after"));
  await client.until(() => conns[1]?.frames.length === 1, "a frame on a good connection");
  assert.deepEqual(conns[1].frames, [[1, "after"]]);
  fc.close();
  await listener.close();
});

Deno.test("an oversized frame header closes the connection with a protocol error", async () => {
  const server = new Recorder();
  const listener = listenFrames("127.0.0.1:0", () => ({
    ...server.options(),
    max_frame_bytes: 1024,
  }));
  const [hostname, port] = listener.address.split(":");
  const raw = await Deno.connect({ hostname, port: Number(port) });
  const header = new Uint8Array(5);
  new DataView(header.buffer).setUint32(0, 1_000_000);
  header[4] = 1;
  await raw.write(new Uint8Array([...FRAME_PREAMBLE, ...header]));
  await server.until(() => server.closed !== null, "refusal");
  assert.match(server.closed!.reason!, /protocol error: frame of 1000000 bytes/);
  raw.close();
  await listener.close();
});

Deno.test("dialing a port nobody listens on closes with the connect error", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const client = new Recorder();
  const fc = FrameConn.dial(`127.0.0.1:${port}`, client.options());
  assert.equal(fc.send(1, text("lost")), true, "queued while connecting");
  await client.until(() => client.closed !== null, "connect failure");
  assert.match(client.closed!.reason!, /connect to 127\.0\.0\.1/);
  assert.equal(fc.send(1, text("after")), false, "a closed connection refuses frames");
});

Deno.test("send refuses frames past max_queued_bytes instead of buffering without bound", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  const accepted = probe.accept();
  const client = new Recorder();
  const fc = FrameConn.dial(`127.0.0.1:${port}`, { ...client.options(), max_queued_bytes: 100 });
  assert.equal(fc.send(1, new Uint8Array(50)), true);
  assert.equal(fc.send(1, new Uint8Array(50)), false, "over the queue limit");
  assert.ok(fc.queued_bytes <= 100);
  const server_side = await accepted;
  server_side.close();
  await client.until(() => client.closed !== null, "the peer hung up");
  probe.close();
});

Deno.test("bodies handed out stay intact while later bytes arrive (large frames between small)", async () => {
  const bodies: Uint8Array[] = [];
  const listener = listenFrames("127.0.0.1:0", () => ({
    on_frame: (_kind, body) => bodies.push(body), // kept, not copied
    on_close: () => {},
  }));
  const client = new Recorder();
  const fc = FrameConn.dial(listener.address, client.options());
  const expected: Uint8Array[] = [];
  for (let i = 0; i < 12; i++) {
    const size = i % 3 === 0 ? 3_000_000 + i : 1 + i * 7;
    const body = new Uint8Array(size).fill(i + 1);
    body[0] = 200 + i;
    expected.push(body);
    fc.send(1, body);
    if (i % 4 === 3) await new Promise((r) => setTimeout(r, 0)); // separate writes
  }
  await client.until(() => bodies.length === expected.length, "every frame");
  bodies.forEach((b, i) => {
    assert.equal(b.length, expected[i].length, `frame ${i} length`);
    assert.ok(b.every((x, j) => x === expected[i][j]), `frame ${i} bytes intact`);
  });
  fc.close();
  await listener.close();
});
