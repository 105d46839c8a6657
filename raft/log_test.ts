import { assert } from "./assert.ts";
import { NO_LIMIT_BYTES, RaftLog } from "./log.ts";
import { MemoryStorage } from "./memory_storage.ts";
import { entriesWithTerms, expectEq } from "./testing.ts";
import { newEntry } from "./util.ts";

function logWith(terms: number[]): RaftLog {
  const s = MemoryStorage.withPeers([1]);
  s.append(entriesWithTerms(terms));
  return new RaftLog(s);
}

Deno.test("log: findConflict finds the first new or conflicting entry", () => {
  const l = logWith([1, 2, 3]);
  const e = (index: number, term: number) => newEntry({ index, term });
  expectEq(l.findConflict([]), 0, "nothing");
  expectEq(l.findConflict([e(1, 1), e(2, 2), e(3, 3)]), 0, "all present");
  expectEq(l.findConflict([e(2, 2), e(3, 3), e(4, 4)]), 4, "new");
  expectEq(l.findConflict([e(2, 2), e(3, 4)]), 3, "conflict");
});

Deno.test("log: findConflictByTerm jumps to the last entry of a term <= the given one", () => {
  const l = logWith([1, 1, 2, 2, 5, 5]);
  expectEq(l.findConflictByTerm(6, 4), { index: 4, term: 2 }, "skip term 5");
  expectEq(l.findConflictByTerm(6, 5), { index: 6, term: 5 }, "same term");
  expectEq(l.findConflictByTerm(4, 1), { index: 2, term: 1 }, "skip term 2");
  expectEq(l.findConflictByTerm(4, 0), { index: 0, term: 0 }, "before everything");
});

Deno.test("log: maybeAppend truncates conflicts, never below commit, and commits to min(commit, last new)", () => {
  const l = logWith([1, 2, 3]);
  expectEq(l.maybeAppend(3, 4, 3, []), null, "mismatched previous term");
  expectEq(l.maybeAppend(1, 1, 5, [newEntry({ index: 2, term: 4 })]), 2, "last new index");
  expectEq(l.allEntries().map((e) => e.term), [1, 4], "truncated after the conflict");
  expectEq(l.committed, 2, "commit capped at the last new index");
  let threw = false;
  try {
    l.maybeAppend(0, 0, 2, [newEntry({ index: 1, term: 9 })]);
  } catch {
    threw = true;
  }
  assert(threw, "truncating a committed entry must crash");
});

Deno.test("log: commit never decreases nor passes the last index; applied <= committed", () => {
  const l = logWith([1, 1, 1]);
  l.commitTo(2);
  l.commitTo(1);
  expectEq(l.committed, 2, "commit never decreases");
  let threw = false;
  try {
    l.commitTo(4);
  } catch {
    threw = true;
  }
  assert(threw, "commit past the last index must crash");
  threw = false;
  try {
    l.appliedTo(3);
  } catch {
    threw = true;
  }
  assert(threw, "applied past commit must crash");
});

Deno.test("log: maybeCommit only commits an index of the given (current) term", () => {
  const l = logWith([1, 2]);
  expectEq(l.maybeCommit(2, 3), false, "term 2 entry with current term 3");
  expectEq(l.maybeCommit(2, 2), true, "term 2 entry with current term 2");
  expectEq(l.committed, 2, "committed");
});

Deno.test("log: nextEntries respects max_apply_size_bytes and the apply cursor", () => {
  const s = MemoryStorage.withPeers([1]);
  s.append([1, 2, 3].map((i) => newEntry({ index: i, term: 1, data: new Uint8Array(100) })));
  const l = new RaftLog(s, 150);
  l.commitTo(3);
  expectEq(l.nextEntries().map((e) => e.index), [1], "bounded by bytes");
  l.appliedTo(1);
  expectEq(l.nextEntries().map((e) => e.index), [2], "from applied + 1");
  const u = new RaftLog(s, NO_LIMIT_BYTES);
  u.commitTo(3);
  expectEq(u.nextEntries().map((e) => e.index), [1, 2, 3], "unbounded");
});
