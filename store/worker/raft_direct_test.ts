/**
 * RaftDirect: which messages go straight to another worker's listener and
 * which stay with the store's transport.
 */
import assert from "node:assert/strict";
import { FrameKind, type FrameListener, listenFrames } from "@eraft/shared/frame";
import type { EncodedRaftMessage } from "../raft_wire.ts";
import { splitRaftBatch } from "../raft_wire.ts";
import { RaftDirect } from "./raft_direct.ts";

/** A message to `to_peer_id` whose bytes are only a region_id field carrying that number. */
function msg(to_peer_id: number, snapshot = false): EncodedRaftMessage {
  return {
    region_id: 1,
    from_store_id: 1,
    to_store_id: 2,
    to_peer_id,
    to_addr: "127.0.0.1:1",
    snapshot,
    bytes: new Uint8Array([0x08, to_peer_id]),
  };
}

/** A listener standing in for a worker: keeps the number each RaftBatch message carries. */
function fakeWorker(): { listener: FrameListener; got: number[] } {
  const got: number[] = [];
  const listener = listenFrames("127.0.0.1:0", () => ({
    on_frame(kind, body) {
      assert.equal(kind, FrameKind.RaftBatch);
      const parts = splitRaftBatch(body);
      assert.ok(typeof parts !== "string");
      for (const p of parts) got.push(p.region_id);
    },
    on_close() {},
  }));
  return { listener, got };
}

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), what);
}

Deno.test("raft direct: messages to peers with a known worker go there; the rest stay with the store", async () => {
  const { listener, got } = fakeWorker();
  const counts = { direct_raft_messages: 0 };
  const direct = new RaftDirect(new Map([[2, listener.address]]), counts);
  try {
    const rest = direct.send([msg(2), msg(3), msg(2, true), msg(2)]);
    assert.deepEqual(rest.map((m) => [m.to_peer_id, m.snapshot]), [[3, false], [2, true]]);
    assert.equal(counts.direct_raft_messages, 2);
    await until("both arrived", () => got.length === 2);
    assert.deepEqual(got, [2, 2]);

    // One message over the largest frame sent directly goes through the store (it splits).
    const huge = { ...msg(2), bytes: new Uint8Array(16 * 1024 * 1024 + 1) };
    assert.deepEqual(direct.send([huge]), [huge]);

    direct.faults_active = true; // fault rules apply to every message: all through the store
    assert.equal(direct.send([msg(2)]).length, 1);
    assert.equal(counts.direct_raft_messages, 2);
  } finally {
    direct.close();
    await listener.close();
  }
});

Deno.test("raft direct: a worker that cannot be reached is forgotten; its peers go through the store", async () => {
  const { listener } = fakeWorker();
  const dead = listener.address;
  await listener.close();
  const peer_addrs = new Map([[4, dead], [5, dead]]);
  const direct = new RaftDirect(peer_addrs, { direct_raft_messages: 0 });
  try {
    assert.deepEqual(direct.send([msg(4)]), [], "queued while the dial is under way");
    await until("the failed dial forgot the address", () => peer_addrs.size === 0);
    assert.equal(direct.send([msg(4), msg(5)]).length, 2);
  } finally {
    direct.close();
  }
});
