/**
 * A fake cluster for routing tests: one fake meta and N fake stores, real
 * gRPC servers on 127.0.0.1 serving the contract's `metaservicepb.Meta` and
 * `storepb.Store` (unary RawGet/RawScan/RawBatch/RawBatchGet and the
 * BatchCommands stream). The data lives in one shared {@link MemoryBackend}
 * (a model, not replication); what is real is the region bookkeeping — ids,
 * epochs, leaders, key ranges — and the region errors a store answers when a
 * request does not match it. Tests steer it: split, move leaders, inject
 * errors or lost responses, make meta stale.
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { type GrpcServer, startGrpcServer } from "@eraft/shared/grpc";
import { FrameKind, type FrameListener, listenFrames } from "@eraft/shared/frame";
import { decodeMessage, encodeMessage } from "@eraft/shared/proto";
import type * as errorpb from "@eraft/proto/gen/errorpb.ts";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import type { Peer, Region } from "@eraft/proto/gen/metapb.ts";
import type * as storepb from "@eraft/proto/gen/storepb.ts";
import { MemoryBackend } from "../memory_backend.ts";
import type { Mutation } from "../backend.ts";
import { latin1 } from "../encoding/bytes.ts";

/** What an injection hook may do to one request. */
export type Injection =
  | { region_error: errorpb.Error }
  /** Apply the request, then fail the transport (the client sees an unknown outcome). */
  | { apply_then_fail: true }
  /** Fail the transport without applying. */
  | { fail: true };

/** A request as the hook sees it. */
export interface SeenRequest {
  store_id: number;
  kind: string;
  region_id: number;
  /** RawBatchRequest.id for writes. */
  id: number;
  via_stream: boolean;
  /** Sent to the store's "region worker" listener (started with `workers`). */
  via_worker: boolean;
}

interface FakeRegion {
  region: Region;
  leader_store: number | null;
}

const EMPTY = new Uint8Array(0);

function inRange(r: Region, key: Uint8Array): boolean {
  const k = latin1(key);
  return k >= latin1(r.start_key) && (r.end_key.length === 0 || k < latin1(r.end_key));
}

function clone(r: Region): Region {
  return {
    id: r.id,
    start_key: new Uint8Array(r.start_key),
    end_key: new Uint8Array(r.end_key),
    region_epoch: { ...r.region_epoch! },
    peers: r.peers.map((p) => ({ ...p })),
  };
}

/** The fake cluster. */
export class FakeCluster {
  readonly data = new MemoryBackend();
  readonly regions = new Map<number, FakeRegion>();
  /** Region views meta answers with; `meta_stale` freezes it. */
  meta_regions: FakeRegion[] = [];
  meta_stale = false;
  /** Whether peers carry `addr` (false makes the client use GetStore). */
  peer_addrs = true;
  readonly store_addrs = new Map<number, string>();
  /** Frame listener addresses (only when started with frames). */
  readonly frame_addrs = new Map<number, string>();
  #frame_listeners: FrameListener[] = [];
  /**
   * Each store's stand-in for a region worker's own frame listener (with
   * `workers`): the store's answers name it in `worker_routes`.
   */
  readonly worker_addrs = new Map<number, string>();
  readonly #worker_listeners = new Map<number, FrameListener>();
  /** Request ids applied, with the outcome answered. */
  readonly applied = new Map<number, kvrpcpb.RawBatchResponse>();
  /** Batches that arrived again with an id already applied. */
  duplicates = 0;
  /** Every request seen (store_id, kind, region, id). */
  readonly seen: SeenRequest[] = [];
  /** Hook deciding per request; undefined = serve normally. */
  hook: ((r: SeenRequest) => Injection | undefined) | null = null;
  #servers: GrpcServer[] = [];
  #next_id = 100;
  meta_addr = "";
  meta_calls = 0;

  private constructor() {}

  /**
   * Starts meta and `stores` stores; region 1 covers everything, led by store 1.
   * With `frames`, each store also serves BatchCommands on a frame listener
   * that meta's GetStore advertises; with `workers` as well, on a second one
   * that the store's answers name as the worker of every region.
   */
  static async start(
    stores = 3,
    opts: { frames?: boolean; workers?: boolean } = {},
  ): Promise<FakeCluster> {
    const c = new FakeCluster();
    for (let s = 1; s <= stores; s++) {
      const server = await startGrpcServer({
        addr: "127.0.0.1:0",
        services: [{ service: "storepb.Store", handlers: c.#storeHandlers(s) }],
      });
      c.#servers.push(server);
      c.store_addrs.set(s, server.address);
      if (opts.frames) {
        const frames = c.#frameListener(s);
        c.#frame_listeners.push(frames);
        c.frame_addrs.set(s, frames.address);
      }
      if (opts.workers) c.restartWorker(s);
    }
    const meta = await startGrpcServer({
      addr: "127.0.0.1:0",
      services: [{ service: "metaservicepb.Meta", handlers: c.#metaHandlers() }],
    });
    c.#servers.push(meta);
    c.meta_addr = meta.address;
    const peers: Peer[] = [...c.store_addrs.keys()].map((s) => ({
      id: 10 + s,
      store_id: s,
      addr: "",
      role: 0,
    }));
    c.regions.set(1, {
      region: {
        id: 1,
        start_key: EMPTY,
        end_key: EMPTY,
        region_epoch: { conf_ver: 1, version: 1 },
        peers,
      },
      leader_store: 1,
    });
    c.#publish();
    return c;
  }

  /** Copies the current regions to meta unless meta is stale. */
  #publish(): void {
    if (this.meta_stale) return;
    this.meta_regions = [...this.regions.values()].map((f) => ({
      region: clone(f.region),
      leader_store: f.leader_store,
    }));
  }

  /** Makes meta answer with the current regions again. */
  refreshMeta(): void {
    const was = this.meta_stale;
    this.meta_stale = false;
    this.#publish();
    this.meta_stale = was;
  }

  #peer(r: Region, store_id: number | null): Peer | null {
    const p = r.peers.find((p) => p.store_id === store_id);
    if (!p) return null;
    return { ...p, addr: this.peer_addrs ? this.store_addrs.get(p.store_id)! : "" };
  }

  #withAddrs(r: Region): Region {
    return { ...clone(r), peers: r.peers.map((p) => this.#peer(r, p.store_id)!) };
  }

  /** Splits the region holding `key` at `key`; returns [left, right]. */
  split(key: Uint8Array): [Region, Region] {
    const f = [...this.regions.values()].find((f) => inRange(f.region, key));
    if (!f) throw new Error("no region for split key");
    const old = f.region;
    const version = old.region_epoch!.version + 1;
    const right_id = this.#next_id++;
    const left: Region = { ...clone(old), end_key: new Uint8Array(key) };
    left.region_epoch = { conf_ver: old.region_epoch!.conf_ver, version };
    const right: Region = {
      id: right_id,
      start_key: new Uint8Array(key),
      end_key: new Uint8Array(old.end_key),
      region_epoch: { conf_ver: old.region_epoch!.conf_ver, version },
      peers: old.peers.map((p) => ({ ...p, id: this.#next_id++ })),
    };
    f.region = left;
    this.regions.set(right_id, { region: right, leader_store: f.leader_store });
    this.#publish();
    return [left, right];
  }

  /** Moves a region's leadership (null: no leader, an election in progress). */
  setLeader(region_id: number, store_id: number | null): void {
    this.regions.get(region_id)!.leader_store = store_id;
    this.#publish();
  }

  /** Region errors for a request with `ctx` and `keys` on `store_id`, or null. */
  #check(
    store_id: number,
    ctx: kvrpcpb.Context | null | undefined,
    keys: Uint8Array[],
  ): errorpb.Error | null {
    const f = ctx ? this.regions.get(ctx.region_id) : undefined;
    if (!f || !f.region.peers.some((p) => p.store_id === store_id)) {
      return {
        message: "region not found",
        region_not_found: { region_id: ctx?.region_id ?? 0 },
      };
    }
    if (f.leader_store !== store_id) {
      return {
        message: "not leader",
        not_leader: { region_id: f.region.id, leader: this.#peer(f.region, f.leader_store) },
      };
    }
    const e = ctx!.region_epoch;
    const cur = f.region.region_epoch!;
    if (!e || e.version !== cur.version || e.conf_ver !== cur.conf_ver) {
      return {
        message: "epoch not match",
        epoch_not_match: {
          current_regions: [...this.regions.values()].map((x) => this.#withAddrs(x.region)),
        },
      };
    }
    for (const k of keys) {
      if (!inRange(f.region, k)) {
        return {
          message: "key not in region",
          key_not_in_region: {
            key: k,
            region_id: f.region.id,
            start_key: f.region.start_key,
            end_key: f.region.end_key,
          },
        };
      }
    }
    return null;
  }

  /** (Re)starts store `store_id`'s worker listener on a new port; its old connections close. */
  restartWorker(store_id: number): void {
    void this.#worker_listeners.get(store_id)?.close();
    const listener = this.#frameListener(store_id, true);
    this.#worker_listeners.set(store_id, listener);
    this.worker_addrs.set(store_id, listener.address);
  }

  async #serve(
    store_id: number,
    req: storepb.BatchCommandsRequest_Request,
    via_stream: boolean,
    via_worker = false,
  ): Promise<storepb.BatchCommandsResponse_Response | "fail"> {
    const kind = Object.keys(req).find((k) => (req as Record<string, unknown>)[k]) ?? "";
    const body = (req as Record<string, { context?: kvrpcpb.Context; id?: number }>)[kind];
    const seen: SeenRequest = {
      store_id,
      kind,
      region_id: body?.context?.region_id ?? 0,
      id: body?.id ?? 0,
      via_stream,
      via_worker,
    };
    this.seen.push(seen);
    const inj = this.hook?.(seen);
    if (inj && "fail" in inj) return "fail";
    if (inj && "region_error" in inj) return errorResponse(kind, inj.region_error);
    const res = await this.#exec(store_id, req);
    if (inj && "apply_then_fail" in inj) return "fail";
    return res;
  }

  async #exec(
    store_id: number,
    req: storepb.BatchCommandsRequest_Request,
  ): Promise<storepb.BatchCommandsResponse_Response> {
    const cf = "default";
    if (req.raw_get) {
      const r = req.raw_get;
      const re = this.#check(store_id, r.context, [r.key]);
      if (re) return errorResponse("raw_get", re);
      const v = await this.data.get(r.cf || cf, r.key);
      return {
        raw_get: {
          region_error: null,
          error: "",
          value: v ?? EMPTY,
          not_found: v === null,
          type: 0,
        },
      };
    }
    if (req.raw_batch_get) {
      const r = req.raw_batch_get;
      const re = this.#check(store_id, r.context, r.keys);
      if (re) return errorResponse("raw_batch_get", re);
      const vs = await this.data.batchGet(r.cf || cf, r.keys);
      const pairs = r.keys.flatMap((k, i) =>
        vs[i] === null ? [] : [{ error: null, key: k, value: vs[i]!, type: 0 }]
      );
      return { raw_batch_get: { region_error: null, error: "", pairs } };
    }
    if (req.raw_scan) {
      const r = req.raw_scan;
      const f = r.context ? this.regions.get(r.context.region_id) : undefined;
      const lo = r.start_key.length > 0 ? [r.start_key] : [];
      const re = this.#check(store_id, r.context, lo);
      if (re) return errorResponse("raw_scan", re);
      const region = f!.region;
      // Never past the region: clamp both ends.
      const start = latin1(r.start_key) < latin1(region.start_key) ? region.start_key : r.start_key;
      let end = r.end_key ?? EMPTY;
      if (
        region.end_key.length > 0 && (end.length === 0 || latin1(end) > latin1(region.end_key))
      ) end = region.end_key;
      const kvs = await this.data.scan(r.cf || cf, start, end, r.limit, r.reverse);
      return {
        raw_scan: {
          region_error: null,
          error: "",
          kvs: kvs.map((p) => ({ error: null, key: p.key, value: p.value, type: 0 })),
        },
      };
    }
    if (req.raw_batch) {
      const r = req.raw_batch;
      const keys = [...r.mutations.map((m) => m.key), ...(r.preconditions ?? []).map((p) => p.key)];
      const re = this.#check(store_id, r.context, keys);
      if (re) return errorResponse("raw_batch", re);
      // As the store's validation: an id is only usable with its issue time.
      const undated = r.id ? !r.issued_at_ms : r.members?.some((m) => !m.issued_at_ms);
      if (undated) {
        const error = "request id needs issued_at_ms";
        return {
          raw_batch: { region_error: null, error, precondition_failed: false, failed_index: 0 },
        };
      }
      if (r.id && this.applied.has(r.id)) {
        this.duplicates++;
        return { raw_batch: this.applied.get(r.id)! };
      }
      // Decoded messages keep proto3 defaults on the prototype: copy field by field.
      const mutations = r.mutations.map((m) => ({
        op: m.op ?? 0,
        cf: m.cf || cf,
        key: m.key,
        value: m.value ?? EMPTY,
        type: m.type ?? 0,
        end_key: m.end_key ?? EMPTY,
      }));
      if (r.members?.length) return { raw_batch: await this.#applyMembers(r, mutations) };
      const out = await this.data.batch(
        mutations,
        (r.preconditions ?? []).map((p) => ({
          kind: p.kind ?? 0,
          cf: p.cf || cf,
          key: p.key,
          value: p.value ?? EMPTY,
        })),
      );
      const res: kvrpcpb.RawBatchResponse = {
        region_error: null,
        error: "",
        precondition_failed: !out.ok,
        failed_index: out.ok ? 0 : out.failed_index,
      };
      if (r.id) this.applied.set(r.id, res);
      return { raw_batch: res };
    }
    return {};
  }

  /** A merged batch: each member applies once, under its own id (as the store does). */
  async #applyMembers(
    r: kvrpcpb.RawBatchRequest,
    mutations: Mutation[],
  ): Promise<kvrpcpb.RawBatchResponse> {
    const res = { region_error: null, error: "", precondition_failed: false, failed_index: 0 };
    let at = 0;
    for (const m of r.members) {
      const mine = mutations.slice(at, at + m.mutation_count);
      at += m.mutation_count;
      if (this.applied.has(m.id)) {
        this.duplicates++;
        continue;
      }
      await this.data.batch(mine, []);
      this.applied.set(m.id, res);
    }
    return res;
  }

  #storeHandlers(store_id: number): grpc.UntypedServiceImplementation {
    const unary = (kind: string) =>
    (
      call: grpc.ServerUnaryCall<object, object>,
      cb: grpc.sendUnaryData<object>,
    ) => {
      this.#serve(store_id, { [kind]: call.request }, false).then((res) => {
        if (res === "fail") {
          cb({ code: grpc.status.UNAVAILABLE, details: "injected failure" } as grpc.ServiceError);
        } else cb(null, (res as Record<string, object>)[kind]);
      });
    };
    return {
      RawGet: unary("raw_get"),
      RawScan: unary("raw_scan"),
      RawBatch: unary("raw_batch"),
      RawBatchGet: unary("raw_batch_get"),
      BatchCommands: (call: grpc.ServerDuplexStream<object, object>) => {
        const session = this.#batchSession(store_id, (res) => call.write(res), () => {
          call.emit("error", { code: grpc.status.UNAVAILABLE, details: "injected failure" });
        });
        call.on("data", (msg: storepb.BatchCommandsRequest) => session.onBatch(msg));
        call.on("end", () => {
          if (!session.dead) call.end();
        });
        call.on("error", () => (session.dead = true));
        call.on("cancelled", () => (session.dead = true));
      },
    };
  }

  /** Serves one BatchCommands stream; an injected failure kills it (`fail`). */
  #batchSession(
    store_id: number,
    send: (res: storepb.BatchCommandsResponse) => void,
    fail: () => void,
    via_worker = false,
  ) {
    const session = {
      dead: false,
      onBatch: (msg: storepb.BatchCommandsRequest) => {
        msg.requests.forEach((req, i) => {
          this.#serve(store_id, req, true, via_worker).then((res) => {
            if (session.dead) return;
            if (res === "fail") {
              session.dead = true;
              fail();
              return;
            }
            const worker_routes = via_worker ? [] : this.#routesFor(store_id, req, res);
            send({ responses: [res], request_ids: [msg.request_ids[i]], worker_routes });
          });
        });
      },
    };
    return session;
  }

  /** The route a store's served answer carries when the store has a worker listener. */
  #routesFor(
    store_id: number,
    req: storepb.BatchCommandsRequest_Request,
    res: storepb.BatchCommandsResponse_Response,
  ): storepb.WorkerRoute[] {
    const frame_addr = this.worker_addrs.get(store_id);
    const answer = Object.values(res)[0] as { region_error?: unknown } | undefined;
    const body = Object.values(req)[0] as { context?: kvrpcpb.Context } | undefined;
    const region_id = body?.context?.region_id ?? 0;
    if (frame_addr === undefined || answer?.region_error || region_id === 0) return [];
    return [{ region_id, frame_addr }];
  }

  /** The frame listener of a store: BatchCommands over shared/frame.ts. */
  #frameListener(store_id: number, worker = false): FrameListener {
    return listenFrames("127.0.0.1:0", (peer) => {
      const session = this.#batchSession(
        store_id,
        (res) =>
          peer.send(FrameKind.BatchResponse, encodeMessage("storepb.BatchCommandsResponse", res)),
        () => peer.close(),
        worker,
      );
      return {
        on_frame: (_kind, body) =>
          session.onBatch(decodeMessage("storepb.BatchCommandsRequest", body)),
        on_close: () => (session.dead = true),
      };
    });
  }

  #metaHandlers(): grpc.UntypedServiceImplementation {
    const ok = { cluster_id: 1, error: null };
    const regionFor = (key: Uint8Array) => this.meta_regions.find((f) => inRange(f.region, key));
    const answer = (f: FakeRegion | undefined) =>
      f
        ? {
          header: ok,
          region: this.#withAddrs(f.region),
          leader: this.#peer(f.region, f.leader_store),
          slaves: [],
        }
        : { header: { cluster_id: 1, error: { type: 6, message: "region not found" } } };
    const unary = (fn: (req: Record<string, unknown>) => object) =>
    (
      call: grpc.ServerUnaryCall<object, object>,
      cb: grpc.sendUnaryData<object>,
    ) => {
      this.meta_calls++;
      cb(null, fn(call.request as Record<string, unknown>));
    };
    return {
      GetMembers: unary(() => ({
        header: ok,
        members: [{ name: "meta1", member_id: 1, peer_urls: [this.meta_addr] }],
        leader: { name: "meta1", member_id: 1, peer_urls: [this.meta_addr] },
      })),
      GetRegion: unary((r) => answer(regionFor(r.region_key as Uint8Array))),
      GetRegionByID: unary((r) =>
        answer(this.meta_regions.find((f) => f.region.id === r.region_id))
      ),
      ScanRegions: unary((r) => {
        const start = latin1(r.start_key as Uint8Array);
        const end = latin1(r.end_key as Uint8Array);
        const limit = (r.limit as number) || Infinity;
        const sorted = [...this.meta_regions].sort((a, b) =>
          latin1(a.region.start_key) < latin1(b.region.start_key) ? -1 : 1
        );
        const hits = sorted.filter((f) =>
          (f.region.end_key.length === 0 || latin1(f.region.end_key) > start) &&
          (end === "" || latin1(f.region.start_key) < end)
        ).slice(0, limit);
        return {
          header: ok,
          regions: hits.map((f) => ({
            region: this.#withAddrs(f.region),
            leader: this.#peer(f.region, f.leader_store),
          })),
        };
      }),
      GetStore: unary((r) => {
        const addr = this.store_addrs.get(r.store_id as number);
        if (!addr) return { header: { cluster_id: 1, error: { type: 1, message: "no store" } } };
        return {
          header: ok,
          store: {
            id: r.store_id,
            address: addr,
            frame_address: this.frame_addrs.get(r.store_id as number) ?? "",
            state: 0,
            version: "",
            start_timestamp_ms: 0,
          },
          stats: null,
        };
      }),
    };
  }

  /** Stops every server. */
  async stop(): Promise<void> {
    const workers = [...this.#worker_listeners.values()];
    await Promise.all([...this.#frame_listeners, ...workers].map((f) => f.close()));
    await Promise.all(this.#servers.map((s) => s.shutdown(500)));
  }
}

function errorResponse(
  kind: string,
  region_error: errorpb.Error,
): storepb.BatchCommandsResponse_Response {
  const base = { region_error, error: "" };
  switch (kind) {
    case "raw_get":
      return { raw_get: { ...base, value: EMPTY, not_found: false, type: 0 } };
    case "raw_scan":
      return { raw_scan: { ...base, kvs: [] } };
    case "raw_batch":
      return { raw_batch: { ...base, precondition_failed: false, failed_index: 0 } };
    case "raw_batch_get":
      return { raw_batch_get: { ...base, pairs: [] } };
  }
  return {};
}
