/**
 * `deno task bench store`: RawPut/RawGet through gRPC on a local 3-store
 * cluster with 1, 16 and 64 requests in flight, beside a 3-member etcd
 * (/usr/bin/etcd, its HTTP JSON gateway) doing puts/gets of the same sizes in
 * the same run. Prints throughput, p50/p99 and ratios; writes
 * bench-results/store.json. Uses the test cluster harness to run the stores.
 * @module
 */
import { join } from "node:path";
import type * as grpc from "@grpc/grpc-js";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import type * as storepb from "@eraft/proto/gen/storepb.ts";
import { ServiceClient } from "@eraft/shared/grpc";
import { Immediate } from "@eraft/shared/immediate";
import { Progress } from "@eraft/shared/progress";
import { type Child, hasCommand, spawnCommand } from "@eraft/shared/testing";
import { Cluster, freePort } from "../../tests/support/cluster.ts";

const VALUE_BYTES = 100;
const PHASE_MS = 3000;
const CONCURRENCY = [1, 16, 64];

interface Result {
  system: string;
  op: string;
  inflight: number;
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
}

/** Progress over the measured phases (a bar on a terminal, plain lines otherwise). */
let progress: Progress | null = null;

/** Runs `op` with `inflight` loops for PHASE_MS; collects latencies. */
async function measure(
  system: string,
  op: string,
  inflight: number,
  fn: (i: number) => Promise<void>,
): Promise<Result> {
  progress?.step(`${system} ${op} c=${inflight} (${PHASE_MS / 1000}s)`);
  const lat: number[] = [];
  let errors = 0;
  let seq = 0;
  const start = performance.now();
  const end = start + PHASE_MS;
  await Promise.all(Array.from({ length: inflight }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        await fn(seq++);
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
  return {
    system,
    op,
    inflight,
    ops_per_s: lat.length / secs,
    p50_ms: pct(0.5),
    p99_ms: pct(0.99),
    errors,
  };
}

type Cmd = storepb.BatchCommandsRequest_Request;
type CmdRes = storepb.BatchCommandsResponse_Response;

/**
 * The throughput path a real client uses (TiKV's BatchCommands): one
 * long-lived stream to the leader; requests issued in the same macrotask
 * travel as one message, responses come back matched by id.
 */
class BatchStream {
  readonly #client: ServiceClient;
  readonly #stream: grpc.ClientDuplexStream<object, object>;
  readonly #waiting = new Map<number, (res: CmdRes) => void>();
  #queue: Array<[number, Cmd]> = [];
  #next_id = 1;
  readonly #flusher = new Immediate(() => this.#flush());

  constructor(addr: string) {
    this.#client = new ServiceClient("storepb.Store", addr);
    this.#stream = this.#client.duplex("BatchCommands");
    this.#stream.on("data", (batch: storepb.BatchCommandsResponse) => {
      batch.responses.forEach((res, i) => {
        this.#waiting.get(batch.request_ids[i])?.(res);
        this.#waiting.delete(batch.request_ids[i]);
      });
    });
    this.#stream.on("error", () => {});
  }

  call(cmd: Cmd): Promise<CmdRes> {
    const id = this.#next_id++;
    this.#queue.push([id, cmd]);
    this.#flusher.schedule();
    return new Promise((resolve) => this.#waiting.set(id, resolve));
  }

  #flush(): void {
    const batch = this.#queue;
    this.#queue = [];
    this.#stream.write({ request_ids: batch.map(([id]) => id), requests: batch.map(([, c]) => c) });
  }

  close(): void {
    this.#flusher.close();
    this.#stream.end();
    this.#client.close();
  }
}

function checkOk(res: { region_error?: unknown; error?: string } | null | undefined): void {
  if (!res || res.region_error || res.error) throw new Error(JSON.stringify(res));
}

/** Puts and gets through BatchCommands on the leader of region 1. */
async function benchBatched(cluster: Cluster, value: Uint8Array, key: (i: number) => Uint8Array) {
  const out: Result[] = [];
  await cluster.client.refresh();
  let leader = 0;
  for (const s of cluster.stores) {
    const st = await cluster.status(s.id);
    const r = st?.regions.find((r) => r.region.id === 1);
    if (r && r.leader_peer_id === r.peer_id) leader = s.id;
  }
  if (leader === 0) throw new Error("no leader of region 1");
  const context: kvrpcpb.Context = cluster.client.context(cluster.client.region(1)!, leader);
  const stream = new BatchStream(cluster.store(leader).addr);
  try {
    for (const n of CONCURRENCY) {
      out.push(
        await measure("eraft-batch", "put", n, async (i) => {
          const res = await stream.call({
            raw_put: { context, key: key(i), value, cf: "", id: 0, type: 0, issued_at_ms: 0 },
          });
          checkOk(res.raw_put);
        }),
      );
      out.push(
        await measure("eraft-batch", "get", n, async (i) => {
          const res = await stream.call({ raw_get: { context, key: key(i), cf: "" } });
          checkOk(res.raw_get);
        }),
      );
    }
  } finally {
    stream.close();
  }
  return out;
}

async function benchStore(value: Uint8Array): Promise<Result[]> {
  const cluster = await Cluster.start({ stores: 3, tick_ms: 50 });
  const out: Result[] = [];
  try {
    const client = cluster.client;
    const key = (i: number) => new TextEncoder().encode(`bench-${i % 10_000}`);
    await client.put(key(0), value);
    for (const n of CONCURRENCY) {
      out.push(await measure("eraft", "put", n, (i) => client.put(key(i), value)));
      out.push(await measure("eraft", "get", n, async (i) => void await client.get(key(i))));
    }
    out.push(...await benchBatched(cluster, value, key));
  } finally {
    await cluster.close();
  }
  return out;
}

function startEtcd(root: string): { urls: string[]; children: Child[] } {
  const members = [1, 2, 3].map((n) => ({ n, client: freePort(), peer: freePort() }));
  const initial = members.map((m) => `e${m.n}=http://127.0.0.1:${m.peer}`).join(",");
  const children = members.map((m) =>
    spawnCommand(`etcd${m.n}`, "/usr/bin/etcd", [
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
  return { urls: members.map((m) => `http://127.0.0.1:${m.client}`), children };
}

const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

async function etcdCall(url: string, path: string, body: object): Promise<void> {
  const res = await fetch(`${url}${path}`, { method: "POST", body: JSON.stringify(body) });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`etcd ${path}: ${res.status}`);
}

async function benchEtcd(value: Uint8Array): Promise<Result[]> {
  const root = await Deno.makeTempDir({ prefix: "eraft-bench-etcd-" });
  const { urls, children } = startEtcd(root);
  const out: Result[] = [];
  try {
    const deadline = Date.now() + 30_000;
    const v = b64(value);
    const key = (i: number) => b64(new TextEncoder().encode(`bench-${i % 10_000}`));
    while (true) {
      try {
        await etcdCall(urls[0], "/v3/kv/put", { key: key(0), value: v });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    for (const n of CONCURRENCY) {
      out.push(
        await measure(
          "etcd",
          "put",
          n,
          (i) => etcdCall(urls[0], "/v3/kv/put", { key: key(i), value: v }),
        ),
      );
      out.push(
        await measure("etcd", "get", n, (i) => etcdCall(urls[0], "/v3/kv/range", { key: key(i) })),
      );
    }
  } finally {
    await Promise.all(children.map((c) => c.stop("SIGKILL")));
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
  return out;
}

function report(results: Result[]): void {
  const f = (x: number, d = 1) => Number.isFinite(x) ? x.toFixed(d) : "-";
  console.log("system      op  inflight    ops/s   p50 ms   p99 ms  errors  vs etcd (ops/s)");
  for (const r of results) {
    const e = results.find((x) =>
      x.system === "etcd" && x.op === r.op && x.inflight === r.inflight
    );
    const ratio = r.system.startsWith("eraft") && e ? `${f(r.ops_per_s / e.ops_per_s, 2)}x` : "";
    console.log(
      `${r.system.padEnd(11)} ${r.op.padEnd(4)} ${String(r.inflight).padStart(8)} ${
        f(r.ops_per_s, 0).padStart(8)
      } ${f(r.p50_ms, 2).padStart(8)} ${f(r.p99_ms, 2).padStart(8)} ${
        String(r.errors).padStart(7)
      }  ${ratio}`,
    );
  }
}

if (import.meta.main) {
  const value = new Uint8Array(VALUE_BYTES).fill(120);
  const etcd = hasCommand("/usr/bin/etcd");
  // put + get per concurrency, for eraft, eraft-batch and (when installed) etcd.
  progress = new Progress("bench store", 2 * CONCURRENCY.length * (etcd ? 3 : 2));
  const results: Result[] = [];
  try {
    results.push(...await benchStore(value));
    if (etcd) results.push(...await benchEtcd(value));
  } finally {
    progress.done();
  }
  if (!etcd) console.log("etcd not installed: eraft numbers only");
  report(results);
  const dir = new URL("../../bench-results/", import.meta.url).pathname;
  Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(
    join(dir, "store.json"),
    JSON.stringify({ value_bytes: VALUE_BYTES, phase_ms: PHASE_MS, results }, null, 2) + "\n",
  );
}
