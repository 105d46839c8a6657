/**
 * `deno task nemesis --seed S --duration-s D [--mix all|crash|network|admin]
 * [--dbs 1|2] [--clients N]`: one seeded nemesis run against a real local
 * cluster (see tests/nemesis/run.ts). Exits 1 when an acknowledged write was
 * lost or the history is not linearizable.
 * @module
 */
import { type CommandSpec, type Flags, intFlag, runCommand, UsageError } from "@eraft/shared/cli";
import { MIXES } from "../tests/nemesis/faults.ts";
import { formatSummary, runScenario } from "../tests/nemesis/run.ts";

const NEMESIS: CommandSpec = {
  name: "",
  summary: "one seeded nemesis run against a real local cluster",
  flags: {
    seed: { type: "string", help: "scenario seed (random when absent; printed either way)" },
    "duration-s": { type: "string", help: "seconds of faults", default: "60" },
    mix: { type: "string", help: "faults: all, crash, network or admin", default: "all" },
    dbs: { type: "string", help: "db processes (1 or 2)", default: "2" },
    clients: { type: "string", help: "concurrent clients", default: "6" },
  },
  run,
};

async function run(flags: Flags): Promise<number> {
  const seed = flags.seed === undefined
    ? Math.floor(Math.random() * 2 ** 31)
    : intFlag(flags, "seed", 0, 2 ** 53);
  const mix = String(flags.mix);
  if (!(mix in MIXES)) {
    throw new UsageError(`--mix must be one of ${Object.keys(MIXES).join(", ")}, not '${mix}'`);
  }
  const s = await runScenario({
    seed,
    duration_s: intFlag(flags, "duration-s", 1, 24 * 3600),
    mix,
    dbs: intFlag(flags, "dbs", 1, 2) as 1 | 2,
    clients: intFlag(flags, "clients", 1, 256),
  });
  console.log(formatSummary(s));
  return s.lost_acknowledged_writes === 0 && s.verdict === "linearizable" ? 0 : 1;
}

Deno.exit(await runCommand("deno task nemesis", NEMESIS, Deno.args));
