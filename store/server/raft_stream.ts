/**
 * One outgoing Raft link: a long-lived `RaftTransport.Raft` client stream to
 * one store address, fed from a bounded queue and flushed as one
 * `RaftMessageBatch` per event-loop turn (TiKV's BatchRaft).
 *
 * Bounded: at most `max_queue_msgs` messages wait; beyond that the oldest are
 * dropped and reported unreachable (Raft retransmits, and the leader slows
 * down to probing). When the stream breaks, queued messages are reported
 * unreachable and the link reconnects after a backoff (doubling up to
 * `reconnect_ms_max`); messages arriving during the backoff are dropped and
 * reported the same way, so a dead store never costs unbounded memory.
 *
 * When the destination's frame address is known (`frame_addr`), the link is a
 * frame connection (shared/frame.ts) instead of the gRPC stream: the same
 * batches without HTTP/2. A broken frame link reports `frame_failed`, so the
 * address is looked up again.
 * @module
 */
import assert from "node:assert/strict";
import type * as grpc from "@grpc/grpc-js";
import type * as raft_serverpb from "@eraft/proto/gen/raft_serverpb.ts";
import { ServiceClient } from "@eraft/shared/grpc";
import { FrameConn, FrameKind } from "@eraft/shared/frame";
import { chunksBySize } from "@eraft/shared/chunks";
import { decodeRaftMessage, type EncodedRaftMessage, encodeRaftBatch } from "../raft_wire.ts";

/** Settings of one link. */
export interface RaftStreamOptions {
  addr: string;
  /** Messages waiting to be written before the oldest are dropped. */
  max_queue_msgs: number;
  /** Messages per RaftMessageBatch frame. */
  max_batch_msgs: number;
  reconnect_ms_min: number;
  reconnect_ms_max: number;
  /** Called for every message that was dropped (unique per flush). */
  on_unreachable: (region_id: number, to_peer_id: number) => void;
  /** The destination's frame address, or null: use the gRPC stream. */
  frame_addr?: () => string | null;
  /** A frame link broke (the address may be stale). */
  frame_failed?: () => void;
}

/** The connection carrying the batches: a gRPC client stream or a frame connection. */
type Link = { grpc: grpc.ClientWritableStream<object> } | { frames: FrameConn };

/** Estimated bytes of one batch at most. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;

/** Encoded size of a message in a batch (its bytes plus tag and length). */
function messageBytes(m: EncodedRaftMessage): number {
  return m.bytes.length + 8;
}

/** A stream that lived this long was healthy: the next reconnect is immediate-ish. */
const HEALTHY_STREAM_MS = 5_000;

/** The outgoing stream to one store. */
export class RaftStream {
  readonly #opts: RaftStreamOptions;
  readonly #client: ServiceClient;
  #queue: EncodedRaftMessage[] = [];
  #link: Link | null = null;
  #stream_started_ms = 0;
  #draining = false;
  /** A flush is queued for the end of the current task (batches what that task sent). */
  #flush_queued = false;
  #retry_at_ms = 0;
  #backoff_ms: number;
  #closed = false;
  /** Messages dropped since start (queue full, link down). */
  dropped = 0;

  constructor(opts: RaftStreamOptions) {
    assert.ok(opts.max_queue_msgs >= 1 && opts.max_batch_msgs >= 1);
    this.#opts = opts;
    this.#client = new ServiceClient("storepb.RaftTransport", opts.addr);
    this.#backoff_ms = opts.reconnect_ms_min;
  }

  /** Number of messages waiting. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Queues messages; they leave on the next event-loop turn. */
  send(msgs: EncodedRaftMessage[]): void {
    if (this.#closed) return;
    if (this.#link === null && Date.now() < this.#retry_at_ms) {
      this.#drop(msgs); // link down and backing off
      return;
    }
    for (const m of msgs) this.#queue.push(m);
    const over = this.#queue.length - this.#opts.max_queue_msgs;
    if (over > 0) this.#drop(this.#queue.splice(0, over));
    this.#scheduleFlush();
  }

  /** Closes the stream and the channel; queued messages are dropped silently. */
  close(): void {
    this.#closed = true;
    this.#queue = [];
    const link = this.#link;
    this.#link = null;
    if (link && "grpc" in link) link.grpc.cancel();
    if (link && "frames" in link) link.frames.close();
    this.#client.close();
  }

  #scheduleFlush(): void {
    if (this.#draining || this.#flush_queued) return;
    this.#flush_queued = true;
    queueMicrotask(() => {
      this.#flush_queued = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#closed || this.#queue.length === 0) return;
    const link = this.#upgrade(this.#link) ?? this.#connect();
    // Batches stay far below the 64 MiB message and frame limits.
    const batches = chunksBySize(
      this.#queue.splice(0),
      messageBytes,
      MAX_BATCH_BYTES,
      this.#opts.max_batch_msgs,
    );
    if ("frames" in link) return this.#flushFrames(link.frames, batches);
    const stream = link.grpc;
    for (const [n, msgs] of batches.entries()) {
      // grpc-js encodes message objects itself: decode ours back (this link only
      // carries the first messages, until the frame address is known).
      const batch: raft_serverpb.RaftMessageBatch = {
        msgs: msgs.map((m) => decodeRaftMessage(m.bytes)),
      };
      const ok = stream.write(batch);
      if (!ok) {
        // Backpressure: wait for the stream before writing more; the queue stays bounded.
        this.#queue = [...batches.slice(n + 1).flat(), ...this.#queue];
        this.#draining = true;
        stream.once("drain", () => {
          this.#draining = false;
          if (this.#link === link) this.#scheduleFlush();
        });
        return;
      }
    }
  }

  /** Frames never block the caller; a connection too far behind drops what it cannot take. */
  #flushFrames(fc: FrameConn, batches: EncodedRaftMessage[][]): void {
    for (const msgs of batches) {
      const body = encodeRaftBatch(msgs.map((m) => m.bytes));
      if (!fc.send(FrameKind.RaftBatch, body)) this.#drop(msgs);
    }
  }

  /** A gRPC link ends once the frame address is known (the next connect uses frames). */
  #upgrade(link: Link | null): Link | null {
    if (link === null || "frames" in link || (this.#opts.frame_addr?.() ?? null) === null) {
      return link;
    }
    this.#link = null;
    link.grpc.end();
    return null;
  }

  #connect(): Link {
    this.#stream_started_ms = Date.now();
    const frame_addr = this.#opts.frame_addr?.() ?? null;
    if (frame_addr !== null) {
      const link: Link = {
        frames: FrameConn.dial(frame_addr, {
          on_frame: () => {}, // the Raft direction has no answers
          on_close: (reason) => {
            if (reason !== null) this.#opts.frame_failed?.();
            this.#onBroken(link);
          },
        }),
      };
      this.#link = link;
      return link;
    }
    const { stream, done } = this.#client.clientStream<raft_serverpb.Done>("Raft");
    const link: Link = { grpc: stream };
    this.#link = link;
    stream.on("error", () => {}); // reported through `done`
    done.then(
      () => this.#onBroken(link),
      () => this.#onBroken(link),
    );
    return link;
  }

  #onBroken(link: Link): void {
    if (this.#link !== link || this.#closed) return;
    this.#link = null;
    this.#draining = false;
    const lived_ms = Date.now() - this.#stream_started_ms;
    if (lived_ms > HEALTHY_STREAM_MS) this.#backoff_ms = this.#opts.reconnect_ms_min;
    this.#retry_at_ms = Date.now() + this.#backoff_ms;
    this.#backoff_ms = Math.min(this.#opts.reconnect_ms_max, this.#backoff_ms * 2);
    this.#drop(this.#queue.splice(0));
  }

  #drop(msgs: EncodedRaftMessage[]): void {
    this.dropped += msgs.length;
    const seen = new Set<string>();
    for (const m of msgs) {
      const to = m.to_peer_id;
      const key = `${m.region_id}/${to}`;
      if (seen.has(key)) continue;
      seen.add(key);
      this.#opts.on_unreachable(m.region_id, to);
    }
  }
}
