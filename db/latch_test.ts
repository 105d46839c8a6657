import assert from "node:assert/strict";
import { Latches } from "./latch.ts";

Deno.test("latches: tryAcquireOne takes a free key at once and refuses a held one", async () => {
  const l = new Latches();
  const release = l.tryAcquireOne("k");
  assert(release !== null);
  assert.equal(l.tryAcquireOne("k"), null, "held: refused");
  assert.notEqual(l.tryAcquireOne("other"), null, "another key is free");
  const order: string[] = [];
  const waiter = l.acquire(["k"]).then((r) => {
    order.push("acquired");
    r();
  });
  await Promise.resolve();
  order.push("released");
  release();
  await waiter;
  assert.deepEqual(order, ["released", "acquired"], "acquire waits for the latch taken at once");
  assert.throws(() => release(), /twice/);
});

Deno.test("latches: tryAcquireOne refuses a key someone waits for, and frees it after release", async () => {
  const l = new Latches();
  const first = await l.acquire(["k"]);
  const second = l.acquire(["k"]);
  assert.equal(l.tryAcquireOne("k"), null);
  first();
  (await second)();
  const again = l.tryAcquireOne("k");
  assert(again !== null, "free once every holder released");
  again();
  assert.equal(l.size, 0);
});
