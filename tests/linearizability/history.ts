/**
 * Histories of client operations as a nemesis run records them: each
 * operation has a call time and, if the client heard back, a return time and
 * an output. An operation whose outcome is unknown (timeout, connection lost)
 * has `return_ms = Infinity`: it may have taken effect at any point after its
 * call, or never — exactly what a linearizability checker must allow.
 * @module
 */

/** One client operation on one key. */
export interface Operation<I = unknown, O = unknown> {
  /** Client (connection) that issued it; one client has one operation in flight. */
  client: number;
  key: string;
  input: I;
  /** Undefined when the outcome is unknown. */
  output?: O;
  call_ms: number;
  /** Infinity when the outcome is unknown. */
  return_ms: number;
}

/** Records invoke/complete events with a monotonic clock. */
export class HistoryRecorder<I, O> {
  readonly ops: Operation<I, O>[] = [];
  readonly #start = performance.now();

  /** Marks an operation as invoked; returns a handle to complete it. */
  invoke(
    client: number,
    key: string,
    input: I,
  ): { ok(output: O): void; unknown(): void; fail(): void } {
    const op: Operation<I, O> = { client, key, input, call_ms: this.#now(), return_ms: Infinity };
    this.ops.push(op);
    return {
      ok: (output: O) => {
        op.output = output;
        op.return_ms = this.#now();
      },
      // Timed out or lost: it may or may not have happened.
      unknown: () => {},
      // Definitely did not happen (e.g. an error the server returns before acting).
      fail: () => {
        this.ops.splice(this.ops.indexOf(op), 1);
      },
    };
  }

  #now(): number {
    return performance.now() - this.#start;
  }
}

/** Splits a history by key (linearizability is compositional: P-compositionality). */
export function partitionByKey<I, O>(
  ops: readonly Operation<I, O>[],
): Map<string, Operation<I, O>[]> {
  const out = new Map<string, Operation<I, O>[]>();
  for (const op of ops) {
    if (!out.has(op.key)) out.set(op.key, []);
    out.get(op.key)!.push(op);
  }
  return out;
}
