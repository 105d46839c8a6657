import assert from "node:assert/strict";
import fc from "fast-check";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import type * as raft_cmdpb from "@eraft/proto/gen/raft_cmdpb.ts";
import { compareBytes } from "@eraft/shared/bytes";
import { decodeMessage, encodeMessage } from "@eraft/shared/proto";
import { decodeWrite, encodeWrite, proposalBytes } from "./write_body.ts";

const key = fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) => new Uint8Array(b));
const bytes = fc.uint8Array({ maxLength: 60 }).map((b) => new Uint8Array(b));
const mutation: fc.Arbitrary<kvrpcpb.Mutation> = fc.record({
  op: fc.constantFrom(0, 1, 2),
  cf: fc.constantFrom("", "default", "lock", "write"),
  key,
  value: bytes,
  type: fc.nat(0xffff_ffff),
  end_key: bytes,
}, { noNullPrototype: true });
const precondition: fc.Arbitrary<kvrpcpb.Precondition> = fc.record({
  kind: fc.constantFrom(0, 1, 2),
  cf: fc.constantFrom("", "default"),
  key,
  value: bytes,
}, { noNullPrototype: true });
const member: fc.Arbitrary<kvrpcpb.BatchMember> = fc.record({
  id: fc.maxSafeNat(),
  mutation_count: fc.nat(1000),
  issued_at_ms: fc.maxSafeNat(),
}, { noNullPrototype: true });
const parts = fc.record({
  mutations: fc.array(mutation, { minLength: 1, maxLength: 20 }),
  preconditions: fc.array(precondition, { maxLength: 5 }),
  members: fc.array(member, { maxLength: 5 }),
  request_id: fc.maxSafeNat(),
  issued_at_ms: fc.maxSafeNat(),
}, { noNullPrototype: true });

const header: raft_cmdpb.RaftRequestHeader = {
  region_id: 7,
  peer: { id: 3, store_id: 2, addr: "127.0.0.1:9", role: 0 },
  region_epoch: { conf_ver: 2, version: 5 },
  term: 4,
  request_id: 99,
  issued_at_ms: 1_700_000_000_000,
  proposed_at_ms: 1_700_000_000_123,
};

Deno.test("write_body: header bytes + body decode as the command encoded whole", () => {
  fc.assert(
    fc.property(parts, (p) => {
      const w = encodeWrite(p);
      const whole = encodeMessage("raft_cmdpb.RaftCmdRequest", {
        header,
        mutations: p.mutations,
        preconditions: p.preconditions,
        members: p.members,
      });
      const spliced = proposalBytes(encodeMessage("raft_cmdpb.RaftCmdRequest", { header }), w);
      const type = "raft_cmdpb.RaftCmdRequest";
      assert.deepEqual(decodeMessage(type, spliced), decodeMessage(type, whole));
      assert.deepEqual(decodeWrite(w), p);
    }),
    { numRuns: 200 },
  );
});

Deno.test("write_body: the key bounds are the least and greatest key named, in private buffers", () => {
  fc.assert(
    fc.property(parts, (p) => {
      const w = encodeWrite(p);
      const keys = [...p.mutations.map((m) => m.key), ...p.preconditions.map((c) => c.key)]
        .sort(compareBytes);
      assert.deepEqual(w.min_key, keys[0]);
      assert.deepEqual(w.max_key, keys[keys.length - 1]);
      // Posting a view of a shared buffer would clone all of it.
      assert.equal(w.body.byteLength, w.body.buffer.byteLength);
      assert.equal(w.min_key.buffer, w.max_key.buffer);
      assert.equal(w.min_key.buffer.byteLength, w.min_key.length + w.max_key.length);
    }),
    { numRuns: 100 },
  );
});

Deno.test("write_body: a write naming no key is refused", () => {
  assert.throws(
    () => encodeWrite({ mutations: [], preconditions: [], request_id: 0, issued_at_ms: 0 }),
    /names no key/,
  );
});
