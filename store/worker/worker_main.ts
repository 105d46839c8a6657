/// <reference lib="deno.worker" />
/**
 * Web Worker entry of a region worker. The first message must be `start`;
 * every later one goes to the RegionWorker. A broken invariant (an assertion)
 * is reported as `fatal` and rethrown, so the worker dies and the supervisor
 * restarts it from disk.
 * @module
 */
import type { FrameListener } from "@eraft/shared/frame";
import type { FromWorker, ToWorker } from "../protocol.ts";
import { NO_PHASES } from "./phases.ts";
import { RaftDirect } from "./raft_direct.ts";
import { RegionWorker } from "./worker.ts";
import { startWorkerFrames } from "./worker_frames.ts";

let worker: RegionWorker | null = null;
/** The worker's own frame listener (config.frame_host), if any. */
let frames: FrameListener | null = null;
/** Raft messages to other workers' listeners (with `frames` only). */
let direct: RaftDirect | null = null;

/** Everything posted in one task leaves as one message (one clone, one event on the main thread). */
let outbox: FromWorker[] = [];
let flush_queued = false;

function flush(): void {
  direct?.flushNow();
  flush_queued = false;
  if (outbox.length === 0) return;
  const msgs = outbox;
  outbox = [];
  const phases = worker?.phases ?? NO_PHASES;
  phases.enter("post");
  self.postMessage(msgs.length === 1 ? msgs[0] : { kind: "batch", msgs });
  phases.exit();
}

function post(msg: FromWorker): void {
  if (msg.kind === "send" && direct !== null) {
    const rest = direct.send(msg.msgs);
    if (rest.length === 0) return;
    msg = { kind: "send", msgs: rest };
  }
  outbox.push(msg);
  // The worker closes right after these: they cannot wait for a later turn.
  // (The loop itself flushes before it blocks; see RegionWorker's `flush`.)
  if (msg.kind === "stopped" || msg.kind === "fatal") flush();
  else if (!flush_queued) {
    flush_queued = true;
    queueMicrotask(flush); // when the current task ends
  }
}

function handle(msg: ToWorker): void {
  if (msg.kind === "batch") {
    for (const m of msg.msgs) handle(m);
    return;
  }
  if (msg.kind === "start") {
    if (worker !== null) return;
    worker = new RegionWorker(msg.config, post, flush);
    const host = msg.config.frame_host;
    if (host) {
      direct = new RaftDirect(worker.peer_frame_addrs, worker.counts);
      frames = startWorkerFrames(host, worker, direct, post);
    }
    worker.start(frames?.address ?? "");
    return;
  }
  if (worker === null) throw new Error(`worker got '${msg.kind}' before 'start'`);
  if (msg.kind === "faults" && direct !== null) direct.faults_active = msg.active;
  worker.handle(msg);
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  try {
    const phases = worker?.phases ?? NO_PHASES;
    phases.enter("messages");
    try {
      handle(msg);
    } finally {
      phases.exit();
    }
    if (msg.kind === "stop") {
      direct?.close();
      void frames?.close();
      phases.close();
      self.close();
    }
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
