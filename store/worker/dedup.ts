/**
 * Client-request deduplication: the table that makes a retried write (same
 * request id after an unknown outcome) apply at most once, and forgets each
 * record once no retry can still arrive.
 *
 * Layout, in cf `raft`:
 *
 * - a record per applied request: `D | u32be bucket | memcmp(first key) |
 *   u64be id` -> `u64be apply index | u32be digest of the mutations`, where
 *   `bucket` is the request's `issued_at_ms / DEDUP_BUCKET_MS` (the client's
 *   clock at its first attempt, repeated on every retry) and `first key` is
 *   the request's first mutation key.
 * - a region's floor: `r | u64be region_id | g` -> `u32be bucket`: every
 *   record of the region below the floor is gone.
 *
 * Keying by the first mutation key puts each record in the key range of the
 * region that applied it, so the table follows its keys: a split leaves each
 * record with the half its retry will reach, and a region's snapshot,
 * destruction and collection are one range per bucket (memcmp keeps the
 * ranges exact: it is order-preserving and prefix-free).
 *
 * Time is the proposing leader's `proposed_at_ms`, carried in the entry, so
 * every replica collects the same records at the same index. The floor never
 * moves back (a new leader's clock may be behind), and a request whose bucket
 * is below the floor — or implausibly far ahead of the leader's clock — is
 * refused, never applied: its record may have been collected already.
 * @module
 */
import assert from "node:assert/strict";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import { type ByteArena, writeU32BE, writeU64BE } from "@eraft/shared/bytes";
import type { Cf, KvPair, WriteBatch } from "../engine/mod.ts";
import { keyToBytes } from "../engine/bytes.ts";
import { dedupFloorKey, legacyDedupRange } from "./codec.ts";

/** Width of a time bucket: records are collected a bucket at a time. */
export const DEDUP_BUCKET_MS = 10_000;
/**
 * How long a record is kept after its request was issued. Clients retry for
 * seconds (the db's deadline is 10 s); the rest tolerates clock skew between
 * a client and the leader.
 */
export const DEDUP_RETENTION_MS = 120_000;
/** How far ahead of the leader's clock a request's issued_at_ms may be. */
export const DEDUP_MAX_AHEAD_MS = 120_000;

const PREFIX = 0x44; // 'D'
const RECORD_BYTES = 12;
const GROUP = 8;
/** Highest bucket (its successor still fits the u32 of the key). */
const MAX_BUCKET = 0xffff_fffe;

/** What reading the table needs: KvEngine, KvSnapshot and KvView all fit. */
export interface KvReader {
  get(cf: Cf, key: Uint8Array): Uint8Array | undefined;
  scan(cf: Cf, start: Uint8Array, end: Uint8Array, limit: number): KvPair[];
}

/** A region's key range; an empty end is unbounded. */
export interface KeyRange {
  start_key: Uint8Array;
  end_key: Uint8Array;
}

/** The bucket of a Unix time in ms. */
export function bucketOf(time_ms: number): number {
  if (!(Number.isSafeInteger(time_ms) && time_ms >= 0)) assert.fail(`bad time ${time_ms}`);
  return Math.min(Math.floor(time_ms / DEDUP_BUCKET_MS), MAX_BUCKET);
}

/**
 * TiKV's memcomparable bytes: groups of 8 bytes, the last zero-padded, each
 * followed by 0xFF minus its padding. Order-preserving and prefix-free.
 */
export function memcmpEncode(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(memcmpLength(key));
  memcmpEncodeInto(key, out, 0);
  return out;
}

/** Bytes memcmpEncode(key) takes. */
function memcmpLength(key: Uint8Array): number {
  return (Math.floor(key.length / GROUP) + 1) * (GROUP + 1);
}

/** memcmpEncode(key) written at out[at..]; the dedup key of every client write, so no allocation. */
function memcmpEncodeInto(key: Uint8Array, out: Uint8Array, at: number): void {
  const groups = Math.floor(key.length / GROUP) + 1;
  for (let g = 0; g < groups; g++) {
    const from = g * GROUP;
    const n = Math.min(GROUP, key.length - from);
    const base = at + g * (GROUP + 1);
    for (let i = 0; i < n; i++) out[base + i] = key[from + i];
    for (let i = n; i < GROUP; i++) out[base + i] = 0;
    out[base + GROUP] = 0xff - (GROUP - n);
  }
}

/** `5 + extra` bytes starting with the bucket's prefix; from `arena` when given. */
function bucketPrefix(bucket: number, extra: number, arena?: ByteArena): Uint8Array {
  const out = arena ? arena.take(5 + extra) : new Uint8Array(5 + extra);
  out[0] = PREFIX;
  writeU32BE(out, 1, bucket);
  return out;
}

function withKey(bucket: number, key: Uint8Array, extra: number, arena?: ByteArena): Uint8Array {
  const out = bucketPrefix(bucket, memcmpLength(key) + extra, arena);
  memcmpEncodeInto(key, out, 5);
  return out;
}

/**
 * The record key of request `id` issued in `bucket` whose first mutation key
 * is `first_key`, built in `arena` when given (see {@link recordBytes}).
 */
export function recordKey(
  bucket: number,
  first_key: Uint8Array,
  id: number,
  arena?: ByteArena,
): Uint8Array {
  const out = withKey(bucket, first_key, 8, arena);
  writeU64BE(out, out.length - 8, id);
  return out;
}

/** The record key of request `id` issued at `issued_at_ms` with first mutation key `first_key`. */
export function requestKey(
  issued_at_ms: number,
  first_key: Uint8Array,
  id: number,
  arena?: ByteArena,
): Uint8Array {
  return recordKey(bucketOf(issued_at_ms), first_key, id, arena);
}

/**
 * Arena bytes one request's record takes (key and value) when its first
 * mutation key is `first_key`. Apply builds every record of an entry in one
 * arena: a typed array costs ~1 µs to allocate here, two per request.
 */
export function recordBytes(first_key: Uint8Array): number {
  return 5 + memcmpLength(first_key) + 8 + RECORD_BYTES;
}

/** [lo, hi) of the records of `bucket` whose first key lies in `range`. */
export function bucketRange(bucket: number, range: KeyRange): [Uint8Array, Uint8Array] {
  const lo = withKey(bucket, range.start_key, 0);
  const hi = range.end_key.length === 0
    ? bucketPrefix(bucket + 1, 0)
    : withKey(bucket, range.end_key, 0);
  return [lo, hi];
}

/** The region's floor bucket (0 when it never collected). */
export function readFloor(kv: KvReader, region_id: number): number {
  const v = kv.get("raft", dedupFloorKey(region_id));
  if (v === undefined) return 0;
  assert.equal(v.length, 4, `region ${region_id}: bad dedup floor record`);
  return new DataView(v.buffer, v.byteOffset, 4).getUint32(0);
}

/** The value of a floor record. */
export function encodeFloor(bucket: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, bucket);
  return out;
}

/** Buckets holding any record, from `from` up to (not including) `to`, ascending. */
function bucketsPresent(kv: KvReader, from: number, to: number): number[] {
  const out: number[] = [];
  let next = from;
  // Each step finds one present bucket; there are at most to - from of them.
  for (let steps = 0; next < to; steps++) {
    assert(steps <= to - from, "dedup bucket scan made no progress");
    const [hit] = kv.scan("raft", bucketPrefix(next, 0), bucketPrefix(to, 0), 1);
    if (hit === undefined) break;
    const bucket = new DataView(hit[0].buffer, hit[0].byteOffset, 5).getUint32(1);
    assert(bucket >= next && bucket < to, `dedup scan left [${next}, ${to})`);
    out.push(bucket);
    next = bucket + 1;
  }
  return out;
}

/** [lo, hi) of every record of the region's range at or above `floor` (snapshot, destroy). */
export function regionRanges(
  kv: KvReader,
  range: KeyRange,
  floor: number,
): Array<[Uint8Array, Uint8Array]> {
  return bucketsPresent(kv, floor, MAX_BUCKET).map((b) => bucketRange(b, range));
}

/** Deletes (into `batch`) every record whose first key lies in `range`. */
export function clearRecords(kv: KvReader, batch: WriteBatch, range: KeyRange): void {
  for (const [lo, hi] of regionRanges(kv, range, 0)) batch.deleteRange("raft", lo, hi);
}

/** Bytes of the shortest record key: prefix, bucket, memcmp of an empty key, id. */
const MIN_RECORD_KEY_BYTES = 5 + GROUP + 1 + 8;

/**
 * The records a worker holds, as sets of request ids per bucket, so that the
 * check of a first attempt — nearly every request — skips the engine's
 * ordered index (a B-tree walk of ~5 µs, measured: about a sixth of a
 * follower's apply). Exact in one direction only: a miss means no record; a
 * hit (a retry, or two ids sharing their low 30 bits) is decided by the
 * engine. Every record a worker writes passes `add`: at apply, from a
 * snapshot, and at start-up (`load`). Records deleted later stay here as
 * harmless hits.
 */
export class AppliedIds {
  readonly #buckets = new Map<number, Set<number>>();
  /** Buckets below this were pruned: their checks go to the engine. */
  #exact_below = 0;

  /** The ids of every record in `kv`. */
  static load(kv: KvSnapshotSource): AppliedIds {
    const ids = new AppliedIds();
    const snap = kv.snapshot();
    try {
      const from = Uint8Array.of(PREFIX);
      const to = Uint8Array.of(PREFIX + 1);
      for (const [k] of snap.locations("raft", from, to)) ids.add(keyToBytes(k));
    } finally {
      snap.close();
    }
    return ids;
  }

  /** Ids held (tests, stats). */
  get size(): number {
    let n = 0;
    for (const set of this.#buckets.values()) n += set.size;
    return n;
  }

  /** Notes the record of record key `key`; any other key of cf `raft` is ignored. */
  add(key: Uint8Array): void {
    if (!(key[0] === PREFIX && key.length >= MIN_RECORD_KEY_BYTES)) return;
    const bucket = recordBucket(key);
    if (bucket < this.#exact_below) return;
    let set = this.#buckets.get(bucket);
    if (set === undefined) {
      set = new Set();
      this.#buckets.set(bucket, set);
    }
    set.add(idHash(key));
  }

  /** True when no record of record key `key` can exist. */
  lacks(key: Uint8Array): boolean {
    const bucket = recordBucket(key);
    if (bucket < this.#exact_below) return false;
    const set = this.#buckets.get(bucket);
    return set === undefined || !set.has(idHash(key));
  }

  /** Forgets the buckets below `bucket` (their checks go to the engine from now on). */
  prune(bucket: number): void {
    if (bucket <= this.#exact_below) return;
    for (const b of this.#buckets.keys()) if (b < bucket) this.#buckets.delete(b);
    this.#exact_below = bucket;
  }
}

/** What AppliedIds.load reads: KvEngine fits. */
export interface KvSnapshotSource {
  snapshot(): {
    locations(cf: Cf, start: Uint8Array, end: Uint8Array): Iterable<[string, number]>;
    close(): void;
  };
}

function recordBucket(key: Uint8Array): number {
  return (key[1] << 24 | key[2] << 16 | key[3] << 8 | key[4]) >>> 0;
}

/** The low 30 bits of a record key's id: a small integer, which V8 stores unboxed. */
function idHash(key: Uint8Array): number {
  const n = key.length;
  return ((key[n - 4] & 0x3f) << 24 | key[n - 3] << 16 | key[n - 2] << 8 | key[n - 1]) >>> 0;
}

/** The apply-time view of one region's table for one Raft entry. */
export class DedupTable {
  /** Lowest bucket still held; requests below it are refused. */
  readonly floor: number;

  /**
   * Collects what the entry's time (`proposed_at_ms`, 0 for entries written
   * before it existed: no collection) lets go, into `batch`.
   */
  constructor(
    readonly kv: KvReader,
    readonly batch: WriteBatch,
    readonly region_id: number,
    readonly range: KeyRange,
    readonly proposed_at_ms: number,
    /** The worker's record ids; null: every check asks the engine. */
    readonly ids: AppliedIds | null = null,
    /** The region's floor as last read or written (null: read it from the engine). */
    known_floor: number | null = null,
  ) {
    const old_floor = known_floor ?? readFloor(kv, region_id);
    const due = proposed_at_ms > 0 ? bucketOf(Math.max(0, proposed_at_ms - DEDUP_RETENTION_MS)) : 0;
    // No region checks below its floor, and no floor is below `due` after
    // this entry; a bucket of margin for a next leader whose clock is behind.
    ids?.prune(due - 1);
    this.floor = Math.max(old_floor, due);
    if (this.floor === old_floor) return;
    if (old_floor === 0) {
      // The region's first collection: drop the table of older versions
      // (`r | region_id | d | id`, never consulted any more).
      const [lo, hi] = legacyDedupRange(region_id);
      batch.deleteRange("raft", lo, hi);
    }
    for (const b of bucketsPresent(kv, old_floor, this.floor)) {
      const [lo, hi] = bucketRange(b, range);
      batch.deleteRange("raft", lo, hi);
    }
    batch.put("raft", dedupFloorKey(region_id), encodeFloor(this.floor));
  }

  /** Why a request issued at `issued_at_ms` cannot be deduplicated now, or null. */
  refusal(issued_at_ms: number): string | null {
    const bucket = bucketOf(issued_at_ms);
    if (bucket < this.floor) {
      return `request issued at ${issued_at_ms} ms is older than region ${this.region_id}'s ` +
        `deduplication window (from ${this.floor * DEDUP_BUCKET_MS} ms): check the clocks`;
    }
    if (this.proposed_at_ms > 0 && issued_at_ms > this.proposed_at_ms + DEDUP_MAX_AHEAD_MS) {
      return `request issued at ${issued_at_ms} ms is ahead of the leader's clock ` +
        `(${this.proposed_at_ms} ms) by more than ${DEDUP_MAX_AHEAD_MS} ms: check the clocks`;
    }
    return null;
  }

  /**
   * True when the request of record key `key` (see {@link requestKey}) with
   * these mutations (`digest`) was applied before. The same id with another
   * digest is a different request whose random id collided: it applies.
   */
  applied(key: Uint8Array, digest: number): boolean {
    if (this.ids?.lacks(key)) return false;
    const rec = this.kv.get("raft", key);
    if (rec === undefined) return false;
    assert.equal(rec.length, RECORD_BYTES, "bad dedup record");
    return new DataView(rec.buffer, rec.byteOffset, RECORD_BYTES).getUint32(8) === digest;
  }

  /**
   * Records the request of record key `key` as applied at log `index`; the
   * value is built in `arena` when given.
   */
  record(key: Uint8Array, index: number, digest: number, arena?: ByteArena): void {
    const rec = arena ? arena.take(RECORD_BYTES) : new Uint8Array(RECORD_BYTES);
    writeU64BE(rec, 0, index);
    writeU32BE(rec, 8, digest);
    // The lookup in `applied` found no record: one index walk, not two.
    this.batch.putNew("raft", key, rec);
    this.ids?.add(key);
  }
}

/** CRC-32C (Castagnoli, reflected 0x82F63B78) byte table. */
const CRC32C_TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * Continues CRC-32C `crc` over `bytes` (the same function as @node-rs/crc32's
 * crc32c). In JS: digests cover a few small fields per mutation, where a
 * native call per field cost more than the arithmetic.
 */
export function crc32cUpdate(crc: number, bytes: Uint8Array): number {
  let c = ~crc;
  for (let i = 0; i < bytes.length; i++) c = CRC32C_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32C continued over an ASCII string's bytes (column family names). */
function crc32cAscii(crc: number, s: string): number {
  let c = ~crc;
  for (let i = 0; i < s.length; i++) c = CRC32C_TABLE[(c ^ s.charCodeAt(i)) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const DIGEST_HEAD = new Uint8Array(9);

/**
 * CRC-32C over mutations [from, to): what a retry must repeat exactly. A
 * member retried alone digests the same as its slice of a merged batch.
 */
export function mutationsDigest(mutations: kvrpcpb.Mutation[], from: number, to: number): number {
  let crc = 0;
  const head = DIGEST_HEAD; // filled and consumed before returning: reused across calls
  for (let i = from; i < to; i++) {
    const m = mutations[i];
    head[0] = m.op;
    writeU32BE(head, 1, m.key.length);
    writeU32BE(head, 5, m.value.length);
    crc = crc32cUpdate(crc, head);
    crc = crc32cAscii(crc, m.cf);
    crc = crc32cUpdate(crc, m.key);
    crc = crc32cUpdate(crc, m.value);
    crc = crc32cUpdate(crc, m.end_key);
  }
  return crc;
}
