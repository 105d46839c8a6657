/**
 * The benchmarks' reference: a 3-member etcd (/usr/bin/etcd) on loopback, its
 * load generator, and the closed-loop driver that measures eraft's store with
 * a fixed number of requests in flight.
 *
 * etcd is measured with its official Go client (etcd_bench/main.go, built
 * here when Debian's golang-go and golang-etcd-server-dev are installed).
 * Without them it falls back to its HTTP JSON gateway driven from Deno, which
 * on this 2-core machine understates etcd's put rate by 1.5-2x (the client
 * takes ~half a core, the gateway doubles the leader's CPU); the suites say
 * which client measured.
 * @module
 */
import { dirname, join } from "node:path";
import { type Child, freeTestPort, hasCommand, spawnCommand } from "./child.ts";

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

  /**
   * Runs `op` with `inflight` requests in flight for `duration_ms`: through
   * `native` (etcd's Go client) when given, else through the JSON gateway.
   * Keys are random among 100k, values `value_bytes` long.
   */
  async load(
    native: EtcdBenchClient | null,
    op: "put" | "get",
    inflight: number,
    duration_ms: number,
    value_bytes = 100,
  ): Promise<LoopResult> {
    if (native !== null) {
      return await native.run(this.urls[0], op, inflight, duration_ms, value_bytes);
    }
    const value = new Uint8Array(value_bytes).fill(120);
    const key = () => new TextEncoder().encode(`key:${Math.floor(Math.random() * 100_000)}`);
    return await closedLoop(
      inflight,
      duration_ms,
      () => op === "put" ? this.put(key(), value) : this.get(key()),
    );
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

/** Where the Go load generator is built (ignored by git, fmt and lint). */
const NATIVE_DIR = new URL("../../.tools/etcd-bench/", import.meta.url).pathname;
const NATIVE_SOURCE = new URL("./etcd_bench/main.go", import.meta.url).pathname;
/** Debian's etcd client sources (golang-etcd-server-dev), for a GOPATH build. */
const DEBIAN_GOPATH = "/usr/share/gocode";

/** etcd's official Go client as a closed-loop load generator (etcd_bench/main.go). */
export class EtcdBenchClient {
  private constructor(readonly path: string) {}

  /** What measured etcd, for the suites' output. */
  static describe(native: EtcdBenchClient | null): string {
    return native !== null
      ? "etcd's Go client (clientv3)"
      : "etcd's JSON gateway from Deno fetch (understates etcd ~1.5-2x; install golang-go " +
        "golang-etcd-server-dev for its Go client)";
  }

  /** Builds the generator (once per source change); the reason when it cannot. */
  static async build(): Promise<EtcdBenchClient | string> {
    if (!hasCommand("go")) return "go is not installed (Debian: golang-go)";
    try {
      Deno.statSync(join(DEBIAN_GOPATH, "src/go.etcd.io/etcd/clientv3"));
    } catch {
      return `etcd's Go client is not in ${DEBIAN_GOPATH} (Debian: golang-etcd-server-dev)`;
    }
    const path = join(NATIVE_DIR, "etcd-bench");
    const built = mtimeMs(path);
    if (built !== null && built >= (mtimeMs(NATIVE_SOURCE) ?? Infinity)) {
      return new EtcdBenchClient(path);
    }
    Deno.mkdirSync(dirname(path), { recursive: true });
    const out = await new Deno.Command("go", {
      args: ["build", "-o", path, NATIVE_SOURCE],
      env: {
        GO111MODULE: "off",
        GOPATH: DEBIAN_GOPATH,
        GOFLAGS: "",
        GOCACHE: join(NATIVE_DIR, "cache"),
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) return `go build failed: ${new TextDecoder().decode(out.stderr).trim()}`;
    return new EtcdBenchClient(path);
  }

  /** One closed-loop run against `endpoint`. */
  async run(
    endpoint: string,
    op: "put" | "get",
    inflight: number,
    duration_ms: number,
    value_bytes: number,
  ): Promise<LoopResult> {
    const args = ["-endpoints", endpoint, "-op", op, "-clients", String(inflight)];
    args.push("-seconds", String(duration_ms / 1000), "-value-bytes", String(value_bytes));
    // A few connections, as etcd's own benchmark tool is usually run.
    args.push("-conns", String(Math.min(4, inflight)));
    const out = await new Deno.Command(this.path, { args, stdout: "piped", stderr: "piped" })
      .output();
    const text = new TextDecoder().decode(out.stdout).trim();
    if (!out.success) {
      throw new Error(`etcd-bench failed: ${new TextDecoder().decode(out.stderr).trim()}`);
    }
    return JSON.parse(text) as LoopResult;
  }
}

function mtimeMs(path: string): number | null {
  try {
    return Deno.statSync(path).mtime?.getTime() ?? null;
  } catch {
    return null;
  }
}
