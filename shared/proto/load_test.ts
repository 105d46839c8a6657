import assert from "node:assert/strict";
import { decodeMessage, decodeMessageView, encodeMessage, encodeMessageOwned } from "./load.ts";

interface Entry {
  entry_type: number;
  term: number;
  index: number;
  data: Uint8Array;
}

function entry(index: number, size_bytes: number): Entry {
  return { entry_type: 0, term: 3, index, data: new Uint8Array(size_bytes).fill(index & 0xff) };
}

Deno.test("encodeMessage: each result is its own bytes although the writer is reused", () => {
  const sizes = [10, 3000, 5, 2 * 1024 * 1024, 40, 70_000, 1];
  const encoded = sizes.map((n, i) => encodeMessage("eraftpb.Entry", entry(i + 1, n)));
  for (const [i, bytes] of encoded.entries()) {
    const back = decodeMessage<Entry>("eraftpb.Entry", bytes);
    assert.equal(back.index, i + 1);
    assert.equal(back.data.length, sizes[i]);
    assert(back.data.every((b) => b === ((i + 1) & 0xff)), `entry ${i + 1} was overwritten`);
  }
});

Deno.test("encodeMessage: a failed encode leaves the next one whole", () => {
  // Throws part-way, after the writer took the fields before `data`.
  const bad = {
    term: 7,
    index: 8,
    get data(): Uint8Array {
      throw new Error("boom");
    },
  };
  assert.throws(() => encodeMessage("eraftpb.Entry", bad), /boom/);
  const back = decodeMessage<Entry>("eraftpb.Entry", encodeMessage("eraftpb.Entry", entry(9, 3)));
  assert.deepEqual([back.index, back.term, [...back.data]], [9, 3, [9, 9, 9]]);
});

Deno.test("encodeMessageOwned: the same bytes as encodeMessage, in a buffer of their own", () => {
  for (const n of [0, 10, 3000, 70_000]) {
    const owned = encodeMessageOwned("eraftpb.Entry", entry(n + 1, n));
    assert.deepEqual(owned, encodeMessage("eraftpb.Entry", entry(n + 1, n)));
    assert.equal(owned.byteOffset, 0);
    assert.equal(owned.byteLength, owned.buffer.byteLength, "owns its whole buffer");
  }
});

Deno.test("decodeMessageView: an empty or unset bytes field reads as an empty Uint8Array", () => {
  // proto3 does not encode an empty bytes field: the decoded message reads the prototype default.
  const bytes = encodeMessage("kvrpcpb.RawGetResponse", { value: new Uint8Array(0) });
  const view = decodeMessageView<{ value: Uint8Array }>("kvrpcpb.RawGetResponse", bytes);
  assert(view.value instanceof Uint8Array, `value is ${JSON.stringify(view.value)}`);
  assert.equal(view.value.length, 0);
  assert.equal(new TextDecoder().decode(view.value), "");
  // Nested messages and repeated fields of messages too; repeated fields stay arrays.
  const pairs = encodeMessage("kvrpcpb.RawBatchGetResponse", {
    pairs: [{ key: Uint8Array.of(1), value: new Uint8Array(0) }],
  });
  const got = decodeMessageView<{ pairs: Array<{ key: Uint8Array; value: Uint8Array }> }>(
    "kvrpcpb.RawBatchGetResponse",
    pairs,
  );
  assert(got.pairs[0].value instanceof Uint8Array);
  assert.deepEqual(got.pairs[0].key, Uint8Array.of(1));
  const none = decodeMessageView<{ pairs: unknown }>(
    "kvrpcpb.RawBatchGetResponse",
    new Uint8Array(0),
  );
  assert(Array.isArray(none.pairs));
});
