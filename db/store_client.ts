/**
 * E-DB's client of one store's `storepb.Store` service. The hot path is the
 * store's `BatchCommands` bidi stream (DESIGN.md §10): every command issued
 * while others are in flight is gathered and sent as one message at the end
 * of the event-loop turn, tagged with a request id; responses come back in any
 * order. A stream that breaks fails its in-flight commands with a retryable
 * error (the caller retries, writes keep their dedup id) and is reopened on
 * the next command; a store that cannot serve the stream at all is used
 * through the unary RPCs for a while instead.
 *
 * When the store's frame address is known (`frame_addr`), the stream is a
 * frame connection (shared/frame.ts) carrying the same messages without
 * HTTP/2; a broken one reports `frame_failed` so the address is looked up
 * again, and the next stream is gRPC until it is.
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { GrpcStatus, RpcError, ServiceClient } from "@eraft/shared/grpc";
import { Immediate } from "@eraft/shared/immediate";
import { chunksBySize } from "@eraft/shared/chunks";
import { FrameConn, FrameKind } from "@eraft/shared/frame";
import { decodeMessageView, encodeMessage } from "@eraft/shared/proto";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import type * as storepb from "@eraft/proto/gen/storepb.ts";
import { EMPTY_BYTES, equal, latin1 } from "./encoding/bytes.ts";

/** The commands E-DB sends, by their BatchCommands oneof name. */
export interface StoreCommands {
  raw_get: [kvrpcpb.RawGetRequest, kvrpcpb.RawGetResponse];
  raw_scan: [kvrpcpb.RawScanRequest, kvrpcpb.RawScanResponse];
  raw_batch: [kvrpcpb.RawBatchRequest, kvrpcpb.RawBatchResponse];
  raw_batch_get: [kvrpcpb.RawBatchGetRequest, kvrpcpb.RawBatchGetResponse];
}

/** One of the command kinds. */
export type CommandKind = keyof StoreCommands;

const UNARY_METHOD: Record<CommandKind, string> = {
  raw_get: "RawGet",
  raw_scan: "RawScan",
  raw_batch: "RawBatch",
  raw_batch_get: "RawBatchGet",
};

/** Commands one client keeps in flight at most; more fail fast (retryable). */
export const MAX_INFLIGHT = 20_000;
/** How long the unary RPCs stand in after the stream failed to open repeatedly. */
export const STREAM_FALLBACK_MS = 5_000;
/** Consecutive stream failures without a single response that trigger the fallback. */
const STREAM_FAILURES_BEFORE_FALLBACK = 3;
/** Largest RawBatch built by merging queued ones (the store's entry limit is 16 MiB). */
const MAX_MERGED_BATCH_BYTES = 1024 * 1024;

/** Estimated bytes of one stream message at most (splits a flush of large commands). */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Keys of one RawBatchGet built by merging queued RawGets. */
const MAX_MERGED_GETS = 1024;

/** Requests with equal keys address the same region replica at the same epoch. */
function contextKey(c: kvrpcpb.Context): string {
  const e = c.region_epoch;
  return `${c.region_id}/${e?.conf_ver}/${e?.version}/${c.peer?.id}/${c.peer?.store_id}`;
}

/**
 * Answers each merged RawGet from the RawBatchGet's response. The store lists
 * the pairs it found in the order the keys were asked (kvrpcpb.proto), so one
 * walk matches them without building key strings; if the walk leaves a pair
 * unmatched the order was not that, and the pairs are matched by key instead.
 */
export function answerGets(
  res: kvrpcpb.RawBatchGetResponse,
  members: Array<{ p: { resolve(res: unknown): void }; key: Uint8Array }>,
): void {
  const failed = Boolean(res.region_error || res.error);
  const pairs = failed ? [] : res.pairs ?? [];
  const found: Array<kvrpcpb.KvPair | undefined> = [];
  let next = 0;
  for (const { key } of members) {
    found.push(next < pairs.length && equal(pairs[next].key, key) ? pairs[next++] : undefined);
  }
  if (next !== pairs.length) {
    const by_key = new Map(pairs.map((x) => [latin1(x.key), x]));
    members.forEach(({ key }, i) => (found[i] = by_key.get(latin1(key))));
  }
  members.forEach(({ p }, i) => {
    const pair = found[i];
    const get: kvrpcpb.RawGetResponse = {
      region_error: res.region_error ?? null,
      error: res.error ?? "",
      value: pair?.value ?? EMPTY_BYTES,
      not_found: pair === undefined,
      type: pair?.type ?? 0,
    };
    p.resolve(get);
  });
}

/** Rough encoded size of a RawBatch's mutations. */
function batchBytes(b: kvrpcpb.RawBatchRequest): number {
  let n = 0;
  for (const m of b.mutations) n += m.key.length + m.value.length + m.end_key.length + 16;
  return n;
}

/** Rough encoded size of one queued command. */
function requestBytes(r: storepb.BatchCommandsRequest_Request): number {
  if (r.raw_batch) return batchBytes(r.raw_batch) + 64;
  if (r.raw_batch_get) return r.raw_batch_get.keys.reduce((n, k) => n + k.length + 8, 64);
  if (r.raw_get) return r.raw_get.key.length + 64;
  if (r.raw_scan) return r.raw_scan.start_key.length + r.raw_scan.end_key.length + 64;
  return 64;
}

/** Deadline sweep period. */
const SWEEP_MS = 50;

interface Pending {
  kind: CommandKind;
  resolve(res: unknown): void;
  reject(err: unknown): void;
  deadline_at_ms: number;
}

/** Options of {@link StoreClient}. */
export interface StoreClientOptions {
  /** Use the unary RPCs only (tests, or stores without BatchCommands). */
  unary_only?: boolean;
  /** The store's frame address, or null: use the gRPC stream. */
  frame_addr?: () => string | null;
  /** A frame connection broke (the address may be stale). */
  frame_failed?: () => void;
  /**
   * `addr` is a region worker's frame listener (storepb.WorkerRoute): frames
   * only, never gRPC, so no fallback to the unary RPCs either.
   */
  worker?: boolean;
  /** Called with the worker routes a response carries. */
  on_routes?: (routes: storepb.WorkerRoute[]) => void;
}

/** What carries the BatchCommands stream: gRPC or a frame connection. */
type Link = { grpc: grpc.ClientDuplexStream<object, object> } | { frames: FrameConn };

/** Counters for tests and INFO. */
export interface StoreClientStats {
  stream_messages_sent: number;
  stream_commands_sent: number;
  stream_failures: number;
  /** Stream messages that went over a frame connection (a subset of stream_messages_sent). */
  frame_messages_sent: number;
  unary_calls: number;
  /** RawBatch commands built by merging blind writes (see #mergeBlindBatches). */
  merged_batches: number;
  /** RawBatchGet commands built by merging RawGets (see #mergePointReads). */
  merged_gets: number;
}

/** A client of one store address. */
export class StoreClient {
  readonly #client: ServiceClient;
  readonly #opts: StoreClientOptions;
  #link: Link | null = null;
  readonly #pending = new Map<number, Pending>();
  #next_id = 1;
  #queue_reqs: storepb.BatchCommandsRequest_Request[] = [];
  #queue_ids: number[] = [];
  #flush_scheduled = false;
  /** Runs the flush on a later macrotask: setTimeout(0) costs ~2 ms in Deno. */
  #flusher: Immediate | null = null;
  #sweep_timer: ReturnType<typeof setInterval> | undefined;
  #fallback_until_ms = 0;
  #failures_in_a_row = 0;
  #closed = false;
  readonly stats: StoreClientStats = {
    stream_messages_sent: 0,
    stream_commands_sent: 0,
    stream_failures: 0,
    frame_messages_sent: 0,
    unary_calls: 0,
    merged_batches: 0,
    merged_gets: 0,
  };

  constructor(readonly addr: string, opts: StoreClientOptions = {}) {
    this.#client = new ServiceClient("storepb.Store", addr);
    this.#opts = opts;
  }

  /** Sends one command; rejects with RpcError (see `retryable`) on failure or deadline. */
  call<K extends CommandKind>(
    kind: K,
    req: StoreCommands[K][0],
    deadline_ms: number,
  ): Promise<StoreCommands[K][1]> {
    if (this.#closed) {
      return Promise.reject(
        new RpcError(GrpcStatus.CANCELLED, "client closed", this.addr, UNARY_METHOD[kind]),
      );
    }
    if (this.#opts.unary_only || (!this.#opts.worker && Date.now() < this.#fallback_until_ms)) {
      this.stats.unary_calls++;
      return this.#client.unary<StoreCommands[K][1]>(UNARY_METHOD[kind], req, deadline_ms);
    }
    if (this.#pending.size >= MAX_INFLIGHT) {
      return Promise.reject(
        new RpcError(GrpcStatus.RESOURCE_EXHAUSTED, "too many commands in flight", this.addr, kind),
      );
    }
    const id = this.#next_id++;
    return new Promise<StoreCommands[K][1]>((resolve, reject) => {
      this.#pending.set(id, {
        kind,
        resolve: resolve as (res: unknown) => void,
        reject,
        deadline_at_ms: Date.now() + deadline_ms,
      });
      this.#queue_reqs.push({ [kind]: req } as storepb.BatchCommandsRequest_Request);
      this.#queue_ids.push(id);
      this.#scheduleFlush();
      this.#sweep_timer ??= setInterval(() => this.#sweep(), SWEEP_MS);
    });
  }

  #scheduleFlush(): void {
    if (this.#flush_scheduled) return;
    this.#flush_scheduled = true;
    // Nothing in flight: send at once (latency of a lone client). Otherwise
    // wait for the next macrotask so concurrent commands from many
    // connections share one message (throughput).
    if (this.#pending.size <= 1) queueMicrotask(() => this.#flush());
    else {
      this.#flusher ??= new Immediate(() => this.#flush());
      this.#flusher.schedule();
    }
  }

  #flush(): void {
    this.#flush_scheduled = false;
    if (this.#queue_ids.length === 0 || this.#closed) return;
    this.#mergeBlindBatches();
    this.#mergePointReads();
    const reqs = this.#queue_reqs;
    const ids = this.#queue_ids;
    this.#queue_reqs = [];
    this.#queue_ids = [];
    try {
      const link = this.#openLink();
      // Several messages when the commands are large: each stays far below
      // the 64 MiB message and frame limits.
      const indexes = reqs.map((_, i) => i);
      for (const chunk of chunksBySize(indexes, (i) => requestBytes(reqs[i]), MAX_MESSAGE_BYTES)) {
        this.#write(link, {
          requests: chunk.map((i) => reqs[i]),
          request_ids: chunk.map((i) => ids[i]),
        });
      }
    } catch (e) {
      this.#failStream(GrpcStatus.UNAVAILABLE, `stream write failed: ${e}`);
    }
  }

  /**
   * Folds the queued RawBatch commands that carry no precondition and address
   * the same region (id, epoch, peer) into one RawBatch: one Raft entry and
   * one apply on the store instead of one each (plain SETs from many clients).
   * A merged command's outcome is every member's: on an error each caller
   * retries alone under its own dedup id, which the merged batch carries per
   * member (`members`), so the store applies each member at most once
   * whichever of the two reaches the log first. (Re-applying a SET after
   * later writes to its key would undo them: not linearizable.)
   */
  #mergeBlindBatches(): void {
    this.stats.merged_batches += this.#mergeQueued(
      (r) => {
        const b = r.raw_batch;
        // Members need their own dedup ids; a merged batch is not merged again.
        if (!b || !b.context || b.preconditions.length > 0 || !b.id || b.members?.length) {
          return null;
        }
        return contextKey(b.context);
      },
      (group) =>
        chunksBySize(
          group,
          (i) => batchBytes(this.#queue_reqs[i].raw_batch!),
          MAX_MERGED_BATCH_BYTES,
        ),
      (reqs, members) => {
        const batches = reqs.map((r) => r.raw_batch!);
        return {
          req: {
            raw_batch: {
              context: batches[0].context,
              mutations: batches.flatMap((b) => b.mutations),
              preconditions: [],
              id: 0,
              issued_at_ms: 0,
              // Each member keeps its dedup id: one retried alone never applies twice.
              members: batches.map((b) => ({
                id: b.id,
                mutation_count: b.mutations.length,
                issued_at_ms: b.issued_at_ms,
              })),
            },
          } as storepb.BatchCommandsRequest_Request,
          kind: "raw_batch",
          resolve: (res) => members.forEach((p) => p.resolve(res)),
        };
      },
    );
  }

  /**
   * Folds queued RawGets for one region (id, epoch, peer) and column family
   * into one RawBatchGet: one request, one read and one response on the store
   * instead of one each (GETs from many clients). Each caller gets the
   * RawGetResponse its key would have got, region errors included.
   */
  #mergePointReads(): void {
    this.stats.merged_gets += this.#mergeQueued(
      (r) => {
        const g = r.raw_get;
        return g && g.context ? `${contextKey(g.context)}/${g.cf}` : null;
      },
      (group) => chunksBySize(group, () => 0, Infinity, MAX_MERGED_GETS),
      (reqs, members) => {
        const gets = reqs.map((r) => r.raw_get!);
        const keyed = members.map((p, j) => ({ p, key: gets[j].key }));
        return {
          req: {
            raw_batch_get: {
              context: gets[0].context,
              keys: gets.map((g) => g.key),
              cf: gets[0].cf,
            },
          } as storepb.BatchCommandsRequest_Request,
          kind: "raw_batch_get",
          resolve: (res) => answerGets(res as kvrpcpb.RawBatchGetResponse, keyed),
        };
      },
    );
  }

  /**
   * Folds queued commands into merged ones, each in place of its first
   * member: `keyOf` groups the mergeable entries (null leaves one alone),
   * `chunksOf` splits a group, and `fold` builds a chunk's merged request and
   * how its answer resolves the members. A failure rejects every member; the
   * merged deadline is the earliest member's. Returns the merged count.
   */
  #mergeQueued(
    keyOf: (r: storepb.BatchCommandsRequest_Request) => string | null,
    chunksOf: (group: number[]) => number[][],
    fold: (
      reqs: storepb.BatchCommandsRequest_Request[],
      members: Pending[],
    ) => {
      req: storepb.BatchCommandsRequest_Request;
      kind: CommandKind;
      resolve(res: unknown): void;
    },
  ): number {
    const groups = new Map<string, number[]>();
    this.#queue_reqs.forEach((r, i) => {
      const key = keyOf(r);
      if (key === null) return;
      const group = groups.get(key);
      if (group) group.push(i);
      else groups.set(key, [i]);
    });
    const dropped = new Set<number>();
    let merged = 0;
    for (const group of groups.values()) {
      for (const chunk of chunksOf(group)) {
        if (chunk.length < 2) continue;
        merged++;
        const members = chunk.map((i) => {
          const id = this.#queue_ids[i];
          const p = this.#pending.get(id)!;
          this.#pending.delete(id);
          return p;
        });
        const { req, kind, resolve } = fold(chunk.map((i) => this.#queue_reqs[i]), members);
        const merged_id = this.#next_id++;
        this.#pending.set(merged_id, {
          kind,
          resolve,
          reject: (e) => members.forEach((p) => p.reject(e)),
          deadline_at_ms: Math.min(...members.map((p) => p.deadline_at_ms)),
        });
        this.#queue_reqs[chunk[0]] = req;
        this.#queue_ids[chunk[0]] = merged_id;
        for (const i of chunk.slice(1)) dropped.add(i);
      }
    }
    this.#dropQueued(dropped);
    return merged;
  }

  /** Removes the queue entries at `indexes` (folded into another entry). */
  #dropQueued(indexes: Set<number>): void {
    if (indexes.size === 0) return;
    this.#queue_reqs = this.#queue_reqs.filter((_, i) => !indexes.has(i));
    this.#queue_ids = this.#queue_ids.filter((_, i) => !indexes.has(i));
  }

  /** Writes one message on `link`; throws when the link cannot take it. */
  #write(link: Link, msg: storepb.BatchCommandsRequest): void {
    if ("grpc" in link) link.grpc.write(msg);
    else {
      const body = encodeMessage("storepb.BatchCommandsRequest", msg);
      if (!link.frames.send(FrameKind.BatchRequest, body)) throw new Error("connection full");
      this.stats.frame_messages_sent++;
    }
    this.stats.stream_messages_sent++;
    this.stats.stream_commands_sent += msg.request_ids.length;
  }

  /**
   * The link to send on. A gRPC stream gives way to frames once the frame
   * address is known: it is half-closed and still delivers its answers.
   */
  #openLink(): Link {
    const current = this.#link;
    if (current && "frames" in current) return current;
    const frame_addr = this.#opts.worker ? this.addr : this.#opts.frame_addr?.() ?? null;
    if (current && frame_addr === null) return current;
    if (current && "grpc" in current) current.grpc.end();
    const link = frame_addr === null ? this.#grpcLink() : this.#frameLink(frame_addr);
    this.#link = link;
    return link;
  }

  #frameLink(addr: string): Link {
    const link: { frames: FrameConn } = {
      frames: FrameConn.dial(addr, {
        on_frame: (kind, body) => {
          if (this.#link !== link) return;
          let msg: storepb.BatchCommandsResponse;
          try {
            if (kind !== FrameKind.BatchResponse) throw new Error(`frame kind ${kind}`);
            // Read-only use: the plain-object copy cost 4x the decode (27 vs 5 µs for 16 pairs).
            msg = decodeMessageView("storepb.BatchCommandsResponse", body);
          } catch (e) {
            link.frames.close();
            return this.#failStream(GrpcStatus.INTERNAL, `bad frame from ${addr}: ${e}`);
          }
          this.#onResponse(msg);
        },
        on_close: (reason) => {
          if (this.#link !== link || reason === null) return;
          this.#opts.frame_failed?.();
          this.#failStream(GrpcStatus.UNAVAILABLE, reason);
        },
      }),
    };
    return link;
  }

  #grpcLink(): Link {
    const stream = this.#client.duplex("BatchCommands");
    const link: Link = { grpc: stream };
    // A retired stream still answers what was sent on it (ids are unique).
    stream.on("data", (msg: storepb.BatchCommandsResponse) => this.#onResponse(msg));
    stream.on("error", (e: grpc.ServiceError) => {
      if (this.#link === link) {
        this.#failStream(e.code ?? GrpcStatus.UNAVAILABLE, e.details ?? String(e));
      }
    });
    stream.on("end", () => {
      if (this.#link === link) this.#failStream(GrpcStatus.UNAVAILABLE, "stream ended");
    });
    return link;
  }

  /** Answers the commands a response message carries. */
  #onResponse(msg: storepb.BatchCommandsResponse): void {
    this.#failures_in_a_row = 0;
    const routes = msg.worker_routes ?? [];
    if (routes.length > 0) this.#opts.on_routes?.(routes);
    const ids = msg.request_ids ?? [];
    const responses = msg.responses ?? [];
    for (let i = 0; i < ids.length; i++) {
      const p = this.#pending.get(ids[i]);
      if (!p) continue; // timed out earlier: nobody waits for it any more
      this.#pending.delete(ids[i]);
      const res = (responses[i] as Record<string, unknown> | undefined)?.[p.kind];
      if (res) p.resolve(res);
      else {
        p.reject(
          new RpcError(GrpcStatus.INTERNAL, `store answered no ${p.kind}`, this.addr, p.kind),
        );
      }
    }
  }

  /** Fails every command in flight on the stream (retryable) and drops the stream. */
  #failStream(code: grpc.status, details: string): void {
    const link = this.#link;
    this.#link = null;
    try {
      if (link && "grpc" in link) link.grpc.cancel();
      if (link && "frames" in link) link.frames.close();
    } catch { /* already gone */ }
    this.stats.stream_failures++;
    this.#failures_in_a_row++;
    if (
      !this.#opts.worker &&
      (code === GrpcStatus.UNIMPLEMENTED ||
        this.#failures_in_a_row >= STREAM_FAILURES_BEFORE_FALLBACK)
    ) {
      this.#fallback_until_ms = Date.now() + STREAM_FALLBACK_MS;
      this.#failures_in_a_row = 0;
    }
    // UNIMPLEMENTED is not retryable for a unary caller, but the command itself
    // may well work through the unary RPC: report it as unavailable.
    const as_code = code === GrpcStatus.UNIMPLEMENTED ? GrpcStatus.UNAVAILABLE : code;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    this.#queue_reqs = [];
    this.#queue_ids = [];
    for (const p of pending) {
      p.reject(new RpcError(as_code, details, this.addr, "BatchCommands"));
    }
    this.#stopSweepIfIdle();
  }

  #sweep(): void {
    const now = Date.now();
    for (const [id, p] of this.#pending) {
      if (p.deadline_at_ms > now) continue;
      this.#pending.delete(id);
      p.reject(
        new RpcError(GrpcStatus.DEADLINE_EXCEEDED, "deadline exceeded", this.addr, p.kind),
      );
    }
    this.#stopSweepIfIdle();
  }

  #stopSweepIfIdle(): void {
    if (this.#pending.size === 0 && this.#sweep_timer !== undefined) {
      clearInterval(this.#sweep_timer);
      this.#sweep_timer = undefined;
    }
  }

  /** Commands waiting for an answer. */
  get inflight(): number {
    return this.#pending.size;
  }

  /** Fails what is in flight, closes the stream and the channel. */
  close(): void {
    if (this.#closed) return;
    this.#failStream(GrpcStatus.CANCELLED, "client closed");
    this.#closed = true;
    this.#flusher?.close();
    this.#client.close();
  }
}
