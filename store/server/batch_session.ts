/**
 * The serving side of one BatchCommands stream, whatever carries it: the
 * store's gRPC stream, the store's frame listener, or a region worker's own
 * frame listener (worker/worker_frames.ts). No gRPC in here: workers load it.
 * @module
 */
import type * as storepb from "@eraft/proto/gen/storepb.ts";
import { Immediate } from "@eraft/shared/immediate";
import type { KvApi } from "./kv_api.ts";
import { serverIsBusy } from "./region_errors.ts";

/** Commands one BatchCommands stream may have in flight; more get ServerIsBusy. */
export const MAX_STREAM_INFLIGHT = 10_000;

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

/** The command's region (0 when it names none). */
function regionOf(req: storepb.BatchCommandsRequest_Request): number {
  const cmd = req.raw_get ?? req.raw_batch_get ?? req.raw_batch ?? req.raw_put ??
    req.raw_delete ?? req.raw_scan;
  return cmd?.context?.region_id ?? 0;
}

/** True when the command's answer carries no region error (the region is served here). */
function servedHere(res: storepb.BatchCommandsResponse_Response): boolean {
  const r = res.raw_get ?? res.raw_batch_get ?? res.raw_batch ?? res.raw_put ??
    res.raw_delete ?? res.raw_scan;
  return r !== null && r !== undefined && !r.region_error;
}

/** Regions a session remembers routing; past this it forgets them all and routes again. */
const MAX_ROUTED_REGIONS = 100_000;

const emptyResponse = (): storepb.BatchCommandsResponse => ({
  responses: [],
  request_ids: [],
  worker_routes: [],
});

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
  #out = emptyResponse();
  /** Region id → the worker address this session last routed it to. */
  readonly #routed = new Map<number, string>();
  // setTimeout(0) would add ~2 ms to every command (Deno's timer granularity).
  readonly #flusher = new Immediate(() => this.#flush());

  /**
   * `send` writes one response message; `on_done` runs once after `end()`
   * when every answer went out. When the router names the frame address of
   * the worker hosting a region (`workerFrameAddr`), the first answer served
   * for that region (and the first after the address changed) carries it as a
   * `WorkerRoute`.
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
        if (servedHere(res)) this.#maybeRoute(regionOf(reqs[i]));
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

  #maybeRoute(region_id: number): void {
    const addr = region_id === 0 ? null : this.api.router.workerFrameAddr?.(region_id) ?? null;
    if (addr === null || this.#routed.get(region_id) === addr) return;
    if (this.#routed.size >= MAX_ROUTED_REGIONS) this.#routed.clear();
    this.#routed.set(region_id, addr);
    this.#out.worker_routes.push({ region_id, frame_addr: addr });
  }

  #flush(): void {
    if (this.#closed) return;
    const out = this.#out;
    this.#out = emptyResponse();
    if (out.responses.length > 0) this.send(out);
    if (this.#ended && this.#inflight === 0) {
      this.close();
      this.on_done();
    }
  }
}
