/**
 * The Raft state machine (after etcd-io/raft's `raft.go`). Pure: it reacts to
 * `step(message)` and `tick()` by changing state and queueing messages in
 * `msgs`; `RawNode` turns that into Ready/Advance. One step function per role
 * lives in raft_leader.ts and raft_follower.ts.
 *
 * Invariants asserted here: the term never decreases; a node votes at most
 * once per term; commit never decreases nor passes the last index (log.ts);
 * applied <= committed (log.ts).
 * @module
 */
import type { ConfChange, ConfState, Entry, HardState, Message } from "@eraft/proto/gen/eraftpb.ts";
import { EntryType, MessageType } from "@eraft/proto/gen/eraftpb.ts";
import { assert } from "./assert.ts";
import { type Config, validateConfig, type ValidConfig } from "./config.ts";
import { NO_LIMIT_BYTES, RaftLog } from "./log.ts";
import type { Progress } from "./progress.ts";
import { quorumValue, VoteResult } from "./quorum.ts";
import { ReadOnly, ReadOnlyOption } from "./read_only.ts";
import { stepCandidate, stepFollower } from "./raft_follower.ts";
import { stepLeader } from "./raft_leader.ts";
import { applyConfChange } from "./raft_conf.ts";
import { ProgressTracker } from "./tracker.ts";
import {
  bytesEqual,
  entriesSizeBytes,
  isEmptySnap,
  newEntry,
  newMessage,
  NONE,
  snapConfState,
  snapIndex,
  snapTerm,
  voteRespMsgType,
} from "./util.ts";
import type { Snapshot } from "@eraft/proto/gen/eraftpb.ts";

/** The role of a node. */
export const StateType = { Follower: 0, Candidate: 1, Leader: 2, PreCandidate: 3 } as const;
/** See {@link StateType}. */
export type StateType = typeof StateType[keyof typeof StateType];

/** Context of a vote request sent on a leadership transfer: it bypasses the leader lease. */
export const CAMPAIGN_TRANSFER: Uint8Array = new Uint8Array([
  0x43,
  0x61,
  0x6d,
  0x70,
  0x61,
  0x69,
  0x67,
  0x6e, // "Campaign"
  0x54,
  0x72,
  0x61,
  0x6e,
  0x73,
  0x66,
  0x65,
  0x72, // "Transfer"
]);

/** A linearizable read point: reads may be served once `index` is applied. */
export interface ReadState {
  index: number;
  request_ctx: Uint8Array;
}

/** An expected failure of a proposal (typed value, not an assertion). */
export class ProposalDroppedError extends Error {
  constructor(readonly reason: string) {
    super(`raft proposal dropped: ${reason}`);
    this.name = "ProposalDroppedError";
  }
}

/** Kinds of election. */
export type CampaignType = "pre_election" | "election" | "transfer";

type StepFn = (r: Raft, m: Message) => ProposalDroppedError | null;

/** Ticks of the lease given up for clock drift between nodes. */
export const LEASE_MARGIN_TICKS = 1;

/** Bound on pending read requests queued before the first commit of a term. */
const MAX_PENDING_READ_INDEX_MESSAGES = 4096;

/** One Raft peer. Fields are public so tests and RawNode can inspect them. */
export class Raft {
  readonly id: number;
  term = 0;
  vote = NONE;
  read_states: ReadState[] = [];
  readonly raft_log: RaftLog;
  readonly trk: ProgressTracker;
  state: StateType = StateType.Follower;
  is_learner = false;
  /** Messages to send, drained by RawNode.ready(). */
  msgs: Message[] = [];
  lead = NONE;
  lead_transferee = NONE;
  /** Index of the last conf change proposed; another waits until it is applied. */
  pending_conf_index = 0;
  read_only: ReadOnly;
  pending_read_index_messages: Message[] = [];
  election_elapsed_ticks = 0;
  heartbeat_elapsed_ticks = 0;
  randomized_election_timeout_ticks = 0;
  /** Ticks since this node became leader (stamped on heartbeats for the lease). */
  leader_ticks = 0;
  /** Set once this leader sent MsgTimeoutNow: lease reads stay off for the term. */
  lease_revoked = false;
  readonly cfg: ValidConfig;
  private step_fn: StepFn = stepFollower;
  private tick_fn: () => void = () => this.tickElection();
  /** Ticks since this node was created (see Config.refuse_votes_at_start). */
  private ticks_since_start = 0;

  constructor(config: Config) {
    this.cfg = validateConfig(config);
    this.id = this.cfg.id;
    this.raft_log = new RaftLog(
      this.cfg.storage,
      this.cfg.max_committed_size_per_ready_bytes,
      this.cfg.async_storage_writes,
    );
    this.trk = new ProgressTracker(this.cfg.max_inflight_msgs, this.cfg.max_inflight_bytes);
    this.read_only = new ReadOnly(this.cfg.read_only_option);
    const { hard_state, conf_state } = this.cfg.storage.initialState();
    this.trk.reset(conf_state, this.raft_log.lastIndex() + 1);
    this.is_learner = this.trk.learners.includes(this.id);
    if (hard_state.term !== 0 || hard_state.vote !== NONE || hard_state.commit !== 0) {
      this.loadState(hard_state);
    }
    if (this.cfg.applied > 0) this.raft_log.appliedTo(this.cfg.applied);
    this.becomeFollower(this.term, NONE);
  }

  /** The state to persist. */
  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raft_log.committed };
  }

  private loadState(hs: HardState): void {
    assert(
      hs.commit >= this.raft_log.committed && hs.commit <= this.raft_log.lastIndex(),
      () =>
        `${this.id} state.commit ${hs.commit} is out of range [${this.raft_log.committed}, ${this.raft_log.lastIndex()}]`,
    );
    this.raft_log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  /** Advances logical time by one tick. */
  tick(): void {
    this.ticks_since_start++;
    this.tick_fn();
  }

  // ---- sending -------------------------------------------------------------

  /** Queues a message; stamps `from` and (for non-vote messages) the term. */
  send(m: Message): void {
    if (m.from === NONE) m.from = this.id;
    const t = m.msg_type;
    if (
      t === MessageType.MsgRequestVote || t === MessageType.MsgRequestVoteResponse ||
      t === MessageType.MsgRequestPreVote || t === MessageType.MsgRequestPreVoteResponse
    ) {
      assert(m.term !== 0, () => `term should be set when sending vote message type ${t}`);
    } else {
      assert(m.term === 0, () => `term should not be set when sending type ${t} (was ${m.term})`);
      // Proposals and read requests are forwarded as local messages.
      if (t !== MessageType.MsgPropose && t !== MessageType.MsgReadIndex) m.term = this.term;
    }
    assert(m.to !== this.id, "a node never sends a message to itself");
    this.msgs.push(m);
  }

  /** Sends an append (possibly empty) or a snapshot to `to`. */
  sendAppend(to: number): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * Sends the entries `to` misses, unless its progress is paused. With
   * `send_if_empty` false, an append with no entries is not sent. Returns
   * true if a message was sent.
   */
  maybeSendAppend(to: number, send_if_empty: boolean): boolean {
    const pr = this.trk.progress.get(to);
    assert(pr !== undefined, () => `no progress for ${to}`);
    if (pr.isPaused()) return false;
    const prev_index = pr.next - 1;
    assert(prev_index <= this.raft_log.lastIndex(), "progress next past the leader's log");
    const prev_term = this.raft_log.term(prev_index);
    const ents = prev_term === null
      ? null
      : this.raft_log.entries(pr.next, this.cfg.max_size_per_msg_bytes);
    if (prev_term === null || ents === null) return this.maybeSendSnapshot(to, pr);
    if (ents.length === 0 && !send_if_empty) return false;
    this.send(newMessage({
      msg_type: MessageType.MsgAppend,
      to,
      index: prev_index,
      log_term: prev_term,
      entries: ents,
      commit: this.raft_log.committed,
    }));
    if (ents.length > 0) {
      pr.sentEntries(ents[ents.length - 1].index, ents.length, entriesSizeBytes(ents));
    }
    return true;
  }

  private maybeSendSnapshot(to: number, pr: Progress): boolean {
    if (!pr.recent_active) return false;
    const snap = this.raft_log.snapshot();
    assert(!isEmptySnap(snap), "need a non-empty snapshot to catch up a follower");
    pr.becomeSnapshot(snapIndex(snap));
    this.send(newMessage({ msg_type: MessageType.MsgSnapshot, to, snapshot: snap }));
    return true;
  }

  /** Sends a heartbeat carrying the commit index the follower can safely use. */
  sendHeartbeat(to: number, context: Uint8Array): void {
    const pr = this.trk.progress.get(to);
    assert(pr !== undefined, () => `no progress for ${to}`);
    const commit = Math.min(pr.match, this.raft_log.committed);
    // `index` carries the leader's tick count; the follower echoes it, which
    // dates its promise not to vote for another leader (lease reads).
    this.send(newMessage({
      msg_type: MessageType.MsgHeartbeat,
      to,
      commit,
      context,
      index: this.leader_ticks,
    }));
  }

  /** Sends appends to every other member. */
  bcastAppend(send_if_empty = true): void {
    for (const id of this.trk.memberIds()) {
      if (id !== this.id) this.maybeSendAppend(id, send_if_empty);
    }
  }

  /** Heartbeats every other member (with the newest pending read context). */
  bcastHeartbeat(): void {
    this.bcastHeartbeatWithCtx(this.read_only.lastPendingRequestCtx() ?? new Uint8Array(0));
  }

  /** Heartbeats every other member with `context`. */
  bcastHeartbeatWithCtx(context: Uint8Array): void {
    for (const id of this.trk.memberIds()) if (id !== this.id) this.sendHeartbeat(id, context);
  }

  /** Sends MsgTimeoutNow: `to` campaigns at once (leadership transfer). */
  sendTimeoutNow(to: number): void {
    // `to` will campaign past every follower's lease: ours is void from now on.
    this.lease_revoked = true;
    this.send(newMessage({ msg_type: MessageType.MsgTimeoutNow, to }));
  }

  // ---- log -----------------------------------------------------------------

  /**
   * Leader: appends entries stamped with the current term and counts its own
   * ack — at once, or with async_storage_writes once they are durable
   * (`persisted`).
   */
  appendEntry(es: readonly Entry[]): void {
    const li = this.raft_log.lastIndex();
    const ents = es.map((e, i) => newEntry({ ...e, term: this.term, index: li + 1 + i }));
    this.raft_log.append(ents);
    if (this.cfg.async_storage_writes) return;
    this.trk.progress.get(this.id)?.maybeUpdate(this.raft_log.lastIndex());
    this.maybeCommit();
  }

  /**
   * The host made this node's log durable up to (index, term) (with
   * async_storage_writes). A leader counts it as its own ack, which may
   * commit entries.
   */
  persisted(index: number, term: number): void {
    assert(this.cfg.async_storage_writes, "persisted() needs async_storage_writes");
    this.raft_log.persistedTo(index, term);
    if (this.state !== StateType.Leader) return;
    const self = this.trk.progress.get(this.id);
    if (self === undefined || !self.maybeUpdate(this.ownMatch())) return;
    this.commitAdvanced();
  }

  /** The log's own entries this node may count as acknowledged: durable ones, or all. */
  ownMatch(): number {
    const last = this.raft_log.lastIndex();
    return this.cfg.async_storage_writes ? Math.min(last, this.raft_log.durable) : last;
  }

  /**
   * Leader: commits what the quorum now holds; if the index moved, releases
   * read-index requests that waited for it and tells the followers.
   */
  commitAdvanced(): boolean {
    const old_commit = this.raft_log.committed;
    if (!this.maybeCommit()) return false;
    this.releasePendingReadIndexMessages();
    // A committed configuration change reaches every follower at once, even
    // without broadcast_commit: a follower it removes gets no more heartbeats
    // and would otherwise never learn of (and apply) its own removal.
    const conf_committed = this.pending_conf_index > old_commit &&
      this.pending_conf_index <= this.raft_log.committed;
    this.bcastAppend(this.cfg.broadcast_commit || conf_committed);
    return true;
  }

  /** Leader: commits the quorum index if it is from the current term (§5.4.2). */
  maybeCommit(): boolean {
    const mci = Math.min(this.trk.committed(), this.raft_log.lastIndex());
    return this.raft_log.maybeCommit(mci, this.term);
  }

  /** True if the commit index points at an entry of the current term. */
  committedEntryInCurrentTerm(): boolean {
    return this.raft_log.term(this.raft_log.committed) === this.term;
  }

  // ---- roles ---------------------------------------------------------------

  private reset(term: number): void {
    if (term !== this.term) {
      assert(term > this.term, () => `term must never decrease (${this.term} -> ${term})`);
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.election_elapsed_ticks = 0;
    this.heartbeat_elapsed_ticks = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.trk.resetVotes();
    const last = this.raft_log.lastIndex();
    this.trk.reset(this.trk.confState(), last + 1);
    this.trk.progress.get(this.id)?.maybeUpdate(this.ownMatch());
    this.pending_conf_index = 0;
    this.read_only = new ReadOnly(this.cfg.read_only_option);
    this.pending_read_index_messages = [];
  }

  /** Becomes a follower of `lead` (NONE if unknown) in `term`. */
  becomeFollower(term: number, lead: number): void {
    this.step_fn = stepFollower;
    this.reset(term);
    this.tick_fn = () => this.tickElection();
    this.lead = lead;
    this.state = StateType.Follower;
  }

  /** Starts an election: new term, votes for itself. */
  becomeCandidate(): void {
    assert(this.state !== StateType.Leader, "invalid transition [leader -> candidate]");
    this.step_fn = stepCandidate;
    this.reset(this.term + 1);
    this.tick_fn = () => this.tickElection();
    this.setVote(this.id);
    this.state = StateType.Candidate;
  }

  /** Starts a pre-vote round: neither term nor vote change. */
  becomePreCandidate(): void {
    assert(this.state !== StateType.Leader, "invalid transition [leader -> pre-candidate]");
    this.step_fn = stepCandidate;
    this.trk.resetVotes();
    this.tick_fn = () => this.tickElection();
    this.lead = NONE;
    this.state = StateType.PreCandidate;
  }

  /** Won the election: replicate, append an empty entry of the new term. */
  becomeLeader(): void {
    assert(this.state !== StateType.Follower, "invalid transition [follower -> leader]");
    this.step_fn = stepLeader;
    this.reset(this.term);
    this.tick_fn = () => this.tickHeartbeat();
    this.leader_ticks = 0;
    this.lease_revoked = false;
    this.lead = this.id;
    this.state = StateType.Leader;
    const pr = this.trk.progress.get(this.id);
    assert(pr !== undefined, "a leader must be in its configuration");
    pr.becomeReplicate();
    pr.recent_active = true;
    this.appendEntry([newEntry({})]);
    // No conf change until this term's first entry is applied (the fix for the
    // single-server membership change bug of Ongaro's thesis).
    this.pending_conf_index = this.raft_log.lastIndex();
  }

  /** Records our vote; asserts one vote per term. */
  setVote(id: number): void {
    assert(
      this.vote === NONE || this.vote === id,
      () => `${this.id} voted twice in term ${this.term} (${this.vote}, then ${id})`,
    );
    this.vote = id;
  }

  private resetRandomizedElectionTimeout(): void {
    const t = this.cfg.election_timeout_ticks;
    this.randomized_election_timeout_ticks = t + this.cfg.rng.intBelow(t);
  }

  /** True once the randomised election timeout elapsed. */
  pastElectionTimeout(): boolean {
    return this.election_elapsed_ticks >= this.randomized_election_timeout_ticks;
  }

  /** True if this node may campaign: a voter not waiting on a snapshot. */
  promotable(): boolean {
    return this.trk.isVoter(this.id) && this.raft_log.unstable.snapshot === null;
  }

  private tickElection(): void {
    this.election_elapsed_ticks++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.election_elapsed_ticks = 0;
      this.step(newMessage({ msg_type: MessageType.MsgHup, from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.leader_ticks++;
    this.heartbeat_elapsed_ticks++;
    this.election_elapsed_ticks++;
    if (this.election_elapsed_ticks >= this.cfg.election_timeout_ticks) {
      this.election_elapsed_ticks = 0;
      if (this.cfg.check_quorum) {
        this.step(newMessage({ msg_type: MessageType.MsgCheckQuorum, from: this.id }));
      }
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.state === StateType.Leader && this.lead_transferee !== NONE) {
        this.abortLeaderTransfer();
      }
    }
    if (this.state !== StateType.Leader) return;
    if (this.heartbeat_elapsed_ticks >= this.cfg.heartbeat_timeout_ticks) {
      this.heartbeat_elapsed_ticks = 0;
      this.step(newMessage({ msg_type: MessageType.MsgBeat, from: this.id }));
    }
  }

  /** Forgets an ongoing leadership transfer. */
  abortLeaderTransfer(): void {
    this.lead_transferee = NONE;
  }

  // ---- elections -----------------------------------------------------------

  /** Starts an election of kind `t` if allowed. */
  hup(t: CampaignType): void {
    if (this.state === StateType.Leader) return;
    if (!this.promotable()) return;
    if (this.hasUnappliedConfChanges()) return;
    this.campaign(t);
  }

  private hasUnappliedConfChanges(): boolean {
    const log = this.raft_log;
    if (log.applied >= log.committed) return false;
    const lo = Math.max(log.applied + 1, log.firstIndex());
    const ents = log.slice(lo, log.committed + 1, NO_LIMIT_BYTES) ?? [];
    return ents.some((e) => e.entry_type === EntryType.EntryConfChange);
  }

  /** Campaigns: sends (pre-)vote requests to every voter. */
  campaign(t: CampaignType): void {
    let term: number;
    let vote_msg: MessageType;
    if (t === "pre_election") {
      this.becomePreCandidate();
      vote_msg = MessageType.MsgRequestPreVote;
      term = this.term + 1; // the term we would use; not adopted yet
    } else {
      this.becomeCandidate();
      vote_msg = MessageType.MsgRequestVote;
      term = this.term;
    }
    if (this.poll(this.id, voteRespMsgType(vote_msg), true) === VoteResult.Won) {
      // Single voter: won at once.
      if (t === "pre_election") this.campaign("election");
      else this.becomeLeader();
      return;
    }
    const context = t === "transfer" ? CAMPAIGN_TRANSFER : new Uint8Array(0);
    for (const id of this.trk.voters) {
      if (id === this.id) continue;
      this.send(newMessage({
        msg_type: vote_msg,
        to: id,
        term,
        index: this.raft_log.lastIndex(),
        log_term: this.raft_log.lastTerm(),
        context,
      }));
    }
  }

  /** Records a vote and returns the tally's result. */
  poll(id: number, _t: MessageType, granted: boolean): VoteResult {
    this.trk.recordVote(id, granted);
    return this.trk.tallyVotes().result;
  }

  // ---- step ----------------------------------------------------------------

  /**
   * Handles one message: term bookkeeping common to all roles (§5.1), votes
   * (§5.2, §5.4.1, pre-vote, lease), then the role's step function.
   */
  step(m: Message): ProposalDroppedError | null {
    if (m.term > this.term) {
      if (!this.stepHigherTerm(m)) return null;
    } else if (m.term !== 0 && m.term < this.term) {
      this.stepLowerTerm(m);
      return null;
    }
    switch (m.msg_type) {
      case MessageType.MsgHup:
        this.hup(this.cfg.pre_vote ? "pre_election" : "election");
        return null;
      case MessageType.MsgRequestVote:
      case MessageType.MsgRequestPreVote:
        this.handleVoteRequest(m);
        return null;
      default:
        return this.step_fn(this, m);
    }
  }

  /** A message from a higher term. Returns false if it must be ignored. */
  private stepHigherTerm(m: Message): boolean {
    const t = m.msg_type;
    if (t === MessageType.MsgRequestVote || t === MessageType.MsgRequestPreVote) {
      const force = bytesEqual(m.context, CAMPAIGN_TRANSFER);
      const quiet_start = this.cfg.refuse_votes_at_start &&
        this.ticks_since_start < this.cfg.election_timeout_ticks;
      const in_lease = this.cfg.check_quorum && (this.lead !== NONE || quiet_start) &&
        this.election_elapsed_ticks < this.cfg.election_timeout_ticks;
      // §6 (disruptive servers): ignore a vote while we believe a leader is alive.
      if (!force && in_lease) return false;
    }
    if (t === MessageType.MsgRequestPreVote) return true; // never change term for a pre-vote
    if (t === MessageType.MsgRequestPreVoteResponse && !m.reject) {
      return true; // the term is adopted when the pre-vote wins
    }
    const from_leader = t === MessageType.MsgAppend || t === MessageType.MsgHeartbeat ||
      t === MessageType.MsgSnapshot;
    this.becomeFollower(m.term, from_leader ? m.from : NONE);
    return true;
  }

  /** A message from a lower term: mostly ignored, sometimes answered. */
  private stepLowerTerm(m: Message): void {
    const t = m.msg_type;
    if (
      (this.cfg.check_quorum || this.cfg.pre_vote) &&
      (t === MessageType.MsgHeartbeat || t === MessageType.MsgAppend)
    ) {
      // A stale leader (e.g. behind a partition) learns our term and steps
      // down; without this, check-quorum/pre-vote could leave it stuck.
      this.send(newMessage({ msg_type: MessageType.MsgAppendResponse, to: m.from }));
    } else if (t === MessageType.MsgRequestPreVote || t === MessageType.MsgRequestVote) {
      // §5.1: a stale candidate is refused with our term "for candidate to
      // update itself". Ignoring it (etcd does, without pre-vote) can leave
      // it a term behind for good: a voter campaigning with a stale
      // configuration never messages it, and it never wins (sim seed 527357).
      this.send(newMessage({
        msg_type: voteRespMsgType(t),
        to: m.from,
        term: this.term,
        reject: true,
      }));
    }
  }

  /** §5.2/§5.4.1: grant at most one vote per term, only to an up-to-date log. */
  private handleVoteRequest(m: Message): void {
    const pre = m.msg_type === MessageType.MsgRequestPreVote;
    const can_vote = this.vote === m.from ||
      (this.vote === NONE && this.lead === NONE) ||
      (pre && m.term > this.term);
    const resp_type = voteRespMsgType(m.msg_type);
    if (can_vote && this.raft_log.isUpToDate(m.index, m.log_term)) {
      this.send(newMessage({ msg_type: resp_type, to: m.from, term: m.term }));
      if (!pre) {
        this.election_elapsed_ticks = 0;
        this.setVote(m.from);
      }
    } else {
      this.send(newMessage({ msg_type: resp_type, to: m.from, term: this.term, reject: true }));
    }
  }

  // ---- snapshots and membership --------------------------------------------

  /**
   * Installs a leader's snapshot if it is ahead of our commit index. Returns
   * false when ignored (old, or our log already has its last entry).
   */
  restore(snap: Snapshot): boolean {
    const index = snapIndex(snap);
    if (index <= this.raft_log.committed) return false;
    assert(this.state === StateType.Follower, "only a follower installs a snapshot");
    if (this.raft_log.matchTerm(index, snapTerm(snap))) {
      // Our log has it: fast-forward the commit index instead.
      this.raft_log.commitTo(index);
      return false;
    }
    this.raft_log.restore(snap);
    const last = this.raft_log.lastIndex();
    this.trk.reset(snapConfState(snap), last + 1);
    this.trk.progress.get(this.id)?.maybeUpdate(this.ownMatch());
    this.is_learner = this.trk.learners.includes(this.id);
    return true;
  }

  /**
   * Applies a committed single-step membership change and returns the new
   * membership (see raft_conf.ts).
   */
  applyConfChange(cc: ConfChange): ConfState {
    return applyConfChange(this, cc);
  }

  /**
   * Lease reads: true while a quorum of voters acknowledged a heartbeat sent
   * less than `election_timeout_ticks - LEASE_MARGIN_TICKS` ticks ago. Each
   * such voter refuses votes (check_quorum) for an election timeout after it,
   * so no other leader can exist yet — assuming ticks advance at the same
   * rate everywhere (bounded clock drift) and a restarted node stays down for
   * an election timeout. Off after a transfer started (MsgTimeoutNow).
   */
  hasLease(): boolean {
    if (this.state !== StateType.Leader || this.lease_revoked || !this.cfg.check_quorum) {
      return false;
    }
    const acked = quorumValue(
      this.trk.voters,
      (id) =>
        id === this.id ? this.leader_ticks : (this.trk.progress.get(id)?.lease_ack_ticks ?? -1),
    );
    return acked >= 0 &&
      this.leader_ticks < acked + this.cfg.election_timeout_ticks - LEASE_MARGIN_TICKS;
  }

  /**
   * The index a read may be served at right now with no message exchanged:
   * the commit index, when this leader has committed an entry of its term and
   * holds a valid lease (lease-based reads) or is the only voter. The caller
   * serves the read once it has applied up to it — what a lease-based
   * MsgReadIndex would conclude, without waiting for a Ready. Null otherwise:
   * the read goes through MsgReadIndex (§8).
   */
  leaseReadIndex(): number | null {
    if (this.state !== StateType.Leader || !this.committedEntryInCurrentTerm()) return null;
    if (this.trk.isSingleton()) return this.raft_log.committed;
    if (this.read_only.option !== ReadOnlyOption.LeaseBased || !this.hasLease()) return null;
    return this.raft_log.committed;
  }

  /** Releases reads queued before the leader committed an entry of its term. */
  releasePendingReadIndexMessages(): void {
    if (!this.committedEntryInCurrentTerm()) return;
    const msgs = this.pending_read_index_messages;
    this.pending_read_index_messages = [];
    for (const m of msgs) this.step_fn(this, m);
  }

  /** Queues a read until the leader has committed an entry of its term. */
  queuePendingReadIndex(m: Message): void {
    if (this.pending_read_index_messages.length < MAX_PENDING_READ_INDEX_MESSAGES) {
      this.pending_read_index_messages.push(m);
    }
  }
}
