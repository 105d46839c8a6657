/**
 * ReadIndex bookkeeping (after etcd-io/raft's `readOnly`): read requests wait
 * until a quorum acknowledges a heartbeat carrying their context, which proves
 * the leader was still leader when the read index was taken.
 * @module
 */
import type { Message } from "@eraft/proto/gen/eraftpb.ts";
import { assert } from "./assert.ts";
import { bytesKey } from "./util.ts";

/** How ReadIndex requests are served. */
export const ReadOnlyOption = {
  /** Confirm leadership with a heartbeat round to a quorum (linearizable). */
  Safe: 0,
  /**
   * Serve from the leader's lease (needs check_quorum). Faster, but relies on
   * bounded clock drift: a leader whose clock runs slow can serve a stale read
   * after a new leader was elected elsewhere. Off by default.
   */
  LeaseBased: 1,
} as const;
/** See {@link ReadOnlyOption}. */
export type ReadOnlyOption = typeof ReadOnlyOption[keyof typeof ReadOnlyOption];

/** Upper bound on queued read requests (TIGER_STYLE: bound everything). */
export const MAX_PENDING_READS = 4096;

/** A read request waiting for its heartbeat quorum. */
export interface ReadIndexStatus {
  req: Message;
  index: number;
  acks: Set<number>;
}

/** The queue of pending ReadIndex requests, in arrival order. */
export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  constructor(readonly option: ReadOnlyOption) {}

  /** Number of requests waiting. */
  get size(): number {
    return this.queue.length;
  }

  /** Queues a request taken at commit index `index`. Returns false if full. */
  addRequest(index: number, req: Message): boolean {
    const key = bytesKey(req.context);
    if (this.pending.has(key)) return true;
    if (this.queue.length >= MAX_PENDING_READS) return false;
    this.pending.set(key, { req, index, acks: new Set() });
    this.queue.push(key);
    return true;
  }

  /** Records a heartbeat ack for `context`; returns its ack set (null if unknown). */
  recvAck(id: number, context: Uint8Array): Set<number> | null {
    const rs = this.pending.get(bytesKey(context));
    if (rs === undefined) return null;
    rs.acks.add(id);
    return rs.acks;
  }

  /**
   * Dequeues the request with `context` and every one queued before it (a
   * quorum for a later heartbeat confirms the earlier ones too).
   */
  advance(context: Uint8Array): ReadIndexStatus[] {
    const key = bytesKey(context);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    const out: ReadIndexStatus[] = [];
    for (const k of done) {
      const rs = this.pending.get(k);
      assert(rs !== undefined, "read-only queue and map disagree");
      this.pending.delete(k);
      out.push(rs);
    }
    return out;
  }

  /** Context of the newest pending request, or null. */
  lastPendingRequestCtx(): Uint8Array | null {
    if (this.queue.length === 0) return null;
    const rs = this.pending.get(this.queue[this.queue.length - 1]);
    assert(rs !== undefined, "read-only queue and map disagree");
    return rs.req.context;
  }
}
