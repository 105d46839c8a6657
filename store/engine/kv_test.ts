import assert from "node:assert/strict";
import { SegmentFile } from "./files.ts";
import { KvEngine } from "./kv.ts";
import { buildHint, HintBuilder, Op } from "./kv_format.ts";
import { b, s, withTempDir } from "./test_util.ts";

const E = new Uint8Array(0);

function pairs(list: [Uint8Array, Uint8Array][]): [string, string][] {
  return list.map(([k, v]) => [s(k)!, s(v)!]);
}

Deno.test("kv: put, get, overwrite, delete", () => {
  withTempDir((dir) => {
    const e = KvEngine.open(dir);
    try {
      assert.equal(e.get("default", b("a")), undefined);
      e.write(e.newBatch().put("default", b("a"), b("1")).put("lock", b("a"), b("L")));
      assert.equal(s(e.get("default", b("a"))), "1");
      assert.equal(s(e.get("lock", b("a"))), "L");
      assert.equal(e.get("write", b("a")), undefined, "column families are separate");
      e.write(e.newBatch().put("default", b("a"), b("2")), { sync: true });
      assert.equal(s(e.get("default", b("a"))), "2");
      e.write(e.newBatch().delete("default", b("a")));
      assert.equal(e.get("default", b("a")), undefined);
      assert.equal(s(e.get("lock", b("a"))), "L");
    } finally {
      e.close();
    }
  });
});

Deno.test("kv: putNew of a key that exists after all overwrites it and keeps segment stats exact", () => {
  withTempDir((dir) => {
    const e = KvEngine.open(dir);
    try {
      e.write(e.newBatch().putNew("raft", b("fresh"), b("1")).put("raft", b("old"), b("1")));
      e.write(e.newBatch().putNew("raft", b("old"), b("2")));
      assert.equal(s(e.get("raft", b("fresh"))), "1");
      assert.equal(s(e.get("raft", b("old"))), "2");
      const live = [...e.index.stats.values()].reduce((n, st) => n + st.live_puts, 0);
      assert.equal(live, 2, "the overwritten location no longer counts as live");
      assert.equal(e.index.key_count, 2);
    } finally {
      e.close();
    }
    const again = KvEngine.open(dir);
    try {
      assert.equal(s(again.get("raft", b("old"))), "2", "a putNew is an ordinary put on disk");
    } finally {
      again.close();
    }
  });
});

Deno.test("kv: values of every size round-trip, including empty and large", () => {
  withTempDir((dir) => {
    const e = KvEngine.open(dir, { read_cache_bytes: 0 });
    try {
      const sizes = [0, 1, 119, 120, 121, 4096, 300_000];
      for (const n of sizes) {
        const v = new Uint8Array(n).map((_, i) => (i * 7 + n) & 255);
        e.write(e.newBatch().put("default", b(`k${n}`), v));
      }
      for (const n of sizes) {
        const v = e.get("default", b(`k${n}`))!;
        assert.equal(v.length, n);
        assert(v.every((x, i) => x === ((i * 7 + n) & 255)));
      }
    } finally {
      e.close();
    }
  });
});

Deno.test("kv: scan and scanKeys forward, reverse, limit, bounds, unbounded end", () => {
  withTempDir((dir) => {
    const e = KvEngine.open(dir);
    try {
      const batch = e.newBatch();
      for (const k of ["a", "b", "ba", "c", "d"]) batch.put("write", b(k), b(k.toUpperCase()));
      e.write(batch);
      assert.deepEqual(pairs(e.scan("write", b("b"), b("d"), 10)), [
        ["b", "B"],
        ["ba", "BA"],
        ["c", "C"],
      ]);
      assert.deepEqual(pairs(e.scan("write", b("b"), b("d"), 10, true)), [
        ["c", "C"],
        ["ba", "BA"],
        ["b", "B"],
      ]);
      assert.deepEqual(pairs(e.scan("write", E, E, 2)), [["a", "A"], ["b", "B"]]);
      assert.deepEqual(pairs(e.scan("write", E, E, 2, true)), [["d", "D"], ["c", "C"]]);
      assert.deepEqual(e.scan("write", b("x"), E, 5), []);
      assert.deepEqual(e.scan("write", E, E, 0), []);
      assert.deepEqual(e.scan("default", E, E, 10), []);
      const keys = (got: Uint8Array[]) => got.map((k) => s(k));
      countingReads((reads) => {
        assert.deepEqual(keys(e.scanKeys("write", b("b"), b("d"), 10)), ["b", "ba", "c"]);
        assert.deepEqual(keys(e.scanKeys("write", b("b"), b("d"), 10, true)), ["c", "ba", "b"]);
        assert.deepEqual(keys(e.scanKeys("write", E, E, 2, true)), ["d", "c"]);
        assert.deepEqual(e.scanKeys("write", E, E, 0), []);
        assert.equal(reads.n, 0, "scanKeys read values from disk");
      });
    } finally {
      e.close();
    }
  });
});

Deno.test("kv: countKeys counts a range's keys up to a bound, deletes excluded", () => {
  withTempDir((dir) => {
    const e = KvEngine.open(dir);
    try {
      const batch = e.newBatch();
      for (const k of ["a", "b", "ba", "c", "d"]) batch.put("write", b(k), b("v"));
      batch.put("default", b("b"), b("other cf"));
      batch.delete("write", b("c"));
      e.write(batch);
      assert.equal(e.countKeys("write", b("b"), b("d"), 10), 2); // b, ba (c is deleted)
      assert.equal(e.countKeys("write", E, E, 10), 4);
      assert.equal(e.countKeys("write", E, E, 3), 3);
      assert.equal(e.countKeys("write", E, E, 0), 0);
      assert.equal(e.countKeys("lock", E, E, 10), 0);
      assert.equal(e.countKeys("write", b("bb"), E, 10), 1); // d (c is deleted)
      assert.equal(e.countKeys("write", b("e"), E, 10), 0); // past the last key
      assert.equal(e.countKeys("write", b("d"), E, 10), 1); // the last key itself
      assert.equal(e.countKeys("write", b("a"), b("b"), 10), 1); // end excluded
    } finally {
      e.close();
    }
  });
});

Deno.test("kv: keys order bytewise, including bytes >= 0x80", () => {
  withTempDir((dir) => {
    const e = KvEngine.open(dir);
    try {
      const keys = [[0xff], [0x80, 0x00], [0x7f], [0x00], [0x80], [0x9f, 0x01]];
      const batch = e.newBatch();
      for (const k of keys) batch.put("default", new Uint8Array(k), new Uint8Array([1]));
      e.write(batch);
      const got = e.scan("default", E, E, 100).map(([k]) => [...k]);
      assert.deepEqual(got, [[0x00], [0x7f], [0x80], [0x80, 0x00], [0x9f, 0x01], [0xff]]);
    } finally {
      e.close();
    }
  });
});

Deno.test("kv: deleteRange removes [start, end) and survives restart", () => {
  withTempDir((dir) => {
    let e = KvEngine.open(dir);
    try {
      const batch = e.newBatch();
      for (const k of ["a", "b", "c", "d", "e"]) batch.put("default", b(k), b(k));
      batch.put("lock", b("c"), b("lock"));
      e.write(batch);
      e.write(e.newBatch().deleteRange("default", b("b"), b("d")), { sync: true });
      assert.deepEqual(pairs(e.scan("default", E, E, 10)).map(([k]) => k), ["a", "d", "e"]);
      e.write(e.newBatch().deleteRange("default", b("d"), E), { sync: true });
      assert.deepEqual(pairs(e.scan("default", E, E, 10)).map(([k]) => k), ["a"]);
      e.close();
      e = KvEngine.open(dir);
      assert.deepEqual(pairs(e.scan("default", E, E, 10)).map(([k]) => k), ["a"]);
      assert.equal(s(e.get("lock", b("c"))), "lock");
    } finally {
      e.close();
    }
  });
});

Deno.test("kv: state survives close and reopen, across sealed segments with hints", () => {
  withTempDir((dir) => {
    let e = KvEngine.open(dir, { segment_size_bytes: 4096 });
    try {
      for (let i = 0; i < 500; i++) {
        e.write(e.newBatch().put("default", b(`k${i % 97}`), b(`v${i}`)));
      }
      e.write(e.newBatch().delete("default", b("k5")), { sync: true });
      const before = pairs(e.scan("default", E, E, 1000));
      assert(e.stats().segments > 3);
      e.close();
      e = KvEngine.open(dir, { segment_size_bytes: 4096 });
      assert.deepEqual(pairs(e.scan("default", E, E, 1000)), before);
      e.close();
      // Without hint files the segments are scanned instead, same result.
      for (const f of Deno.readDirSync(dir)) {
        if (f.name.endsWith(".hint")) Deno.removeSync(`${dir}/${f.name}`);
      }
      e = KvEngine.open(dir, { segment_size_bytes: 4096 });
      assert.deepEqual(pairs(e.scan("default", E, E, 1000)), before);
    } finally {
      e.close();
    }
  });
});

Deno.test("kv: a sealed segment's hint, built while writing and across a reopen, is the one a scan builds", () => {
  withTempDir((dir) => {
    const opts = { segment_size_bytes: 2048 };
    let e = KvEngine.open(dir, opts);
    try {
      const write = (from: number, to: number) => {
        for (let i = from; i < to; i++) {
          const batch = e.newBatch().put(
            "default",
            b(`k${i % 97}`),
            b(`v${i}`.repeat(1 + (i % 5))),
          );
          if (i % 7 === 0) batch.delete("write", b(`w${i}`));
          if (i % 31 === 0) batch.deleteRange("lock", b(`a${i}`), i % 2 ? b(`z${i}`) : E);
          e.write(batch);
        }
      };
      write(0, 150);
      // Reopened mid-segment: the head's hint so far comes from its replay.
      e.close();
      e = KvEngine.open(dir, opts);
      write(150, 400);
      assert(e.stats().segments > 4);
      const sealed = [...Deno.readDirSync(dir)].filter((f) => f.name.endsWith(".hint"));
      assert(sealed.length >= 4, `${sealed.length} hints`);
      for (const f of sealed) {
        const segment = f.name.replace(/\.hint$/, ".kv");
        const scanned = buildHint(Deno.readFileSync(`${dir}/${segment}`), segment);
        assert.deepEqual(Deno.readFileSync(`${dir}/${f.name}`), scanned, f.name);
      }
    } finally {
      e.close();
    }
  });
});

Deno.test("kv: a hint that cannot be written costs only a rescan", () => {
  withTempDir((dir) => {
    // A directory where the first segment's hint would be built: its file cannot be opened.
    Deno.mkdirSync(`${dir}/0000000001.hint.tmp`);
    const opts = { segment_size_bytes: 2048 };
    let e = KvEngine.open(dir, opts);
    try {
      for (let i = 0; i < 400; i++) e.write(e.newBatch().put("default", b(`k${i}`), b(`v${i}`)));
      const before = pairs(e.scan("default", E, E, 1000));
      const hints = [...Deno.readDirSync(dir)].map((f) => f.name).filter((n) =>
        n.endsWith(".hint")
      );
      assert(!hints.includes("0000000001.hint"), "segment 1 sealed without a hint");
      assert(hints.includes("0000000002.hint"), "later segments have theirs");
      e.close();
      e = KvEngine.open(dir, opts);
      assert.deepEqual(pairs(e.scan("default", E, E, 1000)), before);
    } finally {
      e.close();
    }
  });
});

Deno.test("kv: a damaged hint file is ignored, not trusted", () => {
  withTempDir((dir) => {
    let e = KvEngine.open(dir, { segment_size_bytes: 2048 });
    try {
      for (let i = 0; i < 100; i++) e.write(e.newBatch().put("default", b(`k${i}`), b(`v${i}`)));
      const before = pairs(e.scan("default", E, E, 1000));
      e.close();
      const hint = [...Deno.readDirSync(dir)].find((f) => f.name.endsWith(".hint"))!.name;
      const bytes = Deno.readFileSync(`${dir}/${hint}`);
      bytes[20] ^= 0x10;
      Deno.writeFileSync(`${dir}/${hint}`, bytes);
      e = KvEngine.open(dir, { segment_size_bytes: 2048 });
      assert.deepEqual(pairs(e.scan("default", E, E, 1000)), before);
    } finally {
      e.close();
    }
  });
});

Deno.test("kv: writeMany applies every batch and one sync covers them", () => {
  withTempDir((dir) => {
    let e = KvEngine.open(dir);
    try {
      const batches = [0, 1, 2].map((i) => e.newBatch().put("raft", b(`apply${i}`), b(`${i}`)));
      e.writeMany(batches, { sync: false });
      assert(e.dirty);
      e.sync();
      assert(!e.dirty);
      e.close();
      e = KvEngine.open(dir);
      assert.deepEqual(e.scan("raft", E, E, 10).map(([, v]) => s(v)), ["0", "1", "2"]);
    } finally {
      e.close();
    }
  });
});

Deno.test("kv: snapshot is a consistent view while writes continue", () => {
  withTempDir((dir) => {
    const e = KvEngine.open(dir);
    try {
      e.write(e.newBatch().put("default", b("a"), b("1")).put("default", b("b"), b("2")));
      const snap = e.snapshot();
      try {
        e.write(e.newBatch().put("default", b("a"), b("X")).delete("default", b("b")));
        e.write(e.newBatch().put("default", b("c"), b("3")));
        const it = snap.entries("default", E, E);
        assert.deepEqual(s(it.next().value![1]), "1");
        e.write(e.newBatch().deleteRange("default", E, E));
        assert.deepEqual(s(it.next().value![1]), "2");
        assert(it.next().done);
        assert.equal(s(snap.get("default", b("a"))), "1");
        assert.equal(e.get("default", b("a")), undefined);
      } finally {
        snap.close();
      }
    } finally {
      e.close();
    }
  });
});

Deno.test("kv: ingest replaces a range and writes the final batch", () => {
  withTempDir((dir) => {
    let e = KvEngine.open(dir);
    try {
      e.write(e.newBatch().put("default", b("r1"), b("old")).put("default", b("z"), b("keep")));
      const data: [("default" | "write"), Uint8Array, Uint8Array][] = [];
      for (let i = 0; i < 50; i++) data.push(["default", b(`r${i}`), new Uint8Array(1000)]);
      data.push(["write", b("r1"), b("w")]);
      const last = e.newBatch().put("raft", b("apply"), b("50"));
      e.ingest({ cfs: ["default", "write"], start: b("r"), end: b("s") }, data, last, 8000);
      e.close();
      e = KvEngine.open(dir);
      assert.equal(e.scan("default", b("r"), b("s"), 100).length, 50);
      assert.equal(e.get("default", b("r1"))!.length, 1000);
      assert.equal(s(e.get("default", b("z"))), "keep");
      assert.equal(s(e.get("write", b("r1"))), "w");
      assert.equal(s(e.get("raft", b("apply"))), "50");
    } finally {
      e.close();
    }
  });
});

/** Runs `fn` with every segment read counted in `reads.n`; reads are restored after. */
function countingReads(fn: (reads: { n: number }) => void): void {
  const reads = { n: 0 };
  const readAt = SegmentFile.prototype.readAt;
  SegmentFile.prototype.readAt = function (offset: number, out: Uint8Array): number {
    reads.n++;
    return readAt.call(this, offset, out);
  };
  try {
    fn(reads);
  } finally {
    SegmentFile.prototype.readAt = readAt;
  }
}

Deno.test("kv: scans read sequential records in few reads, forward and backward", () => {
  withTempDir((dir) => {
    const e = KvEngine.open(dir);
    try {
      // Written in descending key order (as LPUSH lays out a list), 100-byte values.
      const N = 2000;
      const key = (i: number) => b(`k${String(i).padStart(5, "0")}`);
      for (let i = N - 1; i >= 0; i--) {
        e.write(e.newBatch().put("default", key(i), b(`v${i}`.padEnd(100, "."))));
      }
      countingReads((reads) => {
        for (const reverse of [false, true]) {
          reads.n = 0;
          const got = e.scan("default", key(0), key(N), N, reverse);
          assert.equal(got.length, N);
          assert.equal(s(got[0][1])!.slice(0, 5), reverse ? `v${N - 1}` : "v0...");
          assert.ok(reads.n < N / 20, `${reads.n} reads for ${N} records (reverse: ${reverse})`);
        }
      });
    } finally {
      e.close();
    }
  });
});

Deno.test("kv: a finished hint refuses further ops (it would describe bytes past its footer)", () => {
  const hint = new HintBuilder();
  hint.add(Op.Put, 0, b("a"), b("1"), 0);
  assert.ok(hint.finish(64).length > 0);
  assert.throws(() => hint.add(Op.Put, 0, b("b"), b("2"), 32), /hint already finished/);
});
