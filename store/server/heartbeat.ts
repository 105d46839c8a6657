/**
 * A store's side of E-META: the startup flow (store id from AllocID, the
 * bootstrap race, PutStore), store and region heartbeats, executing the
 * operators meta answers with through the store's own worker requests, and
 * the split checker (AskSplit → split at a user-key boundary → ReportSplit).
 *
 * Bootstrap is prepared on disk first (`<data>/bootstrap.json`), TiKV-style:
 * a store that crashes between winning Bootstrap and creating the region
 * creates it on restart; the file goes once the region exists locally.
 * @module
 */
import { statfsSync } from "node:fs";
import { join } from "node:path";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import type * as metapb from "@eraft/proto/gen/metapb.ts";
import type * as mpb from "@eraft/proto/gen/metaservicepb.ts";
import { ErrorType, OperatorKind } from "@eraft/proto/gen/metaservicepb.ts";
import { userKeyBoundary } from "@eraft/shared/keyspace";
import { compareBytes, EMPTY_BYTES, formatKey } from "@eraft/shared/bytes";
import { FrameDirectory } from "@eraft/shared/frame_directory";
import type { RegionInfo, WorkerRequest, WorkerResponse } from "../protocol.ts";
import { decodeKvPairs } from "../kv_pairs_wire.ts";
import { MetaCallError, type MetaClient } from "./meta_client.ts";
import { StoreNode, type StoreNodeOptions } from "./node.ts";

/** The store binary's version, reported in PutStore. */
export const STORE_VERSION = "0.1.0";

/** Settings of the heartbeat agent. */
export interface AgentOptions {
  store_heartbeat_ms: number;
  region_heartbeat_ms: number;
  /** Split a region whose approximate size passes this. */
  split_size_bytes: number;
  /** Split a region whose approximate key count passes this. */
  split_keys: number;
  /** Maps a raw key to a split point at or below it (default: userKeyBoundary). */
  split_key_fn?: (raw: Uint8Array) => Uint8Array;
  log?: (line: string) => void;
}

/** Defaults for production. */
export const AGENT_DEFAULTS: AgentOptions = {
  store_heartbeat_ms: 2000,
  region_heartbeat_ms: 1000,
  split_size_bytes: 96 * 1024 * 1024,
  split_keys: 960_000,
};

/** Region heartbeats in flight at once. */
const MAX_CONCURRENT_HEARTBEATS = 8;
/** Keys scanned at most to find a split point. */
const MAX_SPLIT_SCAN_KEYS = 10_000;

function readJson(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(Deno.readTextFileSync(path));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

function ctxOf(info: RegionInfo): kvrpcpb.Context {
  return {
    region_id: info.region.id,
    region_epoch: info.region.region_epoch ?? null,
    peer: null,
    term: 0,
  };
}

/**
 * Starts a store registered with meta: reuses the store id in the data dir or
 * allocates one, bootstraps the cluster if nobody has, registers (PutStore)
 * and starts heartbeating.
 */
export async function startWithMeta(
  opts: Omit<StoreNodeOptions, "store_id"> & { store_id?: number },
  meta: MetaClient,
  agent_opts: AgentOptions,
): Promise<{ node: StoreNode; agent: MetaAgent }> {
  Deno.mkdirSync(opts.data_dir, { recursive: true });
  const claimed = readJson(join(opts.data_dir, "store.json"))?.store_id as number | undefined;
  const store_id = claimed ?? opts.store_id ?? await meta.allocId();
  const node = await StoreNode.start({ ...opts, store_id });
  try {
    await bootstrapIfNeeded(node, meta, opts.data_dir, opts.log);
    await meta.putStore({
      id: store_id,
      address: node.addr,
      frame_address: node.frame_addr,
      state: 0,
      version: STORE_VERSION,
      start_timestamp_ms: Date.now(),
    });
    node.transport.frames = new FrameDirectory(async (id) => {
      const res = await meta.call<mpb.GetStoreResponse>("GetStore", { store_id: id });
      return res.store?.frame_address ?? "";
    });
    const agent = new MetaAgent(node, meta, agent_opts, opts.data_dir);
    agent.start();
    return { node, agent };
  } catch (err) {
    await node.stop();
    throw err;
  }
}

async function bootstrapIfNeeded(
  node: StoreNode,
  meta: MetaClient,
  data_dir: string,
  log?: (line: string) => void,
): Promise<void> {
  const path = join(data_dir, "bootstrap.json");
  const prepared = readJson(path);
  if (prepared !== null) {
    // Won the race before a crash? Create the region we registered.
    const region = reviveRegion(prepared.region as metapb.Region);
    try {
      const known = await meta.getRegionById(region.id);
      if (known.region && node.supervisor.region(region.id) === undefined) {
        node.supervisor.bootstrap(region);
      }
    } catch (err) {
      if (!(err instanceof MetaCallError) || err.type !== ErrorType.REGION_NOT_FOUND) throw err;
    }
  } else if (!(await meta.isBootstrapped()) && node.supervisor.regions().length === 0) {
    const region_id = await meta.allocId();
    const peer_id = await meta.allocId();
    const region: metapb.Region = {
      id: region_id,
      start_key: new Uint8Array(0),
      end_key: new Uint8Array(0),
      region_epoch: { conf_ver: 1, version: 1 },
      peers: [{ id: peer_id, store_id: node.store_id, addr: node.addr, role: 0 }],
    };
    const store = {
      id: node.store_id,
      address: node.addr,
      frame_address: node.frame_addr,
      state: 0,
      version: STORE_VERSION,
      start_timestamp_ms: Date.now(),
    };
    Deno.writeTextFileSync(
      path,
      JSON.stringify({ region: { ...region, start_key: [], end_key: [] } }),
    );
    try {
      await meta.call("Bootstrap", { store, region });
      node.supervisor.bootstrap(region);
      log?.(`bootstrapped the cluster with region ${region_id}`);
    } catch (err) {
      Deno.removeSync(path);
      if (!(err instanceof MetaCallError) || err.type !== ErrorType.ALREADY_BOOTSTRAPPED) throw err;
      log?.("cluster already bootstrapped by another store");
      return;
    }
  } else {
    return;
  }
  // Keep the file until the worker reports the region (then it is on disk).
  const region_id = (readJson(path)?.region as metapb.Region).id;
  for (let i = 0; i < 100 && node.supervisor.region(region_id) === undefined; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  if (node.supervisor.region(region_id) !== undefined) Deno.removeSync(path);
}

function reviveRegion(r: metapb.Region): metapb.Region {
  return { ...r, start_key: new Uint8Array(0), end_key: new Uint8Array(0) };
}

/** Heartbeats and operator execution of one store; see the module comment. */
export class MetaAgent {
  #timers: ReturnType<typeof setInterval>[] = [];
  #stopped = false;
  readonly #busy = new Set<number>();
  /** Region id → time before which it is not split again (its size report lags a split). */
  readonly #split_cooldown = new Map<number, number>();
  #store_round = 0;
  #used_size = 0;
  #last_store_hb_ms = Date.now();
  readonly #started_s = Math.floor(Date.now() / 1000);
  /** Splits done and how long each took from decision to ReportSplit, ms. */
  readonly split_times_ms: number[] = [];
  /** Set when meta answered STORE_TOMBSTONE. */
  tombstone = false;

  constructor(
    readonly node: StoreNode,
    readonly meta: MetaClient,
    readonly opts: AgentOptions,
    readonly data_dir: string,
  ) {}

  /** Starts both heartbeat loops. */
  start(): void {
    const loop = (fn: () => Promise<void>, ms: number) => {
      let running = false;
      this.#timers.push(setInterval(() => {
        if (running || this.#stopped) return;
        running = true;
        fn().catch((err) => this.#log(`heartbeat: ${err.message ?? err}`)).finally(() =>
          running = false
        );
      }, ms));
    };
    loop(() => this.storeHeartbeat(), this.opts.store_heartbeat_ms);
    loop(() => this.regionHeartbeats(), this.opts.region_heartbeat_ms);
  }

  /** Stops the loops (calls in flight finish on their own). */
  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
  }

  #log(line: string): void {
    this.opts.log?.(line);
  }

  /** Sends one StoreHeartbeat. */
  async storeHeartbeat(): Promise<void> {
    const regions = this.node.supervisor.regions();
    if (this.#store_round++ % 10 === 0) this.#used_size = dirSize(this.data_dir);
    let capacity = 0;
    let available = 0;
    try {
      const fs = statfsSync(this.data_dir);
      capacity = fs.bsize * fs.blocks;
      available = fs.bsize * fs.bavail;
    } catch {
      // Unknown: reported as 0.
    }
    const now = Date.now();
    const stats: Partial<mpb.StoreStats> = {
      store_id: this.node.store_id,
      capacity,
      available,
      used_size: this.#used_size,
      region_count: regions.length,
      leader_count: regions.filter((r) => r.leader_peer_id === r.peer_id).length,
      start_time: this.#started_s,
      interval_ms: now - this.#last_store_hb_ms,
    };
    this.#last_store_hb_ms = now;
    try {
      await this.meta.call("StoreHeartbeat", { stats });
    } catch (err) {
      if (err instanceof MetaCallError && err.type === ErrorType.STORE_TOMBSTONE) {
        this.tombstone = true;
        this.#log("meta says this store is Tombstone: heartbeats stop");
        this.stop();
        return;
      }
      throw err;
    }
  }

  /** Sends a RegionHeartbeat for every region this store leads, and acts on the answers. */
  async regionHeartbeats(): Promise<void> {
    const led = this.node.supervisor.regions().filter((r) =>
      !r.destroyed && r.leader_peer_id !== 0 && r.leader_peer_id === r.peer_id
    );
    for (let i = 0; i < led.length; i += MAX_CONCURRENT_HEARTBEATS) {
      if (this.#stopped) return;
      await Promise.all(led.slice(i, i + MAX_CONCURRENT_HEARTBEATS).map((r) => this.#one(r)));
    }
  }

  async #one(info: RegionInfo): Promise<void> {
    const region_id = info.region.id;
    if (this.#busy.has(region_id)) return;
    this.#busy.add(region_id);
    try {
      const leader = info.region.peers.find((p) => p.id === info.peer_id);
      if (!leader) return;
      const res = await this.meta.call<mpb.RegionHeartbeatResponse>("RegionHeartbeat", {
        region: info.region,
        leader,
        term: info.term,
        approximate_size: info.approximate_size_bytes,
        approximate_keys: info.approximate_keys,
      });
      if (res.operator) {
        await this.#execute(info, res);
      } else if (
        (info.approximate_size_bytes > this.opts.split_size_bytes ||
          info.approximate_keys > this.opts.split_keys) &&
        (this.#split_cooldown.get(region_id) ?? 0) < Date.now()
      ) {
        await this.split(info);
      }
    } catch (err) {
      this.#log(`region ${region_id}: ${(err as Error).message}`);
    } finally {
      this.#busy.delete(region_id);
    }
  }

  async #request(info: RegionInfo, req: WorkerRequest): Promise<WorkerResponse> {
    const res = await this.node.supervisor.request(info.region.id, ctxOf(info), req);
    if (res.region_error) throw new Error(`region error: ${res.region_error.message}`);
    if (res.error) throw new Error(res.error);
    return res;
  }

  async #execute(info: RegionInfo, res: mpb.RegionHeartbeatResponse): Promise<void> {
    const peer = res.target_peer;
    switch (res.operator) {
      case OperatorKind.AddPeer:
      case OperatorKind.RemovePeer: {
        if (!peer) return;
        const change_type = res.operator === OperatorKind.AddPeer ? 0 : 1;
        this.#log(
          `region ${info.region.id}: ${change_type === 0 ? "add" : "remove"} peer ${peer.id} ` +
            `on store ${peer.store_id}`,
        );
        await this.#request(info, { op: "change_peer", change_type, peer: plainPeer(peer) });
        return;
      }
      case OperatorKind.TransferLeader:
        if (!peer) return;
        await this.#request(info, { op: "transfer_leader", peer: plainPeer(peer) });
        return;
      case OperatorKind.SplitRegion:
        await this.split(info, res.split_key?.length ? new Uint8Array(res.split_key) : undefined);
        return;
    }
  }

  /** Picks a split key in the middle of the region's keys, at a user-key boundary. */
  async pickSplitKey(info: RegionInfo): Promise<Uint8Array | null> {
    const half = Math.max(1, Math.min(MAX_SPLIT_SCAN_KEYS, Math.floor(info.approximate_keys / 2)));
    const res = await this.#request(info, {
      op: "scan",
      cf: "default",
      start_key: info.region.start_key,
      end_key: info.region.end_key,
      limit: half,
      reverse: false,
      key_only: true,
    });
    const kvs = decodeKvPairs(res.pairs ?? EMPTY_BYTES);
    const fn = this.opts.split_key_fn ?? userKeyBoundary;
    // From the middle backwards, the first cut strictly inside the region.
    for (let i = kvs.length - 1; i >= 0; i--) {
      const cut = fn(kvs[i].key);
      if (compareBytes(cut, info.region.start_key) > 0) return cut;
    }
    return null;
  }

  /** AskSplit → split → ReportSplit; resolves when both halves exist. */
  async split(info: RegionInfo, key?: Uint8Array): Promise<void> {
    const began = Date.now();
    const split_key = key ?? await this.pickSplitKey(info);
    if (split_key === null) return;
    const ask = await this.meta.call<mpb.AskSplitResponse>("AskSplit", { region: info.region });
    const res = await this.#request(info, {
      op: "split",
      split_key,
      new_region_id: ask.new_region_id,
      new_peer_ids: [...ask.new_peer_ids],
    });
    const [left, right] = res.regions ?? [];
    if (!left || !right) throw new Error("split answered without both regions");
    await this.meta.call("ReportSplit", { left, right });
    const took_ms = Date.now() - began;
    const cooldown = Date.now() + 5 * this.opts.region_heartbeat_ms;
    this.#split_cooldown.set(left.id, cooldown);
    this.#split_cooldown.set(right.id, cooldown);
    if (this.#split_cooldown.size > 10_000) this.#split_cooldown.clear();
    this.split_times_ms.push(took_ms);
    this.#log(
      `split region ${left.id} at ${formatKey(split_key)} -> ${right.id} in ${took_ms} ms`,
    );
  }
}

function plainPeer(p: metapb.Peer): metapb.Peer {
  return { id: p.id, store_id: p.store_id, addr: p.addr ?? "", role: p.role ?? 0 };
}

/** Bytes under `dir` (files only, recursive); 0 when unreadable. */
function dirSize(dir: string): number {
  let total = 0;
  try {
    for (const e of Deno.readDirSync(dir)) {
      const path = join(dir, e.name);
      if (e.isDirectory) total += dirSize(path);
      else if (e.isFile) total += Deno.statSync(path).size;
    }
  } catch {
    // Raced with compaction or removal: a lower estimate is fine.
  }
  return total;
}
