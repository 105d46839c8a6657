/**
 * A real E-STORE cluster for cross-process tests: N `eraft store` processes on
 * random free 127.0.0.1 ports, each with its own temp data dir and its test
 * control endpoint; helpers to kill -9, restart, SIGSTOP/SIGCONT, partition,
 * crash workers and read each store's regions. `close()` always kills every
 * process and removes every directory.
 * @module
 */
import { join } from "node:path";
import type * as metapb from "@eraft/proto/gen/metapb.ts";
import { type Child, freeTestPort, spawnDeno } from "@eraft/shared/testing";
import { StoreClient } from "./store_client.ts";

const STORE_MAIN = new URL("./eraft_store.ts", import.meta.url).pathname;

/**
 * Sanitizer settings for tests that start store processes. Processes, pipes,
 * ports and directories are all released by `Cluster.close()`; the op
 * sanitizer is off because grpc-js keeps a subchannel reconnect-backoff timer
 * running for an address whose process was killed, even after the channel is
 * closed (it ends on its own within the 2 s max backoff).
 */
export const CROSS_PROCESS = { sanitizeOps: false, sanitizeResources: false } as const;

/** Settings of a test cluster. */
export interface ClusterOptions {
  /** Stores started with `--initial-cluster` (region 1 on all of them). */
  stores: number;
  workers?: number;
  tick_ms?: number;
  raft_log_gc_count_limit?: number;
  /** How long a store may take to print its readiness line. */
  start_timeout_ms?: number;
}

/** One region as a store's /status reports it (keys decoded). */
export interface RegionStatus {
  region: metapb.Region;
  worker_id: number;
  peer_id: number;
  leader_peer_id: number;
  term: number;
}

/** A store's /status answer. */
export interface StoreStatus {
  store_id: number;
  workers: Array<
    {
      worker_id: number;
      ready: boolean;
      regions: number;
      restarts: number;
      direct_raft_messages: number;
    }
  >;
  regions: RegionStatus[];
}

/** One store process of the cluster. */
export class StoreProc {
  child: Child | null = null;
  control_addr = "";

  constructor(readonly id: number, readonly addr: string, readonly data_dir: string) {}

  get running(): boolean {
    return this.child !== null && !this.child.exited;
  }
}

/** A free port for a store to listen on (see `freeTestPort`). */
export function freePort(): number {
  return freeTestPort();
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Runs `fn` with a cluster and always tears it down. */
export async function withCluster(
  opts: ClusterOptions,
  fn: (cluster: Cluster) => Promise<void>,
): Promise<void> {
  const cluster = await Cluster.start(opts);
  try {
    await fn(cluster);
  } catch (err) {
    console.error(cluster.logs());
    throw err;
  } finally {
    await cluster.close();
  }
}

/** A cluster of store processes. */
export class Cluster {
  readonly stores: StoreProc[] = [];
  readonly #client: StoreClient;

  private constructor(readonly root: string, readonly opts: ClusterOptions) {
    this.#client = new StoreClient(this);
  }

  /** Starts `opts.stores` stores sharing region 1 and waits until each is ready. */
  static async start(opts: ClusterOptions): Promise<Cluster> {
    const root = await Deno.makeTempDir({ prefix: "eraft-cluster-" });
    const cluster = new Cluster(root, opts);
    try {
      for (let id = 1; id <= opts.stores; id++) cluster.#addProc(id);
      await Promise.all(cluster.stores.map((s) => cluster.#spawn(s, true)));
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  /** A client over this cluster that follows leader hints and retries region errors. */
  get client(): StoreClient {
    return this.#client;
  }

  /** The store with `id`. */
  store(id: number): StoreProc {
    const s = this.stores.find((p) => p.id === id);
    if (s === undefined) throw new Error(`no store ${id}`);
    return s;
  }

  /** Starts one more, empty store (no --initial-cluster); its peers arrive by conf change. */
  async addStore(): Promise<StoreProc> {
    const proc = this.#addProc(Math.max(...this.stores.map((s) => s.id)) + 1);
    await this.#spawn(proc, false);
    return proc;
  }

  /** kill -9 of a store. */
  async kill(id: number): Promise<void> {
    const s = this.store(id);
    await s.child?.stop("SIGKILL");
  }

  /** Starts a stopped store again on the same address and data dir. */
  async restart(id: number): Promise<void> {
    const s = this.store(id);
    if (s.running) await this.kill(id);
    await this.#spawn(s, id <= this.opts.stores);
  }

  /** SIGSTOP / SIGCONT of a store. */
  pause(id: number): void {
    this.store(id).child?.signal("SIGSTOP");
  }

  resume(id: number): void {
    this.store(id).child?.signal("SIGCONT");
  }

  /** Cuts every Raft link between store `id` and the others, both ways. */
  async isolate(id: number): Promise<void> {
    const others = this.stores.filter((s) => s.id !== id).map((s) => s.id);
    await this.#control(id, "/filter", { drop_stores: others });
    for (const o of others) {
      if (this.store(o).running) await this.#control(o, "/filter", { drop_stores: [id] });
    }
  }

  /** Removes every fault rule on every running store. */
  async heal(): Promise<void> {
    for (const s of this.stores) if (s.running) await this.#control(s.id, "/filter/clear", {});
  }

  /** Makes worker `worker_id` of store `id` throw inside its loop. */
  async crashWorker(id: number, worker_id: number): Promise<boolean> {
    const res = await this.#control(id, `/crash?worker=${worker_id}`, {});
    return (res as { crashed: boolean }).crashed;
  }

  /** A store's view of its regions and workers; null when it does not answer. */
  async status(id: number, timeout_ms = 1000): Promise<StoreStatus | null> {
    const s = this.store(id);
    if (!s.running || s.control_addr === "") return null;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), timeout_ms);
    try {
      const res = await fetch(`http://${s.control_addr}/status`, { signal: ctl.signal });
      const raw = await res.json();
      for (const r of raw.regions) {
        r.region = {
          id: r.id,
          start_key: hexToBytes(r.start_key),
          end_key: hexToBytes(r.end_key),
          region_epoch: r.region_epoch,
          peers: r.peers,
        };
      }
      return raw as StoreStatus;
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The store whose replica of `region_id` leads, per the replicas' own views. */
  async leaderOf(region_id: number): Promise<number | null> {
    for (const s of this.stores) {
      const st = await this.status(s.id);
      const r = st?.regions.find((x) => x.region.id === region_id);
      if (r && r.leader_peer_id !== 0 && r.leader_peer_id === r.peer_id) return s.id;
    }
    return null;
  }

  /** Polls `cond` every 50 ms until it holds; throws after `timeout_ms`. */
  async waitUntil(what: string, cond: () => Promise<boolean>, timeout_ms = 20_000): Promise<void> {
    const deadline = Date.now() + timeout_ms;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The last output of every store, for failure messages. */
  logs(): string {
    return this.stores.map((s) => `=== store ${s.id}\n${s.child?.output(3000) ?? ""}`).join("\n");
  }

  /** Kills every store, closes the client, removes every directory. */
  async close(): Promise<void> {
    this.#client.close();
    for (const s of this.stores) s.child?.signal("SIGCONT");
    await Promise.all(this.stores.map((s) => s.child?.stop("SIGKILL")));
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }

  #addProc(id: number): StoreProc {
    const proc = new StoreProc(id, `127.0.0.1:${freePort()}`, join(this.root, `store${id}`));
    this.stores.push(proc);
    return proc;
  }

  async #spawn(s: StoreProc, initial: boolean): Promise<void> {
    const args = [
      "store",
      `--addr=${s.addr}`,
      `--data=${s.data_dir}`,
      `--store-id=${s.id}`,
      `--workers=${this.opts.workers ?? 2}`,
      `--tick-ms=${this.opts.tick_ms ?? 50}`,
      `--raft-log-gc-count-limit=${this.opts.raft_log_gc_count_limit ?? 10_000}`,
      "--test-control-port=0",
    ];
    if (initial) {
      const members = this.stores.filter((p) => p.id <= this.opts.stores);
      args.push(`--initial-cluster=${members.map((p) => `${p.id}=${p.addr}`).join(",")}`);
    }
    s.child = spawnDeno(`store${s.id}`, STORE_MAIN, args.slice(1));
    const timeout_ms = this.opts.start_timeout_ms ?? 60_000;
    const m = await s.child.waitFor(/test control on (127\.0\.0\.1:\d+)/, timeout_ms);
    s.control_addr = m[1];
    await s.child.waitFor(/store \d+ listening on/, timeout_ms);
  }

  async #control(id: number, path: string, body: unknown): Promise<unknown> {
    const s = this.store(id);
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 5000);
    try {
      const res = await fetch(`http://${s.control_addr}${path}`, {
        method: "POST",
        body: JSON.stringify(body),
        signal: ctl.signal,
      });
      const json = await res.json();
      if (!res.ok) throw new Error(`store ${id} ${path}: ${JSON.stringify(json)}`);
      return json;
    } finally {
      clearTimeout(timer);
    }
  }
}
