/**
 * One test per rule of the Raft paper (Ongaro & Ousterhout, 2014), §5.1–§5.4
 * and §6–§8, after etcd-io/raft's raft_paper_test.go.
 */
import { MessageType } from "@eraft/proto/gen/eraftpb.ts";
import type { Message } from "@eraft/proto/gen/eraftpb.ts";
import { assert } from "./assert.ts";
import { MemoryStorage } from "./memory_storage.ts";
import { type Raft, StateType } from "./raft.ts";
import {
  acceptAndReply,
  commitNoopEntry,
  entriesWithTerms,
  expectEq,
  newTestRaft,
  persistAndApply,
  readMessages,
  sortMsgs,
} from "./testing.ts";
import { newEntry, newMessage, NONE } from "./util.ts";

const { MsgAppend, MsgAppendResponse, MsgHeartbeat, MsgRequestVote, MsgRequestVoteResponse } =
  MessageType;

function peers3(): MemoryStorage {
  return MemoryStorage.withPeers([1, 2, 3]);
}

function toState(r: Raft, state: StateType, term: number): void {
  if (state === StateType.Follower) r.becomeFollower(term, 2);
  else if (state === StateType.Candidate) r.becomeCandidate();
  else {
    r.becomeCandidate();
    r.becomeLeader();
  }
}

for (
  const [name, state] of [
    ["follower", StateType.Follower],
    ["candidate", StateType.Candidate],
    ["leader", StateType.Leader],
  ] as const
) {
  Deno.test(`§5.1 a ${name} that sees a higher term adopts it and becomes a follower`, () => {
    const r = newTestRaft(1, 10, 1, peers3());
    toState(r, state, 1);
    r.step(newMessage({ msg_type: MsgAppend, from: 2, to: 1, term: 2 }));
    expectEq(r.term, 2, "term");
    expectEq(r.state, StateType.Follower, "state");
  });
}

Deno.test("§5.1 a request with a stale term is rejected (ignored)", () => {
  const s = peers3();
  s.setHardState({ term: 2, vote: 0, commit: 0 });
  const r = newTestRaft(1, 10, 1, s);
  r.step(
    newMessage({
      msg_type: MsgAppend,
      from: 2,
      to: 1,
      term: 1,
      entries: [newEntry({ term: 1, index: 1 })],
    }),
  );
  expectEq(r.raft_log.lastIndex(), 0, "stale append must not change the log");
  expectEq(readMessages(r).length, 0, "no reply without check-quorum/pre-vote");
  expectEq(r.lead, NONE, "the stale sender is not recognised as leader");
});

Deno.test("§5.1 a stale vote request is refused with the current term, and its candidate adopts it", () => {
  const s = peers3();
  s.setHardState({ term: 5, vote: 0, commit: 0 });
  const voter = newTestRaft(1, 10, 1, s);
  voter.step(newMessage({ msg_type: MsgRequestVote, from: 2, to: 1, term: 3 }));
  const replies = readMessages(voter);
  expectEq(replies.length, 1, "one reply");
  expectEq(replies[0].msg_type, MsgRequestVoteResponse, "reply type");
  expectEq(replies[0].reject, true, "vote refused");
  expectEq(replies[0].term, 5, "the reply carries the voter's term");
  expectEq(voter.term, 5, "the voter's term is unchanged");
  expectEq(voter.vote, NONE, "no vote cast");

  const candidate = newTestRaft(2, 10, 1, peers3());
  candidate.becomeCandidate();
  candidate.step(replies[0]);
  expectEq(candidate.term, 5, "the candidate learns the newer term");
  expectEq(candidate.state, StateType.Follower, "and steps down");
});

Deno.test("§5.2 a server starts as a follower", () => {
  const r = newTestRaft(1, 10, 1, peers3());
  expectEq(r.state, StateType.Follower, "state");
});

Deno.test("§5.2 a leader sends heartbeats to every follower each heartbeat timeout", () => {
  const hi = 1;
  const r = newTestRaft(1, 10, hi, peers3());
  r.becomeCandidate();
  r.becomeLeader();
  readMessages(r);
  for (let i = 0; i < hi; i++) r.tick();
  const msgs = sortMsgs(readMessages(r));
  expectEq(msgs.map((m) => [m.msg_type, m.to, m.term, m.commit]), [
    [MsgHeartbeat, 2, 1, 0],
    [MsgHeartbeat, 3, 1, 0],
  ], "heartbeats");
});

for (
  const [name, state] of [["follower", StateType.Follower], [
    "candidate",
    StateType.Candidate,
  ]] as const
) {
  Deno.test(`§5.2 a ${name} starts an election after the election timeout`, () => {
    const et = 10;
    const r = newTestRaft(1, et, 1, peers3());
    if (state === StateType.Follower) r.becomeFollower(1, 2);
    else r.becomeCandidate();
    for (let i = 1; i < 2 * et; i++) r.tick();
    expectEq(r.term, 2, "term");
    expectEq(r.state, StateType.Candidate, "state");
    assert(r.trk.votes.get(r.id) === true, "votes for itself");
    const msgs = sortMsgs(readMessages(r)).filter((m) => m.term === 2);
    expectEq(msgs.map((m) => [m.msg_type, m.to, m.term]), [
      [MsgRequestVote, 2, 2],
      [MsgRequestVote, 3, 2],
    ], "vote requests");
  });
}

Deno.test("§5.2 a candidate wins the election with votes from a majority", () => {
  const cases: [number, Record<number, boolean>, StateType][] = [
    [1, {}, StateType.Leader],
    [3, { 2: true, 3: true }, StateType.Leader],
    [3, { 2: true }, StateType.Leader],
    [5, { 2: true, 3: true, 4: true, 5: true }, StateType.Leader],
    [5, { 2: true, 3: true, 4: true }, StateType.Leader],
    [5, { 2: true, 3: true }, StateType.Leader],
    [3, { 2: false, 3: false }, StateType.Follower],
    [5, { 2: false, 3: false, 4: false, 5: false }, StateType.Follower],
    [5, { 2: true, 3: false, 4: false, 5: false }, StateType.Follower],
    [3, {}, StateType.Candidate],
    [5, { 2: true }, StateType.Candidate],
    [5, { 2: false, 3: false }, StateType.Candidate],
    [5, {}, StateType.Candidate],
  ];
  for (const [size, votes, want] of cases) {
    const ids = Array.from({ length: size }, (_, i) => i + 1);
    const r = newTestRaft(1, 10, 1, MemoryStorage.withPeers(ids));
    r.step(newMessage({ msg_type: MessageType.MsgHup, from: 1 }));
    for (const [id, granted] of Object.entries(votes)) {
      r.step(
        newMessage({
          msg_type: MsgRequestVoteResponse,
          from: Number(id),
          to: 1,
          term: r.term,
          reject: !granted,
        }),
      );
    }
    expectEq(r.state, want, `size ${size} votes ${JSON.stringify(votes)}`);
    expectEq(r.term, 1, "term");
  }
});

Deno.test("§5.2 a follower votes for at most one candidate per term, first come first served", () => {
  const cases: [number, number, boolean][] = [
    [NONE, 2, false],
    [NONE, 3, false],
    [2, 2, false],
    [3, 3, false],
    [2, 3, true],
    [3, 2, true],
  ];
  for (const [vote, nvote, wreject] of cases) {
    const s = peers3();
    s.setHardState({ term: 1, vote, commit: 0 });
    const r = newTestRaft(1, 10, 1, s);
    r.step(newMessage({ msg_type: MsgRequestVote, from: nvote, to: 1, term: 1 }));
    const msgs = readMessages(r);
    expectEq(msgs.map((m) => [m.msg_type, m.to, m.term, m.reject]), [[
      MsgRequestVoteResponse,
      nvote,
      1,
      wreject,
    ]], `vote ${vote} nvote ${nvote}`);
  }
});

Deno.test("§5.2 a candidate steps down when it hears from a leader of its term or newer", () => {
  for (const term of [1, 2]) {
    const r = newTestRaft(1, 10, 1, peers3());
    r.step(newMessage({ msg_type: MessageType.MsgHup, from: 1 }));
    expectEq(r.state, StateType.Candidate, "candidate");
    r.step(newMessage({ msg_type: MsgAppend, from: 2, to: 1, term }));
    expectEq(r.state, StateType.Follower, `state after append of term ${term}`);
    expectEq(r.term, term, "term");
    expectEq(r.lead, 2, "lead");
  }
});

for (
  const [name, state] of [["follower", StateType.Follower], [
    "candidate",
    StateType.Candidate,
  ]] as const
) {
  Deno.test(`§5.2 a ${name}'s election timeout is randomized in [T, 2T)`, () => {
    const et = 10;
    const r = newTestRaft(1, et, 1, peers3());
    const timeouts = new Set<number>();
    for (let round = 0; round < 50 * et; round++) {
      if (state === StateType.Follower) r.becomeFollower(r.term + 1, 2);
      else r.becomeCandidate();
      let time = 0;
      while (readMessages(r).length === 0) {
        r.tick();
        time++;
        assert(time <= 2 * et, "no election within 2T");
      }
      timeouts.add(time);
    }
    for (let d = et; d < 2 * et; d++) assert(timeouts.has(d), `timeout ${d} never happened`);
    assert(!timeouts.has(et - 1), "timed out before T");
  });
}

for (
  const [name, state] of [["followers", StateType.Follower], [
    "candidates",
    StateType.Candidate,
  ]] as const
) {
  Deno.test(`§5.2 randomized timeouts make it rare for ${name} to time out together`, () => {
    const et = 10;
    const size = 5;
    const ids = [1, 2, 3, 4, 5];
    const rs = ids.map((id) => newTestRaft(id, et, 1, MemoryStorage.withPeers(ids)));
    let conflicts = 0;
    const rounds = 1000;
    for (let round = 0; round < rounds; round++) {
      for (const r of rs) {
        if (state === StateType.Follower) r.becomeFollower(r.term + 1, NONE);
        else r.becomeCandidate();
      }
      let timeouts = 0;
      while (timeouts === 0) {
        for (const r of rs) {
          r.tick();
          if (readMessages(r).length > 0) timeouts++;
        }
      }
      if (timeouts > 1) conflicts++;
    }
    assert(conflicts / rounds <= 0.3, `split rate ${conflicts / rounds} for ${size} ${name}`);
  });
}

Deno.test("§5.3 a leader appends a proposal to its log and sends it to followers", () => {
  const s = peers3();
  const r = newTestRaft(1, 10, 1, s);
  r.becomeCandidate();
  r.becomeLeader();
  commitNoopEntry(r, s);
  const li = r.raft_log.lastIndex();
  r.step(
    newMessage({
      msg_type: MessageType.MsgPropose,
      from: 1,
      to: 1,
      entries: [newEntry({ data: new Uint8Array([7]) })],
    }),
  );
  expectEq(r.raft_log.lastIndex(), li + 1, "appended");
  expectEq(r.raft_log.committed, li, "not committed yet");
  const want = [newEntry({ index: li + 1, term: 1, data: new Uint8Array([7]) })];
  const msgs = sortMsgs(readMessages(r));
  expectEq(msgs.map((m) => [m.msg_type, m.to, m.index, m.log_term, m.commit, m.entries]), [
    [MsgAppend, 2, li, 1, li, want],
    [MsgAppend, 3, li, 1, li, want],
  ], "appends");
  expectEq(r.raft_log.unstableEntries(), want, "unstable entries");
});

Deno.test("§5.3 a leader commits an entry once a majority stores it, and tells followers", () => {
  const s = peers3();
  const r = newTestRaft(1, 10, 1, s);
  r.becomeCandidate();
  r.becomeLeader();
  commitNoopEntry(r, s);
  const li = r.raft_log.lastIndex();
  r.step(
    newMessage({
      msg_type: MessageType.MsgPropose,
      from: 1,
      to: 1,
      entries: [newEntry({ data: new Uint8Array([7]) })],
    }),
  );
  for (const m of readMessages(r)) r.step(acceptAndReply(m));
  expectEq(r.raft_log.committed, li + 1, "committed");
  expectEq(
    persistAndApply(r, s).map((e) => [e.index, e.term, [...e.data]]),
    [[li + 1, 1, [7]]],
    "applied",
  );
  const msgs = sortMsgs(readMessages(r));
  expectEq(msgs.map((m) => [m.msg_type, m.to, m.commit]), [[MsgAppend, 2, li + 1], [
    MsgAppend,
    3,
    li + 1,
  ]], "commit broadcast");
});

Deno.test("§5.3 an entry is committed once the leader hears from a majority", () => {
  const cases: [number, Set<number>, boolean][] = [
    [1, new Set(), true],
    [3, new Set(), false],
    [3, new Set([2]), true],
    [3, new Set([2, 3]), true],
    [5, new Set(), false],
    [5, new Set([2]), false],
    [5, new Set([2, 3]), true],
    [5, new Set([2, 3, 4]), true],
    [5, new Set([2, 3, 4, 5]), true],
  ];
  for (const [size, acceptors, wack] of cases) {
    const ids = Array.from({ length: size }, (_, i) => i + 1);
    const s = MemoryStorage.withPeers(ids);
    const r = newTestRaft(1, 10, 1, s);
    r.becomeCandidate();
    r.becomeLeader();
    if (size > 1) commitNoopEntry(r, s);
    else persistAndApply(r, s);
    const li = r.raft_log.lastIndex();
    r.step(
      newMessage({
        msg_type: MessageType.MsgPropose,
        from: 1,
        to: 1,
        entries: [newEntry({ data: new Uint8Array([1]) })],
      }),
    );
    for (const m of readMessages(r)) if (acceptors.has(m.to)) r.step(acceptAndReply(m));
    expectEq(r.raft_log.committed > li, wack, `size ${size} acceptors ${[...acceptors]}`);
  }
});

Deno.test("§5.3 committing an entry also commits every preceding entry, including older terms'", () => {
  for (const terms of [[], [2], [1, 1], [1, 2]]) {
    const s = peers3();
    s.append(entriesWithTerms(terms));
    s.setHardState({ term: 2, vote: 0, commit: 0 });
    const r = newTestRaft(1, 10, 1, s);
    r.becomeCandidate();
    r.becomeLeader();
    r.step(
      newMessage({
        msg_type: MessageType.MsgPropose,
        from: 1,
        to: 1,
        entries: [newEntry({ data: new Uint8Array([9]) })],
      }),
    );
    for (const m of readMessages(r)) r.step(acceptAndReply(m));
    const li = terms.length;
    const got = persistAndApply(r, s).map((e) => [e.index, e.term]);
    const want = [...terms.map((t, i) => [i + 1, t]), [li + 1, 3], [li + 2, 3]];
    expectEq(got, want, `terms ${terms}`);
  }
});

Deno.test("§5.3 a follower applies entries up to the leader's commit index", () => {
  const ents = [
    newEntry({ term: 1, index: 1, data: new Uint8Array([1]) }),
    newEntry({ term: 1, index: 2, data: new Uint8Array([2]) }),
  ];
  for (const commit of [1, 2]) {
    const s = peers3();
    const r = newTestRaft(1, 10, 1, s);
    r.becomeFollower(1, 2);
    r.step(newMessage({ msg_type: MsgAppend, from: 2, to: 1, term: 1, entries: ents, commit }));
    expectEq(r.raft_log.committed, commit, "committed");
    expectEq(
      persistAndApply(r, s).map((e) => e.index),
      ents.slice(0, commit).map((e) => e.index),
      "applied",
    );
  }
});

Deno.test("§5.3 a follower rejects an append whose previous entry does not match (with a hint)", () => {
  const cases: [number, number, boolean, number, number][] = [
    // [prev term, prev index, reject, reject hint, hint term]
    [0, 0, false, 0, 0],
    [1, 1, false, 0, 0],
    [2, 2, false, 0, 0],
    [1, 2, true, 1, 1],
    [3, 3, true, 2, 2],
  ];
  for (const [term, index, wreject, whint, whint_term] of cases) {
    const s = peers3();
    s.append(entriesWithTerms([1, 2]));
    const r = newTestRaft(1, 10, 1, s);
    r.becomeFollower(2, 2);
    r.step(
      newMessage({
        msg_type: MsgAppend,
        from: 2,
        to: 1,
        term: 2,
        log_term: term,
        index,
        commit: 1,
      }),
    );
    const [m] = readMessages(r);
    expectEq([m.msg_type, m.reject, m.reject_hint, m.log_term], [
      MsgAppendResponse,
      wreject,
      whint,
      wreject ? whint_term : 0,
    ], `prev (${index}, ${term})`);
    if (!wreject) expectEq(m.index, index, "acked index");
  }
});

Deno.test("§5.3 a follower deletes conflicting entries and appends the leader's", () => {
  const cases: [number, number, number[], number[]][] = [
    // [prev index, prev term, appended terms starting at prev+1, resulting log terms]
    [2, 2, [3], [1, 2, 3]],
    [1, 1, [3, 4], [1, 3, 4]],
    [0, 0, [1], [1, 2]],
    [0, 0, [3], [3]],
  ];
  for (const [index, term, ents, want] of cases) {
    const s = peers3();
    s.append(entriesWithTerms([1, 2]));
    const r = newTestRaft(1, 10, 1, s);
    r.becomeFollower(2, 2);
    const entries = ents.map((t, i) => newEntry({ term: t, index: index + 1 + i }));
    r.step(
      newMessage({ msg_type: MsgAppend, from: 2, to: 1, term: 2, log_term: term, index, entries }),
    );
    expectEq(r.raft_log.allEntries().map((e) => e.term), want, `append after (${index}, ${term})`);
  }
});

Deno.test("§5.3 a leader brings every inconsistent follower log (Figure 7) into agreement", () => {
  const leader_terms = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  const followers = [
    [1, 1, 1, 4, 4, 5, 5, 6, 6],
    [1, 1, 1, 4],
    [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
    [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
    [1, 1, 1, 4, 4, 4, 4],
    [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
  ];
  for (const fterms of followers) {
    const ls = peers3();
    ls.append(entriesWithTerms(leader_terms));
    ls.setHardState({ term: 8, vote: 0, commit: leader_terms.length });
    const lead = newTestRaft(1, 10, 1, ls);
    const fs = peers3();
    fs.append(entriesWithTerms(fterms));
    fs.setHardState({ term: 7, vote: 0, commit: 0 });
    const follower = newTestRaft(2, 10, 1, fs);
    // 3 votes for 1 so 1 wins term 9 without 2's vote; 2 stays out of the vote.
    const n = new (class {
      send(msgs: Message[]) {
        for (let i = 0; i < 10_000 && msgs.length > 0; i++) {
          const m = msgs.shift()!;
          const to = m.to === 1 ? lead : m.to === 2 ? follower : null;
          if (to === null) {
            if (m.msg_type === MsgRequestVote) {
              msgs.push(
                newMessage({ msg_type: MsgRequestVoteResponse, from: 3, to: 1, term: m.term }),
              );
            }
            continue;
          }
          to.step(m);
          msgs.push(...readMessages(to));
        }
      }
    })();
    lead.becomeFollower(8, NONE);
    n.send([newMessage({ msg_type: MessageType.MsgHup, from: 1, to: 1 })]);
    assert(lead.state === StateType.Leader, "1 became leader");
    n.send([
      newMessage({ msg_type: MessageType.MsgPropose, from: 1, to: 1, entries: [newEntry({})] }),
    ]);
    expectEq(
      follower.raft_log.allEntries().map((e) => [e.index, e.term]),
      lead.raft_log.allEntries().map((e) => [e.index, e.term]),
      `follower ${fterms}`,
    );
  }
});

Deno.test("§5.4.1 a vote request carries the candidate's last log index and term", () => {
  for (const [ents, wterm] of [[[1], 2], [[1, 2], 3]] as const) {
    const r = newTestRaft(1, 10, 1, peers3());
    r.step(
      newMessage({
        msg_type: MsgAppend,
        from: 2,
        to: 1,
        term: wterm - 1,
        log_term: 0,
        index: 0,
        entries: ents.map((t, i) => newEntry({ term: t, index: i + 1 })),
      }),
    );
    readMessages(r);
    for (let i = 1; i < r.cfg.election_timeout_ticks * 2; i++) r.tick();
    const msgs = sortMsgs(readMessages(r));
    expectEq(msgs.map((m) => [m.msg_type, m.to, m.term, m.index, m.log_term]), [
      [MsgRequestVote, 2, wterm, ents.length, ents[ents.length - 1]],
      [MsgRequestVote, 3, wterm, ents.length, ents[ents.length - 1]],
    ], `log ${ents}`);
  }
});

Deno.test("§5.4.1 a voter denies its vote to a candidate whose log is less up to date", () => {
  const cases: [number[], number, number, boolean][] = [
    // [voter log terms, candidate last term, candidate last index, reject]
    [[1], 1, 1, false],
    [[1], 1, 2, false],
    [[1, 1], 1, 1, true],
    [[1], 2, 1, false],
    [[1], 2, 2, false],
    [[1, 1], 2, 1, false],
    [[2], 1, 1, true],
    [[2], 1, 2, true],
    [[2, 1], 1, 1, true],
  ];
  for (const [terms, log_term, index, wreject] of cases) {
    const s = peers3();
    s.append(entriesWithTerms(terms));
    const r = newTestRaft(1, 10, 1, s);
    r.step(newMessage({ msg_type: MsgRequestVote, from: 2, to: 1, term: 3, log_term, index }));
    const [m] = readMessages(r);
    expectEq(
      [m.msg_type, m.reject],
      [MsgRequestVoteResponse, wreject],
      `voter ${terms} candidate (${index}, ${log_term})`,
    );
  }
});

Deno.test("§5.4.2 a leader commits only entries of its current term by counting replicas", () => {
  // [index acked by a majority, expected commit]
  for (const [index, wcommit] of [[1, 0], [2, 0], [3, 3]]) {
    const s = peers3();
    s.append(entriesWithTerms([1, 2]));
    s.setHardState({ term: 2, vote: 0, commit: 0 });
    const r = newTestRaft(1, 10, 1, s);
    r.becomeCandidate(); // term 3; the no-op is index 3
    r.becomeLeader();
    readMessages(r);
    r.step(newMessage({ msg_type: MsgAppendResponse, from: 2, to: 1, term: r.term, index }));
    expectEq(r.raft_log.committed, wcommit, `ack of ${index}`);
  }
});
