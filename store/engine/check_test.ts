import assert from "node:assert/strict";
import { join } from "node:path";
import { check } from "./check.ts";
import { WorkerEngines } from "./engines.ts";
import { b, copyDir, withTempDir } from "./test_util.ts";

function fill(dir: string): void {
  const w = WorkerEngines.open(dir, {
    kv: { segment_size_bytes: 1024 },
    raft: { segment_size_bytes: 1024 },
  });
  try {
    for (let i = 1; i <= 60; i++) {
      w.raft.append(1, [{ entry_type: 0, index: i, term: 1, data: b(`cmd${i}`) }]);
      w.kv.write(w.kv.newBatch().put("default", b(`k${i}`), b(`v${i}`)));
      w.sync();
    }
  } finally {
    w.close();
  }
}

Deno.test("check: a healthy worker dir verifies clean", () => {
  withTempDir((dir) => {
    fill(dir);
    const r = check(dir);
    assert(r.ok, JSON.stringify(r.errors));
    assert(r.files > 4);
    assert(r.records >= 120);
    assert.deepEqual(r.torn_tails, []);
  });
});

Deno.test("check: reports damage with file and offset, and torn tails apart", () => {
  withTempDir((dir) => {
    fill(dir);
    const seg = join(dir, "kv", "0000000001.kv");
    const bytes = Deno.readFileSync(seg);
    bytes[12] ^= 0xff; // inside the first record
    Deno.writeFileSync(seg, bytes);
    const raft_dir = join(dir, "raft");
    const newest = [...Deno.readDirSync(raft_dir)].map((e) => e.name).sort().pop()!;
    const head = Deno.readFileSync(join(raft_dir, newest));
    Deno.writeFileSync(join(raft_dir, newest), head.slice(0, head.length - 2));
    const r = check(dir);
    assert(!r.ok);
    assert.equal(r.errors.length, 1);
    assert.equal(r.errors[0].file, seg);
    assert.equal(r.errors[0].offset, 0);
    assert.equal(r.torn_tails.length, 1);
    assert(r.torn_tails[0].file.endsWith(newest));
  });
});

Deno.test("check: a live head's preallocated zeros are no torn tail; garbage after them is", () => {
  withTempDir((dir) => {
    const w = WorkerEngines.open(dir, { raft: { prealloc_bytes: 4096 } });
    try {
      for (let i = 1; i <= 5; i++) {
        w.raft.append(1, [{ entry_type: 0, index: i, term: 1, data: b(`cmd${i}`) }]);
      }
      w.sync();
      withTempDir((copy) => {
        copyDir(join(dir, "raft"), join(copy, "raft")); // the files of a running store
        const head = join(copy, "raft", "0000000001.raftlog");
        assert.equal(Deno.statSync(head).size, 4096);
        const r = check(copy);
        assert(r.ok, JSON.stringify(r.errors));
        assert.equal(r.records, 5);
        assert.deepEqual(r.torn_tails, []);
        const bytes = Deno.readFileSync(head);
        bytes[bytes.length - 1] = 7;
        Deno.writeFileSync(head, bytes);
        assert.equal(check(copy).torn_tails.length, 1);
      });
    } finally {
      w.close();
    }
  });
});
