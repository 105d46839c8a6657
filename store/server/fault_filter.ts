/**
 * Test-only fault injection for the Raft transport: drop every message to or
 * from some stores (a partition is "drop" set on both sides) and delay
 * messages to some stores. Off (empty) unless a test sets rules through the
 * test control endpoint (`--test-control-port`).
 * @module
 */

/** Rules as tests send them; a missing field leaves that rule unchanged. */
export interface FaultRules {
  /** Store ids whose messages are dropped, both directions. */
  drop_stores?: number[];
  /** Store ids messages *to* which are dropped (one way: theirs still arrive). */
  drop_to_stores?: number[];
  /** Store id → delay in ms added to every message sent to it. */
  delay_ms?: Record<string, number>;
}

/** Largest delay a rule may set; keeps timers bounded. */
export const MAX_FAULT_DELAY_MS = 10_000;

/** The current fault rules of one store's transport. */
export class FaultFilter {
  #drop = new Set<number>();
  #drop_to = new Set<number>();
  #delay_ms = new Map<number, number>();
  /** Called after every change of the rules. */
  on_change: () => void = () => {};

  /** Replaces the rules given; `{}` keeps everything, `clear()` removes all. */
  set(rules: FaultRules): void {
    if (rules.drop_stores !== undefined) {
      for (const id of rules.drop_stores) {
        if (!Number.isInteger(id)) throw new Error(`bad store id ${id}`);
      }
      this.#drop = new Set(rules.drop_stores);
    }
    if (rules.drop_to_stores !== undefined) {
      for (const id of rules.drop_to_stores) {
        if (!Number.isInteger(id)) throw new Error(`bad store id ${id}`);
      }
      this.#drop_to = new Set(rules.drop_to_stores);
    }
    if (rules.delay_ms !== undefined) {
      const delays = new Map<number, number>();
      for (const [id, ms] of Object.entries(rules.delay_ms)) {
        if (!Number.isInteger(ms) || ms < 0 || ms > MAX_FAULT_DELAY_MS) {
          throw new Error(`delay for store ${id} must be 0..${MAX_FAULT_DELAY_MS} ms`);
        }
        if (ms > 0) delays.set(Number(id), ms);
      }
      this.#delay_ms = delays;
    }
    this.on_change();
  }

  /** Removes every rule. */
  clear(): void {
    this.#drop.clear();
    this.#drop_to.clear();
    this.#delay_ms.clear();
    this.on_change();
  }

  /** True when any rule is in force. */
  get active(): boolean {
    return this.#drop.size > 0 || this.#drop_to.size > 0 || this.#delay_ms.size > 0;
  }

  /** True when messages to or from `store_id` must be dropped. */
  drops(store_id: number | undefined): boolean {
    return store_id !== undefined && this.#drop.has(store_id);
  }

  /** True when messages sent to `store_id` must be dropped (both-way or one-way rule). */
  dropsTo(store_id: number | undefined): boolean {
    return store_id !== undefined && (this.#drop.has(store_id) || this.#drop_to.has(store_id));
  }

  /** Extra delay for messages to `store_id`, ms (0 = none). */
  delayOf(store_id: number | undefined): number {
    return store_id === undefined ? 0 : this.#delay_ms.get(store_id) ?? 0;
  }

  /** The rules in force, for the control endpoint. */
  rules(): Required<FaultRules> {
    return {
      drop_stores: [...this.#drop],
      drop_to_stores: [...this.#drop_to],
      delay_ms: Object.fromEntries([...this.#delay_ms].map(([k, v]) => [String(k), v])),
    };
  }
}
