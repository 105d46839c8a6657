import assert from "node:assert/strict";
import { readU64BE, writeU64BE } from "./bytes.ts";

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
