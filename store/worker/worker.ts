/**
 * A region worker: hosts many regions over one pair of engines and runs their
 * Raft loop. One loop iteration: step queued messages and requests → collect
 * every region's Ready → one Raft-log write and the applied KV batches → one
 * sync for all of them (group commit) → send messages → answer clients →
 * advance. Ticks come from a timer; the loop runs whenever input arrives.
 *
 * Pure of transport: it talks to the main thread only through `post`.
 * @module
 */
import assert from "node:assert/strict";
import type { Entry, Message, Snapshot } from "@eraft/proto/gen/eraftpb.ts";
import { MessageType } from "@eraft/proto/gen/eraftpb.ts";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import type * as metapb from "@eraft/proto/gen/metapb.ts";
import type * as raft_serverpb from "@eraft/proto/gen/raft_serverpb.ts";
import type { Ready } from "@eraft/raft";
import { rangesOverlap } from "@eraft/shared/bytes";
import { Immediate } from "@eraft/shared/immediate";
import { WorkerEngines } from "../engine/engines.ts";
import type { RaftLogUpdate } from "../engine/mod.ts";
import type {
  FromWorker,
  RegionInfo,
  ToWorker,
  WorkerConfig,
  WorkerRequest,
  WorkerResponse,
} from "../protocol.ts";
import { applyEntries, type ApplyHost } from "./apply.ts";
import {
  applyStateKey,
  DATA_CFS,
  decodeSnapshotData,
  encodeApplyState,
  encodeCmd,
  encodeRegionState,
  legacyDedupRange,
  regionMetaRange,
  regionStateKey,
} from "./codec.ts";
import { AppliedIds, clearRecords } from "./dedup.ts";
import { LogSync } from "./log_sync.ts";
import { Peer, RAFT_INIT_LOG_INDEX, RAFT_INIT_LOG_TERM } from "./peer.ts";
import { confStateOf, loadRegions, repairRaftState } from "./recovery.ts";
import { notLeader, regionNotFound, serverIsBusy } from "./region_errors.ts";
import { checkRequest, isRead, proposeRequest, serveRead } from "./requests.ts";
import { NO_PHASES, PhaseCpu, type PhaseTimer } from "./phases.ts";
import { workerStats } from "./stats.ts";
import {
  decodeRaftBatch,
  decodeRaftMessage,
  type EncodedRaftMessage,
  encodeRaftMessage,
} from "../raft_wire.ts";

/** Loop iterations run back to back before yielding to the event loop. */
const MAX_ITERATIONS_PER_RUN = 8;
/** Ticks between raft-log GC checks of a leader. */
const GC_CHECK_TICKS = 10;
/** Ticks between background syncs of the KV engine (see #iterate). */
const KV_SYNC_TICKS = 20;
/** Ticks between size estimates of a leader's regions (reported to the main thread). */
const SIZE_CHECK_TICKS = 20;
/** Counting a region's keys stops here; a region this large splits anyway. */
const SIZE_CHECK_MAX_KEYS = 2_000_000;
/**
 * A region counts its keys every SIZE_CHECK_TICKS per this many keys it had:
 * a walk of ~100k keys every 2 s at most (a 2M-key region walked all of them
 * every 2 s, ~10% of a core).
 */
const SIZE_CHECK_KEYS_PER_PERIOD = 100_000;

/** Messages a leader sends that may create a missing peer on its target store. */
const CREATING_MSGS: ReadonlySet<number> = new Set([
  MessageType.MsgAppend,
  MessageType.MsgHeartbeat,
  MessageType.MsgSnapshot,
  MessageType.MsgRequestVote,
  MessageType.MsgRequestPreVote,
]);

/** See the module comment. */
export class RegionWorker implements ApplyHost {
  readonly engines: WorkerEngines;
  /** Which dedup records in `engines.kv` hold which request ids (see AppliedIds). */
  readonly applied_ids: AppliedIds;
  readonly peers = new Map<number, Peer>();
  /**
   * Region id → its conf_ver when this store's peer was removed. A later
   * conf change may add a new peer here (higher conf_ver): that one is created.
   */
  readonly tombstones = new Map<number, number>();
  #pending_requests = 0;
  /**
   * Requests submitted on this thread (the worker's own frame listener), by
   * id. Their ids count down from -1, so they never meet the main thread's.
   */
  readonly #local = new Map<number, { resolve: (res: WorkerResponse) => void; due_ms: number }>();
  #next_local_id = -1;
  /** Where this worker takes frames itself ("" = it does not); stamped on its Raft messages. */
  #frame_addr = "";
  /**
   * Remote peer id → the frame address of the worker hosting it, learned from
   * the `from_worker_addr` of its messages (raft_direct.ts sends there).
   */
  readonly peer_frame_addrs = new Map<number, string>();
  /** Totals for the periodic stats message (stats.ts). */
  readonly counts = {
    proposals: 0,
    committed_entries: 0,
    applied_entries: 0,
    /** Raft messages from peers that did not decode (dropped; Raft retransmits). */
    malformed_raft_messages: 0,
    /** Loop iterations that had work (each wakes the loop, persists, sends, applies). */
    loop_iterations: 0,
    /** Raft messages sent straight to another worker's listener (raft_direct.ts). */
    direct_raft_messages: 0,
  };
  #read_seq = 1;
  #ticks = 0;
  #outbox: EncodedRaftMessage[] = [];
  /** Regions whose log got entries since the last sync began (see #markWrites). */
  #written = new Set<Peer>();
  /** Settles once the background sync in flight at stop() has ended. */
  #log_sync_stopped: Promise<void> = Promise.resolve();
  /** The Raft log's fdatasync, off this thread; holds acks and votes until durable. */
  readonly #log_sync = new LogSync<Array<[Peer, number, number]>, EncodedRaftMessage>({
    mark: () => this.#markWrites(),
    sync: (mark) => this.#syncLog(mark),
    durable: (mark, released) => this.#durable(mark, released),
  });
  readonly #loop = new Immediate(() => this.#run());
  #timer: ReturnType<typeof setInterval> | undefined;
  #next_tick_ms = 0;
  /** Past an election timeout: a catch-up that long ends any lease and check-quorum term. */
  readonly #max_catch_up_ticks: number;
  #stopped = false;
  /** CPU by loop phase when `config.phase_cpu` (worker_main.ts accounts messages and posts). */
  readonly phases: PhaseTimer;

  /**
   * `post` queues a message for the main thread; `flush` sends what is queued
   * now (the loop calls it once its Raft messages are queued, so they leave
   * before the loop goes on applying).
   */
  constructor(
    readonly config: WorkerConfig,
    readonly post: (msg: FromWorker) => void,
    readonly flush: () => void = () => {},
  ) {
    this.#max_catch_up_ticks = 3 * config.election_timeout_ticks;
    this.phases = config.phase_cpu ? PhaseCpu.start() : NO_PHASES;
    this.engines = WorkerEngines.open(config.dir);
    for (const r of loadRegions(this.engines)) {
      if (r.tombstone) {
        this.tombstones.set(r.region.id, r.region.region_epoch?.conf_ver ?? 0);
        continue;
      }
      repairRaftState(this.engines, r);
      const me = r.region.peers.find((p) => p.store_id === config.store_id);
      if (me === undefined) continue; // not a member here any more
      this.peers.set(
        r.region.id,
        new Peer(this.engines, r.region, me.id, r.apply_state, config, true),
      );
    }
    this.engines.sync();
    this.applied_ids = AppliedIds.load(this.engines.kv);
  }

  /**
   * Starts ticking and reports the recovered regions, and `frame_addr`, where
   * this worker serves frames itself ("" when it does not).
   */
  start(frame_addr = ""): void {
    this.#frame_addr = frame_addr;
    this.post({
      kind: "started",
      worker_id: this.config.worker_id,
      regions: [...this.peers.values()].map((p) => this.info(p)),
      frame_addr,
    });
    this.#next_tick_ms = performance.now() + this.config.tick_ms;
    this.#timer = setInterval(() => this.#catchUpTicks(), this.config.tick_ms);
  }

  /**
   * Runs the ticks due by the monotonic clock. Timers fire late under load and
   * not at all while the process is stopped (SIGSTOP); catching up keeps Raft's
   * logical time, and so a leader's read lease, no longer than real time.
   */
  #catchUpTicks(): void {
    if (this.#timer === undefined) return; // not started, or stopped
    const now_ms = performance.now();
    for (let n = 0; n < this.#max_catch_up_ticks && now_ms >= this.#next_tick_ms; n++) {
      this.#tick();
      this.#next_tick_ms += this.config.tick_ms;
    }
    // Far behind: the ticks run were enough to void any lease; skip the rest.
    if (now_ms >= this.#next_tick_ms) this.#next_tick_ms = now_ms + this.config.tick_ms;
  }

  /** Handles one message from the main thread. */
  handle(msg: ToWorker): void {
    if (this.#stopped) return;
    switch (msg.kind) {
      case "raft": {
        const { msgs, malformed } = decodeRaftBatch(msg.batch);
        this.counts.malformed_raft_messages += malformed;
        for (const m of msgs) this.#stepRaft(m);
        break;
      }
      case "request":
        this.#request(msg.id, msg.region_id, msg.context, msg.req);
        break;
      case "bootstrap":
        this.#bootstrap(msg.region);
        break;
      case "unreachable":
        this.peers.get(msg.region_id)?.node.reportUnreachable(msg.to_peer_id);
        break;
      case "snapshot_status":
        this.peers.get(msg.region_id)?.node.reportSnapshot(msg.to_peer_id, msg.ok);
        break;
      case "crash":
        throw new Error("worker crash requested by a test");
      case "stop":
        this.stop();
        return;
      case "start":
      case "faults": // worker_main.ts's
      case "batch": // unwrapped by worker_main.ts
        return;
    }
    this.#schedule();
  }

  /**
   * A request from this thread (the worker's own frame listener), served
   * exactly like one posted by the main thread. Never rejects; a request
   * unanswered after `request_deadline_ms` gets ServerIsBusy.
   */
  submit(
    region_id: number,
    context: kvrpcpb.Context | null,
    req: WorkerRequest,
  ): Promise<WorkerResponse> {
    if (this.#stopped) {
      return Promise.resolve({ region_error: serverIsBusy("worker stopping", 100) });
    }
    const id = this.#next_local_id--;
    const due_ms = performance.now() + (this.config.request_deadline_ms ?? 4000);
    const answered = new Promise<WorkerResponse>((resolve) =>
      this.#local.set(id, { resolve, due_ms })
    );
    this.#request(id, region_id, context, req);
    this.#schedule();
    return answered;
  }

  /** Answers local requests past their deadline (the map is in deadline order). */
  #expireLocal(now_ms: number, all = false): void {
    for (const [id, p] of this.#local) {
      if (!all && p.due_ms > now_ms) break;
      this.#local.delete(id);
      const why = all ? "worker stopping" : "no answer in time";
      p.resolve({ region_error: serverIsBusy(why, 20) });
    }
  }

  /**
   * Raft messages that reached this worker's own listener: steps those of
   * regions it hosts and returns the others, which only the store may place
   * (a peer created here could be another worker's). A message that does not
   * decode is dropped and counted, as on the store's path.
   */
  stepDirect(parts: readonly EncodedRaftMessage[]): EncodedRaftMessage[] {
    const elsewhere: EncodedRaftMessage[] = [];
    if (this.#stopped) return elsewhere;
    for (const part of parts) {
      if (!this.peers.has(part.region_id)) {
        elsewhere.push(part);
        continue;
      }
      let m: raft_serverpb.RaftMessage;
      try {
        m = decodeRaftMessage(part.bytes);
      } catch {
        this.counts.malformed_raft_messages++;
        continue;
      }
      this.#stepRaft(m);
    }
    this.#schedule();
    return elsewhere;
  }

  /** Stops the timer, syncs and closes the engines. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#expireLocal(0, true);
    clearInterval(this.#timer);
    this.#loop.close();
    this.#log_sync_stopped = this.#log_sync.stop();
    this.engines.close();
    this.post({ kind: "stopped", worker_id: this.config.worker_id });
  }

  /** Resolves once a stopped worker's last background fsync has ended (tests await it). */
  closed(): Promise<void> {
    return this.#log_sync_stopped;
  }

  // ---- ApplyHost ----

  respond(id: number, res: WorkerResponse): void {
    this.#pending_requests--;
    if (id >= 0) return this.post({ kind: "response", id, res });
    const local = this.#local.get(id);
    if (local === undefined) return; // answered ServerIsBusy at its deadline
    this.#local.delete(id);
    local.resolve(res);
  }

  regionChanged(peer: Peer): void {
    this.post({ kind: "region", info: this.info(peer) });
  }

  createSplitPeer(region: metapb.Region, parent: Peer): void {
    const existing = this.peers.get(region.id);
    if (existing?.initialized) return;
    if (existing) this.peers.delete(region.id); // an empty shell: the split brings the data
    const me = region.peers.find((p) => p.store_id === this.config.store_id);
    assert(
      me !== undefined,
      `split region ${region.id} has no peer on store ${this.config.store_id}`,
    );
    this.#initRaftState(region);
    const apply_state = {
      applied_index: RAFT_INIT_LOG_INDEX,
      truncated_state: { index: RAFT_INIT_LOG_INDEX, term: RAFT_INIT_LOG_TERM },
    };
    const peer = new Peer(this.engines, region, me.id, apply_state, this.config);
    this.peers.set(region.id, peer);
    // The parent's leader leads the new region at once instead of waiting an election timeout.
    if (parent.is_leader) peer.node.campaign();
    this.regionChanged(peer);
  }

  /** A new region's log: empty, compacted to TiKV's initial index and term, its voters set. */
  #initRaftState(region: metapb.Region): void {
    const raft = this.engines.raft;
    raft.compact(region.id, RAFT_INIT_LOG_INDEX, RAFT_INIT_LOG_TERM);
    raft.setConfState(region.id, confStateOf(region));
    raft.setHardState(region.id, {
      term: RAFT_INIT_LOG_TERM,
      vote: 0,
      commit: RAFT_INIT_LOG_INDEX,
    });
  }

  destroyPeer(peer: Peer): void {
    peer.destroyed = true;
    this.peers.delete(peer.region_id);
    for (const id of peer.known_peers.keys()) this.peer_frame_addrs.delete(id);
    this.tombstones.set(peer.region_id, peer.region.region_epoch?.conf_ver ?? 0);
    const batch = this.engines.kv.newBatch();
    for (const cf of DATA_CFS) batch.deleteRange(cf, peer.region.start_key, peer.region.end_key);
    clearRecords(this.engines.kv, batch, peer.region);
    const [lo, hi] = regionMetaRange(peer.region_id);
    batch.deleteRange("raft", lo, hi);
    batch.put(
      "raft",
      regionStateKey(peer.region_id),
      encodeRegionState({ state: 2, region: peer.region }),
    );
    // The tombstone is durable before the region's log goes.
    this.engines.kv.write(batch, { sync: true });
    this.engines.raft.destroy(peer.region_id);
    for (const p of peer.proposals.splice(0)) {
      this.respond(p.id, { region_error: regionNotFound(peer.region_id) });
    }
    this.#failReads(peer, () => ({ region_error: regionNotFound(peer.region_id) }));
    this.post({ kind: "region", info: { ...this.info(peer), destroyed: true } });
  }

  /** What the main thread should know about a region. */
  info(peer: Peer): RegionInfo {
    return {
      region: peer.region,
      worker_id: this.config.worker_id,
      peer_id: peer.peer_id,
      leader_peer_id: peer.leader_id,
      term: peer.term,
      destroyed: peer.destroyed,
      approximate_keys: peer.approximate_keys,
      approximate_size_bytes: peer.approximate_size_bytes,
    };
  }

  // ---- inputs ----

  #request(
    id: number,
    region_id: number,
    context: kvrpcpb.Context | null,
    req: WorkerRequest,
  ): void {
    this.#pending_requests++;
    const peer = this.peers.get(region_id);
    if (peer === undefined || !peer.initialized) {
      this.respond(id, { region_error: regionNotFound(region_id) });
      return;
    }
    if (this.#pending_requests > this.config.max_pending_requests) {
      this.respond(id, { region_error: serverIsBusy("too many pending requests in worker", 20) });
      return;
    }
    const error = checkRequest(peer, this.config.store_id, context, req);
    if (error) {
      this.respond(id, { region_error: error });
      return;
    }
    if (isRead(req)) {
      if (this.#readableNow(peer)) this.respond(id, serveRead(this.engines, peer, req));
      else peer.waiting_reads.push({ id, req });
      return;
    }
    if (req.op === "compact_log") {
      this.respond(id, this.#proposeCompactLog(peer, 0) ? {} : { error: "nothing to compact" });
      return;
    }
    const immediate = proposeRequest(peer, id, context, req);
    if (immediate !== null) this.respond(id, immediate);
    else this.counts.proposals++;
  }

  /**
   * True when a read may be answered from applied state at once: the leader's
   * lease covers it and everything committed is applied (Raft.leaseReadIndex).
   * Otherwise it waits for the loop's MsgReadIndex round and apply.
   */
  #readableNow(peer: Peer): boolean {
    this.#catchUpTicks(); // a lease is judged on up-to-date ticks
    const index = peer.node.raft.leaseReadIndex();
    return index !== null && peer.applied_index >= index;
  }

  #stepRaft(m: raft_serverpb.RaftMessage): void {
    const msg = m.message;
    if (!msg || !m.to_peer || !m.from_peer) return;
    let peer = this.peers.get(m.region_id);
    if (peer === undefined) {
      if (!CREATING_MSGS.has(msg.msg_type)) return;
      // Messages to the removed peer are dropped; a peer added again after it is created.
      const removed_at = this.tombstones.get(m.region_id);
      if (removed_at !== undefined && (m.region_epoch?.conf_ver ?? 0) <= removed_at) return;
      peer = this.#createPeerFromMessage(m);
      if (peer === undefined) return;
    }
    if (m.to_peer.id !== peer.peer_id) return; // for an older incarnation of this region's peer
    peer.known_peers.set(m.from_peer.id, m.from_peer);
    if (m.from_worker_addr) this.peer_frame_addrs.set(m.from_peer.id, m.from_worker_addr);
    peer.node.step(msg);
  }

  /** A peer created because a leader talks to it (it joined by conf change); it catches up by snapshot. */
  #createPeerFromMessage(m: raft_serverpb.RaftMessage): Peer | undefined {
    if (m.to_peer!.store_id !== this.config.store_id) return undefined;
    for (const p of this.peers.values()) {
      // Overlap means our own copy of the parent has not applied a split yet: wait for it.
      if (
        p.initialized && rangesOverlap(p.region.start_key, p.region.end_key, m.start_key, m.end_key)
      ) return undefined;
    }
    const region: metapb.Region = {
      id: m.region_id,
      start_key: m.start_key,
      end_key: m.end_key,
      region_epoch: m.region_epoch ?? { conf_ver: 0, version: 0 },
      peers: [],
    };
    const peer = new Peer(this.engines, region, m.to_peer!.id, {
      applied_index: 0,
      truncated_state: null,
    }, this.config);
    peer.known_peers.set(m.to_peer!.id, m.to_peer!);
    this.peers.set(region.id, peer);
    return peer;
  }

  #bootstrap(region: metapb.Region): void {
    if (this.peers.has(region.id) || this.tombstones.has(region.id)) return; // idempotent on restart
    const me = region.peers.find((p) => p.store_id === this.config.store_id);
    assert(
      me !== undefined,
      `bootstrap region ${region.id} has no peer on store ${this.config.store_id}`,
    );
    const apply_state = {
      applied_index: RAFT_INIT_LOG_INDEX,
      truncated_state: { index: RAFT_INIT_LOG_INDEX, term: RAFT_INIT_LOG_TERM },
    };
    const batch = this.engines.kv.newBatch();
    batch.put("raft", regionStateKey(region.id), encodeRegionState({ state: 0, region }));
    batch.put("raft", applyStateKey(region.id), encodeApplyState(apply_state));
    this.engines.kv.write(batch, { sync: true });
    this.#initRaftState(region);
    this.engines.raft.sync();
    const peer = new Peer(this.engines, region, me.id, apply_state, this.config);
    this.peers.set(region.id, peer);
    this.regionChanged(peer);
  }

  #tick(): void {
    if (this.#stopped) return;
    this.phases.enter("ticks");
    try {
      this.#tickAll();
    } finally {
      this.phases.exit();
    }
    this.#schedule();
  }

  #tickAll(): void {
    this.#ticks++;
    if (this.#local.size > 0) this.#expireLocal(performance.now());
    // Bound how much a power loss makes the KV engine replay from the Raft log.
    if (this.#ticks % KV_SYNC_TICKS === 0 && this.engines.kv.dirty) this.engines.kv.sync();
    if (this.#ticks % Math.max(1, Math.round(1000 / this.config.tick_ms)) === 0) {
      this.post(workerStats(this, this.#pending_requests));
    }
    for (const peer of this.peers.values()) {
      peer.node.tick();
      if (this.#ticks % GC_CHECK_TICKS === 0 && peer.is_leader) this.#maybeCompactLog(peer);
      if (this.#ticks % SIZE_CHECK_TICKS === 0 && peer.is_leader && peer.initialized) {
        if (peer.sizeCountDue(this.#ticks, SIZE_CHECK_TICKS, SIZE_CHECK_KEYS_PER_PERIOD)) {
          this.#reportSize(peer);
        }
      }
    }
  }

  #reportSize(peer: Peer): void {
    const [keys, bytes] = [peer.approximate_keys, peer.approximate_size_bytes];
    peer.refreshApproximateSize(SIZE_CHECK_MAX_KEYS, this.#ticks);
    if (peer.approximate_keys !== keys || peer.approximate_size_bytes !== bytes) {
      this.regionChanged(peer);
    }
  }

  #maybeCompactLog(peer: Peer): void {
    const first = this.engines.raft.firstIndex(peer.region_id);
    if (peer.applied_index - first + 1 <= this.config.raft_log_gc_count_limit) return;
    this.#proposeCompactLog(peer, this.config.raft_log_gc_keep_entries);
  }

  /** Proposes CompactLog up to `applied - keep_entries`; false when there is nothing to drop. */
  #proposeCompactLog(peer: Peer, keep_entries: number): boolean {
    const first = this.engines.raft.firstIndex(peer.region_id);
    const compact_index = peer.applied_index - keep_entries;
    if (compact_index < first) return false;
    const compact_term = this.engines.raft.term(peer.region_id, compact_index);
    const data = encodeCmd({
      header: {
        region_id: peer.region_id,
        peer: peer.self,
        region_epoch: peer.region.region_epoch,
        term: 0,
        request_id: 0,
        issued_at_ms: 0,
        proposed_at_ms: 0,
      },
      admin_request: { cmd_type: 3, compact_log: { compact_index, compact_term } },
    });
    // Nobody waits for the answer: every replica compacts when it applies it.
    return peer.node.propose(data).kind === "appended";
  }

  // ---- the loop ----

  #schedule(): void {
    if (!this.#stopped) this.#loop.schedule();
  }

  #run(): void {
    this.phases.enter("loop");
    try {
      for (let i = 0; i < MAX_ITERATIONS_PER_RUN && !this.#stopped; i++) {
        if (!this.#iterate()) return;
        this.counts.loop_iterations++;
      }
      this.#schedule();
    } finally {
      this.phases.exit();
    }
  }

  /** One loop iteration; false when there was nothing to do. */
  #iterate(): boolean {
    this.#startReads();
    const readies: Array<[Peer, Ready]> = [];
    for (const peer of this.peers.values()) {
      if (peer.node.hasReady()) readies.push([peer, peer.node.ready()]);
    }
    if (readies.length === 0) return false;
    for (const [peer, rd] of readies) {
      if (rd.snapshot && rd.snapshot.data.length > 0) this.#applySnapshot(peer, rd.snapshot);
    }
    const updates: RaftLogUpdate[] = [];
    for (const [peer, rd] of readies) {
      if (rd.entries.length > 0 || rd.hard_state) {
        updates.push({
          region_id: peer.region_id,
          entries: rd.entries,
          hard_state: rd.hard_state ?? undefined,
        });
      }
    }
    this.phases.enter("raft_write");
    this.engines.raft.write(updates);
    this.phases.exit();
    for (const [peer, rd] of readies) if (rd.entries.length > 0) this.#written.add(peer);
    // A leader may replicate before its own append is durable (Raft thesis
    // §10.2.1; Raft counts the leader's own log toward a commit only once it
    // is durable); everything else — votes, follower acks — waits for the
    // sync that covers this write (log_sync.ts).
    const early = readies.map(([peer, rd]) => peer.is_leader && !this.#voteChanged(peer, rd));
    this.phases.enter("send");
    readies.forEach(([peer, rd], i) => early[i] && this.#queueMessages(peer, rd.messages));
    this.#flushOutbox();
    this.phases.exit();
    // One fsync of the Raft log for every region of this iteration and those
    // written while the previous one ran (group commit). Applied KV state is
    // not synced here: it is rebuilt from the log after a power loss, and the
    // KV file is synced before the log is ever compacted. A Ready that only
    // moved the commit index needs no fsync (raft's must_sync).
    if (readies.some(([, rd]) => rd.must_sync)) {
      this.#log_sync.wrote();
      this.#log_sync.request();
    }
    this.phases.enter("send");
    readies.forEach(([peer, rd], i) => !early[i] && this.#holdMessages(peer, rd.messages));
    this.#flushOutbox();
    this.phases.exit();
    // After the acks left (an inline sync is done by now): nobody waits on a follower's apply.
    this.phases.enter("apply");
    for (const [peer, rd] of readies) this.#applyCommitted(peer, rd.committed_entries);
    this.phases.exit();
    for (const [peer, rd] of readies) {
      this.#handleSoftState(peer, rd);
      this.#confirmReads(peer, rd);
      if (!peer.destroyed) peer.node.advance(rd);
    }
    for (const peer of this.peers.values()) this.#serveConfirmedReads(peer);
    return true;
  }

  /** Each region's last written entry, for the sync about to begin. */
  #markWrites(): Array<[Peer, number, number]> {
    const mark: Array<[Peer, number, number]> = [];
    for (const peer of this.#written) {
      if (peer.destroyed) continue;
      const last = this.engines.raft.lastIndex(peer.region_id);
      mark.push([peer, last, this.engines.raft.term(peer.region_id, last)]);
    }
    this.#written.clear();
    return mark;
  }

  /**
   * In the background while a leader's entries are among the writes: the
   * leader goes on taking requests and acks, writing and replicating, while
   * the disk works. Otherwise inline: a follower's acks wait for this sync
   * anyway, and on a 2-core machine the background thread's wake-ups cost
   * more CPU than a follower's thread would gain.
   */
  #syncLog(mark: Array<[Peer, number, number]>): Promise<void> | null {
    if (mark.some(([peer]) => peer.is_leader)) return this.engines.raft.syncAsync();
    this.phases.enter("fsync");
    this.engines.raft.sync();
    this.phases.exit();
    return null;
  }

  /** A background sync completed: Raft learns what is durable; held messages leave. */
  #durable(mark: Array<[Peer, number, number]>, released: EncodedRaftMessage[]): void {
    for (const [peer, index, term] of mark) if (!peer.destroyed) peer.node.persisted(index, term);
    for (const m of released) this.#outbox.push(m);
    this.#flushOutbox();
    this.#schedule(); // entries durable now may be committed or applied
  }

  /** True when this Ready changes the persisted term or vote (must be durable before sending). */
  #voteChanged(peer: Peer, rd: Ready): boolean {
    const hs = rd.hard_state;
    if (hs === null) return false;
    const changed = hs.term !== peer.persisted_term || hs.vote !== peer.persisted_vote;
    peer.persisted_term = hs.term;
    peer.persisted_vote = hs.vote;
    return changed;
  }

  #applyCommitted(peer: Peer, entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    this.counts.committed_entries += entries.length;
    applyEntries(this, peer, entries);
    this.counts.applied_entries += entries.length;
  }

  #applySnapshot(peer: Peer, snap: Snapshot): void {
    const meta = snap.metadata!;
    const { state, records } = decodeSnapshotData(snap.data);
    const region = state.region!;
    const batch = this.engines.kv.newBatch();
    for (const cf of DATA_CFS) {
      if (peer.initialized) batch.deleteRange(cf, peer.region.start_key, peer.region.end_key);
      batch.deleteRange(cf, region.start_key, region.end_key);
    }
    const [lo, hi] = legacyDedupRange(region.id);
    batch.deleteRange("raft", lo, hi); // the table of older versions
    if (peer.initialized) clearRecords(this.engines.kv, batch, peer.region);
    clearRecords(this.engines.kv, batch, region);
    for (const r of records) {
      batch.put(r.cf, r.key, r.value);
      if (r.cf === "raft") this.applied_ids.add(r.key, r.value);
    }
    const apply_state = {
      applied_index: meta.index,
      truncated_state: { index: meta.index, term: meta.term },
    };
    batch.put("raft", regionStateKey(region.id), encodeRegionState({ state: 0, region }));
    batch.put("raft", applyStateKey(region.id), encodeApplyState(apply_state));
    this.engines.kv.write(batch, { sync: true });
    peer.dedup_floor = null; // the snapshot's records hold the floor now
    // KV first: recovery finishes a cut here by compacting the log (recovery.ts).
    this.engines.raft.compact(region.id, meta.index, meta.term);
    this.engines.raft.setConfState(region.id, meta.conf_state ?? confStateOf(region));
    peer.region = region;
    peer.apply_state = apply_state;
    peer.learnRegionPeers();
    peer.invalidateSnapshotCache();
    this.regionChanged(peer);
  }

  /** Sends `msgs` once the Raft log writes before them are durable. */
  #holdMessages(peer: Peer, msgs: readonly Message[]): void {
    const start = this.#outbox.length;
    this.#queueMessages(peer, msgs);
    this.#log_sync.send(this.#outbox.splice(start), (ready) => this.#outbox.push(...ready));
  }

  #queueMessages(peer: Peer, msgs: readonly Message[]): void {
    const from = peer.known_peers.get(peer.peer_id);
    if (from === undefined) return;
    for (const m of msgs) {
      const to = peer.known_peers.get(m.to);
      if (to === undefined) continue;
      this.#outbox.push(encodeRaftMessage({
        region_id: peer.region_id,
        from_peer: from,
        to_peer: to,
        message: m,
        region_epoch: peer.region.region_epoch,
        is_tombstone: false,
        start_key: peer.region.start_key,
        end_key: peer.region.end_key,
        from_worker_addr: this.#frame_addr,
      }));
    }
  }

  /**
   * Hands the queued Raft messages to the main thread now: the loop may go on
   * to block in an fsync or apply a long batch before its task ends.
   */
  #flushOutbox(): void {
    if (this.#outbox.length === 0) return;
    this.post({ kind: "send", msgs: this.#outbox });
    this.#outbox = [];
    this.flush();
  }

  #handleSoftState(peer: Peer, rd: Ready): void {
    const term = peer.node.raft.term;
    const changed = rd.soft_state !== null || term !== peer.term;
    if (rd.soft_state) peer.leader_id = rd.soft_state.lead;
    peer.term = term;
    if (!changed || peer.destroyed) return;
    if (!peer.is_leader) {
      this.#failReads(peer, () => ({ region_error: notLeader(peer.region_id, peer.leaderPeer()) }));
    }
    this.regionChanged(peer);
  }

  #failReads(peer: Peer, error: () => WorkerResponse): void {
    const all = [...peer.waiting_reads, ...[...peer.inflight_reads.values()].flat()];
    for (const c of peer.confirmed_reads) all.push(...c.reads);
    peer.waiting_reads = [];
    peer.inflight_reads.clear();
    peer.confirmed_reads.length = 0;
    for (const r of all) this.respond(r.id, error());
  }

  #startReads(): void {
    this.#catchUpTicks(); // a lease is judged on up-to-date ticks
    for (const peer of this.peers.values()) {
      if (peer.waiting_reads.length === 0) continue;
      const seq = this.#read_seq++;
      const ctx = new Uint8Array(8);
      new DataView(ctx.buffer).setFloat64(0, seq);
      peer.inflight_reads.set(seq, peer.waiting_reads);
      peer.waiting_reads = [];
      peer.node.readIndex(ctx);
    }
  }

  #confirmReads(peer: Peer, rd: Ready): void {
    for (const rs of rd.read_states) {
      if (rs.request_ctx.length !== 8) continue;
      const seq = new DataView(rs.request_ctx.buffer, rs.request_ctx.byteOffset).getFloat64(0);
      const reads = peer.inflight_reads.get(seq);
      if (reads === undefined) continue;
      peer.inflight_reads.delete(seq);
      peer.confirmed_reads.push({ index: rs.index, reads });
    }
  }

  #serveConfirmedReads(peer: Peer): void {
    while (peer.confirmed_reads.length > 0 && peer.confirmed_reads[0].index <= peer.applied_index) {
      const { reads } = peer.confirmed_reads.shift()!;
      for (const r of reads) this.respond(r.id, serveRead(this.engines, peer, r.req));
    }
  }
}
