/**
 * Per-key in-process latches: commands of this db process that write the same
 * user keys queue here instead of racing each other into precondition
 * failures. Keys are acquired in sorted order, so multi-key holders cannot
 * deadlock.
 * @module
 */
import type { QueuedWrite } from "./txn.ts";

/** A set of async mutexes keyed by string. */
export class Latches {
  private tails = new Map<string, Promise<void>>();
  /**
   * Single-key write commands waiting for their key's group commit (see
   * `runWrite` in txn.ts), by latin1 user key; present while the key drains.
   */
  readonly write_queues: Map<string, QueuedWrite[]> = new Map();

  /** Number of keys currently latched or awaited (for tests). */
  get size(): number {
    return this.tails.size;
  }

  /** Waits for every key in `keys`; returns the release function (call once). */
  async acquire(keys: string[]): Promise<() => void> {
    const sorted = [...new Set(keys)].sort();
    const releases: Array<() => void> = [];
    for (const k of sorted) releases.push(await this.acquireOne(k));
    let released = false;
    return () => {
      if (released) throw new Error("latch released twice");
      released = true;
      for (const r of releases.reverse()) r();
    };
  }

  /**
   * The latch of `k` at once when nobody holds or awaits it, else null (use
   * `acquire`). A lone writer of a key, the common case, then skips
   * acquire's promises and awaits.
   */
  tryAcquireOne(k: string): (() => void) | null {
    if (this.tails.has(k)) return null;
    let release!: () => void;
    const tail = new Promise<void>((r) => (release = r));
    this.tails.set(k, tail);
    let released = false;
    return () => {
      if (released) throw new Error("latch released twice");
      released = true;
      release();
      if (this.tails.get(k) === tail) this.tails.delete(k);
    };
  }

  private async acquireOne(k: string): Promise<() => void> {
    const prev = this.tails.get(k) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(k, tail);
    await prev;
    return () => {
      release();
      if (this.tails.get(k) === tail) this.tails.delete(k);
    };
  }
}
