/**
 * The leader's step function (after etcd-io/raft's `stepLeader`): proposals,
 * replication responses with flow control and fast backtracking, heartbeats,
 * check-quorum, ReadIndex and leadership transfer.
 * @module
 */
import type { Message } from "@eraft/proto/gen/eraftpb.ts";
import { EntryType, MessageType } from "@eraft/proto/gen/eraftpb.ts";
import { assert } from "./assert.ts";
import { type Progress, ProgressState } from "./progress.ts";
import { VoteResult, voteResult } from "./quorum.ts";
import { ProposalDroppedError, type Raft } from "./raft.ts";
import { newEntry, newMessage, NONE } from "./util.ts";

/** Step function of a leader. */
export function stepLeader(r: Raft, m: Message): ProposalDroppedError | null {
  switch (m.msg_type) {
    case MessageType.MsgBeat:
      r.bcastHeartbeat();
      return null;
    case MessageType.MsgCheckQuorum:
      checkQuorum(r);
      return null;
    case MessageType.MsgPropose:
      return propose(r, m);
    case MessageType.MsgReadIndex:
      readIndex(r, m);
      return null;
  }
  const pr = r.trk.progress.get(m.from);
  if (pr === undefined) return null; // not (or no longer) a member
  switch (m.msg_type) {
    case MessageType.MsgAppendResponse:
      handleAppendResponse(r, m, pr);
      break;
    case MessageType.MsgHeartbeatResponse:
      handleHeartbeatResponse(r, m, pr);
      break;
    case MessageType.MsgSnapStatus:
      if (pr.state !== ProgressState.Snapshot) break;
      if (m.reject) pr.pending_snapshot = 0;
      pr.becomeProbe();
      // Wait for a heartbeat response (or the follower's append response)
      // before probing again.
      pr.msg_app_flow_paused = true;
      break;
    case MessageType.MsgUnreachable:
      // Appends in flight were probably lost.
      if (pr.state === ProgressState.Replicate) pr.becomeProbe();
      break;
    case MessageType.MsgTransferLeader:
      handleTransferLeader(r, m, pr);
      break;
  }
  return null;
}

/** Steps down unless a quorum was heard from during the last election timeout. */
function checkQuorum(r: Raft): void {
  if (!r.trk.quorumActive(r.id)) {
    r.becomeFollower(r.term, NONE);
    return;
  }
  for (const [id, pr] of r.trk.progress) if (id !== r.id) pr.recent_active = false;
}

function propose(r: Raft, m: Message): ProposalDroppedError | null {
  assert(m.entries.length > 0, "stepped an empty proposal");
  if (!r.trk.progress.has(r.id)) {
    return new ProposalDroppedError("the leader was removed from the configuration");
  }
  if (r.lead_transferee !== NONE) {
    return new ProposalDroppedError(`leadership transfer to ${r.lead_transferee} in progress`);
  }
  let pending_conf_index = r.pending_conf_index;
  for (let i = 0; i < m.entries.length; i++) {
    if (m.entries[i].entry_type !== EntryType.EntryConfChange) continue;
    // One membership change at a time: the previous one must be applied.
    if (pending_conf_index > r.raft_log.applied) {
      return new ProposalDroppedError(
        `a conf change is pending (index ${pending_conf_index}, applied ${r.raft_log.applied})`,
      );
    }
    pending_conf_index = r.raft_log.lastIndex() + i + 1;
  }
  r.pending_conf_index = pending_conf_index;
  r.appendEntry(m.entries.map((e) => newEntry({ entry_type: e.entry_type, data: e.data })));
  r.bcastAppend();
  return null;
}

function handleAppendResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recent_active = true;
  if (m.reject) {
    // Fast backtracking: jump to the follower's hint, refined by our own log
    // (the last index whose term is <= the follower's term at the hint).
    let next_probe = m.reject_hint;
    if (m.log_term > 0) next_probe = r.raft_log.findConflictByTerm(m.reject_hint, m.log_term).index;
    if (pr.maybeDecrTo(m.index, next_probe)) {
      if (pr.state === ProgressState.Replicate) pr.becomeProbe();
      r.sendAppend(m.from);
    }
    return;
  }
  const old_paused = pr.isPaused();
  if (!pr.maybeUpdate(m.index)) return;
  if (pr.state === ProgressState.Probe) {
    pr.becomeReplicate();
  } else if (pr.state === ProgressState.Snapshot && pr.match >= pr.pending_snapshot) {
    pr.becomeProbe();
    pr.becomeReplicate();
  } else if (pr.state === ProgressState.Replicate) {
    pr.inflights.freeLE(m.index);
  }
  if (!r.commitAdvanced() && old_paused) {
    r.sendAppend(m.from);
  }
  // Stream more while the window allows (bounded by the window size).
  for (let i = 0; i < r.cfg.max_inflight_msgs; i++) {
    if (!r.trk.progress.has(m.from) || !r.maybeSendAppend(m.from, false)) break;
  }
  if (m.from === r.lead_transferee && pr.match === r.raft_log.lastIndex()) {
    r.sendTimeoutNow(m.from);
  }
}

function handleHeartbeatResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recent_active = true;
  pr.msg_app_flow_paused = false;
  pr.lease_ack_ticks = Math.max(pr.lease_ack_ticks, m.index);
  // Free one slot of a full window so a lost append cannot stall the follower.
  if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirstOne();
  if (pr.match < r.raft_log.lastIndex()) r.sendAppend(m.from);
  if (m.context.byteLength === 0) return;
  const acks = r.read_only.recvAck(m.from, m.context);
  if (acks === null) return;
  const votes = new Map<number, boolean>();
  for (const id of acks) votes.set(id, true);
  if (voteResult(r.trk.voters, votes) !== VoteResult.Won) return;
  for (const rs of r.read_only.advance(m.context)) {
    const resp = responseToReadIndexReq(r, rs.req, rs.index);
    if (resp !== null) r.send(resp);
  }
}

function handleTransferLeader(r: Raft, m: Message, pr: Progress): void {
  if (pr.is_learner) return; // a learner cannot lead
  const transferee = m.from;
  if (r.lead_transferee !== NONE) {
    if (r.lead_transferee === transferee) return; // already in progress
    r.abortLeaderTransfer();
  }
  if (transferee === r.id) return; // already leader
  // The transfer must finish within one election timeout.
  r.election_elapsed_ticks = 0;
  r.lead_transferee = transferee;
  if (pr.match === r.raft_log.lastIndex()) r.sendTimeoutNow(transferee);
  else r.sendAppend(transferee);
}

function readIndex(r: Raft, m: Message): void {
  assert(m.context.byteLength > 0, "a read index request needs a context");
  // A valid lease (or being the only voter) needs no round trip.
  const lease_index = r.trk.isSingleton() ? r.raft_log.committed : r.leaseReadIndex();
  if (lease_index !== null) {
    const resp = responseToReadIndexReq(r, m, lease_index);
    if (resp !== null) r.send(resp);
    return;
  }
  // §8: the leader must know the commit index of its term first.
  if (!r.committedEntryInCurrentTerm()) {
    r.queuePendingReadIndex(m);
    return;
  }
  // Safe reads, and lease-based ones without a valid lease: a heartbeat round.
  if (!r.read_only.addRequest(r.raft_log.committed, m)) return;
  r.read_only.recvAck(r.id, m.context);
  r.bcastHeartbeatWithCtx(m.context);
}

/** A local read becomes a ReadState; a forwarded one a MsgReadIndexResp. */
function responseToReadIndexReq(r: Raft, req: Message, read_index: number): Message | null {
  if (req.from === NONE || req.from === r.id) {
    r.read_states.push({ index: read_index, request_ctx: req.context });
    return null;
  }
  return newMessage({
    msg_type: MessageType.MsgReadIndexResp,
    to: req.from,
    index: read_index,
    context: req.context,
  });
}
