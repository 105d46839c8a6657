import assert from "node:assert/strict";
import { ByteArena, readU64BE, writeU64BE } from "./bytes.ts";

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
