import assert from "node:assert/strict";
import { busyShare, cpuPerOp, medianRun, roundRatios } from "./bench.ts";
import type { Measure } from "./testing/redis_benchmark.ts";

const run = (ops_per_s: number): Measure => ({ ops_per_s, p50_ms: 1000 / ops_per_s, p99_ms: 1 });

Deno.test("bench db: a system reports its median round, latencies from that same run", () => {
  const m = medianRun([run(9000), run(15000), run(11000)]);
  assert.equal(m.ops_per_s, 11000);
  assert.equal(m.p50_ms, 1000 / 11000);
  assert.equal(medianRun([run(5)]).ops_per_s, 5);
  assert.equal(medianRun([run(4), run(2)]).ops_per_s, 2, "even count: the lower middle");
  assert.throws(() => medianRun([]));
});

Deno.test("bench db: round ratios pair each eraft run with the reference's run of the same round", () => {
  assert.deepEqual(roundRatios([run(6000), run(3000)], [run(4000), run(3000)]), [1.5, 1]);
  assert.throws(() => roundRatios([run(1)], []), /round counts/);
});

Deno.test("bench db: CPU per operation is the servers' CPU over the operations run", () => {
  assert.equal(cpuPerOp(1500, 10_000), 150, "1.5 s of CPU over 10,000 operations: 150 µs each");
  assert.equal(cpuPerOp(0, 5), 0);
  assert.throws(() => cpuPerOp(10, 0), /no operations/);
});

Deno.test("bench db: the machine's busy share rises while this thread spins", async () => {
  const spin = () => {
    const end = performance.now() + 150;
    while (performance.now() < end) {
      // burn one CPU for 150 ms
    }
  };
  const idle = await busyShare(150);
  assert(idle >= 0 && idle <= 1, `share ${idle}`);
  const busy = await Promise.all([
    busyShare(150),
    new Promise<void>((r) =>
      setTimeout(() => {
        spin();
        r();
      }, 0)
    ),
  ]).then(([share]) => share);
  assert(busy > 0 && busy <= 1, `share ${busy}`);
});
