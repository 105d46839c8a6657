/**
 * E-DB's client of one store's `storepb.Store` service. The hot path is the
 * store's `BatchCommands` bidi stream (DESIGN.md §10): every command issued
 * while others are in flight is gathered and sent as one message at the end
 * of the event-loop turn, tagged with a request id; responses come back in any
 * order. A stream that breaks fails its in-flight commands with a retryable
 * error (the caller retries, writes keep their dedup id) and is reopened on
 * the next command; a store that cannot serve the stream at all is used
 * through the unary RPCs for a while instead.
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { GrpcStatus, RpcError, ServiceClient } from "@eraft/shared/grpc";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import type * as storepb from "@eraft/proto/gen/storepb.ts";

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
}

/** Counters for tests and INFO. */
export interface StoreClientStats {
  stream_messages_sent: number;
  stream_commands_sent: number;
  stream_failures: number;
  unary_calls: number;
}

/** A client of one store address. */
export class StoreClient {
  readonly #client: ServiceClient;
  readonly #unary_only: boolean;
  #stream: grpc.ClientDuplexStream<object, object> | null = null;
  readonly #pending = new Map<number, Pending>();
  #next_id = 1;
  #queue_reqs: storepb.BatchCommandsRequest_Request[] = [];
  #queue_ids: number[] = [];
  #flush_scheduled = false;
  #flush_timer: ReturnType<typeof setTimeout> | undefined;
  #sweep_timer: ReturnType<typeof setInterval> | undefined;
  #fallback_until_ms = 0;
  #failures_in_a_row = 0;
  #closed = false;
  readonly stats: StoreClientStats = {
    stream_messages_sent: 0,
    stream_commands_sent: 0,
    stream_failures: 0,
    unary_calls: 0,
  };

  constructor(readonly addr: string, opts: StoreClientOptions = {}) {
    this.#client = new ServiceClient("storepb.Store", addr);
    this.#unary_only = opts.unary_only ?? false;
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
    if (this.#unary_only || Date.now() < this.#fallback_until_ms) {
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
    // wait for the end of this event-loop turn so concurrent commands from many
    // connections share one message (throughput).
    if (this.#pending.size <= 1) queueMicrotask(() => this.#flush());
    else this.#flush_timer = setTimeout(() => this.#flush(), 0);
  }

  #flush(): void {
    this.#flush_scheduled = false;
    clearTimeout(this.#flush_timer);
    this.#flush_timer = undefined;
    if (this.#queue_ids.length === 0 || this.#closed) return;
    const msg: storepb.BatchCommandsRequest = {
      requests: this.#queue_reqs,
      request_ids: this.#queue_ids,
    };
    this.#queue_reqs = [];
    this.#queue_ids = [];
    try {
      this.#openStream().write(msg);
      this.stats.stream_messages_sent++;
      this.stats.stream_commands_sent += msg.request_ids.length;
    } catch (e) {
      this.#failStream(GrpcStatus.UNAVAILABLE, `stream write failed: ${e}`);
    }
  }

  #openStream(): grpc.ClientDuplexStream<object, object> {
    if (this.#stream) return this.#stream;
    const stream = this.#client.duplex("BatchCommands");
    this.#stream = stream;
    stream.on("data", (msg: storepb.BatchCommandsResponse) => {
      this.#failures_in_a_row = 0;
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
    });
    stream.on("error", (e: grpc.ServiceError) => {
      if (this.#stream === stream) {
        this.#failStream(e.code ?? GrpcStatus.UNAVAILABLE, e.details ?? String(e));
      }
    });
    stream.on("end", () => {
      if (this.#stream === stream) this.#failStream(GrpcStatus.UNAVAILABLE, "stream ended");
    });
    return stream;
  }

  /** Fails every command in flight on the stream (retryable) and drops the stream. */
  #failStream(code: grpc.status, details: string): void {
    const stream = this.#stream;
    this.#stream = null;
    if (stream) {
      try {
        stream.cancel();
      } catch { /* already gone */ }
    }
    this.stats.stream_failures++;
    this.#failures_in_a_row++;
    if (
      code === GrpcStatus.UNIMPLEMENTED ||
      this.#failures_in_a_row >= STREAM_FAILURES_BEFORE_FALLBACK
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
    clearTimeout(this.#flush_timer);
    this.#client.close();
  }
}
