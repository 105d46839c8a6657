/**
 * Client-request deduplication: the table that makes a retried write (same
 * request id after an unknown outcome) apply at most once, and forgets each
 * record once no retry can still arrive.
 *
 * Layout, in cf `raft`:
 *
 * - a record per bucket of the requests one Raft entry applied (a merged
 *   batch's members; most often one bucket): `D | u32be bucket |
 *   memcmp(first key) | u64be id` of its first request -> the apply index and
 *   each request's id, first key and digest of its mutations
 *   ({@link encodeRecordValue}), where `bucket` is the request's
 *   `issued_at_ms / DEDUP_BUCKET_MS` (the client's clock at its first attempt,
 *   repeated on every retry) and `first key` is the request's first mutation
 *   key. One record per entry, not per request: a record's write (index
 *   insert, encoding, append) was half of a replica's apply of a SET.
 * - a region's floor: `r | u64be region_id | g` -> `u32be bucket`: every
 *   record of the region below the floor is gone.
 *
 * Keying by a first mutation key puts each record in the key range of the
 * region that applied it, so the table follows its keys: a region's
 * snapshot, destruction and collection are one range per bucket (memcmp
 * keeps the ranges exact: it is order-preserving and prefix-free). A split
 * leaves a record with one half; its requests whose keys went to the other
 * half are copied there ({@link copyAcrossSplit}), so each region holds, in
 * its own range, a record of every request its keys were written by.
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
import { compareBytes, inRange, readU64BE, writeU32BE, writeU64BE } from "@eraft/shared/bytes";
import type { Cf, KvPair, WriteBatch } from "../engine/mod.ts";
import { bytesToKey } from "../engine/bytes.ts";
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

/** `5 + extra` bytes starting with the bucket's prefix. */
function bucketPrefix(bucket: number, extra: number): Uint8Array {
  const out = new Uint8Array(5 + extra);
  out[0] = PREFIX;
  writeU32BE(out, 1, bucket);
  return out;
}

function withKey(bucket: number, key: Uint8Array, extra: number): Uint8Array {
  const out = bucketPrefix(bucket, memcmpLength(key) + extra);
  memcmpEncodeInto(key, out, 5);
  return out;
}

/**
 * The key of the record headed by request `id` of `bucket` whose first
 * mutation key is `first_key`.
 */
export function recordKey(bucket: number, first_key: Uint8Array, id: number): Uint8Array {
  const out = withKey(bucket, first_key, 8);
  writeU64BE(out, out.length - 8, id);
  return out;
}

/** The record key of request `id` issued at `issued_at_ms` with first mutation key `first_key`. */
export function requestKey(issued_at_ms: number, first_key: Uint8Array, id: number): Uint8Array {
  return recordKey(bucketOf(issued_at_ms), first_key, id);
}

/** One request a record holds: what its retry must match. */
export interface RecordMember {
  /** The client's request id. */
  id: number;
  /** The request's first mutation key: its retry goes to the region holding it. */
  first_key: Uint8Array;
  /** {@link mutationsDigest} of the request's mutations. */
  digest: number;
}

/** A record's content. */
export interface DedupRecord {
  /** The log index that applied the requests (copies keep the original's). */
  index: number;
  members: RecordMember[];
}

const V2_TAG = 2;
const V2_HEAD_BYTES = 1 + 8 + 4;
const V2_MEMBER_BYTES = 8 + 4 + 4;

/**
 * The value of a record of `members` (applied at log `index`), keyed by
 * `members[0]` (see {@link recordKey}). One member: `u64be index | u32be
 * digest` (the layout of earlier versions; the key names the request). More:
 * `0x02 | u64be index | u32be count`, then per member `u64be id | u32be digest
 * | u32be first key length | first key`.
 */
export function encodeRecordValue(index: number, members: readonly RecordMember[]): Uint8Array {
  assert(members.length > 0, "a dedup record holds at least one request");
  if (members.length === 1) {
    const out = new Uint8Array(RECORD_BYTES);
    writeU64BE(out, 0, index);
    writeU32BE(out, 8, members[0].digest);
    return out;
  }
  let size_bytes = V2_HEAD_BYTES;
  for (const m of members) size_bytes += V2_MEMBER_BYTES + m.first_key.length;
  const out = new Uint8Array(size_bytes);
  out[0] = V2_TAG;
  writeU64BE(out, 1, index);
  writeU32BE(out, 9, members.length);
  let at = V2_HEAD_BYTES;
  for (const m of members) {
    writeU64BE(out, at, m.id);
    writeU32BE(out, at + 8, m.digest);
    writeU32BE(out, at + 12, m.first_key.length);
    out.set(m.first_key, at + V2_MEMBER_BYTES);
    at += V2_MEMBER_BYTES + m.first_key.length;
  }
  return out;
}

/** The requests record `key` with value `value` holds; throws on a malformed record. */
export function decodeRecord(key: Uint8Array, value: Uint8Array): DedupRecord {
  if (key[0] !== PREFIX || key.length < MIN_RECORD_KEY_BYTES) assert.fail("not a dedup record key");
  if (value.length === RECORD_BYTES) {
    const first_key = memcmpDecode(key.subarray(5, key.length - 8));
    const digest = new DataView(value.buffer, value.byteOffset, RECORD_BYTES).getUint32(8);
    const member = { id: readU64BE(key, key.length - 8), first_key, digest };
    return { index: readU64BE(value, 0), members: [member] };
  }
  const members: RecordMember[] = [];
  forEachListed(value, (view, at, key_bytes) => {
    members.push({
      id: readU64BE(value, at),
      digest: view.getUint32(at + 8),
      first_key: value.slice(at + V2_MEMBER_BYTES, at + V2_MEMBER_BYTES + key_bytes),
    });
  });
  return { index: readU64BE(value, 1), members };
}

/**
 * The request ids record (`key`, `value`) holds, as {@link decodeRecord}
 * reads them without copying first keys: what start-up needs of every record.
 */
function recordIds(key: Uint8Array, value: Uint8Array): number[] {
  if (value.length === RECORD_BYTES) return [readU64BE(key, key.length - 8)];
  const ids: number[] = [];
  forEachListed(value, (_view, at) => ids.push(readU64BE(value, at)));
  return ids;
}

/** Walks the members of a listing record value (see encodeRecordValue); throws when malformed. */
function forEachListed(
  value: Uint8Array,
  fn: (view: DataView, at: number, key_bytes: number) => void,
): void {
  if (value.length < V2_HEAD_BYTES || value[0] !== V2_TAG) assert.fail("bad dedup record value");
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const count = view.getUint32(9);
  let at = V2_HEAD_BYTES;
  for (let i = 0; i < count; i++) {
    if (at + V2_MEMBER_BYTES > value.length) assert.fail("truncated dedup record");
    const key_bytes = view.getUint32(at + 12);
    if (at + V2_MEMBER_BYTES + key_bytes > value.length) assert.fail("truncated dedup record key");
    fn(view, at, key_bytes);
    at += V2_MEMBER_BYTES + key_bytes;
  }
  if (at !== value.length || count < 2) assert.fail("bad dedup record length");
}

/** The key `memcmpEncode` encoded (`enc` is exactly one encoding). */
export function memcmpDecode(enc: Uint8Array): Uint8Array {
  if (enc.length === 0 || enc.length % (GROUP + 1) !== 0) assert.fail("bad memcmp encoding");
  const out: number[] = [];
  for (let base = 0; base < enc.length; base += GROUP + 1) {
    const n = GROUP - (0xff - enc[base + GROUP]);
    if (n < 0 || n > GROUP) assert.fail("bad memcmp group marker");
    for (let i = 0; i < n; i++) out.push(enc[base + i]);
    if (n < GROUP && base + GROUP + 1 !== enc.length) {
      assert.fail("memcmp bytes after the last group");
    }
  }
  return Uint8Array.from(out);
}

/** [lo, hi) of the records of `bucket` whose first key lies in `range`. */
export function bucketRange(bucket: number, range: KeyRange): [Uint8Array, Uint8Array] {
  const lo = withKey(bucket, range.start_key, 0);
  const hi = range.end_key.length === 0
    ? bucketPrefix(bucket + 1, 0)
    : withKey(bucket, range.end_key, 0);
  return [lo, hi];
}

/** Records read per scan step. */
const SCAN_PAGE = 1024;

/** Calls `fn` on every pair of cf `raft` in [lo, hi), a page at a time. */
function forEachPair(
  kv: KvReader,
  lo: Uint8Array,
  hi: Uint8Array,
  fn: (key: Uint8Array, value: Uint8Array) => void,
): void {
  let from = lo;
  // Each full page moves `from` just past its last key: one pass over the range.
  for (let pages = 0; pages < Number.MAX_SAFE_INTEGER; pages++) {
    const page = kv.scan("raft", from, hi, SCAN_PAGE);
    for (const [k, v] of page) fn(k, v);
    if (page.length < SCAN_PAGE) return;
    const last = page[page.length - 1][0];
    assert(compareBytes(last, from) >= 0, "dedup record scan went backwards");
    from = new Uint8Array(last.length + 1);
    from.set(last);
  }
}

/** Calls `fn` on every record of cf `raft` (start-up, tests, the apply bench). */
export function forEachRecord(kv: KvReader, fn: (key: Uint8Array, value: Uint8Array) => void) {
  forEachPair(kv, Uint8Array.of(PREFIX), Uint8Array.of(PREFIX + 1), fn);
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

/**
 * A split of `range` at `split_key`: a record lies on one side, and requests
 * it holds whose first key lies on the other (a merged batch's members) are
 * copied, into `batch`, to a record on their side, so that each half holds a
 * record of every request of its keys — in its own key range, which is what
 * its checks, snapshots and collection read. Members outside `range` (left
 * by an earlier split, held by a copy there) are not copied again. Records
 * below `floor` are about to be collected and are skipped.
 */
export function copyAcrossSplit(
  kv: KvReader,
  batch: WriteBatch,
  range: KeyRange,
  split_key: Uint8Array,
  floor: number,
  ids: AppliedIds | null,
): void {
  const copies = new Map<string, { key: Uint8Array; bucket: number; record: DedupRecord }>();
  for (const bucket of bucketsPresent(kv, floor, MAX_BUCKET)) {
    const [lo, hi] = bucketRange(bucket, range);
    const right_from = withKey(bucket, split_key, 0);
    forEachPair(kv, lo, hi, (key, value) => {
      if (value.length === RECORD_BYTES) return; // one request: on its own key's side
      const record = decodeRecord(key, value);
      const on_right = compareBytes(key, right_from) >= 0;
      const moved = record.members.filter((m) =>
        inRange(m.first_key, range.start_key, range.end_key) &&
        (compareBytes(m.first_key, split_key) >= 0) !== on_right
      );
      if (moved.length === 0) return;
      const copy_key = recordKey(bucket, moved[0].first_key, moved[0].id);
      const id = bytesToKey(copy_key);
      const existing = copies.get(id)?.record ?? existingRecord(kv, copy_key);
      const members = unionMembers(existing?.members ?? [], moved);
      copies.set(id, { key: copy_key, bucket, record: { index: record.index, members } });
    });
  }
  for (const { key, bucket, record } of copies.values()) {
    batch.put("raft", key, encodeRecordValue(record.index, record.members));
    ids?.addMembers(key, bucket, record.members);
  }
}

function existingRecord(kv: KvReader, key: Uint8Array): DedupRecord | null {
  const value = kv.get("raft", key);
  return value === undefined ? null : decodeRecord(key, value);
}

/** Same id, first key and mutations: a retry of the same request. */
function sameRequest(a: RecordMember, b: RecordMember): boolean {
  return a.id === b.id && a.digest === b.digest && compareBytes(a.first_key, b.first_key) === 0;
}

/** `a` plus the members of `b` it lacks, in order. */
function unionMembers(a: RecordMember[], b: RecordMember[]): RecordMember[] {
  return [...a, ...b.filter((m) => !a.some((x) => sameRequest(x, m)))];
}

/** Bytes of the shortest record key: prefix, bucket, memcmp of an empty key, id. */
const MIN_RECORD_KEY_BYTES = 5 + GROUP + 1 + 8;

/** Record keys holding one id hash: one key, or several (hash collisions, copies). */
type Holders = Uint8Array | Uint8Array[];

/**
 * Where the records of a worker's requests are: per bucket, the low 30 bits
 * of each request id -> the keys of the records that may hold it. A request's
 * check reads only those records — nearly every request is a first attempt
 * and reads none — instead of walking the engine's ordered index. Never
 * misses a record it was given (at apply, from a snapshot, a split's copy, at
 * start-up); records deleted since stay as candidates that no longer read.
 */
export class AppliedIds {
  readonly #buckets = new Map<number, Map<number, Holders>>();
  /** Buckets below this were pruned: their checks scan the engine. */
  #exact_below = 0;

  /** The requests of every record in `kv`. */
  static load(kv: KvReader): AppliedIds {
    const ids = new AppliedIds();
    forEachRecord(kv, (key, value) => ids.add(key, value));
    return ids;
  }

  /** Request ids held (tests, stats). */
  get size(): number {
    let n = 0;
    for (const map of this.#buckets.values()) {
      for (const h of map.values()) n += h instanceof Uint8Array ? 1 : h.length;
    }
    return n;
  }

  /** Notes record `key` holding `value`; any other key of cf `raft` is ignored. */
  add(key: Uint8Array, value: Uint8Array): void {
    if (!(key[0] === PREFIX && key.length >= MIN_RECORD_KEY_BYTES)) return;
    this.#addIds(key, recordBucket(key), recordIds(key, value));
  }

  /** Notes record `key` of `bucket` holding `members`. */
  addMembers(key: Uint8Array, bucket: number, members: readonly RecordMember[]): void {
    this.#addIds(key, bucket, members.map((m) => m.id));
  }

  #addIds(key: Uint8Array, bucket: number, ids: readonly number[]): void {
    if (bucket < this.#exact_below) return;
    let map = this.#buckets.get(bucket);
    if (map === undefined) {
      map = new Map();
      this.#buckets.set(bucket, map);
    }
    for (const id of ids) {
      const h = idHash(id);
      const held = map.get(h);
      if (held === undefined) map.set(h, key);
      else if (held instanceof Uint8Array) map.set(h, [held, key]);
      else held.push(key);
    }
  }

  /**
   * Keys of the records that may hold request `id` of `bucket` (none: no
   * record does), or null when the bucket was pruned (scan the engine).
   */
  candidates(bucket: number, id: number): readonly Uint8Array[] | null {
    if (bucket < this.#exact_below) return null;
    const held = this.#buckets.get(bucket)?.get(idHash(id));
    if (held === undefined) return NONE;
    return held instanceof Uint8Array ? [held] : held;
  }

  /** Forgets the buckets below `bucket` (their checks scan the engine from now on). */
  prune(bucket: number): void {
    if (bucket <= this.#exact_below) return;
    for (const b of this.#buckets.keys()) if (b < bucket) this.#buckets.delete(b);
    this.#exact_below = bucket;
  }
}

const NONE: readonly Uint8Array[] = [];

function recordBucket(key: Uint8Array): number {
  return (key[1] << 24 | key[2] << 16 | key[3] << 8 | key[4]) >>> 0;
}

/** The low 30 bits of a request id: a small integer, which V8 stores unboxed. */
function idHash(id: number): number {
  return id % 0x4000_0000;
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
    /** The worker's record index; null: every check scans the engine. */
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
   * True when request `req` of `bucket` was applied before: a record of this
   * region's range holds its id and first key with the same digest. The same
   * id with another digest is a different request whose random id collided:
   * it applies. Only records in the region's range count: every replica of
   * the region holds exactly those (other regions' come and go per store).
   */
  applied(bucket: number, req: RecordMember): boolean {
    const keys = this.ids?.candidates(bucket, req.id) ?? null;
    if (keys !== null && keys.length === 0) return false;
    const [lo, hi] = bucketRange(bucket, this.range);
    let found = false;
    const look = (key: Uint8Array, value: Uint8Array) => {
      found ||= decodeRecord(key, value).members.some((m) => sameRequest(m, req));
    };
    if (keys === null) forEachPair(this.kv, lo, hi, look);
    else {
      for (const key of keys) {
        if (!inRange(key, lo, hi)) continue; // hi is never empty: a bucket's range is bounded
        const value = this.kv.get("raft", key);
        if (value !== undefined) look(key, value);
      }
    }
    return found;
  }

  /**
   * Records `members` (requests of `bucket`, applied at log `index`) in one
   * record keyed by the first: one engine write per bucket of an entry, not
   * one per request.
   */
  record(bucket: number, members: RecordMember[], index: number): void {
    const key = recordKey(bucket, members[0].first_key, members[0].id);
    // A record under this key exists only if members[0]'s id and first key
    // were recorded before with other mutations (a colliding random id): keep
    // the requests it holds. The index says when that is possible at all.
    const held = this.ids?.candidates(bucket, members[0].id) ?? null;
    const existing = held === null || held.length > 0 ? existingRecord(this.kv, key) : null;
    if (existing === null) this.batch.putNew("raft", key, encodeRecordValue(index, members));
    else {
      const all = unionMembers(existing.members, members);
      this.batch.put("raft", key, encodeRecordValue(index, all));
    }
    this.ids?.addMembers(key, bucket, members);
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
