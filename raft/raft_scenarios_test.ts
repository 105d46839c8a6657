/**
 * Scenario tests: multi-node stories over the synchronous test network —
 * split votes, isolation, check-quorum, pre-vote, divergence repair,
 * snapshots, leadership transfer, membership changes, ReadIndex; plus the
 * paper's §6–§8 rules that need several nodes.
 */
import { ConfChangeType, EntryType, MessageType } from "@eraft/proto/gen/eraftpb.ts";
import { assert } from "./assert.ts";
import { encodeConfChange } from "./conf_change_codec.ts";
import { MemoryStorage } from "./memory_storage.ts";
import { ProposalDroppedError, type Raft, StateType } from "./raft.ts";
import {
  type ConfigHook,
  expectEq,
  leaders,
  Network,
  newTestRaft,
  persistAndApply,
  readMessages,
  tickAll,
} from "./testing.ts";
import { newEntry, newMessage, NONE } from "./util.ts";

const quorum_hooks: ConfigHook = (c) => {
  c.check_quorum = true;
  c.pre_vote = true;
};

const lease_reads: ConfigHook = (c) => {
  c.check_quorum = true;
  c.read_only_option = 1; // LeaseBased
};

function logTerms(r: Raft): number[][] {
  return r.raft_log.allEntries().map((e) => [e.index, e.term]);
}

function propose(r: Raft, data: number[]): ProposalDroppedError | null {
  return r.step(newMessage({
    msg_type: MessageType.MsgPropose,
    from: r.id,
    entries: [newEntry({ data: new Uint8Array(data) })],
  }));
}

function confChangeEntry(change_type: ConfChangeType, node_id: number) {
  return newEntry({
    entry_type: EntryType.EntryConfChange,
    data: encodeConfChange({ change_type, node_id, context: new Uint8Array(0) }),
  });
}

Deno.test("scenario: a split vote is resolved by a later election with one leader", () => {
  const nt = new Network([null, null, null, null]);
  const [r1, r2] = [nt.raft(1), nt.raft(2)];
  r1.step(newMessage({ msg_type: MessageType.MsgHup, from: 1 }));
  r2.step(newMessage({ msg_type: MessageType.MsgHup, from: 2 }));
  const m1 = readMessages(r1);
  const m2 = readMessages(r2);
  // 3 hears 1 first, 4 hears 2 first: 2 votes each, no majority of 4.
  const first = [...m1.filter((m) => m.to === 3), ...m2.filter((m) => m.to === 4)];
  const rest = [...m1.filter((m) => m.to !== 3), ...m2.filter((m) => m.to !== 4)];
  nt.send(...first, ...rest);
  // Each got 2 of 4 votes: both lost and fell back to followers of term 1.
  expectEq([r1.state, r2.state], [StateType.Follower, StateType.Follower], "both lost");
  expectEq([r1.term, r2.term], [1, 1], "still term 1");
  expectEq(leaders(nt), [], "no leader after a split vote");
  tickAll(nt, 40);
  expectEq(leaders(nt).length, 1, "exactly one leader later");
  assert(nt.raft(leaders(nt)[0]).term >= 2, "the winner is from a later term");
});

Deno.test("scenario: an isolated leader is replaced and rejoins as a follower, losing its uncommitted entries", () => {
  const nt = new Network([null, null, null]);
  nt.campaign(1);
  nt.isolate(1);
  propose(nt.raft(1), [1]); // never replicated
  nt.send(...nt.filter(readMessages(nt.raft(1))));
  nt.campaign(2);
  expectEq(nt.raft(2).state, StateType.Leader, "2 leads the majority side");
  nt.propose(2, "b");
  nt.recover();
  tickAll(nt, 5); // 2's heartbeat reaches 1
  expectEq(nt.raft(1).state, StateType.Follower, "old leader stepped down");
  expectEq(nt.raft(1).term, 2, "old leader adopted the new term");
  nt.propose(2, "c");
  for (const id of [1, 2, 3]) expectEq(logTerms(nt.raft(id)), logTerms(nt.raft(2)), `log of ${id}`);
  assert(
    nt.raft(1).raft_log.allEntries().every((e) => e.term !== 1 || e.data.byteLength === 0),
    "the isolated proposal was discarded",
  );
});

Deno.test("scenario: with check-quorum a leader that lost its quorum steps down", () => {
  const nt = new Network([null, null, null], quorum_hooks);
  nt.campaign(1);
  expectEq(nt.raft(1).state, StateType.Leader, "1 leads");
  nt.isolate(1);
  tickAll(nt, 2 * 10 + 1);
  expectEq(
    nt.raft(1).state,
    StateType.Follower,
    "the stale leader stepped down after an election timeout",
  );
  assert(leaders(nt).some((id) => id !== 1), "the majority elected a new leader");
  // Without check-quorum the stale leader would stay leader forever.
  const nt2 = new Network([null, null, null]);
  nt2.campaign(1);
  nt2.isolate(1);
  tickAll(nt2, 30);
  expectEq(nt2.raft(1).state, StateType.Leader, "without check-quorum it does not notice");
});

Deno.test("scenario (thesis §9.6): pre-vote keeps a partitioned node from disrupting the cluster", () => {
  for (const pre_vote of [true, false]) {
    const nt = new Network([null, null, null], (c) => {
      c.pre_vote = pre_vote;
    });
    nt.campaign(1);
    nt.propose(1, "x");
    nt.isolate(3);
    nt.propose(1, "y"); // 3 now lags: its log is older
    tickAll(nt, 50);
    const term3 = nt.raft(3).term;
    nt.recover();
    tickAll(nt, 3);
    nt.propose(1, "z");
    if (pre_vote) {
      expectEq(term3, 1, "the partitioned node never raised its term");
      expectEq(nt.raft(1).state, StateType.Leader, "the leader was not disrupted");
      expectEq(nt.raft(1).term, 1, "the leader's term is unchanged");
    } else {
      assert(term3 > 1, "without pre-vote the partitioned node inflates its term");
      assert(nt.raft(1).term > 1, "without pre-vote the leader is forced out of its term");
    }
  }
});

Deno.test("scenario: divergent logs are repaired with one round trip per conflicting term", () => {
  const nt = new Network([null, null, null, null, null]);
  nt.campaign(1);
  // 1 appends entries that only 2 receives, over several of its terms.
  nt.isolate(3);
  nt.isolate(4);
  nt.isolate(5);
  for (let i = 0; i < 20; i++) propose(nt.raft(1), [i]);
  nt.send(...nt.filter(readMessages(nt.raft(1))));
  nt.recover();
  nt.isolate(1);
  nt.isolate(2);
  nt.campaign(3); // 3, 4, 5 elect 3; it writes other entries at the same indexes
  for (let i = 0; i < 20; i++) nt.propose(3, `n${i}`);
  nt.recover();
  const before = nt.delivered.length;
  nt.propose(3, "final");
  tickAll(nt, 3);
  for (const id of [1, 2, 4, 5]) {
    expectEq(logTerms(nt.raft(id)), logTerms(nt.raft(3)), `log of ${id}`);
  }
  const rejects = nt.delivered.slice(before).filter((m) =>
    m.msg_type === MessageType.MsgAppendResponse && m.reject
  );
  assert(
    rejects.length <= 6,
    `fast backtracking needed ${rejects.length} rejections for 20 conflicting entries`,
  );
});

Deno.test("scenario (§7): a follower behind the compaction point is caught up by a snapshot", () => {
  const nt = new Network([null, null, null]);
  nt.campaign(1);
  nt.isolate(3);
  for (let i = 0; i < 10; i++) nt.propose(1, `v${i}`);
  const r1 = nt.raft(1);
  const s1 = nt.storage.get(1)!;
  persistAndApply(r1, s1);
  const applied = r1.raft_log.applied;
  s1.createSnapshot(applied, r1.trk.confState(), new Uint8Array([42]));
  s1.compact(applied);
  nt.recover();
  tickAll(nt, 2);
  const r3 = nt.raft(3);
  expectEq(r3.raft_log.committed, applied, "3 committed up to the snapshot");
  expectEq(
    r3.raft_log.unstable.snapshot?.metadata?.index,
    applied,
    "3 holds the snapshot to install",
  );
  expectEq([...r3.raft_log.unstable.snapshot!.data], [42], "snapshot data");
  assert(
    nt.delivered.some((m) => m.msg_type === MessageType.MsgSnapshot && m.to === 3),
    "a MsgSnapshot was sent",
  );
  nt.propose(1, "after");
  expectEq(r3.raft_log.lastIndex(), r1.raft_log.lastIndex(), "3 replicates after the snapshot");
});

Deno.test("scenario: leadership transfer to a lagging peer catches it up first and refuses proposals meanwhile", () => {
  const nt = new Network([null, null, null]);
  nt.campaign(1);
  nt.isolate(3);
  for (let i = 0; i < 5; i++) nt.propose(1, `v${i}`);
  nt.recover();
  const r1 = nt.raft(1);
  nt.ignore(MessageType.MsgAppend); // hold the catch-up back
  r1.step(newMessage({ msg_type: MessageType.MsgTransferLeader, from: 3 }));
  expectEq(r1.lead_transferee, 3, "transfer in progress");
  assert(
    propose(r1, [9]) instanceof ProposalDroppedError,
    "proposals are refused during a transfer",
  );
  assert(
    !r1.msgs.some((m) => m.msg_type === MessageType.MsgTimeoutNow),
    "no MsgTimeoutNow before catch-up",
  );
  nt.recover();
  r1.sendAppend(3);
  nt.send(...readMessages(r1));
  expectEq(nt.raft(3).state, StateType.Leader, "3 became leader once caught up");
  expectEq(r1.state, StateType.Follower, "1 stepped down");
  expectEq(nt.raft(3).term, 2, "new term");
});

Deno.test("scenario: an unfinished transfer is abandoned after an election timeout", () => {
  const nt = new Network([null, null, null]);
  nt.campaign(1);
  nt.isolate(3);
  const r1 = nt.raft(1);
  r1.step(newMessage({ msg_type: MessageType.MsgTransferLeader, from: 3 }));
  expectEq(r1.lead_transferee, 3, "transfer started");
  tickAll(nt, 10);
  expectEq(r1.lead_transferee, NONE, "transfer abandoned");
  expectEq(propose(r1, [1]), null, "proposals accepted again");
});

Deno.test("scenario: membership change during a partition: remove an unreachable node, one change at a time", () => {
  const nt = new Network([null, null, null, "hole"], quorum_hooks);
  // Only 1..3 are members at first.
  for (const id of [1, 2, 3]) {
    const s = MemoryStorage.withPeers([1, 2, 3]);
    nt.storage.set(id, s);
    nt.peers.set(id, newTestRaft(id, 10, 1, s, quorum_hooks));
  }
  nt.campaign(1);
  const r1 = nt.raft(1);
  // The leader's no-op must be applied before it accepts a conf change.
  const early = r1.step(
    newMessage({
      msg_type: MessageType.MsgPropose,
      from: 1,
      entries: [confChangeEntry(ConfChangeType.RemoveNode, 3)],
    }),
  );
  assert(
    early instanceof ProposalDroppedError,
    "conf change accepted before the term's first entry was applied",
  );
  for (const id of [1, 2, 3]) persistAndApply(nt.raft(id), nt.storage.get(id)!);
  nt.isolate(3);
  r1.step(
    newMessage({
      msg_type: MessageType.MsgPropose,
      from: 1,
      entries: [confChangeEntry(ConfChangeType.RemoveNode, 3)],
    }),
  );
  // A second change while the first is not applied is refused (one at a time).
  const second = r1.step(
    newMessage({
      msg_type: MessageType.MsgPropose,
      from: 1,
      entries: [confChangeEntry(ConfChangeType.AddLearnerNode, 4)],
    }),
  );
  assert(second instanceof ProposalDroppedError, "a second pending conf change was accepted");
  nt.send(...nt.filter(readMessages(r1)));
  for (const id of [1, 2]) {
    const r = nt.raft(id);
    for (const e of persistAndApply(r, nt.storage.get(id)!)) {
      if (e.entry_type === EntryType.EntryConfChange) {
        r.applyConfChange({
          change_type: ConfChangeType.RemoveNode,
          node_id: 3,
          context: new Uint8Array(0),
        });
      }
    }
  }
  expectEq(r1.trk.voters, [1, 2], "3 removed while unreachable");
  nt.propose(1, "two of two");
  expectEq(
    nt.raft(2).raft_log.committed,
    r1.raft_log.lastIndex(),
    "commits with the new quorum {1,2}",
  );
  // The removed node keeps campaigning behind the partition; it must not disrupt.
  tickAll(nt, 40);
  nt.recover();
  tickAll(nt, 5);
  expectEq(r1.state, StateType.Leader, "removed node did not disrupt the leader");
  expectEq(r1.term, 1, "term unchanged");
});

Deno.test("scenario: read index across a leader change is never answered by the deposed leader", () => {
  const nt = new Network([null, null, null]);
  nt.campaign(1);
  nt.propose(1, "a");
  const r1 = nt.raft(1);
  nt.isolate(1);
  r1.step(newMessage({ msg_type: MessageType.MsgReadIndex, context: new Uint8Array([1]) }));
  nt.send(...nt.filter(readMessages(r1)));
  expectEq(r1.read_states, [], "no quorum, no read state");
  nt.campaign(2);
  nt.propose(2, "b"); // a write the old leader does not have
  const r2 = nt.raft(2);
  nt.recover();
  tickAll(nt, 2);
  expectEq(r1.state, StateType.Follower, "old leader deposed");
  expectEq(r1.read_states, [], "the deposed leader never answered the read");
  // A follower's read is forwarded to the new leader and covers the new write.
  const r3 = nt.raft(3);
  r3.step(newMessage({ msg_type: MessageType.MsgReadIndex, context: new Uint8Array([2]) }));
  nt.send(...readMessages(r3));
  expectEq(r3.read_states.map((rs) => [rs.index, [...rs.request_ctx]]), [[r2.raft_log.committed, [
    2,
  ]]], "forwarded read");
});

Deno.test("§6 a learner receives entries but neither votes nor counts toward commit", () => {
  const ids = [1, 2];
  const s1 = MemoryStorage.withPeers(ids, [3]);
  const r1 = newTestRaft(1, 10, 1, s1);
  const r2 = newTestRaft(2, 10, 1, MemoryStorage.withPeers(ids, [3]));
  const r3 = newTestRaft(3, 10, 1, MemoryStorage.withPeers(ids, [3]));
  const nt = new Network([r1, r2, r3]);
  for (let i = 0; i < 50; i++) r3.tick();
  expectEq(r3.state, StateType.Follower, "a learner never campaigns");
  nt.campaign(1);
  expectEq(r1.state, StateType.Leader, "1 leads");
  nt.cut(1, 2);
  propose(r1, [5]);
  nt.send(...nt.filter(readMessages(r1)));
  expectEq(r3.raft_log.lastIndex(), r1.raft_log.lastIndex(), "the learner has the entry");
  assert(r1.raft_log.committed < r1.raft_log.lastIndex(), "the learner's ack did not commit it");
});

Deno.test("§6 a leader that removes itself steps down and the rest elect a leader", () => {
  const nt = new Network([null, null, null]);
  nt.campaign(1);
  const r1 = nt.raft(1);
  r1.step(
    newMessage({
      msg_type: MessageType.MsgPropose,
      from: 1,
      entries: [confChangeEntry(ConfChangeType.RemoveNode, 1)],
    }),
  );
  nt.send(...readMessages(r1));
  const cc = { change_type: ConfChangeType.RemoveNode, node_id: 1, context: new Uint8Array(0) };
  for (const id of [1, 2, 3]) {
    persistAndApply(nt.raft(id), nt.storage.get(id)!);
    nt.raft(id).applyConfChange(cc);
  }
  expectEq(r1.state, StateType.Follower, "the removed leader stepped down");
  assert(!r1.promotable(), "the removed node will not campaign");
  nt.send(...readMessages(r1)); // its MsgTimeoutNow hands over at once
  expectEq(leaders(nt).length, 1, "a remaining voter leads");
  assert(leaders(nt)[0] !== 1, "not the removed node");
});

Deno.test("§6 servers disregard vote requests while they believe a current leader exists", () => {
  const nt = new Network([null, null, null], (c) => {
    c.check_quorum = true;
  });
  nt.campaign(1);
  const r2 = nt.raft(2);
  r2.step(
    newMessage({
      msg_type: MessageType.MsgRequestVote,
      from: 3,
      to: 2,
      term: 5,
      index: 10,
      log_term: 5,
    }),
  );
  expectEq(r2.term, 1, "vote from a disruptive server ignored in lease");
  expectEq(readMessages(r2), [], "no reply");
  for (let i = 0; i < 10; i++) r2.tick();
  r2.step(
    newMessage({
      msg_type: MessageType.MsgRequestVote,
      from: 3,
      to: 2,
      term: 5,
      index: 10,
      log_term: 5,
    }),
  );
  expectEq(r2.term, 5, "after the lease the request is considered");
});

Deno.test("§8 a new leader commits a blank no-op entry at the start of its term", () => {
  const nt = new Network([null, null, null]);
  nt.campaign(1);
  const e = nt.raft(1).raft_log.allEntries();
  expectEq(e.map((x) => [x.index, x.term, x.data.byteLength]), [[1, 1, 0]], "no-op entry");
  expectEq(nt.raft(2).raft_log.committed, 1, "committed everywhere");
});

Deno.test("§8 a leader confirms leadership with a heartbeat quorum before serving a read", () => {
  const nt = new Network([null, null, null]);
  nt.campaign(1);
  const r1 = nt.raft(1);
  nt.ignore(MessageType.MsgHeartbeatResponse);
  r1.step(newMessage({ msg_type: MessageType.MsgReadIndex, context: new Uint8Array([7]) }));
  nt.send(...nt.filter(readMessages(r1)));
  expectEq(r1.read_states, [], "no read state without heartbeat acks");
  nt.recover();
  tickAll(nt, 1); // the next heartbeat carries the pending read's context
  expectEq(
    r1.read_states.map((rs) => [rs.index, [...rs.request_ctx]]),
    [[1, [7]]],
    "read served at the commit index",
  );
});

Deno.test("lease read: served at once from a valid lease, refused after a transfer starts", () => {
  const nt = new Network([null, null, null], lease_reads);
  nt.campaign(1);
  const r1 = nt.raft(1);
  r1.step(newMessage({ msg_type: MessageType.MsgReadIndex, context: new Uint8Array([1]) }));
  expectEq(r1.read_states.length, 0, "no lease before any heartbeat was acknowledged");
  nt.send(...readMessages(r1));
  expectEq(r1.read_states.length, 1, "fell back to a heartbeat round");
  r1.read_states = [];
  tickAll(nt, 50); // long past the first election timeout: heartbeat acks renew the lease
  nt.isolate(1); // a valid lease needs no messages
  r1.step(newMessage({ msg_type: MessageType.MsgReadIndex, context: new Uint8Array([2]) }));
  expectEq(r1.read_states.length, 1, "served from the lease with no round trip");
  r1.read_states = [];
  // 2 is caught up: the transfer sends MsgTimeoutNow at once, voiding the lease.
  r1.step(newMessage({ msg_type: MessageType.MsgTransferLeader, from: 2 }));
  assert(r1.msgs.some((m) => m.msg_type === MessageType.MsgTimeoutNow), "MsgTimeoutNow sent");
  r1.step(newMessage({ msg_type: MessageType.MsgReadIndex, context: new Uint8Array([3]) }));
  expectEq(r1.read_states.length, 0, "no lease read once a transfer was started");
});

Deno.test("broadcast_commit: on, a commit reaches followers at once; off, with the next heartbeat", () => {
  for (const broadcast of [true, false]) {
    const nt = new Network([null, null, null], (c) => (c.broadcast_commit = broadcast));
    nt.campaign(1);
    const r1 = nt.raft(1);
    const before = nt.delivered.length;
    nt.propose(1, "x");
    const commit = r1.raft_log.committed;
    expectEq(r1.raft_log.lastIndex(), commit, "the leader committed the proposal");
    const empty_appends = nt.delivered.slice(before).filter((m) =>
      m.msg_type === MessageType.MsgAppend && m.entries.length === 0
    ).length;
    expectEq(empty_appends, broadcast ? 2 : 0, `empty appends (broadcast=${broadcast})`);
    const learned = [2, 3].map((id) =>
      nt.raft(id).raft_log.committed
    );
    expectEq(learned, broadcast ? [commit, commit] : [commit - 1, commit - 1], "followers' commit");
    tickAll(nt, 1); // one heartbeat (heartbeat_timeout_ticks 1)
    expectEq([2, 3].map((id) => nt.raft(id).raft_log.committed), [commit, commit], "after it");
  }
});

Deno.test("broadcast_commit off: a committed conf change still reaches every follower at once", () => {
  const nt = new Network([null, null, null], (c) => (c.broadcast_commit = false));
  nt.campaign(1);
  const r1 = nt.raft(1);
  persistAndApply(r1, nt.storage.get(1)!); // the leader's no-op: no conf change pending
  const before = nt.delivered.length;
  // Removing 3: once the leader applies it, 3 gets no more heartbeats, so it
  // must hear of the commit now to apply its own removal.
  r1.step(newMessage({
    msg_type: MessageType.MsgPropose,
    from: 1,
    entries: [confChangeEntry(ConfChangeType.RemoveNode, 3)],
  }));
  nt.send(...nt.filter(readMessages(r1)));
  const commit = r1.raft_log.committed;
  expectEq(r1.raft_log.lastIndex(), commit, "the conf change committed");
  expectEq(nt.raft(3).raft_log.committed, commit, "the removed follower knows it committed");
  const empty_appends = nt.delivered.slice(before).filter((m) =>
    m.msg_type === MessageType.MsgAppend && m.entries.length === 0
  );
  expectEq(empty_appends.map((m) => m.to).sort(), [2, 3], "sent to both followers");
});

Deno.test("lease read: leaseReadIndex names the commit index only while the lease holds", () => {
  const nt = new Network([null, null, null], lease_reads);
  nt.campaign(1);
  const r1 = nt.raft(1);
  expectEq(r1.leaseReadIndex(), null, "no lease before any heartbeat was acknowledged");
  expectEq(nt.raft(2).leaseReadIndex(), null, "a follower never has one");
  tickAll(nt, 50); // heartbeat acks renew the lease
  expectEq(r1.leaseReadIndex(), r1.raft_log.committed, "the commit index under a valid lease");
  nt.isolate(1);
  for (let i = 0; i < 10; i++) r1.tick(); // an election timeout with no acks
  expectEq(r1.leaseReadIndex(), null, "the lease ran out without acks");
  nt.recover();
  tickAll(nt, 50);
  expectEq(r1.leaseReadIndex(), r1.raft_log.committed, "renewed");
  r1.step(newMessage({ msg_type: MessageType.MsgTransferLeader, from: 2 }));
  expectEq(r1.leaseReadIndex(), null, "none once a transfer was started");
});

Deno.test("lease read: with ReadOnlySafe there is no lease read index; a single voter always has one", () => {
  const safe = new Network([null, null, null], (c) => (c.check_quorum = true));
  safe.campaign(1);
  tickAll(safe, 50);
  expectEq(safe.raft(1).leaseReadIndex(), null, "Safe reads always take a heartbeat round");
  const alone = new Network([null]);
  alone.campaign(1);
  expectEq(alone.raft(1).leaseReadIndex(), alone.raft(1).raft_log.committed, "one voter");
});

Deno.test("lease read: a voter that restarted refuses votes for an election timeout (refuse_votes_at_start)", () => {
  const vote = () =>
    newMessage({
      msg_type: MessageType.MsgRequestVote,
      from: 3,
      to: 2,
      term: 5,
      index: 10,
      log_term: 5,
    });
  for (const refuse of [true, false]) {
    // A restart: a fresh Raft over the persisted log, having forgotten any leader.
    const r2 = newTestRaft(2, 10, 1, MemoryStorage.withPeers([1, 2, 3]), (c) => {
      c.check_quorum = true;
      c.refuse_votes_at_start = refuse;
    });
    r2.step(vote());
    expectEq(r2.term, refuse ? 0 : 5, `vote right after the restart (refuse=${refuse})`);
    if (!refuse) continue;
    for (let i = 0; i < 10; i++) r2.tick();
    r2.step(vote());
    expectEq(r2.term, 5, "an election timeout later the request is considered");
  }
});

Deno.test("flow control: a replicating follower has at most max_inflight_msgs appends in flight", () => {
  const s = MemoryStorage.withPeers([1, 2]);
  const r = newTestRaft(1, 5, 1, s, (c) => {
    c.max_inflight_msgs = 3;
    c.max_size_per_msg_bytes = 1;
  });
  r.becomeCandidate();
  r.becomeLeader();
  readMessages(r);
  r.trk.progress.get(2)!.becomeReplicate();
  for (let i = 0; i < 10; i++) propose(r, [i]);
  const apps = readMessages(r).filter((m) => m.msg_type === MessageType.MsgAppend);
  expectEq(apps.length, 3, "window of 3");
  assert(
    apps.every((m) => m.entries.length === 1),
    "max_size_per_msg_bytes keeps one entry per append",
  );
  // A heartbeat response frees one slot so a lost append cannot stall replication.
  r.step(newMessage({ msg_type: MessageType.MsgHeartbeatResponse, from: 2, to: 1, term: r.term }));
  expectEq(
    readMessages(r).filter((m) => m.msg_type === MessageType.MsgAppend).length,
    1,
    "one more append",
  );
  // Acknowledging everything sent frees the whole window.
  r.step(
    newMessage({
      msg_type: MessageType.MsgAppendResponse,
      from: 2,
      to: 1,
      term: r.term,
      index: apps[2].index + 2,
    }),
  );
  expectEq(
    readMessages(r).filter((m) => m.msg_type === MessageType.MsgAppend).length,
    3,
    "window refilled",
  );
});

Deno.test("flow control: a probing follower gets one append per heartbeat interval", () => {
  const r = newTestRaft(1, 5, 1, MemoryStorage.withPeers([1, 2]));
  r.becomeCandidate();
  r.becomeLeader();
  readMessages(r);
  for (let i = 0; i < 5; i++) propose(r, [i]);
  expectEq(
    readMessages(r).filter((m) => m.to === 2 && m.msg_type === MessageType.MsgAppend).length,
    1,
    "paused after one probe",
  );
  r.step(newMessage({ msg_type: MessageType.MsgHeartbeatResponse, from: 2, to: 1, term: r.term }));
  expectEq(
    readMessages(r).filter((m) => m.msg_type === MessageType.MsgAppend).length,
    1,
    "a heartbeat response unpauses it",
  );
});
