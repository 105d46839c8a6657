/**
 * grpc-js handlers of `storepb.Store`: the seed's unary RPCs plus
 * `BatchCommands`, the hot path — one long-lived bidi stream whose batches are
 * dispatched concurrently and whose responses go back as they complete,
 * gathered into one frame per event-loop turn (TiKV's BatchCommands).
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import type * as storepb from "@eraft/proto/gen/storepb.ts";
import { Immediate } from "@eraft/shared/immediate";
import type { KvApi } from "./kv_api.ts";
import { serverIsBusy } from "./region_errors.ts";

/** Commands one BatchCommands stream may have in flight; more get ServerIsBusy. */
export const MAX_STREAM_INFLIGHT = 10_000;

type Unary = (req: never) => Promise<object>;

function unary(fn: Unary): grpc.handleUnaryCall<object, object> {
  return (call, callback) => {
    fn(call.request as never).then(
      (res) => callback(null, res),
      (err) => callback({ code: grpc.status.INTERNAL, details: String(err) } as grpc.ServiceError),
    );
  };
}

/** The handlers of `storepb.Store` over `api`. */
export function storeHandlers(api: KvApi): grpc.UntypedServiceImplementation {
  return {
    RawGet: unary((r) => api.rawGet(r)),
    RawPut: unary((r) => api.rawPut(r)),
    RawDelete: unary((r) => api.rawDelete(r)),
    RawScan: unary((r) => api.rawScan(r)),
    RawBatch: unary((r) => api.rawBatch(r)),
    RawBatchGet: unary((r) => api.rawBatchGet(r)),
    TransferLeader: unary((r) => api.transferLeader(r)),
    PeerConfChange: unary((r) => api.peerConfChange(r)),
    SplitRegion: unary((r) => api.splitRegion(r)),
    BatchCommands: (call: grpc.ServerDuplexStream<object, object>) => serveBatch(api, call),
  };
}

/** Runs one command of a batch; an empty command gets an empty response. */
export function dispatchCommand(
  api: KvApi,
  req: storepb.BatchCommandsRequest_Request,
): Promise<storepb.BatchCommandsResponse_Response> {
  if (req.raw_get) return api.rawGet(req.raw_get).then((raw_get) => ({ raw_get }));
  if (req.raw_put) return api.rawPut(req.raw_put).then((raw_put) => ({ raw_put }));
  if (req.raw_delete) return api.rawDelete(req.raw_delete).then((raw_delete) => ({ raw_delete }));
  if (req.raw_scan) return api.rawScan(req.raw_scan).then((raw_scan) => ({ raw_scan }));
  if (req.raw_batch) return api.rawBatch(req.raw_batch).then((raw_batch) => ({ raw_batch }));
  if (req.raw_batch_get) {
    return api.rawBatchGet(req.raw_batch_get).then((raw_batch_get) => ({ raw_batch_get }));
  }
  return Promise.resolve({});
}

/** The response a command gets when the stream has too many in flight. */
function busyResponse(
  req: storepb.BatchCommandsRequest_Request,
): storepb.BatchCommandsResponse_Response {
  const out = { region_error: serverIsBusy("too many commands in flight"), error: "" };
  if (req.raw_get) {
    return { raw_get: { ...out, value: new Uint8Array(0), not_found: false, type: 0 } };
  }
  if (req.raw_put) return { raw_put: out };
  if (req.raw_delete) return { raw_delete: out };
  if (req.raw_scan) return { raw_scan: { ...out, kvs: [] } };
  if (req.raw_batch) return { raw_batch: { ...out, precondition_failed: false, failed_index: 0 } };
  if (req.raw_batch_get) return { raw_batch_get: { ...out, pairs: [] } };
  return {};
}

/**
 * The serving side of one BatchCommands stream, whatever carries it (the
 * gRPC stream or a frame connection): dispatches each batch's commands
 * concurrently and sends their responses as they complete, gathered into
 * one message per macrotask.
 */
export class BatchSession {
  #inflight = 0;
  #ended = false;
  #closed = false;
  #out: storepb.BatchCommandsResponse = { responses: [], request_ids: [] };
  // setTimeout(0) would add ~2 ms to every command (Deno's timer granularity).
  readonly #flusher = new Immediate(() => this.#flush());

  /**
   * `send` writes one response message; `on_done` runs once after `end()`
   * when every answer went out.
   */
  constructor(
    readonly api: KvApi,
    readonly send: (res: storepb.BatchCommandsResponse) => void,
    readonly on_done: () => void,
  ) {}

  /** Starts a batch's commands; the text of the error for a malformed batch, else null. */
  onBatch(batch: storepb.BatchCommandsRequest): string | null {
    const reqs = batch.requests ?? [];
    const ids = batch.request_ids ?? [];
    if (reqs.length !== ids.length) return `${reqs.length} requests but ${ids.length} request_ids`;
    for (let i = 0; i < reqs.length; i++) {
      if (this.#inflight >= MAX_STREAM_INFLIGHT) {
        this.#reply(ids[i], busyResponse(reqs[i]));
        continue;
      }
      this.#inflight++;
      dispatchCommand(this.api, reqs[i]).catch(() => busyResponse(reqs[i])).then((res) => {
        this.#inflight--;
        this.#reply(ids[i], res);
      });
    }
    return null;
  }

  /** The client sends no more: finish once every command answered. */
  end(): void {
    this.#ended = true;
    if (this.#inflight === 0) this.#flush();
    else this.#flusher.schedule();
  }

  /** Drops answers still to come (the stream is gone). */
  close(): void {
    this.#closed = true;
    this.#flusher.close();
  }

  #reply(id: number, res: storepb.BatchCommandsResponse_Response): void {
    this.#out.responses.push(res);
    this.#out.request_ids.push(id);
    this.#flusher.schedule();
  }

  #flush(): void {
    if (this.#closed) return;
    const out = this.#out;
    this.#out = { responses: [], request_ids: [] };
    if (out.responses.length > 0) this.send(out);
    if (this.#ended && this.#inflight === 0) {
      this.close();
      this.on_done();
    }
  }
}

function serveBatch(api: KvApi, call: grpc.ServerDuplexStream<object, object>): void {
  const session = new BatchSession(api, (res) => call.write(res), () => call.end());
  call.on("data", (batch: storepb.BatchCommandsRequest) => {
    const err = session.onBatch(batch);
    if (err === null) return;
    session.close();
    call.emit("error", { code: grpc.status.INVALID_ARGUMENT, details: err });
  });
  call.on("end", () => session.end());
  call.on("error", () => session.close());
  call.on("cancelled", () => session.close());
}
