import assert from "node:assert/strict";
import fc from "fast-check";
import { compareBytes } from "@eraft/shared/bytes";
import { bytesToKey, packLoc } from "./bytes.ts";
import { compareKeys, KvIndex, newKeyTree } from "./kv_index.ts";

Deno.test("compareKeys orders binary-string keys exactly as memcmp orders their bytes", () => {
  const bytes = fc.uint8Array({ maxLength: 12 });
  fc.assert(
    fc.property(bytes, bytes, (a, b) => {
      const want = Math.sign(compareBytes(a, b));
      assert.equal(Math.sign(compareKeys(bytesToKey(a), bytesToKey(b))), want);
    }),
    { seed: 8, numRuns: 2000 },
  );
});

Deno.test("a key tree iterates in byte order, including 0x00 and 0xff bytes and prefixes", () => {
  const raw = [[0xff], [0x00], [], [0x00, 0x00], [0x61], [0x61, 0x00], [0x60, 0xff], [0xff, 0x00]];
  const tree = newKeyTree();
  raw.forEach((k, i) => tree.set(bytesToKey(new Uint8Array(k)), i));
  const sorted = [...raw].sort((a, b) => compareBytes(new Uint8Array(a), new Uint8Array(b)));
  assert.deepEqual([...tree.keys()], sorted.map((k) => bytesToKey(new Uint8Array(k))));
});

Deno.test("KvIndex.put counts an overwrite once: the old location leaves its segment", () => {
  const index = new KvIndex();
  index.put(0, "k", packLoc(1, 0));
  index.put(0, "k", packLoc(2, 0), true); // claimed new, but the key exists
  assert.equal(index.statsFor(1).live_puts, 0);
  assert.equal(index.statsFor(2).live_puts, 1);
  assert.equal(index.key_count, 1);
});

Deno.test("KvIndex: one-walk overwrite and delete leave a cloned tree (a snapshot) untouched", () => {
  const index = new KvIndex();
  const keys = Array.from({ length: 5000 }, (_, i) => `k${String(i).padStart(5, "0")}`);
  for (const k of keys) index.put(0, k, packLoc(1, 0));
  const snapshot = index.trees[0].clone(); // three levels of shared nodes
  for (const k of keys.slice(0, 2500)) index.put(0, k, packLoc(2, 0));
  for (const k of keys.slice(2500, 3000)) index.delete(0, k, 2);
  assert.equal(index.statsFor(1).live_puts, 2000);
  assert.equal(index.statsFor(2).live_puts, 2500);
  assert.equal(index.trees[0].size, 4500);
  assert.equal(snapshot.size, 5000);
  for (const k of keys) assert.equal(snapshot.get(k), packLoc(1, 0));
  assert.equal(index.trees[0].get(keys[0]), packLoc(2, 0));
  assert.equal(index.trees[0].get(keys[2600]), undefined);
});
