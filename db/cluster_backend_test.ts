import assert from "node:assert/strict";
import { newRequestId } from "./cluster_backend.ts";

Deno.test("newRequestId: distinct non-zero safe integers, across refills of its random words", () => {
  const ids = new Set<number>();
  for (let i = 0; i < 1000; i++) {
    const id = newRequestId();
    assert.ok(Number.isSafeInteger(id) && id > 0 && id < 2 ** 53, `bad id ${id}`);
    ids.add(id);
  }
  assert.equal(ids.size, 1000); // 1000 draws from 2^53: a repeat means the words repeat
});
