/**
 * A write request as it crosses from the main thread to a region worker: its
 * mutations, preconditions and batch members already encoded as the fields
 * of the `RaftCmdRequest` the worker proposes (fields 2, 3 and 5), so the
 * worker prepends the encoded header and proposes, never touching them.
 *
 * The alternative — the checked objects posted as they are — cost a
 * structured clone of the object graph on both threads (40-90 µs for a
 * 17-member merged batch of 100-byte values, against 6 µs for the same as one
 * byte array) and a protobufjs encode of every mutation in the worker.
 * Protobuf fields concatenate: header bytes followed by these bytes decode as
 * the whole command.
 * @module
 */
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import type * as raft_cmdpb from "@eraft/proto/gen/raft_cmdpb.ts";
import { ByteArena, compareBytes } from "@eraft/shared/bytes";
import { decodeMessage, encodeMessage } from "@eraft/shared/proto";

/** What a write does, as plain objects (checked by the caller). */
export interface WriteParts {
  mutations: kvrpcpb.Mutation[];
  preconditions: kvrpcpb.Precondition[];
  /** Members of a merged batch, each deduplicated on its own (request_id is 0). */
  members?: kvrpcpb.BatchMember[];
  /** Client request id for apply-time deduplication; 0 = none. */
  request_id: number;
  /** With request_id: the client's clock at its first attempt (Unix ms). */
  issued_at_ms: number;
}

/** A write as posted to a worker (`WorkerRequest` op "write"). */
export interface EncodedWrite {
  op: "write";
  /** `mutations`, `preconditions` and `members` as RaftCmdRequest wire bytes. */
  body: Uint8Array;
  /** The smallest and largest key the write names: its region must hold both. */
  min_key: Uint8Array;
  max_key: Uint8Array;
  request_id: number;
  issued_at_ms: number;
}

/** Encodes a write for a worker; it must name at least one key. */
export function encodeWrite(parts: WriteParts): EncodedWrite {
  const keys = [...parts.mutations.map((m) => m.key), ...parts.preconditions.map((p) => p.key)];
  if (keys.length === 0) throw new Error("a write names no key");
  let min_key = keys[0];
  let max_key = keys[0];
  for (const k of keys) {
    if (compareBytes(k, min_key) < 0) min_key = k;
    if (compareBytes(k, max_key) > 0) max_key = k;
  }
  const body: Partial<raft_cmdpb.RaftCmdRequest> = {
    mutations: parts.mutations,
    preconditions: parts.preconditions,
    members: parts.members ?? [],
  };
  // Keys may be views into a large frame and protobufjs encodes small
  // messages into a shared slab: posting either would clone the whole buffer.
  const arena = ByteArena.for([min_key, max_key]);
  return {
    op: "write",
    body: encodeMessage("raft_cmdpb.RaftCmdRequest", body).slice(),
    min_key: arena.copy(min_key),
    max_key: arena.copy(max_key),
    request_id: parts.request_id,
    issued_at_ms: parts.issued_at_ms,
  };
}

/** The parts of an encoded write (for fakes and tests; workers propose the bytes). */
export function decodeWrite(w: EncodedWrite): WriteParts {
  const cmd = decodeMessage<raft_cmdpb.RaftCmdRequest>("raft_cmdpb.RaftCmdRequest", w.body);
  return {
    mutations: cmd.mutations,
    preconditions: cmd.preconditions,
    members: cmd.members,
    request_id: w.request_id,
    issued_at_ms: w.issued_at_ms,
  };
}

/** The command a worker proposes: its encoded header followed by the write's body. */
export function proposalBytes(header: Uint8Array, w: EncodedWrite): Uint8Array {
  const out = new Uint8Array(header.length + w.body.length);
  out.set(header, 0);
  out.set(w.body, header.length);
  return out;
}
