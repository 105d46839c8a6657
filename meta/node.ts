/**
 * `MetaNode`: one E-META process — a StoreNode hosting exactly one region
 * (region 1, statically bootstrapped over the meta members, peer id = member
 * id) with the `metaservicepb.Meta` service on the same gRPC server. The
 * service serves on the region's leader (service.ts).
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { StoreNode } from "@eraft/store";
import { Dashboard } from "./dashboard.ts";
import { FORWARDED_HEADER, makeForwarder } from "./forward.ts";
import { SCHEDULER_DEFAULTS, type SchedulerConfig } from "./scheduler.ts";
import { type Leadership, META_METHODS, MetaService } from "./service.ts";
import { META_REGION_ID, MetaStorage } from "./storage.ts";

/** Meta's version: stores of another major version are refused. */
export const META_VERSION = "0.1.0";
const LEADERSHIP_POLL_MS = 50;

/** Settings of a meta node. */
export interface MetaNodeOptions {
  /** This node's member id (its key in `members`). */
  id: number;
  /** Member id → address of every meta node (1 or 3). */
  members: Map<number, string>;
  data_dir: string;
  scheduler?: Partial<SchedulerConfig>;
  tick_ms?: number;
  /** Serves `/metrics` and the dashboard (`/`) on this HTTP address (port 0 = any). */
  metrics_addr?: string;
  log?: (line: string) => void;
}

/** A running meta node. */
export class MetaNode {
  #timer: ReturnType<typeof setInterval> | undefined;
  #sampler: ReturnType<typeof setInterval> | undefined;
  /** The dashboard, when `metrics_addr` was given. */
  dashboard: Dashboard | null = null;

  private constructor(
    readonly id: number,
    readonly store: StoreNode,
    readonly service: MetaService,
    readonly close_forwarder: () => void,
  ) {}

  /** The gRPC address. */
  get addr(): string {
    return this.store.addr;
  }

  /** Starts the meta region's store and the service. */
  static async start(opts: MetaNodeOptions): Promise<MetaNode> {
    const addr = opts.members.get(opts.id);
    if (addr === undefined) throw new Error(`member ${opts.id} is not in the initial cluster`);
    let store: StoreNode | null = null;
    const leadership = (): Leadership => {
      const info = store?.supervisor.region(META_REGION_ID);
      if (info === undefined) return { is_leader: false, term: 0, leader_id: 0 };
      return {
        is_leader: info.leader_peer_id !== 0 && info.leader_peer_id === info.peer_id,
        term: info.term,
        leader_id: info.leader_peer_id,
      };
    };
    const storage = new MetaStorage((req) =>
      store === null
        ? Promise.resolve({ region_error: { message: "meta node starting" } })
        : store.supervisor.request(META_REGION_ID, null, req)
    );
    const forwarder = makeForwarder();
    const service = new MetaService({
      self_id: opts.id,
      members: opts.members,
      storage,
      leadership,
      scheduler: { ...SCHEDULER_DEFAULTS, ...opts.scheduler },
      version: META_VERSION,
      forward: forwarder.forward,
      log: opts.log,
    });
    const dashboard = opts.metrics_addr === undefined ? null : new Dashboard(
      opts.id,
      service,
      () => leadership().leader_id,
      opts.scheduler?.store_down_timeout_ms ?? SCHEDULER_DEFAULTS.store_down_timeout_ms,
    );
    const handlers: grpc.UntypedServiceImplementation = {};
    for (const method of META_METHODS) {
      handlers[method] = (
        call: grpc.ServerUnaryCall<object, object>,
        callback: grpc.sendUnaryData<object>,
      ) => {
        const forwarded = call.metadata.get(FORWARDED_HEADER).length > 0;
        service.handle(method, call.request, forwarded).then((res) => callback(null, res));
      };
    }
    try {
      store = await StoreNode.start({
        addr,
        data_dir: opts.data_dir,
        store_id: opts.id,
        workers: 1,
        initial_cluster: opts.members,
        tick_ms: opts.tick_ms,
        extra_services: [{ service: "metaservicepb.Meta", handlers }],
        metrics_addr: opts.metrics_addr,
        metrics_routes: dashboard ? [dashboard.route()] : [],
        log: opts.log,
      });
    } catch (err) {
      forwarder.close();
      throw err;
    }
    const node = new MetaNode(opts.id, store, service, forwarder.close);
    node.#timer = setInterval(() => service.tick(), LEADERSHIP_POLL_MS);
    if (dashboard) {
      node.dashboard = dashboard;
      node.#sampler = setInterval(() => void dashboard.sample(), 1000);
    }
    return node;
  }

  /** Stops the service and the store. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    clearInterval(this.#sampler);
    this.close_forwarder();
    await this.store.stop();
  }
}
