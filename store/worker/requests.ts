/**
 * Client requests inside a worker: checks against the region (exists, epoch,
 * leader, key range), then a proposal for writes and admin commands, or a
 * ReadIndex round for reads, which are served once apply catches up.
 * @module
 */
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import type * as errorpb from "@eraft/proto/gen/errorpb.ts";
import type * as raft_cmdpb from "@eraft/proto/gen/raft_cmdpb.ts";
import { ConfChangeType } from "@eraft/proto/gen/eraftpb.ts";
import { compareBytes, EMPTY_BYTES } from "@eraft/shared/bytes";
import type { WorkerEngines } from "../engine/engines.ts";
import type { WorkerRequest, WorkerResponse } from "../protocol.ts";
import { encodeKvPairs, type FoundPair } from "../kv_pairs_wire.ts";
import { dataCf, decodeTaggedValue, encodeCmd } from "./codec.ts";
import type { Peer } from "./peer.ts";
import {
  entryTooLarge,
  epochNotMatch,
  keyNotInRegion,
  notLeader,
  serverIsBusy,
  storeNotMatch,
} from "./region_errors.ts";

/** Largest command a proposal may carry (one Raft entry). */
export const MAX_ENTRY_BYTES = 16 * 1024 * 1024;

function keysOf(req: WorkerRequest): Uint8Array[] {
  switch (req.op) {
    case "get":
      return [req.key];
    case "batch_get":
      return req.keys;
    case "scan":
      return [req.start_key];
    case "write":
      return [...req.mutations.map((m) => m.key), ...req.preconditions.map((p) => p.key)];
    case "split":
      return [req.split_key];
    default:
      return [];
  }
}

/** The region error a request gets before it reaches Raft, or null when it may proceed. */
export function checkRequest(
  peer: Peer,
  store_id: number,
  context: kvrpcpb.Context | null,
  req: WorkerRequest,
): errorpb.Error | null {
  if (context?.peer && context.peer.store_id !== 0 && context.peer.store_id !== store_id) {
    return storeNotMatch(context.peer.store_id, store_id);
  }
  const current = peer.region.region_epoch!;
  const epoch = context?.region_epoch;
  // A split names a new peer id per current peer, so a request built for
  // other peers (a caller behind a conf change) is stale as a whole (TiKV
  // checks conf_ver for splits too).
  const conf_matters = req.op === "change_peer" || req.op === "transfer_leader" ||
    req.op === "split";
  if (
    epoch && (epoch.version !== 0 || epoch.conf_ver !== 0) &&
    (epoch.version !== current.version || (conf_matters && epoch.conf_ver !== current.conf_ver))
  ) {
    return epochNotMatch(
      `region ${peer.region_id} is at epoch (conf_ver ${current.conf_ver}, version ${current.version}), ` +
        `request has (${epoch.conf_ver}, ${epoch.version})`,
      [peer.region],
    );
  }
  if (!peer.is_leader) return notLeader(peer.region_id, peer.leaderPeer());
  for (const key of keysOf(req)) {
    if (!peer.containsKey(key)) return keyNotInRegion(key, peer.region);
  }
  return null;
}

/** Proposes a write or admin request; answers at once when it cannot be proposed. */
export function proposeRequest(
  peer: Peer,
  id: number,
  context: kvrpcpb.Context | null,
  req: WorkerRequest,
): WorkerResponse | null {
  const header: raft_cmdpb.RaftRequestHeader = {
    region_id: peer.region_id,
    peer: peer.self,
    region_epoch: context?.region_epoch ?? peer.region.region_epoch,
    term: peer.term,
    request_id: req.op === "write" ? req.request_id : 0,
    issued_at_ms: req.op === "write" ? req.issued_at_ms : 0,
    // Apply collects deduplication records by this clock (dedup.ts).
    proposed_at_ms: Date.now(),
  };
  if (req.op === "transfer_leader") {
    if (!peer.known_peers.has(req.peer.id)) {
      return { error: `peer ${req.peer.id} is not in region ${peer.region_id}` };
    }
    peer.node.transferLeader(req.peer.id);
    return {};
  }
  let data: Uint8Array;
  if (req.op === "write") {
    data = encodeCmd({
      header,
      mutations: req.mutations,
      preconditions: req.preconditions,
      members: req.members ?? [],
    });
  } else if (req.op === "split") {
    data = encodeCmd({
      header,
      admin_request: {
        cmd_type: 10,
        split: {
          split_key: req.split_key,
          new_region_id: req.new_region_id,
          new_peer_ids: req.new_peer_ids,
        },
      },
    });
  } else if (req.op === "change_peer") return proposeConfChange(peer, id, header, req);
  else return { error: `operation ${req.op} is not a proposal` };
  if (data.length > MAX_ENTRY_BYTES) {
    return { region_error: entryTooLarge(peer.region_id, data.length) };
  }
  return track(peer, id, peer.node.propose(data));
}

function proposeConfChange(
  peer: Peer,
  id: number,
  header: raft_cmdpb.RaftRequestHeader,
  req: Extract<WorkerRequest, { op: "change_peer" }>,
): WorkerResponse | null {
  const exists = peer.region.peers.some((p) => p.id === req.peer.id);
  const removing = req.change_type === ConfChangeType.RemoveNode;
  if (removing && !exists) {
    return { error: `peer ${req.peer.id} is not in region ${peer.region_id}` };
  }
  if (!removing && exists) {
    return { error: `peer ${req.peer.id} is already in region ${peer.region_id}` };
  }
  if (!removing && peer.region.peers.some((p) => p.store_id === req.peer.store_id)) {
    return { error: `store ${req.peer.store_id} already has a peer of region ${peer.region_id}` };
  }
  const context = encodeCmd({
    header,
    admin_request: { cmd_type: 1, change_peer: { change_type: req.change_type, peer: req.peer } },
  });
  const result = peer.node.proposeConfChange({
    change_type: req.change_type,
    node_id: req.peer.id,
    context,
  });
  return track(peer, id, result);
}

function track(
  peer: Peer,
  id: number,
  result: ReturnType<Peer["node"]["propose"]>,
): WorkerResponse | null {
  if (result.kind === "appended") {
    peer.proposals.push({ id, index: result.index, term: result.term });
    return null;
  }
  if (result.kind === "dropped") {
    // Raft refuses proposals during a leader transfer or while a conf change is pending.
    return { region_error: serverIsBusy(result.error.reason, 50) };
  }
  return { region_error: notLeader(peer.region_id, peer.leaderPeer()) };
}

/** Serves a read on the region's applied state (its read index was confirmed). */
export function serveRead(engines: WorkerEngines, peer: Peer, req: WorkerRequest): WorkerResponse {
  const kv = engines.kv;
  if (req.op === "get") {
    const stored = kv.get(dataCf(req.cf)!, req.key);
    if (stored === undefined) return { not_found: true };
    const { type, value } = decodeTaggedValue(stored);
    return { value, type, not_found: false };
  }
  if (req.op === "batch_get") {
    const found: FoundPair[] = [];
    for (const key of req.keys) {
      const stored = kv.get(dataCf(req.cf)!, key);
      if (stored === undefined) continue;
      const { type, value } = decodeTaggedValue(stored);
      found.push({ key, value, type });
    }
    return { pairs: encodeKvPairs(found) };
  }
  if (req.op === "scan") return { pairs: encodeKvPairs(scanRegion(engines, peer, req)) };
  return { error: `operation ${req.op} is not a read` };
}

function scanRegion(
  engines: WorkerEngines,
  peer: Peer,
  req: Extract<WorkerRequest, { op: "scan" }>,
): FoundPair[] {
  const region_end = peer.region.end_key;
  let end = req.end_key;
  if (region_end.length > 0 && (end.length === 0 || compareBytes(end, region_end) > 0)) {
    end = region_end;
  }
  const cf = dataCf(req.cf)!;
  if (req.key_only) {
    // Keys come from the index alone: no value (nor its type tag) is read from disk.
    return engines.kv.scanKeys(cf, req.start_key, end, req.limit, req.reverse)
      .map((key) => ({ key, value: EMPTY_BYTES, type: 0 }));
  }
  const pairs = engines.kv.scan(cf, req.start_key, end, req.limit, req.reverse);
  return pairs.map(([key, stored]) => {
    const { type, value } = decodeTaggedValue(stored);
    return { key, value, type };
  });
}

/** True for requests served by ReadIndex rather than by a proposal. */
export function isRead(req: WorkerRequest): boolean {
  return req.op === "get" || req.op === "batch_get" || req.op === "scan";
}
