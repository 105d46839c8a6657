import assert from "node:assert/strict";
import { measureApply } from "./bench.ts";

Deno.test("apply bench: every seeded entry applies (index, every member held by a dedup record, last values) and each shape is timed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "eraft-apply-bench-test-" });
  try {
    // measureApply asserts that nothing was skipped; here: a result per shape, in order.
    const results = await measureApply(dir, {
      warm: 100,
      mutations: 60,
      rounds: 2,
      shapes: [1, 13],
      seed: 7,
    });
    assert.deepEqual(results.map((r) => r.members_per_entry), [1, 13]);
    for (const r of results) {
      assert(r.us_per_entry > 0 && Number.isFinite(r.us_per_entry), JSON.stringify(r));
      assert.equal(r.us_per_mutation, r.us_per_entry / r.members_per_entry);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
