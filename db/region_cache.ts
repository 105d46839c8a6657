/**
 * The E-DB region cache: which region holds a key, its epoch, its peers and
 * the peer believed to lead it. Entries are kept sorted by start key and never
 * overlap; a lookup is a binary search. The cache is only a hint: stores check
 * every request's region id and epoch, and their region errors correct it.
 * @module
 */
import type { Peer, Region } from "@eraft/proto/gen/metapb.ts";
import { latin1 } from "./encoding/bytes.ts";

/** One cached region with its believed leader. */
export interface CachedRegion {
  region: Region;
  /** Peer believed to lead the region; null when unknown. */
  leader: Peer | null;
  /** Start and end keys as latin1 strings (JS string order = byte order); "" end = +inf. */
  start: string;
  end: string;
}

/** True when `key` (latin1) lies in [start, end). */
export function regionContains(e: { start: string; end: string }, key: string): boolean {
  return key >= e.start && (e.end === "" || key < e.end);
}

/** A sorted, non-overlapping set of regions. */
export class RegionCache {
  #entries: CachedRegion[] = [];
  #by_id = new Map<number, CachedRegion>();

  /** Number of cached regions. */
  get size(): number {
    return this.#entries.length;
  }

  /** Every cached region in key order (for tests and INFO). */
  all(): readonly CachedRegion[] {
    return this.#entries;
  }

  /** Index of the last entry with start <= key, or -1. */
  #floor(key: string): number {
    let lo = 0, hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#entries[mid].start <= key) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** The cached region containing `key` (latin1), or null. */
  locate(key: string): CachedRegion | null {
    const i = this.#floor(key);
    if (i < 0) return null;
    const e = this.#entries[i];
    return regionContains(e, key) ? e : null;
  }

  /** The cached region containing `key` (raw bytes), or null. */
  locateBytes(key: Uint8Array): CachedRegion | null {
    return this.locate(latin1(key));
  }

  /**
   * The cached region holding the keys just below `end` (latin1; "" = +inf):
   * the region a reverse scan bounded by `end` starts in. Null when not cached.
   */
  locateBefore(end: string): CachedRegion | null {
    if (end === "") {
      const last = this.#entries[this.#entries.length - 1];
      return last && last.end === "" ? last : null;
    }
    // The region with start < end <= region end.
    let lo = 0, hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#entries[mid].start < end) lo = mid + 1;
      else hi = mid;
    }
    const e = this.#entries[lo - 1];
    if (!e) return null;
    return e.end === "" || end <= e.end ? e : null;
  }

  /** The region with this id, if cached. */
  byId(region_id: number): CachedRegion | null {
    return this.#by_id.get(region_id) ?? null;
  }

  /**
   * Inserts `region`, evicting every cached region it overlaps (they are older
   * or newer views of the same keys; a newer epoch version wins, so a stale
   * answer from meta cannot undo what a store already told us).
   */
  insert(region: Region, leader: Peer | null): CachedRegion {
    const start = latin1(region.start_key ?? new Uint8Array(0));
    const end = latin1(region.end_key ?? new Uint8Array(0));
    const entry: CachedRegion = { region, leader, start, end };
    const overlapping: number[] = [];
    // First candidate: the entry containing `start`, or the first after it.
    let i = Math.max(0, this.#floor(start));
    for (; i < this.#entries.length; i++) {
      const e = this.#entries[i];
      if (end !== "" && e.start >= end) break;
      if (e.end !== "" && e.end <= start) continue;
      overlapping.push(i);
    }
    const version = region.region_epoch?.version ?? 0;
    for (const j of overlapping) {
      const old = this.#entries[j].region;
      if ((old.region_epoch?.version ?? 0) > version) return this.#entries[j];
    }
    if (leader === null) {
      // Keep a known leader across a refresh that carries none.
      const same = this.#by_id.get(region.id);
      if (same && same.leader && region.peers?.some((p) => p.id === same.leader!.id)) {
        entry.leader = same.leader;
      }
    }
    for (let k = overlapping.length - 1; k >= 0; k--) {
      const [gone] = this.#entries.splice(overlapping[k], 1);
      if (this.#by_id.get(gone.region.id) === gone) this.#by_id.delete(gone.region.id);
    }
    const at = this.#floor(start) + 1;
    this.#entries.splice(at, 0, entry);
    this.#by_id.set(region.id, entry);
    return entry;
  }

  /** Drops a region (RegionNotFound, KeyNotInRegion): the next lookup asks meta. */
  invalidate(region_id: number): void {
    const e = this.#by_id.get(region_id);
    if (!e) return;
    this.#by_id.delete(region_id);
    const i = this.#entries.indexOf(e);
    if (i >= 0) this.#entries.splice(i, 1);
  }

  /** Records a new leader for a cached region (NotLeader hint). */
  setLeader(region_id: number, leader: Peer | null): void {
    const e = this.#by_id.get(region_id);
    if (e) e.leader = leader;
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries = [];
    this.#by_id.clear();
  }
}
