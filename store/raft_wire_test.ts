import assert from "node:assert/strict";
import fc from "fast-check";
import type * as raft_serverpb from "@eraft/proto/gen/raft_serverpb.ts";
import { EntryType, MessageType } from "@eraft/proto/gen/eraftpb.ts";
import { decodeMessage, encodeMessage } from "@eraft/shared/proto";
import {
  decodeRaftBatch,
  decodeRaftMessage,
  encodeRaftBatch,
  encodeRaftMessage,
  splitRaftBatch,
} from "./raft_wire.ts";

const enc = (s: string) => new TextEncoder().encode(s);

/** A plain message with every field present, as decodeMessage gives it. */
function message(region_id: number, to_store: number, type: MessageType = MessageType.MsgAppend) {
  return decodeMessage<raft_serverpb.RaftMessage>(
    "raft_serverpb.RaftMessage",
    encodeMessage("raft_serverpb.RaftMessage", {
      region_id,
      from_peer: { id: 11, store_id: 1, addr: "127.0.0.1:1" },
      to_peer: { id: 10 + to_store, store_id: to_store, addr: `127.0.0.1:${to_store}` },
      message: {
        msg_type: type,
        to: 10 + to_store,
        from: 11,
        term: 3,
        index: 7,
        entries: [{ entry_type: EntryType.EntryNormal, term: 3, index: 8, data: enc("put k v") }],
      },
      region_epoch: { conf_ver: 2, version: 5 },
      start_key: enc("a"),
      end_key: enc("m"),
    }),
  );
}

Deno.test("raft_wire: a message keeps every field through its bytes and carries its route", () => {
  const m = message(2 ** 40 + 3, 2);
  const e = encodeRaftMessage(m);
  assert.deepEqual(
    { ...e, bytes: undefined },
    {
      region_id: 2 ** 40 + 3,
      from_store_id: 1,
      to_store_id: 2,
      to_peer_id: 12,
      to_addr: "127.0.0.1:2",
      snapshot: false,
      bytes: undefined,
    },
  );
  assert.deepEqual(decodeRaftMessage(e.bytes), m);
  assert.equal(e.bytes.byteOffset, 0);
  assert.equal(
    e.bytes.buffer.byteLength,
    e.bytes.byteLength,
    "owns its buffer (posting copies all of it)",
  );
  assert.equal(encodeRaftMessage(message(1, 2, MessageType.MsgSnapshot)).snapshot, true);
});

Deno.test("raft_wire: a batch of encoded messages is byte-identical to protobufjs's RaftMessageBatch", () => {
  const big = message(4, 3);
  // Lengths past one and two varint bytes.
  big.message!.entries[0].data = new Uint8Array(20_000).fill(7);
  const msgs = [message(1, 2), message(2, 3), message(3, 2, MessageType.MsgHeartbeat), big];
  const ours = encodeRaftBatch(msgs.map((m) => encodeRaftMessage(m).bytes));
  assert.equal(ours.byteLength, ours.buffer.byteLength, "owns its buffer");
  assert.deepEqual(ours, encodeMessage("raft_serverpb.RaftMessageBatch", { msgs }));
  assert.deepEqual(decodeRaftBatch(ours), { msgs, malformed: 0 });
});

Deno.test("raft_wire: splitting a batch reads each message's route without decoding it", () => {
  const msgs = [message(5, 2), message(6, 3)];
  const parts = splitRaftBatch(encodeMessage("raft_serverpb.RaftMessageBatch", { msgs }));
  assert.ok(Array.isArray(parts));
  assert.deepEqual(parts, msgs.map(encodeRaftMessage).map((e) => ({ ...e, snapshot: false })));
  assert.deepEqual(splitRaftBatch(new Uint8Array(0)), []);
});

Deno.test("raft_wire: a malformed batch is an error text, never an exception", () => {
  const good = encodeRaftBatch([encodeRaftMessage(message(1, 2)).bytes]);
  assert.match(splitRaftBatch(good.subarray(0, good.length - 3)) as string, /RaftMessageBatch/);
  assert.match(splitRaftBatch(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])) as string, /./);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const r = splitRaftBatch(bytes);
      assert.ok(typeof r === "string" || Array.isArray(r));
    }),
    { numRuns: 2000 },
  );
});

Deno.test("raft_wire: one undecodable message in a batch costs only itself", () => {
  const a = encodeRaftMessage(message(1, 2)).bytes;
  const b = encodeRaftMessage(message(2, 2)).bytes;
  // Routing fields intact; field 4 (the Raft message) holds a truncated varint.
  const bad = new Uint8Array([0x08, 0x07, 0x22, 0x03, 0x08, 0xff, 0xff]);
  assert.ok(
    Array.isArray(splitRaftBatch(encodeRaftBatch([a, bad, b]))),
    "the main thread routes it",
  );
  const out = decodeRaftBatch(encodeRaftBatch([a, bad, b]));
  assert.equal(out.malformed, 1);
  assert.deepEqual(out.msgs.map((m) => m.region_id), [1, 2]);
});
