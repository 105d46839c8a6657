/**
 * The meta leader's view of the cluster: stores (with their last stats and
 * heartbeat time) and regions (with leader and size), plus the ordered range
 * index that answers GetRegion. Pure and synchronous: every method is a
 * function of the state and its arguments (times are passed in), so the
 * service, the scheduler and the tests share one model.
 *
 * Staleness rule (PD's): a region report whose epoch is older than what is
 * known — by id, or by an overlapping region with a newer version — is
 * ignored; a report with the same epoch but an older term does not move the
 * leader back.
 * @module
 */
import assert from "node:assert/strict";
import type * as metapb from "@eraft/proto/gen/metapb.ts";
import type * as metaservicepb from "@eraft/proto/gen/metaservicepb.ts";
import { compareBytes } from "@eraft/shared/bytes";

/** What meta knows about one store. */
export interface StoreEntry {
  store: metapb.Store;
  stats: metaservicepb.StoreStats | null;
  /** Local clock (ms) of the last StoreHeartbeat, or of the leader's start. */
  last_heartbeat_ms: number;
}

/** What meta knows about one region. */
export interface RegionEntry {
  region: metapb.Region;
  leader: metapb.Peer | null;
  term: number;
  pending_peers: metapb.Peer[];
  approximate_size_bytes: number;
  approximate_keys: number;
  /** Local clock (ms) of the last RegionHeartbeat (0: loaded from storage). */
  last_heartbeat_ms: number;
}

/** A region report (RegionHeartbeat, ReportSplit, Bootstrap or storage load). */
export interface RegionReport {
  region: metapb.Region;
  leader?: metapb.Peer | null;
  term?: number;
  pending_peers?: metapb.Peer[];
  approximate_size_bytes?: number;
  approximate_keys?: number;
}

/** The outcome of applying a region report. */
export interface RegionUpdate {
  /** The report was older than what is known and changed nothing. */
  stale: boolean;
  /** Range, epoch or peers changed: the region must be persisted. */
  epoch_changed: boolean;
  /** Ids of regions dropped because the reported one now covers their range. */
  removed: number[];
}

/** A region epoch, with missing fields read as 0. */
export function epochOf(region: metapb.Region): { conf_ver: number; version: number } {
  return {
    conf_ver: region.region_epoch?.conf_ver ?? 0,
    version: region.region_epoch?.version ?? 0,
  };
}

/** True when `key` is in `[start, end)` (an empty end is +infinity). */
export function regionContains(region: metapb.Region, key: Uint8Array): boolean {
  return compareBytes(key, region.start_key) >= 0 &&
    (region.end_key.length === 0 || compareBytes(key, region.end_key) < 0);
}

function overlaps(a: metapb.Region, b: metapb.Region): boolean {
  const a_before_b_end = b.end_key.length === 0 || compareBytes(a.start_key, b.end_key) < 0;
  const b_before_a_end = a.end_key.length === 0 || compareBytes(b.start_key, a.end_key) < 0;
  return a_before_b_end && b_before_a_end;
}

function samePeers(a: metapb.Peer[], b: metapb.Peer[]): boolean {
  if (a.length !== b.length) return false;
  const ids = new Set(a.map((p) => `${p.id}@${p.store_id}/${p.role ?? 0}`));
  return b.every((p) => ids.has(`${p.id}@${p.store_id}/${p.role ?? 0}`));
}

/** Checks a region's shape: id, range order, peers with ids and stores, distinct. */
export function validateRegion(region: metapb.Region | null | undefined): string | null {
  if (!region) return "region missing";
  if (!(region.id > 0)) return "region id must be > 0";
  if (region.end_key.length > 0 && compareBytes(region.start_key, region.end_key) >= 0) {
    return "region start_key must be below end_key";
  }
  const stores = new Set<number>();
  const ids = new Set<number>();
  for (const p of region.peers) {
    if (!(p.id > 0) || !(p.store_id > 0)) return "peer ids and store ids must be > 0";
    if (stores.has(p.store_id) || ids.has(p.id)) return "peers must be on distinct stores";
    stores.add(p.store_id);
    ids.add(p.id);
  }
  return null;
}

/** See the module comment. */
export class ClusterState {
  readonly stores = new Map<number, StoreEntry>();
  readonly regions = new Map<number, RegionEntry>();
  /** Region ids ordered by start key; ranges never overlap. */
  #ordered: number[] = [];

  /** Adds or replaces a store's record; keeps stats and heartbeat time. */
  putStore(store: metapb.Store, now_ms: number): void {
    const known = this.stores.get(store.id);
    this.stores.set(store.id, {
      store,
      stats: known?.stats ?? null,
      last_heartbeat_ms: known?.last_heartbeat_ms ?? now_ms,
    });
  }

  /** Records a store heartbeat. False when the store is unknown. */
  storeHeartbeat(stats: metaservicepb.StoreStats, now_ms: number): boolean {
    const entry = this.stores.get(stats.store_id);
    if (entry === undefined) return false;
    entry.stats = stats;
    entry.last_heartbeat_ms = now_ms;
    return true;
  }

  /** True when the store has not heartbeaten for longer than `down_ms`. */
  isStoreDown(store_id: number, now_ms: number, down_ms: number): boolean {
    const entry = this.stores.get(store_id);
    return entry === undefined || now_ms - entry.last_heartbeat_ms > down_ms;
  }

  /** The region containing `key`, if known. */
  regionByKey(key: Uint8Array): RegionEntry | undefined {
    let lo = 0;
    let hi = this.#ordered.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.regions.get(this.#ordered[mid])!.region;
      if (compareBytes(r.start_key, key) <= 0) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found < 0) return undefined;
    const entry = this.regions.get(this.#ordered[found])!;
    return regionContains(entry.region, key) ? entry : undefined;
  }

  /** Regions overlapping `[start, end)` in key order, at most `limit` (0: no limit). */
  scanRegions(start: Uint8Array, end: Uint8Array, limit: number): RegionEntry[] {
    const out: RegionEntry[] = [];
    const first = this.regionByKey(start);
    let i = first ? this.#ordered.indexOf(first.region.id) : this.#firstStartingAtOrAfter(start);
    for (; i >= 0 && i < this.#ordered.length; i++) {
      const entry = this.regions.get(this.#ordered[i])!;
      if (end.length > 0 && compareBytes(entry.region.start_key, end) >= 0) break;
      out.push(entry);
      if (limit > 0 && out.length >= limit) break;
    }
    return out;
  }

  #firstStartingAtOrAfter(key: Uint8Array): number {
    const i = this.#ordered.findIndex((id) =>
      compareBytes(this.regions.get(id)!.region.start_key, key) >= 0
    );
    return i;
  }

  /** Regions in key order. */
  orderedRegions(): RegionEntry[] {
    return this.#ordered.map((id) => this.regions.get(id)!);
  }

  /** Applies a region report under the staleness rule (module comment). */
  applyRegion(report: RegionReport, now_ms: number): RegionUpdate {
    const region = report.region;
    assert.equal(validateRegion(region), null, "applyRegion needs a valid region");
    const epoch = epochOf(region);
    const known = this.regions.get(region.id);
    if (known !== undefined) {
      const k = epochOf(known.region);
      if (epoch.version < k.version || epoch.conf_ver < k.conf_ver) {
        return { stale: true, epoch_changed: false, removed: [] };
      }
    }
    const others = this.#overlapping(region).filter((e) => e.region.id !== region.id);
    if (others.some((e) => epochOf(e.region).version > epoch.version)) {
      return { stale: true, epoch_changed: false, removed: [] };
    }
    const k = known ? epochOf(known.region) : null;
    const epoch_changed = known === undefined || k!.version !== epoch.version ||
      k!.conf_ver !== epoch.conf_ver ||
      compareBytes(known.region.start_key, region.start_key) !== 0 ||
      compareBytes(known.region.end_key, region.end_key) !== 0 ||
      !samePeers(known.region.peers, region.peers);
    const removed = others.map((e) => e.region.id);
    for (const id of removed) this.#remove(id);
    const term = report.term ?? 0;
    const leader_is_news = report.leader !== undefined && report.leader !== null &&
      report.leader.id > 0 && (known === undefined || term >= known.term || epoch_changed);
    const entry: RegionEntry = {
      region,
      leader: leader_is_news ? report.leader! : known?.leader ?? null,
      term: leader_is_news ? term : known?.term ?? 0,
      pending_peers: report.pending_peers ?? known?.pending_peers ?? [],
      approximate_size_bytes: report.approximate_size_bytes ?? known?.approximate_size_bytes ?? 0,
      approximate_keys: report.approximate_keys ?? known?.approximate_keys ?? 0,
      last_heartbeat_ms: report.leader ? now_ms : known?.last_heartbeat_ms ?? 0,
    };
    // A leader that is no longer a member is forgotten.
    if (entry.leader && !region.peers.some((p) => p.id === entry.leader!.id)) entry.leader = null;
    if (known !== undefined) this.#remove(region.id);
    this.regions.set(region.id, entry);
    this.#insertOrdered(region);
    return { stale: false, epoch_changed, removed };
  }

  #overlapping(region: metapb.Region): RegionEntry[] {
    return this.scanRegions(region.start_key, region.end_key, 0).filter((e) =>
      overlaps(e.region, region)
    );
  }

  #remove(id: number): void {
    this.regions.delete(id);
    const i = this.#ordered.indexOf(id);
    if (i >= 0) this.#ordered.splice(i, 1);
  }

  #insertOrdered(region: metapb.Region): void {
    let lo = 0;
    let hi = this.#ordered.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const r = this.regions.get(this.#ordered[mid])!.region;
      if (compareBytes(r.start_key, region.start_key) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.#ordered.splice(lo, 0, region.id);
    // Invariant: neighbours do not overlap.
    const prev = lo > 0 ? this.regions.get(this.#ordered[lo - 1])!.region : null;
    const next = lo + 1 < this.#ordered.length
      ? this.regions.get(this.#ordered[lo + 1])!.region
      : null;
    assert.ok(prev === null || !overlaps(prev, region), "regions overlap after insert");
    assert.ok(next === null || !overlaps(next, region), "regions overlap after insert");
  }

  /** Regions with a peer on `store_id`. */
  regionsOnStore(store_id: number): RegionEntry[] {
    return [...this.regions.values()].filter((e) =>
      e.region.peers.some((p) => p.store_id === store_id)
    );
  }

  /** Per store id: regions hosted and leaders held. */
  counts(): Map<number, { regions: number; leaders: number }> {
    const out = new Map<number, { regions: number; leaders: number }>();
    for (const id of this.stores.keys()) out.set(id, { regions: 0, leaders: 0 });
    for (const e of this.regions.values()) {
      for (const p of e.region.peers) {
        const c = out.get(p.store_id);
        if (c) c.regions++;
      }
      if (e.leader) {
        const c = out.get(e.leader.store_id);
        if (c) c.leaders++;
      }
    }
    return out;
  }
}
