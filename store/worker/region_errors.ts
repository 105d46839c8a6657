/**
 * Builders of the region errors (errorpb) a worker answers with, shaped as
 * TiKV clients expect them: each carries what the client needs to retry
 * correctly (the leader to go to, the regions that now cover the range).
 * @module
 */
import type * as errorpb from "@eraft/proto/gen/errorpb.ts";
import type * as metapb from "@eraft/proto/gen/metapb.ts";
import { formatKey } from "@eraft/shared/bytes";

export function notLeader(region_id: number, leader: metapb.Peer | null): errorpb.Error {
  const where = leader ? `peer ${leader.id} on store ${leader.store_id}` : "unknown";
  return {
    message: `not leader of region ${region_id}; leader is ${where}`,
    not_leader: { region_id, leader },
  };
}

export function regionNotFound(region_id: number): errorpb.Error {
  return { message: `region ${region_id} is not on this store`, region_not_found: { region_id } };
}

export function keyNotInRegion(key: Uint8Array, region: metapb.Region): errorpb.Error {
  return {
    message: `key ${formatKey(key)} is not in region ${region.id}`,
    key_not_in_region: {
      key,
      region_id: region.id,
      start_key: region.start_key,
      end_key: region.end_key,
    },
  };
}

export function epochNotMatch(message: string, current: metapb.Region[]): errorpb.Error {
  return { message, epoch_not_match: { current_regions: current } };
}

export function serverIsBusy(reason: string, backoff_ms: number): errorpb.Error {
  return { message: `server is busy: ${reason}`, server_is_busy: { reason, backoff_ms } };
}

export function staleCommand(region_id: number): errorpb.Error {
  return {
    message: `stale command in region ${region_id}: superseded by a new leader`,
    stale_command: {},
  };
}

export function storeNotMatch(request_store_id: number, actual_store_id: number): errorpb.Error {
  return {
    message: `request for store ${request_store_id} reached store ${actual_store_id}`,
    store_not_match: { request_store_id, actual_store_id },
  };
}

export function entryTooLarge(region_id: number, entry_size: number): errorpb.Error {
  return {
    message: `raft entry of ${entry_size} bytes is too large for region ${region_id}`,
    raft_entry_too_large: { region_id, entry_size },
  };
}
