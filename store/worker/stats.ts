/**
 * The worker's periodic `stats` message: its Raft counters, the engine I/O
 * counters of this thread (fsyncs drained since the last message) and engine
 * sizes. Cheap: a few numbers and at most a few thousand fsync durations.
 * @module
 */
import { IO_STATS } from "../engine/mod.ts";
import type { FromWorker } from "../protocol.ts";
import type { RegionWorker } from "./worker.ts";

/** Builds the stats message and drains the fsync durations it carries. */
export function workerStats(w: RegionWorker, pending_requests: number): FromWorker {
  const kv = w.engines.kv.stats();
  const raft = w.engines.raft.stats();
  const fsync_seconds = IO_STATS.fsync_seconds;
  IO_STATS.fsync_seconds = [];
  return {
    kind: "stats",
    worker_id: w.config.worker_id,
    stats: {
      ...w.counts,
      fsyncs: IO_STATS.fsyncs,
      fsync_seconds,
      compactions: IO_STATS.compactions,
      pending_requests,
      kv_bytes: kv.disk_bytes,
      kv_segments: kv.segments,
      kv_keys: kv.keys,
      raft_log_bytes: raft.disk_bytes,
      raft_log_segments: raft.segments,
      phase_cpu_us: w.phases.snapshot(),
    },
  };
}
