/**
 * The nemesis's admin operations (what `eraft ctl` split / transfer-leader /
 * add-peer / remove-peer send), over long-lived clients that are only closed
 * once every process is dead: a client that gracefully closes its channel
 * to a store can abort that store under Deno (see the closing note of the
 * reliability issue), which is not what these faults are meant to test.
 * @module
 */
import type * as metapb from "@eraft/proto/gen/metapb.ts";
import type * as mpb from "@eraft/proto/gen/metaservicepb.ts";
import { ClientPool } from "@eraft/shared/grpc";
import type { MetaClient } from "@eraft/store/meta_client";

const RPC_TIMEOUT_MS = 10_000;

type StoreRes = { region_error?: { message: string } | null; error?: string };

/** Admin calls to a cluster's meta and stores. */
export class Admin {
  readonly #stores = new ClientPool("storepb.Store");

  constructor(readonly meta: MetaClient) {}

  async #region(id: number) {
    const r = await this.meta.getRegionById(id);
    const region = r.region!;
    const leader = r.leader ?? region.peers[0];
    const context = { region_id: id, region_epoch: region.region_epoch, peer: leader, term: 0 };
    return { region, leader, context };
  }

  async #storeCall<T extends object = object>(
    addr: string,
    method: string,
    req: object,
  ): Promise<T & StoreRes> {
    const res = await this.#stores.get(addr).unary<T & StoreRes>(method, req, RPC_TIMEOUT_MS);
    if (res.region_error) throw new Error(`region error: ${res.region_error.message}`);
    if (res.error) throw new Error(res.error);
    return res;
  }

  async transferLeader(region_id: number, store_id: number): Promise<void> {
    const { region, leader, context } = await this.#region(region_id);
    const peer = region.peers.find((p) => p.store_id === store_id);
    if (!peer) throw new Error(`region ${region_id} has no peer on store ${store_id}`);
    await this.#storeCall(leader.addr, "TransferLeader", { peer, context });
  }

  async addPeer(region_id: number, store_id: number): Promise<void> {
    const { region, leader, context } = await this.#region(region_id);
    if (region.peers.some((p) => p.store_id === store_id)) {
      throw new Error(`store ${store_id} already has a peer of region ${region_id}`);
    }
    const store = (await this.meta.getAllStores()).find((s) => s.id === store_id);
    if (!store) throw new Error(`no store ${store_id}`);
    const peer = { id: await this.meta.allocId(), store_id, addr: store.address, role: 0 };
    await this.#storeCall(leader.addr, "PeerConfChange", { change_type: 0, peer, context });
  }

  async removePeer(region_id: number, store_id: number): Promise<void> {
    const { region, leader, context } = await this.#region(region_id);
    const peer = region.peers.find((p) => p.store_id === store_id);
    if (!peer) throw new Error(`region ${region_id} has no peer on store ${store_id}`);
    await this.#storeCall(leader.addr, "PeerConfChange", { change_type: 1, peer, context });
  }

  /** Splits the region holding raw `key` at it (meta allocates the ids, learns the result). */
  async split(key: Uint8Array): Promise<void> {
    const { region, leader, context } = await this.#region(
      (await this.meta.getRegion(key)).region!.id,
    );
    const ask = await this.meta.call<mpb.AskSplitResponse>("AskSplit", { region });
    const res = await this.#storeCall<{ regions: metapb.Region[] }>(leader.addr, "SplitRegion", {
      context,
      split: { split_key: key, new_region_id: ask.new_region_id, new_peer_ids: ask.new_peer_ids },
    });
    if (res.regions.length !== 2) {
      throw new Error(`split answered ${res.regions.length} regions, expected 2`);
    }
    await this.meta.call("ReportSplit", { left: res.regions[0], right: res.regions[1] });
  }

  /** Call only once the processes are gone (see the module comment). */
  close(): void {
    this.#stores.close();
  }
}
