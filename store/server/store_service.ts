/**
 * grpc-js handlers of `storepb.Store`: the seed's unary RPCs plus
 * `BatchCommands`, the hot path — one long-lived bidi stream whose batches are
 * dispatched concurrently and whose responses go back as they complete,
 * gathered into one frame per event-loop turn (TiKV's BatchCommands).
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import type * as storepb from "@eraft/proto/gen/storepb.ts";
import type { KvApi } from "./kv_api.ts";
import { BatchSession } from "./batch_session.ts";

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
