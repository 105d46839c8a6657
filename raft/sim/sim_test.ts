import { assert } from "../assert.ts";
import { runSeed, SimFailure, Simulation } from "./simulator.ts";
import { SafetyChecker, SafetyViolation } from "./checker.ts";
import { newEntry } from "../util.ts";

/** Seeds per cluster size in CI (more: `deno task sim --seeds 100000`). */
const CI_SEEDS_PER_SIZE = 300;
const CI_STEPS = 1200;

for (const nodes of [3, 5]) {
  Deno.test(`sim: ${CI_SEEDS_PER_SIZE} seeds of a ${nodes}-node cluster keep every safety property`, () => {
    let proposals = 0;
    let acked = 0;
    let snapshots = 0;
    let conf_changes = 0;
    let crashes = 0;
    let reads = 0;
    let async_acked = 0;
    for (let seed = 1; seed <= CI_SEEDS_PER_SIZE; seed++) {
      const s = runSeed({ seed: seed * 7 + nodes, nodes, steps: CI_STEPS });
      if (s.async_storage_writes) async_acked += s.acked;
      proposals += s.proposals;
      acked += s.acked;
      snapshots += s.snapshots_installed;
      conf_changes += s.conf_changes;
      crashes += s.crashes;
      reads += s.reads_checked;
    }
    // The runs must actually exercise the features, or the test proves nothing.
    assert(acked > CI_SEEDS_PER_SIZE * 10, `too few acknowledged proposals: ${acked}/${proposals}`);
    assert(snapshots > 0, "no snapshot was ever installed");
    assert(conf_changes > 0, "no membership change happened");
    assert(crashes > 0, "no node ever crashed");
    assert(reads > 0, "no read index was ever served");
    assert(async_acked > CI_SEEDS_PER_SIZE * 2, `async storage writes barely ran: ${async_acked}`);
  });
}

Deno.test("sim: the same seed replays the same run", () => {
  const a = runSeed({ seed: 4242, nodes: 5, steps: 800 });
  const b = runSeed({ seed: 4242, nodes: 5, steps: 800 });
  assert(JSON.stringify(a) === JSON.stringify(b), "two runs of one seed differ");
  const c = runSeed({ seed: 4243, nodes: 5, steps: 800 });
  assert(JSON.stringify(a) !== JSON.stringify(c), "different seeds gave identical runs");
});

Deno.test("sim: a 7-node cluster keeps every safety property", () => {
  for (let seed = 1; seed <= 20; seed++) runSeed({ seed, nodes: 7, steps: 1000 });
});

Deno.test("sim: a failure names its seed and the replay command", () => {
  const sim = new Simulation({ seed: 99, nodes: 3, steps: 50 });
  // Break the cluster from outside: the checker must notice and the message must replay.
  const err = new SimFailure(sim.options, 17, new SafetyViolation("election safety", "x"));
  assert(err.message.includes("seed=99"), "seed missing from the failure");
  assert(
    err.message.includes("deno task sim --seed 99 --nodes 3 --steps 50"),
    "replay command missing",
  );
});

Deno.test("checker: two leaders in one term violate election safety", () => {
  const c = new SafetyChecker();
  const fake = (id: number, term: number) => ({ id, term, state: 2 }) as never;
  c.checkLeaders([fake(1, 3)]);
  let threw = false;
  try {
    c.checkLeaders([fake(2, 3)]);
  } catch (e) {
    threw = e instanceof SafetyViolation;
  }
  assert(threw, "a second leader of term 3 was not reported");
});

Deno.test("checker: the same (index, term) with different data violates log matching", () => {
  const c = new SafetyChecker();
  c.recordPersisted(1, 0, [newEntry({ index: 1, term: 1, data: new Uint8Array([1]) })]);
  let threw = false;
  try {
    c.recordPersisted(2, 0, [newEntry({ index: 1, term: 1, data: new Uint8Array([2]) })]);
  } catch (e) {
    threw = e instanceof SafetyViolation;
  }
  assert(threw, "diverging entry at (1, 1) was not reported");
});

Deno.test("checker: different entries applied at one index violate state machine safety", () => {
  const c = new SafetyChecker();
  const sm = (digest: number) => ({
    applied_index: 1,
    applied_term: 1,
    ids: [],
    digest,
    conf_state: { nodes: [], learners: [] },
  });
  c.recordApplied(1, 1, newEntry({ index: 1, term: 1 }), sm(5));
  let threw = false;
  try {
    c.recordApplied(2, 2, newEntry({ index: 1, term: 2 }), sm(6));
  } catch (e) {
    threw = e instanceof SafetyViolation;
  }
  assert(threw, "different applied entries at index 1 were not reported");
});
