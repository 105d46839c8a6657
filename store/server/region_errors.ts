/**
 * Region errors the main thread answers itself (the worker answers the rest).
 * Each is one a TiKV client retries: RegionNotFound makes it reload the region
 * from meta; ServerIsBusy makes it back off and retry the same store.
 * @module
 */
import type * as errorpb from "@eraft/proto/gen/errorpb.ts";

/** How long a client should wait before retrying a busy store. */
export const BUSY_BACKOFF_MS = 50;

/** The store hosts no replica of `region_id`. */
export function regionNotFound(region_id: number): errorpb.Error {
  return {
    message: `region ${region_id} is not found on this store`,
    region_not_found: { region_id },
  };
}

/** The store cannot take the request now (queue full, worker restarting, timed out). */
export function serverIsBusy(reason: string, backoff_ms = BUSY_BACKOFF_MS): errorpb.Error {
  return { message: `server is busy: ${reason}`, server_is_busy: { reason, backoff_ms } };
}

/** The name of the region error's detail, for logs and tests (`not_leader`, ...). */
export function regionErrorKind(err: errorpb.Error | null | undefined): string | undefined {
  if (!err) return undefined;
  for (
    const kind of [
      "not_leader",
      "region_not_found",
      "key_not_in_region",
      "epoch_not_match",
      "server_is_busy",
      "stale_command",
      "store_not_match",
      "raft_entry_too_large",
    ] as const
  ) {
    if (err[kind]) return kind;
  }
  return "unknown";
}
