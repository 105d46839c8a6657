/**
 * `deno task sim` — runs the Raft simulator over many seeds.
 *
 *   deno task sim --seeds 100000            # seeds 1..100000, 3 and 5 nodes alternating
 *   deno task sim --seed 1234 --nodes 5     # replay one seed
 *   deno task sim --seeds 1000 --steps 3000 --nodes 3
 * @module
 */
import { type CommandSpec, type Flags, intFlag, runCommand } from "@eraft/shared/cli";
import { runSeed, SimFailure, type SimStats } from "./simulator.ts";

const SIM: CommandSpec = {
  name: "",
  summary: "runs the Raft simulator over many seeds (or replays one)",
  flags: {
    seeds: { type: "string", help: "how many seeds to run", default: "1000" },
    seed: { type: "string", help: "replay this one seed and print its stats" },
    first: { type: "string", help: "first seed of the range", default: "1" },
    nodes: { type: "string", help: "cluster size (default: 3 and 5 alternating)" },
    steps: { type: "string", help: "simulation steps per seed", default: "1500" },
    verbose: { type: "boolean", help: "a line per seed", default: false },
    trace: { type: "boolean", help: "print every simulator event", default: false },
  },
  run: (flags) => Promise.resolve(run(flags)),
};

function run(flags: Flags): number {
  const steps = intFlag(flags, "steps", 1, 10_000_000);
  const fixed_nodes = flags.nodes === undefined ? null : intFlag(flags, "nodes", 1, 9);
  const nodesFor = (seed: number) => fixed_nodes ?? (seed % 2 === 0 ? 5 : 3);
  const trace = flags.trace ? (l: string) => console.log(l) : undefined;
  const runOne = (seed: number) => runSeed({ seed, nodes: nodesFor(seed), steps, trace });
  try {
    if (flags.seed !== undefined) {
      console.log(JSON.stringify(runOne(intFlag(flags, "seed", 0, 2 ** 53)), null, 2));
      return 0;
    }
    runRange(
      intFlag(flags, "first", 0, 2 ** 53),
      intFlag(flags, "seeds", 1, 10_000_000),
      steps,
      Boolean(flags.verbose),
      runOne,
    );
    return 0;
  } catch (e) {
    if (!(e instanceof SimFailure)) throw e;
    console.error(e.message);
    if (e.cause_error instanceof Error && e.cause_error.stack) console.error(e.cause_error.stack);
    return 1;
  }
}

function runRange(
  first: number,
  count: number,
  steps: number,
  verbose: boolean,
  runOne: (seed: number) => SimStats,
): void {
  const t0 = performance.now();
  const totals = {
    proposals: 0,
    acked: 0,
    snapshots: 0,
    conf_changes: 0,
    crashes: 0,
    partitions: 0,
  };
  let max_members = 0;
  for (let seed = first; seed < first + count; seed++) {
    const s = runOne(seed);
    totals.proposals += s.proposals;
    totals.acked += s.acked;
    totals.snapshots += s.snapshots_installed;
    totals.conf_changes += s.conf_changes;
    totals.crashes += s.crashes;
    totals.partitions += s.partitions;
    max_members = Math.max(max_members, s.max_members);
    if (verbose || (seed - first + 1) % 1000 === 0) {
      console.log(`seed ${seed} ok (${((performance.now() - t0) / 1000).toFixed(1)}s)`);
    }
  }
  const secs = (performance.now() - t0) / 1000;
  console.log(
    `${count} seeds passed in ${
      secs.toFixed(1)
    }s (steps ${steps}); largest config ${max_members}; ` +
      JSON.stringify(totals),
  );
}

Deno.exit(await runCommand("deno task sim", SIM, Deno.args));
