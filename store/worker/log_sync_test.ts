import assert from "node:assert/strict";
import { LogSync } from "./log_sync.ts";

/** A host whose syncs the test completes by hand, recording what each released. */
function harness() {
  const pending: Array<() => void> = [];
  const events: string[] = [];
  let writes = 0;
  const sync = new LogSync<number, string>({
    mark: () => writes,
    sync: () => new Promise<void>((resolve) => pending.push(resolve)),
    durable: (mark, released) => events.push(`durable@${mark}:${released.join(",")}`),
  });
  const write = () => {
    writes++;
    sync.wrote();
    sync.request();
  };
  /** Completes the oldest sync in flight and lets its continuation run. */
  const complete = async () => {
    const resolve = pending.shift();
    assert(resolve, "no sync in flight");
    resolve();
    await new Promise((r) => setTimeout(r, 0));
  };
  return { sync, events, pending, write, complete };
}

Deno.test("log sync: a message waits for the sync that covers the writes before it", async () => {
  const h = harness();
  const sent: string[] = [];
  h.write();
  h.sync.send(["ack1"], (m) => sent.push(...m));
  assert.equal(sent.length, 0, "held while the write is not durable");
  await h.complete();
  assert.deepEqual(h.events, ["durable@1:ack1"], "released by the covering sync");
  h.sync.send(["hb"], (m) => sent.push(...m));
  assert.deepEqual(sent, ["hb"], "nothing unsynced: sent at once");
});

Deno.test("log sync: writes during a sync are covered by one more sync, not by it", async () => {
  const h = harness();
  h.write();
  h.sync.send(["a"], () => assert.fail("a must wait"));
  h.write(); // while sync 1 is in flight
  h.write();
  h.sync.send(["b"], () => assert.fail("b must wait"));
  assert.equal(h.pending.length, 1, "one sync at a time");
  await h.complete();
  assert.deepEqual(h.events, ["durable@1:a"], "sync 1 covered only the first write");
  assert.equal(h.pending.length, 1, "the later writes start the next sync at once");
  await h.complete();
  assert.deepEqual(h.events, ["durable@1:a", "durable@3:b"], "one sync covers both later writes");
  assert.equal(h.pending.length, 0, "nothing left to sync");
});

Deno.test("log sync: held messages leave in the order given", async () => {
  const h = harness();
  h.write();
  h.sync.send(["1"], () => assert.fail("held"));
  h.sync.send(["2", "3"], () => assert.fail("held"));
  await h.complete();
  assert.deepEqual(h.events, ["durable@1:1,2,3"]);
});

Deno.test("log sync: after stop nothing is released and the sync in flight can be awaited", async () => {
  const h = harness();
  h.write();
  h.sync.send(["x"], () => assert.fail("held"));
  const stopped = h.sync.stop();
  h.pending.shift()!();
  await stopped;
  assert.deepEqual(h.events, [], "a stopped worker sends nothing more");
  h.write();
  assert.equal(h.pending.length, 0, "and starts no sync");
});

Deno.test("log sync: a sync done inline releases its messages before request() returns", () => {
  const released: string[] = [];
  let synced = 0;
  const sync = new LogSync<number, string>({
    mark: () => synced + 1,
    sync: () => {
      synced++;
      return null;
    },
    durable: (_mark, msgs) => released.push(...msgs),
  });
  sync.wrote();
  sync.send(["ack"], () => assert.fail("the write is not durable yet"));
  sync.request();
  assert.deepEqual(released, ["ack"], "released by the inline sync");
  assert.equal(synced, 1);
  const sent: string[] = [];
  sync.send(["next"], (m) => sent.push(...m));
  assert.deepEqual(sent, ["next"], "nothing unsynced: sent at once");
});

Deno.test("log sync: an inline sync begun as a background one ends releases after it", async () => {
  const order: string[] = [];
  let resolve_first: (() => void) | null = null;
  let syncs = 0;
  const sync = new LogSync<number, string>({
    mark: () => syncs + 1,
    // The first sync runs in the background, the next one inline.
    sync: () => syncs++ === 0 ? new Promise<void>((r) => (resolve_first = r)) : null,
    durable: (_mark, msgs) => order.push(...msgs),
  });
  sync.wrote();
  sync.request();
  sync.send(["a"], () => assert.fail("held"));
  sync.wrote(); // during the background sync
  sync.send(["b"], () => assert.fail("held"));
  resolve_first!();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(syncs, 2, "the later write got its own sync");
  assert.deepEqual(order, ["a", "b"], "released in the order given");
});
