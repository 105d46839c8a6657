/**
 * The abstract KV backend the commands run on, modelled on the store's raw KV
 * RPCs (proto/kvrpcpb.proto: RawGet, RawBatchGet, RawScan, RawBatch). The
 * cluster implementation routes each call through meta's region map to the
 * region leader; {@link MemoryBackend} is the in-process one used by tests.
 * @module
 */
import type { Mutation, Precondition } from "@eraft/proto/gen/kvrpcpb.ts";

export type { Mutation, Precondition };
export { MutationOp, PreconditionKind } from "@eraft/proto/gen/kvrpcpb.ts";

/** The column family all E-DB records live in. */
export const CF_DEFAULT = "default";

/** One key/value read by a scan. */
export interface RawPair {
  key: Uint8Array;
  value: Uint8Array;
}

/** Outcome of an atomic batch. */
export type BatchOutcome =
  | { ok: true }
  | { ok: false; precondition_failed: true; failed_index: number };

/**
 * Raised by {@link Backend.batch} when the keys of one batch lie in more than
 * one region: nothing was written.
 */
export class CrossRegionError extends Error {
  constructor(message = "keys span more than one region") {
    super(message);
    this.name = "CrossRegionError";
  }
}

/**
 * Raised when the cluster could not serve a call within its deadline (no
 * leader, stores down, regions moving). The server answers `-TRYAGAIN`; a
 * write that raised it may or may not have been applied, never twice.
 */
export class BackendUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackendUnavailableError";
  }
}

/**
 * What a backend says about itself for `INFO cluster`: `name:value` lines in
 * order. Must be cheap (local counters and caches only, no RPC): plain `INFO`,
 * which clients such as ioredis send on every connect, includes the section.
 */
export interface BackendDescription {
  /** "cluster" or "memory". */
  kind: string;
  fields: Array<[name: string, value: string | number]>;
}

/** The raw KV operations E-DB needs from the cluster. */
export interface Backend {
  /** Local view of the backend for `INFO cluster` (optional; no I/O). */
  describe?(): BackendDescription;
  /** Value of `key` or null when absent (RawGet). */
  get(cf: string, key: Uint8Array): Promise<Uint8Array | null>;
  /** Values of `keys` in order, null where absent (RawBatchGet; may span regions). */
  batchGet(cf: string, keys: Uint8Array[]): Promise<Array<Uint8Array | null>>;
  /**
   * Up to `limit` pairs with start <= key < end (empty `end` = unbounded), in
   * key order or, when `reverse`, descending from below `end` (RawScan; the
   * implementation stitches regions together). With `key_only`, every value
   * is empty and the stores read none from disk.
   */
  scan(
    cf: string,
    start: Uint8Array,
    end: Uint8Array,
    limit: number,
    reverse: boolean,
    key_only?: boolean,
  ): Promise<RawPair[]>;
  /**
   * Applies every mutation atomically iff every precondition holds (RawBatch).
   * Throws {@link CrossRegionError} when the keys touch several regions.
   */
  batch(mutations: Mutation[], preconditions: Precondition[]): Promise<BatchOutcome>;
  /** True when all `keys` currently lie in one region. */
  sameRegion(keys: Uint8Array[]): Promise<boolean>;
  /** Releases connections and timers. */
  close(): Promise<void>;
}
