import assert from "node:assert/strict";
import { KvEngine, type KvEngineOptions } from "./kv.ts";
import { check } from "./check.ts";
import { b, s, withTempDir } from "./test_util.ts";

const E = new Uint8Array(0);
const OPTS: KvEngineOptions = { segment_size_bytes: 2048, compact_step_bytes: 512 };

function dump(e: KvEngine, cf: "default" | "lock" = "default"): [string, string][] {
  return e.scan(cf, E, E, 100_000).map(([k, v]) => [s(k)!, s(v)!]);
}

Deno.test("kv compact: overwritten data is reclaimed and state is unchanged", () => {
  withTempDir((dir) => {
    let e = KvEngine.open(dir, OPTS);
    try {
      for (let round = 0; round < 20; round++) {
        for (let i = 0; i < 20; i++) {
          e.write(e.newBatch().put("default", b(`k${i}`), b(`v${round}.${i}`)));
        }
      }
      const want = dump(e);
      const before = e.stats();
      e.compact();
      const after = e.stats();
      assert(
        after.disk_bytes < before.disk_bytes / 3,
        `${after.disk_bytes} of ${before.disk_bytes}`,
      );
      assert.deepEqual(dump(e), want);
      e.close();
      e = KvEngine.open(dir, OPTS);
      assert.deepEqual(dump(e), want);
      assert(check(dir).ok);
    } finally {
      e.close();
    }
  });
});

Deno.test("kv compact: deleted keys stay deleted after compaction and restart", () => {
  withTempDir((dir) => {
    let e = KvEngine.open(dir, { ...OPTS, compact_max_live_ratio: 0.99 });
    try {
      for (let i = 0; i < 100; i++) e.write(e.newBatch().put("default", b(`k${i}`), b(`v${i}`)));
      for (let i = 0; i < 100; i += 2) e.write(e.newBatch().delete("default", b(`k${i}`)));
      e.write(e.newBatch().deleteRange("default", b("k9"), E));
      for (let i = 0; i < 60; i++) e.write(e.newBatch().put("lock", b(`pad${i}`), b("x")));
      // Small steps pick the emptiest segment first, not always the oldest,
      // so tombstones must be carried forward.
      for (let i = 0; i < 50; i++) e.compactStep(64);
      const want = dump(e);
      e.compact();
      assert.deepEqual(dump(e), want);
      e.close();
      e = KvEngine.open(dir, OPTS);
      assert.deepEqual(dump(e), want);
      assert.equal(want.length, 44, "odd keys minus k9, k91..k99");
      assert(!want.some(([k]) => k.startsWith("k9")));
    } finally {
      e.close();
    }
  });
});

Deno.test("kv compact: a snapshot keeps reading segments compaction retired", () => {
  withTempDir((dir) => {
    const e = KvEngine.open(dir, OPTS);
    try {
      for (let i = 0; i < 100; i++) {
        e.write(e.newBatch().put("default", b(`k${i % 10}`), b(`${i}`)));
      }
      const snap = e.snapshot();
      const want = [...snap.entries("default", E, E)].map(([k, v]) => [s(k), s(v)]);
      e.compact();
      assert(e.retired.size > 0, "old segments kept for the snapshot");
      assert.deepEqual([...snap.entries("default", E, E)].map(([k, v]) => [s(k), s(v)]), want);
      snap.close();
      assert.equal(e.retired.size, 0, "released on close");
    } finally {
      e.close();
    }
  });
});

Deno.test("kv compact: compaction running between writes loses nothing", () => {
  withTempDir((dir) => {
    let e = KvEngine.open(dir, { ...OPTS, compact_max_live_ratio: 0.8 });
    const model = new Map<string, string>();
    let x = 12345;
    const rnd = (n: number) => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      return x % n;
    };
    try {
      let steps = 0;
      for (let i = 0; i < 3000; i++) {
        const k = `k${rnd(200)}`;
        const batch = e.newBatch();
        if (rnd(5) === 0) {
          batch.delete("default", b(k));
          model.delete(k);
        } else {
          const v = `v${i}`.padEnd(rnd(100), ".");
          batch.put("default", b(k), b(v));
          model.set(k, v);
        }
        e.write(batch, { sync: i % 100 === 0 });
        if (e.compactStep(200)) steps++;
        if (i % 500 === 0) {
          for (const [mk, mv] of model) assert.equal(s(e.get("default", b(mk))), mv);
        }
      }
      assert(steps > 100, `compaction ran ${steps} steps`);
      const want = [...model.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
      assert.deepEqual(dump(e), want);
      e.close();
      e = KvEngine.open(dir, OPTS);
      assert.deepEqual(dump(e), want);
    } finally {
      e.close();
    }
  });
});

/** Segment 1: `a` plus 9 live keys; segment 2: the delete(s) plus 9 puts overwritten later. */
function tombstoneLayout(e: KvEngine, del: (batch: ReturnType<KvEngine["newBatch"]>) => void) {
  const big = new Uint8Array(90);
  e.write(e.newBatch().put("default", b("a"), big));
  for (let i = 0; i < 9; i++) e.write(e.newBatch().put("default", b(`live${i}`), big));
  while (e.head.id === 1) e.write(e.newBatch().put("lock", b("fill1"), big));
  const batch = e.newBatch();
  del(batch);
  e.write(batch);
  for (let i = 0; i < 9; i++) e.write(e.newBatch().put("default", b("x"), big));
  while (e.head.id === 2) e.write(e.newBatch().put("lock", b("fill2"), big));
  e.write(e.newBatch().put("default", b("x"), b("final")));
}

Deno.test("kv compact: a tombstone is carried forward while an older segment holds the key", () => {
  withTempDir((dir) => {
    const opts = { segment_size_bytes: 1024, compact_max_live_ratio: 0.5 };
    let e = KvEngine.open(dir, opts);
    try {
      tombstoneLayout(e, (batch) => batch.delete("default", b("a")));
      e.compact();
      assert(!e.segments.has(2), "segment 2 compacted");
      assert(e.segments.has(1), "segment 1 (mostly live) kept");
      e.close();
      e = KvEngine.open(dir, opts);
      assert.equal(e.get("default", b("a")), undefined, "no resurrection");
      assert.equal(s(e.get("default", b("x"))), "final");
    } finally {
      e.close();
    }
  });
});

Deno.test("kv compact: a range delete is compacted only once its segment is the oldest", () => {
  withTempDir((dir) => {
    const opts = { segment_size_bytes: 1024, compact_max_live_ratio: 0.5 };
    let e = KvEngine.open(dir, opts);
    try {
      tombstoneLayout(e, (batch) => batch.deleteRange("default", b("a"), b("b")));
      e.compact();
      assert(e.segments.has(2), "segment 2 holds a range delete and is not the oldest");
      e.close();
      e = KvEngine.open(dir, opts);
      assert.equal(e.get("default", b("a")), undefined);
      assert.equal(e.scan("default", E, E, 100).length, 10);
    } finally {
      e.close();
    }
  });
});
