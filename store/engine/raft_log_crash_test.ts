/**
 * Crash tests for the Raft log store: every step writes one record and syncs;
 * cutting the newest segment at every byte of its last records, or flipping a
 * bit in the last one, must reopen to exactly the steps wholly on disk.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { RaftLogStore } from "./raft_log.ts";
import { CorruptionError } from "./record.ts";
import { copyDir, withTempDir } from "./test_util.ts";

function dump(log: RaftLogStore): unknown {
  return log.regionIds().map((r) => {
    const first = log.firstIndex(r);
    const last = log.lastIndex(r);
    const ents = last >= first ? log.entries(r, first, last + 1, 1e9) : [];
    return {
      r,
      first,
      dummy: log.term(r, first - 1),
      ents: ents.map((e) => [e.index, e.term, e.data[0]]),
      hs: log.hardState(r),
    };
  });
}

function buildLog(dir: string): { dumps: unknown[]; ends: number[]; file: string } {
  const log = RaftLogStore.open(dir);
  const dumps: unknown[] = [dump(log)];
  const ends: number[] = [0];
  try {
    const step = (fn: () => void) => {
      fn();
      log.sync();
      dumps.push(dump(log));
      ends.push(log.stats().disk_bytes);
    };
    const e = (index: number, term: number) => ({
      entry_type: 0 as const,
      index,
      term,
      data: new Uint8Array([index * 3 + term]),
    });
    for (let i = 1; i <= 6; i++) step(() => log.append(1, [e(i, 1)]));
    step(() => log.setHardState(1, { term: 1, vote: 1, commit: 4 }));
    step(() => log.append(2, [e(1, 1)]));
    step(() => log.compact(1, 2));
    step(() => log.append(1, [e(5, 2)])); // overwrite 5 and 6
    step(() => log.setHardState(1, { term: 2, vote: 3, commit: 5 }));
    step(() => log.append(1, [e(6, 2)]));
    step(() => log.append(2, [e(2, 1)]));
    return { dumps, ends, file: join(dir, "0000000001.raftlog") };
  } finally {
    log.close();
  }
}

function reopenWith(src: string, bytes: Uint8Array, fn: (log: RaftLogStore) => void) {
  withTempDir((dir) => {
    copyDir(src, dir);
    Deno.writeFileSync(join(dir, "0000000001.raftlog"), bytes);
    const log = RaftLogStore.open(dir);
    try {
      fn(log);
    } finally {
      log.close();
    }
  });
}

Deno.test("raft log crash: a cut at every byte keeps exactly the whole records", () => {
  withTempDir((src) => {
    const { dumps, ends, file } = buildLog(src);
    const full = Deno.readFileSync(file);
    assert.equal(full.length, ends[ends.length - 1]);
    for (let cut = ends[ends.length - 7]; cut <= full.length; cut++) {
      const whole = ends.filter((end) => end <= cut).length - 1;
      reopenWith(src, full.slice(0, cut), (log) => {
        assert.deepEqual(dump(log), dumps[whole], `cut at ${cut}`);
        log.append(3, [{ entry_type: 0, index: 1, term: 1, data: new Uint8Array(1) }]);
        log.sync();
      });
    }
  });
});

Deno.test("raft log crash: a flipped bit in the last record drops only that record", () => {
  withTempDir((src) => {
    const { dumps, ends, file } = buildLog(src);
    const full = Deno.readFileSync(file);
    for (let p = ends[ends.length - 2]; p < full.length; p++) {
      const bad = full.slice();
      bad[p] ^= 1 << (p % 8);
      reopenWith(src, bad, (log) => {
        assert.deepEqual(dump(log), dumps[dumps.length - 2], `bit flip at ${p}`);
      });
    }
  });
});

Deno.test("raft log crash: damage followed by valid records is a loud error", () => {
  withTempDir((src) => {
    const { ends, file } = buildLog(src);
    const bad = Deno.readFileSync(file);
    bad[ends[3] + 12] ^= 0x08;
    withTempDir((dir) => {
      copyDir(src, dir);
      Deno.writeFileSync(join(dir, "0000000001.raftlog"), bad);
      assert.throws(() => RaftLogStore.open(dir), (err: unknown) => {
        assert(err instanceof CorruptionError);
        assert.equal(err.offset, ends[3]);
        assert(err.file.endsWith("0000000001.raftlog"));
        return true;
      });
    });
  });
});

Deno.test("raft log crash: damage inside a sealed segment is a loud error", () => {
  withTempDir((dir) => {
    const log = RaftLogStore.open(dir, { segment_size_bytes: 1024 });
    try {
      for (let i = 1; i <= 40; i++) {
        log.append(1, [{ entry_type: 0, index: i, term: 1, data: new Uint8Array(40) }]);
      }
    } finally {
      log.close();
    }
    const first = join(dir, "0000000001.raftlog");
    const bytes = Deno.readFileSync(first);
    bytes[bytes.length - 3] ^= 0x01; // the sealed segment's last record
    Deno.writeFileSync(first, bytes);
    assert.throws(() => RaftLogStore.open(dir), CorruptionError);
  });
});

Deno.test("raft log crash: a preallocated head (zeros after its records) keeps exactly the whole records, torn at any byte", () => {
  withTempDir((src) => {
    const { dumps, ends, file } = buildLog(src);
    const full = Deno.readFileSync(file);
    for (let cut = ends[ends.length - 3]; cut <= full.length; cut++) {
      const whole = ends.filter((end) => end <= cut).length - 1;
      // What a crash leaves: the records written so far, then the zeros written ahead.
      const bytes = new Uint8Array(cut + 4096);
      bytes.set(full.subarray(0, cut));
      reopenWith(src, bytes, (log) => {
        assert.deepEqual(dump(log), dumps[whole], `cut at ${cut}`);
        log.append(3, [{ entry_type: 0, index: 1, term: 1, data: new Uint8Array(1) }]);
        log.sync();
      });
    }
  });
});
