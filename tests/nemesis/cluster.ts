/**
 * The cluster a nemesis run drives: 1 `eraft meta`, N `eraft store --meta`
 * (each with its test control endpoint) and 1–2 `eraft db` processes on free
 * 127.0.0.1 ports with temp data dirs. Every process can be killed (-9),
 * restarted on the same address and data, paused and resumed; stores' Raft
 * links can be cut (both ways or one way) through the fault filter; admin
 * operations go through admin.ts. `close()` always kills everything and
 * removes the data.
 * @module
 */
import { join } from "node:path";
import type * as mpb from "@eraft/proto/gen/metaservicepb.ts";
import { type Child, spawnDeno } from "@eraft/shared/testing";
import { MetaClient } from "@eraft/store/meta_client";
import { Admin } from "./admin.ts";
import { freePort } from "../support/cluster.ts";
import { waitFor } from "../support/meta_cluster.ts";

export { waitFor };

const SUPPORT = new URL("../support/", import.meta.url);
const META_MAIN = new URL("eraft_meta.ts", SUPPORT).pathname;
const STORE_MAIN = new URL("eraft_store.ts", SUPPORT).pathname;
const DB_MAIN = new URL("eraft_db.ts", SUPPORT).pathname;

/** Time a process may take to print its readiness line. */
const START_TIMEOUT_MS = 60_000;

/** One process of the cluster. */
export interface Proc {
  name: string;
  addr: string;
  dir: string;
  child: Child | null;
  /** Test control address (stores only). */
  control: string;
  paused: boolean;
  /** Every earlier incarnation, for logs. */
  history: string[];
}

/** Settings of a nemesis cluster. */
export interface NemesisClusterOptions {
  stores: number;
  dbs: number;
  /** `eraft db --deadline-ms`: how long the db retries before -TRYAGAIN. */
  db_deadline_ms?: number;
  store_down_timeout?: string;
}

/** `p`, or a rejection after `ms`. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

function proc(name: string, dir: string, addr = `127.0.0.1:${freePort()}`): Proc {
  return {
    name,
    addr,
    dir,
    child: null,
    control: "",
    paused: false,
    history: [],
  };
}

/** See the module comment. */
export class NemesisCluster {
  readonly root = Deno.makeTempDirSync({ prefix: "eraft-nemesis-" });
  readonly meta: Proc;
  readonly stores: Proc[] = [];
  readonly dbs: Proc[] = [];
  readonly client: MetaClient;
  readonly admin: Admin;
  /** Processes that exited without the nemesis killing them. */
  readonly crashes: string[] = [];

  constructor(readonly opts: NemesisClusterOptions) {
    this.meta = proc("meta1", join(this.root, "meta1"));
    for (let i = 0; i < opts.stores; i++) {
      this.stores.push(proc(`store${i + 1}`, join(this.root, `store${i + 1}`)));
    }
    // A db's address is the one it reports once it listens (see startDb).
    for (let i = 0; i < opts.dbs; i++) this.dbs.push(proc(`db${i + 1}`, "", ""));
    this.client = new MetaClient([this.meta.addr], { call_timeout_ms: 5_000 });
    this.admin = new Admin(this.client);
  }

  /** Starts meta, then every store at once, waits for 3 replicas with a leader, then the dbs. */
  async start(): Promise<void> {
    await this.startMeta();
    await Promise.all(this.stores.map((_, i) => this.startStore(i)));
    await waitFor("region 1 with 3 replicas and a leader", async () => {
      const rs = await this.regions();
      return rs.length > 0 && rs.every((r) => r.region!.peers.length === 3 && r.leader);
    }, 90_000);
    await Promise.all(this.dbs.map((_, i) => this.startDb(i)));
  }

  async startMeta(): Promise<void> {
    const m = this.meta;
    this.#retire(m);
    m.child = spawnDeno(m.name, META_MAIN, [
      "--addr",
      m.addr,
      "--data",
      m.dir,
      "--initial-cluster",
      `1=${m.addr}`,
      "--store-down-timeout",
      this.opts.store_down_timeout ?? "60s",
    ]);
    await m.child.waitFor(/listening on/, START_TIMEOUT_MS);
  }

  async startStore(i: number): Promise<void> {
    const s = this.stores[i];
    this.#retire(s);
    s.child = spawnDeno(s.name, STORE_MAIN, [
      "--addr",
      s.addr,
      "--data",
      s.dir,
      "--meta",
      this.meta.addr,
      "--workers",
      "1",
      "--store-heartbeat-ms",
      "300",
      "--region-heartbeat-ms",
      "200",
      "--split-keys",
      "960000",
      "--test-control-port=0",
    ]);
    const m = await s.child.waitFor(/test control on (127\.0\.0\.1:\d+)/, START_TIMEOUT_MS);
    s.control = m[1];
    await s.child.waitFor(/listening on/, START_TIMEOUT_MS);
  }

  /**
   * Starts db `i` on a port the kernel picks and records the address it
   * reports: a port picked here ahead of the start could be taken by a
   * parallel test's listener before the db binds it (seen in CI as
   * AddrInUse). Clients ask dbPort() at every connect, so a restarted db may
   * move.
   */
  async startDb(i: number): Promise<void> {
    const d = this.dbs[i];
    this.#retire(d);
    d.child = spawnDeno(d.name, DB_MAIN, [
      "--addr",
      "127.0.0.1:0",
      "--meta",
      this.meta.addr,
      "--deadline-ms",
      String(this.opts.db_deadline_ms ?? 4000),
    ]);
    const m = await d.child.waitFor(/db listening on (127\.0\.0\.1:\d+)/, START_TIMEOUT_MS);
    d.addr = m[1];
  }

  /** Port of db `i`. */
  dbPort(i: number): number {
    return Number(this.dbs[i].addr.split(":")[1]);
  }

  /** Store id of store process `i` (from its data dir). */
  storeId(i: number): number {
    return JSON.parse(Deno.readTextFileSync(join(this.stores[i].dir, "store.json"))).store_id;
  }

  /** Index of the store process with `store_id`, or -1. */
  storeIndex(store_id: number): number {
    return this.stores.findIndex((_, i) => this.storeId(i) === store_id);
  }

  /** Every region with its leader, as meta sees them. */
  regions(): Promise<mpb.RegionWithLeader[]> {
    return this.client.scanRegions();
  }

  /** kill -9 (SIGCONT first so a paused process dies too). */
  async kill(p: Proc): Promise<void> {
    p.child?.signal("SIGCONT");
    p.paused = false;
    await p.child?.stop("SIGKILL");
  }

  pause(p: Proc): void {
    if (!p.child || p.child.exited) return;
    p.child.signal("SIGSTOP");
    p.paused = true;
  }

  resume(p: Proc): void {
    p.child?.signal("SIGCONT");
    p.paused = false;
  }

  /** Sets store `i`'s fault rules (drop every message to/from `drop_stores`). */
  async setDrops(i: number, drop_stores: number[]): Promise<void> {
    await this.#control(this.stores[i], "/filter", { drop_stores });
  }

  /** Sets store `i`'s one-way rule: its messages to `store_ids` are dropped. */
  async setDropsTo(i: number, store_ids: number[]): Promise<void> {
    await this.#control(this.stores[i], "/filter", { drop_to_stores: store_ids });
  }

  /** Clears every fault rule on every running store; resumes paused ones. */
  async healAll(): Promise<void> {
    for (const s of [this.meta, ...this.stores, ...this.dbs]) if (s.paused) this.resume(s);
    for (const s of this.stores) {
      if (s.child && !s.child.exited) {
        await this.#control(s, "/filter/clear", {}).catch(() => {});
      }
    }
  }

  /** Every process's output (earlier incarnations too), for failure reports. */
  logs(max_chars = 4000): string {
    return [this.meta, ...this.stores, ...this.dbs].map((p) => {
      const all = [...p.history, p.child?.output(1e9) ?? ""].join("\n--- restart\n");
      const tail = all.length > max_chars ? "…" + all.slice(-max_chars) : all;
      return `==== ${p.name}\n${tail}`;
    }).join("\n");
  }

  /** Writes every process's whole output into `dir`. */
  writeLogs(dir: string): void {
    Deno.mkdirSync(dir, { recursive: true });
    for (const p of [this.meta, ...this.stores, ...this.dbs]) {
      const all = [...p.history, p.child?.output(1e9) ?? ""].join("\n--- restart\n");
      Deno.writeTextFileSync(join(dir, `${p.name}.log`), all);
    }
  }

  /** Kills every process and removes the data. */
  async close(): Promise<void> {
    await Promise.all([this.meta, ...this.stores, ...this.dbs].map((p) => this.kill(p)));
    // Clients close only now that nobody listens (see admin.ts).
    this.admin.close();
    this.client.close();
    try {
      Deno.removeSync(this.root, { recursive: true });
    } catch {
      // Already gone.
    }
  }

  #retire(p: Proc): void {
    if (p.child) p.history.push(p.child.output(1e9));
    p.child = null;
  }

  async #control(s: Proc, path: string, body: unknown): Promise<unknown> {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 3000);
    try {
      const res = await fetch(`http://${s.control}${path}`, {
        method: "POST",
        body: JSON.stringify(body),
        signal: ctl.signal,
      });
      const json = await res.json();
      if (!res.ok) throw new Error(`${s.name} ${path}: ${JSON.stringify(json)}`);
      return json;
    } finally {
      clearTimeout(timer);
    }
  }
}
