/**
 * `deno task profile [--test set|get] [--clients N] [--pipeline N] [--requests N] [--phases]`:
 * where each operation's CPU goes. Starts a local cluster (1 meta, 3 stores
 * with one worker each, 1 db) in a temp dir, warms it with SETs, runs one
 * redis-benchmark, and prints CPU per operation for every process and thread
 * group (a store's `deno` main thread, its `worker-N`, V8's GC threads),
 * machine busy %, each process's context switches per operation (the
 * wake-ups a request costs), and each store's Raft proposals, fsyncs, loop
 * iterations and direct Raft messages. `--pipeline N` sends N commands per
 * round trip (redis-benchmark -P): proposals then carry ~10x the operations,
 * which shows what is fixed cost per proposal and what is per operation.
 * `--phases` starts the stores with `--phase-cpu` and also prints each
 * worker's CPU per operation by loop phase (store/worker/phases.ts).
 *
 * This is how #8's notes measured the fixed cost per Raft proposal: run it at
 * two client counts and compare CPU per operation against operations per
 * proposal. Numbers move ±30% between minutes on the shared 2-core machine:
 * compare runs made back to back.
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { type Proc, startEraftCluster, stopProc } from "../db/testing/procs.ts";
import { redisBenchmark } from "../db/testing/redis_benchmark.ts";
import {
  busyBetween,
  contextSwitches,
  cpuDelta,
  machineTicks,
  type ThreadCpu,
  threadCpu,
} from "./cpu_stat.ts";

const RAFT_COUNTERS = [
  "eraft_raft_proposals_total",
  "eraft_engine_fsyncs_total",
  "eraft_worker_loop_iterations_total",
  "eraft_raft_direct_messages_total",
  "eraft_engine_fsync_duration_seconds_sum",
] as const;
const PHASE_COUNTER = "eraft_worker_phase_cpu_seconds_total";

interface Options {
  test: "set" | "get";
  clients: number;
  pipeline: number;
  requests: number;
  warm: number;
  phases: boolean;
}

function options(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      test: { type: "string", default: "set" },
      clients: { type: "string", default: "50" },
      pipeline: { type: "string", default: "1" },
      requests: { type: "string", default: "20000" },
      warm: { type: "string", default: "20000" },
      phases: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(
      "usage: deno task profile [--test set|get] [--clients 50] [--pipeline 1] [--requests 20000] [--warm 20000]" +
        " [--phases]",
    );
    Deno.exit(0);
  }
  const count = (name: string, v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  if (values.test !== "set" && values.test !== "get") throw new Error("--test is set or get");
  return {
    test: values.test,
    clients: count("clients", values.clients),
    pipeline: count("pipeline", values.pipeline),
    requests: count("requests", values.requests),
    warm: count("warm", values.warm),
    phases: values.phases,
  };
}

/** Each store's Raft counters and worker CPU by phase (`phase:<name>`, seconds), from /metrics. */
async function raftCounters(procs: Proc[]): Promise<Map<string, Record<string, number>>> {
  const out = new Map<string, Record<string, number>>();
  for (const p of procs.filter((p) => p.name.startsWith("store"))) {
    const url = p.out.match(/metrics on (http:\/\/\S+)/)?.[1];
    if (!url) continue;
    const text = await (await fetch(url)).text();
    const counts: Record<string, number> = {};
    for (const line of text.split("\n")) {
      const m = line.match(/^(\w+)(?:\{([^}]*)\})? (\d+(?:\.\d+)?(?:e[-+]?\d+)?)$/);
      if (m && (RAFT_COUNTERS as readonly string[]).includes(m[1])) {
        counts[m[1]] = (counts[m[1]] ?? 0) + Number(m[3]);
      }
      const phase = m?.[1] === PHASE_COUNTER ? m[2]?.match(/phase="(\w+)"/)?.[1] : undefined;
      if (phase !== undefined) counts[`phase:${phase}`] = Number(m![3]);
    }
    out.set(p.name, counts);
  }
  return out;
}

function report(name: string, delta: ThreadCpu, ops: number, secs: number): void {
  const us = (ms: number) => (ms * 1000 / ops).toFixed(0).padStart(6);
  let user = 0;
  let sys = 0;
  for (const g of delta.values()) {
    user += g.user_ms;
    sys += g.sys_ms;
  }
  const pct = ((user + sys) / 10 / secs).toFixed(0);
  console.log(`${name.padEnd(8)} total ${us(user + sys)} µs/op (sys ${us(sys)})  cpu ${pct}%`);
  for (const [thread, g] of [...delta].sort((a, b) => b[1].user_ms - a[1].user_ms)) {
    if (g.user_ms + g.sys_ms === 0) continue;
    console.log(
      `         ${thread.padEnd(16)} ${us(g.user_ms + g.sys_ms)} µs/op (sys ${us(g.sys_ms)})`,
    );
  }
}

/** A worker's CPU per operation by loop phase, largest first. */
function reportPhases(
  before: Record<string, number>,
  after: Record<string, number>,
  ops: number,
): void {
  const rows = Object.keys(after).filter((k) => k.startsWith("phase:")).map((k) =>
    [k.slice("phase:".length), ((after[k] - (before[k] ?? 0)) * 1e6) / ops] as const
  ).sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((s, [, us]) => s + us, 0);
  console.log(
    `  worker phases (${total.toFixed(1)} µs/op): ` +
      rows.map(([phase, us]) => `${phase} ${us.toFixed(1)}`).join(", "),
  );
}

async function main(): Promise<number> {
  const opts = options(Deno.args);
  const dir = await Deno.makeTempDir({ prefix: "eraft-profile-" });
  const procs: Proc[] = [];
  try {
    console.log("starting 1 meta, 3 stores, 1 db ...");
    const port = await startEraftCluster(dir, procs, opts.phases ? ["--phase-cpu"] : []);
    await new Promise((r) => setTimeout(r, 5000)); // the region reaches 3 replicas
    console.log(`warm-up: ${opts.warm} SETs`);
    await redisBenchmark(port, { test: "set", clients: 50, pipeline: 1 }, opts.warm);
    // Workers report their counters about once a second: start and end the
    // window on reports of an idle cluster.
    const settle = () => new Promise((r) => setTimeout(r, opts.phases ? 1500 : 0));
    await settle();
    const counters_before = await raftCounters(procs);
    const cpu_before = procs.map((p) => threadCpu(p.child.pid));
    const switches_before = procs.map((p) => contextSwitches(p.child.pid));
    const machine_before = machineTicks();
    const t0 = performance.now();
    const load = { test: opts.test, clients: opts.clients, pipeline: opts.pipeline };
    const m = await redisBenchmark(port, load, opts.requests);
    const secs = (performance.now() - t0) / 1000;
    const machine_after = machineTicks();
    const cpu_after = procs.map((p) => threadCpu(p.child.pid));
    const switches_after = procs.map((p) => contextSwitches(p.child.pid));
    await settle();
    const counters_after = await raftCounters(procs);
    const busy = busyBetween(machine_before, machine_after);
    const pipelined = opts.pipeline > 1 ? ` P=${opts.pipeline}` : "";
    console.log(
      `\n${opts.test.toUpperCase()} c=${opts.clients}${pipelined}, ${opts.requests} requests`,
    );
    console.log(
      `redis-benchmark: ${m.ops_per_s.toFixed(0)} op/s, p50 ${m.p50_ms} ms, p99 ${m.p99_ms} ms`,
    );
    console.log(
      `machine busy ${(busy * 100).toFixed(0)}%, ${(opts.requests / secs).toFixed(0)} op/s`,
    );
    procs.forEach((p, i) =>
      report(p.name, cpuDelta(cpu_before[i], cpu_after[i]), opts.requests, secs)
    );
    const switches = procs.map((p, i) =>
      `${p.name} ${((switches_after[i] - switches_before[i]) / opts.requests).toFixed(2)}`
    );
    console.log(`context switches per op: ${switches.join(", ")}`);
    for (const [store, after] of counters_after) {
      const before = counters_before.get(store) ?? {};
      const delta = (name: typeof RAFT_COUNTERS[number]) =>
        (after[name] ?? 0) - (before[name] ?? 0);
      const proposals = delta("eraft_raft_proposals_total");
      const fsyncs = delta("eraft_engine_fsyncs_total");
      const iterations = delta("eraft_worker_loop_iterations_total");
      const direct = delta("eraft_raft_direct_messages_total");
      const fsync_s = delta("eraft_engine_fsync_duration_seconds_sum");
      const per = proposals > 0
        ? `, ${(opts.requests / proposals).toFixed(1)} op per proposal`
        : "";
      console.log(
        `${store}: ${proposals} proposals, ${fsyncs} fsyncs, ${iterations} loop iterations, ${direct} raft messages${per}`,
      );
      console.log(
        `  fsync wall: ${(fsync_s * 1000 / Math.max(1, fsyncs)).toFixed(2)} ms each, ` +
          `${(fsync_s * 100 / secs).toFixed(0)}% of the run`,
      );
      if (opts.phases) reportPhases(before, after, opts.requests);
    }
    return 0;
  } finally {
    for (const p of procs.reverse()) await stopProc(p);
    await Deno.remove(join(dir), { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main());
