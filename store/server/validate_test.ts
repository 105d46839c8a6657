import assert from "node:assert/strict";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import { checkDedup, checkMembers, InvalidArgument } from "./validate.ts";

function batch(fields: Partial<kvrpcpb.RawBatchRequest>): kvrpcpb.RawBatchRequest {
  return {
    context: null,
    mutations: [],
    preconditions: [],
    id: 0,
    members: [],
    issued_at_ms: 0,
    ...fields,
  };
}

Deno.test("checkMembers: a merged batch's members must cover exactly its mutations", () => {
  const members = [
    { id: 5, mutation_count: 2, issued_at_ms: 1_700_000_000_000 },
    { id: 6, mutation_count: 1, issued_at_ms: 1_700_000_000_001 },
  ];
  assert.deepEqual(checkMembers(batch({ members }), 3, 0), members);
  assert.deepEqual(checkMembers(batch({}), 3, 0), [], "no members: an ordinary batch");
  assert.throws(() => checkMembers(batch({ members }), 4, 0), InvalidArgument);
  assert.throws(() => checkMembers(batch({ members }), 2, 0), InvalidArgument);
});

Deno.test("checkMembers: members exclude preconditions, a batch id, id 0 and empty members", () => {
  const one = [{ id: 5, mutation_count: 1, issued_at_ms: 1 }];
  assert.throws(() => checkMembers(batch({ members: one }), 1, 1), /no preconditions/);
  assert.throws(() => checkMembers(batch({ members: one, id: 9 }), 1, 0), /no id/);
  assert.throws(
    () => checkMembers(batch({ members: [{ id: 0, mutation_count: 1, issued_at_ms: 1 }] }), 1, 0),
    /non-zero id/,
  );
  assert.throws(
    () => checkMembers(batch({ members: [{ id: 3, mutation_count: 0, issued_at_ms: 1 }] }), 0, 0),
    /no mutations/,
  );
  assert.throws(
    () => checkMembers(batch({ members: [{ id: 3, mutation_count: 1, issued_at_ms: 0 }] }), 1, 0),
    /needs issued_at_ms/,
  );
});

Deno.test("checkDedup: a request id needs the time it was first issued", () => {
  assert.deepEqual(checkDedup(0, 0), { request_id: 0, issued_at_ms: 0 });
  assert.deepEqual(checkDedup(0, 123), { request_id: 0, issued_at_ms: 0 }, "no id: time unused");
  assert.deepEqual(checkDedup(7, 1_700_000_000_000), {
    request_id: 7,
    issued_at_ms: 1_700_000_000_000,
  });
  assert.throws(() => checkDedup(7, 0), /needs issued_at_ms/);
  assert.throws(() => checkDedup(7, -5), /needs issued_at_ms/);
  assert.throws(() => checkDedup(7, 1.5), /needs issued_at_ms/);
  assert.throws(() => checkDedup(-1, 5), /invalid request id/);
});
