/**
 * `StoreNode`: one E-STORE process put together — the region worker pool, the
 * Raft transport, the gRPC server (`storepb.Store` + `storepb.RaftTransport`)
 * and, for tests only, the test control endpoint.
 *
 * Static bootstrap (`--initial-cluster 1=host:port,...`): region 1 covers all
 * keys with one peer per listed store (peer id = store id); each store creates
 * its peer unless region 1 already exists on disk, so restarts are idempotent.
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type * as metapb from "@eraft/proto/gen/metapb.ts";
import { PeerRole } from "@eraft/proto/gen/metapb.ts";
import { type GrpcServer, type ServiceBinding, startGrpcServer } from "@eraft/shared/grpc";
import type { FrameListener } from "@eraft/shared/frame";
import { splitHostPort } from "@eraft/shared/net";
import {
  instrumentGrpc,
  type MetricsServer,
  type Route,
  startMetricsServer,
} from "@eraft/shared/metrics";
import type { WorkerConfig, WorkerStats } from "../protocol.ts";
import { FaultFilter } from "./fault_filter.ts";
import { KvApi } from "./kv_api.ts";
import { StoreMetrics } from "./metrics.ts";
import { storeHandlers } from "./store_service.ts";
import { Supervisor } from "./supervisor.ts";
import { startTestControl } from "./test_control.ts";
import { startFrameService } from "./frame_service.ts";
import { RaftTransport } from "./transport.ts";

/** Everything a store process is configured with. */
export interface StoreNodeOptions {
  /** gRPC listen address, host:port. */
  addr: string;
  /**
   * Frame listener address (shared/frame.ts), host:port; port 0 picks a free
   * port. Default: the gRPC host, any port. "" runs no frame listener.
   */
  frame_addr?: string;
  data_dir: string;
  store_id: number;
  workers: number;
  /** Static bootstrap: store id → address of every initial store. */
  initial_cluster?: Map<number, string>;
  tick_ms?: number;
  election_timeout_ticks?: number;
  heartbeat_timeout_ticks?: number;
  raft_log_gc_count_limit?: number;
  raft_log_gc_keep_entries?: number;
  max_pending_requests?: number;
  request_deadline_ms?: number;
  seed?: number;
  /** Account worker CPU by loop phase (`eraft_worker_phase_cpu_seconds_total`). */
  phase_cpu?: boolean;
  /** Worker module URL (unit tests use a fake worker). */
  worker_url?: string;
  /** Opens the test control endpoint on 127.0.0.1 (0 = any free port). */
  test_control_port?: number;
  /**
   * More gRPC services on the same server (meta adds `metaservicepb.Meta`).
   * Their handlers may be called before `start` resolves: bind them lazily.
   */
  extra_services?: ServiceBinding[];
  /** Serves Prometheus `/metrics` on this HTTP address (host:port, port 0 = any). */
  metrics_addr?: string;
  /** More routes on the metrics server (meta's dashboard). */
  metrics_routes?: Route[];
  log?: (line: string) => void;
}

/** Parses `1=host:port,2=host:port` into store id → address. */
export function parseInitialCluster(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const part of text.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const m = /^(\d+)=(.+:\d+)$/.exec(part);
    if (!m) throw new Error(`bad --initial-cluster entry '${part}': expected id=host:port`);
    const id = Number(m[1]);
    if (!(id > 0) || out.has(id)) throw new Error(`bad or repeated store id in '${part}'`);
    out.set(id, m[2]);
  }
  if (out.size === 0) throw new Error("--initial-cluster lists no stores");
  return out;
}

/** Region 1 of a static cluster: all keys, one peer per store, peer id = store id. */
export function initialRegion(cluster: Map<number, string>): metapb.Region {
  const peers = [...cluster].sort(([a], [b]) => a - b).map(([store_id, addr]) => ({
    id: store_id,
    store_id,
    addr,
    role: PeerRole.Voter,
  }));
  return {
    id: 1,
    start_key: new Uint8Array(0),
    end_key: new Uint8Array(0),
    region_epoch: { conf_ver: 1, version: 1 },
    peers,
  };
}

/** Refuses a data dir that belongs to another store id; records the id on first use. */
function claimDataDir(data_dir: string, store_id: number): void {
  Deno.mkdirSync(data_dir, { recursive: true });
  const path = join(data_dir, "store.json");
  try {
    const found = JSON.parse(Deno.readTextFileSync(path)).store_id;
    if (found !== store_id) {
      throw new Error(`${data_dir} belongs to store ${found}, not ${store_id}`);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    Deno.writeTextFileSync(path, JSON.stringify({ store_id }) + "\n");
  }
}

/** A running store. */
export class StoreNode {
  #stopped = false;
  /** The metrics endpoint, when `metrics_addr` was given. */
  metrics: MetricsServer | null = null;
  /** The frame listener, unless turned off. */
  frames: FrameListener | null = null;

  private constructor(
    readonly store_id: number,
    readonly supervisor: Supervisor,
    readonly transport: RaftTransport,
    readonly server: GrpcServer,
    readonly control: Deno.HttpServer<Deno.NetAddr> | null,
  ) {}

  /** The gRPC address clients and peers dial. */
  get addr(): string {
    return this.server.address;
  }

  /** The frame listener's address, "" when there is none. */
  get frame_addr(): string {
    return this.frames?.address ?? "";
  }

  /** `127.0.0.1:port` of the test control endpoint, if started. */
  get control_addr(): string | null {
    return this.control ? `127.0.0.1:${this.control.addr.port}` : null;
  }

  /** Starts workers, transport and server; bootstraps region 1 when told to. */
  static async start(opts: StoreNodeOptions): Promise<StoreNode> {
    assert.ok(opts.store_id > 0, "store id must be > 0");
    claimDataDir(opts.data_dir, opts.store_id);
    const filter = new FaultFilter();
    // The supervisor and transport point at each other; the holder ties the knot.
    const link: {
      transport?: RaftTransport;
      on_stats?: (worker_id: number, stats: WorkerStats) => void;
    } = {};
    const config_base = workerConfigBase(opts);
    const supervisor = new Supervisor({
      data_dir: opts.data_dir,
      workers: opts.workers,
      base: config_base,
      worker_url: opts.worker_url,
      request_deadline_ms: config_base.request_deadline_ms!,
      max_pending_requests: opts.max_pending_requests ?? 20_000,
      on_send: (msgs) => link.transport?.send(msgs),
      on_raft_in: (batch) => link.transport?.receiveFrame(batch),
      on_stats: (id, stats) => link.on_stats?.(id, stats),
      log: opts.log,
    });
    const transport = new RaftTransport({
      store_id: opts.store_id,
      sink: supervisor,
      filter,
      log: opts.log,
    });
    link.transport = transport;
    filter.on_change = () => supervisor.setFaults(filter.active);
    const api = new KvApi(supervisor);
    let services: ServiceBinding[] = [
      { service: "storepb.Store", handlers: storeHandlers(api) },
      { service: "storepb.RaftTransport", handlers: transport.handlers() },
      ...(opts.extra_services ?? []),
    ];
    if (opts.metrics_addr !== undefined) {
      const metrics = new StoreMetrics(supervisor);
      link.on_stats = (id, stats) => metrics.onStats(id, stats);
      services = services.map((b) => ({ ...b, handlers: instrumentGrpc(b.service, b.handlers) }));
    }
    const server = await startGrpcServer({ addr: opts.addr, services });
    // Port 0 picks a free port: workers put the real address into the peers they create.
    config_base.store_addr = server.address;
    const frame_addr = opts.frame_addr ?? `${splitHostPort(server.address).hostname}:0`;
    // Workers serve their regions' BatchCommands frames on the same host.
    if (frame_addr !== "") config_base.frame_host = splitHostPort(frame_addr).hostname;
    let frames: FrameListener | null = null;
    try {
      if (frame_addr !== "") {
        frames = startFrameService(frame_addr, api, (b) => transport.receiveFrame(b), opts.log);
      }
      await supervisor.start();
      if (opts.initial_cluster) {
        if (!opts.initial_cluster.has(opts.store_id)) {
          throw new Error(`--initial-cluster does not list this store (${opts.store_id})`);
        }
        supervisor.bootstrap(initialRegion(opts.initial_cluster));
      }
      const control = opts.test_control_port === undefined
        ? null
        : await startTestControl(opts.test_control_port, opts.store_id, supervisor, filter);
      const node = new StoreNode(opts.store_id, supervisor, transport, server, control);
      node.frames = frames;
      if (opts.metrics_addr !== undefined) {
        node.metrics = await startMetricsServer(opts.metrics_addr, opts.metrics_routes).catch(
          async (err) => {
            await node.stop();
            throw new Error(`metrics server on ${opts.metrics_addr}: ${err}`);
          },
        );
      }
      return node;
    } catch (err) {
      await frames?.close();
      transport.close();
      await supervisor.stop();
      await server.shutdown(0);
      throw err;
    }
  }

  /** Stops accepting calls, stops the workers, closes links and the server. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const closing = this.server.shutdown(1000);
    const frames_closing = this.frames?.close();
    this.transport.close();
    await this.supervisor.stop();
    await closing;
    await frames_closing;
    await this.control?.shutdown();
    await this.metrics?.close();
  }
}

function workerConfigBase(opts: StoreNodeOptions): Omit<WorkerConfig, "worker_id" | "dir"> {
  return {
    store_id: opts.store_id,
    store_addr: opts.addr,
    tick_ms: opts.tick_ms ?? 100,
    election_timeout_ticks: opts.election_timeout_ticks ?? 10,
    heartbeat_timeout_ticks: opts.heartbeat_timeout_ticks ?? 2,
    raft_log_gc_count_limit: opts.raft_log_gc_count_limit ?? 10_000,
    raft_log_gc_keep_entries: opts.raft_log_gc_keep_entries ?? 1_000,
    max_pending_requests: opts.max_pending_requests ?? 20_000,
    request_deadline_ms: opts.request_deadline_ms ?? 4000,
    seed: opts.seed ?? opts.store_id * 1_000_003 + Deno.pid,
    phase_cpu: opts.phase_cpu ?? false,
  };
}
