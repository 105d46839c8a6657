import assert from "node:assert/strict";
import type { Entry } from "@eraft/proto/gen/eraftpb.ts";
import { emptySnapshot, LogCompactedError, LogUnavailableError } from "@eraft/raft";
import { listSegments } from "./files.ts";
import { RaftLogStore } from "./raft_log.ts";
import { copyDir, withTempDir } from "./test_util.ts";
import { scanFrames } from "./record.ts";
import { join } from "node:path";

function ent(index: number, term: number, size = 4): Entry {
  return { entry_type: 0, index, term, data: new Uint8Array(size).fill(index & 255) };
}

function ents(from: number, to: number, term: number, size = 4): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(ent(i, term, size));
  return out;
}

function terms(log: RaftLogStore, r: number): number[] {
  const out: number[] = [];
  for (let i = log.firstIndex(r) - 1; i <= log.lastIndex(r); i++) out.push(log.term(r, i));
  return out;
}

Deno.test("raft log: an unknown region is an empty log at index 0", () => {
  withTempDir((dir) => {
    const log = RaftLogStore.open(dir);
    try {
      assert.equal(log.firstIndex(7), 1);
      assert.equal(log.lastIndex(7), 0);
      assert.equal(log.term(7, 0), 0);
      assert.deepEqual(log.entries(7, 1, 1, 100), []);
      assert.throws(() => log.term(7, 1), LogUnavailableError);
      assert.deepEqual(log.hardState(7), { term: 0, vote: 0, commit: 0 });
    } finally {
      log.close();
    }
  });
});

Deno.test("raft log: append, read ranges, terms; state survives reopen", () => {
  withTempDir((dir) => {
    let log = RaftLogStore.open(dir);
    try {
      log.write([
        { region_id: 1, entries: ents(1, 5, 1), hard_state: { term: 1, vote: 2, commit: 3 } },
        { region_id: 2, entries: ents(1, 2, 3), conf_state: { nodes: [1, 2, 3], learners: [4] } },
      ]);
      log.sync();
      for (let pass = 0; pass < 2; pass++) {
        assert.deepEqual(log.entries(1, 2, 5, 1e9).map((e) => e.index), [2, 3, 4]);
        assert.deepEqual(log.entries(1, 2, 5, 1e9)[0], ent(2, 1));
        assert.deepEqual(terms(log, 1), [0, 1, 1, 1, 1, 1]);
        assert.deepEqual(terms(log, 2), [0, 3, 3]);
        assert.deepEqual(log.hardState(1), { term: 1, vote: 2, commit: 3 });
        assert.deepEqual(log.confState(2), { nodes: [1, 2, 3], learners: [4] });
        assert.deepEqual(log.regionIds(), [1, 2]);
        log.close();
        log = RaftLogStore.open(dir, { entry_cache_bytes: 0 });
      }
    } finally {
      log.close();
    }
  });
});

Deno.test("raft log: entries are cut at max_size_bytes but never empty", () => {
  withTempDir((dir) => {
    const log = RaftLogStore.open(dir, { entry_cache_bytes: 0 });
    try {
      log.append(1, ents(1, 10, 1, 100)); // 116 bytes each as raft counts
      assert.equal(log.entries(1, 1, 11, 0).length, 1);
      assert.equal(log.entries(1, 1, 11, 116).length, 1);
      assert.equal(log.entries(1, 1, 11, 232).length, 2);
      assert.equal(log.entries(1, 1, 11, 233).length, 2);
      assert.equal(log.entries(1, 1, 11, 1e9).length, 10);
      assert.throws(() => log.entries(1, 1, 12, 1e9), LogUnavailableError);
    } finally {
      log.close();
    }
  });
});

Deno.test("raft log: a conflicting append overwrites from its first index", () => {
  withTempDir((dir) => {
    let log = RaftLogStore.open(dir);
    try {
      log.append(1, ents(1, 6, 1));
      log.append(1, ents(4, 5, 2));
      assert.equal(log.lastIndex(1), 5);
      assert.deepEqual(terms(log, 1), [0, 1, 1, 1, 2, 2]);
      log.append(1, ents(6, 6, 2));
      assert.throws(() => log.append(1, ents(8, 8, 2)), /gap/);
      log.close();
      log = RaftLogStore.open(dir);
      assert.deepEqual(terms(log, 1), [0, 1, 1, 1, 2, 2, 2]);
    } finally {
      log.close();
    }
  });
});

Deno.test("raft log: compaction keeps the dummy term and rejects compacted reads", () => {
  withTempDir((dir) => {
    let log = RaftLogStore.open(dir);
    try {
      log.append(1, [...ents(1, 3, 1), ...ents(4, 6, 2)]);
      log.compact(1, 4);
      assert.equal(log.firstIndex(1), 5);
      assert.equal(log.term(1, 4), 2);
      assert.throws(() => log.term(1, 3), LogCompactedError);
      assert.throws(() => log.entries(1, 4, 6, 1e9), LogCompactedError);
      log.append(1, ents(2, 5, 9)); // at or below the compaction point: skipped
      assert.deepEqual(terms(log, 1), [2, 9], "entry 5 overwritten, 6 truncated");
      log.compact(1, 100, 7); // snapshot applied past the log
      assert.equal(log.firstIndex(1), 101);
      assert.equal(log.lastIndex(1), 100);
      assert.equal(log.term(1, 100), 7);
      log.close();
      log = RaftLogStore.open(dir);
      assert.equal(log.firstIndex(1), 101);
      assert.equal(log.term(1, 100), 7);
      log.append(1, ents(101, 101, 7));
      assert.equal(log.lastIndex(1), 101);
    } finally {
      log.close();
    }
  });
});

Deno.test("raft log: segments are deleted once every region compacts past them", () => {
  withTempDir((dir) => {
    const opts = { segment_size_bytes: 4096 };
    let log = RaftLogStore.open(dir, opts);
    try {
      for (let i = 1; i <= 200; i++) {
        log.write([
          { region_id: 1, entries: [ent(i, 1, 50)], hard_state: { term: 1, vote: 1, commit: i } },
          { region_id: 2, entries: [ent(i, 1, 50)] },
        ]);
      }
      const before = log.stats().segments;
      assert(before > 5);
      log.compact(1, 190);
      assert.equal(log.stats().segments, before, "region 2 still needs them");
      log.compact(2, 150);
      const after = log.stats().segments;
      assert(after < before / 2, `${after} segments left of ${before}`);
      log.close();
      log = RaftLogStore.open(dir, opts);
      assert.equal(log.firstIndex(1), 191);
      assert.equal(log.firstIndex(2), 151);
      assert.equal(log.lastIndex(2), 200);
      assert.equal(log.term(2, 150), 1);
      assert.deepEqual(log.hardState(1), { term: 1, vote: 1, commit: 200 });
      assert.deepEqual(log.entries(2, 151, 201, 1e9).map((e) => e.index)[49], 200);
    } finally {
      log.close();
    }
  });
});

Deno.test("raft log: recovery across a deleted segment and a later overwrite", () => {
  withTempDir((dir) => {
    const opts = { segment_size_bytes: 2048 };
    let log = RaftLogStore.open(dir, opts);
    try {
      log.append(1, ents(1, 30, 1, 60));
      log.append(1, ents(25, 40, 2, 60));
      log.compact(1, 35);
      assert(listSegments(dir, "raftlog")[0] > 1, "the first segment was deleted");
      log.close();
      log = RaftLogStore.open(dir, opts);
      assert.equal(log.firstIndex(1), 36);
      assert.equal(log.lastIndex(1), 40);
      assert.deepEqual(terms(log, 1), [2, 2, 2, 2, 2, 2]);
    } finally {
      log.close();
    }
  });
});

Deno.test("raft log: destroy forgets a region, also after reopen", () => {
  withTempDir((dir) => {
    let log = RaftLogStore.open(dir);
    try {
      log.append(1, ents(1, 3, 1));
      log.append(2, ents(1, 3, 1));
      log.destroy(1);
      assert.deepEqual(log.regionIds(), [2]);
      log.close();
      log = RaftLogStore.open(dir);
      assert.deepEqual(log.regionIds(), [2]);
      assert.equal(log.lastIndex(1), 0);
    } finally {
      log.close();
    }
  });
});

Deno.test("raft log: RegionStorage implements raft's Storage", () => {
  withTempDir((dir) => {
    const log = RaftLogStore.open(dir);
    try {
      log.write([{
        region_id: 5,
        entries: ents(1, 4, 2),
        hard_state: { term: 2, vote: 1, commit: 2 },
        conf_state: { nodes: [1], learners: [] },
      }]);
      const snap = emptySnapshot();
      const st = log.storage(5, () => snap);
      assert.deepEqual(st.initialState(), {
        hard_state: { term: 2, vote: 1, commit: 2 },
        conf_state: { nodes: [1], learners: [] },
      });
      assert.equal(st.firstIndex(), 1);
      assert.equal(st.lastIndex(), 4);
      assert.equal(st.term(3), 2);
      assert.equal(st.entries(1, 5, 1e9).length, 4);
      assert.equal(st.snapshot(), snap);
    } finally {
      log.close();
    }
  });
});

Deno.test("raft log: the head is extended with zeros ahead of its records; a crash copy recovers, sealing and closing trim", () => {
  withTempDir((dir) => {
    const opts = { segment_size_bytes: 8192, prealloc_bytes: 4096 };
    const entry = (i: number) => ({
      entry_type: 0 as const,
      index: i,
      term: 1,
      data: new Uint8Array(100).fill(i),
    });
    const head = join(dir, "0000000001.raftlog");
    const log = RaftLogStore.open(dir, opts);
    try {
      for (let i = 1; i <= 30; i++) log.append(1, [entry(i)]);
      log.sync();
      const length = Deno.statSync(head).size;
      assert.equal(length % 4096, 0, `preallocated in whole steps: ${length}`);
      assert.ok(length > log.stats().disk_bytes, "zeros past the records");
      withTempDir((copy) => {
        copyDir(dir, copy); // what a crash right now leaves
        const again = RaftLogStore.open(copy, opts);
        try {
          assert.equal(again.lastIndex(1), 30);
          assert.deepEqual(again.entries(1, 30, 31, 1e9)[0].data, entry(30).data);
        } finally {
          again.close();
        }
      });
      for (let i = 31; i <= 120; i++) log.append(1, [entry(i)]); // past 8 KiB: sealed
      assert.ok(log.stats().segments > 1);
      const sealed = Deno.readFileSync(head);
      assert.equal(scanFrames(sealed, head, "strict", () => {}).valid_bytes, sealed.length);
    } finally {
      log.close();
    }
    for (const e of Deno.readDirSync(dir)) {
      const bytes = Deno.readFileSync(join(dir, e.name));
      assert.equal(scanFrames(bytes, e.name, "strict", () => {}).valid_bytes, bytes.length, e.name);
    }
  });
});
