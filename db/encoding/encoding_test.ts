import assert from "node:assert/strict";
import fc from "fast-check";
import { compare, concat, u32 } from "./bytes.ts";
import { decodeOrderedFloat, encodeOrderedFloat } from "./float.ts";
import {
  dataKey,
  decodeRawKey,
  metaKey,
  NS_USER,
  scoreKey,
  ttlKey,
  userKeyBoundary,
} from "./keys.ts";
import { decodeMetadata, encodeMetadata, newMetadata, RedisType } from "./metadata.ts";
import { userKeyPrefix } from "@eraft/shared/keyspace";

const bytes = fc.uint8Array({ maxLength: 12 });
const score = fc.double({ noNaN: true });

Deno.test("float encoding preserves numeric order (property)", () => {
  fc.assert(fc.property(score, score, (a, b) => {
    const c = compare(encodeOrderedFloat(a), encodeOrderedFloat(b));
    if (a < b) assert.ok(c < 0);
    else if (a > b) assert.ok(c > 0);
    else assert.equal(c, 0);
  }));
});

Deno.test("float encoding round-trips (property)", () => {
  fc.assert(fc.property(score, (a) => {
    assert.equal(decodeOrderedFloat(encodeOrderedFloat(a)), a === 0 ? 0 : a);
  }));
});

Deno.test("score index orders by (score, member) (property)", () => {
  fc.assert(fc.property(bytes, score, bytes, score, bytes, (k, s1, m1, s2, m2) => {
    const c = compare(scoreKey(k, 7, s1, m1), scoreKey(k, 7, s2, m2));
    if (s1 !== s2) assert.equal(Math.sign(c), s1 < s2 ? -1 : 1);
    else assert.equal(Math.sign(c), Math.sign(compare(m1, m2)));
  }));
});

Deno.test("all records of a user key sort together after its metadata (property)", () => {
  fc.assert(fc.property(bytes, bytes, fc.nat(), bytes, (a, b, version, sub) => {
    fc.pre(compare(a, b) !== 0);
    const ma = metaKey(a);
    const da = dataKey(a, version, sub);
    const sa = scoreKey(a, version, 1, sub);
    const ta = ttlKey(a);
    assert.ok(compare(ma, da) < 0 && compare(ma, sa) < 0 && compare(ma, ta) < 0);
    // b's whole group lies entirely before or entirely after a's records.
    const side = Math.sign(compare(metaKey(b), ma));
    for (const r of [da, sa, ta, ma]) assert.equal(Math.sign(compare(metaKey(b), r)), side);
    for (const r of [dataKey(b, 1, sub), scoreKey(b, 1, -5, sub), ttlKey(b)]) {
      for (const x of [ma, da, sa, ta]) assert.equal(Math.sign(compare(r, x)), side);
    }
  }));
});

Deno.test("userKeyBoundary never cuts inside a user key's records (property)", () => {
  fc.assert(
    fc.property(
      bytes,
      bytes,
      fc.nat(),
      fc.uint8Array({ maxLength: 20 }),
      (k, sub, version, raw_any) => {
        const records = [
          metaKey(k),
          dataKey(k, version, sub),
          ttlKey(k),
          scoreKey(k, version, 2.5, sub),
        ];
        for (const raw of [...records, raw_any]) {
          const cut = userKeyBoundary(raw);
          assert.ok(compare(cut, raw) <= 0, "boundary is at or below the key");
          const below = records.filter((r) => compare(r, cut) < 0).length;
          assert.ok(below === 0 || below === records.length, "group split by the boundary");
        }
        assert.deepEqual(userKeyBoundary(dataKey(k, version, sub)), metaKey(k));
      },
    ),
  );
});

Deno.test("raw keys decode back to their parts", () => {
  const k = new TextEncoder().encode("user");
  assert.deepEqual(decodeRawKey(metaKey(k)), { kind: "meta", user_key: k });
  const d = decodeRawKey(dataKey(k, 42, new Uint8Array([1, 2])));
  assert.equal(d.kind, "data");
  if (d.kind === "data") assert.deepEqual([d.version, [...d.rest]], [42, [1, 2]]);
  assert.deepEqual(decodeRawKey(ttlKey(k)), { kind: "ttl", user_key: k });
  // Anything after the marker's tag makes it no marker.
  assert.equal(decodeRawKey(new Uint8Array([...ttlKey(k), 0])).kind, "other");
});

Deno.test("metadata round-trips for every type", () => {
  for (const type of [RedisType.Hash, RedisType.List, RedisType.Set, RedisType.ZSet]) {
    const m = newMetadata(type, 123);
    m.size = type === RedisType.List ? 0 : 9;
    m.expire_at_ms = 5;
    m.rev = 3;
    assert.deepEqual(decodeMetadata(encodeMetadata(m)), m);
  }
  const s = newMetadata(RedisType.String, 0);
  s.value = new Uint8Array([1, 2, 3]);
  const back = decodeMetadata(encodeMetadata(s));
  assert.deepEqual([...back.value], [1, 2, 3]);
});

Deno.test("metaKey is the namespace byte, the key's u32 big-endian length, then the key", () => {
  for (const n of [0, 1, 255, 256, 65_535, 65_536, 70_000]) {
    const key = new Uint8Array(n).map((_, i) => (i * 31) & 0xff);
    assert.deepEqual(metaKey(key), concat(new Uint8Array([NS_USER]), u32(n), key), `length ${n}`);
  }
});

Deno.test("userKeyPrefix is M(K): metaKey's bytes, and the cut point of every record of K", () => {
  fc.assert(fc.property(bytes, fc.nat(), bytes, (k, version, sub) => {
    const m = userKeyPrefix(k);
    assert.deepEqual(m, metaKey(k).slice());
    assert.deepEqual(userKeyBoundary(dataKey(k, version, sub)), m);
    assert.deepEqual(userKeyBoundary(ttlKey(k)), m);
  }));
});
