import assert from "node:assert/strict";
import fc from "fast-check";
import { compareBytes, inRange } from "@eraft/shared/bytes";
import { KvEngine } from "../engine/mod.ts";
import { b, withTempDir } from "../engine/test_util.ts";
import {
  AppliedIds,
  bucketOf,
  bucketRange,
  clearRecords,
  copyAcrossSplit,
  crc32cUpdate,
  decodeRecord,
  DEDUP_BUCKET_MS,
  DEDUP_MAX_AHEAD_MS,
  DEDUP_RETENTION_MS,
  DedupTable,
  encodeRecordValue,
  type KeyRange,
  memcmpDecode,
  memcmpEncode,
  mutationsDigest,
  readFloor,
  recordKey,
  type RecordMember,
  regionRanges,
} from "./dedup.ts";
import { legacyDedupKey } from "./codec.ts";
import { crc32c } from "@node-rs/crc32";
import { MutationOp } from "@eraft/proto/gen/kvrpcpb.ts";

const T0_MS = 1_700_000_000_000;
const EMPTY = new Uint8Array(0);
const WHOLE: KeyRange = { start_key: EMPTY, end_key: EMPTY };

/** Applies one write entry's table work at `proposed_at_ms`; `fn` runs on the table. */
function applyAt<T>(
  kv: KvEngine,
  region_id: number,
  range: KeyRange,
  proposed_at_ms: number,
  fn: (t: DedupTable) => T,
  ids: AppliedIds | null = null,
): T {
  const batch = kv.newBatch();
  const table = new DedupTable(kv, batch, region_id, range, proposed_at_ms, ids);
  const out = fn(table);
  if (batch.count > 0) kv.write(batch);
  return out;
}

/** Records request `id` (first key `first`, `digest`) issued at `at_ms`, alone, applied at `index`. */
function recordAt(t: DedupTable, at_ms: number, first: string, id: number, index = 1, digest = 1) {
  t.record(bucketOf(at_ms), [{ id, first_key: b(first), digest }], index);
}

const arbKey = fc.uint8Array({ maxLength: 20 });

Deno.test("memcmpEncode keeps byte order and no encoding is a prefix of another", () => {
  fc.assert(
    fc.property(arbKey, arbKey, (x, y) => {
      const ex = memcmpEncode(x);
      const ey = memcmpEncode(y);
      assert.equal(Math.sign(compareBytes(ex, ey)), Math.sign(compareBytes(x, y)));
      if (compareBytes(x, y) !== 0) {
        const short = ex.length <= ey.length ? ex : ey;
        const long = ex.length <= ey.length ? ey : ex;
        assert.notDeepEqual(long.subarray(0, short.length), short);
      }
    }),
    { seed: 4242, numRuns: 2000 },
  );
});

Deno.test("record keys keep their on-disk layout: 'D' | u32be bucket | memcmp(first key) | u64be id", () => {
  // Records written by earlier versions must still be found: the layout is fixed.
  const groups = (k: Uint8Array) => {
    const out: number[] = [];
    for (let g = 0; g <= Math.floor(k.length / 8); g++) {
      const chunk = [...k.subarray(g * 8, g * 8 + 8)];
      out.push(...chunk, ...new Array(8 - chunk.length).fill(0), 0xff - (8 - chunk.length));
    }
    return out;
  };
  fc.assert(
    fc.property(fc.nat(2 ** 32 - 1), arbKey, fc.nat(2 ** 53 - 1), (bucket, first, id) => {
      const expected = new Uint8Array(5 + groups(first).length + 8);
      const view = new DataView(expected.buffer);
      expected[0] = 0x44;
      view.setUint32(1, bucket);
      expected.set(groups(first), 5);
      view.setBigUint64(expected.length - 8, BigInt(id));
      assert.deepEqual(recordKey(bucket, first, id), expected);
      assert.deepEqual(memcmpEncode(first), new Uint8Array(groups(first)));
    }),
    { seed: 77, numRuns: 2000 },
  );
});

Deno.test("a record lies in its bucket's range of a region exactly when its first key does", () => {
  fc.assert(
    fc.property(arbKey, arbKey, arbKey, fc.nat(2 ** 53 - 1), (first, lo, hi, id) => {
      const range: KeyRange = { start_key: lo, end_key: hi };
      const [rlo, rhi] = bucketRange(7, range);
      assert.ok(rhi.length > 0, "a bucket's range is bounded");
      const key = recordKey(7, first, id);
      assert.equal(inRange(key, rlo, rhi), inRange(first, lo, hi));
      const [nlo, nhi] = bucketRange(8, WHOLE);
      assert.ok(!inRange(key, nlo, nhi), "next bucket");
    }),
    { seed: 101, numRuns: 3000 },
  );
});

for (const with_ids of [false, true]) {
  const how = with_ids ? "with the worker's ids" : "from the engine alone";
  Deno.test(`dedup: a retry is recognised by id, first key and digest; a colliding id applies (${how})`, () => {
    withTempDir((dir) => {
      const kv = KvEngine.open(dir);
      const ids = with_ids ? new AppliedIds() : null;
      try {
        const bucket = bucketOf(T0_MS);
        const req = (id: number, first: string, digest: number) => ({
          id,
          first_key: b(first),
          digest,
        });
        applyAt(kv, 1, WHOLE, T0_MS, (t) => t.record(bucket, [req(77, "k", 0xabc)], 10), ids);
        // A merged batch's members share one record, keyed by the first.
        applyAt(kv, 1, WHOLE, T0_MS, (t) => {
          t.record(bucket, [req(80, "m", 1), req(81, "a", 2), req(82, "z", 3)], 11);
        }, ids);
        applyAt(kv, 1, WHOLE, T0_MS + 1000, (t) => {
          assert.equal(t.applied(bucket, req(77, "k", 0xabc)), true, "the retry");
          assert.equal(t.applied(bucket, req(77, "k", 0xabd)), false, "other mutations");
          assert.equal(t.applied(bucket, req(78, "k", 0xabc)), false, "other id");
          assert.equal(t.applied(bucket, req(77, "j", 0xabc)), false, "other first key");
          assert.equal(t.applied(bucket + 1, req(77, "k", 0xabc)), false, "other bucket");
          for (const [id, first, digest] of [[80, "m", 1], [81, "a", 2], [82, "z", 3]] as const) {
            assert.equal(t.applied(bucket, req(id, first, digest)), true, `member ${id}`);
          }
          assert.equal(t.applied(bucket, req(81, "m", 2)), false, "a member's id, another key");
        }, ids);
        const records = kv.scan("raft", b("D"), b("E"), 10);
        assert.equal(records.length, 2, "one record per entry");
        // A colliding id with the same first key heads a record under the
        // same key: both requests (and the new one's companion) stay held.
        applyAt(kv, 1, WHOLE, T0_MS, (t) => {
          t.record(bucket, [req(77, "k", 0xdef), req(90, "q", 5)], 12);
        }, ids);
        applyAt(kv, 1, WHOLE, T0_MS + 1000, (t) => {
          for (
            const [id, first, digest] of [[77, "k", 0xabc], [77, "k", 0xdef], [90, "q", 5]] as const
          ) {
            assert.equal(t.applied(bucket, req(id, first, digest)), true, `${id} ${digest}`);
          }
        }, ids);
      } finally {
        kv.close();
      }
    });
  });
}

const arbMember = fc.record({
  id: fc.nat(2 ** 53 - 1),
  first_key: fc.uint8Array({ maxLength: 30 }),
  digest: fc.nat(2 ** 32 - 1),
});

Deno.test("record values: one request keeps the earlier layout; several round-trip; garbage is refused", () => {
  fc.assert(
    fc.property(
      fc.nat(2 ** 32 - 1),
      fc.array(arbMember, { minLength: 1, maxLength: 8 }),
      fc.nat(2 ** 53 - 1),
      (bucket, members, index) => {
        const key = recordKey(bucket, members[0].first_key, members[0].id);
        const value = encodeRecordValue(index, members);
        if (members.length === 1) {
          // Earlier versions wrote `u64be index | u32be digest`: still read the same.
          const v1 = new Uint8Array(12);
          new DataView(v1.buffer).setBigUint64(0, BigInt(index));
          new DataView(v1.buffer).setUint32(8, members[0].digest);
          assert.deepEqual(value, v1);
        }
        assert.deepEqual(decodeRecord(key, value), {
          index,
          members: members.map((m) => ({ ...m })),
        });
        assert.throws(() => decodeRecord(key, value.subarray(0, value.length - 1)));
      },
    ),
    { seed: 909, numRuns: 1000 },
  );
  assert.throws(() => decodeRecord(b("r-not-a-record-key-at-all"), new Uint8Array(12)));
});

Deno.test("memcmpDecode reads back every memcmpEncode and refuses what it never writes", () => {
  fc.assert(
    fc.property(arbKey, (k) => assert.deepEqual(memcmpDecode(memcmpEncode(k)), k)),
    { seed: 31, numRuns: 2000 },
  );
  assert.throws(() => memcmpDecode(new Uint8Array(0)));
  assert.throws(() => memcmpDecode(new Uint8Array(9).fill(0)), /marker/);
  const two = new Uint8Array([...memcmpEncode(b("a")), ...memcmpEncode(b("b"))]);
  assert.throws(() => memcmpDecode(two), /after the last group/);
});

Deno.test("AppliedIds: never loses a request it was given, before or after pruning; knows fresh ids are absent", () => {
  const arbRecord = fc.record({
    bucket: fc.integer({ min: 100, max: 110 }),
    members: fc.array(arbMember, { minLength: 1, maxLength: 4 }),
  });
  fc.assert(
    fc.property(
      fc.array(arbRecord, { maxLength: 40 }),
      fc.array(fc.integer({ min: 95, max: 112 }), { maxLength: 4 }),
      (records, prunes) => {
        const ids = new AppliedIds();
        const keys = records.map((r) =>
          recordKey(r.bucket, r.members[0].first_key, r.members[0].id)
        );
        keys.forEach((k, i) => {
          ids.add(k, encodeRecordValue(1, records[i].members));
          if (i % 15 === 14 && prunes.length > 0) ids.prune(prunes[i % prunes.length]);
        });
        records.forEach((r, i) => {
          for (const m of r.members) {
            const held = ids.candidates(r.bucket, m.id);
            assert.ok(held === null || held.some((k) => compareBytes(k, keys[i]) === 0));
          }
        });
        // A fresh id (its low 30 bits unlike every id given) in a bucket no
        // prune reached is known to be absent.
        const low30 = new Set(records.flatMap((r) => r.members.map((m) => m.id % 2 ** 30)));
        const fresh = [...Array(200).keys()].map((n) => 2 ** 31 + n).find((id) =>
          !low30.has(id % 2 ** 30)
        )!;
        if (Math.max(...prunes, 0) <= 105) assert.deepEqual(ids.candidates(105, fresh), []);
      },
    ),
    { seed: 2026, numRuns: 500 },
  );
});

Deno.test("AppliedIds: ignores other raft keys; load finds every request of a reopened engine", () => {
  withTempDir((dir) => {
    const members = [1, 2, 3].map((i) => ({ id: 50 + i, first_key: b(`k${i}`), digest: i }));
    const bucket = bucketOf(T0_MS);
    let kv = KvEngine.open(dir);
    try {
      const batch = kv.newBatch();
      batch.putNew("raft", recordKey(bucket, b("k1"), 51), encodeRecordValue(9, members));
      batch.putNew("raft", recordKey(bucket + 1, b("x"), 60), encodeRecordValue(9, [members[0]]));
      batch.put("raft", b("r-not-a-record"), b("v"));
      kv.write(batch);
      const ids = new AppliedIds();
      ids.add(b("r-not-a-record"), b("v"));
      assert.equal(ids.size, 0);
    } finally {
      kv.close();
    }
    kv = KvEngine.open(dir);
    try {
      const ids = AppliedIds.load(kv);
      assert.equal(ids.size, 4);
      for (const m of members) assert.equal(ids.candidates(bucket, m.id)?.length, 1);
      assert.equal(
        ids.candidates(bucket + 1, 60)?.length,
        1,
        "a one-request record: its key names it",
      );
      assert.deepEqual(ids.candidates(bucket, 99), []);
    } finally {
      kv.close();
    }
  });
});

Deno.test("AppliedIds.load reads every record past the scan's page size", () => {
  withTempDir((dir) => {
    const kv = KvEngine.open(dir);
    try {
      const bucket = bucketOf(T0_MS);
      const batch = kv.newBatch();
      for (let i = 0; i < 2_500; i++) {
        const members = [{ id: 10_000 + i, first_key: b(`k${i}`), digest: i }];
        batch.putNew(
          "raft",
          recordKey(bucket, b(`k${i}`), 10_000 + i),
          encodeRecordValue(i, members),
        );
      }
      kv.write(batch);
      const ids = AppliedIds.load(kv);
      assert.equal(ids.size, 2_500);
      for (const i of [0, 1023, 1024, 2047, 2048, 2_499]) {
        assert.equal(ids.candidates(bucket, 10_000 + i)?.length, 1, `record ${i}`);
      }
    } finally {
      kv.close();
    }
  });
});

Deno.test("dedup: after any splits, every region finds each request of its keys, in its own range, also in a snapshot of it", () => {
  const arbEntry = fc.record({
    bucket: fc.integer({ min: 0, max: 2 }),
    members: fc.uniqueArray(
      fc.record({ id: fc.nat(2 ** 48), k: fc.integer({ min: 0, max: 40 }) }),
      { minLength: 1, maxLength: 6, selector: (m) => m.id },
    ),
  });
  const key = (k: number) => b(`k${String(k).padStart(2, "0")}`);
  fc.assert(
    fc.property(
      fc.array(arbEntry, { minLength: 1, maxLength: 12 }),
      fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { maxLength: 5 }),
      (entries, splits) => {
        withTempDir((dir) => {
          const kv = KvEngine.open(dir);
          const ids = new AppliedIds();
          try {
            const base = bucketOf(T0_MS);
            const all: Array<{ bucket: number; req: RecordMember }> = [];
            for (const [i, e] of entries.entries()) {
              const reqs = e.members.map((m) => ({
                id: m.id + i,
                first_key: key(m.k),
                digest: m.k,
              }));
              // Ids are unique per entry; across entries a repeat is a new request.
              if (all.some((a) => reqs.some((r) => r.id === a.req.id))) continue;
              applyAt(kv, 1, WHOLE, T0_MS, (t) => t.record(base + e.bucket, reqs, i + 1), ids);
              for (const req of reqs) all.push({ bucket: base + e.bucket, req });
            }
            // Split regions one at a time, in the given order.
            let regions: KeyRange[] = [WHOLE];
            for (const s of splits) {
              const at = key(s);
              const i = regions.findIndex((r) => inRange(at, r.start_key, r.end_key));
              const r = regions[i];
              if (compareBytes(at, r.start_key) === 0) continue;
              const batch = kv.newBatch();
              copyAcrossSplit(kv, batch, r, at, 0, ids);
              kv.write(batch);
              regions = [
                ...regions.slice(0, i),
                { start_key: r.start_key, end_key: at },
                { start_key: at, end_key: r.end_key },
                ...regions.slice(i + 1),
              ];
            }
            for (const { bucket, req } of all) {
              const range = regions.find((r) => inRange(req.first_key, r.start_key, r.end_key))!;
              for (const with_ids of [ids, null]) {
                const found = applyAt(kv, 9, range, 0, (t) => t.applied(bucket, req), with_ids);
                assert.equal(found, true, `request ${req.id} in its region`);
              }
              // A store that gets the region by snapshot gets its range only.
              withTempDir((dir2) => {
                const copy = KvEngine.open(dir2);
                try {
                  const batch = copy.newBatch();
                  for (const [lo, hi] of regionRanges(kv, range, 0)) {
                    for (const [k, v] of kv.scan("raft", lo, hi, 10_000)) batch.put("raft", k, v);
                  }
                  if (batch.count > 0) copy.write(batch);
                  const found = applyAt(
                    copy,
                    9,
                    range,
                    0,
                    (t) => t.applied(bucket, req),
                    AppliedIds.load(copy),
                  );
                  assert.equal(found, true, `request ${req.id} in a snapshot of its region`);
                } finally {
                  copy.close();
                }
              });
            }
          } finally {
            kv.close();
          }
        });
      },
    ),
    { seed: 515, numRuns: 60 },
  );
});

Deno.test("dedup: records are collected once the leader's clock passes the window, per region range", () => {
  withTempDir((dir) => {
    const kv = KvEngine.open(dir);
    try {
      const left: KeyRange = { start_key: EMPTY, end_key: b("m") };
      const right: KeyRange = { start_key: b("m"), end_key: EMPTY };
      applyAt(kv, 1, left, T0_MS, (t) => recordAt(t, T0_MS, "a", 1, 5, 1));
      applyAt(kv, 2, right, T0_MS, (t) => recordAt(t, T0_MS, "x", 2, 5, 1));
      const later_ms = T0_MS + DEDUP_BUCKET_MS;
      applyAt(kv, 1, left, later_ms, (t) => recordAt(t, later_ms, "b", 3, 6, 1));
      const a = recordKey(bucketOf(T0_MS), b("a"), 1);
      const x = recordKey(bucketOf(T0_MS), b("x"), 2);
      const bb = recordKey(bucketOf(later_ms), b("b"), 3);

      // Inside the window: nothing goes.
      applyAt(kv, 1, left, T0_MS + DEDUP_RETENTION_MS - DEDUP_BUCKET_MS, () => {});
      assert.ok(kv.get("raft", a) !== undefined);

      // Past it for T0's bucket: region 1 drops its record of that bucket only.
      const past_ms = T0_MS + DEDUP_RETENTION_MS + DEDUP_BUCKET_MS;
      const floor = applyAt(kv, 1, left, past_ms, (t) => t.floor);
      assert.equal(floor, bucketOf(past_ms - DEDUP_RETENTION_MS));
      assert.equal(readFloor(kv, 1), floor, "the floor is stored");
      assert.equal(kv.get("raft", a), undefined, "collected");
      assert.ok(kv.get("raft", bb) !== undefined, "a later bucket stays");
      assert.ok(kv.get("raft", x) !== undefined, "another region's range is untouched");
      assert.equal(readFloor(kv, 2), bucketOf(T0_MS - DEDUP_RETENTION_MS), "region 2's own floor");
    } finally {
      kv.close();
    }
  });
});

Deno.test("dedup: a request below the floor or far ahead of the leader is refused", () => {
  withTempDir((dir) => {
    const kv = KvEngine.open(dir);
    try {
      const now_ms = T0_MS + 10 * DEDUP_RETENTION_MS;
      applyAt(kv, 1, WHOLE, now_ms, (t) => {
        assert.equal(t.refusal(now_ms - 5_000), null, "a retry seconds later");
        assert.equal(t.refusal(now_ms + 5_000), null, "a client clock slightly ahead");
        assert.match(t.refusal(T0_MS) ?? "", /older than region 1's deduplication window/);
        assert.match(t.refusal(now_ms + DEDUP_MAX_AHEAD_MS + 1) ?? "", /ahead of the leader/);
      });
      // A new leader whose clock is behind does not lower the floor: what was
      // collected stays refused.
      const floor = readFloor(kv, 1);
      applyAt(kv, 1, WHOLE, T0_MS, (t) => {
        assert.equal(t.floor, floor);
        assert.notEqual(t.refusal(floor * DEDUP_BUCKET_MS - 1), null);
      });
    } finally {
      kv.close();
    }
  });
});

Deno.test("dedup: entries without a proposal time (older versions) collect nothing", () => {
  withTempDir((dir) => {
    const kv = KvEngine.open(dir);
    try {
      applyAt(kv, 1, WHOLE, T0_MS, (t) => recordAt(t, T0_MS, "a", 1, 5, 1));
      const floor = readFloor(kv, 1);
      assert.equal(applyAt(kv, 1, WHOLE, 0, (t) => t.floor), floor);
      assert.ok(kv.get("raft", recordKey(bucketOf(T0_MS), b("a"), 1)) !== undefined);
    } finally {
      kv.close();
    }
  });
});

Deno.test("dedup: the first collection also drops the table of older versions", () => {
  withTempDir((dir) => {
    const kv = KvEngine.open(dir);
    try {
      kv.write(kv.newBatch().put("raft", legacyDedupKey(1, 99), new Uint8Array(12)));
      applyAt(kv, 1, WHOLE, T0_MS + 2 * DEDUP_RETENTION_MS, () => {});
      assert.equal(kv.get("raft", legacyDedupKey(1, 99)), undefined);
    } finally {
      kv.close();
    }
  });
});

Deno.test("dedup: regionRanges and clearRecords cover every bucket of the range, nothing else", () => {
  withTempDir((dir) => {
    const kv = KvEngine.open(dir);
    try {
      const left: KeyRange = { start_key: EMPTY, end_key: b("m") };
      const times = [T0_MS, T0_MS + 3 * DEDUP_BUCKET_MS, T0_MS + 9 * DEDUP_BUCKET_MS];
      for (const [i, at] of times.entries()) {
        applyAt(kv, 1, WHOLE, at, (t) => {
          recordAt(t, at, "c", 10 + i, 1, 1);
          recordAt(t, at, "q", 20 + i, 1, 1);
        });
      }
      const ranges = regionRanges(kv, left, 0);
      assert.equal(ranges.length, 3, "one range per bucket present");
      const inside = ranges.flatMap(([lo, hi]) => kv.scan("raft", lo, hi, 100));
      assert.deepEqual(
        inside.map(([k]) => k),
        times.map((at, i) => recordKey(bucketOf(at), b("c"), 10 + i)),
      );
      const batch = kv.newBatch();
      clearRecords(kv, batch, left);
      kv.write(batch);
      assert.equal(
        regionRanges(kv, left, 0).flatMap(([lo, hi]) => kv.scan("raft", lo, hi, 100)).length,
        0,
      );
      const right = regionRanges(kv, { start_key: b("m"), end_key: EMPTY }, 0);
      assert.equal(right.flatMap(([lo, hi]) => kv.scan("raft", lo, hi, 100)).length, 3);
    } finally {
      kv.close();
    }
  });
});

Deno.test("crc32cUpdate is CRC-32C: it continues @node-rs/crc32's crc32c exactly", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 40 }), (x, y) => {
      assert.equal(crc32cUpdate(0, x), crc32c(x));
      assert.equal(crc32cUpdate(crc32cUpdate(0, x), y), crc32c(y, crc32c(x)));
    }),
    { seed: 7, numRuns: 500 },
  );
  assert.equal(crc32cUpdate(0, b("123456789")), 0xe3069283, "the check value");
});

Deno.test("mutationsDigest keeps its layout: CRC-32C of op, u32be lengths, cf, key, value, end key", () => {
  // Records written by earlier versions hold this digest: a retry after an
  // upgrade must still match it.
  const mutation = fc.record({
    op: fc.constantFrom(MutationOp.Put, MutationOp.Delete, MutationOp.DeleteRange),
    cf: fc.constantFrom("default", "lock", "write"),
    key: fc.uint8Array({ maxLength: 40 }),
    value: fc.uint8Array({ maxLength: 300 }),
    type: fc.integer({ min: 0, max: 7 }),
    end_key: fc.uint8Array({ maxLength: 10 }),
  });
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 5 }), (ms) => {
      let want = 0;
      for (const m of ms) {
        const head = new Uint8Array(9);
        head[0] = m.op;
        new DataView(head.buffer).setUint32(1, m.key.length);
        new DataView(head.buffer).setUint32(5, m.value.length);
        for (const part of [head, new TextEncoder().encode(m.cf), m.key, m.value, m.end_key]) {
          want = crc32c(part, want);
        }
      }
      assert.equal(mutationsDigest(ms, 0, ms.length), want);
      // A member's slice digests as the member alone.
      assert.equal(
        mutationsDigest(ms, ms.length - 1, ms.length),
        mutationsDigest(ms.slice(-1), 0, 1),
      );
    }),
    { seed: 11, numRuns: 300 },
  );
});
