/**
 * `deno task sim` — runs the Raft simulator over many seeds.
 *
 *   deno task sim --seeds 100000            # seeds 1..100000, 3 and 5 nodes alternating
 *   deno task sim --seed 1234 --nodes 5     # replay one seed
 *   deno task sim --seeds 1000 --steps 3000 --nodes 3
 * @module
 */
import { parseArgs } from "node:util";
import { runSeed, SimFailure, type SimStats } from "./simulator.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seeds: { type: "string", default: "1000" },
    seed: { type: "string" },
    first: { type: "string", default: "1" },
    nodes: { type: "string" },
    steps: { type: "string", default: "1500" },
    verbose: { type: "boolean", default: false },
    trace: { type: "boolean", default: false },
  },
});

const steps = Number(values.steps);
const fixed_nodes = values.nodes === undefined ? null : Number(values.nodes);
const nodesFor = (seed: number) => fixed_nodes ?? (seed % 2 === 0 ? 5 : 3);

if (values.seed !== undefined) {
  const seed = Number(values.seed);
  const stats = runOne(seed, nodesFor(seed));
  console.log(JSON.stringify(stats, null, 2));
  Deno.exit(0);
}

const count = Number(values.seeds);
const first = Number(values.first);
const t0 = performance.now();
const totals = { proposals: 0, acked: 0, snapshots: 0, conf_changes: 0, crashes: 0, partitions: 0 };
let max_members = 0;
for (let seed = first; seed < first + count; seed++) {
  const s = runOne(seed, nodesFor(seed));
  totals.proposals += s.proposals;
  totals.acked += s.acked;
  totals.snapshots += s.snapshots_installed;
  totals.conf_changes += s.conf_changes;
  totals.crashes += s.crashes;
  totals.partitions += s.partitions;
  max_members = Math.max(max_members, s.max_members);
  if (values.verbose || (seed - first + 1) % 1000 === 0) {
    console.log(`seed ${seed} ok (${((performance.now() - t0) / 1000).toFixed(1)}s)`);
  }
}
const secs = (performance.now() - t0) / 1000;
console.log(
  `${count} seeds passed in ${secs.toFixed(1)}s (steps ${steps}); largest config ${max_members}; ` +
    JSON.stringify(totals),
);

function runOne(seed: number, nodes: number): SimStats {
  try {
    return runSeed({ seed, nodes, steps, trace: values.trace ? (l) => console.log(l) : undefined });
  } catch (e) {
    if (e instanceof SimFailure) {
      console.error(e.message);
      if (e.cause_error instanceof Error && e.cause_error.stack) console.error(e.cause_error.stack);
      Deno.exit(1);
    }
    throw e;
  }
}
