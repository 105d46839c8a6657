/**
 * The host-facing API (after etcd-io/raft's `RawNode`): feed it ticks,
 * messages and proposals; poll `ready()` for what to persist, send and apply;
 * call `advance(ready)` once that is done.
 *
 * Ready contract: persist `hard_state`, `entries` and `snapshot` first, then
 * send `messages`, apply `snapshot` and `committed_entries` to the state
 * machine (calling `applyConfChange` for conf-change entries), serve
 * `read_states` once applied >= their index, then `advance(ready)`.
 *
 * With `async_storage_writes`, "persist" in that contract means "write" (the
 * entries must be readable from storage), a leader's messages may go out at
 * once, and the others once the writes before them are durable; the host
 * reports durability with `persisted(index, term)`.
 * @module
 */
import type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  Message,
  Snapshot,
} from "@eraft/proto/gen/eraftpb.ts";
import { EntryType, MessageType } from "@eraft/proto/gen/eraftpb.ts";
import { assert } from "./assert.ts";
import type { Config } from "./config.ts";
import { encodeConfChange } from "./conf_change_codec.ts";
import type { ProgressState } from "./progress.ts";
import { type ProposalDroppedError, Raft, type ReadState, StateType } from "./raft.ts";
import {
  hardStateEqual,
  isEmptySnap,
  isLocalMsg,
  isResponseMsg,
  newEntry,
  newMessage,
  NONE,
  snapIndex,
} from "./util.ts";

/** Volatile state worth telling the host about (not persisted). */
export interface SoftState {
  lead: number;
  raft_state: StateType;
}

/** Everything the host must do after a batch of inputs. */
export interface Ready {
  /** Changed leader or role, else null. */
  soft_state: SoftState | null;
  /** Changed term/vote/commit to persist, else null. */
  hard_state: HardState | null;
  /** Linearizable read points confirmed since the last Ready. */
  read_states: ReadState[];
  /** Entries to append to stable storage before sending messages. */
  entries: Entry[];
  /** A snapshot to persist and install, else null. */
  snapshot: Snapshot | null;
  /** Committed entries to apply, in order. */
  committed_entries: Entry[];
  /** Messages to send after persisting. */
  messages: Message[];
  /** True if the hard state or entries must be fsynced before sending. */
  must_sync: boolean;
}

/** Outcome of a proposal. */
export type ProposeResult =
  | { kind: "appended"; index: number; term: number }
  | { kind: "forwarded" }
  | { kind: "dropped"; error: ProposalDroppedError };

/** A peer's replication progress as seen by the leader. */
export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  recent_active: boolean;
}

/** A snapshot of the node's state for hosts, tests and debugging. */
export interface Status {
  id: number;
  hard_state: HardState;
  soft_state: SoftState;
  applied: number;
  conf_state: ConfState;
  lead_transferee: number;
  /** Leader only. */
  progress: Map<number, ProgressStatus>;
}

/** A Raft node driven through Ready/Advance. */
export class RawNode {
  /** The state machine; exposed for tests and the simulator. */
  readonly raft: Raft;
  private prev_soft_state: SoftState;
  private prev_hard_state: HardState;
  private awaiting_advance = false;

  /** Builds a node from `config.storage` (a restart if it holds state). */
  constructor(config: Config) {
    this.raft = new Raft(config);
    this.prev_soft_state = this.softState();
    this.prev_hard_state = this.raft.hardState();
  }

  /** Advances logical time by one tick. */
  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now. */
  campaign(): void {
    this.raft.step(newMessage({ msg_type: MessageType.MsgHup, from: this.raft.id }));
  }

  /** Proposes `data` to be appended to the log. */
  propose(data: Uint8Array): ProposeResult {
    return this.proposeEntry(newEntry({ data }));
  }

  /** Proposes a single-step membership change (refused while another is pending). */
  proposeConfChange(cc: ConfChange): ProposeResult {
    return this.proposeEntry(
      newEntry({ entry_type: EntryType.EntryConfChange, data: encodeConfChange(cc) }),
    );
  }

  private proposeEntry(e: Entry): ProposeResult {
    const r = this.raft;
    const was_leader = r.state === StateType.Leader;
    const err = r.step(
      newMessage({ msg_type: MessageType.MsgPropose, from: r.id, entries: [e] }),
    );
    if (err !== null) return { kind: "dropped", error: err };
    if (!was_leader) return { kind: "forwarded" };
    return { kind: "appended", index: r.raft_log.lastIndex(), term: r.term };
  }

  /** Applies a committed conf change; returns the membership now in force. */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /**
   * Steps a message received from a peer. Local message types and responses
   * from non-members are ignored (returns false).
   */
  step(m: Message): boolean {
    if (isLocalMsg(m.msg_type)) return false;
    if (isResponseMsg(m.msg_type) && !this.raft.trk.progress.has(m.from)) return false;
    return this.raft.step(m) === null;
  }

  /** Asks the leader to hand leadership to `transferee`. */
  transferLeader(transferee: number): void {
    this.raft.step(newMessage({ msg_type: MessageType.MsgTransferLeader, from: transferee }));
  }

  /**
   * Requests a linearizable read point; it arrives as a ReadState carrying
   * `request_ctx` (non-empty and unique per request).
   */
  readIndex(request_ctx: Uint8Array): void {
    assert(request_ctx.byteLength > 0, "readIndex needs a non-empty context");
    this.raft.step(newMessage({ msg_type: MessageType.MsgReadIndex, context: request_ctx }));
  }

  /** The transport could not reach `id`. */
  reportUnreachable(id: number): void {
    this.raft.step(newMessage({ msg_type: MessageType.MsgUnreachable, from: id }));
  }

  /** A snapshot send to `id` finished (`ok`) or failed. */
  reportSnapshot(id: number, ok: boolean): void {
    this.raft.step(newMessage({ msg_type: MessageType.MsgSnapStatus, from: id, reject: !ok }));
  }

  /** True if `ready()` has something to do. */
  hasReady(): boolean {
    const r = this.raft;
    const soft = this.softState();
    if (
      soft.lead !== this.prev_soft_state.lead || soft.raft_state !== this.prev_soft_state.raft_state
    ) {
      return true;
    }
    if (!hardStateEqual(r.hardState(), this.prev_hard_state)) return true;
    if (r.raft_log.unstable.snapshot !== null) return true;
    return r.msgs.length > 0 || r.raft_log.unstableEntries().length > 0 ||
      r.raft_log.hasNextEntries() || r.read_states.length > 0;
  }

  /** Collects the pending work; call `advance(ready)` when it is done. */
  ready(): Ready {
    assert(!this.awaiting_advance, "ready() called again before advance()");
    const r = this.raft;
    const soft = this.softState();
    const hard = r.hardState();
    const soft_changed = soft.lead !== this.prev_soft_state.lead ||
      soft.raft_state !== this.prev_soft_state.raft_state;
    const hard_changed = !hardStateEqual(hard, this.prev_hard_state);
    const entries = [...r.raft_log.unstableEntries()];
    const rd: Ready = {
      soft_state: soft_changed ? soft : null,
      hard_state: hard_changed ? hard : null,
      read_states: r.read_states,
      entries,
      snapshot: r.raft_log.unstable.snapshot,
      committed_entries: r.raft_log.nextEntries(),
      messages: r.msgs,
      must_sync: entries.length > 0 ||
        (hard_changed &&
          (hard.term !== this.prev_hard_state.term || hard.vote !== this.prev_hard_state.vote)),
    };
    if (soft_changed) this.prev_soft_state = soft;
    r.read_states = [];
    r.msgs = [];
    this.awaiting_advance = true;
    return rd;
  }

  /** The host persisted, sent and applied `rd`. */
  advance(rd: Ready): void {
    assert(this.awaiting_advance, "advance() without a ready()");
    this.awaiting_advance = false;
    const log = this.raft.raft_log;
    if (rd.hard_state !== null) this.prev_hard_state = rd.hard_state;
    if (rd.snapshot !== null && !isEmptySnap(rd.snapshot)) {
      log.appliedTo(Math.max(log.applied, snapIndex(rd.snapshot)));
    }
    if (rd.committed_entries.length > 0) {
      log.appliedTo(rd.committed_entries[rd.committed_entries.length - 1].index);
    }
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1];
      log.stableTo(last.index, last.term);
    }
    if (rd.snapshot !== null) log.stableSnapTo(snapIndex(rd.snapshot));
  }

  /**
   * With `async_storage_writes`: the host's writes are durable up to entry
   * (index, term) — the last entry it had written when its fsync began. May
   * be called between `ready()` and `advance()`.
   */
  persisted(index: number, term: number): void {
    this.raft.persisted(index, term);
  }

  /** Current state (progress is filled on the leader only). */
  status(): Status {
    const r = this.raft;
    const progress = new Map<number, ProgressStatus>();
    if (r.state === StateType.Leader) {
      for (const [id, pr] of r.trk.progress) {
        progress.set(id, {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          recent_active: pr.recent_active,
        });
      }
    }
    return {
      id: r.id,
      hard_state: r.hardState(),
      soft_state: this.softState(),
      applied: r.raft_log.applied,
      conf_state: r.trk.confState(),
      lead_transferee: r.lead_transferee,
      progress,
    };
  }

  private softState(): SoftState {
    return { lead: this.raft.lead, raft_state: this.raft.state };
  }
}

export { NONE };
