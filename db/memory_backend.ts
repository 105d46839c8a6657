/**
 * In-memory {@link Backend}: one ordered map per column family (sorted-btree),
 * optionally cut into simulated regions at given boundary keys so the
 * cross-region error path can be tested.
 * @module
 */
import * as btree_module from "sorted-btree";
import { fromLatin1, latin1 } from "./encoding/bytes.ts";
import {
  type Backend,
  type BackendDescription,
  type BatchOutcome,
  CrossRegionError,
  type Mutation,
  MutationOp,
  type Precondition,
  PreconditionKind,
  type RawPair,
} from "./backend.ts";

interface OrderedMap {
  get(k: string): string | undefined;
  set(k: string, v: string): void;
  delete(k: string): boolean;
  has(k: string): boolean;
  readonly size: number;
  entries(low?: string): IterableIterator<[string, string]>;
  entriesReversed(high?: string): IterableIterator<[string, string]>;
  deleteRange(low: string, high: string, include_high: boolean): number;
}
type OrderedMapCtor = new () => OrderedMap;

// Under Deno the npm module's default export arrives as a namespace whose
// `.default` is the class; under bundlers it is the class itself.
const mod = btree_module as unknown as { default: unknown };
const BTree =
  (typeof mod.default === "function"
    ? mod.default
    : (mod.default as { default: unknown }).default) as OrderedMapCtor;

/** Options for {@link MemoryBackend}. */
export interface MemoryBackendOptions {
  /** Raw keys at which simulated regions start (sorted or not). */
  region_boundaries?: Uint8Array[];
}

/**
 * A single-process backend. Keys are held as latin1 strings, whose JS string
 * order equals the unsigned byte order of the raw keys.
 */
export class MemoryBackend implements Backend {
  private cfs = new Map<string, OrderedMap>();
  private boundaries: string[];
  /** Counters for tests (batches applied, preconditions failed). */
  stats = { batches: 0, precondition_failures: 0 };
  /** Test hook run before each batch is applied (e.g. to inject a racing write). */
  before_batch: (() => void) | null = null;

  constructor(opts: MemoryBackendOptions = {}) {
    this.boundaries = (opts.region_boundaries ?? []).map(latin1).sort();
  }

  private cf(name: string): OrderedMap {
    let m = this.cfs.get(name);
    if (!m) {
      m = new BTree();
      this.cfs.set(name, m);
    }
    return m;
  }

  /** Region index of a key (number of boundaries at or below it). */
  regionOf(key: string): number {
    let lo = 0, hi = this.boundaries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.boundaries[mid] <= key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get(cf: string, key: Uint8Array): Promise<Uint8Array | null> {
    const v = this.cf(cf).get(latin1(key));
    return Promise.resolve(v === undefined ? null : fromLatin1(v));
  }

  batchGet(cf: string, keys: Uint8Array[]): Promise<Array<Uint8Array | null>> {
    const m = this.cf(cf);
    return Promise.resolve(keys.map((k) => {
      const v = m.get(latin1(k));
      return v === undefined ? null : fromLatin1(v);
    }));
  }

  scan(
    cf: string,
    start: Uint8Array,
    end: Uint8Array,
    limit: number,
    reverse: boolean,
    key_only = false,
  ): Promise<RawPair[]> {
    if (!(limit > 0)) throw new Error("scan limit must be positive");
    const lo = latin1(start);
    const pair = (k: string, v: string) => ({
      key: fromLatin1(k),
      value: key_only ? new Uint8Array(0) : fromLatin1(v),
    });
    const hi = end.length === 0 ? null : latin1(end);
    const out: RawPair[] = [];
    const m = this.cf(cf);
    if (!reverse) {
      for (const [k, v] of m.entries(lo)) {
        if (hi !== null && k >= hi) break;
        out.push(pair(k, v));
        if (out.length >= limit) break;
      }
    } else {
      for (const [k, v] of m.entriesReversed(hi ?? undefined)) {
        if (hi !== null && k >= hi) continue; // entriesReversed includes `high` itself
        if (k < lo) break;
        out.push(pair(k, v));
        if (out.length >= limit) break;
      }
    }
    return Promise.resolve(out);
  }

  private checkOneRegion(keys: string[], range_ends: string[]): void {
    if (this.boundaries.length === 0 || keys.length === 0) return;
    const r = this.regionOf(keys[0]);
    for (const k of keys) if (this.regionOf(k) !== r) throw new CrossRegionError();
    const region_end = this.boundaries[r];
    for (const e of range_ends) {
      if (region_end !== undefined && (e === "" || e > region_end)) throw new CrossRegionError();
    }
  }

  batch(mutations: Mutation[], preconditions: Precondition[]): Promise<BatchOutcome> {
    try {
      return Promise.resolve(this.batchSync(mutations, preconditions));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private batchSync(mutations: Mutation[], preconditions: Precondition[]): BatchOutcome {
    const keys = [
      ...mutations.map((m) => latin1(m.key)),
      ...preconditions.map((p) => latin1(p.key)),
    ];
    const ends = mutations.filter((m) => m.op === MutationOp.DeleteRange).map((m) =>
      latin1(m.end_key)
    );
    this.checkOneRegion(keys, ends);
    this.before_batch?.();
    for (let i = 0; i < preconditions.length; i++) {
      if (!this.holds(preconditions[i])) {
        this.stats.precondition_failures++;
        return { ok: false, precondition_failed: true, failed_index: i };
      }
    }
    for (const m of mutations) this.apply(m);
    this.stats.batches++;
    return { ok: true };
  }

  private holds(p: Precondition): boolean {
    const v = this.cf(p.cf).get(latin1(p.key));
    switch (p.kind) {
      case PreconditionKind.NotExists:
        return v === undefined;
      case PreconditionKind.Exists:
        return v !== undefined;
      case PreconditionKind.ValueEquals:
        return v !== undefined && v === latin1(p.value);
    }
    throw new Error(`unknown precondition kind ${p.kind}`);
  }

  private apply(m: Mutation): void {
    const map = this.cf(m.cf);
    switch (m.op) {
      case MutationOp.Put:
        map.set(latin1(m.key), latin1(m.value));
        return;
      case MutationOp.Delete:
        map.delete(latin1(m.key));
        return;
      case MutationOp.DeleteRange:
        if (m.end_key.length === 0) throw new Error("DeleteRange needs an end key");
        map.deleteRange(latin1(m.key), latin1(m.end_key), false);
        return;
    }
    throw new Error(`unknown mutation op ${m.op}`);
  }

  sameRegion(keys: Uint8Array[]): Promise<boolean> {
    if (keys.length === 0) return Promise.resolve(true);
    const r = this.regionOf(latin1(keys[0]));
    return Promise.resolve(keys.every((k) => this.regionOf(latin1(k)) === r));
  }

  /** Number of raw records in a column family (for tests of garbage collection). */
  recordCount(cf: string): number {
    return this.cf(cf).size;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** One process, no meta: the simulated regions and the batch counters. */
  describe(): BackendDescription {
    return {
      kind: "memory",
      fields: [
        ["eraft_regions", this.boundaries.length + 1],
        ["eraft_batches", this.stats.batches],
        ["eraft_precondition_failures", this.stats.precondition_failures],
      ],
    };
  }
}
