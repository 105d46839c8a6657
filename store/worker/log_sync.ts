/**
 * Group commit of the Raft log, off the worker's thread where that pays. The
 * loop writes a Ready's entries and moves on; one fdatasync at a time runs
 * (in the background, or inline when the host says so) and covers every
 * write made before it began. Messages that
 * answer for the log or the vote (a follower's acks, a candidate's votes)
 * wait here until the writes before them are durable, and leave in the order
 * they were given. Raft itself learns what is durable through `durable()`
 * (RawNode.persisted with `async_storage_writes`), so a leader counts its own
 * log toward a commit, and any replica applies an entry, only once durable.
 *
 * Why: with the fsync inline, the loop stood still for each one (~1 ms here),
 * and a request or an ack arriving meanwhile waited for it and then for a
 * whole iteration; now the next iteration writes and replicates while the
 * disk works (Raft thesis §10.2.1).
 * @module
 */
import assert from "node:assert/strict";

/** What a LogSync needs from its worker. */
export interface LogSyncHost<Mark, Msg> {
  /** Captures what the sync about to start covers (each region's last written entry). */
  mark(): Mark;
  /**
   * One fdatasync of the log covering `mark`: resolves once durable, or null
   * when done before returning.
   */
  sync(mark: Mark): Promise<void> | null;
  /** The sync that began at `mark` completed; `released` may leave now, in order. */
  durable(mark: Mark, released: Msg[]): void;
}

/** Held message batches at most; past it the loop's input has outrun the disk for good. */
const MAX_HELD_BATCHES = 1_000_000;

/** See the module comment. */
export class LogSync<Mark, Msg> {
  /** Syncs begun and completed, numbered from 1. */
  #started = 0;
  #done = 0;
  /** The sync that covers the latest write: the next one to begin. */
  #covering = 0;
  #in_flight: Promise<void> | null = null;
  #held: Array<[need: number, msgs: Msg[]]> = [];
  #stopped = false;

  constructor(readonly host: LogSyncHost<Mark, Msg>) {}

  /** Records a write that must become durable: the next sync to begin covers it. */
  wrote(): void {
    this.#covering = this.#started + 1;
  }

  /** Begins a sync of the writes so far, now or as soon as the one in flight ends. */
  request(): void {
    if (this.#in_flight !== null || this.#covering <= this.#started || this.#stopped) return;
    const n = ++this.#started;
    const mark = this.host.mark();
    const synced = this.host.sync(mark);
    if (synced === null) return this.#completed(n, mark);
    // A failed fdatasync rejects unhandled: the worker dies and restarts from
    // disk, as when the inline sync threw (the page cache state is unknown).
    this.#in_flight = synced.then(() => this.#completed(n, mark));
  }

  /** Sends `msgs` through `send` now if every write so far is durable, else holds them. */
  send(msgs: Msg[], send: (msgs: Msg[]) => void): void {
    if (msgs.length === 0) return;
    if (this.#done >= this.#covering) {
      assert.equal(this.#held.length, 0, "a held batch outlived the sync it waited for");
      send(msgs);
      return;
    }
    assert(this.#held.length < MAX_HELD_BATCHES, "held messages past their bound");
    this.#held.push([this.#covering, msgs]);
  }

  /** No more syncs or releases; resolves once the one in flight (if any) has ended. */
  stop(): Promise<void> {
    this.#stopped = true;
    this.#held = [];
    return this.#in_flight ?? Promise.resolve();
  }

  #completed(n: number, mark: Mark): void {
    assert.equal(n, this.#done + 1, "syncs complete in the order they began");
    this.#in_flight = null;
    this.#done = n;
    if (this.#stopped) return;
    const released: Msg[] = [];
    while (this.#held.length > 0 && this.#held[0][0] <= n) {
      for (const m of this.#held.shift()![1]) released.push(m);
    }
    this.host.durable(mark, released);
    // Writes made during this sync; after `durable`, so that an inline sync's
    // releases cannot overtake these.
    this.request();
  }
}
