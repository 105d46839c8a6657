import { assert } from "./assert.ts";
import { MemoryStorage, SnapshotOutOfDateError } from "./memory_storage.ts";
import { LogCompactedError, LogUnavailableError } from "./storage.ts";
import { entriesWithTerms, expectEq } from "./testing.ts";
import { newEntry } from "./util.ts";

function storage345(): MemoryStorage {
  // Entries 3@3, 4@4, 5@5 after a snapshot at 3.
  const s = new MemoryStorage();
  s.applySnapshot({
    data: new Uint8Array(0),
    metadata: { conf_state: { nodes: [1], learners: [] }, index: 3, term: 3 },
  });
  s.append([newEntry({ index: 4, term: 4 }), newEntry({ index: 5, term: 5 })]);
  return s;
}

function throwsA(f: () => unknown, cls: new (...a: never[]) => Error): boolean {
  try {
    f();
  } catch (e) {
    return e instanceof cls;
  }
  return false;
}

Deno.test("MemoryStorage: term answers from the dummy entry to the last index", () => {
  const s = storage345();
  expectEq([s.term(3), s.term(4), s.term(5)], [3, 4, 5], "terms");
  assert(throwsA(() => s.term(2), LogCompactedError), "term(2) is compacted");
  assert(throwsA(() => s.term(6), LogUnavailableError), "term(6) is unavailable");
  expectEq([s.firstIndex(), s.lastIndex()], [4, 5], "range");
});

Deno.test("MemoryStorage: entries respects bounds and max_size_bytes, returning at least one", () => {
  const s = storage345();
  assert(throwsA(() => s.entries(3, 5, 1e9), LogCompactedError), "lo at the dummy is compacted");
  assert(throwsA(() => s.entries(4, 7, 1e9), LogUnavailableError), "hi past last is unavailable");
  expectEq(s.entries(4, 6, 1e9).map((e) => e.index), [4, 5], "all");
  expectEq(s.entries(4, 6, 0).map((e) => e.index), [4], "at least one");
});

Deno.test("MemoryStorage: append truncates a conflicting suffix and refuses gaps", () => {
  const s = storage345();
  s.append([newEntry({ index: 5, term: 6 }), newEntry({ index: 6, term: 6 })]);
  expectEq(
    s.entries(4, 7, 1e9).map((e) => [e.index, e.term]),
    [[4, 4], [5, 6], [6, 6]],
    "after conflict",
  );
  s.append([newEntry({ index: 2, term: 3 }), newEntry({ index: 3, term: 3 })]); // all compacted: no-op
  expectEq(s.lastIndex(), 6, "compacted append ignored");
  let threw = false;
  try {
    s.append([newEntry({ index: 9, term: 7 })]);
  } catch {
    threw = true;
  }
  assert(threw, "a gap must be refused");
});

Deno.test("MemoryStorage: compact, createSnapshot and applySnapshot keep the dummy entry", () => {
  const s = MemoryStorage.withPeers([1, 2, 3]);
  s.append(entriesWithTerms([1, 1, 2, 2]));
  const snap = s.createSnapshot(3, { nodes: [1, 2, 3], learners: [] }, new Uint8Array([9]));
  expectEq([snap.metadata?.index, snap.metadata?.term], [3, 2], "snapshot point");
  s.compact(3);
  expectEq([s.firstIndex(), s.lastIndex(), s.term(3)], [4, 4, 2], "after compaction");
  assert(throwsA(() => s.compact(2), LogCompactedError), "compacting twice");
  assert(
    throwsA(
      () => s.createSnapshot(2, { nodes: [], learners: [] }, new Uint8Array()),
      SnapshotOutOfDateError,
    ),
    "old snapshot",
  );
  const t = new MemoryStorage();
  t.applySnapshot(snap);
  expectEq([t.firstIndex(), t.lastIndex(), t.term(3)], [4, 3, 2], "installed");
  expectEq(t.initialState().conf_state.nodes, [1, 2, 3], "membership from the snapshot");
  assert(throwsA(() => t.applySnapshot(snap), SnapshotOutOfDateError), "same snapshot twice");
});
