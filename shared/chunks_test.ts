import assert from "node:assert/strict";
import { chunksBySize } from "./chunks.ts";

Deno.test("chunksBySize: runs bounded by bytes and by count, order kept", () => {
  const one = () => 1;
  assert.deepEqual(chunksBySize([1, 2, 3, 4, 5], one, 2), [[1, 2], [3, 4], [5]]);
  assert.deepEqual(chunksBySize([1, 2, 3, 4, 5], one, 100, 3), [[1, 2, 3], [4, 5]]);
  assert.deepEqual(chunksBySize([3, 9, 1, 1], (x) => x, 4), [[3], [9], [1, 1]], "oversize alone");
  assert.deepEqual(chunksBySize([], one, 1), []);
});
