/**
 * `deno task nemesis --seed S --duration-s D [--mix all|crash|network|admin]
 * [--dbs 1|2] [--clients N]`: one seeded nemesis run against a real local
 * cluster (see tests/nemesis/run.ts). Exits 1 when an acknowledged write was
 * lost or the history is not linearizable.
 * @module
 */
import { parseArgs } from "node:util";
import { formatSummary, runScenario } from "../tests/nemesis/run.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seed: { type: "string" },
    "duration-s": { type: "string", default: "60" },
    mix: { type: "string", default: "all" },
    dbs: { type: "string", default: "2" },
    clients: { type: "string", default: "6" },
  },
});
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const duration_s = Number(values["duration-s"]);
const dbs = Number(values.dbs);
if (!Number.isSafeInteger(seed) || !(duration_s > 0) || (dbs !== 1 && dbs !== 2)) {
  console.error("usage: deno task nemesis --seed S --duration-s D [--mix M] [--dbs 1|2]");
  Deno.exit(2);
}
const s = await runScenario({
  seed,
  duration_s,
  mix: values.mix,
  dbs,
  clients: Number(values.clients),
});
console.log(formatSummary(s));
Deno.exit(s.lost_acknowledged_writes === 0 && s.verdict === "linearizable" ? 0 : 1);
