/**
 * A client of the E-META service for stores, ctl and tests: finds the meta
 * leader (GetMembers), fills in the RequestHeader's `cluster_id` once learned,
 * retries on an unreachable node or a leader change with backoff bounded by a
 * deadline, and turns ResponseHeader errors into `MetaCallError`.
 * @module
 */
import type * as metapb from "@eraft/proto/gen/metapb.ts";
import type * as mpb from "@eraft/proto/gen/metaservicepb.ts";
import { ErrorType } from "@eraft/proto/gen/metaservicepb.ts";
import { ClientPool, RpcError } from "@eraft/shared/grpc";

/** A meta call answered with a typed error. */
export class MetaCallError extends Error {
  constructor(readonly type: ErrorType, readonly detail: string, readonly method: string) {
    super(`${method}: ${typeName(type)}: ${detail}`);
    this.name = "MetaCallError";
  }
}

/** The name of an ErrorType value. */
export function typeName(type: number): string {
  return Object.entries(ErrorType).find(([, v]) => v === type)?.[0] ?? String(type);
}

/** Settings of a MetaClient. */
export interface MetaClientOptions {
  /** Give up on one call after this long, retries included. */
  call_timeout_ms?: number;
  /** Deadline of one attempt. */
  attempt_timeout_ms?: number;
}

/** Errors from a node that is not (or no longer) the leader, or not ready: retry elsewhere. */
const RETRYABLE = /not the meta leader|meta region|leadership changed|forward|starting|allocator/;

interface WithHeader {
  header?: mpb.ResponseHeader | null;
}

/** See the module comment. */
export class MetaClient {
  readonly #pool = new ClientPool("metaservicepb.Meta");
  readonly #addrs: string[];
  #leader: string | null = null;
  #next = 0;
  #closed = false;
  /** Learned from the first answer; 0 until then. */
  cluster_id = 0;
  readonly #call_timeout_ms: number;
  readonly #attempt_timeout_ms: number;

  constructor(addrs: string[], opts: MetaClientOptions = {}) {
    if (addrs.length === 0) throw new Error("no meta address");
    this.#addrs = [...addrs];
    this.#call_timeout_ms = opts.call_timeout_ms ?? 15_000;
    this.#attempt_timeout_ms = opts.attempt_timeout_ms ?? 3_000;
  }

  /** The address calls currently go to. */
  get leader(): string | null {
    return this.#leader;
  }

  /** One call with retries; resolves with the response or rejects with MetaCallError/Error. */
  async call<Res extends WithHeader>(method: string, req: object = {}): Promise<Res> {
    const deadline = Date.now() + this.#call_timeout_ms;
    let backoff_ms = 50;
    let last: unknown = null;
    for (let attempt = 0; !this.#closed; attempt++) {
      const addr = this.#leader ?? this.#addrs[this.#next++ % this.#addrs.length];
      try {
        const res = await this.#pool.get(addr).unary<Res>(
          method,
          { ...req, header: { cluster_id: this.cluster_id } },
          Math.min(this.#attempt_timeout_ms, Math.max(1, deadline - Date.now())),
        );
        const err = res.header?.error;
        if (err && err.type !== ErrorType.OK) {
          if (err.type !== ErrorType.UNKNOWN || !RETRYABLE.test(err.message)) {
            throw new MetaCallError(err.type, err.message, method);
          }
          last = new MetaCallError(err.type, err.message, method);
          this.#leader = null;
          await this.#findLeader();
        } else {
          if (this.cluster_id === 0 && res.header?.cluster_id) {
            this.cluster_id = res.header.cluster_id;
          }
          this.#leader = addr;
          return res;
        }
      } catch (err) {
        if (err instanceof MetaCallError) throw err;
        if (!(err instanceof RpcError) || !err.retryable) throw err;
        last = err;
        this.#leader = null;
      }
      if (Date.now() + backoff_ms > deadline) break;
      await new Promise((r) => setTimeout(r, backoff_ms));
      backoff_ms = Math.min(1000, backoff_ms * 2);
    }
    throw last instanceof Error ? last : new Error(`${method}: meta unreachable`);
  }

  /** Asks the nodes who leads; remembers the leader's address. */
  async #findLeader(): Promise<void> {
    for (const addr of this.#addrs) {
      try {
        const res = await this.#pool.get(addr).unary<mpb.GetMembersResponse>(
          "GetMembers",
          { header: { cluster_id: this.cluster_id } },
          1000,
        );
        const url = res.leader?.peer_urls?.[0];
        if (url) {
          this.#leader = url;
          return;
        }
      } catch {
        // Try the next node.
      }
    }
  }

  /** GetMembers on any node (no retry through the leader). */
  members(): Promise<mpb.GetMembersResponse> {
    return this.call<mpb.GetMembersResponse>("GetMembers");
  }

  /** A fresh cluster-wide id. */
  async allocId(): Promise<number> {
    return (await this.call<mpb.AllocIDResponse>("AllocID")).id;
  }

  /** Whether the cluster has its first region. */
  async isBootstrapped(): Promise<boolean> {
    return (await this.call<mpb.IsBootstrappedResponse>("IsBootstrapped")).bootstrapped;
  }

  /** Registers or updates a store. */
  async putStore(store: metapb.Store): Promise<void> {
    await this.call("PutStore", { store });
  }

  /** The region holding `key`, with its leader and followers. */
  getRegion(key: Uint8Array): Promise<mpb.GetRegionResponse> {
    return this.call<mpb.GetRegionResponse>("GetRegion", { region_key: key });
  }

  /** The region with this id. */
  getRegionById(region_id: number): Promise<mpb.GetRegionResponse> {
    return this.call<mpb.GetRegionResponse>("GetRegionByID", { region_id });
  }

  /** Every store, optionally without Tombstones. */
  async getAllStores(exclude_tombstone_stores = false): Promise<metapb.Store[]> {
    return (await this.call<mpb.GetAllStoresResponse>("GetAllStores", {
      exclude_tombstone_stores,
    })).stores ?? [];
  }

  /** Regions from `start` (all of them by default). */
  async scanRegions(
    start: Uint8Array = new Uint8Array(0),
    end: Uint8Array = new Uint8Array(0),
    limit = 0,
  ): Promise<mpb.RegionWithLeader[]> {
    return (await this.call<mpb.ScanRegionsResponse>("ScanRegions", {
      start_key: start,
      end_key: end,
      limit,
    })).regions ?? [];
  }

  /** Closes every channel; calls in progress stop retrying. */
  close(): void {
    this.#closed = true;
    this.#pool.close();
  }
}
