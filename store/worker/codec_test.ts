import assert from "node:assert/strict";
import fc from "fast-check";
import { MutationOp } from "@eraft/proto/gen/kvrpcpb.ts";
import { decodeTaggedValue, TaggedValues } from "./codec.ts";

const arbPut = fc.record({
  type: fc.oneof(fc.nat(127), fc.nat(2 ** 32 - 1)),
  value: fc.uint8Array({ maxLength: 300 }),
});

Deno.test("TaggedValues: each value decodes back to its type and bytes, side by side in one buffer", () => {
  fc.assert(
    fc.property(fc.array(arbPut, { maxLength: 30 }), (puts) => {
      const mutations = puts.map((p) => ({ op: MutationOp.Put, ...p }));
      const values = TaggedValues.forPuts(mutations);
      const stored = puts.map((p) => values.add(p.type, p.value));
      puts.forEach((p, i) => {
        const back = decodeTaggedValue(stored[i]);
        assert.equal(back.type, p.type);
        assert.deepEqual(back.value, p.value);
      });
    }),
    { seed: 909, numRuns: 500 },
  );
});

Deno.test("TaggedValues: the tag is LEB128 (a stored format), and a value past the room is refused", () => {
  const values = new TaggedValues(6);
  assert.deepEqual([...values.add(1, Uint8Array.of(9))], [1, 9]);
  assert.deepEqual([...values.add(300, Uint8Array.of(7))], [0xac, 0x02, 7]);
  assert.throws(() => values.add(0, Uint8Array.of(1, 2)), RangeError);
  // Room for puts only: deletes carry no value.
  const only_puts = TaggedValues.forPuts([
    { op: MutationOp.Put, type: 1, value: new Uint8Array(10) },
    { op: MutationOp.Delete, type: 0, value: new Uint8Array(50) },
  ]);
  only_puts.add(1, new Uint8Array(10));
  assert.throws(() => only_puts.add(0, new Uint8Array(0)), RangeError);
});
