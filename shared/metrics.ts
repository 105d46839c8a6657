/**
 * Process metrics: one `prom-client` registry per process (prom-client works
 * under Deno, default process metrics included), helpers for the metrics every
 * process has, and the HTTP endpoint serving them as Prometheus text
 * (exposition format 0.0.4) on `/metrics`.
 *
 * Every process (meta, store, db) starts {@link startMetricsServer} on its
 * `--metrics-addr`; meta adds the dashboard routes to the same server.
 * @module
 */
import client from "prom-client";
import type * as grpc from "@grpc/grpc-js";
import { splitHostPort } from "./net.ts";

export { client };

/** The registry of this process. */
export const registry: client.Registry = new client.Registry();

/**
 * How often prom-client samples event loop delay (`eraft_nodejs_eventloop_lag_*`).
 * Its default, 10 ms, is a 100 Hz timer under Deno: measured on an idle
 * process, 6-9 ms of CPU a second for the default metrics at 10 ms, 2 at 100
 * ms, 1 at 1000 ms — with ten eraft processes in `eraft dev` (five nodes,
 * five supervisors) about half of the idle cluster's CPU.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

let default_metrics = false;

/**
 * Registers prom-client's process metrics (CPU, memory, event loop, GC) once,
 * when the process starts serving metrics: a supervisor parent, which never
 * does, keeps no sampling timer.
 */
function collectDefaultMetrics(): void {
  if (default_metrics) return;
  default_metrics = true;
  client.collectDefaultMetrics({
    register: registry,
    prefix: "eraft_",
    eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS,
  });
}

/** Latency buckets in seconds: 50µs .. 10s. */
export const LATENCY_BUCKETS = [
  0.00005,
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  10,
];

/** A counter in this process's registry (the same one when asked twice). */
export function counter(name: string, help: string, labelNames: string[] = []): client.Counter {
  const known = registry.getSingleMetric(name);
  if (known) return known as client.Counter;
  return new client.Counter({ name, help, labelNames, registers: [registry] });
}

/** A gauge in this process's registry; `collect` runs before each scrape. */
export function gauge(
  name: string,
  help: string,
  labelNames: string[] = [],
  collect?: (g: client.Gauge) => void,
): client.Gauge {
  const known = registry.getSingleMetric(name);
  if (known) return known as client.Gauge;
  return new client.Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect: collect
      ? function (this: client.Gauge) {
        collect(this);
      }
      : undefined,
  });
}

/** A latency histogram (seconds) in this process's registry. */
export function histogram(
  name: string,
  help: string,
  labelNames: string[] = [],
  buckets = LATENCY_BUCKETS,
): client.Histogram {
  const known = registry.getSingleMetric(name);
  if (known) return known as client.Histogram;
  return new client.Histogram({ name, help, labelNames, buckets, registers: [registry] });
}

/** One label set of a {@link HotCounter}. */
export interface HotCounterChild {
  inc(n?: number): void;
}

/** One label set of a {@link HotHistogram}. */
export interface HotHistogramChild {
  observe(value: number): void;
}

/** What prom-client's registry renders of a metric (its `get()` result). */
interface RenderedMetric {
  name: string;
  help: string;
  type: "counter" | "histogram";
  aggregator: "sum";
  values: Array<{ labels: Record<string, string | number>; value: number; metricName?: string }>;
}

/**
 * Base of the hot-path metrics: label sets resolved once by `child(...)`
 * (callers keep the child), then updated with no label hashing, which in
 * prom-client costs more per update than a db command's own bookkeeping.
 * Exposed in the same registry and text format as prom-client's metrics.
 */
abstract class HotMetric<C> {
  protected readonly children: Map<string, { labels: Record<string, string>; c: C }> = new Map();

  constructor(readonly name: string, readonly help: string, readonly labelNames: string[]) {
    registry.registerMetric(this as unknown as client.Metric);
  }

  /** The child of one label set, `values` in `labelNames` order. */
  child(...values: string[]): C {
    const key = values.join("\u0000");
    let entry = this.children.get(key);
    if (entry === undefined) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i] ?? ""));
      entry = { labels, c: this.create() };
      this.children.set(key, entry);
    }
    return entry.c;
  }

  protected abstract create(): C;

  /** Forgets every label set (prom-client's `reset`). */
  reset(): void {
    this.children.clear();
  }
}

/** A counter for per-request paths (see HotMetric). */
export class HotCounter extends HotMetric<HotCounterChild & { value: number }> {
  protected create(): HotCounterChild & { value: number } {
    const c = { value: 0, inc: (n = 1) => (c.value += n) };
    return c;
  }

  /** prom-client's metric interface: what the registry renders. */
  get(): Promise<RenderedMetric> {
    const values = [...this.children.values()].map(({ labels, c }) => ({ labels, value: c.value }));
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: "counter",
      aggregator: "sum",
      values,
    });
  }
}

interface HistogramState extends HotHistogramChild {
  counts: number[];
  sum: number;
  count: number;
}

/** A histogram for per-request paths (see HotMetric); buckets as prom-client's. */
export class HotHistogram extends HotMetric<HistogramState> {
  constructor(
    name: string,
    help: string,
    labelNames: string[],
    readonly buckets: number[] = LATENCY_BUCKETS,
  ) {
    super(name, help, labelNames);
  }

  protected create(): HistogramState {
    const bounds = this.buckets;
    const h: HistogramState = {
      counts: bounds.map(() => 0),
      sum: 0,
      count: 0,
      observe: (v: number) => {
        let i = 0;
        while (i < bounds.length && v > bounds[i]) i++;
        if (i < bounds.length) h.counts[i]++;
        h.sum += v;
        h.count++;
      },
    };
    return h;
  }

  /** prom-client's metric interface: cumulative buckets, +Inf, sum and count. */
  get(): Promise<RenderedMetric> {
    const values: RenderedMetric["values"] = [];
    for (const { labels, c } of this.children.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += c.counts[i];
        values.push({
          labels: { le, ...labels },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      });
      values.push({
        labels: { le: "+Inf", ...labels },
        value: c.count,
        metricName: `${this.name}_bucket`,
      });
      values.push({ labels, value: c.sum, metricName: `${this.name}_sum` });
      values.push(
        { labels, value: c.count, metricName: `${this.name}_count` },
      );
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: "histogram",
      aggregator: "sum",
      values,
    });
  }
}

/** Sum of a counter (or gauge) over all its label sets. */
export async function total(metric: client.Metric): Promise<number> {
  const got = await metric.get();
  return got.values.reduce((s, v) => s + v.value, 0);
}

/**
 * Quantile `q` (0..1) estimated from histogram buckets the way Prometheus's
 * `histogram_quantile` does (linear inside the bucket); 0 with no samples.
 */
export function bucketQuantile(
  q: number,
  buckets: Array<{ le: number; count: number }>,
): number {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const n = sorted.length === 0 ? 0 : sorted[sorted.length - 1].count;
  if (n === 0) return 0;
  const rank = q * n;
  let prev_le = 0;
  let prev_count = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prev_le;
      const in_bucket = b.count - prev_count;
      return in_bucket === 0 ? b.le : prev_le + (b.le - prev_le) * (rank - prev_count) / in_bucket;
    }
    prev_le = b.le;
    prev_count = b.count;
  }
  return prev_le;
}

/** Cumulative buckets of a histogram summed over every label set. */
export async function histogramBuckets(
  h: client.Histogram,
): Promise<{ buckets: Array<{ le: number; count: number }>; count: number; sum: number }> {
  const got = await h.get();
  const by_le = new Map<number, number>();
  let count = 0;
  let sum = 0;
  for (const v of got.values) {
    const name = (v as { metricName?: string }).metricName ?? "";
    if (name.endsWith("_bucket")) {
      const le = v.labels.le === "+Inf" ? Infinity : Number(v.labels.le);
      by_le.set(le, (by_le.get(le) ?? 0) + v.value);
    } else if (name.endsWith("_count")) count += v.value;
    else if (name.endsWith("_sum")) sum += v.value;
  }
  return { buckets: [...by_le].map(([le, c]) => ({ le, count: c })), count, sum };
}

/** gRPC request count and latency per service and method. */
const grpc_requests = () =>
  counter("eraft_grpc_requests_total", "gRPC requests served", ["service", "method", "code"]);
const grpc_seconds = () =>
  histogram("eraft_grpc_request_duration_seconds", "gRPC request latency", ["service", "method"]);

/**
 * Wraps a service's handlers so each unary call is counted and timed
 * (streams are counted when they open). The handlers themselves are unchanged.
 */
export function instrumentGrpc(
  service: string,
  handlers: grpc.UntypedServiceImplementation,
): grpc.UntypedServiceImplementation {
  const requests = grpc_requests();
  const seconds = grpc_seconds();
  const out: grpc.UntypedServiceImplementation = {};
  for (const [method, fn] of Object.entries(handlers)) {
    const handler = fn as (...args: unknown[]) => unknown;
    if (handler.length === 2) {
      out[method] = ((call: unknown, callback: (err: unknown, res?: unknown) => void) => {
        const start = performance.now();
        handler(call, (err: unknown, res?: unknown) => {
          seconds.observe({ service, method }, (performance.now() - start) / 1000);
          requests.inc({ service, method, code: err ? "error" : "ok" });
          callback(err, res);
        });
      }) as grpc.UntypedHandleCall;
    } else {
      out[method] = ((call: unknown) => {
        requests.inc({ service, method, code: "stream" });
        return handler(call);
      }) as grpc.UntypedHandleCall;
    }
  }
  return out;
}

/** A running metrics endpoint. */
export interface MetricsServer {
  /** `host:port` it listens on. */
  addr: string;
  close(): Promise<void>;
}

/** Extra routes on the metrics server (meta's dashboard); null = not handled. */
export type Route = (req: Request, url: URL) => Response | Promise<Response> | null;

/** Serves `/metrics` (and `routes`) on `addr` (`host:port`, port 0 = any free port). */
export function startMetricsServer(addr: string, routes: Route[] = []): Promise<MetricsServer> {
  collectDefaultMetrics();
  return new Promise((resolve, reject) => {
    try {
      const { hostname, port } = splitHostPort(addr);
      const server = Deno.serve({
        hostname,
        port,
        onListen: ({ port }) => {
          resolve({ addr: `${hostname}:${port}`, close: () => server.shutdown() });
        },
      }, async (req) => {
        const url = new URL(req.url);
        if (url.pathname === "/metrics") {
          return new Response(await registry.metrics(), {
            headers: { "content-type": registry.contentType },
          });
        }
        for (const route of routes) {
          const res = await route(req, url);
          if (res) return res;
        }
        return new Response("not found\n", { status: 404 });
      });
    } catch (err) {
      reject(err);
    }
  });
}
