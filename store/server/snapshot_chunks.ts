/**
 * Splitting a `MsgSnapshot` Raft message into `SnapshotChunk`s and putting it
 * back together. The first chunk carries the message with its snapshot data
 * emptied; every chunk carries the next slice of the data.
 * @module
 */
import assert from "node:assert/strict";
import type * as raft_serverpb from "@eraft/proto/gen/raft_serverpb.ts";
import { toPlain } from "./plain.ts";

/** The chunks of one snapshot message, `chunk_bytes` of data each (at least one chunk). */
export function* snapshotChunks(
  msg: raft_serverpb.RaftMessage,
  chunk_bytes: number,
): Generator<raft_serverpb.SnapshotChunk> {
  assert.ok(chunk_bytes > 0);
  const snapshot = msg.message?.snapshot;
  const data = snapshot?.data ?? new Uint8Array(0);
  const header: raft_serverpb.RaftMessage = {
    ...msg,
    message: msg.message
      ? { ...msg.message, snapshot: snapshot ? { ...snapshot, data: new Uint8Array(0) } : null }
      : null,
  };
  let offset = 0;
  do {
    const end = Math.min(data.length, offset + chunk_bytes);
    yield { message: offset === 0 ? header : null, data: data.subarray(offset, end) };
    offset = end;
  } while (offset < data.length);
}

/** Reassembles the chunks of one snapshot, bounded by `max_bytes`. */
export class SnapshotAssembler {
  #header: raft_serverpb.RaftMessage | null = null;
  #parts: Uint8Array[] = [];
  #size_bytes = 0;

  constructor(readonly max_bytes: number) {}

  /** Adds a chunk; returns an error text when the stream is malformed or too big. */
  add(chunk: raft_serverpb.SnapshotChunk): string | null {
    if (chunk.message) {
      if (this.#header !== null) return "snapshot stream carries two messages";
      this.#header = toPlain<raft_serverpb.RaftMessage>("raft_serverpb.RaftMessage", chunk.message);
    } else if (this.#header === null) {
      return "snapshot stream must start with the message";
    }
    const data = chunk.data ?? new Uint8Array(0);
    this.#size_bytes += data.length;
    if (this.#size_bytes > this.max_bytes) {
      return `snapshot larger than ${this.max_bytes} bytes`;
    }
    // A view into the received frame; `finish` copies every part into one buffer.
    if (data.length > 0) this.#parts.push(data);
    return null;
  }

  /** The message with its snapshot data restored, or an error text. */
  finish(): raft_serverpb.RaftMessage | string {
    const header = this.#header;
    if (header === null) return "empty snapshot stream";
    const snapshot = header.message?.snapshot;
    if (!snapshot) return "snapshot message carries no snapshot";
    const data = new Uint8Array(this.#size_bytes);
    let offset = 0;
    for (const part of this.#parts) {
      data.set(part, offset);
      offset += part.length;
    }
    this.#parts = [];
    snapshot.data = data;
    return header;
  }
}
