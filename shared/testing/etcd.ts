/**
 * The benchmarks' reference: a 3-member etcd (/usr/bin/etcd) on loopback,
 * driven through its HTTP JSON gateway, and the closed-loop load driver that
 * measures it (and eraft's store) with a fixed number of requests in flight.
 * @module
 */
import { join } from "node:path";
import { type Child, freeTestPort, spawnCommand } from "./child.ts";

/** Where a benchmark expects etcd (Debian's etcd-server package). */
export const ETCD_PATH = "/usr/bin/etcd";

/** A running 3-member etcd cluster in a temp dir. */
export class EtcdCluster {
  private constructor(
    /** Client URLs of the members; requests go to the first. */
    readonly urls: string[],
    readonly children: Child[],
    readonly root: string,
  ) {}

  /** Starts three members on free ports; resolves once a put succeeds (at most `ready_ms`). */
  static async start(ready_ms = 30_000): Promise<EtcdCluster> {
    const root = await Deno.makeTempDir({ prefix: "eraft-bench-etcd-" });
    const members = [1, 2, 3].map((n) => ({ n, client: freeTestPort(), peer: freeTestPort() }));
    const initial = members.map((m) => `e${m.n}=http://127.0.0.1:${m.peer}`).join(",");
    const children = members.map((m) =>
      spawnCommand(`etcd${m.n}`, ETCD_PATH, [
        `--name=e${m.n}`,
        `--data-dir=${join(root, `e${m.n}`)}`,
        `--listen-client-urls=http://127.0.0.1:${m.client}`,
        `--advertise-client-urls=http://127.0.0.1:${m.client}`,
        `--listen-peer-urls=http://127.0.0.1:${m.peer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${m.peer}`,
        `--initial-cluster=${initial}`,
        "--initial-cluster-state=new",
        "--initial-cluster-token=eraft-bench",
      ])
    );
    const etcd = new EtcdCluster(
      members.map((m) => `http://127.0.0.1:${m.client}`),
      children,
      root,
    );
    try {
      await etcd.#waitReady(ready_ms);
    } catch (err) {
      await etcd.stop();
      throw err;
    }
    return etcd;
  }

  /** Puts `value` under `key` (one request through the gateway). */
  put(key: Uint8Array, value: Uint8Array): Promise<void> {
    return this.#call("/v3/kv/put", { key: b64(key), value: b64(value) });
  }

  /** Reads `key` (one linearizable range request). */
  get(key: Uint8Array): Promise<void> {
    return this.#call("/v3/kv/range", { key: b64(key) });
  }

  /** Kills every member and removes the data. */
  async stop(): Promise<void> {
    await Promise.all(this.children.map((c) => c.stop("SIGKILL")));
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }

  async #call(path: string, body: object): Promise<void> {
    const res = await fetch(`${this.urls[0]}${path}`, {
      method: "POST",
      body: JSON.stringify(body),
    });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`etcd ${path}: ${res.status}`);
  }

  async #waitReady(ready_ms: number): Promise<void> {
    const deadline = Date.now() + ready_ms;
    const probe = new TextEncoder().encode("bench-ready");
    while (true) {
      try {
        return await this.put(probe, probe);
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}

function b64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** Throughput and latency of one closed-loop phase. */
export interface LoopResult {
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
}

/**
 * Runs `op` from `inflight` loops for `duration_ms` (each loop starts its next
 * request when the previous one answers) and reports completed requests per
 * second and latency percentiles. Failed requests count as errors, not ops.
 */
export async function closedLoop(
  inflight: number,
  duration_ms: number,
  op: (i: number) => Promise<void>,
): Promise<LoopResult> {
  const lat: number[] = [];
  let errors = 0;
  let seq = 0;
  const start = performance.now();
  const end = start + duration_ms;
  await Promise.all(Array.from({ length: inflight }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        await op(seq++);
        lat.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  }));
  const secs = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  const pct = (p: number) =>
    lat.length ? lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] : NaN;
  return { ops_per_s: lat.length / secs, p50_ms: pct(0.5), p99_ms: pct(0.99), errors };
}
