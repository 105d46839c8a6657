/**
 * How a graph is laid out on the KV keyspace. A graph is one user key K: its
 * metadata record M(K) (type {@link RedisType.Graph}) holds the usual header
 * (expiry, rev, data version) followed by the {@link GraphHeader}; every node,
 * relationship and index entry is a data record of the current generation
 *
 *     D = M(K) | 'd' | u64 version          (db/encoding/keys.ts dataPrefix)
 *
 *     D | 'N' | u64 node                             -> node record (labels, properties)
 *     D | 'E' | u64 edge                             -> edge record (type, src, dst, properties)
 *     D | 'O' | u64 src | u32 type | u64 dst | u64 edge  -> ""  (outgoing adjacency)
 *     D | 'I' | u64 dst | u32 type | u64 src | u64 edge  -> ""  (incoming adjacency)
 *     D | 'L' | u32 label | u64 node                 -> ""  (label index)
 *     D | 'X' | u32 label | u32 key | ordered value | u64 node -> "" (property index)
 *
 * Labels, relationship types and property keys are small integers assigned
 * in the header's catalog (like RedisGraph's schema ids), so adjacency and
 * index keys are fixed width up to the value. Because every record shares
 * M(K) as prefix, a graph never straddles a region boundary (the split-key
 * function cuts only between user keys) and a query's writes commit as one
 * RawBatch guarded by a precondition on M(K).
 *
 * Expansion is a prefix scan: all of a node's outgoing edges are `'O'|src`,
 * those of one type `'O'|src|type`; the same for `'I'` on the other side.
 * @module
 */
import { concat, u32, u64, utf8 } from "../encoding/bytes.ts";
import { encodeOrderedFloat } from "../encoding/float.ts";
import type { PropertyValue } from "./values.ts";

/** Sub-key tag of node records. */
export const SUB_NODE = 0x4e; // 'N'
/** Sub-key tag of edge records. */
export const SUB_EDGE = 0x45; // 'E'
/** Sub-key tag of outgoing adjacency records. */
export const SUB_OUT = 0x4f; // 'O'
/** Sub-key tag of incoming adjacency records. */
export const SUB_IN = 0x49; // 'I'
/** Sub-key tag of label index records. */
export const SUB_LABEL = 0x4c; // 'L'
/** Sub-key tag of property index records. */
export const SUB_INDEX = 0x58; // 'X'

/** Format byte at the start of node and edge records. */
const RECORD_FORMAT = 1;

// ---------------------------------------------------------------------------
// Sub keys (appended to the generation's data prefix).

function tagged(tag: number, ...parts: Uint8Array[]): Uint8Array {
  return concat(new Uint8Array([tag]), ...parts);
}

/** Writes a u32 big-endian (asserted in range). */
function setU32(b: Uint8Array, off: number, n: number): void {
  if (!(n >= 0 && n <= 0xffffffff && Number.isInteger(n))) {
    throw new Error(`u32 out of range: ${n}`);
  }
  b[off] = n >>> 24;
  b[off + 1] = (n >>> 16) & 0xff;
  b[off + 2] = (n >>> 8) & 0xff;
  b[off + 3] = n & 0xff;
}

/** Writes a non-negative safe integer as u64 big-endian (asserted). */
function setU64(b: Uint8Array, off: number, n: number): void {
  if (!(n >= 0 && Number.isSafeInteger(n))) throw new Error(`u64 out of range: ${n}`);
  setU32(b, off, Math.floor(n / 2 ** 32));
  setU32(b, off + 4, n >>> 0);
}

/** `'N' | node`. */
export function nodeSub(node: number): Uint8Array {
  const b = new Uint8Array(9);
  b[0] = SUB_NODE;
  setU64(b, 1, node);
  return b;
}

/** `'E' | edge`. */
export function edgeSub(edge: number): Uint8Array {
  const b = new Uint8Array(9);
  b[0] = SUB_EDGE;
  setU64(b, 1, edge);
  return b;
}

/** Prefix of every node record. */
export const NODES_SUB: Uint8Array = new Uint8Array([SUB_NODE]);
/** Prefix of every edge record. */
export const EDGES_SUB: Uint8Array = new Uint8Array([SUB_EDGE]);

/** Direction of an adjacency record. */
export type AdjDirection = "out" | "in";

/**
 * An adjacency record: `'O'|src|type|dst|edge` (out, `from` = src) or
 * `'I'|dst|type|src|edge` (in, `from` = dst).
 */
export function adjSub(
  dir: AdjDirection,
  from: number,
  type: number,
  to: number,
  edge: number,
): Uint8Array {
  const b = new Uint8Array(ADJ_SUB_BYTES);
  b[0] = dir === "out" ? SUB_OUT : SUB_IN;
  setU64(b, 1, from);
  setU32(b, 9, type);
  setU64(b, 13, to);
  setU64(b, 21, edge);
  return b;
}

/** Prefix of a node's adjacency in one direction, optionally of one type. */
export function adjPrefix(dir: AdjDirection, from: number, type?: number): Uint8Array {
  const tag = dir === "out" ? SUB_OUT : SUB_IN;
  return type === undefined ? tagged(tag, u64(from)) : tagged(tag, u64(from), u32(type));
}

/** Length of an adjacency sub key. */
export const ADJ_SUB_BYTES = 1 + 8 + 4 + 8 + 8;

/** Decoded adjacency sub key. */
export interface AdjEntry {
  from: number;
  type: number;
  to: number;
  edge: number;
}

/** Decodes an adjacency sub key (asserts the shape). */
export function decodeAdjSub(sub: Uint8Array): AdjEntry {
  if (sub.length !== ADJ_SUB_BYTES || (sub[0] !== SUB_OUT && sub[0] !== SUB_IN)) {
    throw new Error("malformed adjacency record key");
  }
  const v = new DataView(sub.buffer, sub.byteOffset, sub.byteLength);
  return {
    from: readU64(v, 1),
    type: v.getUint32(9),
    to: readU64(v, 13),
    edge: readU64(v, 21),
  };
}

/** `'L' | label | node`. */
export function labelSub(label: number, node: number): Uint8Array {
  const b = new Uint8Array(13);
  b[0] = SUB_LABEL;
  setU32(b, 1, label);
  setU64(b, 5, node);
  return b;
}

/** Prefix of one label's index. */
export function labelPrefix(label: number): Uint8Array {
  return tagged(SUB_LABEL, u32(label));
}

/** Node id at the end of a label or property index sub key. */
export function trailingId(sub: Uint8Array): number {
  if (sub.length < 9) throw new Error("index record key too short");
  return readU64(new DataView(sub.buffer, sub.byteOffset, sub.byteLength), sub.length - 8);
}

/** `'X' | label | key` : prefix of one property index. */
export function indexPrefix(label: number, key: number): Uint8Array {
  return tagged(SUB_INDEX, u32(label), u32(key));
}

/** `'X' | label | key | ordered value | node`. */
export function indexSub(
  label: number,
  key: number,
  ordered: Uint8Array,
  node: number,
): Uint8Array {
  return concat(indexPrefix(label, key), ordered, u64(node));
}

function readU64(v: DataView, off: number): number {
  const n = v.getUint32(off) * 2 ** 32 + v.getUint32(off + 4);
  if (!Number.isSafeInteger(n)) throw new Error("u64 beyond 2^53 in graph record");
  return n;
}

// ---------------------------------------------------------------------------
// Order-preserving encoding of indexed property values.

/** Longest string prefix (UTF-16 code units) an index key holds. */
export const MAX_INDEXED_UNITS = 1000;

/** Type class bytes of index values; ranges never cross classes. */
const CLASS_NUMBER = 0x10;
const CLASS_STRING = 0x20;
const CLASS_BOOL = 0x30;

/**
 * Order-preserving bytes of an indexable value, or null for values an index
 * does not hold (lists, NaN). Numbers (integers and floats alike, so `1` and
 * `1.0` meet) compare numerically through their float64 value — integers
 * beyond 2^53 share a slot with their neighbours, so readers re-check the
 * stored property exactly; strings by UTF-16 code unit (JavaScript's and
 * Cypher's string order), each unit as 2 bytes, U+0000 escaped as 00 00 FF FF,
 * terminated by 00 00 00 00 so a string sorts before its extensions;
 * booleans false < true. Strings longer than {@link MAX_INDEXED_UNITS} code
 * units keep only that many, terminated by 00 00 00 01 (store keys are at
 * most 8 KiB): it sorts after every string that is a prefix of the kept
 * part and before every longer string, so the order stays correct up to ties
 * between long strings with a common prefix, which readers resolve by
 * re-checking the property.
 */
export function orderedValue(v: PropertyValue): Uint8Array | null {
  switch (typeof v) {
    case "bigint":
      return concat(new Uint8Array([CLASS_NUMBER]), encodeOrderedFloat(Number(v)));
    case "number":
      if (Number.isNaN(v)) return null;
      return concat(new Uint8Array([CLASS_NUMBER]), encodeOrderedFloat(v));
    case "boolean":
      return new Uint8Array([CLASS_BOOL, v ? 1 : 0]);
    case "string": {
      const truncated = v.length > MAX_INDEXED_UNITS;
      const units = truncated ? MAX_INDEXED_UNITS : v.length;
      let n = 1 + 4;
      for (let i = 0; i < units; i++) n += v.charCodeAt(i) === 0 ? 4 : 2;
      const out = new Uint8Array(n);
      out[0] = CLASS_STRING;
      let o = 1;
      for (let i = 0; i < units; i++) {
        const c = v.charCodeAt(i);
        if (c === 0) {
          out[o + 2] = 0xff;
          out[o + 3] = 0xff;
          o += 4;
        } else {
          out[o] = c >> 8;
          out[o + 1] = c & 0xff;
          o += 2;
        }
      }
      // Terminator 00 00 00 00 (already zero), or 00 00 00 01 after a truncation.
      if (o + 4 !== n) throw new Error("ordered string length");
      if (truncated) out[n - 1] = 1;
      return out;
    }
  }
  return null;
}

/** First and last possible ordered bytes of a type class (for open ranges). */
export function orderedClassRange(v: PropertyValue): { lo: Uint8Array; hi: Uint8Array } | null {
  const cls = typeof v === "bigint" || typeof v === "number"
    ? CLASS_NUMBER
    : typeof v === "string"
    ? CLASS_STRING
    : typeof v === "boolean"
    ? CLASS_BOOL
    : 0;
  if (cls === 0) return null;
  return { lo: new Uint8Array([cls]), hi: new Uint8Array([cls + 1]) };
}

// ---------------------------------------------------------------------------
// Property values and records.

const T_FALSE = 1;
const T_TRUE = 2;
const T_INT = 3;
const T_FLOAT = 4;
const T_STRING = 5;
const T_LIST = 6;

const decoder = new TextDecoder("utf-8", { fatal: true });

/** A growable byte buffer for records. */
class Writer {
  buf = new Uint8Array(64);
  view = new DataView(this.buf.buffer);
  n = 0;

  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.n + k) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(x: number): void {
    this.room(1);
    this.buf[this.n++] = x;
  }

  u32(x: number): void {
    if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new Error(`u32 out of range: ${x}`);
    this.room(4);
    this.view.setUint32(this.n, x);
    this.n += 4;
  }

  u64(x: number): void {
    if (!Number.isSafeInteger(x) || x < 0) throw new Error(`u64 out of range: ${x}`);
    this.room(8);
    this.view.setUint32(this.n, Math.floor(x / 2 ** 32));
    this.view.setUint32(this.n + 4, x >>> 0);
    this.n += 8;
  }

  i64(x: bigint): void {
    this.room(8);
    this.view.setBigInt64(this.n, x);
    this.n += 8;
  }

  f64(x: number): void {
    this.room(8);
    this.view.setFloat64(this.n, x);
    this.n += 8;
  }

  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.room(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
  }

  done(): Uint8Array {
    return this.buf.slice(0, this.n);
  }
}

/** Reads what {@link Writer} wrote; every read is bounds-checked. */
class Reader {
  private view: DataView;
  off = 0;

  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(k: number): void {
    if (this.off + k > this.buf.length) throw new Error("graph record truncated");
  }

  u8(): number {
    this.need(1);
    return this.buf[this.off++];
  }

  u32(): number {
    this.need(4);
    const x = this.view.getUint32(this.off);
    this.off += 4;
    return x;
  }

  u64(): number {
    this.need(8);
    const x = readU64(this.view, this.off);
    this.off += 8;
    return x;
  }

  i64(): bigint {
    this.need(8);
    const x = this.view.getBigInt64(this.off);
    this.off += 8;
    return x;
  }

  f64(): number {
    this.need(8);
    const x = this.view.getFloat64(this.off);
    this.off += 8;
    return x;
  }

  bytes(): Uint8Array {
    const n = this.u32();
    this.need(n);
    const b = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return b;
  }

  end(): void {
    if (this.off !== this.buf.length) throw new Error("trailing bytes in graph record");
  }
}

function writeValue(w: Writer, v: PropertyValue): void {
  switch (typeof v) {
    case "boolean":
      w.u8(v ? T_TRUE : T_FALSE);
      return;
    case "bigint":
      w.u8(T_INT);
      w.i64(v);
      return;
    case "number":
      w.u8(T_FLOAT);
      w.f64(v);
      return;
    case "string":
      w.u8(T_STRING);
      w.bytes(utf8(v));
      return;
  }
  if (!Array.isArray(v)) throw new Error(`not a property value: ${String(v)}`);
  w.u8(T_LIST);
  w.u32(v.length);
  for (const x of v) writeValue(w, x);
}

function readValue(r: Reader): PropertyValue {
  const t = r.u8();
  switch (t) {
    case T_FALSE:
      return false;
    case T_TRUE:
      return true;
    case T_INT:
      return r.i64();
    case T_FLOAT:
      return r.f64();
    case T_STRING:
      return decoder.decode(r.bytes());
    case T_LIST: {
      const n = r.u32();
      const out: PropertyValue[] = [];
      for (let i = 0; i < n; i++) out.push(readValue(r));
      return out;
    }
  }
  throw new Error(`bad property value tag ${t}`);
}

/** Encodes one property value (used by tests and by the record codecs). */
export function encodeValue(v: PropertyValue): Uint8Array {
  const w = new Writer();
  writeValue(w, v);
  return w.done();
}

/** Inverse of {@link encodeValue}. */
export function decodeValue(b: Uint8Array): PropertyValue {
  const r = new Reader(b);
  const v = readValue(r);
  r.end();
  return v;
}

/** Properties keyed by property-key id, in insertion order. */
export type PropsById = Map<number, PropertyValue>;

function writeProps(w: Writer, props: PropsById): void {
  w.u32(props.size);
  for (const [k, v] of props) {
    w.u32(k);
    writeValue(w, v);
  }
}

function readProps(r: Reader): PropsById {
  const n = r.u32();
  const out: PropsById = new Map();
  for (let i = 0; i < n; i++) {
    const k = r.u32();
    if (out.has(k)) throw new Error("duplicate property key in graph record");
    out.set(k, readValue(r));
  }
  return out;
}

/** A stored node: label ids and properties by key id. */
export interface StoredNode {
  labels: number[];
  props: PropsById;
}

/** A stored relationship. */
export interface StoredEdge {
  type: number;
  src: number;
  dst: number;
  props: PropsById;
}

/** Node record value: `u8 format | u32 n | u32 label... | props`. */
export function encodeNode(n: StoredNode): Uint8Array {
  const w = new Writer();
  w.u8(RECORD_FORMAT);
  w.u32(n.labels.length);
  for (const l of n.labels) w.u32(l);
  writeProps(w, n.props);
  return w.done();
}

/** Inverse of {@link encodeNode}. */
export function decodeNode(b: Uint8Array): StoredNode {
  const r = new Reader(b);
  if (r.u8() !== RECORD_FORMAT) throw new Error("unknown node record format");
  const k = r.u32();
  const labels: number[] = [];
  for (let i = 0; i < k; i++) labels.push(r.u32());
  const props = readProps(r);
  r.end();
  return { labels, props };
}

/** Edge record value: `u8 format | u32 type | u64 src | u64 dst | props`. */
export function encodeEdge(e: StoredEdge): Uint8Array {
  const w = new Writer();
  w.u8(RECORD_FORMAT);
  w.u32(e.type);
  w.u64(e.src);
  w.u64(e.dst);
  writeProps(w, e.props);
  return w.done();
}

/** Inverse of {@link encodeEdge}. */
export function decodeEdge(b: Uint8Array): StoredEdge {
  const r = new Reader(b);
  if (r.u8() !== RECORD_FORMAT) throw new Error("unknown edge record format");
  const type = r.u32();
  const src = r.u64();
  const dst = r.u64();
  const props = readProps(r);
  r.end();
  return { type, src, dst, props };
}

// ---------------------------------------------------------------------------
// The graph header (tail of the metadata record).

/** One property index: nodes of `label` by property `key` (catalog ids). */
export interface IndexDef {
  label: number;
  key: number;
}

/**
 * Graph-wide state kept in the metadata record: id allocation, the catalog
 * (names of labels, relationship types and property keys; the id is the
 * position), per-label and per-type counts for the planner, and the indexes.
 */
export interface GraphHeader {
  next_node_id: number;
  next_edge_id: number;
  node_count: number;
  edge_count: number;
  labels: string[];
  label_counts: number[];
  types: string[];
  type_counts: number[];
  keys: string[];
  indexes: IndexDef[];
}

/** An empty graph's header. */
export function emptyHeader(): GraphHeader {
  return {
    next_node_id: 0,
    next_edge_id: 0,
    node_count: 0,
    edge_count: 0,
    labels: [],
    label_counts: [],
    types: [],
    type_counts: [],
    keys: [],
    indexes: [],
  };
}

/** Deep copy (a query mutates its own copy). */
export function cloneHeader(h: GraphHeader): GraphHeader {
  return {
    ...h,
    labels: [...h.labels],
    label_counts: [...h.label_counts],
    types: [...h.types],
    type_counts: [...h.type_counts],
    keys: [...h.keys],
    indexes: h.indexes.map((i) => ({ ...i })),
  };
}

/** Checks the header's invariants (throws on a corrupt header). */
export function checkHeader(h: GraphHeader): void {
  const nat = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0;
  const ok = nat(h.next_node_id) && nat(h.next_edge_id) && nat(h.node_count) &&
    nat(h.edge_count) && h.node_count <= h.next_node_id && h.edge_count <= h.next_edge_id &&
    Array.isArray(h.labels) && h.labels.length === h.label_counts.length &&
    Array.isArray(h.types) && h.types.length === h.type_counts.length &&
    h.label_counts.every(nat) && h.type_counts.every(nat) &&
    h.type_counts.reduce((a, b) => a + b, 0) === h.edge_count &&
    Array.isArray(h.keys) && h.keys.every((k) => typeof k === "string") &&
    h.indexes.every((i) => i.label < h.labels.length && i.key < h.keys.length);
  if (!ok) throw new Error("corrupt graph header");
}

/** Header bytes: `u8 format | JSON`. JSON keeps it inspectable; it is small. */
export function encodeHeader(h: GraphHeader): Uint8Array {
  checkHeader(h);
  return concat(new Uint8Array([RECORD_FORMAT]), utf8(JSON.stringify(h)));
}

/** Inverse of {@link encodeHeader}. */
export function decodeHeader(b: Uint8Array): GraphHeader {
  if (b.length < 2 || b[0] !== RECORD_FORMAT) throw new Error("unknown graph header format");
  const h = JSON.parse(decoder.decode(b.subarray(1))) as GraphHeader;
  checkHeader(h);
  return h;
}
