/**
 * The region worker pool of one store: spawns the Web Workers, keeps the
 * routing table region id → RegionInfo, forwards requests and Raft messages to
 * the worker hosting each region, and restarts a worker that dies (uncaught
 * error or `fatal`) while the others keep serving.
 *
 * Placement: a region already on a worker stays there for life. Each worker's
 * engine lives in `<data>/worker-<n>/` and holds its regions' state, so the
 * region → worker map is persisted by construction: on start every existing
 * `worker-<n>` directory gets its worker back, even when `--workers` shrank.
 * Static bootstrap puts region r on worker `r % N`; a peer created lazily by a
 * Raft message goes to the worker hosting the fewest regions.
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import type * as metapb from "@eraft/proto/gen/metapb.ts";
import type {
  FromWorker,
  RegionInfo,
  ToWorker,
  WorkerConfig,
  WorkerRequest,
  WorkerResponse,
  WorkerStats,
} from "../protocol.ts";
import { type EncodedRaftMessage, encodeRaftBatch } from "../raft_wire.ts";
import { toPlain } from "./plain.ts";
import { regionNotFound, serverIsBusy } from "./region_errors.ts";

/** The real worker entry point. */
export const WORKER_URL = new URL("../worker/worker_main.ts", import.meta.url).href;

/** Settings of the pool. */
export interface SupervisorOptions {
  data_dir: string;
  /** Workers wanted; more are started if more `worker-<n>` dirs exist. */
  workers: number;
  /** Worker settings shared by all workers (worker_id and dir are filled in). */
  base: Omit<WorkerConfig, "worker_id" | "dir">;
  /** Module URL of the worker (tests substitute a fake). */
  worker_url?: string;
  /** A request unanswered this long gets ServerIsBusy (below client deadlines). */
  request_deadline_ms: number;
  /** Requests in flight per worker before new ones get ServerIsBusy. */
  max_pending_requests: number;
  /** Called with every batch of outgoing Raft messages. */
  on_send: (msgs: EncodedRaftMessage[]) => void;
  /**
   * Called with a `RaftMessageBatch` a worker received on its own listener
   * but the store must deliver (the transport's incoming path).
   */
  on_raft_in?: (batch: Uint8Array) => void;
  /** Called with each worker's periodic counters (metrics). */
  on_stats?: (worker_id: number, stats: WorkerStats) => void;
  /** First restart delay after a crash, doubled per quick successive crash. */
  restart_backoff_ms_min?: number;
  restart_backoff_ms_max?: number;
  /** How long a worker may take to answer `start` (recovery) before it is restarted. */
  start_timeout_ms?: number;
  log?: (line: string) => void;
}

interface Pending {
  resolve: (res: WorkerResponse) => void;
  deadline_ms: number;
}

interface Slot {
  id: number;
  worker: Worker | null;
  ready: boolean;
  pending: Map<number, Pending>;
  /** Crashes in a row without a long healthy run; drives the backoff. */
  quick_crashes: number;
  restarts_total: number;
  started_at_ms: number;
  on_started: (() => void) | null;
  on_stopped: (() => void) | null;
  start_timer: ReturnType<typeof setTimeout> | undefined;
  restart_timer: ReturnType<typeof setTimeout> | undefined;
  /** Requests and Raft messages waiting to go to the worker as one postMessage. */
  outbox: ToWorker[];
  /** Where the running worker takes BatchCommands and Raft frames itself; "" when it does not. */
  frame_addr: string;
  /** Raft messages this slot's workers sent straight to other workers (all incarnations). */
  direct_raft_messages: number;
  /** The running worker's count so far (its stats restart from 0 with it). */
  direct_raft_messages_now: number;
}

/** A worker that ran this long is healthy again: its next crash restarts fast. */
const HEALTHY_RUN_MS = 30_000;
/** How long a lazily created region stays pinned to its chosen worker before it reports. */
const ASSIGNMENT_TTL_MS = 30_000;
const DEADLINE_SWEEP_MS = 50;

/** Worker numbers of the `worker-<n>` directories under `data_dir`. */
export function existingWorkerDirs(data_dir: string): number[] {
  const ids: number[] = [];
  try {
    for (const entry of Deno.readDirSync(data_dir)) {
      const m = entry.isDirectory ? /^worker-(\d+)$/.exec(entry.name) : null;
      if (m) ids.push(Number(m[1]));
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return ids.sort((a, b) => a - b);
}

/** The pool of region workers of one store. */
export class Supervisor {
  readonly #opts: SupervisorOptions;
  readonly #slots: Slot[] = [];
  readonly #routes = new Map<number, RegionInfo>();
  /** Lazily created regions not yet reported, pinned to the worker chosen for them. */
  readonly #assigned = new Map<number, { worker_id: number; until_ms: number }>();
  #next_request_id = 1;
  #stopping = false;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #flush_queued = false;
  /** Whether the transport has fault rules (see ToWorker "faults"). */
  #faults_active = false;

  constructor(opts: SupervisorOptions) {
    assert.ok(opts.workers >= 1, "at least one worker");
    assert.ok(opts.max_pending_requests >= 1);
    this.#opts = opts;
  }

  /** Number of workers running (or being restarted). */
  get worker_count(): number {
    return this.#slots.length;
  }

  /** Starts every worker and waits until each has recovered its regions. */
  async start(): Promise<void> {
    Deno.mkdirSync(this.#opts.data_dir, { recursive: true });
    const dirs = existingWorkerDirs(this.#opts.data_dir);
    const count = Math.max(this.#opts.workers, dirs.length > 0 ? dirs[dirs.length - 1] + 1 : 0);
    for (let id = 0; id < count; id++) {
      this.#slots.push({
        id,
        worker: null,
        ready: false,
        pending: new Map(),
        quick_crashes: 0,
        restarts_total: 0,
        started_at_ms: 0,
        on_started: null,
        on_stopped: null,
        start_timer: undefined,
        restart_timer: undefined,
        outbox: [],
        frame_addr: "",
        direct_raft_messages: 0,
        direct_raft_messages_now: 0,
      });
    }
    this.#sweeper = setInterval(() => this.#sweepDeadlines(), DEADLINE_SWEEP_MS);
    await Promise.all(this.#slots.map((slot) => this.#spawn(slot)));
  }

  /** The region as this store knows it, if hosted here. */
  region(region_id: number): RegionInfo | undefined {
    return this.#routes.get(region_id);
  }

  /**
   * The frame address of the worker hosting `region_id`, when that worker is
   * serving and listens for frames itself (clients may go there directly).
   */
  workerFrameAddr(region_id: number): string | null {
    const info = this.#routes.get(region_id);
    const slot = info === undefined ? undefined : this.#slots[info.worker_id];
    return slot?.ready && slot.frame_addr !== "" ? slot.frame_addr : null;
  }

  /** Every region hosted here. */
  regions(): RegionInfo[] {
    return [...this.#routes.values()];
  }

  /**
   * Per worker: whether it is serving, regions hosted, restarts so far, and
   * Raft messages it sent straight to other workers (as of its last stats).
   */
  workerStatus(): Array<
    {
      worker_id: number;
      ready: boolean;
      regions: number;
      restarts: number;
      direct_raft_messages: number;
    }
  > {
    const counts = this.#regionCounts();
    return this.#slots.map((s) => ({
      worker_id: s.id,
      ready: s.ready,
      regions: counts[s.id],
      restarts: s.restarts_total,
      direct_raft_messages: s.direct_raft_messages + s.direct_raft_messages_now,
    }));
  }

  /**
   * Sends a request to the worker hosting `region_id`. Never rejects: every
   * failure is a WorkerResponse with a region error.
   */
  request(
    region_id: number,
    context: kvrpcpb.Context | null,
    req: WorkerRequest,
  ): Promise<WorkerResponse> {
    const info = this.#routes.get(region_id);
    if (info === undefined) return Promise.resolve({ region_error: regionNotFound(region_id) });
    const slot = this.#slots[info.worker_id];
    if (!slot.ready || slot.worker === null) {
      return Promise.resolve({ region_error: serverIsBusy("worker restarting") });
    }
    if (slot.pending.size >= this.#opts.max_pending_requests) {
      return Promise.resolve({ region_error: serverIsBusy("too many pending requests") });
    }
    const id = this.#next_request_id++;
    return new Promise<WorkerResponse>((resolve) => {
      const deadline_ms = Date.now() + this.#opts.request_deadline_ms;
      slot.pending.set(id, { resolve, deadline_ms });
      this.#queue(slot, { kind: "request", id, region_id, context, req });
    });
  }

  /** Creates `region` with a local peer unless some worker already hosts it. */
  bootstrap(region: metapb.Region): void {
    if (this.#routes.has(region.id)) return;
    const slot = this.#slots[region.id % this.#slots.length];
    this.#assigned.set(region.id, { worker_id: slot.id, until_ms: Date.now() + ASSIGNMENT_TTL_MS });
    this.#post(slot, { kind: "bootstrap", region });
  }

  /**
   * Delivers incoming Raft messages to the workers hosting their regions. A
   * message for an unknown region addressed to this store goes to the worker
   * that would host it; that worker decides whether to create the peer.
   * Returns how many messages were dropped (worker down, not for this store).
   */
  deliverRaft(msgs: EncodedRaftMessage[]): number {
    const by_worker = new Map<number, Uint8Array[]>();
    let dropped = 0;
    for (const msg of msgs) {
      const worker_id = this.#workerFor(msg);
      if (worker_id === undefined || !this.#slots[worker_id]?.ready) {
        dropped++;
        continue;
      }
      let list = by_worker.get(worker_id);
      if (list === undefined) by_worker.set(worker_id, list = []);
      list.push(msg.bytes);
    }
    for (const [worker_id, list] of by_worker) {
      this.#queue(this.#slots[worker_id], { kind: "raft", batch: encodeRaftBatch(list) });
    }
    return dropped;
  }

  /** Tells the worker of `region_id` that `to_peer_id` could not be reached. */
  unreachable(region_id: number, to_peer_id: number): void {
    const slot = this.#slotOf(region_id);
    if (slot) this.#post(slot, { kind: "unreachable", region_id, to_peer_id });
  }

  /** Reports how sending a snapshot to `to_peer_id` ended. */
  snapshotStatus(region_id: number, to_peer_id: number, ok: boolean): void {
    const slot = this.#slotOf(region_id);
    if (slot) this.#post(slot, { kind: "snapshot_status", region_id, to_peer_id, ok });
  }

  /**
   * Tells every worker whether the transport has fault rules: while it does,
   * workers send and receive every Raft message through this store.
   */
  setFaults(active: boolean): void {
    if (active === this.#faults_active) return;
    this.#faults_active = active;
    for (const slot of this.#slots) {
      if (slot.worker !== null) this.#post(slot, { kind: "faults", active });
    }
  }

  /** Test hook: makes worker `worker_id` throw inside its loop. */
  crash(worker_id: number): boolean {
    const slot = this.#slots[worker_id];
    if (slot === undefined || !slot.ready) return false;
    this.#post(slot, { kind: "crash" });
    return true;
  }

  /** Stops every worker (`stop`, then `terminate` after `grace_ms`). */
  async stop(grace_ms = 5000): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    clearInterval(this.#sweeper);
    this.#flushOutboxes();
    await Promise.all(this.#slots.map((slot) => this.#stopSlot(slot, grace_ms)));
  }

  async #stopSlot(slot: Slot, grace_ms: number): Promise<void> {
    clearTimeout(slot.restart_timer);
    clearTimeout(slot.start_timer);
    const worker = slot.worker;
    if (worker !== null && slot.ready) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        slot.on_stopped = resolve;
        timer = setTimeout(resolve, grace_ms);
        this.#post(slot, { kind: "stop" });
      });
      clearTimeout(timer);
    }
    slot.on_started?.();
    worker?.terminate();
    slot.worker = null;
    slot.ready = false;
    this.#failPending(slot, "store stopping");
  }

  #spawn(slot: Slot): Promise<void> {
    assert.equal(slot.worker, null, `worker ${slot.id} already running`);
    const worker = new Worker(this.#opts.worker_url ?? WORKER_URL, { type: "module" });
    slot.worker = worker;
    slot.ready = false;
    worker.onmessage = (e: MessageEvent<FromWorker>) => this.#onMessage(slot, worker, e.data);
    worker.onerror = (e: ErrorEvent) => {
      // Handled here: unhandled, a worker's error would kill the whole process.
      e.preventDefault();
      this.#onDeath(slot, worker, `uncaught error: ${e.message}`);
    };
    worker.onmessageerror = () => this.#onDeath(slot, worker, "undecodable message");
    const config: WorkerConfig = {
      ...this.#opts.base,
      worker_id: slot.id,
      dir: join(this.#opts.data_dir, `worker-${slot.id}`),
    };
    // The directory marks the worker as existing: later starts bring it back.
    Deno.mkdirSync(config.dir, { recursive: true });
    const started = new Promise<void>((resolve) => (slot.on_started = resolve));
    const timeout_ms = this.#opts.start_timeout_ms ?? 120_000;
    slot.start_timer = setTimeout(
      () => this.#onDeath(slot, worker, `no 'started' within ${timeout_ms} ms`),
      timeout_ms,
    );
    this.#post(slot, { kind: "start", config });
    if (this.#faults_active) this.#post(slot, { kind: "faults", active: true });
    return started;
  }

  #onMessage(slot: Slot, worker: Worker, msg: FromWorker): void {
    if (slot.worker !== worker) return; // a message from a worker already replaced
    switch (msg.kind) {
      case "batch":
        for (const m of msg.msgs) this.#onMessage(slot, worker, m);
        return;
      case "started":
        return this.#onStarted(slot, msg.regions, msg.frame_addr);
      case "send":
        return this.#opts.on_send(msg.msgs);
      case "raft_in":
        return this.#opts.on_raft_in?.(msg.batch);
      case "response": {
        const p = slot.pending.get(msg.id);
        if (p === undefined) return; // timed out already
        slot.pending.delete(msg.id);
        return p.resolve(msg.res);
      }
      case "region":
        return this.#onRegion(slot, msg.info);
      case "fatal":
        return this.#onDeath(slot, worker, `fatal: ${msg.message}`);
      case "stopped":
        return slot.on_stopped?.();
      case "stats":
        slot.direct_raft_messages_now = msg.stats.direct_raft_messages;
        return this.#opts.on_stats?.(slot.id, msg.stats);
    }
  }

  #onStarted(slot: Slot, regions: RegionInfo[], frame_addr: string): void {
    clearTimeout(slot.start_timer);
    slot.frame_addr = frame_addr;
    for (const [id, info] of this.#routes) {
      if (info.worker_id === slot.id) this.#routes.delete(id);
    }
    for (const info of regions) this.#onRegion(slot, info);
    slot.ready = true;
    slot.started_at_ms = Date.now();
    const where = frame_addr === "" ? "" : `, frames on ${frame_addr}`;
    this.#opts.log?.(`worker ${slot.id} started with ${regions.length} region(s)${where}`);
    slot.on_started?.();
    slot.on_started = null;
  }

  #onRegion(slot: Slot, info: RegionInfo): void {
    const id = info.region.id;
    this.#assigned.delete(id);
    const known = this.#routes.get(id);
    if (known !== undefined && known.worker_id !== slot.id) {
      // Two workers claiming one region would split its state: keep the first.
      this.#opts.log?.(`region ${id} reported by worker ${slot.id}, hosted by ${known.worker_id}`);
      return;
    }
    if (info.destroyed) this.#routes.delete(id);
    else {
      // Regions decoded from disk by protobufjs may lack default fields after
      // structured clone (defaults live on the prototype): make them whole.
      const region = toPlain<metapb.Region>("metapb.Region", info.region);
      this.#routes.set(id, { ...info, region, worker_id: slot.id });
    }
  }

  #onDeath(slot: Slot, worker: Worker, reason: string): void {
    if (slot.worker !== worker) return;
    clearTimeout(slot.start_timer);
    worker.terminate();
    slot.worker = null;
    slot.ready = false;
    slot.outbox = [];
    slot.frame_addr = "";
    slot.direct_raft_messages += slot.direct_raft_messages_now;
    slot.direct_raft_messages_now = 0;
    this.#failPending(slot, "worker restarting");
    if (this.#stopping) return;
    if (Date.now() - slot.started_at_ms > HEALTHY_RUN_MS) slot.quick_crashes = 0;
    const min_ms = this.#opts.restart_backoff_ms_min ?? 100;
    const max_ms = this.#opts.restart_backoff_ms_max ?? 10_000;
    const delay_ms = Math.min(max_ms, min_ms * 2 ** Math.min(slot.quick_crashes, 20));
    slot.quick_crashes++;
    slot.restarts_total++;
    this.#opts.log?.(`worker ${slot.id} died (${reason}); restarting in ${delay_ms} ms`);
    slot.restart_timer = setTimeout(() => {
      if (!this.#stopping) void this.#spawn(slot);
    }, delay_ms);
  }

  #failPending(slot: Slot, reason: string): void {
    const pending = [...slot.pending.values()];
    slot.pending.clear();
    for (const p of pending) p.resolve({ region_error: serverIsBusy(reason) });
  }

  /** Answers requests past their deadline; pending maps are in deadline order. */
  #sweepDeadlines(): void {
    const now = Date.now();
    for (const slot of this.#slots) {
      for (const [id, p] of slot.pending) {
        if (p.deadline_ms > now) break;
        slot.pending.delete(id);
        p.resolve({
          region_error: serverIsBusy(`no answer within ${this.#opts.request_deadline_ms} ms`),
        });
      }
    }
  }

  #workerFor(msg: EncodedRaftMessage): number | undefined {
    const info = this.#routes.get(msg.region_id);
    if (info !== undefined) return info.worker_id;
    if (msg.to_store_id !== this.#opts.base.store_id) return undefined;
    if (this.#slots.length === 0) return undefined; // not started yet
    const now = Date.now();
    const assigned = this.#assigned.get(msg.region_id);
    if (assigned !== undefined && assigned.until_ms > now) return assigned.worker_id;
    const counts = this.#regionCounts();
    let best = 0;
    for (let i = 1; i < counts.length; i++) if (counts[i] < counts[best]) best = i;
    this.#assigned.set(msg.region_id, { worker_id: best, until_ms: now + ASSIGNMENT_TTL_MS });
    return best;
  }

  /** Regions per worker, counting lazily assigned ones not yet reported. */
  #regionCounts(): number[] {
    const counts = this.#slots.map(() => 0);
    for (const info of this.#routes.values()) counts[info.worker_id]++;
    const now = Date.now();
    for (const [id, a] of this.#assigned) {
      if (a.until_ms <= now) this.#assigned.delete(id);
      else counts[a.worker_id]++;
    }
    return counts;
  }

  #slotOf(region_id: number): Slot | undefined {
    const info = this.#routes.get(region_id);
    const slot = info === undefined ? undefined : this.#slots[info.worker_id];
    return slot?.ready ? slot : undefined;
  }

  /**
   * Queues a hot-path message; everything queued in one turn reaches each worker
   * as a single postMessage (one structured clone, one event in the worker).
   */
  #queue(slot: Slot, msg: ToWorker): void {
    slot.outbox.push(msg);
    // Flushed when the current task ends: everything it queued goes out together.
    if (!this.#flush_queued) {
      this.#flush_queued = true;
      queueMicrotask(() => this.#flushOutboxes());
    }
  }

  #flushOutboxes(): void {
    this.#flush_queued = false;
    for (const slot of this.#slots) {
      if (slot.outbox.length === 0) continue;
      const msgs = slot.outbox;
      slot.outbox = [];
      if (msgs.length === 1) this.#post(slot, msgs[0]);
      else if (!this.#tryPost(slot, { kind: "batch", msgs })) {
        for (const m of msgs) this.#post(slot, m); // isolate the message that cannot be cloned
      }
    }
  }

  #tryPost(slot: Slot, msg: ToWorker): boolean {
    try {
      slot.worker?.postMessage(msg);
      return true;
    } catch {
      return false;
    }
  }

  #post(slot: Slot, msg: ToWorker): void {
    const worker = slot.worker;
    if (worker === null) return;
    try {
      worker.postMessage(msg);
    } catch (err) {
      // A message that cannot be cloned is a bug on this side; fail only that request.
      this.#opts.log?.(`cannot post ${msg.kind} to worker ${slot.id}: ${err}`);
      if (msg.kind === "request") {
        slot.pending.get(msg.id)?.resolve({ error: `internal error: ${err}` });
        slot.pending.delete(msg.id);
      }
    }
  }
}
