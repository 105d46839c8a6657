/**
 * A store's (and meta's) metrics, read at scrape time from the supervisor and
 * from the workers' periodic `stats` messages: regions and leaders hosted,
 * worker restarts and queue depths, Raft proposals/commits/applies, fsync
 * count and latency, engine bytes/segments/keys/compactions, and with
 * `--phase-cpu` the workers' CPU by loop phase.
 * @module
 */
import { counter, gauge, histogram } from "@eraft/shared/metrics";
import type { WorkerStats } from "../protocol.ts";
import type { Supervisor } from "./supervisor.ts";

type Totals = Pick<
  WorkerStats,
  | "proposals"
  | "committed_entries"
  | "applied_entries"
  | "malformed_raft_messages"
  | "loop_iterations"
  | "direct_raft_messages"
  | "fsyncs"
  | "compactions"
>;
const TOTAL_KEYS: Array<keyof Totals> = [
  "proposals",
  "committed_entries",
  "applied_entries",
  "malformed_raft_messages",
  "loop_iterations",
  "direct_raft_messages",
  "fsyncs",
  "compactions",
];

/** Collects worker stats; registers the store gauges and counters once per process. */
export class StoreMetrics {
  /** Sums over every worker incarnation (a restarted worker counts from 0 again). */
  readonly totals: Totals = {
    proposals: 0,
    committed_entries: 0,
    applied_entries: 0,
    malformed_raft_messages: 0,
    loop_iterations: 0,
    direct_raft_messages: 0,
    fsyncs: 0,
    compactions: 0,
  };
  readonly #last = new Map<number, WorkerStats>();
  readonly #fsync = histogram("eraft_engine_fsync_duration_seconds", "engine fdatasync latency");
  readonly #phase_cpu = counter(
    "eraft_worker_phase_cpu_seconds_total",
    "region worker thread CPU by loop phase (store --phase-cpu)",
    ["phase"],
  );

  constructor(readonly supervisor: Supervisor) {
    // Read inside prom-client's collect callbacks.
    const last = this.#last;
    const totals = this.totals;
    const regions = () => supervisor.regions().filter((r) => !r.destroyed);
    gauge("eraft_regions", "regions hosted by this store", [], (g) => g.set(regions().length));
    gauge("eraft_region_leaders", "regions led by this store", [], (g) => {
      g.set(
        regions().filter((r) => r.leader_peer_id !== 0 && r.leader_peer_id === r.peer_id).length,
      );
    });
    gauge("eraft_region_approximate_bytes", "approximate bytes of hosted regions", [], (g) => {
      g.set(regions().reduce((s, r) => s + (r.approximate_size_bytes ?? 0), 0));
    });
    gauge("eraft_workers_ready", "region workers serving", [], (g) => {
      g.set(supervisor.workerStatus().filter((w) => w.ready).length);
    });
    gauge("eraft_worker_restarts", "region worker restarts since start", [], (g) => {
      g.set(supervisor.workerStatus().reduce((s, w) => s + w.restarts, 0));
    });
    const per_worker = (name: string, help: string, field: keyof WorkerStats) =>
      gauge(name, help, ["worker"], (g) => {
        g.reset();
        for (const [id, s] of last) g.set({ worker: String(id) }, s[field] as number);
      });
    per_worker("eraft_worker_queue_depth", "requests queued in a worker", "pending_requests");
    per_worker("eraft_engine_kv_bytes", "KV engine bytes on disk", "kv_bytes");
    per_worker("eraft_engine_kv_segments", "KV engine segment files", "kv_segments");
    per_worker("eraft_engine_kv_keys", "KV engine live keys", "kv_keys");
    per_worker("eraft_engine_raft_log_bytes", "Raft log bytes on disk", "raft_log_bytes");
    per_worker("eraft_engine_raft_log_segments", "Raft log segment files", "raft_log_segments");
    const total = (name: string, help: string, key: keyof Totals) => {
      const c = counter(name, help);
      // Counters move by the deltas collected so far (inc at scrape keeps them monotonic).
      let reported = 0;
      (c as unknown as { collect: () => void }).collect = () => {
        c.inc(totals[key] - reported);
        reported = totals[key];
      };
    };
    total("eraft_raft_proposals_total", "writes proposed to Raft", "proposals");
    total("eraft_raft_committed_entries_total", "Raft entries committed", "committed_entries");
    total("eraft_raft_applied_entries_total", "Raft entries applied", "applied_entries");
    total(
      "eraft_raft_malformed_messages_total",
      "Raft messages from peers that did not decode (dropped)",
      "malformed_raft_messages",
    );
    total(
      "eraft_raft_direct_messages_total",
      "Raft messages a region worker sent straight to another store's worker",
      "direct_raft_messages",
    );
    total("eraft_engine_fsyncs_total", "engine fdatasync calls", "fsyncs");
    total(
      "eraft_worker_loop_iterations_total",
      "region worker loop iterations that had work",
      "loop_iterations",
    );
    total("eraft_engine_compactions_total", "KV engine compaction steps finished", "compactions");
  }

  /** A worker's `stats` message. */
  onStats(worker_id: number, stats: WorkerStats): void {
    const last = this.#last.get(worker_id);
    for (const k of TOTAL_KEYS) this.totals[k] += sinceLast(stats[k], last?.[k]);
    for (const s of stats.fsync_seconds) this.#fsync.observe(s);
    for (const [phase, us] of Object.entries(stats.phase_cpu_us ?? {})) {
      const delta_us = sinceLast(us, last?.phase_cpu_us?.[phase]);
      if (delta_us > 0) this.#phase_cpu.inc({ phase }, delta_us / 1e6);
    }
    this.#last.set(worker_id, stats);
  }
}

/** How far a worker's running total moved since its last report (a restarted worker counts from 0). */
function sinceLast(now: number, before: number | undefined): number {
  const prev = before ?? 0;
  return now >= prev ? now - prev : now;
}
