/**
 * raft/ — a pure, deterministic Raft consensus core in the style of
 * etcd-io/raft. No I/O, no timers, no Deno or Node APIs; randomness comes from
 * an injected seeded `Rng`.
 *
 * Drive a `RawNode`: `tick()`, `step(msg)`, `propose(data)`,
 * `proposeConfChange(cc)`, `transferLeader(to)`, `readIndex(ctx)`; then
 * `hasReady()`/`ready()` and `advance(ready)`.
 * @module
 */
export * from "./storage.ts";
export { MemoryStorage, SnapshotOutOfDateError } from "./memory_storage.ts";
export {
  type ProgressStatus,
  type ProposeResult,
  RawNode,
  type Ready,
  type SoftState,
  type Status,
} from "./raw_node.ts";
export {
  CAMPAIGN_TRANSFER,
  ProposalDroppedError,
  Raft,
  type ReadState,
  StateType,
} from "./raft.ts";
export type { Config } from "./config.ts";
export { ReadOnlyOption } from "./read_only.ts";
export { ProgressState } from "./progress.ts";
export { Prng, type Rng } from "./prng.ts";
export { AssertionError } from "./assert.ts";
export { decodeConfChange, encodeConfChange } from "./conf_change_codec.ts";
export { emptySnapshot, isEmptySnap, newEntry, newMessage, NONE } from "./util.ts";
