/**
 * `deno task bench store`: RawPut/RawGet on a local 3-store cluster with 1, 16
 * and 64 requests in flight (unary gRPC, the store's BatchCommands stream,
 * and BatchCommands frames straight to the region worker), beside a 3-member etcd
 * (/usr/bin/etcd, driven by its Go client when built, see
 * shared/testing/etcd.ts) doing puts/gets of the same sizes in the same run. Prints throughput, p50/p99 and ratios; writes
 * bench-results/store.json. Uses the test cluster harness to run the stores.
 * @module
 */
import { join } from "node:path";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import type * as storepb from "@eraft/proto/gen/storepb.ts";
import { FrameConn, FrameKind } from "@eraft/shared/frame";
import { ServiceClient } from "@eraft/shared/grpc";
import { decodeMessageView, encodeMessage } from "@eraft/shared/proto";
import { Immediate } from "@eraft/shared/immediate";
import { Progress } from "@eraft/shared/progress";
import {
  closedLoop,
  ETCD_PATH,
  EtcdBenchClient,
  EtcdCluster,
  hasCommand,
} from "@eraft/shared/testing";
import { Cluster } from "../../tests/support/cluster.ts";

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
  return { system, op, inflight, ...await closedLoop(inflight, PHASE_MS, fn) };
}

type Cmd = storepb.BatchCommandsRequest_Request;
type CmdRes = storepb.BatchCommandsResponse_Response;

/** What carries a BatchStream's messages: the store's gRPC stream or a frame connection. */
interface Carrier {
  write(msg: storepb.BatchCommandsRequest): void;
  close(): void;
}

/**
 * The throughput path a real client uses (TiKV's BatchCommands): one
 * long-lived stream to the leader; requests issued in the same macrotask
 * travel as one message, responses come back matched by id. Over gRPC to the
 * store, or as frames straight to the region worker the store names.
 */
class BatchStream {
  /** Worker routes the store's answers carried (storepb.WorkerRoute). */
  readonly routes: storepb.WorkerRoute[] = [];
  readonly #waiting = new Map<number, (res: CmdRes) => void>();
  #queue: Array<[number, Cmd]> = [];
  #next_id = 1;
  readonly #flusher = new Immediate(() => this.#flush());
  readonly #carrier: Carrier;

  private constructor(
    connect: (on_response: (res: storepb.BatchCommandsResponse) => void) => Carrier,
  ) {
    this.#carrier = connect((batch) => this.#onResponse(batch));
  }

  /** The store's gRPC `BatchCommands` stream. */
  static grpc(addr: string): BatchStream {
    return new BatchStream((on_response) => {
      const client = new ServiceClient("storepb.Store", addr);
      const stream = client.duplex("BatchCommands");
      stream.on("data", on_response);
      stream.on("error", () => {});
      return {
        write: (msg) => stream.write(msg),
        close: () => {
          stream.end();
          client.close();
        },
      };
    });
  }

  /** A frame connection to `addr` (a region worker's listener). */
  static frames(addr: string): BatchStream {
    return new BatchStream((on_response) => {
      const conn = FrameConn.dial(addr, {
        on_frame: (_kind, body) =>
          on_response(decodeMessageView("storepb.BatchCommandsResponse", body)),
        on_close: () => {},
      });
      return {
        write: (msg) =>
          conn.send(FrameKind.BatchRequest, encodeMessage("storepb.BatchCommandsRequest", msg)),
        close: () => conn.close(),
      };
    });
  }

  call(cmd: Cmd): Promise<CmdRes> {
    const id = this.#next_id++;
    this.#queue.push([id, cmd]);
    this.#flusher.schedule();
    return new Promise((resolve) => this.#waiting.set(id, resolve));
  }

  #onResponse(batch: storepb.BatchCommandsResponse): void {
    this.routes.push(...(batch.worker_routes ?? []));
    batch.responses.forEach((res, i) => {
      this.#waiting.get(batch.request_ids[i])?.(res);
      this.#waiting.delete(batch.request_ids[i]);
    });
  }

  #flush(): void {
    const batch = this.#queue;
    this.#queue = [];
    this.#carrier.write({
      request_ids: batch.map(([id]) => id),
      requests: batch.map(([, c]) => c),
    } as storepb.BatchCommandsRequest);
  }

  close(): void {
    this.#flusher.close();
    this.#carrier.close();
  }
}

function checkOk(res: { region_error?: unknown; error?: string } | null | undefined): void {
  if (!res || res.region_error || res.error) throw new Error(JSON.stringify(res));
}

/** Puts and gets through BatchCommands on the leader of region 1: its store, then its worker. */
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
  const phases = async (system: string, stream: BatchStream) => {
    try {
      for (const n of CONCURRENCY) {
        out.push(
          await measure(system, "put", n, async (i) => {
            const res = await stream.call({
              raw_put: { context, key: key(i), value, cf: "", id: 0, type: 0, issued_at_ms: 0 },
            });
            checkOk(res.raw_put);
          }),
        );
        out.push(
          await measure(system, "get", n, async (i) => {
            const res = await stream.call({ raw_get: { context, key: key(i), cf: "" } });
            checkOk(res.raw_get);
          }),
        );
      }
    } finally {
      stream.close();
    }
  };
  const store = BatchStream.grpc(cluster.store(leader).addr);
  await phases("eraft-batch", store);
  // The store named the worker serving region 1 in its answers: the same load, straight there.
  const route = store.routes.findLast((r) => r.region_id === 1);
  if (route === undefined) throw new Error("the store named no worker for region 1");
  await phases("eraft-worker", BatchStream.frames(route.frame_addr));
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

async function benchEtcd(native: EtcdBenchClient | null): Promise<Result[]> {
  const etcd = await EtcdCluster.start();
  const out: Result[] = [];
  const phase = async (op: "put" | "get", inflight: number) => {
    progress?.step(`etcd ${op} c=${inflight} (${PHASE_MS / 1000}s)`);
    const r = await etcd.load(native, op, inflight, PHASE_MS, VALUE_BYTES);
    out.push({ system: "etcd", op, inflight, ...r });
  };
  try {
    for (const n of CONCURRENCY) {
      await phase("put", n);
      await phase("get", n);
    }
  } finally {
    await etcd.stop();
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
  const etcd = hasCommand(ETCD_PATH);
  const built = etcd ? await EtcdBenchClient.build() : null;
  const native = typeof built === "string" ? null : built;
  if (typeof built === "string") console.log(`bench store: no etcd Go client: ${built}`);
  const etcd_client = EtcdBenchClient.describe(native);
  if (etcd) console.log(`bench store: etcd measured with ${etcd_client}`);
  // put + get per concurrency, for eraft, eraft-batch, eraft-worker and (when installed) etcd.
  progress = new Progress("bench store", 2 * CONCURRENCY.length * (etcd ? 4 : 3));
  const results: Result[] = [];
  try {
    results.push(...await benchStore(value));
    if (etcd) results.push(...await benchEtcd(native));
  } finally {
    progress.done();
  }
  if (!etcd) console.log("etcd not installed: eraft numbers only");
  report(results);
  const dir = new URL("../../bench-results/", import.meta.url).pathname;
  Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(
    join(dir, "store.json"),
    JSON.stringify(
      {
        value_bytes: VALUE_BYTES,
        phase_ms: PHASE_MS,
        etcd_client: etcd ? etcd_client : null,
        results,
      },
      null,
      2,
    ) + "\n",
  );
}
