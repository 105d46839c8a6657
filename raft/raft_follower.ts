/**
 * Step functions of followers and (pre-)candidates, and the follower's
 * handling of appends, heartbeats and snapshots (after etcd-io/raft).
 * @module
 */
import type { Message } from "@eraft/proto/gen/eraftpb.ts";
import { MessageType } from "@eraft/proto/gen/eraftpb.ts";
import { VoteResult } from "./quorum.ts";
import { ProposalDroppedError, type Raft, StateType } from "./raft.ts";
import { newMessage, NONE, snapIndex } from "./util.ts";

/** Step function of a follower. */
export function stepFollower(r: Raft, m: Message): ProposalDroppedError | null {
  switch (m.msg_type) {
    case MessageType.MsgPropose:
      if (r.lead === NONE) return new ProposalDroppedError("no leader");
      if (r.cfg.disable_proposal_forwarding) {
        return new ProposalDroppedError("proposal forwarding is disabled");
      }
      r.send({ ...m, to: r.lead });
      return null;
    case MessageType.MsgAppend:
      r.election_elapsed_ticks = 0;
      r.lead = m.from;
      handleAppendEntries(r, m);
      return null;
    case MessageType.MsgHeartbeat:
      r.election_elapsed_ticks = 0;
      r.lead = m.from;
      handleHeartbeat(r, m);
      return null;
    case MessageType.MsgSnapshot:
      r.election_elapsed_ticks = 0;
      r.lead = m.from;
      handleSnapshot(r, m);
      return null;
    case MessageType.MsgTransferLeader:
      if (r.lead !== NONE) r.send({ ...m, to: r.lead, term: 0 });
      return null;
    case MessageType.MsgTimeoutNow:
      // Leadership transfer: campaign at once, skipping pre-vote and the lease.
      r.hup("transfer");
      return null;
    case MessageType.MsgReadIndex:
      if (r.lead !== NONE) r.send({ ...m, to: r.lead });
      return null;
    case MessageType.MsgReadIndexResp:
      r.read_states.push({ index: m.index, request_ctx: m.context });
      return null;
  }
  return null;
}

/** Step function of a candidate and a pre-candidate. */
export function stepCandidate(r: Raft, m: Message): ProposalDroppedError | null {
  const my_vote_resp = r.state === StateType.PreCandidate
    ? MessageType.MsgRequestPreVoteResponse
    : MessageType.MsgRequestVoteResponse;
  switch (m.msg_type) {
    case MessageType.MsgPropose:
      return new ProposalDroppedError("no leader (election in progress)");
    case MessageType.MsgAppend:
      r.becomeFollower(m.term, m.from); // §5.2: a leader of our term exists
      handleAppendEntries(r, m);
      return null;
    case MessageType.MsgHeartbeat:
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return null;
    case MessageType.MsgSnapshot:
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return null;
    case my_vote_resp: {
      const result = r.poll(m.from, m.msg_type, !m.reject);
      if (result === VoteResult.Won) {
        if (r.state === StateType.PreCandidate) {
          r.campaign("election");
        } else {
          r.becomeLeader();
          r.bcastAppend();
        }
      } else if (result === VoteResult.Lost) {
        // A rejection from a higher term already made us a follower in step().
        r.becomeFollower(r.term, NONE);
      }
      return null;
    }
  }
  return null;
}

/** §5.3: accept entries after a matching (index, log_term), else reject with a hint. */
export function handleAppendEntries(r: Raft, m: Message): void {
  const log = r.raft_log;
  if (m.index < log.committed) {
    r.send(
      newMessage({ msg_type: MessageType.MsgAppendResponse, to: m.from, index: log.committed }),
    );
    return;
  }
  const last_new_index = log.maybeAppend(m.index, m.log_term, m.commit, m.entries);
  if (last_new_index !== null) {
    r.send(
      newMessage({ msg_type: MessageType.MsgAppendResponse, to: m.from, index: last_new_index }),
    );
    return;
  }
  // Fast backtracking: the last index whose term is <= the leader's term at
  // m.index lets the leader skip a whole conflicting term per round trip.
  const hint = log.findConflictByTerm(Math.min(m.index, log.lastIndex()), m.log_term);
  r.send(newMessage({
    msg_type: MessageType.MsgAppendResponse,
    to: m.from,
    index: m.index,
    reject: true,
    reject_hint: hint.index,
    log_term: hint.term,
  }));
}

/**
 * Heartbeats carry a commit index the leader knows we can reach. The answer
 * echoes the heartbeat's `index` (the leader's tick count when it sent it):
 * that is the tick the leader's read lease runs from.
 */
export function handleHeartbeat(r: Raft, m: Message): void {
  r.raft_log.commitTo(m.commit);
  r.send(
    newMessage({
      msg_type: MessageType.MsgHeartbeatResponse,
      to: m.from,
      context: m.context,
      index: m.index,
    }),
  );
}

/** §7: install the leader's snapshot, answering with our new last index. */
export function handleSnapshot(r: Raft, m: Message): void {
  const snap = m.snapshot;
  const restored = snap !== null && snap !== undefined && snapIndex(snap) > 0 && r.restore(snap);
  const index = restored ? r.raft_log.lastIndex() : r.raft_log.committed;
  r.send(newMessage({ msg_type: MessageType.MsgAppendResponse, to: m.from, index }));
}
