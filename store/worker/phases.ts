/**
 * Where a region worker's thread spends its CPU, by loop phase, when the store
 * runs with `--phase-cpu` (`eraft_worker_phase_cpu_seconds_total{phase}`,
 * `deno task profile --phases`). Time is exclusive: a phase entered inside
 * another is not counted in the outer one. `other` is the thread's CPU outside
 * every phase: event dispatch, structured clone of incoming messages (done
 * before the handler runs), GC between tasks.
 *
 * Off by default: each enter/exit reads the thread clock (~0.8 µs).
 * @module
 */
import { type ThreadCpuClock, threadCpuClock } from "@eraft/shared/thread_cpu";

/** The phases of the worker loop (see worker.ts and worker_main.ts). */
export const PHASES = [
  /** Handling messages from the main thread: decode Raft batches, step, take requests. */
  "messages",
  /** Collecting Readies, reads, advancing: the loop's own bookkeeping. */
  "loop",
  /** Appending entries and hard state to the Raft log (no fsync). */
  "raft_write",
  /** Applying committed entries to the KV engine and answering proposals. */
  "apply",
  /**
   * fdatasync of the Raft log done on the worker's thread (system time): a
   * sync with no leader's entries in it; a leader's runs on a runtime thread.
   */
  "fsync",
  /** Encoding outgoing Raft messages. */
  "send",
  /** postMessage to the main thread. */
  "post",
  /** Raft ticks, log GC and size checks. */
  "ticks",
] as const;

/** One of {@link PHASES}. */
export type Phase = typeof PHASES[number];

/** Phase accounting as the worker uses it; {@link NO_PHASES} when off. */
export interface PhaseTimer {
  enter(phase: Phase): void;
  /** Leaves the innermost phase entered. */
  exit(): void;
  /** CPU µs per phase since the start, plus `other`; empty when off. */
  snapshot(): Record<string, number>;
  close(): void;
}

/** Accounting off: every call does nothing. */
export const NO_PHASES: PhaseTimer = {
  enter() {},
  exit() {},
  snapshot: () => ({}),
  close() {},
};

/** Bound on nesting: the loop nests at most three deep. */
const MAX_DEPTH = 8;

/** Exclusive thread CPU per phase, read from a thread CPU clock. */
export class PhaseCpu implements PhaseTimer {
  readonly #clock: ThreadCpuClock;
  readonly #start_us: number;
  readonly #totals_us = new Map<Phase, number>(PHASES.map((p) => [p, 0]));
  readonly #stack: Phase[] = [];
  #since_us = 0;

  constructor(clock: ThreadCpuClock) {
    this.#clock = clock;
    this.#start_us = clock.now_us();
  }

  /** Accounting on this thread's CPU clock, or {@link NO_PHASES} where there is none. */
  static start(): PhaseTimer {
    const clock = threadCpuClock();
    return clock === null ? NO_PHASES : new PhaseCpu(clock);
  }

  enter(phase: Phase): void {
    const now_us = this.#clock.now_us();
    const outer = this.#stack.at(-1);
    if (outer !== undefined) this.#add(outer, now_us - this.#since_us);
    if (this.#stack.length >= MAX_DEPTH) throw new Error(`phases nested over ${MAX_DEPTH} deep`);
    this.#stack.push(phase);
    this.#since_us = now_us;
  }

  exit(): void {
    const now_us = this.#clock.now_us();
    const phase = this.#stack.pop();
    if (phase === undefined) throw new Error("phase exit without enter");
    this.#add(phase, now_us - this.#since_us);
    this.#since_us = now_us;
  }

  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    let inside_us = 0;
    for (const [phase, us] of this.#totals_us) {
      out[phase] = us;
      inside_us += us;
    }
    out.other = Math.max(0, this.#clock.now_us() - this.#start_us - inside_us);
    return out;
  }

  close(): void {
    this.#clock.close();
  }

  #add(phase: Phase, us: number): void {
    this.#totals_us.set(phase, this.#totals_us.get(phase)! + us);
  }
}
