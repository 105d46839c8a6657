/**
 * Configuration of one Raft node. Every knob names its unit; `validateConfig`
 * fills defaults and asserts the relations between them.
 * @module
 */
import { assert } from "./assert.ts";
import { NO_LIMIT_BYTES } from "./log.ts";
import type { Rng } from "./prng.ts";
import { ReadOnlyOption } from "./read_only.ts";
import type { Storage } from "./storage.ts";

/** Settings of a Raft node; see each field. */
export interface Config {
  /** This node's id (non-zero). */
  id: number;
  /** Ticks a follower waits without hearing a leader before campaigning (randomised in [T, 2T)). */
  election_timeout_ticks?: number;
  /** Ticks between leader heartbeats; must be < election_timeout_ticks. */
  heartbeat_timeout_ticks?: number;
  /** The node's persisted log. */
  storage: Storage;
  /** Index the state machine has already applied (on restart). */
  applied?: number;
  /** Max entry bytes in one append message (at least one entry is always sent). */
  max_size_per_msg_bytes?: number;
  /** Max entry bytes handed out as committed entries in one Ready. */
  max_committed_size_per_ready_bytes?: number;
  /** Flow-control window: max appends in flight to one follower in Replicate state. */
  max_inflight_msgs?: number;
  /** Flow-control window in bytes (0 = only the message count limits). */
  max_inflight_bytes?: number;
  /** A leader steps down when it has not heard from a quorum for an election timeout. */
  check_quorum?: boolean;
  /** Run a pre-vote round before bumping the term (Raft thesis §9.6). */
  pre_vote?: boolean;
  /** How ReadIndex requests are confirmed; LeaseBased needs check_quorum. */
  read_only_option?: ReadOnlyOption;
  /** Followers drop proposals instead of forwarding them to the leader. */
  disable_proposal_forwarding?: boolean;
  /**
   * Refuse votes for the first election timeout after this node starts, as if
   * it had just heard from a leader (needs check_quorum). A voter that crashed
   * and restarted at once has forgotten the lease it granted; without this, a
   * lease-based leader could still serve reads while a new leader is elected
   * with that voter's help. Set it for replicas recovered from disk.
   */
  refuse_votes_at_start?: boolean;
  /**
   * When the leader's commit index advances, send every follower an append at
   * once, empty if need be, to tell it (etcd's behaviour; the default). When
   * false, only followers with entries to receive get an append then; the
   * others learn the new commit index from their next append or heartbeat
   * (within heartbeat_timeout_ticks); a committed configuration change still
   * goes to every follower at once. Nothing waits on followers applying
   * sooner where reads go to the leader, and each empty append wakes a
   * follower for nothing.
   */
  broadcast_commit?: boolean;
  /**
   * The host makes appended entries durable after it has moved on (etcd-io/raft's
   * AsyncStorageWrites, in Ready/Advance form): `advance()` only says the
   * entries are written and readable, and the host reports durability later
   * with `RawNode.persisted(index, term)`. Then a leader counts its own log
   * toward a commit only up to its durable index, and committed entries are
   * handed out to apply only up to it (Raft thesis §10.2.1: the leader writes
   * its log in parallel with replicating it). The host still holds every
   * message that answers for the log or the vote (what a follower or candidate
   * sends) until the writes before it are durable. Default false: `advance()`
   * means durable.
   */
  async_storage_writes?: boolean;
  /** Seeded randomness for election timeouts (never Math.random). */
  rng: Rng;
}

/** A Config with every default filled in. */
export type ValidConfig = Required<Config>;

/** Fills defaults and asserts the configuration is coherent. */
export function validateConfig(c: Config): ValidConfig {
  const v: ValidConfig = {
    id: c.id,
    election_timeout_ticks: c.election_timeout_ticks ?? 10,
    heartbeat_timeout_ticks: c.heartbeat_timeout_ticks ?? 1,
    storage: c.storage,
    applied: c.applied ?? 0,
    max_size_per_msg_bytes: c.max_size_per_msg_bytes ?? 1024 * 1024,
    max_committed_size_per_ready_bytes: c.max_committed_size_per_ready_bytes ?? NO_LIMIT_BYTES,
    max_inflight_msgs: c.max_inflight_msgs ?? 256,
    max_inflight_bytes: c.max_inflight_bytes ?? 0,
    check_quorum: c.check_quorum ?? false,
    pre_vote: c.pre_vote ?? false,
    read_only_option: c.read_only_option ?? ReadOnlyOption.Safe,
    disable_proposal_forwarding: c.disable_proposal_forwarding ?? false,
    refuse_votes_at_start: c.refuse_votes_at_start ?? false,
    broadcast_commit: c.broadcast_commit ?? true,
    async_storage_writes: c.async_storage_writes ?? false,
    rng: c.rng,
  };
  assert(Number.isSafeInteger(v.id) && v.id > 0, "config: id must be a positive integer");
  assert(v.heartbeat_timeout_ticks > 0, "config: heartbeat_timeout_ticks must be > 0");
  assert(
    v.election_timeout_ticks > v.heartbeat_timeout_ticks,
    "config: election_timeout_ticks must be > heartbeat_timeout_ticks",
  );
  assert(v.max_inflight_msgs > 0, "config: max_inflight_msgs must be > 0");
  assert(v.max_size_per_msg_bytes > 0, "config: max_size_per_msg_bytes must be > 0");
  assert(v.applied >= 0, "config: applied must be >= 0");
  assert(
    v.read_only_option !== ReadOnlyOption.LeaseBased || v.check_quorum,
    "config: read_only_option LeaseBased requires check_quorum",
  );
  assert(v.rng !== undefined, "config: rng is required");
  return v;
}
