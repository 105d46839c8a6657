import assert from "node:assert/strict";
import { sizeCountDue } from "./peer.ts";

Deno.test("sizeCountDue: the first count is due at once", () => {
  assert.equal(sizeCountDue(null, { applied_index: 5, tick: 0, keys: 0 }, 20, 100_000), true);
});

Deno.test("sizeCountDue: nothing applied since the last count, no count however long ago", () => {
  const last = { applied_index: 7, tick: 100 };
  assert.equal(
    sizeCountDue(last, { applied_index: 7, tick: 10_000, keys: 30 }, 20, 100_000),
    false,
  );
});

Deno.test("sizeCountDue: after writes, due once a period per keys_per_period keys has passed", () => {
  const last = { applied_index: 7, tick: 100 };
  const at = (tick: number, keys: number) =>
    sizeCountDue(last, { applied_index: 8, tick, keys }, 20, 100_000);
  assert.equal(at(119, 30), false);
  assert.equal(at(120, 30), true);
  // 250k keys: three periods of 20 ticks.
  assert.equal(at(159, 250_000), false);
  assert.equal(at(160, 250_000), true);
});
