/**
 * Config.async_storage_writes: the host writes entries, moves on, and reports
 * durability later (Raft thesis §10.2.1, etcd-io/raft's AsyncStorageWrites).
 */
import { MessageType } from "@eraft/proto/gen/eraftpb.ts";
import { assert } from "./assert.ts";
import { MemoryStorage } from "./memory_storage.ts";
import { Prng } from "./prng.ts";
import type { Raft } from "./raft.ts";
import { RawNode, type Ready } from "./raw_node.ts";
import { expectEq, newTestRaft, readMessages } from "./testing.ts";
import { newMessage } from "./util.ts";

const ASYNC = (c: { async_storage_writes?: boolean }) => {
  c.async_storage_writes = true;
};

/** Leader 1 of {1,2,3} in term 1 whose no-op (index 1) is written but not durable. */
function asyncLeader(): { r: Raft; s: MemoryStorage } {
  const s = MemoryStorage.withPeers([1, 2, 3]);
  const r = newTestRaft(1, 10, 1, s, ASYNC);
  r.becomeCandidate();
  r.becomeLeader();
  readMessages(r);
  write(r, s);
  return { r, s };
}

/** Peer `id` of {1,2,3}, a follower of `lead` in `term`, with an empty log. */
function asyncFollower(id: number, term: number, lead: number): { r: Raft; s: MemoryStorage } {
  const s = MemoryStorage.withPeers([1, 2, 3]);
  const r = newTestRaft(id, 10, 1, s, ASYNC);
  r.becomeFollower(term, lead);
  return { r, s };
}

/** Writes the unstable log to storage (readable, not yet reported durable). */
function write(r: Raft, s: MemoryStorage): void {
  const ents = r.raft_log.unstableEntries();
  if (ents.length === 0) return;
  s.append(ents);
  const last = ents[ents.length - 1];
  r.raft_log.stableTo(last.index, last.term);
}

/** MsgAppend of one entry of `term` at `index + 1`, from `from` to `to`. */
function appendOne(from: number, to: number, term: number, index: number, commit: number) {
  return newMessage({
    msg_type: MessageType.MsgAppend,
    from,
    to,
    term,
    index,
    log_term: index === 0 ? 0 : term,
    commit,
    entries: [{ entry_type: 0, term, index: index + 1, data: new Uint8Array(0) }],
  });
}

function ack(r: Raft, from: number, index: number): void {
  r.step(newMessage({
    msg_type: MessageType.MsgAppendResponse,
    from,
    to: 1,
    term: r.term,
    index,
  }));
}

Deno.test("§10.2.1 a leader counts its own log toward a commit only once it is durable", () => {
  const { r } = asyncLeader();
  ack(r, 2, 1);
  expectEq(r.raft_log.committed, 0, "one follower plus a written, not durable, leader");
  r.persisted(1, 1);
  expectEq(r.raft_log.committed, 1, "the leader's durable log completes the quorum");
});

Deno.test("§10.2.1 a majority of followers commits while the leader's own write is pending", () => {
  const { r } = asyncLeader();
  ack(r, 2, 1);
  ack(r, 3, 1);
  expectEq(r.raft_log.committed, 1, "two durable followers are a quorum of three");
  expectEq(r.raft_log.nextEntries().length, 0, "but the leader applies only what it holds durably");
  r.persisted(1, 1);
  expectEq(r.raft_log.nextEntries().map((e) => e.index), [1], "applied once durable");
});

Deno.test("§10.2.1 a durable report for an entry replaced since does not count", () => {
  const { r, s } = asyncFollower(2, 1, 1);
  r.step(appendOne(1, 2, 1, 0, 0));
  write(r, s);
  r.becomeFollower(2, 3);
  r.step(appendOne(3, 2, 2, 0, 1)); // leader 3 of term 2 replaces entry 1 and commits it
  write(r, s);
  r.persisted(1, 1); // the fsync that began before the replacement
  expectEq(r.raft_log.durable, 0, "the term-1 entry's durability is void");
  expectEq(r.raft_log.nextEntries().length, 0, "nothing applied before the new entry is durable");
  r.persisted(1, 2);
  expectEq(r.raft_log.nextEntries().map((e) => e.term), [2], "the replacement, once durable");
});

Deno.test("§10.2.1 a follower acknowledges at once; its host holds the reply until durable", () => {
  const { r, s } = asyncFollower(2, 1, 1);
  r.step(appendOne(1, 2, 1, 0, 1));
  const msgs = readMessages(r);
  expectEq(msgs.map((m) => [m.msg_type, m.index]), [[MessageType.MsgAppendResponse, 1]], "ack");
  write(r, s);
  expectEq(r.raft_log.committed, 1, "the leader's commit index is learned");
  expectEq(r.raft_log.nextEntries().length, 0, "but not applied before it is durable here");
  r.persisted(1, 1);
  expectEq(r.raft_log.nextEntries().map((e) => e.index), [1], "applied once durable");
});

Deno.test("§10.2.1 a new leader counts only its durable log as its own match", () => {
  const { r, s } = asyncFollower(1, 1, 2);
  r.step(appendOne(2, 1, 1, 0, 0));
  write(r, s);
  r.becomeCandidate();
  r.becomeLeader();
  expectEq(r.trk.progress.get(1)?.match, 0, "entry 1 was written but never reported durable");
  write(r, s); // the new term's no-op, index 2
  r.persisted(2, 2);
  expectEq(r.trk.progress.get(1)?.match, 2, "durable through its own no-op");
  ack(r, 3, 2);
  expectEq(r.raft_log.committed, 2, "its durable log and one follower commit the no-op");
});

Deno.test("RawNode with async_storage_writes: a single node applies its entries only after persisted()", () => {
  const s = MemoryStorage.withPeers([1]);
  const n = new RawNode({ id: 1, storage: s, rng: new Prng(1), async_storage_writes: true });
  n.campaign();
  let rd: Ready = n.ready();
  expectEq(rd.entries.map((e) => e.index), [1], "the no-op to write");
  expectEq(rd.committed_entries.length, 0, "nothing committed before the write is durable");
  s.append(rd.entries);
  if (rd.hard_state) s.setHardState(rd.hard_state);
  n.advance(rd);
  assert(!n.hasReady(), "advanced: written, waiting for durability");
  n.persisted(1, 2);
  expectEq(n.hasReady(), false, "a report for another term's entry counts for nothing");
  n.persisted(1, 1);
  rd = n.ready();
  expectEq(rd.committed_entries.map((e) => e.index), [1], "committed and applied once durable");
  n.advance(rd);
});
