/**
 * Applying committed Raft entries of one region to the worker's KV engine.
 * Each entry becomes one atomic write batch that also carries the region's
 * new apply state, so data and apply index can never disagree after a crash.
 * Preconditions and client-request deduplication are checked here, at apply
 * time, on every replica alike — the state machine stays deterministic.
 * @module
 */
import assert from "node:assert/strict";
import type { Entry } from "@eraft/proto/gen/eraftpb.ts";
import { ConfChangeType, EntryType } from "@eraft/proto/gen/eraftpb.ts";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import { MutationOp, PreconditionKind } from "@eraft/proto/gen/kvrpcpb.ts";
import type * as metapb from "@eraft/proto/gen/metapb.ts";
import type * as raft_cmdpb from "@eraft/proto/gen/raft_cmdpb.ts";
import { decodeConfChange } from "@eraft/raft";
import { compareBytes } from "@eraft/shared/bytes";
import type { WriteBatch } from "../engine/mod.ts";
import type { WorkerEngines } from "../engine/engines.ts";
import type { WorkerResponse } from "../protocol.ts";
import {
  applyStateKey,
  dataCf,
  decodeCmd,
  decodeCmdView,
  decodeTaggedValue,
  dedupFloorKey,
  encodeApplyState,
  encodeRegionState,
  regionStateKey,
  TaggedValues,
} from "./codec.ts";
import {
  type AppliedIds,
  bucketOf,
  copyAcrossSplit,
  DedupTable,
  encodeFloor,
  mutationsDigest,
  readFloor,
  type RecordMember,
} from "./dedup.ts";
import { type Peer, RAFT_INIT_LOG_INDEX, RAFT_INIT_LOG_TERM } from "./peer.ts";
import { epochNotMatch, keyNotInRegion, staleCommand } from "./region_errors.ts";

/** What applying needs from the worker. */
export interface ApplyHost {
  readonly engines: WorkerEngines;
  respond(id: number, res: WorkerResponse): void;
  /** A split produced `region` (the right half) on this store. */
  createSplitPeer(region: metapb.Region, parent: Peer): void;
  /** This replica was removed from its region: delete it. */
  destroyPeer(peer: Peer): void;
  /** The region's range, epoch or peers changed. */
  regionChanged(peer: Peer): void;
  /** The ids of the worker's dedup records (absent: every check reads the engine). */
  readonly applied_ids?: AppliedIds;
}

/** Applies `entries` (committed, ascending) to the region and answers their proposals. */
export function applyEntries(host: ApplyHost, peer: Peer, entries: readonly Entry[]): void {
  for (const entry of entries) {
    if (peer.destroyed) return;
    if (entry.index <= peer.applied_index) continue;
    if (entry.index !== peer.applied_index + 1) {
      assert.fail(`region ${peer.region_id}: apply gap at ${peer.applied_index} -> ${entry.index}`);
    }
    const res = applyEntry(host, peer, entry);
    answerProposals(host, peer, entry, res);
  }
}

function answerProposals(host: ApplyHost, peer: Peer, entry: Entry, res: WorkerResponse): void {
  for (const p of peer.takeProposalsUpTo(entry.index)) {
    if (p.index === entry.index && p.term === entry.term) host.respond(p.id, res);
    else host.respond(p.id, { region_error: staleCommand(peer.region_id) });
  }
}

function applyEntry(host: ApplyHost, peer: Peer, entry: Entry): WorkerResponse {
  const batch = host.engines.kv.newBatch();
  let res: WorkerResponse = {};
  let after: (() => void) | null = null;
  if (entry.entry_type === EntryType.EntryConfChange) {
    [res, after] = applyConfChange(host, peer, entry, batch);
  } else if (entry.data.length > 0) {
    // Writes are only read here: skip the plain-object copy. Admin commands
    // end up in region state (spread, posted), so they get a plain one.
    const view = decodeCmdView(entry.data);
    if (view.admin_request) [res, after] = applyAdmin(host, peer, decodeCmd(entry.data), batch);
    else res = applyWrite(host, peer, view, batch, entry.index);
  }
  peer.apply_state = { ...peer.apply_state, applied_index: entry.index };
  batch.put("raft", applyStateKey(peer.region_id), encodeApplyState(peer.apply_state));
  // A split or conf change goes on to change the Raft log (the new region's
  // state, the conf state): its KV state is durable first, so a power loss
  // never leaves the log ahead of the KV state it follows from (recovery.ts
  // repairs the other way round). Without it, a split's replay would
  // re-initialise the new region's Raft state (term, vote, commit) over the
  // one it had: regions load from KV, so the new one is not found there.
  // Other entries need no sync: the log replays them.
  host.engines.kv.write(batch, { sync: after !== null });
  after?.();
  return res;
}

function checkVersion(peer: Peer, header: raft_cmdpb.RaftRequestHeader | null | undefined) {
  const epoch = header?.region_epoch;
  const current = peer.region.region_epoch!;
  if (epoch && (epoch.version !== 0 || epoch.conf_ver !== 0) && epoch.version !== current.version) {
    return epochNotMatch(
      `region ${peer.region_id} epoch version ${current.version}, request has ${epoch.version}`,
      [peer.region],
    );
  }
  return null;
}

function keysOutside(peer: Peer, cmd: raft_cmdpb.RaftCmdRequest): Uint8Array | null {
  for (const m of cmd.mutations) if (!peer.containsKey(m.key)) return m.key;
  for (const p of cmd.preconditions) if (!peer.containsKey(p.key)) return p.key;
  return null;
}

function applyWrite(
  host: ApplyHost,
  peer: Peer,
  cmd: raft_cmdpb.RaftCmdRequest,
  batch: WriteBatch,
  index: number,
): WorkerResponse {
  const epoch_error = checkVersion(peer, cmd.header);
  if (epoch_error) return { region_error: epoch_error };
  const outside = keysOutside(peer, cmd);
  if (outside) return { region_error: keyNotInRegion(outside, peer.region) };
  const header = cmd.header;
  const dedup = new DedupTable(
    host.engines.kv,
    batch,
    peer.region_id,
    peer.region,
    header?.proposed_at_ms ?? 0,
    host.applied_ids ?? null,
    peer.dedup_floor,
  );
  // The floor goes out with this entry's batch, which is always written.
  peer.dedup_floor = dedup.floor;
  const members = cmd.members ?? [];
  if (members.length > 0) return applyMembers(peer, cmd, dedup, index);
  const request_id = header?.request_id ?? 0;
  const issued_at_ms = header?.issued_at_ms ?? 0;
  let request: RecordMember | null = null;
  let bucket = 0;
  if (request_id !== 0) {
    const refusal = dedup.refusal(issued_at_ms);
    if (refusal !== null) return { error: refusal };
    bucket = bucketOf(issued_at_ms);
    request = {
      id: request_id,
      first_key: cmd.mutations[0]?.key ?? EMPTY,
      digest: mutationsDigest(cmd.mutations, 0, cmd.mutations.length),
    };
    if (dedup.applied(bucket, request)) {
      return {}; // a retry of a request already applied: answer as the first time
    }
  }
  for (const [i, p] of cmd.preconditions.entries()) {
    if (!preconditionHolds(host, p)) return { precondition_failed: true, failed_index: i };
  }
  const values = TaggedValues.forPuts(cmd.mutations);
  for (const m of cmd.mutations) addMutation(peer, m, batch, values);
  if (request !== null) dedup.record(bucket, [request], index);
  return {};
}

/**
 * A merged batch (no preconditions): each member's mutations apply unless
 * that member was applied before (it may have been retried alone, or the
 * merged batch may arrive after the member's own retry), and each member is
 * recorded under its own id. A member outside the window refuses the whole
 * batch: nothing applies.
 */
function applyMembers(
  peer: Peer,
  cmd: raft_cmdpb.RaftCmdRequest,
  dedup: DedupTable,
  index: number,
): WorkerResponse {
  for (const member of cmd.members) {
    const refusal = dedup.refusal(member.issued_at_ms);
    if (refusal !== null) return { error: refusal };
  }
  const values = TaggedValues.forPuts(cmd.mutations);
  // The members applied, by bucket: one record per bucket (nearly always one).
  const recorded = new Map<number, RecordMember[]>();
  let at = 0;
  for (const member of cmd.members) {
    const end = at + member.mutation_count;
    if (!(end <= cmd.mutations.length)) assert.fail("batch members cover more than the mutations");
    const request: RecordMember = {
      id: member.id,
      first_key: cmd.mutations[at]?.key ?? EMPTY,
      digest: mutationsDigest(cmd.mutations, at, end),
    };
    const bucket = bucketOf(member.issued_at_ms);
    if (!dedup.applied(bucket, request)) {
      for (let i = at; i < end; i++) addMutation(peer, cmd.mutations[i], dedup.batch, values);
      const members = recorded.get(bucket);
      if (members === undefined) recorded.set(bucket, [request]);
      else members.push(request);
    }
    at = end;
  }
  assert.equal(at, cmd.mutations.length, "batch members cover fewer than the mutations");
  for (const [bucket, members] of recorded) dedup.record(bucket, members, index);
  return {};
}

function preconditionHolds(host: ApplyHost, p: kvrpcpb.Precondition): boolean {
  const cf = dataCf(p.cf);
  if (cf === null) assert.fail(`precondition on unknown cf ${p.cf}`);
  const stored = host.engines.kv.get(cf, p.key);
  switch (p.kind) {
    case PreconditionKind.NotExists:
      return stored === undefined;
    case PreconditionKind.Exists:
      return stored !== undefined;
    default:
      return stored !== undefined && compareBytes(decodeTaggedValue(stored).value, p.value) === 0;
  }
}

function addMutation(
  peer: Peer,
  m: kvrpcpb.Mutation,
  batch: WriteBatch,
  values: TaggedValues,
): void {
  const cf = dataCf(m.cf);
  if (cf === null) assert.fail(`mutation on unknown cf ${m.cf}`);
  if (m.op === MutationOp.Put) batch.put(cf, m.key, values.add(m.type, m.value));
  else if (m.op === MutationOp.Delete) batch.delete(cf, m.key);
  else {
    // Never past the region's end, whatever the client sent.
    const region_end = peer.region.end_key;
    let end = m.end_key;
    if (region_end.length > 0 && (end.length === 0 || compareBytes(end, region_end) > 0)) {
      end = region_end;
    }
    batch.deleteRange(cf, m.key, end); // an empty end is the end of the cf
  }
}

const EMPTY = new Uint8Array(0);

type Applied = [WorkerResponse, (() => void) | null];

function applyAdmin(
  host: ApplyHost,
  peer: Peer,
  cmd: raft_cmdpb.RaftCmdRequest,
  batch: WriteBatch,
): Applied {
  const admin = cmd.admin_request!;
  if (admin.compact_log) return applyCompactLog(host, peer, admin.compact_log);
  if (admin.split) {
    const epoch_error = checkVersion(peer, cmd.header);
    if (epoch_error) return [{ region_error: epoch_error }, null];
    return applySplit(host, peer, admin.split, batch);
  }
  return [{ error: `unsupported admin command ${admin.cmd_type}` }, null];
}

function applyCompactLog(host: ApplyHost, peer: Peer, req: raft_cmdpb.CompactLogRequest): Applied {
  const truncated = peer.apply_state.truncated_state ?? { index: 0, term: 0 };
  if (req.compact_index <= truncated.index || req.compact_index > peer.applied_index) {
    return [{}, null];
  }
  peer.apply_state = {
    ...peer.apply_state,
    truncated_state: { index: req.compact_index, term: req.compact_term },
  };
  const compact = () => {
    // Entries leave the log only once what they produced is durable in KV.
    host.engines.kv.sync();
    host.engines.raft.compact(peer.region_id, req.compact_index, req.compact_term);
  };
  return [{}, compact];
}

function applySplit(
  host: ApplyHost,
  peer: Peer,
  req: raft_cmdpb.SplitRequest,
  batch: WriteBatch,
): Applied {
  const region = peer.region;
  const key = req.split_key;
  const inside = compareBytes(key, region.start_key) > 0 &&
    (region.end_key.length === 0 || compareBytes(key, region.end_key) < 0);
  if (!inside) return [{ region_error: keyNotInRegion(key, region) }, null];
  if (req.new_peer_ids.length !== region.peers.length) {
    return [{
      error: `split needs ${region.peers.length} new peer ids, got ${req.new_peer_ids.length}`,
    }, null];
  }
  const version = region.region_epoch!.version + 1;
  const epoch = { conf_ver: region.region_epoch!.conf_ver, version };
  const right: metapb.Region = {
    id: req.new_region_id,
    start_key: key,
    end_key: region.end_key,
    region_epoch: epoch,
    peers: region.peers.map((p, i) => ({ ...p, id: req.new_peer_ids[i] })),
  };
  const left: metapb.Region = { ...region, end_key: key, region_epoch: { ...epoch } };
  peer.region = left;
  peer.invalidateSnapshotCache();
  batch.put("raft", regionStateKey(left.id), encodeRegionState({ state: 0, region: left }));
  batch.put("raft", regionStateKey(right.id), encodeRegionState({ state: 0, region: right }));
  // Each half gets a record of every request of its keys (the parent's
  // records are keyed by first key; a merged batch's other keys are copied)
  // and must refuse what the parent would refuse.
  const floor = readFloor(host.engines.kv, peer.region_id);
  copyAcrossSplit(host.engines.kv, batch, region, key, floor, host.applied_ids ?? null);
  batch.put("raft", dedupFloorKey(right.id), encodeFloor(floor));
  const init = { index: RAFT_INIT_LOG_INDEX, term: RAFT_INIT_LOG_TERM };
  batch.put(
    "raft",
    applyStateKey(right.id),
    encodeApplyState({ applied_index: RAFT_INIT_LOG_INDEX, truncated_state: init }),
  );
  const after = () => {
    host.regionChanged(peer);
    host.createSplitPeer(right, peer);
  };
  return [{ regions: [left, right] }, after];
}

function applyConfChange(host: ApplyHost, peer: Peer, entry: Entry, batch: WriteBatch): Applied {
  const cc = decodeConfChange(entry.data);
  const conf_state = peer.node.applyConfChange(cc);
  const cmd = cc.context.length > 0 ? decodeCmd(cc.context) : null;
  const target = cmd?.admin_request?.change_peer?.peer ?? null;
  const region = peer.region;
  let peers = region.peers.filter((p) => p.id !== cc.node_id);
  if (cc.change_type !== ConfChangeType.RemoveNode) {
    assert(target !== null && target.id === cc.node_id, "conf change without its peer");
    const role = cc.change_type === ConfChangeType.AddLearnerNode ? 1 : 0;
    peers = [...peers, { ...target, role }];
    peer.known_peers.set(target.id, { ...target, role });
  }
  const epoch = { ...region.region_epoch!, conf_ver: region.region_epoch!.conf_ver + 1 };
  peer.region = { ...region, peers, region_epoch: epoch };
  peer.invalidateSnapshotCache();
  batch.put(
    "raft",
    regionStateKey(region.id),
    encodeRegionState({ state: 0, region: peer.region }),
  );
  const removed_self = cc.change_type === ConfChangeType.RemoveNode && cc.node_id === peer.peer_id;
  const after = () => {
    host.engines.raft.setConfState(peer.region_id, conf_state);
    if (removed_self) host.destroyPeer(peer);
    else host.regionChanged(peer);
  };
  return [{ regions: [peer.region] }, after];
}
