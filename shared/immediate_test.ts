import assert from "node:assert/strict";
import { Immediate } from "./immediate.ts";

Deno.test("immediate: runs once per burst of schedule() calls, after the current task", async () => {
  let runs = 0;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const imm = new Immediate(() => {
    runs++;
    resolve();
  });
  try {
    imm.schedule();
    imm.schedule();
    assert.equal(runs, 0, "must not run synchronously");
    await done;
    assert.equal(runs, 1);
  } finally {
    imm.close();
  }
});

Deno.test("immediate: a closed scheduler never runs", async () => {
  let runs = 0;
  const imm = new Immediate(() => runs++);
  imm.schedule();
  imm.close();
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(runs, 0);
  imm.schedule();
  assert.equal(imm.pending, false);
});

Deno.test("immediate: a run scheduled from inside a run happens on a later task", async () => {
  const runs: number[] = [];
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const imm: Immediate = new Immediate(() => {
    runs.push(runs.length);
    if (runs.length === 1) {
      imm.schedule();
      assert.deepEqual(runs, [0], "the second run must not happen inside the first");
    } else resolve();
  });
  try {
    imm.schedule();
    await done;
    assert.deepEqual(runs, [0, 1]);
  } finally {
    imm.close();
  }
});
