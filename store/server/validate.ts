/**
 * Argument checks done on the main thread before a request reaches a worker.
 * A bad argument is the caller's bug, so it gets the response's `error` string
 * (never a region error, which would make a client retry forever).
 *
 * Limits (TiKV-like, chosen for eraft and documented in README):
 * - keys: 1 byte to 8 KiB (`MAX_KEY_BYTES`); values up to 8 MiB (`MAX_VALUE_BYTES`);
 * - scan `limit`: 1 to 10,000 (`MAX_SCAN_LIMIT`);
 * - batches: up to 10,000 mutations / keys, 32 MiB in total;
 * - column families: "" (= "default"), "default", "lock", "write".
 * @module
 */
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import { EMPTY_BYTES } from "@eraft/shared/bytes";

/** Longest key accepted, bytes. */
export const MAX_KEY_BYTES = 8 * 1024;
/** Largest value accepted, bytes. */
export const MAX_VALUE_BYTES = 8 * 1024 * 1024;
/** Largest `limit` of one RawScan. */
export const MAX_SCAN_LIMIT = 10_000;
/** Most mutations (RawBatch) or keys (RawBatchGet) in one request. */
export const MAX_BATCH_ITEMS = 10_000;
/** Most bytes of keys and values in one RawBatch. */
export const MAX_BATCH_BYTES = 32 * 1024 * 1024;

const CFS = new Set(["default", "lock", "write"]);

/** Thrown for an invalid argument; its message becomes the response's `error`. */
export class InvalidArgument extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidArgument";
  }
}

/** The engine cf for a request's `cf` ("" means "default"). */
export function checkCf(cf: string | null | undefined): string {
  const name = cf || "default";
  if (!CFS.has(name)) {
    throw new InvalidArgument(`unknown column family '${cf}': use default, lock or write`);
  }
  return name;
}

/** A key must be non-empty and at most MAX_KEY_BYTES. */
export function checkKey(key: Uint8Array | null | undefined, what = "key"): Uint8Array {
  if (!key || key.length === 0) throw new InvalidArgument(`${what} is empty`);
  if (key.length > MAX_KEY_BYTES) {
    throw new InvalidArgument(`${what} is ${key.length} bytes, over the limit of ${MAX_KEY_BYTES}`);
  }
  return key;
}

/** A range bound may be empty (= unbounded) but not oversized. */
export function checkBound(key: Uint8Array | null | undefined, what: string): Uint8Array {
  if (!key || key.length === 0) return new Uint8Array(0);
  return checkKey(key, what);
}

/** A value may be empty but at most MAX_VALUE_BYTES. */
export function checkValue(value: Uint8Array | null | undefined): Uint8Array {
  if (!value) return new Uint8Array(0);
  if (value.length > MAX_VALUE_BYTES) {
    throw new InvalidArgument(
      `value is ${value.length} bytes, over the limit of ${MAX_VALUE_BYTES}`,
    );
  }
  return value;
}

/** RawScan's limit: 0 or above MAX_SCAN_LIMIT is an error, not a silent clamp. */
export function checkScanLimit(limit: number | null | undefined): number {
  const n = limit ?? 0;
  if (!Number.isInteger(n) || n < 1 || n > MAX_SCAN_LIMIT) {
    throw new InvalidArgument(`scan limit must be from 1 to ${MAX_SCAN_LIMIT}, got ${n}`);
  }
  return n;
}

/** A request id must be a safe integer (ids are JS numbers, see shared/proto/load.ts). */
export function checkRequestId(id: number | null | undefined): number {
  const n = id ?? 0;
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgument(`invalid request id ${n}`);
  return n;
}

/** The deduplication fields of a write request, checked. */
export interface DedupFields {
  request_id: number;
  issued_at_ms: number;
}

/** A request id and, required with a non-zero one, the client time it was first issued. */
export function checkDedup(
  id: number | null | undefined,
  issued_at_ms: number | null | undefined,
): DedupFields {
  const request_id = checkRequestId(id);
  if (request_id === 0) return { request_id, issued_at_ms: 0 };
  const at = issued_at_ms ?? 0;
  if (!Number.isSafeInteger(at) || at <= 0) {
    throw new InvalidArgument(
      `request id ${request_id} needs issued_at_ms (the client's Unix ms time at its first attempt)`,
    );
  }
  return { request_id, issued_at_ms: at };
}

/** Checks and normalises one RawBatch mutation (cf resolved, bytes checked). */
export function checkMutation(m: kvrpcpb.Mutation, i: number): kvrpcpb.Mutation {
  const op = m.op ?? 0;
  if (op !== 0 && op !== 1 && op !== 2) {
    throw new InvalidArgument(`mutation ${i}: unknown op ${op}`);
  }
  const cf = checkCf(m.cf);
  const key = checkKey(m.key, `mutation ${i} key`);
  const value = op === 0 ? checkValue(m.value) : EMPTY_BYTES;
  const end_key = op === 2 ? checkBound(m.end_key, `mutation ${i} end_key`) : EMPTY_BYTES;
  return { op, cf, key, value, type: m.type ?? 0, end_key };
}

/** Checks and normalises one RawBatch precondition. */
export function checkPrecondition(p: kvrpcpb.Precondition, i: number): kvrpcpb.Precondition {
  const kind = p.kind ?? 0;
  if (kind !== 0 && kind !== 1 && kind !== 2) {
    throw new InvalidArgument(`precondition ${i}: unknown kind ${kind}`);
  }
  return {
    kind,
    cf: checkCf(p.cf),
    key: checkKey(p.key, `precondition ${i} key`),
    value: kind === 0 ? checkValue(p.value) : new Uint8Array(0),
  };
}

/** Bounds a batch's item count and total bytes. */
export function checkBatchSize(count: number, total_bytes: number): void {
  if (count > MAX_BATCH_ITEMS) {
    throw new InvalidArgument(`batch has ${count} items, over the limit of ${MAX_BATCH_ITEMS}`);
  }
  if (total_bytes > MAX_BATCH_BYTES) {
    throw new InvalidArgument(
      `batch is ${total_bytes} bytes, over the limit of ${MAX_BATCH_BYTES}`,
    );
  }
}

/**
 * The members of a merged RawBatch: only without preconditions and without a
 * batch id, non-zero ids, and mutation counts that add up to the batch's.
 */
export function checkMembers(
  r: kvrpcpb.RawBatchRequest,
  mutation_count: number,
  precondition_count: number,
): kvrpcpb.BatchMember[] {
  const members = r.members ?? [];
  if (members.length === 0) return [];
  if (precondition_count > 0 || (r.id ?? 0) !== 0) {
    throw new InvalidArgument("a merged batch (members) has no preconditions and no id");
  }
  let total = 0;
  const out = members.map((m) => {
    const { request_id: id, issued_at_ms } = checkDedup(m.id, m.issued_at_ms);
    if (id === 0) throw new InvalidArgument("a batch member needs a non-zero id");
    const count = m.mutation_count ?? 0;
    if (!Number.isInteger(count) || count < 1) {
      throw new InvalidArgument(`batch member ${id} has no mutations`);
    }
    total += count;
    return { id, mutation_count: count, issued_at_ms };
  });
  if (total !== mutation_count) {
    throw new InvalidArgument(
      `batch members count ${total} mutations, the batch has ${mutation_count}`,
    );
  }
  return out;
}
