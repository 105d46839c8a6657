import assert from "node:assert/strict";
import fc from "fast-check";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import type * as storepb from "@eraft/proto/gen/storepb.ts";
import { decodeMessage, encodeMessage } from "@eraft/shared/proto";
import {
  decodeKvPairs,
  encodeBatchResponse,
  encodedBatchGetResponse,
  encodedScanResponse,
  encodeKvPairs,
  type FoundPair,
} from "./kv_pairs_wire.ts";

const bytes = fc.uint8Array({ maxLength: 300 }).map((b) => new Uint8Array(b));
const pair: fc.Arbitrary<FoundPair> = fc.record({
  key: fc.uint8Array({ minLength: 1, maxLength: 200 }).map((b) => new Uint8Array(b)),
  value: bytes,
  type: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff_ffff })),
});

const plainPairs = (pairs: readonly FoundPair[]): kvrpcpb.KvPair[] =>
  pairs.map((p) => ({ error: null, key: p.key, value: p.value, type: p.type }));

Deno.test("kv_pairs_wire: encoded pairs decode as RawBatchGetResponse.pairs and RawScanResponse.kvs", () => {
  fc.assert(
    fc.property(fc.array(pair, { maxLength: 40 }), (pairs) => {
      const wire = encodeKvPairs(pairs);
      // The worker posts it: a view of a shared buffer would clone all of that buffer.
      assert.equal(wire.byteLength, wire.buffer.byteLength);
      const expected = plainPairs(pairs);
      assert.deepEqual(decodeKvPairs(wire), expected);
      const scan = decodeMessage<kvrpcpb.RawScanResponse>("kvrpcpb.RawScanResponse", wire);
      assert.deepEqual(scan.kvs, expected);
    }),
    { numRuns: 200 },
  );
});

Deno.test("kv_pairs_wire: a batch response with spliced pairs decodes as protobufjs's own encoding does", () => {
  const response = fc.record({
    kind: fc.constantFrom("get", "scan"),
    spliced: fc.boolean(),
    pairs: fc.array(pair, { maxLength: 12 }),
  }, { noNullPrototype: true });
  const build = (
    r: { kind: string; spliced: boolean; pairs: FoundPair[] },
    plain: boolean,
  ): storepb.BatchCommandsResponse_Response => {
    const bytes = encodeKvPairs(r.pairs);
    const fields = { region_error: null, error: "" };
    if (r.kind === "get") {
      return {
        raw_batch_get: r.spliced && !plain
          ? encodedBatchGetResponse(bytes)
          : { ...fields, pairs: plainPairs(r.pairs) },
      };
    }
    return {
      raw_scan: r.spliced && !plain
        ? encodedScanResponse(bytes)
        : { ...fields, kvs: plainPairs(r.pairs) },
    };
  };
  fc.assert(
    fc.property(
      fc.array(fc.tuple(response, fc.maxSafeNat()), { maxLength: 12 }),
      fc.array(
        fc.record({ region_id: fc.maxSafeNat(), frame_addr: fc.string() }, {
          noNullPrototype: true,
        }),
        { maxLength: 3 },
      ),
      (rows, worker_routes) => {
        const ids = rows.map(([, id]) => id);
        const out = {
          responses: rows.map(([r]) => build(r, false)),
          request_ids: ids,
          worker_routes,
        };
        const plain = {
          responses: rows.map(([r]) => build(r, true)),
          request_ids: ids,
          worker_routes,
        };
        const type = "storepb.BatchCommandsResponse";
        assert.deepEqual(
          decodeMessage(type, encodeBatchResponse(out)),
          decodeMessage(type, encodeMessage(type, plain)),
        );
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("kv_pairs_wire: an encoded response reads like a plain one and keeps other commands' encoding", () => {
  const pairs = [{ key: new Uint8Array([1, 2]), value: new Uint8Array([3]), type: 7 }];
  const res = encodedBatchGetResponse(encodeKvPairs(pairs));
  assert.deepEqual(res.pairs, plainPairs(pairs));
  assert.deepEqual(encodedScanResponse(encodeKvPairs(pairs)).kvs, plainPairs(pairs));
  assert.deepEqual(
    decodeMessage("kvrpcpb.RawBatchGetResponse", encodeMessage("kvrpcpb.RawBatchGetResponse", res)),
    { region_error: null, error: "", pairs: plainPairs(pairs) },
    "protobufjs (unary gRPC) encodes it through its pairs",
  );
  const other: storepb.BatchCommandsResponse = {
    responses: [{
      raw_batch: { region_error: null, error: "boom", precondition_failed: true, failed_index: 2 },
    }],
    request_ids: [9],
    worker_routes: [],
  };
  const type = "storepb.BatchCommandsResponse";
  assert.deepEqual(encodeBatchResponse(other), encodeMessage(type, other));
});

Deno.test("kv_pairs_wire: request ids that are not non-negative safe integers are refused", () => {
  for (const id of [-1, 2 ** 53, 1.5]) {
    assert.throws(
      () => encodeBatchResponse({ responses: [], request_ids: [id], worker_routes: [] }),
      /bad request id/,
    );
  }
});
