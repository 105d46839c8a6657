/**
 * One replica of a region inside a worker: its Raft node over the worker's
 * log store, its region metadata and apply state, and the client requests
 * waiting on it (proposals until applied, reads until their ReadIndex is
 * confirmed and applied).
 * @module
 */
import assert from "node:assert/strict";
import type * as metapb from "@eraft/proto/gen/metapb.ts";
import type * as raft_serverpb from "@eraft/proto/gen/raft_serverpb.ts";
import type { Snapshot } from "@eraft/proto/gen/eraftpb.ts";
import { Prng, RawNode, ReadOnlyOption, StateType } from "@eraft/raft";
import type { WorkerEngines } from "../engine/engines.ts";
import { inRange } from "@eraft/shared/bytes";
import type { WorkerConfig, WorkerRequest } from "../protocol.ts";
import { DATA_CFS, dedupFloorKey, encodeSnapshotData, type SnapshotRecord } from "./codec.ts";
import { encodeFloor, readFloor, regionRanges } from "./dedup.ts";

/** A proposal waiting for its entry to be applied. */
export interface Proposal {
  /** Worker request id to answer. */
  id: number;
  index: number;
  term: number;
}

/** A read waiting for a confirmed read index, then for apply to reach it. */
export interface PendingRead {
  id: number;
  req: WorkerRequest;
}

/** Raft log index and term a freshly bootstrapped or split region starts at (TiKV's). */
export const RAFT_INIT_LOG_INDEX = 5;
export const RAFT_INIT_LOG_TERM = 5;

/** Upper bound on bytes a region snapshot may hold (sent inline in one MsgSnapshot). */
export const MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024;

/** See the module comment. */
export class Peer {
  readonly node: RawNode;
  /** Peers learnt from the region and from incoming messages, by peer id. */
  readonly known_peers = new Map<number, metapb.Peer>();
  readonly proposals: Proposal[] = [];
  waiting_reads: PendingRead[] = [];
  /** ReadIndex requests sent to raft, by context sequence number. */
  readonly inflight_reads = new Map<number, PendingRead[]>();
  /** Confirmed read points waiting for apply to reach `index`. */
  readonly confirmed_reads: Array<{ index: number; reads: PendingRead[] }> = [];
  leader_id = 0;
  term = 0;
  /** Term and vote of the last hard state handed to the log store. */
  persisted_term = 0;
  persisted_vote = 0;
  destroyed = false;
  /** Data keys in the region, counted by `refreshApproximateSize` (capped). */
  approximate_keys = 0;
  /** Estimated bytes of the region's data (keys × the engine's average record size). */
  approximate_size_bytes = 0;
  /**
   * The region's deduplication floor as apply last read or wrote it (null:
   * unknown, read from the engine). Reading it for every entry walked cf
   * raft's B-tree, which holds every dedup record: ~4% of a follower's apply.
   */
  dedup_floor: number | null = null;
  #snapshot_cache: { index: number; snap: Snapshot } | null = null;
  /** When refreshApproximateSize last counted (null: never). */
  #size_counted: SizeCount | null = null;

  constructor(
    readonly engines: WorkerEngines,
    public region: metapb.Region,
    readonly peer_id: number,
    public apply_state: raft_serverpb.RaftApplyState,
    config: WorkerConfig,
    /** Loaded from disk at start-up (not created by a split or a peer add). */
    recovered = false,
  ) {
    assert(peer_id > 0, "peer id must be positive");
    this.learnRegionPeers();
    const hs = engines.raft.hardState(region.id);
    this.persisted_term = hs.term;
    this.persisted_vote = hs.vote;
    const storage = engines.raft.storage(region.id, () => this.buildSnapshot());
    this.node = new RawNode({
      id: peer_id,
      storage,
      applied: apply_state.applied_index,
      election_timeout_ticks: config.election_timeout_ticks,
      heartbeat_timeout_ticks: config.heartbeat_timeout_ticks,
      check_quorum: true,
      pre_vote: true,
      // Reads are served from the leader's lease (no heartbeat round) while a
      // quorum acknowledged a heartbeat within the election timeout; the
      // worker drives ticks from the monotonic clock so a paused leader's
      // lease runs out in real time.
      read_only_option: ReadOnlyOption.LeaseBased,
      refuse_votes_at_start: recovered,
      // Reads go to the leader, so followers may apply a heartbeat later; an
      // empty append per commit woke every follower for nothing. Measured, SET
      // c=50: follower worker CPU per SET -8 to -23% over five pairs.
      broadcast_commit: false,
      // The worker syncs the log in the background (log_sync.ts).
      async_storage_writes: true,
      max_size_per_msg_bytes: 1024 * 1024,
      max_inflight_msgs: 256,
      rng: new Prng(config.seed * 1_000_003 + region.id * 31 + peer_id),
    });
  }

  get region_id(): number {
    return this.region.id;
  }

  get is_leader(): boolean {
    return this.node.raft.state === StateType.Leader;
  }

  /** True once the region's range and peers are known (not a lazily created shell). */
  get initialized(): boolean {
    return this.region.peers.length > 0;
  }

  get applied_index(): number {
    return this.apply_state.applied_index;
  }

  /** This replica's own Peer record. */
  get self(): metapb.Peer {
    const me = this.known_peers.get(this.peer_id);
    assert(me !== undefined, `region ${this.region_id}: own peer ${this.peer_id} unknown`);
    return me;
  }

  learnRegionPeers(): void {
    for (const p of this.region.peers) this.known_peers.set(p.id, p);
  }

  /** The leader's Peer record if this replica knows it. */
  leaderPeer(): metapb.Peer | null {
    return this.leader_id === 0 ? null : this.known_peers.get(this.leader_id) ?? null;
  }

  /** Drops every proposal at or below `index`, returning those that were waiting. */
  takeProposalsUpTo(index: number): Proposal[] {
    let n = 0;
    while (n < this.proposals.length && this.proposals[n].index <= index) n++;
    return this.proposals.splice(0, n);
  }

  /** The snapshot Raft sends to a follower behind the log's first index. */
  buildSnapshot(): Snapshot {
    const index = this.apply_state.applied_index;
    if (this.#snapshot_cache?.index === index) return this.#snapshot_cache.snap;
    const term = this.engines.raft.term(this.region_id, index);
    const records = this.snapshotRecords();
    const state: raft_serverpb.RegionLocalState = { state: 0, region: this.region };
    const data = encodeSnapshotData(state, records);
    assert(data.length <= MAX_SNAPSHOT_BYTES, `region ${this.region_id} snapshot too large`);
    const voters = this.region.peers.filter((p) => p.role !== 1).map((p) => p.id);
    const learners = this.region.peers.filter((p) => p.role === 1).map((p) => p.id);
    const snap: Snapshot = {
      data,
      metadata: { index, term, conf_state: { nodes: voters, learners } },
    };
    this.#snapshot_cache = { index, snap };
    return snap;
  }

  /** Every data record of the region plus its deduplication table, as stored. */
  snapshotRecords(): SnapshotRecord[] {
    const out: SnapshotRecord[] = [];
    const kv = this.engines.kv;
    const view = kv.snapshot();
    try {
      for (const cf of DATA_CFS) {
        for (
          const [key, value] of view.scan(cf, this.region.start_key, this.region.end_key, Infinity)
        ) {
          out.push({ cf, key, value });
        }
      }
      const floor = readFloor(view, this.region_id);
      out.push({ cf: "raft", key: dedupFloorKey(this.region_id), value: encodeFloor(floor) });
      for (const [lo, hi] of regionRanges(view, this.region, floor)) {
        for (const [key, value] of view.scan("raft", lo, hi, Infinity)) {
          out.push({ cf: "raft", key, value });
        }
      }
    } finally {
      view.close();
    }
    return out;
  }

  /** True when `key` lies in this region's range. */
  containsKey(key: Uint8Array): boolean {
    return inRange(key, this.region.start_key, this.region.end_key);
  }

  /**
   * Counts the region's data keys by walking the key index (values are not
   * read), up to `max_keys`, and estimates bytes from the engine's average
   * record size. Cheap enough to run every few seconds on leaders.
   */
  refreshApproximateSize(max_keys: number, tick = 0): void {
    let keys = 0;
    for (const cf of DATA_CFS) {
      const { start_key, end_key } = this.region;
      keys += this.engines.kv.countKeys(cf, start_key, end_key, max_keys - keys);
      if (keys >= max_keys) break;
    }
    this.#size_counted = { applied_index: this.applied_index, tick };
    const stats = this.engines.kv.stats();
    const avg_record_bytes = stats.keys > 0 ? stats.disk_bytes / stats.keys : 0;
    this.approximate_keys = keys;
    this.approximate_size_bytes = Math.round(keys * avg_record_bytes);
  }

  /**
   * True when a size count at `tick` is worth its walk: something was applied
   * since the last one, and `every_ticks` have passed for each
   * `keys_per_period` keys the region had then (the walk is per key, so big
   * regions count less often; their split decision is approximate anyway).
   */
  sizeCountDue(tick: number, every_ticks: number, keys_per_period: number): boolean {
    const now = { applied_index: this.applied_index, tick, keys: this.approximate_keys };
    return sizeCountDue(this.#size_counted, now, every_ticks, keys_per_period);
  }

  invalidateSnapshotCache(): void {
    this.#snapshot_cache = null;
  }
}

/** When a size count happened: the applied index and tick then. */
export interface SizeCount {
  applied_index: number;
  tick: number;
}

/** See Peer.sizeCountDue; `last` null: never counted. */
export function sizeCountDue(
  last: SizeCount | null,
  now: SizeCount & { keys: number },
  every_ticks: number,
  keys_per_period: number,
): boolean {
  if (last === null) return true;
  if (last.applied_index === now.applied_index) return false;
  const periods = Math.max(1, Math.ceil(now.keys / keys_per_period));
  return now.tick - last.tick >= every_ticks * periods;
}
