/**
 * The short nemesis set for CI: a few seeded scenarios, each a bounded run of
 * tests/nemesis/run.ts with a different fault mix against a real local
 * cluster (every process killed and every dir removed at the end). Each must
 * end with no lost acknowledged write and a linearizable history. Replay a
 * failure with the printed `deno task nemesis ...` line.
 */
import assert from "node:assert/strict";
import { formatSummary, runScenario } from "./nemesis/run.ts";

const CROSS_PROCESS = { sanitizeOps: false, sanitizeResources: false } as const;

const SCENARIOS = [
  { seed: 101, duration_s: 20, mix: "crash" },
  { seed: 202, duration_s: 20, mix: "network" },
  { seed: 303, duration_s: 20, mix: "admin" },
] as const;

for (const sc of SCENARIOS) {
  Deno.test({
    name: `nemesis: seed ${sc.seed}, ${sc.duration_s} s of ${sc.mix} faults`,
    ...CROSS_PROCESS,
    async fn() {
      const s = await runScenario({ ...sc, dbs: 2 });
      console.log(formatSummary(s));
      assert.ok(s.operations > 0, "the workload ran");
      assert.equal(s.lost_acknowledged_writes, 0, formatSummary(s));
      assert.equal(s.verdict, "linearizable", formatSummary(s));
    },
  });
}
