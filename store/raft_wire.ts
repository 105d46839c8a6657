/**
 * Raft messages as they cross a store's thread boundary: encoded
 * `raft_serverpb.RaftMessage` bytes plus the few fields the main thread routes
 * by. The worker encodes each message once; the main thread frames the bytes
 * as a `RaftMessageBatch` without re-encoding them, and on the receiving store
 * reads only the routing fields of each message before handing the bytes to
 * the worker that decodes them. Structured clone of nested message objects
 * (entries, peers, epochs) was the largest cost of a store's main thread.
 * @module
 */
import protobuf from "protobufjs";
import type * as raft_serverpb from "@eraft/proto/gen/raft_serverpb.ts";
import { MessageType } from "@eraft/proto/gen/eraftpb.ts";
import { decodeMessage, encodeMessageOwned } from "@eraft/shared/proto";
import { lenFieldBytes, putLenField } from "@eraft/shared/bytes";

/** One encoded Raft message and what it is routed by. */
export interface EncodedRaftMessage {
  region_id: number;
  from_store_id: number;
  to_store_id: number;
  to_peer_id: number;
  /** The destination store's address as the sender knows it ("" = unknown). */
  to_addr: string;
  /** A MsgSnapshot: it travels through the Snapshot RPC, not the message stream. */
  snapshot: boolean;
  /**
   * `raft_serverpb.RaftMessage`. From {@link encodeRaftMessage}: a buffer of
   * its own, posted as is. From {@link splitRaftBatch}: a view into the
   * received frame, copied by {@link encodeRaftBatch} before it is posted.
   */
  bytes: Uint8Array;
}

const RAFT_MESSAGE = "raft_serverpb.RaftMessage";
const RAFT_MESSAGE_BATCH = "raft_serverpb.RaftMessageBatch";

/** Encodes a message with its routing fields (worker side). */
export function encodeRaftMessage(m: raft_serverpb.RaftMessage): EncodedRaftMessage {
  return {
    region_id: m.region_id,
    from_store_id: m.from_peer?.store_id ?? 0,
    to_store_id: m.to_peer?.store_id ?? 0,
    to_peer_id: m.to_peer?.id ?? 0,
    to_addr: m.to_peer?.addr ?? "",
    snapshot: m.message?.msg_type === MessageType.MsgSnapshot,
    bytes: encodeMessageOwned(RAFT_MESSAGE, m),
  };
}

/** The message object back from its bytes (throws on malformed bytes). */
export function decodeRaftMessage(bytes: Uint8Array): raft_serverpb.RaftMessage {
  return decodeMessage<raft_serverpb.RaftMessage>(RAFT_MESSAGE, bytes);
}

/**
 * A `RaftMessageBatch` made of already encoded messages: field 1 repeated, so
 * each message is its tag, its length and its bytes.
 */
export function encodeRaftBatch(msgs: readonly Uint8Array[]): Uint8Array {
  // Sized first and written once: an exact buffer of its own (it is posted
  // or framed as is), one allocation instead of a growing writer's several.
  let size_bytes = 0;
  for (const bytes of msgs) size_bytes += lenFieldBytes(bytes.length);
  const out = new Uint8Array(size_bytes);
  let at = 0;
  for (const bytes of msgs) at = putLenField(out, at, FIELD_1_LEN, bytes);
  if (at !== size_bytes) throw new Error(`RaftMessageBatch: wrote ${at} of ${size_bytes} bytes`);
  return out;
}

/** Tag of field 1 with wire type 2 (length-delimited). */
const FIELD_1_LEN = (1 << 3) | 2;

/**
 * Splits a `RaftMessageBatch` into its messages, reading only their routing
 * fields. Returns an error text for bytes that are not a well-formed batch;
 * a message's own payload (field 4) is checked by the worker that decodes it.
 */
export function splitRaftBatch(body: Uint8Array): EncodedRaftMessage[] | string {
  const out: EncodedRaftMessage[] = [];
  try {
    const r = protobuf.Reader.create(body);
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag !== FIELD_1_LEN) {
        r.skipType(tag & 7);
        continue;
      }
      const len = r.uint32();
      const start = r.pos;
      if (start + len > r.len) return "RaftMessageBatch: a message runs past the end";
      out.push(routingOf(body.subarray(start, start + len)));
      r.pos = start + len;
    }
  } catch (err) {
    return `RaftMessageBatch: ${err instanceof Error ? err.message : err}`;
  }
  return out;
}

/** Reads region_id, from_peer.store_id and to_peer.{id,store_id,addr} of one message. */
function routingOf(bytes: Uint8Array): EncodedRaftMessage {
  const m: EncodedRaftMessage = {
    region_id: 0,
    from_store_id: 0,
    to_store_id: 0,
    to_peer_id: 0,
    to_addr: "",
    snapshot: false,
    bytes,
  };
  const r = protobuf.Reader.create(bytes);
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 1 && (tag & 7) === 0) m.region_id = r.uint64() as unknown as number;
    else if ((field === 2 || field === 3) && (tag & 7) === 2) readPeer(r, m, field === 2);
    else r.skipType(tag & 7);
  }
  return m;
}

function readPeer(r: protobuf.Reader, m: EncodedRaftMessage, from: boolean): void {
  const end = r.uint32() + r.pos;
  if (end > r.len) throw new Error("a peer runs past the end of its message");
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 2 && (tag & 7) === 0) {
      const store_id = r.uint64() as unknown as number;
      if (from) m.from_store_id = store_id;
      else m.to_store_id = store_id;
    } else if (!from && field === 1 && (tag & 7) === 0) {
      m.to_peer_id = r.uint64() as unknown as number;
    } else if (!from && field === 3 && (tag & 7) === 2) m.to_addr = r.string();
    else r.skipType(tag & 7);
  }
  if (r.pos !== end) throw new Error("a peer's fields overrun it");
}

/**
 * Decodes a batch built by {@link encodeRaftBatch} (worker side). A message
 * that does not decode is left out and counted, so one bad message costs
 * only itself.
 */
export function decodeRaftBatch(
  batch: Uint8Array,
): { msgs: raft_serverpb.RaftMessage[]; malformed: number } {
  try {
    const decoded = decodeMessage<raft_serverpb.RaftMessageBatch>(RAFT_MESSAGE_BATCH, batch);
    return { msgs: decoded.msgs, malformed: 0 };
  } catch {
    // Rare: find the bad ones one by one.
  }
  const parts = splitRaftBatch(batch);
  if (typeof parts === "string") return { msgs: [], malformed: 1 };
  const msgs: raft_serverpb.RaftMessage[] = [];
  let malformed = 0;
  for (const part of parts) {
    try {
      msgs.push(decodeRaftMessage(part.bytes));
    } catch {
      malformed++;
    }
  }
  return { msgs, malformed };
}
