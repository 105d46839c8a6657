/**
 * A least-recently-used cache bounded by bytes, so values and entries read from
 * disk never take more than a configured amount of memory.
 * @module
 */
import assert from "node:assert/strict";

/** LRU map whose total `size_of(value)` stays <= capacity_bytes. */
export class ByteLru<K, V> {
  #map = new Map<K, V>();
  #bytes = 0;

  constructor(readonly capacity_bytes: number, readonly size_of: (v: V) => number) {
    assert(capacity_bytes >= 0);
  }

  get bytes(): number {
    return this.#bytes;
  }

  get(k: K): V | undefined {
    const v = this.#map.get(k);
    if (v === undefined) return undefined;
    // Re-insert to move to the most-recent end (Map keeps insertion order).
    this.#map.delete(k);
    this.#map.set(k, v);
    return v;
  }

  set(k: K, v: V): void {
    const size = this.size_of(v);
    if (size > this.capacity_bytes) return;
    this.delete(k);
    this.#map.set(k, v);
    this.#bytes += size;
    for (const [old_k, old_v] of this.#map) {
      if (this.#bytes <= this.capacity_bytes) break;
      this.#map.delete(old_k);
      this.#bytes -= this.size_of(old_v);
    }
    if (this.#bytes > this.capacity_bytes) assert.fail("cache over capacity after eviction");
  }

  delete(k: K): void {
    const v = this.#map.get(k);
    if (v === undefined) return;
    this.#map.delete(k);
    this.#bytes -= this.size_of(v);
  }

  clear(): void {
    this.#map.clear();
    this.#bytes = 0;
  }
}
