/**
 * The contract between a store's main thread and its region workers
 * (Web Workers). Everything crosses `postMessage` as structured-clone data;
 * protobuf-shaped objects use the generated types, so what arrives from the
 * network can be handed to a worker unchanged.
 *
 * Raft messages cross as encoded bytes (raft_wire.ts): the main thread routes
 * them by a few fields and never builds the message objects.
 *
 * Main thread: gRPC services, Raft transport, worker supervision, routing of
 * each request to the worker hosting its region. Worker: the Raft loop for its
 * regions over its own engines (`<data>/worker-<n>/`).
 * @module
 */
import type * as errorpb from "@eraft/proto/gen/errorpb.ts";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import type * as metapb from "@eraft/proto/gen/metapb.ts";
import type { ConfChangeType } from "@eraft/proto/gen/eraftpb.ts";
import type { EncodedRaftMessage } from "./raft_wire.ts";

/** Settings every worker receives at start. */
export interface WorkerConfig {
  worker_id: number;
  store_id: number;
  /** This store's gRPC address, put into peers it creates. */
  store_addr: string;
  /** The worker's own directory: `<data>/worker-<worker_id>`. */
  dir: string;
  /** Milliseconds per Raft tick. */
  tick_ms: number;
  election_timeout_ticks: number;
  heartbeat_timeout_ticks: number;
  /** Propose CompactLog once a region's log holds more entries than this. */
  raft_log_gc_count_limit: number;
  /** Keep this many applied entries for slow followers when compacting. */
  raft_log_gc_keep_entries: number;
  /** Max requests queued in a worker before new ones get ServerIsBusy. */
  max_pending_requests: number;
  /** Seed for election-timeout randomisation (per worker: seed + worker_id). */
  seed: number;
  /** Account the worker thread's CPU by loop phase (worker/phases.ts); off by default. */
  phase_cpu?: boolean;
  /**
   * Host the worker listens on (any free port) for BatchCommands and Raft
   * frames of its own regions, so clients and other workers skip the store's
   * main thread (worker/worker_frames.ts); unset: no listener.
   */
  frame_host?: string;
  /** A request submitted on the worker's own listener unanswered this long gets ServerIsBusy (default 4000). */
  request_deadline_ms?: number;
}

/** What a store request asks a worker to do for one region. */
export type WorkerRequest =
  | { op: "get"; cf: string; key: Uint8Array }
  | { op: "batch_get"; cf: string; keys: Uint8Array[] }
  | {
    op: "scan";
    cf: string;
    start_key: Uint8Array;
    end_key: Uint8Array;
    limit: number;
    reverse: boolean;
    key_only: boolean;
  }
  | {
    op: "write";
    mutations: kvrpcpb.Mutation[];
    preconditions: kvrpcpb.Precondition[];
    /** Client request id for apply-time deduplication; 0 = none. */
    request_id: number;
    /** With request_id: the client's clock at its first attempt (Unix ms). */
    issued_at_ms: number;
    /** Members of a merged batch, each deduplicated on its own (request_id is 0). */
    members?: kvrpcpb.BatchMember[];
  }
  | { op: "transfer_leader"; peer: metapb.Peer }
  | { op: "change_peer"; change_type: ConfChangeType; peer: metapb.Peer }
  | { op: "split"; split_key: Uint8Array; new_region_id: number; new_peer_ids: number[] }
  | { op: "compact_log" };

/** A worker's answer. Exactly one of the fields below `region_error` is meaningful per op. */
export interface WorkerResponse {
  region_error?: errorpb.Error;
  /** Invalid argument or internal failure, for the response's `error` string. */
  error?: string;
  /** get */
  value?: Uint8Array;
  type?: number;
  not_found?: boolean;
  /** batch_get, scan: the found pairs, encoded (kv_pairs_wire.ts `encodeKvPairs`) */
  pairs?: Uint8Array;
  /** write */
  precondition_failed?: boolean;
  failed_index?: number;
  /** change_peer, split: the region(s) after the change */
  regions?: metapb.Region[];
}

/** Main thread → worker. */
export type ToWorker =
  | { kind: "start"; config: WorkerConfig }
  /**
   * Raft messages for regions of this worker (or to create a peer from), as
   * one encoded `RaftMessageBatch` (raft_wire.ts `encodeRaftBatch`).
   */
  | { kind: "raft"; batch: Uint8Array }
  | {
    kind: "request";
    id: number;
    region_id: number;
    context: kvrpcpb.Context | null;
    req: WorkerRequest;
  }
  /** Create this region with a peer here if no state exists (static bootstrap). */
  | { kind: "bootstrap"; region: metapb.Region }
  /** The transport could not deliver to `to_peer_id`. */
  | { kind: "unreachable"; region_id: number; to_peer_id: number }
  | { kind: "snapshot_status"; region_id: number; to_peer_id: number; ok: boolean }
  /**
   * Whether the store's transport has fault rules (tests): while it does, the
   * worker sends and receives every Raft message through the store, where
   * the rules apply.
   */
  | { kind: "faults"; active: boolean }
  /** Test hook: throw inside the worker loop (a worker crash). */
  | { kind: "crash" }
  | { kind: "stop" }
  /** Several of the above in one postMessage (requests and Raft messages of one turn). */
  | { kind: "batch"; msgs: ToWorker[] };

/** What the main thread knows about a region hosted by a worker. */
export interface RegionInfo {
  region: metapb.Region;
  worker_id: number;
  /** Peer id of this store's replica. */
  peer_id: number;
  /** Leader peer id as this replica knows it (0 = unknown). */
  leader_peer_id: number;
  term: number;
  /** Set when the region left this store (removed or merged); forget it. */
  destroyed: boolean;
  approximate_keys: number;
  approximate_size_bytes: number;
}

/** Worker → main thread. */
export type FromWorker =
  /** Sent once after `start`, listing every region recovered from disk. */
  | {
    kind: "started";
    worker_id: number;
    regions: RegionInfo[];
    /** Where the worker takes BatchCommands and Raft frames itself; "" when it does not. */
    frame_addr: string;
  }
  /** Raft messages to deliver, encoded; the main thread batches them per store. */
  | { kind: "send"; msgs: EncodedRaftMessage[] }
  /**
   * A `RaftMessageBatch` that reached the worker's own listener but is the
   * store's to deliver (regions not hosted here, or fault rules in force).
   */
  | { kind: "raft_in"; batch: Uint8Array }
  | { kind: "response"; id: number; res: WorkerResponse }
  /** A region was created, changed (epoch, leader) or destroyed. */
  | { kind: "region"; info: RegionInfo }
  /** The worker hit a broken invariant; the supervisor restarts it. */
  | { kind: "fatal"; worker_id: number; message: string }
  | { kind: "stopped"; worker_id: number }
  /** Counters of the worker, about once a second (for metrics). */
  | { kind: "stats"; worker_id: number; stats: WorkerStats }
  /** Several of the above in one postMessage (everything of one loop iteration). */
  | { kind: "batch"; msgs: FromWorker[] };

/** A worker's counters: totals since the worker started, except `fsync_seconds`. */
export interface WorkerStats {
  proposals: number;
  committed_entries: number;
  applied_entries: number;
  /** Raft messages from peers that did not decode (dropped). */
  malformed_raft_messages: number;
  /** Worker loop iterations that had work. */
  loop_iterations: number;
  /** Raft messages sent straight to another worker's listener, not through the store. */
  direct_raft_messages: number;
  fsyncs: number;
  /** Durations of the fsyncs since the previous stats message (capped sample). */
  fsync_seconds: number[];
  compactions: number;
  pending_requests: number;
  kv_bytes: number;
  kv_segments: number;
  kv_keys: number;
  raft_log_bytes: number;
  raft_log_segments: number;
  /** CPU µs per loop phase since the worker started (empty unless `phase_cpu`). */
  phase_cpu_us: Record<string, number>;
}
