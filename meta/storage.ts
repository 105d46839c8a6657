/**
 * Meta's durable state as KV records in the meta region (region 1 of the meta
 * nodes), written through the region worker's request path: every write is a
 * Raft proposal, compare-and-set via preconditions; every read is a
 * linearizable (ReadIndex) read. Layout, cf "default":
 *
 *     "cluster"          metapb.Cluster        written once, NotExists
 *     "bootstrapped"     "1"                   written once with the first store and region
 *     "alloc"            decimal id            end of the ids handed out (CAS)
 *     "s/" u64 BE id     metapb.Store
 *     "r/" u64 BE id     metapb.Region
 *
 * Soft state (store stats, heartbeat times, region leaders and sizes) lives
 * only in the leader's memory, as in PD.
 * @module
 */
import assert from "node:assert/strict";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import type * as metapb from "@eraft/proto/gen/metapb.ts";
import { decodeMessage, encodeMessage, messageType } from "@eraft/shared/proto";
import { decodeKvPairs, type WorkerRequest } from "@eraft/store";

/** The meta region's id on the meta nodes. */
export const META_REGION_ID = 1;
/** Ids handed out per `alloc` write. */
export const ALLOC_STEP = 1000;
/** Records read per scan page when loading. */
const LOAD_PAGE = 1000;

/** The worker requests meta sends to its region (store/protocol.ts). */
export type KvRequest = Extract<WorkerRequest, { op: "get" | "scan" | "write" }>;

/** A worker's answer, as far as meta reads it. */
export interface KvResponse {
  region_error?: { message: string; not_leader?: unknown } | null;
  error?: string;
  value?: Uint8Array;
  not_found?: boolean;
  /** scan: the pairs found, encoded (`decodeKvPairs`) */
  pairs?: Uint8Array;
  precondition_failed?: boolean;
}

/** Sends one request to the meta region (the store's Supervisor in production). */
export type MetaRegionRequester = (req: KvRequest) => Promise<KvResponse>;

/** The meta region could not serve (not leader, busy): the caller may retry. */
export class MetaUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MetaUnavailable";
  }
}

/** Everything loaded when a node becomes meta leader. */
export interface LoadedMeta {
  cluster: metapb.Cluster | null;
  bootstrapped: boolean;
  alloc_end: number;
  stores: metapb.Store[];
  regions: metapb.Region[];
}

const te = new TextEncoder();
const td = new TextDecoder();
const K_CLUSTER = te.encode("cluster");
const K_BOOTSTRAPPED = te.encode("bootstrapped");
const K_ALLOC = te.encode("alloc");
const EMPTY = new Uint8Array(0);

function idKey(prefix: string, id: number): Uint8Array {
  assert.ok(Number.isSafeInteger(id) && id >= 0, `bad id ${id}`);
  const out = new Uint8Array(prefix.length + 8);
  out.set(te.encode(prefix));
  const view = new DataView(out.buffer);
  view.setUint32(prefix.length, Math.floor(id / 2 ** 32));
  view.setUint32(prefix.length + 4, id >>> 0);
  return out;
}

/** Key of a store record. */
export const storeKey = (id: number): Uint8Array => idKey("s/", id);
/** Key of a region record. */
export const regionKey = (id: number): Uint8Array => idKey("r/", id);

const TO_OBJECT = { defaults: true, arrays: true, longs: Number, enums: Number, bytes: Uint8Array };

/** A plain, fully defaulted copy of a message (decoded or hand-built). */
export function plain<T>(fullName: string, message: object): T {
  const type = messageType(fullName);
  const obj = type.toObject(type.fromObject(message), TO_OBJECT) as Record<string, unknown>;
  return fixBytes(obj) as T;
}

function fixBytes(value: unknown): unknown {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map(fixBytes);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fixBytes(v);
    return out;
  }
  return value;
}

function put(key: Uint8Array, value: Uint8Array): kvrpcpb.Mutation {
  return { op: 0, cf: "default", key, value, type: 0, end_key: EMPTY };
}

function del(key: Uint8Array): kvrpcpb.Mutation {
  return { op: 1, cf: "default", key, value: EMPTY, type: 0, end_key: EMPTY };
}

const notExists = (key: Uint8Array): kvrpcpb.Precondition => ({
  kind: 1,
  cf: "default",
  key,
  value: EMPTY,
});

/** Typed access to meta's records; see the module comment. */
export class MetaStorage {
  constructor(readonly request: MetaRegionRequester) {}

  async #call(req: KvRequest): Promise<KvResponse> {
    const res = await this.request(req);
    if (res.region_error) throw new MetaUnavailable(`meta region: ${res.region_error.message}`);
    if (res.error) throw new Error(`meta region: ${res.error}`);
    return res;
  }

  async #get(key: Uint8Array): Promise<Uint8Array | null> {
    const res = await this.#call({ op: "get", cf: "default", key });
    return res.not_found || res.value === undefined ? null : res.value;
  }

  async #scanPrefix(prefix: string): Promise<kvrpcpb.KvPair[]> {
    const end = te.encode(prefix);
    end[end.length - 1]++;
    const out: kvrpcpb.KvPair[] = [];
    let start = te.encode(prefix);
    while (true) {
      const res = await this.#call({
        op: "scan",
        cf: "default",
        start_key: start,
        end_key: end,
        limit: LOAD_PAGE,
        reverse: false,
        key_only: false,
      });
      const kvs = res.pairs ? decodeKvPairs(res.pairs) : [];
      out.push(...kvs);
      if (kvs.length < LOAD_PAGE) return out;
      const last = kvs[kvs.length - 1].key;
      start = new Uint8Array(last.length + 1);
      start.set(last);
    }
  }

  /** Writes atomically; false when a precondition failed (nothing written). */
  async #write(
    mutations: kvrpcpb.Mutation[],
    preconditions: kvrpcpb.Precondition[] = [],
  ): Promise<boolean> {
    const res = await this.#call({
      op: "write",
      mutations,
      preconditions,
      request_id: 0,
      issued_at_ms: 0,
    });
    return !res.precondition_failed;
  }

  /** Reads every record (linearizable). */
  async load(): Promise<LoadedMeta> {
    const cluster_bytes = await this.#get(K_CLUSTER);
    const alloc = await this.#get(K_ALLOC);
    return {
      cluster: cluster_bytes
        ? plain<metapb.Cluster>("metapb.Cluster", decodeMessage("metapb.Cluster", cluster_bytes))
        : null,
      bootstrapped: (await this.#get(K_BOOTSTRAPPED)) !== null,
      alloc_end: alloc ? Number(td.decode(alloc)) : 0,
      stores: (await this.#scanPrefix("s/")).map((kv) =>
        plain<metapb.Store>("metapb.Store", decodeMessage("metapb.Store", kv.value))
      ),
      regions: (await this.#scanPrefix("r/")).map((kv) =>
        plain<metapb.Region>("metapb.Region", decodeMessage("metapb.Region", kv.value))
      ),
    };
  }

  /** Creates the cluster record unless one exists; returns the one in force. */
  async initCluster(cluster: metapb.Cluster): Promise<metapb.Cluster> {
    const value = encodeMessage("metapb.Cluster", cluster);
    if (await this.#write([put(K_CLUSTER, value)], [notExists(K_CLUSTER)])) return cluster;
    const found = await this.#get(K_CLUSTER);
    assert.ok(found !== null, "cluster record vanished");
    return plain("metapb.Cluster", decodeMessage("metapb.Cluster", found));
  }

  /** Bootstraps once: false when the cluster was already bootstrapped. */
  bootstrap(store: metapb.Store, region: metapb.Region): Promise<boolean> {
    return this.#write([
      put(K_BOOTSTRAPPED, te.encode("1")),
      put(storeKey(store.id), encodeMessage("metapb.Store", store)),
      put(regionKey(region.id), encodeMessage("metapb.Region", region)),
    ], [notExists(K_BOOTSTRAPPED)]);
  }

  /** Moves the id allocator's end from `from` to `to`; false if another leader moved it. */
  allocate(from: number, to: number): Promise<boolean> {
    assert.ok(to > from);
    const pre: kvrpcpb.Precondition = from === 0
      ? notExists(K_ALLOC)
      : { kind: 0, cf: "default", key: K_ALLOC, value: te.encode(String(from)) };
    return this.#write([put(K_ALLOC, te.encode(String(to)))], [pre]);
  }

  /** Saves a store record. */
  async putStore(store: metapb.Store): Promise<void> {
    await this.#write([put(storeKey(store.id), encodeMessage("metapb.Store", store))]);
  }

  /** Saves regions and deletes the records of regions they replaced. */
  async putRegions(regions: metapb.Region[], removed: number[]): Promise<void> {
    const muts = [
      ...removed.map((id) => del(regionKey(id))),
      ...regions.map((r) => put(regionKey(r.id), encodeMessage("metapb.Region", r))),
    ];
    if (muts.length > 0) await this.#write(muts);
  }
}
