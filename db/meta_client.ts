/**
 * E-DB's client of the meta service: region lookups (GetRegion, ScanRegions)
 * and store addresses (GetStore). Given several meta addresses it sticks to
 * one that answers; when that one fails it asks the others for the leader
 * (GetMembers) and follows it, else tries the next address.
 * @module
 */
import { ClientPool, RpcError } from "@eraft/shared/grpc";
import type { Peer, Region, Store } from "@eraft/proto/gen/metapb.ts";
import type * as metaservicepb from "@eraft/proto/gen/metaservicepb.ts";

/** A meta answer with an error header (not a transport failure). */
export class MetaError extends Error {
  constructor(readonly type: number, message: string) {
    super(message);
    this.name = "MetaError";
  }
}

/** A region with the leader meta knows of (may be null). */
export interface RegionInfo {
  region: Region;
  leader: Peer | null;
}

/** Options of {@link MetaClient}. */
export interface MetaClientOptions {
  /** Per-RPC deadline. */
  rpc_deadline_ms?: number;
}

interface HasHeader {
  header?: metaservicepb.ResponseHeader | null;
}

/** Strips a URL scheme and path from a member address (`http://h:p/` → `h:p`). */
export function memberAddr(url: string): string {
  return url.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "");
}

/** A meta client over one or more meta addresses. */
export class MetaClient {
  readonly #pool = new ClientPool("metaservicepb.Meta");
  #addrs: string[];
  #current = 0;
  readonly #rpc_deadline_ms: number;

  constructor(addrs: string[], opts: MetaClientOptions = {}) {
    if (addrs.length === 0) throw new Error("at least one meta address is needed");
    this.#addrs = [...addrs];
    this.#rpc_deadline_ms = opts.rpc_deadline_ms ?? 3000;
  }

  /** Every meta address this client knows, in the order given. */
  get addrs(): readonly string[] {
    return this.#addrs;
  }

  /** The address currently used. */
  get current(): string {
    return this.#addrs[this.#current];
  }

  /**
   * One call to the current meta; on a transport failure or an error header
   * other than a definite answer, looks for the leader among the members and
   * tries once more there. Throws RpcError / MetaError when that fails too.
   */
  async #call<Res extends HasHeader>(method: string, req: object): Promise<Res> {
    let last: unknown = null;
    for (let attempt = 0; attempt < this.#addrs.length + 1; attempt++) {
      const addr = this.current;
      try {
        const res = await this.#pool.get(addr).unary<Res>(
          method,
          { header: { cluster_id: 0 }, ...req },
          this.#rpc_deadline_ms,
        );
        const e = res.header?.error;
        if (e && e.type !== 0) {
          const err = new MetaError(e.type, `${method}: ${e.message || `error type ${e.type}`}`);
          // REGION_NOT_FOUND and NOT_BOOTSTRAPPED are answers, not a wrong member.
          if (e.type === 6 || e.type === 2) throw err;
          last = err;
        } else {
          return res;
        }
      } catch (e) {
        if (e instanceof MetaError) throw e;
        if (!(e instanceof RpcError)) throw e;
        last = e;
      }
      await this.#findLeader();
    }
    throw last;
  }

  /** Switches to the leader named by any member, else to the next address. */
  async #findLeader(): Promise<void> {
    for (let i = 0; i < this.#addrs.length; i++) {
      const addr = this.#addrs[(this.#current + i) % this.#addrs.length];
      try {
        const res = await this.#pool.get(addr).unary<metaservicepb.GetMembersResponse>(
          "GetMembers",
          { header: { cluster_id: 0 } },
          this.#rpc_deadline_ms,
        );
        const url = res.leader?.peer_urls?.[0];
        if (url) {
          const leader = memberAddr(url);
          let at = this.#addrs.indexOf(leader);
          if (at < 0) {
            // A member we were not told about: remember it (bounded by the member count).
            this.#addrs.push(leader);
            at = this.#addrs.length - 1;
          }
          if (at !== this.#current) {
            this.#current = at;
            return;
          }
        }
      } catch {
        // That member is down too; ask the next one.
      }
    }
    this.#current = (this.#current + 1) % this.#addrs.length;
  }

  /** The region containing `key` with its leader (GetRegion). */
  async getRegion(key: Uint8Array): Promise<RegionInfo> {
    const res = await this.#call<metaservicepb.GetRegionResponse>("GetRegion", {
      region_key: key,
    });
    if (!res.region || !(res.region.id > 0)) {
      throw new MetaError(6, `GetRegion: no region for the key`);
    }
    return { region: res.region, leader: res.leader?.id ? res.leader : null };
  }

  /** Up to `limit` regions overlapping [start, end) in key order (ScanRegions). */
  async scanRegions(start: Uint8Array, end: Uint8Array, limit: number): Promise<RegionInfo[]> {
    const res = await this.#call<metaservicepb.ScanRegionsResponse>("ScanRegions", {
      start_key: start,
      end_key: end,
      limit,
    });
    return (res.regions ?? []).filter((r) => r.region && r.region.id > 0).map((r) => ({
      region: r.region!,
      leader: r.leader?.id ? r.leader : null,
    }));
  }

  /** A store's record (its client address), GetStore. */
  async getStore(store_id: number): Promise<Store> {
    const res = await this.#call<metaservicepb.GetStoreResponse>("GetStore", { store_id });
    if (!res.store || !res.store.address) {
      throw new MetaError(1, `GetStore: store ${store_id} has no address`);
    }
    return res.store;
  }

  /** Closes every channel. */
  close(): void {
    this.#pool.close();
  }
}
