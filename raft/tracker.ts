/**
 * The leader's (and candidate's) bookkeeping of the configuration (after
 * etcd-io/raft's `tracker.ProgressTracker`): voters, learners, per-peer
 * progress and the votes of the current election.
 * @module
 */
import type { ConfState } from "@eraft/proto/gen/eraftpb.ts";
import { assert } from "./assert.ts";
import { Progress } from "./progress.ts";
import { committedIndex, VoteResult, voteResult } from "./quorum.ts";

/** Voters, learners and their progress. */
export class ProgressTracker {
  /** Voting members (sorted ascending). */
  voters: number[] = [];
  /** Non-voting members (sorted ascending). */
  learners: number[] = [];
  /** Progress of every member, voters and learners. */
  readonly progress: Map<number, Progress> = new Map();
  /** Votes received in the current election (true = granted). */
  readonly votes: Map<number, boolean> = new Map();

  constructor(readonly max_inflight_msgs: number, readonly max_inflight_bytes: number) {}

  /** The membership as a ConfState. */
  confState(): ConfState {
    return { nodes: [...this.voters], learners: [...this.learners] };
  }

  /** True if `id` is a voter. */
  isVoter(id: number): boolean {
    return this.voters.includes(id);
  }

  /** True if the configuration has exactly one voter. */
  isSingleton(): boolean {
    return this.voters.length === 1;
  }

  /** Adds or promotes a member; a learner never replaces a voter (no demotion). */
  addMember(id: number, is_learner: boolean, next: number): void {
    assert(id !== 0, "member id 0 is reserved");
    const pr = this.progress.get(id);
    if (pr === undefined) {
      const fresh = new Progress(
        Math.max(next, 1),
        this.max_inflight_msgs,
        this.max_inflight_bytes,
        is_learner,
      );
      // A new member counts as active so check-quorum does not fire before it is heard.
      fresh.recent_active = true;
      this.progress.set(id, fresh);
    } else if (!pr.is_learner || is_learner) {
      return; // already a voter, or already a learner being re-added as one
    } else {
      pr.is_learner = false; // promotion
    }
    this.voters = sortedWithout(this.voters, id);
    this.learners = sortedWithout(this.learners, id);
    if (is_learner) this.learners = sortedWith(this.learners, id);
    else this.voters = sortedWith(this.voters, id);
    this.assertDisjoint();
  }

  /** Removes a member. */
  removeMember(id: number): void {
    this.progress.delete(id);
    this.voters = sortedWithout(this.voters, id);
    this.learners = sortedWithout(this.learners, id);
  }

  /** Replaces the membership (restart or snapshot); progress starts at `next`. */
  reset(cs: ConfState, next: number): void {
    this.progress.clear();
    this.voters = [];
    this.learners = [];
    for (const id of cs.nodes) this.addMember(id, false, next);
    for (const id of cs.learners) this.addMember(id, true, next);
  }

  /** Highest index replicated on a quorum of voters. */
  committed(): number {
    return committedIndex(this.voters, (id) => this.progress.get(id)?.match ?? 0);
  }

  /** True if a quorum of voters was recently active (`self` always counts). */
  quorumActive(self: number): boolean {
    const votes = new Map<number, boolean>();
    for (const id of this.voters) {
      const pr = this.progress.get(id);
      votes.set(id, id === self || (pr?.recent_active ?? false));
    }
    return voteResult(this.voters, votes) === VoteResult.Won;
  }

  /** Forgets the votes of the last election. */
  resetVotes(): void {
    this.votes.clear();
  }

  /** Records `id`'s vote unless it already voted. */
  recordVote(id: number, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  /** Counts the votes among voters. */
  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    return { granted, rejected, result: voteResult(this.voters, this.votes) };
  }

  /** Every member id (voters then learners), ascending within each. */
  memberIds(): number[] {
    return [...this.voters, ...this.learners];
  }

  private assertDisjoint(): void {
    for (const id of this.learners) {
      assert(!this.voters.includes(id), () => `${id} is both voter and learner`);
    }
  }
}

function sortedWith(ids: number[], id: number): number[] {
  return [...ids, id].sort((a, b) => a - b);
}

function sortedWithout(ids: number[], id: number): number[] {
  return ids.filter((x) => x !== id);
}
