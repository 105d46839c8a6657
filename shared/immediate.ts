/**
 * A macrotask scheduler without setTimeout's clamp. Chained `setTimeout(f, 0)`
 * calls are clamped to 4 ms after a few nesting levels (measured here: 2.4 ms
 * per hop on average). Every hop of a Raft round trip — worker loop, transport
 * flush, client flush — would pay it, so loops that must run "as soon as the
 * current work is done" use this.
 *
 * It runs on `setImmediate`: once per event-loop turn, after the current task,
 * its microtasks and the I/O and messages that turn received. It used a
 * MessageChannel self-post before, which also waited for messages posted but
 * not yet received; but that hop took 73 µs on an idle thread (p50; p90 113
 * µs) against 20 µs for setImmediate (14 µs in a worker), a SET crosses four
 * such hops, and each cost a message event's CPU. Measured on the local
 * cluster against the MessageChannel version (alternating pairs, #8): SET c=50
 * +43/+5/+23/+26/-1/-8/-2% per second (median +5%), GET c=50
 * +84/+24/-8/+20/+11/-3% (median +15%), SET c=1 +20/+30/-14%.
 * @module
 */
import { clearImmediate, setImmediate } from "node:timers";

/** Runs `fn` once on a later macrotask per `schedule()` burst; `close()` cancels a pending run. */
export class Immediate {
  readonly #fn: () => void;
  #handle: ReturnType<typeof setImmediate> | null = null;
  #closed = false;

  constructor(fn: () => void) {
    this.#fn = fn;
  }

  /** Asks for one run; calls while a run is pending are folded into it. */
  schedule(): void {
    if (this.#handle !== null || this.#closed) return;
    this.#handle = setImmediate(this.#fire);
  }

  readonly #fire = (): void => {
    this.#handle = null;
    if (!this.#closed) this.#fn();
  };

  get pending(): boolean {
    return this.#handle !== null;
  }

  /** Stops future runs and cancels a pending one. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#handle !== null) clearImmediate(this.#handle);
    this.#handle = null;
  }
}
