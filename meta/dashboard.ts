/**
 * Meta's dashboard, on the same HTTP server as its `/metrics`:
 *
 * - `/` — one page: stores (state, capacity, regions, leaders), the region map
 *   (key ranges, peers, leader, size) and live charts (uPlot, embedded in the
 *   binary as text imports of the npm package's files) of the cluster's
 *   throughput (keys/s read and written, from store heartbeats) and meta's
 *   request latency (p50/p99 over each second). It polls `/api/cluster`.
 * - `/api/cluster` — that data as JSON, from the meta leader's view; a
 *   follower says it is not the leader and who is.
 * @module
 */
import uplot_js from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplot_css from "uplot/dist/uPlot.min.css" with { type: "text" };
import { StoreState } from "@eraft/proto/gen/metapb.ts";
import {
  bucketQuantile,
  gauge,
  histogram,
  histogramBuckets,
  LATENCY_BUCKETS,
  type Route,
} from "@eraft/shared/metrics";
import page_html from "./dashboard.html" with { type: "text" };
import type { MetaService } from "./service.ts";

/** A store without a heartbeat for this long shows as Disconnected. */
const DISCONNECTED_MS = 20_000;
/** Points kept per chart series (one a second). */
const SERIES_POINTS = 300;

/** Printable form of a key: ASCII as is, other bytes as \xNN; "" for the open end. */
export function showKey(key: Uint8Array): string {
  let out = "";
  for (const b of key) {
    out += b >= 0x20 && b < 0x7f && b !== 0x5c
      ? String.fromCharCode(b)
      : `\\x${b.toString(16).padStart(2, "0")}`;
  }
  return out;
}

/** What `/api/cluster` returns. */
export interface ClusterView {
  member_id: number;
  is_leader: boolean;
  leader_id: number;
  stores: Array<{
    id: number;
    address: string;
    state: string;
    capacity: number;
    available: number;
    used_size: number;
    region_count: number;
    leader_count: number;
    last_heartbeat_ms_ago: number;
  }>;
  regions: Array<{
    id: number;
    start_key: string;
    end_key: string;
    version: number;
    conf_ver: number;
    peers: Array<{ id: number; store_id: number }>;
    leader_store_id: number;
    approximate_size: number;
    approximate_keys: number;
  }>;
  series: Series;
}

/** Chart data: parallel arrays, one point a second. */
export interface Series {
  t: number[];
  read_keys_per_s: number[];
  written_keys_per_s: number[];
  meta_p50_ms: number[];
  meta_p99_ms: number[];
}

/** The dashboard of one meta node. */
export class Dashboard {
  readonly series: Series = {
    t: [],
    read_keys_per_s: [],
    written_keys_per_s: [],
    meta_p50_ms: [],
    meta_p99_ms: [],
  };
  #prev_buckets: Map<number, number> = new Map();
  readonly #latency = histogram(
    "eraft_grpc_request_duration_seconds",
    "gRPC request latency",
    ["service", "method"],
    LATENCY_BUCKETS,
  );

  constructor(
    readonly member_id: number,
    readonly service: MetaService,
    readonly leader_id: () => number,
    readonly down_ms: number,
  ) {
    const state = () => service.state;
    gauge("eraft_meta_is_leader", "1 when this meta node serves as leader", [], (g) => {
      g.set(state() ? 1 : 0);
    });
    gauge("eraft_meta_regions", "regions known to the meta leader", [], (g) => {
      g.set(state()?.regions.size ?? 0);
    });
    gauge("eraft_meta_stores", "stores known to the meta leader, by state", ["state"], (g) => {
      g.reset();
      const counts = new Map<string, number>();
      for (const s of this.view().stores) counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
      for (const [k, n] of counts) g.set({ state: k }, n);
    });
  }

  /** Adds one point to the charts (called once a second). */
  async sample(now_ms = Date.now()): Promise<void> {
    let read = 0;
    let written = 0;
    const state = this.service.state;
    for (const s of state?.stores.values() ?? []) {
      const st = s.stats;
      if (!st || !(st.interval_ms > 0) || now_ms - s.last_heartbeat_ms > DISCONNECTED_MS) continue;
      read += Number(st.keys_read) * 1000 / Number(st.interval_ms);
      written += Number(st.keys_written) * 1000 / Number(st.interval_ms);
    }
    const { buckets } = await histogramBuckets(this.#latency);
    const delta = buckets.map((b) => ({
      le: b.le,
      count: b.count - (this.#prev_buckets.get(b.le) ?? 0),
    }));
    this.#prev_buckets = new Map(buckets.map((b) => [b.le, b.count]));
    const s = this.series;
    s.t.push(Math.round(now_ms / 1000));
    s.read_keys_per_s.push(Math.round(read));
    s.written_keys_per_s.push(Math.round(written));
    s.meta_p50_ms.push(bucketQuantile(0.5, delta) * 1000);
    s.meta_p99_ms.push(bucketQuantile(0.99, delta) * 1000);
    if (s.t.length > SERIES_POINTS) {
      for (const arr of Object.values(s)) arr.shift();
    }
  }

  /** The `/api/cluster` data. */
  view(now_ms = Date.now()): ClusterView {
    const state = this.service.state;
    const stores: ClusterView["stores"] = [];
    const regions: ClusterView["regions"] = [];
    if (state) {
      for (const e of [...state.stores.values()].sort((a, b) => a.store.id - b.store.id)) {
        const ago = now_ms - e.last_heartbeat_ms;
        const st = e.store.state ?? StoreState.Up;
        const label = st === StoreState.Tombstone
          ? "Tombstone"
          : st === StoreState.Offline
          ? "Offline"
          : ago > this.down_ms
          ? "Down"
          : ago > DISCONNECTED_MS
          ? "Disconnected"
          : "Up";
        stores.push({
          id: e.store.id,
          address: e.store.address,
          state: label,
          capacity: Number(e.stats?.capacity ?? 0),
          available: Number(e.stats?.available ?? 0),
          used_size: Number(e.stats?.used_size ?? 0),
          region_count: e.stats?.region_count ?? 0,
          leader_count: e.stats?.leader_count ?? 0,
          last_heartbeat_ms_ago: ago,
        });
      }
      for (const r of state.orderedRegions()) {
        regions.push({
          id: r.region.id,
          start_key: showKey(r.region.start_key),
          end_key: showKey(r.region.end_key),
          version: Number(r.region.region_epoch?.version ?? 0),
          conf_ver: Number(r.region.region_epoch?.conf_ver ?? 0),
          peers: r.region.peers.map((p) => ({ id: p.id, store_id: p.store_id })),
          leader_store_id: r.leader?.store_id ?? 0,
          approximate_size: r.approximate_size_bytes,
          approximate_keys: r.approximate_keys,
        });
      }
    }
    return {
      member_id: this.member_id,
      is_leader: state !== null,
      leader_id: this.leader_id(),
      stores,
      regions,
      series: this.series,
    };
  }

  /** The HTTP routes. */
  route(): Route {
    return (_req, url) => {
      switch (url.pathname) {
        case "/":
        case "/index.html":
          return new Response(page_html, {
            headers: { "content-type": "text/html; charset=utf-8" },
          });
        case "/uplot.js":
          return new Response(uplot_js, { headers: { "content-type": "text/javascript" } });
        case "/uplot.css":
          return new Response(uplot_css, { headers: { "content-type": "text/css" } });
        case "/api/cluster":
          return Response.json(this.view());
        default:
          return null;
      }
    };
  }
}
