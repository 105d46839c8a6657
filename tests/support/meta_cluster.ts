/**
 * A real cluster with E-META for cross-process tests: 1 or 3 `eraft meta`
 * processes and N `eraft store --meta` processes on free 127.0.0.1 ports,
 * temp data dirs, a MetaClient, and a tiny KV client routed through
 * GetRegion. `close()` always kills every process and removes the dirs.
 * @module
 */
import { join } from "node:path";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import type * as mpb from "@eraft/proto/gen/metaservicepb.ts";
import { ClientPool } from "@eraft/shared/grpc";
import { type Child, spawnDeno } from "@eraft/shared/testing";
import { MetaClient } from "@eraft/store/meta_client";
import { freePort } from "./cluster.ts";

const META_MAIN = new URL("./eraft_meta.ts", import.meta.url).pathname;
const STORE_MAIN = new URL("./eraft_store.ts", import.meta.url).pathname;

/** Settings of a test cluster with meta. */
export interface MetaClusterOptions {
  metas: 1 | 3;
  stores: number;
  store_down_timeout?: string;
  split_keys?: number;
  region_heartbeat_ms?: number;
  store_heartbeat_ms?: number;
}

interface Proc {
  addr: string;
  dir: string;
  child: Child | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a non-null value or `timeout_ms` passes. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  timeout_ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeout_ms;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== null && v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}

/** See the module comment. */
export class MetaCluster {
  readonly metas: Proc[] = [];
  readonly stores: Proc[] = [];
  readonly root = Deno.makeTempDirSync({ prefix: "eraft-meta-test-" });
  readonly client: MetaClient;
  readonly #kv = new ClientPool("storepb.Store");

  constructor(readonly opts: MetaClusterOptions) {
    for (let i = 0; i < opts.metas; i++) {
      this.metas.push({
        addr: `127.0.0.1:${freePort()}`,
        dir: join(this.root, `meta${i + 1}`),
        child: null,
      });
    }
    this.client = new MetaClient(this.metas.map((m) => m.addr), { call_timeout_ms: 20_000 });
  }

  get initial_cluster(): string {
    return this.metas.map((m, i) => `${i + 1}=${m.addr}`).join(",");
  }

  /** Starts meta node `i` (0-based) and waits until it listens. */
  async startMeta(i: number): Promise<void> {
    const m = this.metas[i];
    m.child = spawnDeno(`meta${i + 1}`, META_MAIN, [
      "--addr",
      m.addr,
      "--data",
      m.dir,
      "--initial-cluster",
      this.initial_cluster,
      "--store-down-timeout",
      this.opts.store_down_timeout ?? "60s",
    ]);
    await m.child.waitFor(/listening on/, 60_000);
  }

  /** Adds (or restarts, with `i`) a store and waits until it listens. */
  async startStore(i = this.stores.length): Promise<Proc> {
    if (i === this.stores.length) {
      this.stores.push({
        addr: `127.0.0.1:${freePort()}`,
        dir: join(this.root, `store${i + 1}`),
        child: null,
      });
    }
    const s = this.stores[i];
    s.child = spawnDeno(`store${i + 1}`, STORE_MAIN, [
      "--addr",
      s.addr,
      "--data",
      s.dir,
      "--meta",
      this.metas.map((m) => m.addr).join(","),
      "--workers",
      "1",
      "--store-heartbeat-ms",
      String(this.opts.store_heartbeat_ms ?? 300),
      "--region-heartbeat-ms",
      String(this.opts.region_heartbeat_ms ?? 200),
      "--split-keys",
      String(this.opts.split_keys ?? 960_000),
    ]);
    await s.child.waitFor(/listening on/, 60_000);
    return s;
  }

  /** Starts every meta node, then every store at once (they race to bootstrap). */
  async start(): Promise<void> {
    await Promise.all(this.metas.map((_, i) => this.startMeta(i)));
    const n = this.opts.stores;
    for (let i = 0; i < n; i++) {
      this.stores.push({
        addr: `127.0.0.1:${freePort()}`,
        dir: join(this.root, `store${i + 1}`),
        child: null,
      });
    }
    await Promise.all(this.stores.map((_, i) => this.startStore(i)));
  }

  /** Store id of store process `i` (from its data dir). */
  storeId(i: number): number {
    return JSON.parse(Deno.readTextFileSync(join(this.stores[i].dir, "store.json"))).store_id;
  }

  /** Every region with its leader. */
  regions(): Promise<mpb.RegionWithLeader[]> {
    return this.client.scanRegions();
  }

  /** Region count per store id. */
  async regionCounts(): Promise<Map<number, number>> {
    const counts = new Map<number, number>();
    for (const r of await this.regions()) {
      for (const p of r.region!.peers) counts.set(p.store_id, (counts.get(p.store_id) ?? 0) + 1);
    }
    return counts;
  }

  async #kvCall<R extends { region_error?: unknown; error?: string }>(
    key: Uint8Array,
    method: string,
    body: object,
  ): Promise<R> {
    const deadline = Date.now() + 30_000;
    let last = "";
    while (Date.now() < deadline) {
      try {
        const r = await this.client.getRegion(key);
        const region = r.region!;
        const leader = r.leader ?? region.peers[0];
        const context: kvrpcpb.Context = {
          region_id: region.id,
          region_epoch: region.region_epoch,
          peer: leader,
          term: 0,
        };
        const res = await this.#kv.get(leader.addr).unary<R>(method, { ...body, context }, 3000);
        if (!res.region_error && !res.error) return res;
        last = JSON.stringify(res.region_error ?? res.error).slice(0, 200);
      } catch (err) {
        last = String(err);
      }
      await sleep(100);
    }
    throw new Error(`${method} kept failing: ${last}`);
  }

  /** RawPut routed through meta, retried until it lands. */
  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    await this.#kvCall(key, "RawPut", { key, value, cf: "default" });
  }

  /** RawGet routed through meta. */
  async get(key: Uint8Array): Promise<Uint8Array | null> {
    const res = await this.#kvCall<kvrpcpb.RawGetResponse>(key, "RawGet", { key, cf: "default" });
    return res.not_found ? null : new Uint8Array(res.value);
  }

  /** Kills every process and removes the data. */
  async close(): Promise<void> {
    this.client.close();
    this.#kv.close();
    await Promise.all([...this.metas, ...this.stores].map((p) => p.child?.stop()));
    try {
      Deno.removeSync(this.root, { recursive: true });
    } catch {
      // Already gone.
    }
  }
}

/** Runs `fn` with a started cluster and always tears it down; prints logs on failure. */
export async function withMetaCluster(
  opts: MetaClusterOptions,
  fn: (c: MetaCluster) => Promise<void>,
): Promise<void> {
  const c = new MetaCluster(opts);
  try {
    await c.start();
    await fn(c);
  } catch (err) {
    // ERAFT_TEST_LOGS=dir keeps every process's whole output for debugging.
    const dir = Deno.env.get("ERAFT_TEST_LOGS");
    if (dir) Deno.mkdirSync(dir, { recursive: true });
    for (const p of [...c.metas, ...c.stores]) {
      if (!p.child) continue;
      console.error(`==== ${p.child.name}\n${p.child.output(3000)}`);
      if (dir) Deno.writeTextFileSync(join(dir, `${p.child.name}.log`), p.child.output(1e9));
    }
    throw err;
  } finally {
    await c.close();
  }
}
