/**
 * Majority quorum arithmetic (after etcd-io/raft's `quorum.MajorityConfig`).
 * @module
 */
import { assert } from "./assert.ts";

/** Outcome of a vote count. */
export const VoteResult = { Pending: 0, Lost: 1, Won: 2 } as const;
/** See {@link VoteResult}. */
export type VoteResult = typeof VoteResult[keyof typeof VoteResult];

/** Votes needed to win among `voter_count` voters. */
export function majority(voter_count: number): number {
  return Math.floor(voter_count / 2) + 1;
}

/**
 * The largest index acknowledged by a majority of `voters` (acked(id) gives a
 * voter's acknowledged index, 0 if unknown). An empty config commits nothing
 * new: it returns +Infinity like etcd, callers clamp.
 */
export function committedIndex(voters: readonly number[], acked: (id: number) => number): number {
  const result = quorumValue(voters, acked);
  assert(result >= 0, "committed index must be non-negative");
  return result;
}

/**
 * The largest value v such that a majority of `voters` have value(id) >= v
 * (+Infinity for an empty config).
 */
export function quorumValue(voters: readonly number[], value: (id: number) => number): number {
  if (voters.length === 0) return Number.POSITIVE_INFINITY;
  const values = voters.map(value);
  values.sort((a, b) => b - a);
  return values[majority(voters.length) - 1];
}

/** Counts `votes` (true = granted) among `voters`. */
export function voteResult(
  voters: readonly number[],
  votes: ReadonlyMap<number, boolean>,
): VoteResult {
  if (voters.length === 0) return VoteResult.Won;
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const q = majority(voters.length);
  if (granted >= q) return VoteResult.Won;
  if (granted + missing >= q) return VoteResult.Pending;
  return VoteResult.Lost;
}
