/**
 * The simulator's virtual network: every message becomes a packet delivered
 * after a seeded random delay (so messages reorder), or dropped, or
 * duplicated; a partition drops packets between groups at delivery time.
 * @module
 */
import type { Message } from "@eraft/proto/gen/eraftpb.ts";
import { assert } from "../assert.ts";
import type { Prng } from "../prng.ts";

/** Fault rates of the network. */
export interface NetworkFaults {
  /** Probability a packet is lost. */
  drop_probability: number;
  /** Probability a packet is delivered twice. */
  duplicate_probability: number;
  /** Delays are uniform in [1, max_delay_steps]. */
  max_delay_steps: number;
}

/** A message in flight. */
export interface Packet {
  deliver_at_step: number;
  seq: number;
  msg: Message;
  /** The node that put it on the wire (forwarded messages keep their original `from`). */
  sender: number;
  /** Incarnation of the sender when sent (snapshot status goes back to it). */
  from_incarnation: number;
}

/** Upper bound on packets in flight (TIGER_STYLE: bound every queue). */
export const MAX_PACKETS_IN_FLIGHT = 100_000;

/** Seeded lossy, reordering, duplicating network with partitions. */
export class SimNetwork {
  private queue: Packet[] = [];
  private seq = 0;
  /** Node id -> partition group; nodes in different groups cannot talk. */
  private groups = new Map<number, number>();
  faults: NetworkFaults;
  /** Packets dropped because of loss, partition or a down receiver. */
  dropped_count = 0;
  delivered_count = 0;

  constructor(private readonly rng: Prng, faults: NetworkFaults) {
    this.faults = { ...faults };
  }

  /** Number of packets in flight. */
  get size(): number {
    return this.queue.length;
  }

  /** Sends `msg` at `now_step`; returns the number of copies queued (0 if lost). */
  send(msg: Message, sender: number, now_step: number, from_incarnation: number): number {
    if (this.rng.chance(this.faults.drop_probability)) {
      this.dropped_count++;
      return 0;
    }
    const copies = this.rng.chance(this.faults.duplicate_probability) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = 1 + this.rng.intBelow(this.faults.max_delay_steps);
      this.insert({
        deliver_at_step: now_step + delay,
        seq: this.seq++,
        msg,
        sender,
        from_incarnation,
      });
    }
    return copies;
  }

  private insert(p: Packet): void {
    assert(this.queue.length < MAX_PACKETS_IN_FLIGHT, "too many packets in flight");
    // Binary search on (deliver_at_step, seq): the queue stays sorted.
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const q = this.queue[mid];
      if (
        q.deliver_at_step < p.deliver_at_step ||
        (q.deliver_at_step === p.deliver_at_step && q.seq < p.seq)
      ) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    this.queue.splice(lo, 0, p);
  }

  /** Removes and returns packets due at or before `now_step`, in order. */
  due(now_step: number): Packet[] {
    let n = 0;
    while (n < this.queue.length && this.queue[n].deliver_at_step <= now_step) n++;
    return n === 0 ? [] : this.queue.splice(0, n);
  }

  /** True if the partition lets `from` reach `to`. */
  connected(from: number, to: number): boolean {
    return (this.groups.get(from) ?? 0) === (this.groups.get(to) ?? 0);
  }

  /** Splits the nodes: those in `minority` go to group 1. */
  partition(minority: number[]): void {
    this.groups.clear();
    for (const id of minority) this.groups.set(id, 1);
  }

  /** Heals every partition. */
  heal(): void {
    this.groups.clear();
  }

  /** True if a partition is in force. */
  isPartitioned(): boolean {
    return this.groups.size > 0;
  }
}
