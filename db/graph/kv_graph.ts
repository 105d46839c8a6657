/**
 * {@link GraphStore} over the KV backend: one graph = one user key, laid out
 * as in ./encoding.ts, read and written through a {@link Txn} so that a
 * query's writes commit as one atomic RawBatch guarded by the graph's
 * metadata record (the caller re-runs the query when the guard fails).
 *
 * Writes are buffered in an ordered overlay (sub key -> value | deleted) that
 * every read consults first, so a query sees its own writes; scans merge the
 * overlay into paged backend scans. {@link KvGraphStore.flush} turns the
 * overlay into the transaction's mutations plus the new metadata record.
 * Backend reads of one graph state are shared between queries of this
 * process through {@link GraphStateCache}.
 * @module
 */
import * as btree_module from "sorted-btree";
import { concat, equal, fromLatin1, latin1, prefixEnd } from "../encoding/bytes.ts";
import { dataPrefix, metaKey } from "../encoding/keys.ts";
import { type Metadata, newMetadata, nextVersion, RedisType } from "../encoding/metadata.ts";
import type { Backend, RawPair } from "../backend.ts";
import { err } from "../resp/reply.ts";
import { CommandError, type DbContext, MAX_TXN_ATTEMPTS, Txn } from "../txn.ts";
import {
  adjPrefix,
  adjSub,
  cloneHeader,
  decodeAdjSub,
  decodeEdge,
  decodeHeader,
  decodeNode,
  edgeSub,
  emptyHeader,
  encodeEdge,
  encodeHeader,
  encodeNode,
  type GraphHeader,
  indexPrefix,
  indexSub,
  labelPrefix,
  labelSub,
  NODES_SUB,
  nodeSub,
  orderedClassRange,
  orderedValue,
  type PropsById,
  type StoredEdge,
  type StoredNode,
  trailingId,
} from "./encoding.ts";
import {
  type Direction,
  type EdgeRecord,
  type Expansion,
  type GraphStore,
  type IndexInfo,
  type IndexRange,
  nodeHasEdgesError,
  type NodeRecord,
} from "./graph_store.ts";
import { compare, type EntityId, equals, type PropertyValue } from "./values.ts";

/** Records fetched per backend scan page (and per batched node fetch). */
export const GRAPH_SCAN_PAGE = 256;

interface OrderedMap<V> {
  get(k: string): V | undefined;
  set(k: string, v: V): void;
  has(k: string): boolean;
  readonly size: number;
  entries(low?: string): IterableIterator<[string, V]>;
}
type OrderedMapCtor = new <V>() => OrderedMap<V>;
// Under Deno the npm module's default export arrives as a namespace whose
// `.default` is the class (see db/memory_backend.ts).
const mod = btree_module as unknown as { default: unknown };
const BTree =
  (typeof mod.default === "function"
    ? mod.default
    : (mod.default as { default: unknown }).default) as OrderedMapCtor;

/**
 * Records and scan pages of one graph as of one metadata record, shared by
 * the queries of this process. Every write of a graph rewrites its metadata
 * (rev + 1) in the same atomic batch, so the data under metadata bytes M is
 * fixed for as long as the metadata is M: a query that read M can take any
 * record or page cached under M. Entries are published only by queries that
 * proved no write happened while they read (see {@link runGraph}), so a value
 * of a later state never lands under an earlier M.
 */
export class GraphStateCache {
  readonly records = new Map<string, Uint8Array | null>();
  /** Backend scan pages by `from|end` (sub keys, latin1). */
  readonly pages = new Map<string, SubPair[]>();
  bytes = 0;

  constructor(readonly meta: string) {}
}

/** Bytes of cached records and pages one backend's graphs may hold in all. */
export const GRAPH_CACHE_MAX_BYTES = 64 * 1024 * 1024;

/** Graph user key (latin1) -> cache, per backend (tests run many backends). */
const CACHES = new WeakMap<Backend, Map<string, GraphStateCache>>();

function cacheFor(backend: Backend, key: string, meta: string): GraphStateCache {
  let m = CACHES.get(backend);
  if (!m) CACHES.set(backend, m = new Map());
  let c = m.get(key);
  if (!c || c.meta !== meta) {
    c = new GraphStateCache(meta);
    m.set(key, c);
  }
  return c;
}

function cachedBytes(backend: Backend): number {
  let n = 0;
  for (const c of CACHES.get(backend)?.values() ?? []) n += c.bytes;
  return n;
}

/** What {@link KvGraphStore.open} needs to know. */
export interface OpenOptions {
  /** Create an empty graph when the key is absent (GRAPH.QUERY); else return null. */
  create: boolean;
}

/** Overlay value: bytes, or null for "deleted by this query". */
type Pending = Uint8Array | null;

/** One KV record of the graph, sub key relative to the generation prefix. */
interface SubPair {
  sub: string;
  value: Uint8Array;
}

/** The view of one graph for one query attempt (see the module comment). */
export class KvGraphStore implements GraphStore {
  readonly #t: Txn;
  readonly #key: Uint8Array;
  readonly #meta: Metadata;
  readonly #prefix: Uint8Array;
  readonly #header: GraphHeader;
  readonly #created: boolean;
  readonly #overlay: OrderedMap<Pending> = new BTree<Pending>();
  /** Backend point reads (and prefetches) of this attempt, by sub key. */
  readonly #base = new Map<string, Promise<Uint8Array | null>>();
  /** Shared records of this graph state (null for a graph created by this query). */
  readonly #cache: GraphStateCache | null;
  /** Scan pages this attempt read from the backend, for {@link publish}. */
  readonly #pages = new Map<string, SubPair[]>();
  #label_ids = new Map<string, number>();
  #type_ids = new Map<string, number>();
  #key_ids = new Map<string, number>();
  /** Writes buffered so far (overlay entries set). */
  #writes = 0;
  #flushed = false;

  private constructor(
    t: Txn,
    key: Uint8Array,
    meta: Metadata,
    header: GraphHeader,
    created: boolean,
    cache: GraphStateCache | null,
  ) {
    this.#t = t;
    this.#cache = cache;
    this.#key = key;
    this.#meta = meta;
    this.#prefix = dataPrefix(key, meta.version);
    this.#header = header;
    this.#created = created;
    header.labels.forEach((n, i) => this.#label_ids.set(n, i));
    header.types.forEach((n, i) => this.#type_ids.set(n, i));
    header.keys.forEach((n, i) => this.#key_ids.set(n, i));
  }

  /**
   * Opens graph `key` in transaction `t` (reading its metadata records a
   * precondition). Throws WRONGTYPE (a CommandError) for a non-graph key;
   * returns null for a missing key unless `opts.create`.
   */
  static async open(t: Txn, key: Uint8Array, opts: OpenOptions): Promise<KvGraphStore | null> {
    const m = await t.metaOf(key, RedisType.Graph);
    if (m) {
      const mk = metaKey(key);
      const raw = t.readSet().find((r) => equal(r.key, mk))?.raw;
      if (!raw) throw new Error("graph metadata read without a precondition");
      const cache = cacheFor(t.backend, latin1(key), latin1(raw));
      return new KvGraphStore(t, key, m, decodeHeader(m.value), false, cache);
    }
    if (!opts.create) return null;
    const fresh = newMetadata(RedisType.Graph, nextVersion(t.now_ms));
    return new KvGraphStore(t, key, fresh, emptyHeader(), true, null);
  }

  /** True when this attempt changed the graph (or created it). */
  get dirty(): boolean {
    return this.#writes > 0 || this.#created;
  }

  /** A copy of the graph header as this query sees it now. */
  header(): GraphHeader {
    return cloneHeader(this.#header);
  }

  /**
   * Emits the buffered writes into the transaction: one put/delete per
   * touched record and the new metadata (header, bumped rev). Call once, after
   * the query succeeded; nothing is emitted for an unchanged existing graph.
   */
  flush(): void {
    if (this.#flushed) throw new Error("KvGraphStore flushed twice");
    this.#flushed = true;
    if (!this.dirty) return;
    for (const [sub, v] of this.#overlay.entries()) {
      const raw = concat(this.#prefix, fromLatin1(sub));
      if (v === null) this.#t.del(raw);
      else this.#t.put(raw, v);
    }
    this.#t.setMeta(this.#key, {
      ...this.#meta,
      size: this.#header.node_count,
      value: encodeHeader(this.#header),
    });
  }

  // ----- raw record access ---------------------------------------------------

  #full(sub: Uint8Array): Uint8Array {
    return concat(this.#prefix, sub);
  }

  #put(sub: Uint8Array, value: Uint8Array): void {
    this.#overlay.set(latin1(sub), value);
    this.#wrote();
  }

  #del(sub: Uint8Array): void {
    this.#overlay.set(latin1(sub), null);
    this.#wrote();
  }

  /** Counts a write; stops a query as soon as its batch could not be committed. */
  #wrote(): void {
    this.#writes++;
    // + the metadata put and its precondition.
    const items = this.#overlay.size + 2;
    if (items > MAX_GRAPH_BATCH_ITEMS) throw batchTooBig(items, null);
  }

  /** The backend's value of a record (cached per attempt). */
  #baseGet(sub: string): Promise<Uint8Array | null> {
    let p = this.#base.get(sub);
    if (!p) {
      const hit = this.#cache?.records.get(sub);
      p = hit !== undefined ? Promise.resolve(hit) : this.#t.get(this.#full(fromLatin1(sub)));
      p.catch(() => {});
      this.#base.set(sub, p);
    }
    return p;
  }

  /** Starts one batched backend read of the records not yet known. */
  #prefetch(subs: string[]): void {
    const todo = [...new Set(subs)].filter((s) =>
      !this.#overlay.has(s) && !this.#base.has(s) && !this.#cache?.records.has(s)
    );
    if (todo.length === 0) return;
    const all = this.#t.getMany(todo.map((s) => this.#full(fromLatin1(s))));
    all.catch(() => {});
    todo.forEach((s, i) => {
      const one = all.then((vals) => vals[i]);
      one.catch(() => {});
      this.#base.set(s, one);
    });
  }

  /** Current value of a record: the overlay first, then the backend. */
  async #read(sub: string): Promise<Uint8Array | null> {
    const o = this.#overlay.get(sub);
    if (o !== undefined) return o;
    return await this.#baseGet(sub);
  }

  /**
   * Every record with start <= sub < end, in key order, merging the overlay
   * into backend pages. Each record is re-checked against the overlay when it
   * is yielded, so records deleted meanwhile are skipped and updated ones come
   * out updated; the cursor only moves forward, so nothing is yielded twice.
   */
  async *#scan(start: Uint8Array, end: Uint8Array): AsyncGenerator<SubPair> {
    const end_s = latin1(end);
    const raw_end = this.#full(end);
    let from = start;
    for (;;) {
      const from_s = latin1(from);
      const base = await this.#page(from_s, from, end_s, raw_end);
      const done = base.length < GRAPH_SCAN_PAGE;
      // Overlay entries inside what this page covers.
      const last = base.length > 0 ? base[base.length - 1].sub : null;
      const pending: Array<[string, Pending]> = [];
      for (const [k, v] of this.#overlay.entries(from_s)) {
        if (k >= end_s || (!done && last !== null && k > last)) break;
        pending.push([k, v]);
      }
      let i = 0, j = 0;
      while (i < base.length || j < pending.length) {
        let sub: string;
        let stored: Uint8Array | null = null;
        if (j >= pending.length || (i < base.length && base[i].sub < pending[j][0])) {
          sub = base[i].sub;
          stored = base[i++].value;
        } else {
          sub = pending[j++][0];
          if (i < base.length && base[i].sub === sub) stored = base[i++].value;
        }
        const o = this.#overlay.get(sub);
        const value = o !== undefined ? o : stored;
        if (value !== null) yield { sub, value };
      }
      if (done || last === null) return;
      from = concat(fromLatin1(last), new Uint8Array([0]));
    }
  }

  /** One backend scan page from `from` (sub key) to `end`, cached per graph state. */
  async #page(from_s: string, from: Uint8Array, end_s: string, raw_end: Uint8Array) {
    const id = `${from_s}|${end_s}`;
    const hit = this.#cache?.pages.get(id) ?? this.#pages.get(id);
    if (hit) return hit;
    const page: RawPair[] = await this.#t.scan(this.#full(from), raw_end, GRAPH_SCAN_PAGE);
    const out: SubPair[] = page.map((p) => ({
      sub: latin1(p.key.subarray(this.#prefix.length)),
      value: p.value,
    }));
    this.#pages.set(id, out);
    return out;
  }

  /**
   * Shares what this attempt read from the backend with later queries of the
   * same graph state. Only for an attempt whose reads were all of the state
   * its metadata named (the caller checked: nothing committed meanwhile).
   */
  async publish(): Promise<void> {
    const c = this.#cache;
    if (!c) return;
    const budget = GRAPH_CACHE_MAX_BYTES - cachedBytes(this.#t.backend);
    let bytes = 0;
    const records: Array<[string, Uint8Array | null]> = [];
    for (const [sub, p] of this.#base) {
      if (c.records.has(sub)) continue;
      // A prefetch nobody awaited may have failed: just leave it out.
      const v = await p.then((x) => x, () => undefined);
      if (v === undefined) continue;
      bytes += sub.length + (v?.length ?? 0) + 32;
      records.push([sub, v]);
    }
    const pages = [...this.#pages].filter(([id]) => !c.pages.has(id));
    for (const [id, page] of pages) {
      bytes += id.length + 32;
      for (const r of page) bytes += r.sub.length + r.value.length + 32;
    }
    // Over budget: keep what is there (it stays valid) rather than evicting.
    if (bytes > budget) return;
    for (const [sub, v] of records) c.records.set(sub, v);
    for (const [id, page] of pages) c.pages.set(id, page);
    c.bytes += bytes;
  }

  /** Prefix scan over one sub-key prefix. */
  #scanPrefix(p: Uint8Array): AsyncGenerator<SubPair> {
    return this.#scan(p, prefixEnd(p));
  }

  // ----- catalog -------------------------------------------------------------

  #labelId(name: string, create: boolean): number | undefined {
    let id = this.#label_ids.get(name);
    if (id === undefined && create) {
      id = this.#header.labels.length;
      this.#header.labels.push(name);
      this.#header.label_counts.push(0);
      this.#label_ids.set(name, id);
    }
    return id;
  }

  #typeId(name: string, create: boolean): number | undefined {
    let id = this.#type_ids.get(name);
    if (id === undefined && create) {
      id = this.#header.types.length;
      this.#header.types.push(name);
      this.#header.type_counts.push(0);
      this.#type_ids.set(name, id);
    }
    return id;
  }

  #keyId(name: string, create: boolean): number | undefined {
    let id = this.#key_ids.get(name);
    if (id === undefined && create) {
      id = this.#header.keys.length;
      this.#header.keys.push(name);
      this.#key_ids.set(name, id);
    }
    return id;
  }

  #propsById(props: ReadonlyMap<string, PropertyValue>): PropsById {
    const out: PropsById = new Map();
    for (const [k, v] of props) out.set(this.#keyId(k, true)!, v);
    return out;
  }

  #propsByName(props: PropsById): Map<string, PropertyValue> {
    const out = new Map<string, PropertyValue>();
    for (const [k, v] of props) {
      const name = this.#header.keys[k];
      if (name === undefined) throw new Error(`graph record names unknown property key ${k}`);
      out.set(name, v);
    }
    return out;
  }

  #nodeRecord(id: EntityId, s: StoredNode): NodeRecord {
    const labels = s.labels.map((l) => {
      const name = this.#header.labels[l];
      if (name === undefined) throw new Error(`node ${id} has unknown label ${l}`);
      return name;
    });
    return { id, labels, properties: this.#propsByName(s.props) };
  }

  #edgeRecord(id: EntityId, s: StoredEdge): EdgeRecord {
    const type = this.#header.types[s.type];
    if (type === undefined) throw new Error(`edge ${id} has unknown type ${s.type}`);
    return { id, type, src: s.src, dst: s.dst, properties: this.#propsByName(s.props) };
  }

  /** Indexes (by key id) that cover nodes of label `label`. */
  #indexKeysOf(label: number): number[] {
    return this.#header.indexes.filter((i) => i.label === label).map((i) => i.key);
  }

  #indexPut(label: number, key: number, v: PropertyValue | undefined, node: EntityId): void {
    if (v === undefined) return;
    const o = orderedValue(v);
    if (o) this.#put(indexSub(label, key, o, node), new Uint8Array(0));
  }

  #indexDel(label: number, key: number, v: PropertyValue | undefined, node: EntityId): void {
    if (v === undefined) return;
    const o = orderedValue(v);
    if (o) this.#del(indexSub(label, key, o, node));
  }

  // ----- reads ---------------------------------------------------------------

  async #storedNode(id: EntityId): Promise<StoredNode | null> {
    const v = await this.#read(latin1(nodeSub(id)));
    return v ? decodeNode(v) : null;
  }

  async #storedEdge(id: EntityId): Promise<StoredEdge | null> {
    const v = await this.#read(latin1(edgeSub(id)));
    return v ? decodeEdge(v) : null;
  }

  /** See {@link GraphStore.getNode}. */
  async getNode(id: EntityId): Promise<NodeRecord | null> {
    const s = await this.#storedNode(id);
    return s ? this.#nodeRecord(id, s) : null;
  }

  /** See {@link GraphStore.getEdge}. */
  async getEdge(id: EntityId): Promise<EdgeRecord | null> {
    const s = await this.#storedEdge(id);
    return s ? this.#edgeRecord(id, s) : null;
  }

  /** See {@link GraphStore.scanNodes}. */
  async *scanNodes(): AsyncIterable<NodeRecord> {
    for await (const r of this.#scanPrefix(NODES_SUB)) {
      const id = trailingId(fromLatin1(r.sub));
      yield this.#nodeRecord(id, decodeNode(r.value));
    }
  }

  /**
   * Nodes for a stream of candidate ids, fetched in batches; `keep` filters
   * the decoded record (e.g. exact re-check after an index seek).
   */
  async *#nodesOf(
    ids: AsyncIterable<number>,
    keep: (n: NodeRecord) => boolean,
  ): AsyncGenerator<NodeRecord> {
    let batch: number[] = [];
    const drain = async function* (self: KvGraphStore, list: number[]) {
      self.#prefetch(list.map((id) => latin1(nodeSub(id))));
      for (const id of list) {
        const n = await self.getNode(id);
        if (n && keep(n)) yield n;
      }
    };
    for await (const id of ids) {
      batch.push(id);
      if (batch.length >= GRAPH_SCAN_PAGE) {
        yield* drain(this, batch);
        batch = [];
      }
    }
    yield* drain(this, batch);
  }

  async *#idsUnder(p: Uint8Array): AsyncGenerator<number> {
    for await (const r of this.#scanPrefix(p)) yield trailingId(fromLatin1(r.sub));
  }

  /** See {@link GraphStore.scanNodesByLabel}. */
  async *scanNodesByLabel(label: string): AsyncIterable<NodeRecord> {
    const l = this.#labelId(label, false);
    if (l === undefined) return;
    yield* this.#nodesOf(this.#idsUnder(labelPrefix(l)), (n) => n.labels.includes(label));
  }

  /** Label scan filtered by a predicate on one property (no usable index). */
  #filtered(
    label: string,
    property: string,
    ok: (v: PropertyValue) => boolean,
  ): AsyncGenerator<NodeRecord> {
    const l = this.#labelId(label, false);
    if (l === undefined) return (async function* () {})();
    return this.#nodesOf(this.#idsUnder(labelPrefix(l)), (n) => {
      const v = n.properties.get(property);
      return n.labels.includes(label) && v !== undefined && ok(v);
    });
  }

  #indexIds(label: string, property: string): { l: number; k: number } | null {
    const l = this.#labelId(label, false);
    const k = this.#keyId(property, false);
    if (l === undefined || k === undefined) return null;
    if (!this.#header.indexes.some((i) => i.label === l && i.key === k)) return null;
    return { l, k };
  }

  /** See {@link GraphStore.seekIndex}. */
  async *seekIndex(
    label: string,
    property: string,
    value: PropertyValue,
  ): AsyncIterable<NodeRecord> {
    const match = (v: PropertyValue) => equals(v, value) === true;
    const ids = this.#indexIds(label, property);
    const o = orderedValue(value);
    if (!ids || !o) {
      // Lists and NaN are not in the index (NaN equals nothing anyway).
      if (typeof value === "number" && Number.isNaN(value)) return;
      yield* this.#filtered(label, property, match);
      return;
    }
    const keep = (n: NodeRecord) => {
      const v = n.properties.get(property);
      return n.labels.includes(label) && v !== undefined && match(v);
    };
    yield* this.#nodesOf(this.#idsUnder(concat(indexPrefix(ids.l, ids.k), o)), keep);
  }

  /** See {@link GraphStore.seekIndexRange}. */
  async *seekIndexRange(
    label: string,
    property: string,
    range: IndexRange,
  ): AsyncIterable<NodeRecord> {
    const inRange = (v: PropertyValue) => {
      if (range.lower) {
        const c = compare(v, range.lower.value);
        if (c === null || c < 0 || (c === 0 && !range.lower.inclusive)) return false;
      }
      if (range.upper) {
        const c = compare(v, range.upper.value);
        if (c === null || c > 0 || (c === 0 && !range.upper.inclusive)) return false;
      }
      return true;
    };
    const ids = this.#indexIds(label, property);
    const lo = range.lower ? orderedValue(range.lower.value) : null;
    const hi = range.upper ? orderedValue(range.upper.value) : null;
    const bound = range.lower?.value ?? range.upper?.value;
    const cls = bound === undefined ? null : orderedClassRange(bound);
    if (
      !ids || !cls || (range.lower && !lo) || (range.upper && !hi) ||
      (range.lower && range.upper &&
        orderedClassRange(range.lower.value)?.lo[0] !== orderedClassRange(range.upper.value)?.lo[0])
    ) {
      // No index, an unindexable bound (list, NaN) or bounds of two types:
      // answer by scanning (mixed types and NaN match nothing; lists may).
      yield* this.#filtered(label, property, inRange);
      return;
    }
    const p = indexPrefix(ids.l, ids.k);
    // Inclusive on both ends at the byte level, then exact re-check: large
    // integers share float64 slots and long strings are truncated.
    const start = concat(p, lo ?? cls.lo);
    const end = hi ? prefixEnd(concat(p, hi)) : concat(p, cls.hi);
    const keep = (n: NodeRecord) => {
      const v = n.properties.get(property);
      return n.labels.includes(label) && v !== undefined && inRange(v);
    };
    yield* this.#nodesOf(this.#ids(start, end), keep);
  }

  async *#ids(start: Uint8Array, end: Uint8Array): AsyncGenerator<number> {
    for await (const r of this.#scan(start, end)) yield trailingId(fromLatin1(r.sub));
  }

  /** See {@link GraphStore.expand}. */
  async *expand(
    node: EntityId,
    direction: Direction,
    types: readonly string[],
  ): AsyncIterable<Expansion> {
    const type_ids: Array<number | undefined> = types.length === 0
      ? [undefined]
      : [...new Set(types)].map((t) => this.#typeId(t, false)).filter((t) => t !== undefined);
    const dirs: Array<"out" | "in"> = direction === "both" ? ["out", "in"] : [direction];
    for (const dir of dirs) {
      for (const type of type_ids) {
        let page: Expansion[] = [];
        const flush = function* (self: KvGraphStore, list: Expansion[]) {
          self.#prefetch(list.map((x) => latin1(nodeSub(x.neighbour))));
          yield* list;
        };
        for await (const r of this.#scanPrefix(adjPrefix(dir, node, type))) {
          const a = decodeAdjSub(fromLatin1(r.sub));
          // A self-loop shows up in both lists; `both` yields it once.
          if (dir === "in" && direction === "both" && a.to === node) continue;
          page.push({ edge: this.#edgeRecord(a.edge, decodeEdge(r.value)), neighbour: a.to });
          if (page.length >= GRAPH_SCAN_PAGE) {
            yield* flush(this, page);
            page = [];
          }
        }
        yield* flush(this, page);
      }
    }
  }

  /** See {@link GraphStore.countNodes}. */
  countNodes(): Promise<number> {
    return Promise.resolve(this.#header.node_count);
  }

  /** See {@link GraphStore.countNodesByLabel}. */
  countNodesByLabel(label: string): Promise<number> {
    const l = this.#labelId(label, false);
    return Promise.resolve(l === undefined ? 0 : this.#header.label_counts[l]);
  }

  /** See {@link GraphStore.countEdgesByType}. */
  countEdgesByType(type: string): Promise<number> {
    const t = this.#typeId(type, false);
    return Promise.resolve(t === undefined ? 0 : this.#header.type_counts[t]);
  }

  /** See {@link GraphStore.listIndexes}. */
  listIndexes(): Promise<IndexInfo[]> {
    return Promise.resolve(this.#header.indexes.map((i) => ({
      label: this.#header.labels[i.label],
      property: this.#header.keys[i.key],
    })));
  }

  // ----- writes --------------------------------------------------------------

  /** See {@link GraphStore.createNode}. */
  createNode(
    labels: readonly string[],
    properties: ReadonlyMap<string, PropertyValue>,
  ): Promise<EntityId> {
    const h = this.#header;
    const id = h.next_node_id++;
    h.node_count++;
    const label_ids = [...new Set(labels)].map((l) => this.#labelId(l, true)!);
    const props = this.#propsById(properties);
    this.#put(nodeSub(id), encodeNode({ labels: label_ids, props }));
    for (const l of label_ids) {
      h.label_counts[l]++;
      this.#put(labelSub(l, id), new Uint8Array(0));
      for (const k of this.#indexKeysOf(l)) this.#indexPut(l, k, props.get(k), id);
    }
    return Promise.resolve(id);
  }

  /** Writes an edge's three records (edge, out- and in-adjacency). */
  #putEdge(id: EntityId, e: StoredEdge): void {
    const v = encodeEdge(e);
    this.#put(edgeSub(id), v);
    this.#put(adjSub("out", e.src, e.type, e.dst, id), v);
    this.#put(adjSub("in", e.dst, e.type, e.src, id), v);
  }

  /** See {@link GraphStore.createEdge}. */
  async createEdge(
    type: string,
    src: EntityId,
    dst: EntityId,
    properties: ReadonlyMap<string, PropertyValue>,
  ): Promise<EntityId> {
    // Existence only: the raw records, not decoded.
    const a = await this.#read(latin1(nodeSub(src)));
    const b = src === dst ? a : await this.#read(latin1(nodeSub(dst)));
    if (!a || !b) throw new Error(`createEdge between missing nodes ${src} -> ${dst}`);
    const h = this.#header;
    const id = h.next_edge_id++;
    h.edge_count++;
    const t = this.#typeId(type, true)!;
    h.type_counts[t]++;
    this.#putEdge(id, { type: t, src, dst, props: this.#propsById(properties) });
    return id;
  }

  async #mustNode(id: EntityId): Promise<StoredNode> {
    const n = await this.#storedNode(id);
    if (!n) throw new Error(`node ${id} does not exist`);
    return n;
  }

  async #mustEdge(id: EntityId): Promise<StoredEdge> {
    const e = await this.#storedEdge(id);
    if (!e) throw new Error(`edge ${id} does not exist`);
    return e;
  }

  /** See {@link GraphStore.setNodeProperty}. */
  async setNodeProperty(id: EntityId, key: string, value: PropertyValue): Promise<void> {
    const n = await this.#mustNode(id);
    const k = this.#keyId(key, true)!;
    const old = n.props.get(k);
    for (const l of n.labels) {
      if (!this.#indexKeysOf(l).includes(k)) continue;
      this.#indexDel(l, k, old, id);
      this.#indexPut(l, k, value, id);
    }
    n.props.set(k, value);
    this.#put(nodeSub(id), encodeNode(n));
  }

  /** See {@link GraphStore.removeNodeProperty}. */
  async removeNodeProperty(id: EntityId, key: string): Promise<boolean> {
    const n = await this.#mustNode(id);
    const k = this.#keyId(key, false);
    if (k === undefined || !n.props.has(k)) return false;
    for (const l of n.labels) {
      if (this.#indexKeysOf(l).includes(k)) this.#indexDel(l, k, n.props.get(k), id);
    }
    n.props.delete(k);
    this.#put(nodeSub(id), encodeNode(n));
    return true;
  }

  /** See {@link GraphStore.setEdgeProperty}. */
  async setEdgeProperty(id: EntityId, key: string, value: PropertyValue): Promise<void> {
    const e = await this.#mustEdge(id);
    e.props.set(this.#keyId(key, true)!, value);
    this.#putEdge(id, e);
  }

  /** See {@link GraphStore.removeEdgeProperty}. */
  async removeEdgeProperty(id: EntityId, key: string): Promise<boolean> {
    const e = await this.#mustEdge(id);
    const k = this.#keyId(key, false);
    if (k === undefined || !e.props.has(k)) return false;
    e.props.delete(k);
    this.#putEdge(id, e);
    return true;
  }

  /** See {@link GraphStore.addLabels}. */
  async addLabels(id: EntityId, labels: readonly string[]): Promise<number> {
    const n = await this.#mustNode(id);
    let added = 0;
    for (const name of new Set(labels)) {
      const l = this.#labelId(name, true)!;
      if (n.labels.includes(l)) continue;
      n.labels.push(l);
      this.#header.label_counts[l]++;
      this.#put(labelSub(l, id), new Uint8Array(0));
      for (const k of this.#indexKeysOf(l)) this.#indexPut(l, k, n.props.get(k), id);
      added++;
    }
    if (added > 0) this.#put(nodeSub(id), encodeNode(n));
    return added;
  }

  /** See {@link GraphStore.removeLabels}. */
  async removeLabels(id: EntityId, labels: readonly string[]): Promise<number> {
    const n = await this.#mustNode(id);
    let removed = 0;
    for (const name of new Set(labels)) {
      const l = this.#labelId(name, false);
      if (l === undefined || !n.labels.includes(l)) continue;
      n.labels = n.labels.filter((x) => x !== l);
      this.#header.label_counts[l]--;
      this.#del(labelSub(l, id));
      for (const k of this.#indexKeysOf(l)) this.#indexDel(l, k, n.props.get(k), id);
      removed++;
    }
    if (removed > 0) this.#put(nodeSub(id), encodeNode(n));
    return removed;
  }

  /** Deletes an edge's three records and counts it out. */
  #dropEdge(id: EntityId, e: StoredEdge): void {
    this.#del(edgeSub(id));
    this.#del(adjSub("out", e.src, e.type, e.dst, id));
    this.#del(adjSub("in", e.dst, e.type, e.src, id));
    this.#header.edge_count--;
    this.#header.type_counts[e.type]--;
    if (this.#header.edge_count < 0 || this.#header.type_counts[e.type] < 0) {
      throw new Error("graph edge counts below zero");
    }
  }

  /** See {@link GraphStore.deleteNode}. */
  async deleteNode(id: EntityId, detach: boolean): Promise<number> {
    const n = await this.#storedNode(id);
    if (!n) return 0;
    const edges = new Map<number, StoredEdge>();
    for (const dir of ["out", "in"] as const) {
      for await (const r of this.#scanPrefix(adjPrefix(dir, id))) {
        const a = decodeAdjSub(fromLatin1(r.sub));
        edges.set(a.edge, decodeEdge(r.value));
        if (!detach) throw nodeHasEdgesError(id);
      }
    }
    for (const [eid, e] of edges) this.#dropEdge(eid, e);
    for (const l of n.labels) {
      this.#del(labelSub(l, id));
      this.#header.label_counts[l]--;
      for (const k of this.#indexKeysOf(l)) this.#indexDel(l, k, n.props.get(k), id);
    }
    this.#del(nodeSub(id));
    this.#header.node_count--;
    if (this.#header.node_count < 0) throw new Error("graph node count below zero");
    return edges.size;
  }

  /** See {@link GraphStore.deleteEdge}. */
  async deleteEdge(id: EntityId): Promise<boolean> {
    const e = await this.#storedEdge(id);
    if (!e) return false;
    this.#dropEdge(id, e);
    return true;
  }

  /** See {@link GraphStore.createIndex}. */
  async createIndex(label: string, property: string): Promise<boolean> {
    const l = this.#labelId(label, true)!;
    const k = this.#keyId(property, true)!;
    if (this.#header.indexes.some((i) => i.label === l && i.key === k)) return false;
    this.#header.indexes.push({ label: l, key: k });
    // Mark the header changed even when there is nothing to backfill.
    this.#writes++;
    const ids: number[] = [];
    for await (const r of this.#scanPrefix(labelPrefix(l))) ids.push(trailingId(fromLatin1(r.sub)));
    for (let i = 0; i < ids.length; i += GRAPH_SCAN_PAGE) {
      const chunk = ids.slice(i, i + GRAPH_SCAN_PAGE);
      this.#prefetch(chunk.map((id) => latin1(nodeSub(id))));
      for (const id of chunk) {
        const n = await this.#storedNode(id);
        if (n) this.#indexPut(l, k, n.props.get(k), id);
      }
    }
    return true;
  }

  /** See {@link GraphStore.dropIndex}. */
  async dropIndex(label: string, property: string): Promise<boolean> {
    const ids = this.#indexIds(label, property);
    if (!ids) return false;
    this.#header.indexes = this.#header.indexes.filter((i) =>
      !(i.label === ids.l && i.key === ids.k)
    );
    this.#writes++;
    const doomed: string[] = [];
    for await (const r of this.#scanPrefix(indexPrefix(ids.l, ids.k))) doomed.push(r.sub);
    for (const s of doomed) this.#del(fromLatin1(s));
    return true;
  }
}

/** Settings of one {@link runGraph} call. */
export interface GraphRunOptions {
  /** Create a missing graph (GRAPH.QUERY does, like RedisGraph; RO_QUERY does not). */
  create: boolean;
  /**
   * Queue behind other latched queries on this key in this process (writers:
   * fewer precondition failures); read-only queries skip it.
   */
  latch: boolean;
  /** Wall-clock time (ms since the epoch) after which no new attempt starts. */
  deadline_ms: number;
}

/**
 * Largest RawBatch the store accepts: items (mutations + preconditions) and
 * bytes (keys + values), as store/server/validate.ts MAX_BATCH_ITEMS and
 * MAX_BATCH_BYTES (a test keeps them equal). One query's writes are one
 * batch, so this bounds what one query may write.
 */
export const MAX_GRAPH_BATCH_ITEMS = 10_000;
/** See {@link MAX_GRAPH_BATCH_ITEMS}. */
export const MAX_GRAPH_BATCH_BYTES = 32 * 1024 * 1024;

/**
 * Attempts of one query before giving up on contention even when its time
 * limit is off (with a limit, the deadline usually ends the retries first).
 */
export const MAX_GRAPH_ATTEMPTS = 1000;

const CONTENTION = "ERR too much contention on the graph, try again";

/** The error of a query that ran out of time (FalkorDB's text). */
export const QUERY_TIMED_OUT = "ERR Query timed out";

/**
 * Runs `fn` on a fresh view of graph `key` until its effect commits: the
 * writes it buffered go out as one RawBatch guarded by the graph's metadata,
 * and a failed guard (another writer got there first) re-runs `fn` from
 * scratch. A run that wrote nothing but read several times is re-validated
 * (its metadata still the same) so it never returns a torn view. Runs are
 * retried with jittered exponential backoff (1–64 ms) until the deadline.
 * `fn` gets null for a missing graph when `opts.create` is false. Throws a
 * CommandError when attempts or time run out.
 */
export async function runGraph<T>(
  db: DbContext,
  key: Uint8Array,
  opts: GraphRunOptions,
  fn: (store: KvGraphStore | null) => Promise<T>,
): Promise<T> {
  const release = opts.latch ? await db.latches.acquire([latin1(key)]) : null;
  try {
    for (let attempt = 0;; attempt++) {
      const t = new Txn(db.backend, db.now_ms());
      const store = await KvGraphStore.open(t, key, { create: opts.create });
      const result = await fn(store);
      store?.flush();
      if (t.mutations.length === 0) {
        if (t.reads <= 1 || t.preconditions.length === 0) return result;
        if ((await t.firstChangedRead()) === null) {
          // The metadata did not change while the query read: its reads are
          // all of that one state, which later queries may reuse.
          await store?.publish();
          return result;
        }
      } else {
        checkBatchSize(t);
        const out = await db.backend.batch(t.mutations, t.preconditions);
        if (out.ok) return result;
      }
      // Lost a race with another writer (here or in another db process):
      // run again until the query's deadline, backing off with jitter so
      // that competing processes stop colliding in lockstep.
      if (db.now_ms() >= opts.deadline_ms) {
        throw new CommandError(err(attempt + 1 >= MAX_TXN_ATTEMPTS ? CONTENTION : QUERY_TIMED_OUT));
      }
      if (attempt + 1 >= MAX_GRAPH_ATTEMPTS) throw new CommandError(err(CONTENTION));
      const backoff_ms = Math.min(64, 2 ** Math.min(attempt, 6)) * (0.5 + Math.random());
      await new Promise((r) => setTimeout(r, backoff_ms));
    }
  } finally {
    release?.();
  }
}

/** Refuses a batch the store would reject, with an error that says what to do. */
function checkBatchSize(t: Txn): void {
  const items = t.mutations.length + t.preconditions.length;
  let bytes = 0;
  for (const m of t.mutations) bytes += m.key.length + m.value.length;
  for (const p of t.preconditions) bytes += p.key.length + p.value.length;
  if (items > MAX_GRAPH_BATCH_ITEMS || bytes > MAX_GRAPH_BATCH_BYTES) {
    throw batchTooBig(items, bytes);
  }
}

function batchTooBig(items: number, bytes: number | null): CommandError {
  const what = bytes === null ? `over ${items - 1} records` : `${items} records (${bytes} bytes)`;
  return new CommandError(
    err(
      `ERR query writes ${what} but one atomic batch holds at most ` +
        `${MAX_GRAPH_BATCH_ITEMS} records and ${MAX_GRAPH_BATCH_BYTES} bytes ` +
        `(a node is 1 record + 1 per label and indexed property, a relationship 3): ` +
        `split it into smaller queries`,
    ),
  );
}
