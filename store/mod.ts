/**
 * store/ — E-STORE: the storage engine (store/engine), the region workers
 * (store/worker) and the store node's main thread (store/server): worker pool,
 * Store service, Raft transport.
 * @module
 */
export { initialRegion, parseInitialCluster, StoreNode } from "./server/node.ts";
export type { StoreNodeOptions } from "./server/node.ts";
export { Supervisor } from "./server/supervisor.ts";
export { KvApi } from "./server/kv_api.ts";
export { RaftTransport } from "./server/transport.ts";
export { FaultFilter, type FaultRules } from "./server/fault_filter.ts";
export {
  MAX_BATCH_BYTES,
  MAX_BATCH_ITEMS,
  MAX_KEY_BYTES,
  MAX_SCAN_LIMIT,
  MAX_VALUE_BYTES,
} from "./server/validate.ts";
export { regionErrorKind } from "./server/region_errors.ts";
export { decodeKvPairs, encodeKvPairs, type FoundPair } from "./kv_pairs_wire.ts";
export type {
  FromWorker,
  RegionInfo,
  ToWorker,
  WorkerConfig,
  WorkerRequest,
  WorkerResponse,
} from "./protocol.ts";
