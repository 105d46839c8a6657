/// <reference lib="deno.worker" />
/**
 * Web Worker entry of a region worker. The first message must be `start`;
 * every later one goes to the RegionWorker. A broken invariant (an assertion)
 * is reported as `fatal` and rethrown, so the worker dies and the supervisor
 * restarts it from disk.
 * @module
 */
import type { FromWorker, ToWorker } from "../protocol.ts";
import { RegionWorker } from "./worker.ts";

let worker: RegionWorker | null = null;

function post(msg: FromWorker): void {
  self.postMessage(msg);
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  try {
    if (msg.kind === "start") {
      if (worker !== null) return;
      worker = new RegionWorker(msg.config, post);
      worker.start();
      return;
    }
    if (worker === null) throw new Error(`worker got '${msg.kind}' before 'start'`);
    worker.handle(msg);
    if (msg.kind === "stop") self.close();
  } catch (err) {
    const worker_id = worker?.config.worker_id ?? -1;
    post({
      kind: "fatal",
      worker_id,
      message: err instanceof Error ? err.stack ?? err.message : String(err),
    });
    throw err;
  }
};
