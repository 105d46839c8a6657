/**
 * The {@link Backend} over a real cluster: every call is routed through the
 * region cache to the region's leader, carries a `kvrpcpb.Context` (region id,
 * epoch, peer), and is retried on region errors and transport failures with
 * exponential backoff until a per-call deadline, after which it fails with
 * {@link BackendUnavailableError} (the server answers `-TRYAGAIN`).
 *
 * Retry rules (after TiKV's client):
 * - NotLeader: go to the hinted leader; without a hint, try the next peer.
 * - EpochNotMatch: replace the cached range with `current_regions` (or reload).
 * - RegionNotFound / KeyNotInRegion / StoreNotMatch: drop the entry, reload.
 * - ServerIsBusy / StaleCommand: back off, retry the same peer.
 * - retryable transport errors: back off, try the next peer.
 *
 * Worker routes: a store names the frame address of the region worker that
 * serves a region (storepb.WorkerRoute); while the region's leader is on
 * that store, its commands go to the worker directly, skipping the store's
 * main thread. Any region or transport error on that path drops the route,
 * and the retry goes through the store again.
 *
 * Writes are never doubled: each `batch` carries one random request id for
 * all of its attempts and the store applies an id at most once.
 * @module
 */
import type * as errorpb from "@eraft/proto/gen/errorpb.ts";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import type { Peer, Region } from "@eraft/proto/gen/metapb.ts";
import { RpcError } from "@eraft/shared/grpc";
import {
  type Backend,
  type BackendDescription,
  BackendUnavailableError,
  type BatchOutcome,
  CrossRegionError,
  type Mutation,
  MutationOp,
  type Precondition,
  type RawPair,
} from "./backend.ts";
import { EMPTY_BYTES, latin1 } from "./encoding/bytes.ts";
import { routingEvent } from "./metrics.ts";
import { MetaClient, MetaError } from "./meta_client.ts";
import { type CachedRegion, RegionCache, regionContains } from "./region_cache.ts";
import { type CommandKind, StoreClient, type StoreCommands } from "./store_client.ts";
import { FrameDirectory } from "@eraft/shared/frame_directory";

/** Options of {@link ClusterBackend}. */
export interface ClusterBackendOptions {
  /** Meta addresses (host:port), or a ready client. */
  meta: string[] | MetaClient;
  /** Time one backend call may take, retries included. */
  deadline_ms?: number;
  /** Time one RPC attempt may take. */
  rpc_deadline_ms?: number;
  /** First backoff after a failure; doubles per retry up to `backoff_max_ms`. */
  backoff_base_ms?: number;
  backoff_max_ms?: number;
  /** Skip the BatchCommands stream (unary RPCs only). */
  unary_only?: boolean;
  /**
   * Send BatchCommands over the stores' frame listeners when meta lists one,
   * and to region workers directly when a store names them (default true);
   * false keeps every stream on gRPC, through the stores' main threads.
   */
  frames?: boolean;
}

/** Where a region's worker serves frames, as its store named it. */
interface WorkerRoute {
  store_id: number;
  addr: string;
}

/** Regions with a remembered worker route at most; past this all are forgotten. */
const MAX_WORKER_ROUTES = 100_000;

/**
 * Counters for tests and `INFO cluster`; each increment also goes to the
 * Prometheus counter `eraft_db_routing_events_total{event}` (db/metrics.ts).
 */
export interface ClusterStats {
  rpcs: number;
  retries: number;
  /** Times a request moved to another peer (a NotLeader hint, or the next peer). */
  leader_hops: number;
  meta_lookups: number;
  region_errors: Record<string, number>;
  transport_errors: number;
}

/** The store answered a plain `error`: the request itself is bad, retrying cannot help. */
export class StoreRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreRequestError";
  }
}

/** The keys of one request no longer lie in one region (internal signal). */
class RegroupSignal extends Error {}

/** Largest `limit` the store accepts in one RawScan. */
const MAX_SCAN_PAGE = 10_000;
/** Regions asked of meta per ScanRegions call. */
const SCAN_REGIONS_PAGE = 64;

/** Random words drawn 1 KiB at a time: one getRandomValues per 128 writes, not per write. */
const random_words = new Uint32Array(256);
let random_at = random_words.length;

/** A random non-zero request id below 2^53 (RawBatchRequest.id). */
export function newRequestId(): number {
  if (random_at + 2 > random_words.length) {
    crypto.getRandomValues(random_words);
    random_at = 0;
  }
  const id = (random_words[random_at] & 0x1fffff) * 2 ** 32 + random_words[random_at + 1];
  random_at += 2;
  return id === 0 ? 1 : id;
}

interface RunResult<R> {
  res: R;
  entry: CachedRegion;
}

/** A Backend over E-META and E-STOREs. */
export class ClusterBackend implements Backend {
  readonly cache = new RegionCache();
  readonly meta: MetaClient;
  readonly #own_meta: boolean;
  readonly #stores = new Map<string, StoreClient>();
  /** Clients of region workers' frame listeners, by address. */
  readonly #workers = new Map<string, StoreClient>();
  /** Region id → its worker's frame listener (see the module comment). */
  readonly #worker_routes = new Map<number, WorkerRoute>();
  readonly #store_addrs = new Map<number, string>();
  readonly #loading = new Set<Promise<unknown>>();
  readonly #deadline_ms: number;
  readonly #rpc_deadline_ms: number;
  readonly #backoff_base_ms: number;
  readonly #backoff_max_ms: number;
  readonly #unary_only: boolean;
  /** Frame addresses by store id, or null when frames are off. */
  readonly #frames: FrameDirectory | null;
  #closed = false;
  readonly stats: ClusterStats = {
    rpcs: 0,
    retries: 0,
    leader_hops: 0,
    meta_lookups: 0,
    region_errors: {},
    transport_errors: 0,
  };

  constructor(opts: ClusterBackendOptions) {
    this.#own_meta = Array.isArray(opts.meta);
    this.meta = Array.isArray(opts.meta) ? new MetaClient(opts.meta) : opts.meta;
    this.#deadline_ms = opts.deadline_ms ?? 10_000;
    this.#rpc_deadline_ms = opts.rpc_deadline_ms ?? 3_000;
    this.#backoff_base_ms = opts.backoff_base_ms ?? 5;
    this.#backoff_max_ms = opts.backoff_max_ms ?? 500;
    this.#unary_only = opts.unary_only ?? false;
    this.#frames = opts.frames === false
      ? null
      : new FrameDirectory(async (id) => (await this.meta.getStore(id)).frame_address ?? "");
  }

  /**
   * The client of one store address (created on first use); with the store's
   * id it may use the store's frame listener.
   */
  storeClient(addr: string, store_id?: number): StoreClient {
    let c = this.#stores.get(addr);
    if (!c) {
      const frames = store_id === undefined ? null : this.#frames;
      c = new StoreClient(addr, {
        unary_only: this.#unary_only,
        frame_addr: frames ? () => frames.get(store_id!) : undefined,
        frame_failed: frames ? () => frames.forget(store_id!) : undefined,
        on_routes: frames ? (routes) => this.#learnRoutes(store_id!, routes) : undefined,
      });
      this.#stores.set(addr, c);
    }
    return c;
  }

  #learnRoutes(store_id: number, routes: Array<{ region_id: number; frame_addr: string }>): void {
    for (const r of routes) {
      if (!(r.region_id > 0) || !r.frame_addr) continue;
      if (this.#worker_routes.size >= MAX_WORKER_ROUTES) this.#worker_routes.clear();
      this.#worker_routes.set(r.region_id, { store_id, addr: r.frame_addr });
    }
  }

  /**
   * The client for a command to `peer` of `region_id`: its region worker's
   * when the peer's store named one, else the store's.
   */
  #clientFor(region_id: number, peer: Peer, store_addr: string): {
    client: StoreClient;
    via_worker: boolean;
  } {
    const route = this.#worker_routes.get(region_id);
    if (route === undefined || route.store_id !== peer.store_id) {
      return { client: this.storeClient(store_addr, peer.store_id), via_worker: false };
    }
    let client = this.#workers.get(route.addr);
    if (client === undefined) {
      client = new StoreClient(route.addr, {
        worker: true,
        frame_failed: () => this.#forgetWorker(route.addr),
      });
      this.#workers.set(route.addr, client);
    }
    return { client, via_worker: true };
  }

  /** A worker's connection broke (restarted, or gone): its regions go through their store again. */
  #forgetWorker(addr: string): void {
    for (const [id, r] of this.#worker_routes) if (r.addr === addr) this.#worker_routes.delete(id);
    const client = this.#workers.get(addr);
    this.#workers.delete(addr);
    // Closed after its failing commands were answered (the caller is inside its failure).
    if (client) queueMicrotask(() => client.close());
  }

  // ---- region lookup ----

  /** Waits for lookups in flight (they may fill what we need), so a burst of misses asks once. */
  async #settleLoads(): Promise<void> {
    while (this.#loading.size > 0) await Promise.allSettled([...this.#loading]);
  }

  async #track<T>(p: Promise<T>): Promise<T> {
    this.#loading.add(p);
    try {
      return await p;
    } finally {
      this.#loading.delete(p);
    }
  }

  /**
   * The region holding `key`: from the cache as is (no promise: every command
   * locates its key), else from meta.
   */
  #locate(key: Uint8Array): CachedRegion | Promise<CachedRegion> {
    const k = latin1(key);
    return this.cache.locate(k) ?? this.#locateFromMeta(key, k);
  }

  async #locateFromMeta(key: Uint8Array, k: string): Promise<CachedRegion> {
    await this.#settleLoads();
    let e = this.cache.locate(k);
    if (e) return e;
    this.#count("meta_lookups");
    const info = await this.#track(this.meta.getRegion(key));
    e = this.cache.insert(info.region, info.leader);
    if (!regionContains(e, k)) {
      throw new MetaError(6, "meta answered a region that does not hold the key");
    }
    return e;
  }

  /** Loads every region overlapping [start, end) into the cache. */
  async #loadRange(start: Uint8Array, end: Uint8Array): Promise<void> {
    let from = start;
    for (let page = 0; page < 1000; page++) {
      this.#count("meta_lookups");
      const infos = await this.#track(this.meta.scanRegions(from, end, SCAN_REGIONS_PAGE));
      for (const i of infos) this.cache.insert(i.region, i.leader);
      const last = infos[infos.length - 1]?.region;
      if (!last || last.end_key.length === 0) return;
      if (end.length > 0 && latin1(last.end_key) >= latin1(end)) return;
      if (infos.length < SCAN_REGIONS_PAGE) return;
      from = last.end_key;
    }
  }

  /** The region holding the keys just below `end` ("" = +inf): where a reverse scan starts. */
  async #locateBefore(start: Uint8Array, end: Uint8Array): Promise<CachedRegion> {
    const e = this.cache.locateBefore(latin1(end));
    if (e) return e;
    await this.#loadRange(start, end);
    const again = this.cache.locateBefore(latin1(end));
    if (!again) throw new MetaError(6, "meta has no region below the scan's end key");
    return again;
  }

  /** The address of a peer's store (from the peer, else meta's GetStore). */
  #addrOf(peer: Peer): string | Promise<string> {
    if (peer.addr) {
      this.#store_addrs.set(peer.store_id, peer.addr);
      return peer.addr;
    }
    return this.#store_addrs.get(peer.store_id) ?? this.#addrFromMeta(peer);
  }

  async #addrFromMeta(peer: Peer): Promise<string> {
    const store = await this.meta.getStore(peer.store_id);
    this.#store_addrs.set(peer.store_id, store.address);
    return store.address;
  }

  /** The peer to send to: the believed leader, else the first peer. */
  #target(e: CachedRegion): Peer {
    if (e.leader) return e.leader;
    const peers = e.region.peers ?? [];
    if (peers.length === 0) throw new MetaError(1, `region ${e.region.id} has no peers`);
    return peers[0];
  }

  /** Moves the region's believed leader to the peer after `failed`. */
  #nextPeer(e: CachedRegion, failed: Peer): void {
    const peers = e.region.peers ?? [];
    if (peers.length === 0) return;
    const i = peers.findIndex((p) => p.id === failed.id);
    this.cache.setLeader(e.region.id, peers[(i + 1) % peers.length]);
    this.#count("leader_hops");
  }

  /** One routing counter: this backend's stats and the process's Prometheus counter. */
  #count(k: "rpcs" | "retries" | "leader_hops" | "meta_lookups" | "transport_errors"): void {
    this.stats[k]++;
    routingEvent(k);
  }

  // ---- the retry loop ----

  #backoff(attempt: number, deadline_at_ms: number, at_least_ms = 0): Promise<void> {
    const exp = Math.min(this.#backoff_max_ms, this.#backoff_base_ms * 2 ** Math.min(attempt, 20));
    const jittered = Math.max(at_least_ms, exp * (0.5 + Math.random() / 2));
    const ms = Math.max(0, Math.min(jittered, deadline_at_ms - Date.now()));
    return new Promise((r) => setTimeout(r, ms));
  }

  /**
   * Sends one command to the leader of the region `locate` finds, retrying
   * per the module rules until `deadline_at_ms`. `build` may throw
   * RegroupSignal when the region no longer holds all of the request's keys.
   */
  async #run<K extends CommandKind>(
    kind: K,
    locate: () => CachedRegion | Promise<CachedRegion>,
    build: (e: CachedRegion) => StoreCommands[K][0],
    deadline_at_ms: number,
    on_uncertain?: () => void,
  ): Promise<RunResult<StoreCommands[K][1]>> {
    let last = "no attempt made";
    for (let attempt = 0;; attempt++) {
      if (this.#closed) throw new BackendUnavailableError("backend closed");
      if (attempt > 0) this.#count("retries");
      if (Date.now() >= deadline_at_ms) {
        throw new BackendUnavailableError(
          `TRYAGAIN cluster unavailable: ${kind} gave up after ${attempt} attempts: ${last}`,
        );
      }
      let entry: CachedRegion;
      let peer: Peer;
      let addr: string;
      try {
        // Cache hits are plain values: awaited only when a lookup is under way.
        const located = locate();
        entry = located instanceof Promise ? await located : located;
        peer = this.#target(entry);
        const found = this.#addrOf(peer);
        addr = typeof found === "string" ? found : await found;
      } catch (e) {
        if (e instanceof RegroupSignal) throw e;
        if (!(e instanceof RpcError || e instanceof MetaError)) throw e;
        last = `meta: ${e.message}`;
        await this.#backoff(attempt, deadline_at_ms);
        continue;
      }
      const req = build(entry);
      (req as { context?: kvrpcpb.Context }).context = {
        region_id: entry.region.id,
        region_epoch: entry.region.region_epoch,
        peer,
        term: 0,
      };
      let res: StoreCommands[K][1];
      this.#count("rpcs");
      const { client, via_worker } = this.#clientFor(entry.region.id, peer, addr);
      try {
        const left_ms = Math.max(1, deadline_at_ms - Date.now());
        res = await client.call(kind, req, Math.min(this.#rpc_deadline_ms, left_ms));
      } catch (e) {
        if (!(e instanceof RpcError)) throw e;
        if (!e.retryable) throw new StoreRequestError(e.message);
        // The request may have reached the store: its outcome is unknown.
        on_uncertain?.();
        this.#count("transport_errors");
        last = e.message;
        if (via_worker) {
          // The worker, not the store, failed: try the store itself at once.
          this.#worker_routes.delete(entry.region.id);
          continue;
        }
        this.#nextPeer(entry, peer);
        // Every few failures, also ask meta again: peers may have moved.
        if (attempt % 4 === 3) this.cache.invalidate(entry.region.id);
        await this.#backoff(attempt, deadline_at_ms);
        continue;
      }
      const re = res.region_error;
      if (re) {
        if (via_worker) this.#worker_routes.delete(entry.region.id);
        last = `region ${entry.region.id}: ${re.message || "region error"}`;
        const wait_ms = this.#onRegionError(entry, peer, re);
        if (wait_ms !== 0) await this.#backoff(attempt, deadline_at_ms, Math.max(0, wait_ms));
        continue;
      }
      if (res.error) throw new StoreRequestError(`store ${addr}: ${res.error}`);
      return { res, entry };
    }
  }

  /**
   * Updates the cache for a region error. Returns 0 to retry at once, a
   * positive number to back off at least that long, -1 to back off normally.
   */
  #onRegionError(e: CachedRegion, peer: Peer, re: errorpb.Error): number {
    const count = (
      k: string,
    ) => {
      this.stats.region_errors[k] = (this.stats.region_errors[k] ?? 0) + 1;
      routingEvent(`region_error_${k}`);
    };
    const id = e.region.id;
    if (re.not_leader) {
      count("not_leader");
      const hint = re.not_leader.leader;
      if (hint && hint.id > 0 && hint.id !== peer.id) {
        if (!(e.region.peers ?? []).some((p) => p.id === hint.id)) {
          // A leader our view of the region does not list: the view is stale.
          this.cache.invalidate(id);
          return -1;
        }
        if (hint.addr) this.#store_addrs.set(hint.store_id, hint.addr);
        this.cache.setLeader(id, hint);
        this.#count("leader_hops");
        return 0;
      }
      // No leader known (election in progress): try the next peer after a pause.
      this.#nextPeer(e, peer);
      return -1;
    }
    if (re.epoch_not_match) {
      count("epoch_not_match");
      const regions = re.epoch_not_match.current_regions ?? [];
      if (regions.length === 0) {
        this.cache.invalidate(id);
        return 0;
      }
      for (const r of regions) this.cache.insert(r, leaderOnStore(r, peer.store_id));
      return 0;
    }
    if (re.region_not_found) {
      count("region_not_found");
      this.cache.invalidate(id);
      return -1;
    }
    if (re.key_not_in_region) {
      count("key_not_in_region");
      this.cache.invalidate(id);
      return 0;
    }
    if (re.store_not_match) {
      count("store_not_match");
      this.#store_addrs.delete(peer.store_id);
      this.cache.invalidate(id);
      return -1;
    }
    if (re.server_is_busy) {
      count("server_is_busy");
      return Math.max(1, re.server_is_busy.backoff_ms ?? 0);
    }
    if (re.stale_command) {
      count("stale_command");
      return -1;
    }
    if (re.raft_entry_too_large) {
      count("raft_entry_too_large");
      throw new StoreRequestError(`request too large for region ${id}: ${re.message}`);
    }
    count("other");
    this.cache.invalidate(id);
    return -1;
  }

  #deadline(): number {
    return Date.now() + this.#deadline_ms;
  }

  // ---- Backend ----

  /** RawGet of one key. */
  async get(cf: string, key: Uint8Array): Promise<Uint8Array | null> {
    const { res } = await this.#run(
      "raw_get",
      () => this.#locate(key),
      () => ({ key, cf }),
      this.#deadline(),
    );
    return res.not_found ? null : res.value ?? EMPTY_BYTES;
  }

  /** RawBatchGet per region, in parallel; answers in request order. */
  async batchGet(cf: string, keys: Uint8Array[]): Promise<Array<Uint8Array | null>> {
    const out = new Map<string, Uint8Array>();
    await this.#batchGetInto(cf, [...new Set(keys.map(latin1))], out, this.#deadline());
    return keys.map((k) => out.get(latin1(k)) ?? null);
  }

  async #batchGetInto(
    cf: string,
    keys: string[],
    out: Map<string, Uint8Array>,
    deadline_at_ms: number,
  ): Promise<void> {
    if (keys.length === 0) return;
    const groups = new Map<number, { entry: CachedRegion; keys: string[] }>();
    for (const k of keys) {
      const e = await this.#locateOrRetry(k, deadline_at_ms);
      const g = groups.get(e.region.id);
      if (g) g.keys.push(k);
      else groups.set(e.region.id, { entry: e, keys: [k] });
    }
    await Promise.all([...groups.values()].map(async (g) => {
      const raw_keys = g.keys.map(fromLatin1Key);
      try {
        const { res } = await this.#run(
          "raw_batch_get",
          () => this.#locate(raw_keys[0]),
          (e) => {
            if (!g.keys.every((k) => regionContains(e, k))) throw new RegroupSignal();
            return { keys: raw_keys, cf };
          },
          deadline_at_ms,
        );
        for (const p of res.pairs ?? []) out.set(latin1(p.key), p.value ?? EMPTY_BYTES);
      } catch (e) {
        if (!(e instanceof RegroupSignal)) throw e;
        await this.#batchGetInto(cf, g.keys, out, deadline_at_ms);
      }
    }));
  }

  /** #locate with the retry rules for meta failures, within a deadline. */
  async #locateOrRetry(k: string, deadline_at_ms: number): Promise<CachedRegion> {
    const cached = this.cache.locate(k);
    if (cached) return cached;
    let last = "";
    for (let attempt = 0; Date.now() < deadline_at_ms; attempt++) {
      try {
        return await this.#locate(fromLatin1Key(k));
      } catch (e) {
        if (!(e instanceof RpcError || e instanceof MetaError)) throw e;
        last = e.message;
        await this.#backoff(attempt, deadline_at_ms);
      }
    }
    throw new BackendUnavailableError(`TRYAGAIN cluster unavailable: region lookup: ${last}`);
  }

  /** RawScan across regions, forwards or backwards. */
  async scan(
    cf: string,
    start: Uint8Array,
    end: Uint8Array,
    limit: number,
    reverse: boolean,
    key_only = false,
  ): Promise<RawPair[]> {
    if (!(limit > 0)) throw new Error("scan limit must be positive");
    const deadline_at_ms = this.#deadline();
    const out: RawPair[] = [];
    const end_s = latin1(end);
    const start_s = latin1(start);
    if (end.length > 0 && start_s >= end_s) return out;
    if (!reverse) {
      let from = start;
      for (;;) {
        const want = Math.min(MAX_SCAN_PAGE, limit - out.length);
        const from_now = from;
        const { res, entry } = await this.#run(
          "raw_scan",
          () => this.#locate(from_now),
          (e) => ({
            start_key: from_now,
            end_key: end.length > 0 && (e.end === "" || end_s < e.end) ? end : e.region.end_key,
            limit: want,
            cf,
            key_only,
            reverse: false,
          }),
          deadline_at_ms,
        );
        const kvs = res.kvs ?? [];
        for (const p of kvs) out.push({ key: p.key, value: p.value ?? EMPTY_BYTES });
        if (out.length >= limit) return out;
        if (kvs.length >= want) {
          // The page filled up inside this region: continue after its last key.
          from = successor(kvs[kvs.length - 1].key);
          continue;
        }
        if (entry.end === "" || (end.length > 0 && entry.end >= end_s)) return out;
        from = entry.region.end_key;
      }
    }
    let upper = end;
    for (;;) {
      const want = Math.min(MAX_SCAN_PAGE, limit - out.length);
      const upper_now = upper;
      const { res, entry } = await this.#run(
        "raw_scan",
        () => this.#locateBefore(start, upper_now),
        (e) => ({
          start_key: start_s > e.start ? start : e.region.start_key,
          end_key: upper_now,
          limit: want,
          cf,
          key_only,
          reverse: true,
        }),
        deadline_at_ms,
      );
      const kvs = res.kvs ?? [];
      for (const p of kvs) out.push({ key: p.key, value: p.value ?? EMPTY_BYTES });
      if (out.length >= limit) return out;
      if (kvs.length >= want) {
        upper = kvs[kvs.length - 1].key;
        continue;
      }
      if (entry.start === "" || entry.start <= start_s) return out;
      upper = entry.region.start_key;
    }
  }

  /** RawBatch in the one region holding every key, with one dedup id for all attempts. */
  async batch(mutations: Mutation[], preconditions: Precondition[]): Promise<BatchOutcome> {
    const keys = [...mutations.map((m) => m.key), ...preconditions.map((p) => p.key)];
    if (keys.length === 0) return { ok: true };
    const key_ids = keys.map(latin1);
    const range_ends = mutations.filter((m) => m.op === MutationOp.DeleteRange).map((m) =>
      latin1(m.end_key)
    );
    const fits = (e: CachedRegion) =>
      key_ids.every((k) => regionContains(e, k)) &&
      range_ends.every((x) => e.end === "" || (x !== "" && x <= e.end));
    const id = newRequestId();
    // With the id, on every attempt: places the store's dedup record in time.
    const issued_at_ms = Date.now();
    const deadline_at_ms = this.#deadline();
    let uncertain = false;
    for (let regroups = 0;; regroups++) {
      try {
        const { res } = await this.#run(
          "raw_batch",
          () => this.#locate(keys[0]),
          (e) => {
            if (!fits(e)) throw new RegroupSignal();
            return { mutations, preconditions, id, issued_at_ms, members: [] };
          },
          deadline_at_ms,
          () => (uncertain = true),
        );
        if (res.precondition_failed) {
          return { ok: false, precondition_failed: true, failed_index: res.failed_index ?? 0 };
        }
        return { ok: true };
      } catch (e) {
        if (!(e instanceof RegroupSignal)) throw e;
        // The cache may be coarser than the cluster (a split we have not
        // seen); ask meta once before calling the keys cross-region.
        const e0 = this.cache.locateBytes(keys[0]);
        if (regroups === 0 && e0) {
          this.cache.invalidate(e0.region.id);
          continue;
        }
        if (uncertain) {
          // An earlier attempt may have applied in the old, larger region:
          // saying "nothing written" could be a lie.
          throw new BackendUnavailableError(
            "TRYAGAIN the region split while the write was in flight; it may have been applied",
          );
        }
        throw new CrossRegionError();
      }
    }
  }

  /** True when all keys lie in one region now (per the cache, filled from meta). */
  async sameRegion(keys: Uint8Array[]): Promise<boolean> {
    if (keys.length <= 1) return true;
    const deadline_at_ms = this.#deadline();
    const first = await this.#locateOrRetry(latin1(keys[0]), deadline_at_ms);
    for (const k of keys.slice(1)) {
      const e = await this.#locateOrRetry(latin1(k), deadline_at_ms);
      if (e.region.id !== first.region.id) return false;
    }
    return true;
  }

  /** Fills the cache with every region (warm-up; also used by INFO/tests). */
  async loadAllRegions(): Promise<Region[]> {
    await this.#loadRange(EMPTY_BYTES, EMPTY_BYTES);
    return this.cache.all().map((e) => e.region);
  }

  /**
   * `INFO cluster` fields from local state only (no RPC): meta addresses, the
   * region cache, stores known, and the routing counters.
   */
  describe(): BackendDescription {
    const regions = this.cache.all();
    const errors = Object.entries(this.stats.region_errors).sort(([a], [b]) => a < b ? -1 : 1);
    const clients = [...this.#stores.values(), ...this.#workers.values()];
    const sum = (f: (c: StoreClient) => number) => clients.reduce((n, c) => n + f(c), 0);
    return {
      kind: "cluster",
      fields: [
        ["eraft_meta_addrs", this.meta.addrs.join(",")],
        ["eraft_meta_current", this.meta.current],
        ["eraft_regions_cached", regions.length],
        ["eraft_regions_leader_known", regions.filter((r) => r.leader !== null).length],
        ["eraft_stores_known", this.#store_addrs.size],
        ["eraft_store_connections", this.#stores.size],
        ["eraft_worker_connections", this.#workers.size],
        ["eraft_worker_routes", this.#worker_routes.size],
        ["eraft_stream_commands", sum((c) => c.stats.stream_commands_sent)],
        ["eraft_stream_messages", sum((c) => c.stats.stream_messages_sent)],
        ["eraft_frame_messages", sum((c) => c.stats.frame_messages_sent)],
        ["eraft_merged_batches", sum((c) => c.stats.merged_batches)],
        ["eraft_merged_gets", sum((c) => c.stats.merged_gets)],
        ["eraft_rpcs", this.stats.rpcs],
        ["eraft_retries", this.stats.retries],
        ["eraft_leader_hops", this.stats.leader_hops],
        ["eraft_meta_lookups", this.stats.meta_lookups],
        ["eraft_transport_errors", this.stats.transport_errors],
        ["eraft_region_errors", errors.map(([k, v]) => `${k}=${v}`).join(",")],
      ],
    };
  }

  /** Closes store and meta channels. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#settleLoads().catch(() => {});
    for (const c of [...this.#stores.values(), ...this.#workers.values()]) c.close();
    this.#stores.clear();
    this.#workers.clear();
    this.#frames?.close();
    if (this.#own_meta) this.meta.close();
  }
}

/** The peer of `r` on `store_id` (after a split the new region's leader is usually there). */
function leaderOnStore(r: Region, store_id: number): Peer | null {
  return (r.peers ?? []).find((p) => p.store_id === store_id) ?? null;
}

function fromLatin1Key(k: string): Uint8Array {
  const out = new Uint8Array(k.length);
  for (let i = 0; i < k.length; i++) out[i] = k.charCodeAt(i);
  return out;
}

/** The smallest key after `k`. */
function successor(k: Uint8Array): Uint8Array {
  const out = new Uint8Array(k.length + 1);
  out.set(k);
  return out;
}
