/**
 * Single-step membership changes (Raft paper §6, one server at a time):
 * applied when their entry is applied; learners replicate without voting; a
 * leader that removes itself hands over and steps down.
 * @module
 */
import type { ConfChange, ConfState } from "@eraft/proto/gen/eraftpb.ts";
import { ConfChangeType } from "@eraft/proto/gen/eraftpb.ts";
import { assert } from "./assert.ts";
import { type Raft, StateType } from "./raft.ts";
import { NONE } from "./util.ts";

/**
 * Applies a committed single-step membership change and returns the new
 * membership. Removing the last voter is ignored (deterministically on all
 * nodes). A leader that removes itself steps down.
 */
export function applyConfChange(r: Raft, cc: ConfChange): ConfState {
  const id = cc.node_id;
  assert(id !== NONE, "conf change for node id 0");
  const next = r.raft_log.lastIndex() + 1;
  switch (cc.change_type) {
    case ConfChangeType.AddNode:
      r.trk.addMember(id, false, next);
      break;
    case ConfChangeType.AddLearnerNode:
      r.trk.addMember(id, true, next);
      break;
    case ConfChangeType.RemoveNode:
      if (r.trk.voters.length === 1 && r.trk.voters[0] === id) break;
      r.trk.removeMember(id);
      break;
  }
  r.is_learner = r.trk.learners.includes(r.id);
  if (r.state === StateType.Leader) leaderAfterConfChange(r, cc);
  return r.trk.confState();
}

function leaderAfterConfChange(r: Raft, cc: ConfChange): void {
  const id = cc.node_id;
  if (!r.trk.progress.has(r.id)) {
    stepDownAfterRemoval(r);
    return;
  }
  if (r.lead_transferee !== NONE && !r.trk.isVoter(r.lead_transferee)) {
    r.abortLeaderTransfer();
  }
  // A smaller quorum may commit more; a new member gets probed at once.
  if (r.maybeCommit()) r.bcastAppend();
  else if (id !== r.id && r.trk.progress.has(id)) r.sendAppend(id);
}

/**
 * The leader applied its own removal: tell the others the commit index, hand
 * over to the most caught-up voter if there is one, then step down.
 */
function stepDownAfterRemoval(r: Raft): void {
  r.bcastAppend();
  let best = NONE;
  let best_match = -1;
  for (const id of r.trk.voters) {
    const m = r.trk.progress.get(id)?.match ?? 0;
    if (m > best_match) {
      best = id;
      best_match = m;
    }
  }
  if (best !== NONE && best_match === r.raft_log.lastIndex()) r.sendTimeoutNow(best);
  r.becomeFollower(r.term, NONE);
}
