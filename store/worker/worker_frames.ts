/**
 * A region worker's own frame listener: `BatchCommands` for the regions this
 * worker hosts, served on the worker thread with the store's own code
 * (`KvApi`, `BatchSession`), so a client's command and its answer skip the
 * main thread: two thread hops less per command, and no structured clone of
 * requests and answers between threads.
 *
 * Clients learn the address from the store (`WorkerRoute` in a
 * BatchCommandsResponse). A region this worker does not host gets
 * RegionNotFound, and the client goes back to the store's listener.
 * Raft frames are refused here: they go through the store's transport.
 * @module
 */
import type { FrameListener } from "@eraft/shared/frame";
import { KvApi } from "../server/kv_api.ts";
import { startFrameService } from "../server/frame_service.ts";
import type { RegionWorker } from "./worker.ts";

/** Listens on `host`, any free port, for BatchCommands frames of `worker`'s regions. */
export function startWorkerFrames(host: string, worker: RegionWorker): FrameListener {
  const api = new KvApi({
    request: (region_id, context, req) => worker.submit(region_id, context, req),
  });
  return startFrameService(`${host}:0`, api, null);
}
