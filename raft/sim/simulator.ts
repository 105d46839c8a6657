/**
 * A deterministic whole-cluster Raft simulator (after TigerBeetle's VOPR):
 * RawNodes on MemoryStorage over a seeded virtual network that drops, delays,
 * reorders and duplicates messages; partitions heal; nodes crash and restart
 * from what they persisted; a random client proposes, changes membership,
 * transfers leadership and reads. After every step the SafetyChecker runs;
 * at the end the network heals and every acknowledged proposal must be
 * applied, in the same order, on every member. Same seed, same run.
 * @module
 */
import type { Entry, HardState, Message, Snapshot } from "@eraft/proto/gen/eraftpb.ts";
import { ConfChangeType, EntryType, MessageType } from "@eraft/proto/gen/eraftpb.ts";
import { assert } from "../assert.ts";
import { decodeConfChange } from "../conf_change_codec.ts";
import { MemoryStorage } from "../memory_storage.ts";
import { Prng } from "../prng.ts";
import { StateType } from "../raft.ts";
import { ReadOnlyOption } from "../read_only.ts";
import { RawNode, type Ready } from "../raw_node.ts";
import { bytesKey, emptyHardState, isEmptySnap, msgTypeName, snapIndex } from "../util.ts";
import { SafetyChecker, SafetyViolation } from "./checker.ts";
import { bootstrapStorage, type Knobs, randomKnobs } from "./knobs.ts";
import { SimNetwork } from "./network.ts";
import {
  cloneCs,
  decodeProposal,
  decodeSm,
  digestEntry,
  emptySm,
  encodeProposal,
  encodeSm,
  type SmState,
} from "./state_machine.ts";

/** What to simulate. */
export interface SimOptions {
  seed: number;
  /** Initial voters (3 or 5 in CI). */
  nodes: number;
  /** Steps with faults and client traffic, before the settle phase. */
  steps: number;
  /** Steps allowed for the healed cluster to converge. */
  settle_steps?: number;
  /** Receives a line per notable event (replay with --trace). */
  trace?: (line: string) => void;
}

/** Counters of one run. */
export interface SimStats {
  seed: number;
  nodes: number;
  steps: number;
  proposals: number;
  acked: number;
  applied_index: number;
  leaders: number;
  crashes: number;
  partitions: number;
  conf_changes: number;
  transfers: number;
  snapshots_installed: number;
  reads_checked: number;
  delivered: number;
  dropped: number;
  /** Most node ids that ever existed (members plus added ones). */
  max_node_id: number;
  /** Largest configuration (voters + learners) seen. */
  max_members: number;
  /** Whether the run's nodes made writes durable later (Config.async_storage_writes). */
  async_storage_writes: boolean;
}

/** A run failed: the message carries the seed and the replay command. */
export class SimFailure extends Error {
  constructor(readonly options: SimOptions, readonly step: number, readonly cause_error: unknown) {
    const why = cause_error instanceof Error
      ? `${cause_error.name}: ${cause_error.message}`
      : String(cause_error);
    super(
      `raft sim failed at step ${step}: ${why}\n  seed=${options.seed} nodes=${options.nodes} steps=${options.steps}\n` +
        `  replay: deno task sim --seed ${options.seed} --nodes ${options.nodes} --steps ${options.steps}`,
    );
    this.name = "SimFailure";
  }
}

/** One logical clock tick every this many steps. */
export const TICK_EVERY_STEPS = 4;
/**
 * Chance per step that a pending sync completes once the run settles, at
 * least: the disk heals with the network. Raft's liveness needs broadcast
 * time well below the election timeout (thesis §3.4 / paper §5.6); a sync
 * slower than the timeout's random spread livelocked seed 502765 (pre-vote
 * off: two candidates tied in every term, 4,000 settle steps long).
 */
const SETTLE_SYNC_PROBABILITY = 0.5;
const ELECTION_TIMEOUT_TICKS = 10;
const MAX_READIES_PER_STEP = 64;
const MAX_EXTRA_NODES = 16;

interface SimNode {
  id: number;
  storage: MemoryStorage;
  raw: RawNode | null;
  incarnation: number;
  sm: SmState;
  persisted_hard_state: HardState;
  destroyed: boolean;
  crashed_at_step: number;
  /**
   * With async_storage_writes: messages waiting for the sync of the writes
   * before them, in order (lost if the node crashes first).
   */
  held: Message[];
  /** Written since the last sync began (async_storage_writes). */
  unsynced: boolean;
  /**
   * What the last sync made durable (async_storage_writes): a crash rolls the
   * node's storage back to it, losing what was only written.
   */
  synced: MemoryStorage | null;
}

/** The simulator. `run()` returns stats or throws SimFailure. */
export class Simulation {
  private readonly rng: Prng;
  private readonly net: SimNetwork;
  private readonly checker = new SafetyChecker();
  private readonly nodes = new Map<number, SimNode>();
  private readonly knobs: Knobs;
  /** The knob's sync chance, raised when the run settles. */
  private sync_probability: number;
  private readonly proposer_of = new Map<number, number>();
  private readonly acked = new Set<number>();
  private readonly pending_reads = new Map<string, number>();
  private readonly snapshot_reports: {
    leader: number;
    incarnation: number;
    to: number;
    ok: boolean;
  }[] = [];
  private next_proposal_id = 1;
  private next_read_id = 1;
  private next_node_id: number;
  private now = 0;
  readonly stats: SimStats;

  constructor(readonly options: SimOptions) {
    assert(options.nodes >= 1 && options.nodes <= 9, "sim nodes must be in [1, 9]");
    this.rng = new Prng(options.seed);
    this.knobs = randomKnobs(this.rng);
    this.sync_probability = this.knobs.sync_probability;
    this.net = new SimNetwork(this.rng, {
      drop_probability: this.rng.nextFloat() * 0.15,
      duplicate_probability: this.rng.nextFloat() * 0.05,
      max_delay_steps: 1 + this.rng.intBelow(12),
    });
    this.next_node_id = options.nodes + 1;
    const voters = Array.from({ length: options.nodes }, (_, i) => i + 1);
    for (const id of voters) this.addNode(id, bootstrapStorage(voters));
    this.stats = {
      seed: options.seed,
      nodes: options.nodes,
      steps: 0,
      proposals: 0,
      acked: 0,
      applied_index: 0,
      leaders: 0,
      crashes: 0,
      partitions: 0,
      conf_changes: 0,
      transfers: 0,
      snapshots_installed: 0,
      reads_checked: 0,
      delivered: 0,
      dropped: 0,
      max_node_id: options.nodes,
      max_members: options.nodes,
      async_storage_writes: this.knobs.async_storage_writes,
    };
  }

  /** Runs the faulty phase, then the settle phase and the final checks. */
  run(): SimStats {
    try {
      for (let i = 0; i < this.options.steps; i++) this.step(true);
      this.settle();
    } catch (e) {
      throw new SimFailure(this.options, this.now, e);
    }
    this.stats.steps = this.now;
    this.stats.acked = this.acked.size;
    this.stats.applied_index = this.checker.max_applied_index;
    this.stats.delivered = this.net.delivered_count;
    this.stats.dropped = this.net.dropped_count;
    return this.stats;
  }

  // ---- nodes ---------------------------------------------------------------

  private addNode(id: number, storage: MemoryStorage): SimNode {
    const node: SimNode = {
      id,
      storage,
      raw: null,
      incarnation: 0,
      sm: emptySm(storage.initialState().conf_state),
      persisted_hard_state: emptyHardState(),
      destroyed: false,
      crashed_at_step: 0,
      held: [],
      unsynced: false,
      synced: null,
    };
    this.nodes.set(id, node);
    this.start(node);
    return node;
  }

  /** Starts (or restarts) a node from its persisted state. */
  private start(node: SimNode): void {
    const snap = node.storage.snapshot();
    const init = node.storage.initialState();
    node.sm = isEmptySnap(snap) ? emptySm(init.conf_state) : decodeSm(snap.data);
    node.persisted_hard_state = init.hard_state;
    node.incarnation++;
    node.held = [];
    node.unsynced = false;
    node.synced = this.knobs.async_storage_writes ? node.storage.clone() : null;
    const k = this.knobs;
    node.raw = new RawNode({
      id: node.id,
      storage: node.storage,
      applied: snapIndex(snap),
      election_timeout_ticks: ELECTION_TIMEOUT_TICKS,
      heartbeat_timeout_ticks: 1,
      pre_vote: k.pre_vote,
      check_quorum: k.check_quorum,
      read_only_option: k.lease_reads ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
      refuse_votes_at_start: k.lease_reads,
      max_inflight_msgs: k.max_inflight_msgs,
      max_size_per_msg_bytes: k.max_size_per_msg_bytes,
      broadcast_commit: k.broadcast_commit,
      async_storage_writes: k.async_storage_writes,
      rng: new Prng(this.options.seed * 31 + node.id * 1009 + node.incarnation),
    });
  }

  private live(): SimNode[] {
    const out: SimNode[] = [];
    for (const n of this.nodes.values()) if (n.raw !== null) out.push(n);
    return out;
  }

  /** The live leader with the highest term, if any. */
  private leader(): SimNode | null {
    let best: SimNode | null = null;
    for (const n of this.live()) {
      const r = n.raw!.raft;
      if (r.state !== StateType.Leader) continue;
      if (best === null || r.term > best.raw!.raft.term) best = n;
    }
    return best;
  }

  // ---- one step ------------------------------------------------------------

  private step(faulty: boolean): void {
    this.now++;
    if (faulty) {
      this.driveFaults();
      this.driveClient();
    }
    this.deliver();
    if (this.now % TICK_EVERY_STEPS === 0) {
      for (const n of this.live()) n.raw!.tick();
    }
    this.processReadies();
    this.check();
  }

  private deliver(): void {
    const reports = this.snapshot_reports.splice(0);
    for (const rep of reports) {
      const leader = this.nodes.get(rep.leader);
      if (leader?.raw && leader.incarnation === rep.incarnation) {
        leader.raw.reportSnapshot(rep.to, rep.ok);
      }
    }
    for (const p of this.net.due(this.now)) {
      const m = p.msg;
      const to = this.nodes.get(m.to);
      const ok = to !== undefined && to.raw !== null && this.net.connected(p.sender, m.to);
      if (m.msg_type === MessageType.MsgSnapshot) {
        this.snapshot_reports.push({
          leader: p.sender,
          incarnation: p.from_incarnation,
          to: m.to,
          ok,
        });
      }
      if (!ok) {
        this.net.dropped_count++;
        if (m.msg_type === MessageType.MsgAppend && this.rng.chance(0.3)) {
          const from = this.nodes.get(p.sender);
          if (from?.raw && from.incarnation === p.from_incarnation) {
            from.raw.reportUnreachable(m.to);
          }
        }
        continue;
      }
      this.net.delivered_count++;
      if (this.options.trace) {
        this.log(`deliver ${p.sender}->${m.to} ${msgTypeName(m.msg_type)} t${m.term}`);
      }
      to.raw!.step(m);
    }
  }

  private processReadies(): void {
    if (this.knobs.async_storage_writes) this.completeSyncs();
    for (const n of this.live()) {
      for (let i = 0; i < MAX_READIES_PER_STEP && n.raw !== null && n.raw.hasReady(); i++) {
        this.handleReady(n, n.raw.ready());
      }
    }
    for (const n of this.nodes.values()) {
      if (n.destroyed && n.raw !== null) n.raw = null;
    }
  }

  /**
   * Async nodes' pending syncs complete by chance: one sync covers every
   * write so far; Raft learns it and the held messages leave in order.
   */
  private completeSyncs(): void {
    for (const n of this.live()) {
      if (!n.unsynced || !this.rng.chance(this.sync_probability)) continue;
      const last = n.storage.lastIndex();
      n.unsynced = false;
      n.raw!.persisted(last, n.storage.term(last));
      n.synced = n.storage.clone();
      for (const m of n.held.splice(0)) this.send(n, m);
    }
  }

  /** Persist, send, apply, advance — in that order (the Ready contract). */
  private handleReady(n: SimNode, rd: Ready): void {
    const raw = n.raw!;
    if (this.options.trace) this.traceReady(n, rd);
    if (rd.snapshot !== null && !isEmptySnap(rd.snapshot)) this.installSnapshot(n, rd.snapshot);
    if (rd.entries.length > 0) {
      n.storage.append(rd.entries);
      const prev_term = n.storage.term(rd.entries[0].index - 1);
      this.checker.recordPersisted(n.id, prev_term, rd.entries);
    }
    const before = n.persisted_hard_state;
    if (rd.hard_state !== null) {
      this.checker.checkHardState(n.id, n.persisted_hard_state, rd.hard_state);
      n.storage.setHardState(rd.hard_state);
      n.persisted_hard_state = { ...rd.hard_state };
    }
    if (this.knobs.async_storage_writes) {
      if (rd.must_sync) n.unsynced = true;
      const vote_changed = rd.hard_state !== null &&
        (rd.hard_state.term !== before.term || rd.hard_state.vote !== before.vote);
      const early = raw.raft.state === StateType.Leader && !vote_changed;
      for (const m of rd.messages) {
        if (early || (!n.unsynced && n.held.length === 0)) this.send(n, m);
        else n.held.push(m);
      }
    } else {
      for (const m of rd.messages) this.send(n, m);
    }
    for (const e of rd.committed_entries) this.apply(n, e);
    for (const rs of rd.read_states) {
      const required = this.pending_reads.get(bytesKey(rs.request_ctx));
      assert(required !== undefined, "read state for an unknown request");
      this.checker.checkReadState(n.id, rs.index, required);
      this.stats.reads_checked++;
    }
    raw.advance(rd);
    this.maybeCompact(n);
  }

  private log(line: string): void {
    this.options.trace?.(`[${this.now}] ${line}`);
  }

  private traceReady(n: SimNode, rd: Ready): void {
    const r = n.raw!.raft;
    if (rd.soft_state) {
      this.log(
        `n${n.id} term ${r.term} state ${rd.soft_state.raft_state} lead ${rd.soft_state.lead}`,
      );
    }
    if (rd.entries.length > 0) {
      this.log(`n${n.id} persist ${rd.entries.map((e) => `${e.index}@${e.term}`).join(",")}`);
    }
    if (rd.snapshot) this.log(`n${n.id} install snapshot ${snapIndex(rd.snapshot)}`);
    if (rd.hard_state) this.log(`n${n.id} hs ${JSON.stringify(rd.hard_state)}`);
    if (rd.committed_entries.length > 0) {
      this.log(
        `n${n.id} apply ${rd.committed_entries.map((e) => `${e.index}@${e.term}`).join(",")}`,
      );
    }
    for (const m of rd.messages) {
      const ents = m.entries.map((e) => `${e.index}@${e.term}`).join(",");
      this.log(
        `n${n.id} -> ${m.to} ${
          msgTypeName(m.msg_type)
        } t${m.term} i${m.index} lt${m.log_term} c${m.commit} ` +
          `rej${m.reject ? 1 : 0} h${m.reject_hint} [${ents}]`,
      );
    }
  }

  private send(n: SimNode, m: Message): void {
    assert(m.to !== n.id, "message to self");
    const copies = this.net.send(m, n.id, this.now, n.incarnation);
    if (copies === 0 && m.msg_type === MessageType.MsgSnapshot) {
      this.snapshot_reports.push({ leader: n.id, incarnation: n.incarnation, to: m.to, ok: false });
    }
  }

  private installSnapshot(n: SimNode, snap: Snapshot): void {
    n.storage.applySnapshot(snap);
    // Installed durably at once, as a store does (its KV write is synced), and
    // a restart commits at least the snapshot (a store's recovery repairs the
    // commit index the same way).
    if (n.synced !== null) {
      n.synced.applySnapshot(snap);
      const hs = n.synced.initialState().hard_state;
      n.synced.setHardState({ ...hs, commit: Math.max(hs.commit, snapIndex(snap)) });
    }
    n.sm = decodeSm(snap.data);
    assert(n.sm.applied_index === snapIndex(snap), "snapshot data and metadata disagree");
    this.checker.recordSnapshotInstalled(n.id, n.sm);
    this.stats.snapshots_installed++;
  }

  private apply(n: SimNode, e: Entry): void {
    const sm = n.sm;
    assert(
      e.index === sm.applied_index + 1,
      () => `node ${n.id} applies ${e.index} after ${sm.applied_index}`,
    );
    if (e.entry_type === EntryType.EntryConfChange) {
      const cc = decodeConfChange(e.data);
      this.log(`n${n.id} conf change ${cc.change_type} ${cc.node_id}`);
      sm.conf_state = cloneCs(n.raw!.applyConfChange(cc));
      if (
        cc.change_type === ConfChangeType.RemoveNode && !sm.conf_state.nodes.includes(cc.node_id)
      ) {
        // The removed peer is destroyed (as a store would), once it is out of the config.
        const gone = this.nodes.get(cc.node_id);
        if (gone !== undefined) gone.destroyed = true;
      }
      const members = sm.conf_state.nodes.length + sm.conf_state.learners.length;
      this.stats.max_members = Math.max(this.stats.max_members, members);
    } else {
      const id = decodeProposal(e.data);
      if (id !== null) {
        sm.ids.push(id);
        if (this.proposer_of.get(id) === n.id) this.acked.add(id);
      }
    }
    sm.digest = digestEntry(sm.digest, e);
    sm.applied_index = e.index;
    sm.applied_term = e.term;
    this.checker.recordApplied(n.id, n.raw!.raft.term, e, sm);
  }

  private maybeCompact(n: SimNode): void {
    const first = n.storage.firstIndex();
    if (n.sm.applied_index - (first - 1) < this.knobs.compact_threshold) return;
    n.storage.createSnapshot(n.sm.applied_index, n.sm.conf_state, encodeSm(n.sm));
    const keep = this.rng.intBelow(3);
    const to = n.sm.applied_index - keep;
    if (to >= first) n.storage.compact(to);
  }

  private check(): void {
    const rafts = this.live().map((n) => n.raw!.raft);
    this.checker.checkLeaders(rafts);
    this.checker.checkLeaderCompleteness(rafts);
    for (const r of rafts) {
      const log = r.raft_log;
      assert(log.applied <= log.committed, "applied > committed");
      assert(log.committed <= log.lastIndex(), "committed > last index");
    }
    const leaders = new Set<string>();
    for (const r of rafts) if (r.state === StateType.Leader) leaders.add(`${r.term}:${r.id}`);
    this.stats.leaders = Math.max(this.stats.leaders, this.leaderTermsSeen(leaders));
  }

  private leader_terms = new Set<string>();
  private leaderTermsSeen(now: Set<string>): number {
    for (const k of now) this.leader_terms.add(k);
    return this.leader_terms.size;
  }

  // ---- client and faults ---------------------------------------------------

  private driveClient(): void {
    const k = this.knobs;
    const live = this.live();
    if (live.length === 0) return;
    if (this.rng.chance(k.propose_probability)) {
      const n = this.rng.pick(live);
      const id = this.next_proposal_id++;
      this.proposer_of.set(id, n.id);
      n.raw!.propose(encodeProposal(id));
      this.stats.proposals++;
    }
    if (this.rng.chance(k.read_probability)) {
      const n = this.rng.pick(live);
      const ctx = new TextEncoder().encode(`r${this.next_read_id++}`);
      this.pending_reads.set(bytesKey(ctx), this.checker.max_applied_index);
      n.raw!.readIndex(ctx);
    }
    if (this.rng.chance(k.conf_change_probability)) this.proposeConfChange();
    if (this.rng.chance(k.transfer_probability)) {
      const l = this.leader();
      const voters = l === null ? [] : l.raw!.raft.trk.voters.filter((v) => v !== l.id);
      if (l !== null && voters.length > 0) {
        l.raw!.transferLeader(this.rng.pick(voters));
        this.stats.transfers++;
      }
    }
  }

  private proposeConfChange(): void {
    const l = this.leader();
    if (l === null) return;
    const cs = l.raw!.raft.trk.confState();
    const none = new Uint8Array(0);
    let cc;
    if (cs.learners.length > 0) {
      cc = {
        change_type: ConfChangeType.AddNode,
        node_id: this.rng.pick(cs.learners),
        context: none,
      };
    } else if (cs.nodes.length < this.options.nodes) {
      const id = this.spareNode(cs.nodes);
      if (id === null) return;
      cc = { change_type: ConfChangeType.AddLearnerNode, node_id: id, context: none };
    } else if (cs.nodes.length > 1) {
      cc = {
        change_type: ConfChangeType.RemoveNode,
        node_id: this.rng.pick(cs.nodes),
        context: none,
      };
    } else {
      return;
    }
    if (l.raw!.proposeConfChange(cc).kind === "appended") this.stats.conf_changes++;
  }

  /** A fresh node (empty storage) not in `members`, created if needed. */
  private spareNode(members: number[]): number | null {
    for (const n of this.nodes.values()) {
      if (!n.destroyed && !members.includes(n.id) && n.sm.conf_state.nodes.length === 0) {
        return n.id;
      }
    }
    if (this.next_node_id > this.options.nodes + MAX_EXTRA_NODES) return null;
    const id = this.next_node_id++;
    this.addNode(id, new MemoryStorage());
    this.stats.max_node_id = id;
    return id;
  }

  private driveFaults(): void {
    const k = this.knobs;
    const ids = [...this.nodes.values()].filter((n) => !n.destroyed).map((n) => n.id);
    if (!this.net.isPartitioned() && this.rng.chance(k.partition_probability)) {
      const size = 1 + this.rng.intBelow(Math.max(1, Math.floor(ids.length / 2)));
      const minority: number[] = [];
      for (let i = 0; i < size; i++) minority.push(this.rng.pick(ids));
      this.net.partition(minority);
      this.stats.partitions++;
      this.log(`partition ${minority}`);
    } else if (this.net.isPartitioned() && this.rng.chance(k.heal_probability)) {
      this.net.heal();
      this.log("heal");
    }
    const crashed = [...this.nodes.values()].filter((n) => n.raw === null && !n.destroyed);
    if (
      crashed.length < Math.floor(this.options.nodes / 2) && this.rng.chance(k.crash_probability)
    ) {
      const victim = this.rng.pick(this.live());
      victim.raw = null;
      // Writes no sync covered are lost (a power cut, not only a kill).
      if (victim.synced !== null) victim.storage = victim.synced;
      victim.crashed_at_step = this.now;
      this.stats.crashes++;
      this.log(`n${victim.id} crash`);
    }
    // Restarts come at any time: with lease reads, a restarted voter refuses
    // votes for an election timeout (refuse_votes_at_start) instead.
    for (const n of crashed) {
      if (this.rng.chance(k.restart_probability)) {
        this.start(n);
        this.log(`n${n.id} restart hs ${JSON.stringify(n.persisted_hard_state)}`);
      }
    }
  }

  // ---- the end -------------------------------------------------------------

  /** Heals everything and waits for convergence, then checks the outcome. */
  private settle(): void {
    this.net.heal();
    this.net.faults = { drop_probability: 0, duplicate_probability: 0, max_delay_steps: 3 };
    this.sync_probability = Math.max(this.sync_probability, SETTLE_SYNC_PROBABILITY);
    for (const n of this.nodes.values()) if (n.raw === null && !n.destroyed) this.start(n);
    const limit = this.options.settle_steps ?? 4000;
    for (let i = 0; i < limit; i++) {
      this.step(false);
      if (this.converged()) {
        this.finalCheck();
        return;
      }
    }
    throw new SafetyViolation("liveness", `no convergence within ${limit} settle steps`);
  }

  private converged(): boolean {
    const l = this.leader();
    if (l === null) return false;
    const r = l.raw!.raft;
    if (!r.committedEntryInCurrentTerm() || r.raft_log.committed !== r.raft_log.lastIndex()) {
      return false;
    }
    const cs = r.trk.confState();
    for (const id of [...cs.nodes, ...cs.learners]) {
      const n = this.nodes.get(id);
      if (n === undefined || n.raw === null || n.sm.applied_index !== r.raft_log.committed) {
        return false;
      }
    }
    return l.sm.applied_index === r.raft_log.committed;
  }

  private finalCheck(): void {
    const l = this.leader()!;
    const cs = l.raw!.raft.trk.confState();
    const ids = l.sm.ids;
    for (const id of [...cs.nodes, ...cs.learners]) {
      const other = this.nodes.get(id)!.sm.ids;
      if (other.length !== ids.length || other.some((x, i) => x !== ids[i])) {
        throw new SafetyViolation(
          "state machine safety",
          `node ${id} applied a different sequence than leader ${l.id}`,
        );
      }
    }
    const applied = new Set(ids);
    for (const id of this.acked) {
      if (!applied.has(id)) {
        throw new SafetyViolation(
          "durability",
          `acknowledged proposal ${id} is not applied on the final members`,
        );
      }
    }
  }
}

/** Runs one seed; returns stats or throws SimFailure (its message has the replay command). */
export function runSeed(options: SimOptions): SimStats {
  return new Simulation(options).run();
}
