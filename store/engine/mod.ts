/**
 * store/engine — the append-only storage engine a store's region worker writes
 * to (it replaces RocksDB/badger of TiKV/TinyKV). Per worker:
 *
 * - `RaftLogStore`: segment files of checksummed Raft records for all the
 *   worker's regions; `storage(region_id, snapshot_fn)` is raft/'s `Storage`.
 * - `KvEngine`: Bitcask-style KV segments with an ordered in-memory index,
 *   column families, atomic write batches, group commit (`writeMany`, or
 *   `write(..., {sync: false})` then `sync()`), snapshots, ingest, hint files
 *   and incremental compaction (`compactStep`).
 * - `WorkerEngines`: both under one directory with one `sync()` pass per
 *   worker loop iteration.
 * - `check(dir)`: verifies every checksum (for `eraft ctl check`).
 *
 * Recovery: a torn tail of the newest segment is truncated; any other damage
 * throws `CorruptionError` with file and offset. Synchronous file APIs
 * throughout (faster inside workers). See DESIGN.md §5.
 * @module
 */
export { check, type CheckProblem, type CheckReport } from "./check.ts";
export { IO_STATS } from "./files.ts";
export { WorkerEngines, type WorkerEnginesOptions } from "./engines.ts";
export {
  BATCH_MAX_BYTES,
  KvEngine,
  type KvEngineOptions,
  KvSnapshot,
  type KvStats,
  WriteBatch,
  type WriteOptions,
} from "./kv.ts";
export { type Cf, CF_ID, CFS } from "./kv_format.ts";
export { type KvPair, KvView } from "./kv_view.ts";
export { type RaftLogOptions, RaftLogStore, type RaftLogUpdate } from "./raft_log.ts";
export { RegionStorage } from "./raft_storage.ts";
export { CorruptionError } from "./record.ts";
