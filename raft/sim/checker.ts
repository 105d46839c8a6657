/**
 * Safety checks of the simulator (Raft paper Figure 3), run after every step:
 * election safety, log matching, leader completeness, state machine safety,
 * plus persisted hard-state monotonicity and ReadIndex linearizability.
 * A violation throws SafetyViolation.
 * @module
 */
import type { Entry, HardState } from "@eraft/proto/gen/eraftpb.ts";
import type { Raft } from "../raft.ts";
import { StateType } from "../raft.ts";
import type { SmState } from "./state_machine.ts";

/** A broken safety property. */
export class SafetyViolation extends Error {
  constructor(property: string, detail: string) {
    super(`${property}: ${detail}`);
    this.name = "SafetyViolation";
  }
}

interface LoggedEntry {
  prev_term: number;
  data_digest: number;
  entry_type: number;
}

interface AppliedEntry {
  term: number;
  digest: number;
  /** Smallest current term of a node that applied it (>= the term it was committed in). */
  min_commit_term: number;
}

/** Accumulates what every node ever did and checks it is consistent. */
export class SafetyChecker {
  private readonly leader_of_term = new Map<number, number>();
  private readonly logged = new Map<string, LoggedEntry>();
  private readonly applied = new Map<number, AppliedEntry>();
  /** Highest index applied anywhere. */
  max_applied_index = 0;
  checks_run = 0;

  /** Election safety: at most one leader per term. */
  checkLeaders(rafts: readonly Raft[]): void {
    for (const r of rafts) {
      if (r.state !== StateType.Leader) continue;
      const prev = this.leader_of_term.get(r.term);
      if (prev !== undefined && prev !== r.id) {
        throw new SafetyViolation(
          "election safety",
          `term ${r.term} has leaders ${prev} and ${r.id}`,
        );
      }
      this.leader_of_term.set(r.term, r.id);
    }
    this.checks_run++;
  }

  /**
   * Log matching, by induction: an (index, term) pair always names the same
   * entry (data) after the same previous term. `prev_term` is the stored term
   * before `ents[0]`.
   */
  recordPersisted(node: number, prev_term: number, ents: readonly Entry[]): void {
    let prev = prev_term;
    for (const e of ents) {
      const key = `${e.index}:${e.term}`;
      const seen = this.logged.get(key);
      const mine: LoggedEntry = {
        prev_term: prev,
        data_digest: dataDigest(e.data),
        entry_type: e.entry_type,
      };
      if (seen === undefined) {
        this.logged.set(key, mine);
      } else if (
        seen.prev_term !== mine.prev_term || seen.data_digest !== mine.data_digest ||
        seen.entry_type !== mine.entry_type
      ) {
        throw new SafetyViolation(
          "log matching",
          `node ${node} stores a different entry at index ${e.index} term ${e.term}`,
        );
      }
      prev = e.term;
    }
  }

  /** State machine safety: every node applies the same entry (and state) at an index. */
  recordApplied(node: number, node_term: number, e: Entry, sm: SmState): void {
    const seen = this.applied.get(e.index);
    if (seen === undefined) {
      this.applied.set(e.index, { term: e.term, digest: sm.digest, min_commit_term: node_term });
    } else {
      if (seen.term !== e.term || seen.digest !== sm.digest) {
        throw new SafetyViolation(
          "state machine safety",
          `node ${node} applied term ${e.term} at index ${e.index}, another node applied term ${seen.term}`,
        );
      }
      seen.min_commit_term = Math.min(seen.min_commit_term, node_term);
    }
    this.max_applied_index = Math.max(this.max_applied_index, e.index);
  }

  /** A node installed a snapshot: its state must equal the applied state at that index. */
  recordSnapshotInstalled(node: number, sm: SmState): void {
    const seen = this.applied.get(sm.applied_index);
    if (seen !== undefined && (seen.term !== sm.applied_term || seen.digest !== sm.digest)) {
      throw new SafetyViolation(
        "state machine safety",
        `node ${node} installed a snapshot at ${sm.applied_index} that differs from the applied state`,
      );
    }
  }

  /**
   * Leader completeness: a leader of term T holds every entry committed in a
   * term < T (only its uncompacted log can be checked; compacted entries are
   * covered by the snapshot check).
   */
  checkLeaderCompleteness(rafts: readonly Raft[]): void {
    for (const r of rafts) {
      if (r.state !== StateType.Leader) continue;
      const log = r.raft_log;
      const hi = Math.min(this.max_applied_index, Number.MAX_SAFE_INTEGER);
      for (let i = log.firstIndex(); i <= hi; i++) {
        const a = this.applied.get(i);
        if (a === undefined || a.min_commit_term >= r.term) continue;
        const t = log.term(i);
        if (t === null) continue; // compacted under us
        if (t !== a.term) {
          throw new SafetyViolation(
            "leader completeness",
            `leader ${r.id} of term ${r.term} has term ${t} at committed index ${i} (term ${a.term})`,
          );
        }
      }
    }
  }

  /** Persisted hard state: term never decreases, one vote per term, commit never decreases. */
  checkHardState(node: number, prev: HardState, next: HardState): void {
    if (next.term < prev.term) {
      throw new SafetyViolation(
        "term monotonicity",
        `node ${node} term ${prev.term} -> ${next.term}`,
      );
    }
    if (next.term === prev.term && prev.vote !== 0 && next.vote !== prev.vote) {
      throw new SafetyViolation(
        "one vote per term",
        `node ${node} changed its vote in term ${next.term}: ${prev.vote} -> ${next.vote}`,
      );
    }
    if (next.commit < prev.commit) {
      throw new SafetyViolation(
        "commit monotonicity",
        `node ${node} commit ${prev.commit} -> ${next.commit}`,
      );
    }
  }

  /** ReadIndex linearizability: a read point covers every write applied before the read began. */
  checkReadState(node: number, read_index: number, required_index: number): void {
    if (read_index < required_index) {
      throw new SafetyViolation(
        "read index linearizability",
        `node ${node} got read index ${read_index} < ${required_index} applied before the request`,
      );
    }
  }
}

function dataDigest(data: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of data) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return (h ^ data.byteLength) >>> 0;
}
