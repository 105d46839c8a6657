import assert from "node:assert/strict";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import { answerGets } from "./store_client.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** Runs answerGets for `keys`; returns each caller's value, or null when not found. */
function answer(keys: string[], res: Partial<kvrpcpb.RawBatchGetResponse>): Array<string | null> {
  const got: kvrpcpb.RawGetResponse[] = [];
  const members = keys.map((k, i) => ({
    p: { resolve: (r: unknown) => (got[i] = r as kvrpcpb.RawGetResponse) },
    key: enc(k),
  }));
  answerGets({ region_error: null, error: "", pairs: [], ...res }, members);
  assert.equal(got.length, keys.length, "every caller is answered");
  return got.map((r) => (r.not_found ? null : dec(r.value)));
}

const pair = (k: string, v: string): kvrpcpb.KvPair => ({
  error: null,
  key: enc(k),
  value: enc(v),
  type: 0,
});

Deno.test("merged GETs: pairs in request order answer each caller, absent keys included", () => {
  assert.deepEqual(
    answer(["a", "b", "c", "a"], { pairs: [pair("a", "1"), pair("c", "3"), pair("a", "1")] }),
    ["1", null, "3", "1"],
  );
  assert.deepEqual(answer(["x", "y"], { pairs: [] }), [null, null]);
});

Deno.test("merged GETs: pairs in another order are matched by key", () => {
  assert.deepEqual(
    answer(["a", "b", "c"], { pairs: [pair("c", "3"), pair("a", "1")] }),
    ["1", null, "3"],
  );
});

Deno.test("merged GETs: a region error reaches every caller, with no value", () => {
  const got: kvrpcpb.RawGetResponse[] = [];
  answerGets(
    {
      region_error: { message: "not leader" } as kvrpcpb.RawBatchGetResponse["region_error"],
      error: "",
      pairs: [pair("a", "1")],
    },
    ["a", "b"].map((k) => ({
      p: { resolve: (r: unknown) => got.push(r as kvrpcpb.RawGetResponse) },
      key: enc(k),
    })),
  );
  assert.equal(got.length, 2);
  for (const r of got) {
    assert.equal(r.region_error?.message, "not leader");
    assert.equal(r.not_found, true);
  }
});
