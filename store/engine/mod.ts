/**
 * store/engine — the append-only storage engine a store's region worker writes
 * to (it replaces RocksDB/badger of TiKV/TinyKV). Per worker:
 *
 * - `KvEngine`: Bitcask-style KV segments with an ordered in-memory index,
 *   column families, atomic write batches, group commit, snapshots, ingest,
 *   hint files and incremental compaction.
 *
 * Synchronous file APIs throughout (faster inside workers). See DESIGN.md §5.
 * @module
 */
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
export { CorruptionError } from "./record.ts";
export { type RaftLogOptions, RaftLogStore, type RaftLogUpdate } from "./raft_log.ts";
export { RegionStorage } from "./raft_storage.ts";
