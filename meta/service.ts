/**
 * The `metaservicepb.Meta` service. Runs on every meta node; only the meta
 * region's leader serves — followers answer GetMembers themselves (with the
 * leader) and forward everything else to the leader once.
 *
 * On becoming leader a node loads the durable records (storage.ts) into a
 * fresh ClusterState and Scheduler for that Raft term; losing leadership
 * drops them. Every durable change is written through the meta region before
 * it is acknowledged; writes are serialized so records never go backwards.
 *
 * Errors: every failure is a ResponseHeader error, never a crash —
 * wrong `cluster_id` → UNKNOWN (with both ids), a store of another major
 * version → INCOMPATIBLE_VERSION, before Bootstrap → NOT_BOOTSTRAPPED, a
 * second Bootstrap → ALREADY_BOOTSTRAPPED, a Tombstone store →
 * STORE_TOMBSTONE, no region for a key or id → REGION_NOT_FOUND.
 * @module
 */
import type * as metapb from "@eraft/proto/gen/metapb.ts";
import { StoreState } from "@eraft/proto/gen/metapb.ts";
import type * as mpb from "@eraft/proto/gen/metaservicepb.ts";
import { ErrorType, OperatorKind } from "@eraft/proto/gen/metaservicepb.ts";
import { compareBytes } from "@eraft/shared/bytes";
import { type Operator, Scheduler, type SchedulerConfig, type Step } from "./scheduler.ts";
import { ClusterState, epochOf, type RegionEntry, validateRegion } from "./state.ts";
import { ALLOC_STEP, type MetaStorage, MetaUnavailable, plain } from "./storage.ts";

/** This node's view of the meta region's leadership. */
export interface Leadership {
  is_leader: boolean;
  /** Raft term of that view. */
  term: number;
  /** Member id of the leader (0: unknown). */
  leader_id: number;
}

/** Sends a request on to the leader (one hop, marked as forwarded). */
export type Forwarder = (addr: string, method: string, req: object) => Promise<object>;

/** Settings of the service. */
export interface MetaServiceOptions {
  self_id: number;
  /** Member id → address of every meta node. */
  members: Map<number, string>;
  storage: MetaStorage;
  leadership: () => Leadership;
  scheduler: SchedulerConfig;
  /** Meta's version; a store whose major version differs is refused. */
  version: string;
  forward?: Forwarder;
  now_ms?: () => number;
  log?: (line: string) => void;
}

/** Largest key accepted in a request, bytes. */
export const MAX_KEY_BYTES = 64 * 1024;
/** Largest ScanRegions page. */
export const MAX_SCAN_REGIONS = 10_000;
/** Longest store address or version string. */
const MAX_STRING = 1024;

/** A typed failure, returned in the ResponseHeader. */
export class MetaError extends Error {
  constructor(readonly type: ErrorType, message: string) {
    super(message);
    this.name = "MetaError";
  }
}

interface View {
  term: number;
  state: ClusterState;
  scheduler: Scheduler;
  cluster_id: number;
  bootstrapped: boolean;
  alloc_next: number;
  alloc_end: number;
}

// deno-lint-ignore no-explicit-any
type Req = any;
type Handler = (view: View, req: Req) => Promise<object>;

const PRE_BOOTSTRAP = new Set(["IsBootstrapped", "Bootstrap", "AllocID"]);
/** Methods of the service. */
export const META_METHODS = [
  "GetMembers",
  "GetAllStores",
  "GetStore",
  "PutStore",
  "GetRegion",
  "AskSplit",
  "Bootstrap",
  "IsBootstrapped",
  "AllocID",
  "StoreHeartbeat",
  "RegionHeartbeat",
  "ReportSplit",
  "GetRegionByID",
  "ScanRegions",
] as const;

function major(version: string): string {
  return version.split(".")[0];
}

function checkKey(key: Uint8Array | null | undefined, what: string): Uint8Array {
  const k = key ?? new Uint8Array(0);
  if (k.length > MAX_KEY_BYTES) {
    throw new MetaError(
      ErrorType.UNKNOWN,
      `${what} is ${k.length} bytes; at most ${MAX_KEY_BYTES}`,
    );
  }
  return new Uint8Array(k);
}

function checkRegion(r: metapb.Region | null | undefined): metapb.Region {
  if (!r) throw new MetaError(ErrorType.UNKNOWN, "region missing");
  checkKey(r.start_key, "start_key");
  checkKey(r.end_key, "end_key");
  const region = plain<metapb.Region>("metapb.Region", r);
  const bad = validateRegion(region);
  if (bad !== null) throw new MetaError(ErrorType.UNKNOWN, `bad region: ${bad}`);
  return region;
}

function withLeader(entry: RegionEntry): object {
  const leader = entry.leader;
  return {
    region: entry.region,
    leader,
    slaves: entry.region.peers.filter((p) => p.id !== leader?.id),
  };
}

/** See the module comment. */
export class MetaService {
  readonly #opts: MetaServiceOptions;
  readonly #now: () => number;
  #view: View | null = null;
  #loading: { term: number; done: Promise<View> } | null = null;
  #writes: Promise<unknown> = Promise.resolve();
  #refilling: Promise<void> | null = null;
  #last_cluster_id = 0;
  readonly #handlers: Record<string, Handler>;
  /** Calls served by this node (as leader), for measurements. */
  served_total = 0;

  constructor(opts: MetaServiceOptions) {
    this.#opts = opts;
    this.#now = opts.now_ms ?? Date.now;
    this.#handlers = {
      GetAllStores: (v, r) => this.#getAllStores(v, r),
      GetStore: (v, r) => this.#getStore(v, r),
      PutStore: (v, r) => this.#putStore(v, r),
      GetRegion: (v, r) => this.#getRegion(v, r),
      AskSplit: (v, r) => this.#askSplit(v, r),
      Bootstrap: (v, r) => this.#bootstrap(v, r),
      IsBootstrapped: (v) => Promise.resolve({ bootstrapped: v.bootstrapped }),
      AllocID: async (v) => ({ id: await this.#allocId(v) }),
      StoreHeartbeat: (v, r) => this.#storeHeartbeat(v, r),
      RegionHeartbeat: (v, r) => this.#regionHeartbeat(v, r),
      ReportSplit: (v, r) => this.#reportSplit(v, r),
      GetRegionByID: (v, r) => this.#getRegionById(v, r),
      ScanRegions: (v, r) => this.#scanRegions(v, r),
    };
  }

  /** The loaded leader view (tests and ctl status), if this node serves. */
  get state(): ClusterState | null {
    return this.#view?.state ?? null;
  }

  /** The scheduler of the loaded view, if this node serves. */
  get scheduler(): Scheduler | null {
    return this.#view?.scheduler ?? null;
  }

  /**
   * Follows leadership: loads a view when this node leads a new term, drops
   * it when it does not lead. Called periodically by the node.
   */
  tick(): void {
    const l = this.#opts.leadership();
    if (!l.is_leader) {
      this.#view = null;
      return;
    }
    if (this.#view?.term === l.term) return;
    this.#view = null;
    void this.#ensureLoaded(l.term).catch((err) => this.#opts.log?.(`meta load failed: ${err}`));
  }

  #ensureLoaded(term: number): Promise<View> {
    if (this.#view?.term === term) return Promise.resolve(this.#view);
    if (this.#loading?.term === term) return this.#loading.done;
    const done = this.#load(term).finally(() => {
      if (this.#loading?.term === term) this.#loading = null;
    });
    this.#loading = { term, done };
    return done;
  }

  async #load(term: number): Promise<View> {
    const storage = this.#opts.storage;
    let loaded = await storage.load();
    const cluster = loaded.cluster ?? await storage.initCluster({
      id: 1 + Math.floor(Math.random() * (2 ** 52 - 2)),
      max_peer_count: this.#opts.scheduler.max_replicas,
    });
    if (loaded.cluster === null) loaded = { ...loaded, cluster };
    const now = this.#now();
    const state = new ClusterState();
    for (const s of loaded.stores) state.putStore(s, now);
    // Newest versions first, so an older overlapping record is the one dropped.
    const regions = [...loaded.regions].sort((a, b) => epochOf(b).version - epochOf(a).version);
    for (const r of regions) {
      if (validateRegion(r) === null) state.applyRegion({ region: r }, 0);
    }
    const view: View = {
      term,
      state,
      scheduler: new Scheduler(this.#opts.scheduler),
      cluster_id: cluster.id,
      bootstrapped: loaded.bootstrapped,
      alloc_next: loaded.alloc_end,
      alloc_end: loaded.alloc_end,
    };
    this.#last_cluster_id = cluster.id;
    const l = this.#opts.leadership();
    if (!l.is_leader || l.term !== term) {
      throw new MetaUnavailable("leadership changed while loading");
    }
    this.#view = view;
    this.#opts.log?.(
      `meta leader for term ${term}: cluster ${cluster.id}, ${state.stores.size} store(s), ` +
        `${state.regions.size} region(s)`,
    );
    return view;
  }

  /**
   * Serves one call: `req` is the decoded request, `forwarded` whether a
   * follower sent it on. Always resolves with a response object.
   */
  async handle(method: string, req: Req, forwarded = false): Promise<object> {
    try {
      req = req ?? {};
      if (method === "GetMembers") return this.#getMembers();
      const l = this.#opts.leadership();
      if (!l.is_leader) {
        const addr = this.#opts.members.get(l.leader_id);
        if (forwarded || addr === undefined || this.#opts.forward === undefined) {
          throw new MetaError(
            ErrorType.UNKNOWN,
            `not the meta leader (leader: ${addr ?? "unknown"})`,
          );
        }
        return await this.#opts.forward(addr, method, req);
      }
      const view = await this.#ensureLoaded(l.term);
      const got = req.header?.cluster_id ?? 0;
      if (got !== 0 && got !== view.cluster_id) {
        throw new MetaError(
          ErrorType.UNKNOWN,
          `mismatch cluster id: need ${view.cluster_id} but got ${got}`,
        );
      }
      const handler = this.#handlers[method];
      if (handler === undefined) throw new MetaError(ErrorType.UNKNOWN, `no method ${method}`);
      if (!view.bootstrapped && !PRE_BOOTSTRAP.has(method)) {
        throw new MetaError(ErrorType.NOT_BOOTSTRAPPED, "cluster is not bootstrapped");
      }
      const res = await handler(view, req);
      this.served_total++;
      return { ...res, header: { cluster_id: view.cluster_id } };
    } catch (err) {
      const type = err instanceof MetaError ? err.type : ErrorType.UNKNOWN;
      const message = err instanceof Error ? err.message : String(err);
      if (!(err instanceof MetaError) && !(err instanceof MetaUnavailable)) {
        this.#opts.log?.(`${method} failed: ${err instanceof Error ? err.stack : err}`);
      }
      return { header: { cluster_id: this.#last_cluster_id, error: { type, message } } };
    }
  }

  #getMembers(): object {
    const l = this.#opts.leadership();
    const member = (id: number) => ({
      name: `meta-${id}`,
      member_id: id,
      peer_urls: [this.#opts.members.get(id)!],
    });
    const ids = [...this.#opts.members.keys()].sort((a, b) => a - b);
    return {
      header: { cluster_id: this.#view?.cluster_id ?? this.#last_cluster_id },
      members: ids.map(member),
      leader: this.#opts.members.has(l.leader_id) ? member(l.leader_id) : null,
    };
  }

  /** Runs durable writes one at a time, in call order. */
  #serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#writes.then(fn, fn);
    this.#writes = run.catch(() => {});
    return run;
  }

  // ---- ids ----

  async #allocId(view: View): Promise<number> {
    while (view.alloc_next >= view.alloc_end) await this.#refill(view);
    const id = view.alloc_next++;
    if (view.alloc_end - view.alloc_next < ALLOC_STEP / 4) void this.#refill(view).catch(() => {});
    return id;
  }

  /** An id without waiting, for the scheduler; null when the range is used up. */
  #allocNow(view: View): number | null {
    if (view.alloc_next >= view.alloc_end) {
      void this.#refill(view).catch(() => {});
      return null;
    }
    return view.alloc_next++;
  }

  #refill(view: View): Promise<void> {
    if (this.#refilling) return this.#refilling;
    this.#refilling = (async () => {
      const from = view.alloc_end;
      // Ids start at 1: 0 means "none" everywhere.
      const base = Math.max(from, 1);
      if (!(await this.#opts.storage.allocate(from, base + ALLOC_STEP))) {
        throw new MetaUnavailable("id allocator moved by another leader");
      }
      if (view.alloc_next < base) view.alloc_next = base;
      view.alloc_end = base + ALLOC_STEP;
    })().finally(() => (this.#refilling = null));
    return this.#refilling;
  }

  // ---- stores ----

  #checkStore(s: metapb.Store | null | undefined): metapb.Store {
    if (!s || !(s.id > 0)) throw new MetaError(ErrorType.UNKNOWN, "store with an id > 0 required");
    if ((s.address ?? "").length === 0 || s.address.length > MAX_STRING) {
      throw new MetaError(ErrorType.UNKNOWN, "store address missing or too long");
    }
    if ((s.version ?? "").length > MAX_STRING) {
      throw new MetaError(ErrorType.UNKNOWN, "store version too long");
    }
    const store = plain<metapb.Store>("metapb.Store", s);
    if (store.version !== "" && major(store.version) !== major(this.#opts.version)) {
      throw new MetaError(
        ErrorType.INCOMPATIBLE_VERSION,
        `store version ${store.version} is incompatible with meta ${this.#opts.version}`,
      );
    }
    return store;
  }

  #knownStore(view: View, id: number): metapb.Store {
    const entry = view.state.stores.get(id);
    if (entry === undefined) throw new MetaError(ErrorType.UNKNOWN, `store ${id} not found`);
    if (entry.store.state === StoreState.Tombstone) {
      throw new MetaError(ErrorType.STORE_TOMBSTONE, `store ${id} is tombstone`);
    }
    return entry.store;
  }

  #getAllStores(view: View, req: mpb.GetAllStoresRequest): Promise<object> {
    const stores = [...view.state.stores.values()]
      .map((e) => e.store)
      .filter((s) => !req.exclude_tombstone_stores || s.state !== StoreState.Tombstone)
      .sort((a, b) => a.id - b.id);
    return Promise.resolve({ stores });
  }

  #getStore(view: View, req: mpb.GetStoreRequest): Promise<object> {
    const entry = view.state.stores.get(req.store_id);
    if (entry === undefined) {
      throw new MetaError(ErrorType.UNKNOWN, `store ${req.store_id} not found`);
    }
    if (entry.store.state === StoreState.Tombstone) {
      throw new MetaError(ErrorType.STORE_TOMBSTONE, `store ${req.store_id} is tombstone`);
    }
    return Promise.resolve({ store: entry.store, stats: entry.stats });
  }

  async #putStore(view: View, req: mpb.PutStoreRequest): Promise<object> {
    const store = this.#checkStore(req.store);
    const known = view.state.stores.get(store.id);
    if (known?.store.state === StoreState.Tombstone) {
      throw new MetaError(ErrorType.STORE_TOMBSTONE, `store ${store.id} is tombstone`);
    }
    for (const other of view.state.stores.values()) {
      if (
        other.store.id !== store.id && other.store.address === store.address &&
        other.store.state !== StoreState.Tombstone
      ) {
        throw new MetaError(
          ErrorType.UNKNOWN,
          `address ${store.address} already used by store ${other.store.id}`,
        );
      }
    }
    // Up -> Offline (decommission) is the only change a caller may ask for: a
    // store re-registering as Up stays Offline, and only meta sets Tombstone.
    if (store.state === StoreState.Tombstone) {
      throw new MetaError(ErrorType.UNKNOWN, "Tombstone is set by meta once a store is drained");
    }
    const offline = store.state === StoreState.Offline || known?.store.state === StoreState.Offline;
    const saved = { ...store, state: offline ? StoreState.Offline : StoreState.Up };
    await this.#serialized(() => this.#opts.storage.putStore(saved));
    view.state.putStore(saved, this.#now());
    return {};
  }

  /** Sets a store's state (decommission); Tombstone is final. */
  async setStoreState(store_id: number, state: StoreState): Promise<void> {
    const view = this.#view;
    if (view === null) throw new MetaUnavailable("not the meta leader");
    const known = this.#knownStore(view, store_id);
    const saved = { ...known, state };
    await this.#serialized(() => this.#opts.storage.putStore(saved));
    view.state.putStore(saved, this.#now());
  }

  async #storeHeartbeat(view: View, req: mpb.StoreHeartbeatRequest): Promise<object> {
    const stats = req.stats;
    if (!stats) throw new MetaError(ErrorType.UNKNOWN, "stats missing");
    this.#knownStore(view, stats.store_id);
    view.state.storeHeartbeat(plain("metaservicepb.StoreStats", stats), this.#now());
    for (const id of view.scheduler.drainedOfflineStores(view.state)) {
      this.#opts.log?.(`store ${id} drained: now Tombstone`);
      await this.setStoreState(id, StoreState.Tombstone);
    }
    return {};
  }

  // ---- bootstrap ----

  async #bootstrap(view: View, req: mpb.BootstrapRequest): Promise<object> {
    if (view.bootstrapped) {
      throw new MetaError(ErrorType.ALREADY_BOOTSTRAPPED, "cluster is already bootstrapped");
    }
    const store = { ...this.#checkStore(req.store), state: StoreState.Up };
    const region = checkRegion(req.region);
    if (region.start_key.length !== 0 || region.end_key.length !== 0) {
      throw new MetaError(ErrorType.UNKNOWN, "the first region must cover every key");
    }
    if (region.peers.length !== 1 || region.peers[0].store_id !== store.id) {
      throw new MetaError(ErrorType.UNKNOWN, "the first region has one peer, on the store");
    }
    const won = await this.#serialized(() => this.#opts.storage.bootstrap(store, region));
    if (!won) {
      view.bootstrapped = true;
      throw new MetaError(ErrorType.ALREADY_BOOTSTRAPPED, "cluster is already bootstrapped");
    }
    view.bootstrapped = true;
    const now = this.#now();
    view.state.putStore(store, now);
    view.state.applyRegion({ region }, now);
    this.#opts.log?.(`bootstrapped by store ${store.id} with region ${region.id}`);
    return {};
  }

  // ---- regions ----

  #getRegion(view: View, req: mpb.GetRegionRequest): Promise<object> {
    const key = checkKey(req.region_key, "region_key");
    const entry = view.state.regionByKey(key);
    if (entry === undefined) throw new MetaError(ErrorType.REGION_NOT_FOUND, "no region for key");
    return Promise.resolve(withLeader(entry));
  }

  #getRegionById(view: View, req: mpb.GetRegionByIDRequest): Promise<object> {
    const entry = view.state.regions.get(req.region_id);
    if (entry === undefined) {
      throw new MetaError(ErrorType.REGION_NOT_FOUND, `region ${req.region_id} not found`);
    }
    return Promise.resolve(withLeader(entry));
  }

  #scanRegions(view: View, req: mpb.ScanRegionsRequest): Promise<object> {
    const start = checkKey(req.start_key, "start_key");
    const end = checkKey(req.end_key, "end_key");
    const limit = Math.min(req.limit || MAX_SCAN_REGIONS, MAX_SCAN_REGIONS);
    const regions = view.state.scanRegions(start, end, limit).map((e) => ({
      region: e.region,
      leader: e.leader,
    }));
    return Promise.resolve({ regions });
  }

  async #askSplit(view: View, req: mpb.AskSplitRequest): Promise<object> {
    const region = checkRegion(req.region);
    const known = view.state.regions.get(region.id);
    if (known === undefined) {
      throw new MetaError(ErrorType.REGION_NOT_FOUND, `region ${region.id} not found`);
    }
    if (epochOf(region).version < epochOf(known.region).version) {
      throw new MetaError(ErrorType.UNKNOWN, `region ${region.id} epoch is stale`);
    }
    const new_region_id = await this.#allocId(view);
    const new_peer_ids: number[] = [];
    for (let i = 0; i < region.peers.length; i++) new_peer_ids.push(await this.#allocId(view));
    return { new_region_id, new_peer_ids };
  }

  async #reportSplit(view: View, req: mpb.ReportSplitRequest): Promise<object> {
    const left = checkRegion(req.left);
    const right = checkRegion(req.right);
    if (left.end_key.length === 0 || compareBytes(left.end_key, right.start_key) !== 0) {
      throw new MetaError(ErrorType.UNKNOWN, "left.end_key must equal right.start_key");
    }
    await this.#updateRegions(view, [{ region: left }, { region: right }]);
    return {};
  }

  async #updateRegions(
    view: View,
    reports: Array<Parameters<ClusterState["applyRegion"]>[0]>,
  ): Promise<void> {
    const now = this.#now();
    const changed: metapb.Region[] = [];
    const removed: number[] = [];
    for (const report of reports) {
      const up = view.state.applyRegion(report, now);
      if (up.epoch_changed) changed.push(report.region);
      removed.push(...up.removed);
    }
    if (changed.length > 0 || removed.length > 0) {
      await this.#serialized(() => this.#opts.storage.putRegions(changed, removed));
    }
  }

  async #regionHeartbeat(view: View, req: mpb.RegionHeartbeatRequest): Promise<object> {
    const region = checkRegion(req.region);
    const leader = req.leader ? plain<metapb.Peer>("metapb.Peer", req.leader) : null;
    if (leader === null || !region.peers.some((p) => p.id === leader.id)) {
      throw new MetaError(ErrorType.UNKNOWN, "heartbeat leader must be a peer of the region");
    }
    this.#knownStore(view, leader.store_id);
    await this.#updateRegions(view, [{
      region,
      leader,
      term: req.term ?? 0,
      pending_peers: (req.pending_peers ?? []).map((p: metapb.Peer) => plain("metapb.Peer", p)),
      approximate_size_bytes: req.approximate_size ?? 0,
      approximate_keys: req.approximate_keys ?? 0,
    }]);
    const entry = view.state.regions.get(region.id);
    const none = { region_id: region.id, region_epoch: region.region_epoch, operator: 0 };
    // A stale report (or an older leader) gets no operator.
    if (entry === undefined || entry.leader?.id !== leader.id) return none;
    if (view.alloc_next >= view.alloc_end) await this.#refill(view);
    const step = view.scheduler.onRegionHeartbeat(
      view.state,
      region.id,
      this.#now(),
      () => this.#allocNow(view),
    );
    return step === null ? none : { ...none, ...stepResponse(step) };
  }

  /** Queues an admin operator (ctl); rejects when this node does not serve. */
  addOperator(region_id: number, steps: Step[]): void {
    const view = this.#view;
    if (view === null) throw new MetaUnavailable("not the meta leader");
    if (!view.state.regions.has(region_id)) {
      throw new MetaError(ErrorType.REGION_NOT_FOUND, `region ${region_id} not found`);
    }
    const op: Operator = { region_id, source: "admin", steps, created_ms: this.#now() };
    view.scheduler.addOperator(op);
  }

  /** Allocates an id as leader (for admin add-peer). */
  allocId(): Promise<number> {
    const view = this.#view;
    if (view === null) return Promise.reject(new MetaUnavailable("not the meta leader"));
    return this.#allocId(view);
  }
}

function stepResponse(step: Step): object {
  switch (step.kind) {
    case "add_peer":
      return { operator: OperatorKind.AddPeer, target_peer: step.peer };
    case "remove_peer":
      return { operator: OperatorKind.RemovePeer, target_peer: step.peer };
    case "transfer_leader":
      return { operator: OperatorKind.TransferLeader, target_peer: step.peer };
    case "split":
      return { operator: OperatorKind.SplitRegion, split_key: step.split_key };
  }
}
