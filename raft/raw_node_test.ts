import { ConfChangeType, EntryType } from "@eraft/proto/gen/eraftpb.ts";
import { assert } from "./assert.ts";
import { decodeConfChange } from "./conf_change_codec.ts";
import { MemoryStorage } from "./memory_storage.ts";
import { Prng } from "./prng.ts";
import { StateType } from "./raft.ts";
import { RawNode, type Ready } from "./raw_node.ts";
import { expectEq } from "./testing.ts";

function node(id: number, s: MemoryStorage, applied = 0): RawNode {
  return new RawNode({ id, storage: s, applied, rng: new Prng(id) });
}

function persist(s: MemoryStorage, rd: Ready): void {
  if (rd.snapshot) s.applySnapshot(rd.snapshot);
  s.append(rd.entries);
  if (rd.hard_state) s.setHardState(rd.hard_state);
}

Deno.test("RawNode: a single node campaigns, proposes and applies through Ready/Advance", () => {
  const s = MemoryStorage.withPeers([1]);
  const n = node(1, s);
  n.campaign();
  let rd = n.ready();
  expectEq(rd.soft_state, { lead: 1, raft_state: StateType.Leader }, "soft state");
  expectEq(rd.hard_state, { term: 1, vote: 1, commit: 1 }, "hard state");
  expectEq(rd.entries.map((e) => [e.index, e.term]), [[1, 1]], "the no-op to persist");
  expectEq(rd.committed_entries.map((e) => e.index), [1], "and to apply");
  assert(rd.must_sync, "term and entries need a sync");
  persist(s, rd);
  n.advance(rd);
  assert(!n.hasReady(), "nothing left");
  const res = n.propose(new Uint8Array([42]));
  expectEq(res, { kind: "appended", index: 2, term: 1 }, "propose result");
  rd = n.ready();
  expectEq(rd.committed_entries.map((e) => [...e.data]), [[42]], "applied");
  persist(s, rd);
  n.advance(rd);
  expectEq(n.status().applied, 2, "applied cursor");
});

Deno.test("RawNode: ready() twice without advance() is an assertion", () => {
  const n = node(1, MemoryStorage.withPeers([1]));
  n.campaign();
  n.ready();
  let threw = false;
  try {
    n.ready();
  } catch {
    threw = true;
  }
  assert(threw, "second ready() must crash");
});

Deno.test("RawNode: a node restarts from its storage and reapplies from `applied`", () => {
  const s = MemoryStorage.withPeers([1]);
  const a = node(1, s);
  a.campaign();
  for (let i = 0; i < 3; i++) a.propose(new Uint8Array([i]));
  const rd = a.ready();
  persist(s, rd);
  a.advance(rd);
  const b = node(1, s, 2);
  expectEq(b.status().hard_state, { term: 1, vote: 1, commit: 4 }, "hard state restored");
  const rd2 = b.ready();
  expectEq(rd2.committed_entries.map((e) => e.index), [3, 4], "entries after `applied`");
  expectEq(b.status().soft_state.raft_state, StateType.Follower, "restarts as follower");
});

Deno.test("RawNode: conf changes are proposed as encoded entries and one at a time", () => {
  const s = MemoryStorage.withPeers([1]);
  const n = node(1, s);
  n.campaign();
  let rd = n.ready();
  persist(s, rd);
  n.advance(rd);
  const cc = { change_type: ConfChangeType.AddLearnerNode, node_id: 2, context: new Uint8Array(0) };
  expectEq(n.proposeConfChange(cc).kind, "appended", "first change");
  expectEq(n.proposeConfChange(cc).kind, "dropped", "second while the first is unapplied");
  rd = n.ready();
  const e = rd.committed_entries[0];
  expectEq(e.entry_type, EntryType.EntryConfChange, "entry type");
  expectEq(decodeConfChange(e.data), cc, "decoded");
  expectEq(n.applyConfChange(cc), { nodes: [1], learners: [2] }, "conf state");
  persist(s, rd);
  n.advance(rd);
  assert(rd.messages.length === 0 && n.hasReady(), "the new learner is probed");
  expectEq(n.ready().messages.map((m) => m.to), [2], "append to the learner");
});

Deno.test("RawNode: messages of local types from the network are ignored", () => {
  const n = node(1, MemoryStorage.withPeers([1, 2, 3]));
  const ok = n.step({
    msg_type: 0, // MsgHup
    to: 1,
    from: 2,
    term: 0,
    log_term: 0,
    index: 0,
    entries: [],
    commit: 0,
    snapshot: null,
    reject: false,
    reject_hint: 0,
    context: new Uint8Array(0),
  });
  assert(!ok, "MsgHup from the wire refused");
  expectEq(n.status().soft_state.raft_state, StateType.Follower, "no election");
});
