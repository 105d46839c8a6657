/**
 * An in-process cluster of RegionWorkers for tests: one worker per store,
 * Raft messages routed directly between them (no gRPC, no Web Workers), so
 * the worker's Raft loop, apply, split and membership logic can be tested
 * fast and with link faults under the test's control.
 * @module
 */
import type * as metapb from "@eraft/proto/gen/metapb.ts";
import type { FromWorker, WorkerConfig, WorkerRequest, WorkerResponse } from "../protocol.ts";
import { type EncodedRaftMessage, encodeRaftBatch } from "../raft_wire.ts";
import { Immediate } from "@eraft/shared/immediate";
import { RegionWorker } from "./worker.ts";

/** Worker settings for tests: fast ticks, small logs. */
export function testWorkerConfig(store_id: number, dir: string): WorkerConfig {
  return {
    worker_id: 0,
    store_id,
    store_addr: `store-${store_id}`,
    dir,
    tick_ms: 10,
    election_timeout_ticks: 10,
    heartbeat_timeout_ticks: 2,
    raft_log_gc_count_limit: 50,
    raft_log_gc_keep_entries: 10,
    max_pending_requests: 10_000,
    seed: store_id,
  };
}

/** See the module comment. */
export class LocalCluster {
  readonly workers = new Map<number, RegionWorker>();
  readonly #waiting = new Map<number, (res: WorkerResponse) => void>();
  /** Links that drop every message: "from->to" store ids. */
  readonly cut = new Set<string>();
  #next_id = 1;
  #inflight: Array<[number, Uint8Array[]]> = [];
  readonly #network = new Immediate(() => this.#flushNetwork());

  constructor(readonly root: string) {}

  /** Region 1 over every store id given, as `--initial-cluster` would create it. */
  static initialRegion(store_ids: number[]): metapb.Region {
    return {
      id: 1,
      start_key: new Uint8Array(0),
      end_key: new Uint8Array(0),
      region_epoch: { conf_ver: 1, version: 1 },
      peers: store_ids.map((id) => ({ id, store_id: id, addr: `store-${id}`, role: 0 })),
    };
  }

  startStore(store_id: number): RegionWorker {
    const config = testWorkerConfig(store_id, `${this.root}/store-${store_id}`);
    const worker = new RegionWorker(config, (msg) => this.#onMessage(store_id, msg));
    this.workers.set(store_id, worker);
    worker.start();
    return worker;
  }

  /** Stops a store's worker; resolves once its last background fsync has ended. */
  stopStore(store_id: number): Promise<void> {
    const worker = this.workers.get(store_id);
    this.workers.delete(store_id);
    worker?.stop();
    return worker?.closed() ?? Promise.resolve();
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.workers.keys()].map((id) => this.stopStore(id)));
    this.#network.close();
  }

  #onMessage(from_store: number, msg: FromWorker): void {
    if (msg.kind === "response") {
      this.#waiting.get(msg.id)?.(msg.res);
      this.#waiting.delete(msg.id);
    } else if (msg.kind === "send") {
      this.#deliver(from_store, msg.msgs);
    }
  }

  #deliver(from_store: number, msgs: EncodedRaftMessage[]): void {
    const by_store = new Map<number, Uint8Array[]>();
    for (const m of msgs) {
      const to = m.to_store_id;
      if (this.cut.has(`${from_store}->${to}`)) continue;
      if (!by_store.has(to)) by_store.set(to, []);
      by_store.get(to)!.push(m.bytes);
    }
    // Deliver on a later turn, as a network would.
    this.#inflight.push(...by_store);
    this.#network.schedule();
  }

  #flushNetwork(): void {
    const batch = this.#inflight;
    this.#inflight = [];
    for (const [to, list] of batch) {
      this.workers.get(to)?.handle({ kind: "raft", batch: encodeRaftBatch(list) });
    }
  }

  /** Sends a request to `store_id`'s worker and waits for the answer. */
  request(store_id: number, region_id: number, req: WorkerRequest): Promise<WorkerResponse> {
    const worker = this.workers.get(store_id);
    if (worker === undefined) return Promise.reject(new Error(`store ${store_id} is down`));
    const id = this.#next_id++;
    const answer = new Promise<WorkerResponse>((resolve) => this.#waiting.set(id, resolve));
    worker.handle({ kind: "request", id, region_id, context: null, req });
    return answer;
  }

  /** Store id whose replica of `region_id` is leader, if any. */
  leaderOf(region_id: number): number | null {
    for (const [store_id, w] of this.workers) {
      if (w.peers.get(region_id)?.is_leader) return store_id;
    }
    return null;
  }

  /** Polls `check` every 10 ms until it returns a value, or throws after `timeout_ms`. */
  async until<T>(
    what: string,
    check: () => T | null | undefined | false,
    timeout_ms = 10_000,
  ): Promise<T> {
    const deadline = Date.now() + timeout_ms;
    while (Date.now() < deadline) {
      const v = check();
      if (v !== null && v !== undefined && v !== false) return v;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  /** Retries `req` on whichever store leads `region_id` until it is not a region error. */
  async leaderRequest(
    region_id: number,
    req: WorkerRequest,
    timeout_ms = 10_000,
  ): Promise<WorkerResponse> {
    const deadline = Date.now() + timeout_ms;
    while (Date.now() < deadline) {
      const leader = this.leaderOf(region_id);
      if (leader !== null) {
        const res = await this.request(leader, region_id, req);
        if (!res.region_error) return res;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no answer from the leader of region ${region_id} in ${timeout_ms} ms`);
  }
}
