/**
 * A region worker's own frame listener, so a client's commands and the Raft
 * messages of the worker's regions skip the store's main thread: two thread
 * hops less each way, and no structured clone between threads.
 *
 * - `BatchCommands` frames for the regions this worker hosts, served with the
 *   store's own code (`KvApi`, `BatchSession`). Clients learn the address from
 *   the store (`WorkerRoute` in a BatchCommandsResponse); a region this worker
 *   does not host gets RegionNotFound, and the client goes back to the store.
 * - `RaftBatch` frames from other workers (raft_direct.ts): messages of the
 *   regions hosted here are stepped at once; the others, and all of them
 *   while the store has fault rules, go to the store to deliver.
 * @module
 */
import type { FrameListener } from "@eraft/shared/frame";
import { KvApi } from "../server/kv_api.ts";
import { startFrameService } from "../server/frame_service.ts";
import { encodeRaftBatch, splitRaftBatch } from "../raft_wire.ts";
import type { FromWorker } from "../protocol.ts";
import type { RaftDirect } from "./raft_direct.ts";
import type { RegionWorker } from "./worker.ts";

/** Listens on `host`, any free port, for frames of `worker`'s regions. */
export function startWorkerFrames(
  host: string,
  worker: RegionWorker,
  direct: RaftDirect,
  post: (msg: FromWorker) => void,
): FrameListener {
  const api = new KvApi({
    request: (region_id, context, req) => worker.submit(region_id, context, req),
  }, true);
  const toStore = (batch: Uint8Array) => post({ kind: "raft_in", batch });
  return startFrameService(`${host}:0`, api, (body) => {
    const parts = splitRaftBatch(body);
    if (typeof parts === "string") return parts;
    // A copy: the body may be a view into a larger read buffer, all of which a post would clone.
    if (direct.faults_active) toStore(body.slice());
    else {
      const elsewhere = worker.stepDirect(parts);
      if (elsewhere.length > 0) toStore(encodeRaftBatch(elsewhere.map((m) => m.bytes)));
    }
    return null;
  });
}
