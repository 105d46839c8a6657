/**
 * The flow-control window of one follower (after etcd-io/raft's
 * `tracker.Inflights`): the last index of each append in flight, bounded by a
 * message count and optionally by bytes.
 * @module
 */
import { assert } from "./assert.ts";

/** A bounded FIFO of in-flight appends. */
export class Inflights {
  private readonly indexes: number[];
  private readonly sizes_bytes: number[];
  private start = 0;
  /** Number of appends in flight. */
  count = 0;
  /** Summed bytes in flight. */
  bytes = 0;

  /** `max_inflight_msgs` >= 1; `max_inflight_bytes` 0 means unlimited. */
  constructor(readonly max_inflight_msgs: number, readonly max_inflight_bytes: number = 0) {
    assert(max_inflight_msgs >= 1, "max_inflight_msgs must be >= 1");
    assert(max_inflight_bytes >= 0, "max_inflight_bytes must be >= 0");
    this.indexes = new Array(max_inflight_msgs).fill(0);
    this.sizes_bytes = new Array(max_inflight_msgs).fill(0);
  }

  /** Records an append whose last entry is `index`. */
  add(index: number, size_bytes: number): void {
    assert(!this.full(), "cannot add into a full inflights window");
    if (this.count > 0) {
      const last = this.indexes[(this.start + this.count - 1) % this.max_inflight_msgs];
      assert(index > last, () => `inflight index ${index} not increasing (last ${last})`);
    }
    const slot = (this.start + this.count) % this.max_inflight_msgs;
    this.indexes[slot] = index;
    this.sizes_bytes[slot] = size_bytes;
    this.count++;
    this.bytes += size_bytes;
  }

  /** Frees every append whose last index is <= `to` (they were acknowledged). */
  freeLE(to: number): void {
    let freed = 0;
    while (this.count > 0 && freed < this.max_inflight_msgs) {
      if (this.indexes[this.start] > to) break;
      this.bytes -= this.sizes_bytes[this.start];
      this.start = (this.start + 1) % this.max_inflight_msgs;
      this.count--;
      freed++;
    }
    if (this.count === 0) this.start = 0;
    assert(this.bytes >= 0, "inflight bytes went negative");
  }

  /** Frees the oldest append (a heartbeat response shows the follower is alive). */
  freeFirstOne(): void {
    if (this.count === 0) return;
    this.freeLE(this.indexes[this.start]);
  }

  /** True when no more appends may be sent. */
  full(): boolean {
    return this.count === this.max_inflight_msgs ||
      (this.max_inflight_bytes > 0 && this.bytes >= this.max_inflight_bytes);
  }

  /** Forgets everything in flight. */
  reset(): void {
    this.count = 0;
    this.start = 0;
    this.bytes = 0;
  }
}
