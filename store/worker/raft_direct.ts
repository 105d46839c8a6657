/**
 * Raft messages between region workers without the stores' main threads.
 *
 * Every worker stamps its messages with its own frame address
 * (`RaftMessage.from_worker_addr`); a worker that received one from peer P
 * sends P's later messages straight to that address as `RaftBatch` frames.
 * The store's transport keeps everything else: peers not heard from yet,
 * snapshots (the Snapshot RPC), and every message while the store has fault
 * rules (tests), so the rules see all traffic. A direct connection that
 * breaks forgets its peers' addresses: their messages go through the store
 * until they are heard from again, and Raft resends what was lost.
 * @module
 */
import { FrameConn, FrameKind } from "@eraft/shared/frame";
import { chunksBySize } from "@eraft/shared/chunks";
import { type EncodedRaftMessage, encodeRaftBatch } from "../raft_wire.ts";

/** Bytes queued on one direct connection before a send is refused (and goes through the store). */
const MAX_QUEUED_BYTES = 64 * 1024 * 1024;
/** Largest RaftBatch frame sent (the frame limit is 64 MiB). */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;

/** The direct sender of one worker. */
export class RaftDirect {
  readonly #conns = new Map<string, FrameConn>();
  /** Fault rules in force on this store: everything goes through it. */
  faults_active = false;
  #closed = false;

  /**
   * `peer_addrs`: remote peer id → its worker's frame address (RegionWorker's);
   * `counts.direct_raft_messages` counts the messages sent directly.
   */
  constructor(
    readonly peer_addrs: Map<number, string>,
    readonly counts: { direct_raft_messages: number },
  ) {}

  /** Sends what it can directly; returns the messages the store must send. */
  send(msgs: EncodedRaftMessage[]): EncodedRaftMessage[] {
    if (this.faults_active || this.#closed) return msgs;
    const rest: EncodedRaftMessage[] = [];
    const by_addr = new Map<string, EncodedRaftMessage[]>();
    for (const m of msgs) {
      const addr = m.snapshot ? undefined : this.peer_addrs.get(m.to_peer_id);
      if (addr === undefined) {
        rest.push(m);
        continue;
      }
      const list = by_addr.get(addr);
      if (list === undefined) by_addr.set(addr, [m]);
      else list.push(m);
    }
    for (const [addr, list] of by_addr) {
      for (const chunk of chunksBySize(list, (m) => m.bytes.length + 8, MAX_BATCH_BYTES)) {
        if (!this.#sendChunk(addr, chunk)) rest.push(...chunk);
      }
    }
    return rest;
  }

  /** One frame of messages to `addr`; false when it must go through the store. */
  #sendChunk(addr: string, chunk: EncodedRaftMessage[]): boolean {
    // Chunks stay under the frame limit unless one message alone is over it.
    if (chunk.length === 1 && chunk[0].bytes.length + 8 > MAX_BATCH_BYTES) return false;
    const body = encodeRaftBatch(chunk.map((m) => m.bytes));
    if (!this.#conn(addr).send(FrameKind.RaftBatch, body)) {
      this.#forget(addr);
      return false;
    }
    this.counts.direct_raft_messages += chunk.length;
    return true;
  }

  /** Starts the writes of everything queued now (the worker is about to block in fsync). */
  flushNow(): void {
    for (const conn of this.#conns.values()) conn.flushNow();
  }

  /** Closes every direct connection. */
  close(): void {
    this.#closed = true;
    for (const conn of this.#conns.values()) conn.close();
    this.#conns.clear();
  }

  #conn(addr: string): FrameConn {
    let conn = this.#conns.get(addr);
    if (conn === undefined) {
      conn = FrameConn.dial(addr, {
        on_frame: () => {}, // a worker answers nothing on Raft connections
        on_close: (reason) => {
          if (reason !== null && this.#conns.get(addr) === conn) this.#forget(addr);
        },
        max_queued_bytes: MAX_QUEUED_BYTES,
      });
      this.#conns.set(addr, conn);
    }
    return conn;
  }

  /** The worker at `addr` is gone or stuck: its peers go through their stores again. */
  #forget(addr: string): void {
    for (const [peer_id, a] of this.peer_addrs) if (a === addr) this.peer_addrs.delete(peer_id);
    const conn = this.#conns.get(addr);
    this.#conns.delete(addr);
    conn?.close();
  }
}
