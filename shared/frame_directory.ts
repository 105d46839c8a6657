/**
 * Store id → frame address (metapb.Store.frame_address), for the senders of
 * the hot streams. `get` answers from what it knows and, on a miss, asks in
 * the background; until an answer arrives the caller uses gRPC. After a frame
 * connection fails, `forget` drops the address: the store may have restarted
 * on another port. Lookups of one store are at most one per `retry_ms`.
 * @module
 */

/** Where addresses come from (meta's GetStore); "" means the store has none. */
export type FrameAddrLookup = (store_id: number) => Promise<string>;

/** Frame addresses by store id. */
export class FrameDirectory {
  readonly #known = new Map<number, string>();
  readonly #asked_at_ms = new Map<number, number>();
  readonly #lookup: FrameAddrLookup;
  readonly #retry_ms: number;
  #closed = false;

  constructor(lookup: FrameAddrLookup, retry_ms = 1000) {
    this.#lookup = lookup;
    this.#retry_ms = retry_ms;
  }

  /** The store's frame address, or null (unknown yet, or none): use gRPC. */
  get(store_id: number): string | null {
    const addr = this.#known.get(store_id);
    if (addr !== undefined) return addr === "" ? null : addr;
    this.#ask(store_id);
    return null;
  }

  /** Forgets a store's address (its frame connection failed). */
  forget(store_id: number): void {
    this.#known.delete(store_id);
  }

  /** Stops answering lookups still in flight. */
  close(): void {
    this.#closed = true;
  }

  #ask(store_id: number): void {
    const now = Date.now();
    if (now - (this.#asked_at_ms.get(store_id) ?? -Infinity) < this.#retry_ms) return;
    this.#asked_at_ms.set(store_id, now);
    this.#lookup(store_id).then(
      (addr) => {
        if (!this.#closed) this.#known.set(store_id, addr);
      },
      () => {}, // asked again after retry_ms
    );
  }
}
