import { assert } from "./assert.ts";
import { Network } from "./testing.ts";
import { StateType } from "./raft.ts";

Deno.test("smoke: 3 nodes elect and commit", () => {
  const nt = new Network([null, null, null]);
  nt.campaign(1);
  assert(nt.raft(1).state === StateType.Leader, "1 is leader");
  nt.propose(1, "x");
  for (const id of [1, 2, 3]) {
    assert(
      nt.raft(id).raft_log.committed === 2,
      `commit at ${id}: ${nt.raft(id).raft_log.committed}`,
    );
  }
});
