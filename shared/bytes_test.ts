import assert from "node:assert/strict";
import protobuf from "protobufjs";
import {
  ByteArena,
  BytePool,
  formatKey,
  lenFieldBytes,
  parseKey,
  putLenField,
  readU64BE,
  writeU64BE,
} from "./bytes.ts";
import fc from "fast-check";

Deno.test("writeU64BE/readU64BE agree with DataView's big-endian u64 up to 2^53", () => {
  for (const n of [0, 1, 255, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 12345, Number.MAX_SAFE_INTEGER]) {
    const ours = new Uint8Array(10);
    writeU64BE(ours, 1, n);
    const theirs = new Uint8Array(10);
    new DataView(theirs.buffer).setBigUint64(1, BigInt(n));
    assert.deepEqual(ours, theirs, `bytes of ${n}`);
    assert.equal(readU64BE(ours, 1), n);
  }
  assert.throws(() => writeU64BE(new Uint8Array(8), 0, -1), RangeError);
  assert.throws(() => writeU64BE(new Uint8Array(8), 0, 2 ** 53), RangeError);
});

Deno.test("ByteArena: copies share one buffer, keep their bytes, and survive a structured clone as one", () => {
  const frame = new Uint8Array([9, 9, 1, 2, 3, 9, 4, 5, 9]);
  const parts = [frame.subarray(2, 5), null, frame.subarray(6, 8), new Uint8Array(0)];
  const arena = ByteArena.for(parts);
  const copies = parts.map((p) => arena.copy(p));
  assert.equal(arena.used_bytes, 5);
  assert.deepEqual(copies.map((c) => [...c]), [[1, 2, 3], [], [4, 5], []]);
  assert.ok(copies.every((c) => c.buffer === copies[0].buffer), "one backing buffer");
  assert.equal(copies[0].buffer.byteLength, 5, "the arena is exactly the copies' size");
  frame.fill(0);
  assert.deepEqual([...copies[0]], [1, 2, 3], "copies, not views of the source");
  const cloned = structuredClone(copies);
  assert.ok(cloned.every((c) => c.buffer === cloned[0].buffer), "the clone shares one buffer too");
  assert.deepEqual(cloned.map((c) => [...c]), [[1, 2, 3], [], [4, 5], []]);
});

Deno.test("ByteArena: copying past its size is an error, not a silent overflow", () => {
  const arena = new ByteArena(2);
  arena.copy(new Uint8Array([1]));
  assert.throws(() => arena.copy(new Uint8Array([2, 3])), /3 bytes into an arena of 2/);
  assert.equal(arena.used_bytes, 1);
});

Deno.test("BytePool: small arrays share a slab, never overlap, and start zero-filled", () => {
  const pool = new BytePool(64, 16);
  const a = pool.alloc(10);
  const b = pool.alloc(16);
  assert.equal(a.length, 10);
  assert.equal(b.length, 16);
  assert.equal(a.buffer, b.buffer);
  assert.deepEqual([...b], new Array(16).fill(0));
  a.fill(0xaa);
  b.fill(0xbb);
  assert.deepEqual([...a], new Array(10).fill(0xaa));
  assert.deepEqual([...b], new Array(16).fill(0xbb));
  // 26 of 64 bytes used: the next 40 do not fit, so a fresh slab starts and
  // what was handed out keeps its bytes.
  const c = pool.copy(new Uint8Array(16).fill(7));
  pool.alloc(16);
  pool.alloc(16);
  const d = pool.alloc(16);
  assert.notEqual(d.buffer, a.buffer);
  assert.deepEqual([...d], new Array(16).fill(0));
  assert.deepEqual([...a], new Array(10).fill(0xaa));
  assert.deepEqual([...c], new Array(16).fill(7));
});

Deno.test("BytePool: large arrays get their own buffer; copies do not alias their source", () => {
  const pool = new BytePool(64, 16);
  const big = pool.alloc(17);
  assert.equal(big.byteLength, big.buffer.byteLength);
  const src = new Uint8Array([1, 2, 3]);
  const copy = pool.copy(src);
  src[0] = 9;
  assert.deepEqual([...copy], [1, 2, 3]);
  assert.equal(pool.alloc(0).length, 0);
  assert.throws(() => new BytePool(8, 16), RangeError);
  assert.throws(() => new BytePool(64, 0), RangeError);
});

Deno.test("ByteArena.take: zeroed views side by side, refused past the arena", () => {
  const arena = new ByteArena(10);
  const a = arena.take(4);
  const b = arena.take(6);
  assert.deepEqual([...a, ...b], new Array(10).fill(0));
  a[3] = 1;
  b[0] = 2;
  assert.equal(a.buffer, b.buffer, "one buffer");
  assert.deepEqual([a[3], b[0], a.length, b.length], [1, 2, 4, 6]);
  assert.equal(arena.used_bytes, 10);
  assert.throws(() => arena.take(1), RangeError);
});

Deno.test("putLenField writes tag, varint length and payload in lenFieldBytes bytes, as protobuf does", () => {
  for (const n of [0, 1, 127, 128, 300, 16383, 16384]) {
    const payload = new Uint8Array(n).fill(7);
    const out = new Uint8Array(lenFieldBytes(n) + 2);
    const end = putLenField(out, 1, 0x0a, payload);
    assert.equal(end, 1 + lenFieldBytes(n), `length ${n}`);
    const w = protobuf.Writer.create();
    w.uint32(0x0a).bytes(payload);
    assert.deepEqual([...out.subarray(1, end)], [...w.finish()]);
  }
});

Deno.test("parseKey reads back every key formatKey prints, and refuses broken escapes and non-bytes", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 24 }), (k) => {
    assert.deepEqual(parseKey(formatKey(k, 1024)), k, formatKey(k));
  }));
  assert.deepEqual(
    parseKey(formatKey(Uint8Array.of(0x5c, 0x78, 0x34, 0x31))),
    Uint8Array.of(0x5c, 0x78, 0x34, 0x31),
  );
  assert.deepEqual(
    parseKey("k\\x00\\x00\\x00\\x02S1"),
    Uint8Array.of(0x6b, 0, 0, 0, 2, 0x53, 0x31),
  );
  assert.deepEqual(parseKey("\\X0"), new TextEncoder().encode("\\X0"), "only \\x escapes");
  assert.throws(() => parseKey("a\\x4"), /bad escape at 1/);
  assert.throws(() => parseKey("\\xzz"), /bad escape at 0/);
  assert.throws(() => parseKey("ключ"), /not a byte/);
});
