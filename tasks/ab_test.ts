import assert from "node:assert/strict";
import { baseFirst, median, parseProfile, signTestP, summarize } from "./ab.ts";

const REPORT = `starting 1 meta, 3 stores, 1 db ...
warm-up: 20000 SETs

SET c=50, 30000 requests
redis-benchmark: 5746 op/s, p50 7.695 ms, p99 20.895 ms
machine busy 85%, 5720 op/s
meta     total      3 µs/op (sys      0)  cpu 2%
         deno                  2 µs/op (sys      0)
store1   total     85 µs/op (sys     27)  cpu 48%
         worker-1             66 µs/op (sys     17)
store2   total     55 µs/op (sys     14)  cpu 31%
store3   total     55 µs/op (sys     16)  cpu 32%
db       total     61 µs/op (sys     20)  cpu 35%
store1: 2256 proposals, 1484 fsyncs, 2882 loop iterations, 13.3 op per proposal
`;

Deno.test("parseProfile reads throughput, the processes' summed CPU per op and p50", () => {
  assert.deepEqual(parseProfile(REPORT), { ops_per_s: 5720, cpu_us_per_op: 259, p50_ms: 7.695 });
});

Deno.test("parseProfile refuses output that is not a profile report", () => {
  assert.throws(() => parseProfile("error: something broke"), /not a profile report/);
});

Deno.test("pairs alternate which side runs first (ABBA)", () => {
  assert.deepEqual([0, 1, 2, 3].map(baseFirst), [true, false, true, false]);
});

Deno.test("signTestP is the two-sided binomial tail of a fair coin", () => {
  assert.equal(signTestP(8, 0), 2 / 256);
  assert.equal(signTestP(0, 8), 2 / 256);
  assert.equal(signTestP(4, 4), 1);
  assert.equal(signTestP(5, 3), (2 * (1 + 8 + 28 + 56)) / 256);
  assert.equal(signTestP(0, 0), 1);
});

Deno.test("median of odd and even counts; summarize counts wins in the right direction", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]));
  const faster = summarize("throughput", [1.1, 1.2, 0.9], true);
  assert.match(faster, /median 1\.100; tree better in 2 of 3 pairs, worse in 1/);
  const cheaper = summarize("CPU per op", [0.9, 0.8, 1.1], false);
  assert.match(cheaper, /median 0\.900; tree better in 2 of 3 pairs, worse in 1/);
});
