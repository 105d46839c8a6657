/**
 * The metadata record of a user key (value of M(K)):
 *
 *     u8 type | u64 expire_at_ms (0 = none) | u64 rev | body
 *     string body:     the value itself (inline)
 *     collection body: u64 version | u64 size [| u64 head | u64 tail (lists)]
 *     graph body:      u64 version | u64 size | graph header (db/graph/encoding.ts)
 *
 * `rev` increases on every write of the key, so a precondition "metadata is
 * unchanged" (ValueEquals) guards every record of the key that a command read.
 * @module
 */
import { EMPTY_BYTES, getU64, putU64, requestBytes } from "./bytes.ts";

/** Redis types; also the `type` tag stored with the metadata record. */
export const RedisType = {
  String: 1,
  Hash: 2,
  List: 3,
  Set: 4,
  ZSet: 5,
  /** A property graph (GRAPH.* commands); TYPE says "graphdata" like RedisGraph. */
  Graph: 6,
} as const;
/** A Redis type code. */
export type RedisType = typeof RedisType[keyof typeof RedisType];

/** Name printed by TYPE. */
export function typeName(t: RedisType): string {
  switch (t) {
    case RedisType.String:
      return "string";
    case RedisType.Hash:
      return "hash";
    case RedisType.List:
      return "list";
    case RedisType.Set:
      return "set";
    case RedisType.ZSet:
      return "zset";
    case RedisType.Graph:
      return "graphdata";
  }
}

/** Decoded metadata. */
export interface Metadata {
  type: RedisType;
  expire_at_ms: number;
  rev: number;
  /** Generation of the data records (collections only). */
  version: number;
  /** Element count (collections only). */
  size: number;
  /** List index range [head, tail) (lists only). */
  head: number;
  tail: number;
  /** Inline value (strings) or the graph header (graphs); empty otherwise. */
  value: Uint8Array;
}

const HEADER_BYTES = 17;
/** Middle of the list index space, so pushes on both ends have room. */
export const LIST_INITIAL_INDEX = 2 ** 52;

/** Encodes metadata into its record value. */
export function encodeMetadata(m: Metadata): Uint8Array {
  const body = m.type === RedisType.String
    ? m.value.length
    : m.type === RedisType.List
    ? 32
    : m.type === RedisType.Graph
    ? 16 + m.value.length
    : 16;
  const out = requestBytes.alloc(HEADER_BYTES + body);
  out[0] = m.type;
  putU64(out, 1, m.expire_at_ms);
  putU64(out, 9, m.rev);
  if (m.type === RedisType.String) {
    out.set(m.value, HEADER_BYTES);
    return out;
  }
  putU64(out, 17, m.version);
  putU64(out, 25, m.size);
  if (m.type === RedisType.List) {
    if (m.tail - m.head !== m.size) throw new Error("list metadata: size != tail - head");
    putU64(out, 33, m.head);
    putU64(out, 41, m.tail);
  }
  if (m.type === RedisType.Graph) out.set(m.value, 33);
  return out;
}

/** Decodes a metadata record value (asserts on a malformed record). */
export function decodeMetadata(b: Uint8Array): Metadata {
  if (b.length < HEADER_BYTES) throw new Error("metadata record too short");
  const type = b[0] as RedisType;
  if (type < RedisType.String || type > RedisType.Graph) throw new Error(`bad type ${type}`);
  const m: Metadata = {
    type,
    expire_at_ms: getU64(b, 1),
    rev: getU64(b, 9),
    version: 0,
    size: 0,
    head: 0,
    tail: 0,
    value: EMPTY_BYTES,
  };
  if (type === RedisType.String) {
    m.value = requestBytes.copy(b.subarray(HEADER_BYTES));
    return m;
  }
  m.version = getU64(b, 17);
  m.size = getU64(b, 25);
  if (type === RedisType.List) {
    m.head = getU64(b, 33);
    m.tail = getU64(b, 41);
  }
  if (type === RedisType.Graph) m.value = b.slice(33);
  return m;
}

/** True when the key has an expiry at or before `now_ms` (logically gone). */
export function isExpired(m: Metadata, now_ms: number): boolean {
  return m.expire_at_ms !== 0 && m.expire_at_ms <= now_ms;
}

/** A fresh metadata value of the given type (rev/version filled by the writer). */
export function newMetadata(type: RedisType, version: number): Metadata {
  return {
    type,
    expire_at_ms: 0,
    rev: 0,
    version,
    size: 0,
    head: type === RedisType.List ? LIST_INITIAL_INDEX : 0,
    tail: type === RedisType.List ? LIST_INITIAL_INDEX : 0,
    value: EMPTY_BYTES,
  };
}

let last_version = 0;
/**
 * A new data generation: time-based (so generations from other db processes
 * rarely meet) and strictly increasing within this process.
 */
export function nextVersion(now_ms: number): number {
  last_version = Math.max(last_version + 1, now_ms * 1024);
  return last_version;
}
