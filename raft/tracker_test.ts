import { assert } from "./assert.ts";
import { decodeConfChange, encodeConfChange } from "./conf_change_codec.ts";
import { Inflights } from "./inflights.ts";
import { Prng } from "./prng.ts";
import { Progress, ProgressState } from "./progress.ts";
import { committedIndex, VoteResult, voteResult } from "./quorum.ts";
import { expectEq } from "./testing.ts";

Deno.test("inflights: bounded by count and bytes, freed in order", () => {
  const f = new Inflights(3, 250);
  f.add(1, 100);
  f.add(2, 100);
  assert(!f.full(), "room left");
  f.add(3, 100);
  assert(f.full(), "full by count and bytes");
  f.freeLE(2);
  expectEq([f.count, f.bytes], [1, 100], "freed two");
  f.add(4, 10);
  f.freeFirstOne();
  expectEq(f.count, 1, "freed the oldest");
  f.freeLE(100);
  expectEq([f.count, f.bytes], [0, 0], "empty");
});

Deno.test("progress: probe, replicate and snapshot states pause appends as etcd's tracker does", () => {
  const pr = new Progress(5, 2, 0, false);
  pr.sentEntries(6, 2, 10);
  assert(pr.isPaused(), "probe pauses after one append");
  assert(pr.maybeUpdate(6), "ack");
  pr.becomeReplicate();
  expectEq(pr.next, 7, "replicate from match + 1");
  pr.sentEntries(8, 2, 10);
  pr.sentEntries(9, 1, 10);
  assert(pr.isPaused(), "window of 2 is full");
  assert(pr.maybeDecrTo(9, 7), "rejection in replicate");
  expectEq(pr.next, 7, "back to match + 1");
  pr.becomeSnapshot(20);
  assert(pr.isPaused(), "snapshot pauses");
  pr.becomeProbe();
  expectEq([pr.state, pr.next], [ProgressState.Probe, 21], "after the snapshot");
  assert(!pr.maybeDecrTo(5, 3), "stale rejection in probe");
});

Deno.test("quorum: committed index is the majority's acknowledged index; votes need a majority", () => {
  const acked: Record<number, number> = { 1: 5, 2: 3, 3: 9, 4: 1, 5: 7 };
  expectEq(committedIndex([1, 2, 3], (id) => acked[id]), 5, "3 voters");
  expectEq(committedIndex([1, 2, 3, 4, 5], (id) => acked[id]), 5, "5 voters");
  expectEq(committedIndex([1, 2, 3, 4], (id) => acked[id]), 3, "4 voters");
  const v = (o: Record<number, boolean>) =>
    new Map(Object.entries(o).map(([k, x]) => [Number(k), x]));
  expectEq(voteResult([1, 2, 3], v({ 1: true, 2: true })), VoteResult.Won, "won");
  expectEq(voteResult([1, 2, 3], v({ 1: true, 2: false })), VoteResult.Pending, "pending");
  expectEq(voteResult([1, 2, 3], v({ 1: false, 2: false })), VoteResult.Lost, "lost");
});

Deno.test("conf change codec: round-trips and matches protobufjs bytes", async () => {
  const protobuf = (await import("protobufjs")).default;
  const text = await Deno.readTextFile(new URL("../proto/eraftpb.proto", import.meta.url));
  const ConfChange = protobuf.parse(text, { keepCase: true }).root.lookupType("eraftpb.ConfChange");
  for (
    const cc of [
      { change_type: 0 as const, node_id: 0, context: new Uint8Array(0) },
      { change_type: 2 as const, node_id: 300, context: new Uint8Array([1, 2, 3]) },
      { change_type: 1 as const, node_id: 2 ** 40 + 7, context: new Uint8Array(0) },
    ]
  ) {
    const ours = encodeConfChange(cc);
    expectEq(decodeConfChange(ours), cc, "round trip");
    const theirs = ConfChange.encode(ConfChange.fromObject(cc)).finish();
    expectEq([...ours], [...theirs], "same bytes as protobufjs");
  }
});

Deno.test("prng: a seed determines the sequence; intBelow stays in range", () => {
  const a = new Prng(7);
  const b = new Prng(7);
  const xs = Array.from({ length: 100 }, () => a.intBelow(10));
  expectEq(Array.from({ length: 100 }, () => b.intBelow(10)), xs, "same seed, same sequence");
  assert(xs.every((x) => x >= 0 && x < 10), "in range");
  assert(new Set(xs).size === 10, "covers the range");
  assert(new Prng(8).nextU32() !== new Prng(7).nextU32(), "different seeds differ");
});
