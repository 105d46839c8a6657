/**
 * The store's client API as plain async functions: each checks its arguments,
 * maps the request onto a `WorkerRequest` for its region and shapes the
 * worker's answer into the response message. Used by the unary gRPC handlers
 * and by `BatchCommands` alike.
 *
 * Region checks (leader, epoch, key range) are the worker's: it is the
 * authority. The main thread only answers RegionNotFound for regions it does
 * not host and ServerIsBusy when it cannot queue the request.
 * @module
 */
import type * as errorpb from "@eraft/proto/gen/errorpb.ts";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import type * as metapb from "@eraft/proto/gen/metapb.ts";
import type * as raft_cmdpb from "@eraft/proto/gen/raft_cmdpb.ts";
import type * as storepb from "@eraft/proto/gen/storepb.ts";
import type { WorkerRequest, WorkerResponse } from "../protocol.ts";
import { ByteArena, EMPTY_BYTES } from "@eraft/shared/bytes";
import { copyBytes, toPlain } from "./plain.ts";
import { encodedBatchGetResponse, encodedScanResponse } from "../kv_pairs_wire.ts";
import { regionNotFound } from "./region_errors.ts";
import {
  checkBatchSize,
  checkBound,
  checkCf,
  checkDedup,
  checkKey,
  checkMembers,
  checkMutation,
  checkPrecondition,
  checkScanLimit,
  checkValue,
  InvalidArgument,
} from "./validate.ts";

/** Routes a request to the worker of its region (the Supervisor). */
export interface RequestRouter {
  request(
    region_id: number,
    context: kvrpcpb.Context | null,
    req: WorkerRequest,
  ): Promise<WorkerResponse>;
  /**
   * The frame address of the worker hosting the region when that worker
   * serves frames itself (clients may go there directly), else null.
   */
  workerFrameAddr?(region_id: number): string | null;
}

interface Outcome {
  region_error?: errorpb.Error | null;
  error: string;
}

/** The Store service's operations, independent of gRPC. */
export class KvApi {
  /**
   * `same_thread`: the router serves requests on this thread (a worker's own
   * frame listener), so nothing is posted and the byte arrays of a decoded
   * request (views into its frame, which the frame reader never writes over)
   * are used as they are; otherwise they are copied into one arena, so a post
   * clones only their bytes and not the whole frame.
   */
  constructor(readonly router: RequestRouter, readonly same_thread = false) {}

  /** Validates, dispatches, and shapes one request. Never rejects on bad input. */
  async #run<R extends Outcome>(
    context: kvrpcpb.Context | null | undefined,
    build: () => WorkerRequest,
    shape: (res: WorkerResponse) => Omit<R, keyof Outcome>,
    empty: Omit<R, keyof Outcome>,
  ): Promise<R> {
    let req: WorkerRequest;
    try {
      req = build();
    } catch (err) {
      if (!(err instanceof InvalidArgument)) throw err;
      return { ...empty, region_error: null, error: err.message } as R;
    }
    const ctx = plainContext(context);
    const region_id = ctx?.region_id ?? 0;
    const res = region_id === 0
      ? { region_error: regionNotFound(0) }
      : await this.router.request(region_id, ctx, req);
    if (res.region_error) return { ...empty, region_error: res.region_error, error: "" } as R;
    if (res.error) return { ...empty, region_error: null, error: res.error } as R;
    // Assigned, not spread: a shaped response may read its fields lazily.
    return Object.assign(shape(res), { region_error: null, error: "" }) as R;
  }

  /** RawGet: linearizable read of one key. */
  rawGet(r: kvrpcpb.RawGetRequest): Promise<kvrpcpb.RawGetResponse> {
    return this.#run<kvrpcpb.RawGetResponse>(
      r.context,
      () => ({ op: "get", cf: checkCf(r.cf), key: copyBytes(checkKey(r.key)) }),
      (res) => ({
        value: res.value ?? EMPTY_BYTES,
        not_found: res.not_found ?? false,
        type: res.type ?? 0,
      }),
      { value: EMPTY_BYTES, not_found: false, type: 0 },
    );
  }

  /** RawPut: one Put mutation; `id` deduplicates retries, `type` is stored with the value. */
  rawPut(r: kvrpcpb.RawPutRequest): Promise<kvrpcpb.RawPutResponse> {
    return this.#run<kvrpcpb.RawPutResponse>(
      r.context,
      () => {
        const key = checkKey(r.key);
        const value = checkValue(r.value);
        const arena = ByteArena.for([key, value]);
        return {
          op: "write",
          mutations: [{
            op: 0,
            cf: checkCf(r.cf),
            key: arena.copy(key),
            value: arena.copy(value),
            type: r.type ?? 0,
            end_key: EMPTY_BYTES,
          }],
          preconditions: [],
          ...checkDedup(r.id, r.issued_at_ms),
        };
      },
      () => ({}),
      {},
    );
  }

  /** RawDelete: one Delete mutation. */
  rawDelete(r: kvrpcpb.RawDeleteRequest): Promise<kvrpcpb.RawDeleteResponse> {
    return this.#run<kvrpcpb.RawDeleteResponse>(
      r.context,
      () => ({
        op: "write",
        mutations: [{
          op: 1,
          cf: checkCf(r.cf),
          key: copyBytes(checkKey(r.key)),
          value: EMPTY_BYTES,
          type: 0,
          end_key: EMPTY_BYTES,
        }],
        preconditions: [],
        ...checkDedup(r.id, r.issued_at_ms),
      }),
      () => ({}),
      {},
    );
  }

  /** RawScan: up to `limit` pairs from start_key, never past the region's end. */
  rawScan(r: kvrpcpb.RawScanRequest): Promise<kvrpcpb.RawScanResponse> {
    return this.#run<kvrpcpb.RawScanResponse>(
      r.context,
      () => {
        const start = checkBound(r.start_key, "start_key");
        const end = checkBound(r.end_key, "end_key");
        const arena = ByteArena.for([start, end]);
        return {
          op: "scan",
          cf: checkCf(r.cf),
          start_key: arena.copy(start),
          end_key: arena.copy(end),
          limit: checkScanLimit(r.limit),
          reverse: r.reverse ?? false,
          key_only: r.key_only ?? false,
        };
      },
      (res) => encodedScanResponse(res.pairs ?? EMPTY_BYTES),
      { kvs: [] },
    );
  }

  /** RawBatch: atomic mutations with preconditions checked at apply time. */
  rawBatch(r: kvrpcpb.RawBatchRequest): Promise<kvrpcpb.RawBatchResponse> {
    return this.#run<kvrpcpb.RawBatchResponse>(r.context, () => {
      const mutations = (r.mutations ?? []).map(checkMutation);
      const preconditions = (r.preconditions ?? []).map(checkPrecondition);
      if (mutations.length === 0) throw new InvalidArgument("batch has no mutations");
      const members = checkMembers(r, mutations.length, preconditions.length);
      let bytes = 0;
      for (const m of mutations) bytes += m.key.length + m.value.length + m.end_key.length;
      checkBatchSize(mutations.length + preconditions.length, bytes);
      const dedup = checkDedup(r.id, r.issued_at_ms);
      if (this.same_thread) return { op: "write", mutations, preconditions, ...dedup, members };
      let precondition_bytes = 0;
      for (const p of preconditions) precondition_bytes += p.key.length + p.value.length;
      // check* built plain objects with every field; only the byte arrays
      // must become copies, all in one buffer (see ByteArena).
      const arena = new ByteArena(bytes + precondition_bytes);
      return {
        op: "write",
        mutations: mutations.map((m) => ({
          ...m,
          key: arena.copy(m.key),
          value: arena.copy(m.value),
          end_key: arena.copy(m.end_key),
        })),
        preconditions: preconditions.map((p) => ({
          ...p,
          key: arena.copy(p.key),
          value: arena.copy(p.value),
        })),
        ...dedup,
        members,
      };
    }, (res) => ({
      precondition_failed: res.precondition_failed ?? false,
      failed_index: res.failed_index ?? 0,
    }), { precondition_failed: false, failed_index: 0 });
  }

  /** RawBatchGet: linearizable read of many keys of one region. */
  rawBatchGet(r: kvrpcpb.RawBatchGetRequest): Promise<kvrpcpb.RawBatchGetResponse> {
    return this.#run<kvrpcpb.RawBatchGetResponse>(
      r.context,
      () => {
        const keys = (r.keys ?? []).map((k, i) => checkKey(k, `key ${i}`));
        if (keys.length === 0) throw new InvalidArgument("no keys given");
        checkBatchSize(keys.length, 0);
        const arena = ByteArena.for(keys);
        return { op: "batch_get", cf: checkCf(r.cf), keys: keys.map((k) => arena.copy(k)) };
      },
      (res) => encodedBatchGetResponse(res.pairs ?? EMPTY_BYTES),
      { pairs: [] },
    );
  }

  /** TransferLeader: moves the region's leadership to `peer`. */
  transferLeader(r: raft_cmdpb.TransferLeaderRequest): Promise<raft_cmdpb.TransferLeaderResponse> {
    return this.#run<raft_cmdpb.TransferLeaderResponse>(
      r.context,
      () => ({ op: "transfer_leader", peer: checkPeer(r.peer, false) }),
      () => ({}),
      {},
    );
  }

  /** PeerConfChange: adds or removes one peer; answers with the region after the change. */
  peerConfChange(r: raft_cmdpb.ChangePeerRequest): Promise<raft_cmdpb.ChangePeerResponse> {
    return this.#run<raft_cmdpb.ChangePeerResponse>(
      r.context,
      () => {
        const change_type = r.change_type ?? 0;
        if (change_type !== 0 && change_type !== 1 && change_type !== 2) {
          throw new InvalidArgument(`unknown change_type ${change_type}`);
        }
        return { op: "change_peer", change_type, peer: checkPeer(r.peer, true) };
      },
      (res) => ({ region: res.regions?.[0] ?? null }),
      { region: null },
    );
  }

  /** SplitRegion: splits at split_key; the right half gets the given ids. */
  splitRegion(r: storepb.SplitRegionRequest): Promise<storepb.SplitRegionResponse> {
    return this.#run<storepb.SplitRegionResponse>(
      r.context,
      () => {
        const split = r.split;
        if (!split) throw new InvalidArgument("split is missing");
        const new_peer_ids = [...(split.new_peer_ids ?? [])];
        if (!(split.new_region_id > 0)) throw new InvalidArgument("new_region_id must be > 0");
        if (new_peer_ids.length === 0 || new_peer_ids.some((id) => !(id > 0))) {
          throw new InvalidArgument("new_peer_ids must be non-zero, one per peer");
        }
        return {
          op: "split",
          split_key: copyBytes(checkKey(split.split_key, "split_key")),
          new_region_id: split.new_region_id,
          new_peer_ids,
        };
      },
      (res) => ({ regions: res.regions ?? [] }),
      { regions: [] },
    );
  }
}

/**
 * The context as a plain object with every field, for posting to a worker:
 * frames decode requests as views whose defaults live on the prototype,
 * which structured clone drops.
 */
export function plainContext(c: kvrpcpb.Context | null | undefined): kvrpcpb.Context | null {
  if (!c) return null;
  const epoch = c.region_epoch;
  const peer = c.peer;
  return {
    region_id: c.region_id ?? 0,
    region_epoch: epoch ? { conf_ver: epoch.conf_ver ?? 0, version: epoch.version ?? 0 } : null,
    peer: peer
      ? {
        id: peer.id ?? 0,
        store_id: peer.store_id ?? 0,
        addr: peer.addr ?? "",
        role: peer.role ?? 0,
      }
      : null,
    term: c.term ?? 0,
  };
}

function checkPeer(peer: metapb.Peer | null | undefined, need_store: boolean): metapb.Peer {
  if (!peer || !(peer.id > 0)) throw new InvalidArgument("peer must have a non-zero id");
  if (need_store && !(peer.store_id > 0)) {
    throw new InvalidArgument("peer must have a non-zero store_id");
  }
  return toPlain<metapb.Peer>("metapb.Peer", peer);
}
