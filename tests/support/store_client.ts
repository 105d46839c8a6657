/**
 * A small typed client of `storepb.Store` for tests, behaving like a TiKV
 * client: a region cache (filled from the stores' test control /status, which
 * stands in for meta), NotLeader hints followed, EpochNotMatch regions taken
 * into the cache, every other region error or transport error retried on
 * another peer with bounded exponential backoff, all within a deadline.
 * Invalid-argument `error` strings are thrown at once.
 * @module
 */
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import type * as metapb from "@eraft/proto/gen/metapb.ts";
import type * as raft_cmdpb from "@eraft/proto/gen/raft_cmdpb.ts";
import type * as storepb from "@eraft/proto/gen/storepb.ts";
import type * as errorpb from "@eraft/proto/gen/errorpb.ts";
import { ClientPool, RpcError } from "@eraft/shared/grpc";
import type { Cluster } from "./cluster.ts";

/** A response that may carry a region error and an error string. */
interface Answer {
  region_error?: errorpb.Error | null;
  error: string;
}

/** Per-call deadline and the total time a client call may keep retrying. */
const RPC_DEADLINE_MS = 3000;
const CALL_DEADLINE_MS = 30_000;

function cmp(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function contains(r: metapb.Region, key: Uint8Array): boolean {
  return cmp(key, r.start_key) >= 0 && (r.end_key.length === 0 || cmp(key, r.end_key) < 0);
}

function overlaps(a: metapb.Region, b: metapb.Region): boolean {
  const a_before_b_end = b.end_key.length === 0 || cmp(a.start_key, b.end_key) < 0;
  const b_before_a_end = a.end_key.length === 0 || cmp(b.start_key, a.end_key) < 0;
  return a_before_b_end && b_before_a_end;
}

function newer(a: metapb.Region, b: metapb.Region): boolean {
  const ea = a.region_epoch!, eb = b.region_epoch!;
  return ea.version > eb.version || (ea.version === eb.version && ea.conf_ver > eb.conf_ver);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The test client. */
export class StoreClient {
  readonly #pool = new ClientPool("storepb.Store");
  readonly #regions = new Map<number, metapb.Region>();
  readonly #leader = new Map<number, number>();
  /** Region errors seen, by kind (for assertions that retries happened). */
  readonly seen = new Map<string, number>();

  constructor(readonly cluster: Cluster) {}

  /** Reloads the region cache and leader guesses from every running store. */
  async refresh(): Promise<void> {
    for (const s of this.cluster.stores) {
      const st = await this.cluster.status(s.id, 300);
      for (const r of st?.regions ?? []) {
        this.#learn(r.region);
        if (r.leader_peer_id !== 0 && r.leader_peer_id === r.peer_id) {
          this.#leader.set(r.region.id, s.id);
        }
      }
    }
  }

  /** The cached region containing `key`. */
  locate(key: Uint8Array): metapb.Region | undefined {
    for (const r of this.#regions.values()) if (contains(r, key)) return r;
    return undefined;
  }

  /** The cached region `id`. */
  region(id: number): metapb.Region | undefined {
    return this.#regions.get(id);
  }

  /** Sends to one store directly, no retries (for tests of a single replica). */
  direct<Res>(store_id: number, method: string, req: object): Promise<Res> {
    return this.#pool.get(this.cluster.store(store_id).addr).unary<Res>(
      method,
      req,
      RPC_DEADLINE_MS,
    );
  }

  /** A context for `region` addressed to its peer on `store_id`. */
  context(region: metapb.Region, store_id: number): kvrpcpb.Context {
    const peer = region.peers.find((p) => p.store_id === store_id) ?? null;
    return { region_id: region.id, region_epoch: region.region_epoch, peer, term: 0 };
  }

  /** RawPut; a non-zero `id` deduplicates the retries (they repeat the first attempt's time). */
  async put(key: Uint8Array, value: Uint8Array, id = 0, type = 0): Promise<void> {
    const issued_at_ms = id === 0 ? 0 : Date.now();
    await this.call<kvrpcpb.RawPutResponse>(
      { key },
      "RawPut",
      (context) => ({ context, key, value, id, type, issued_at_ms }),
    );
  }

  get(key: Uint8Array): Promise<kvrpcpb.RawGetResponse> {
    return this.call<kvrpcpb.RawGetResponse>({ key }, "RawGet", (context) => ({ context, key }));
  }

  async delete(key: Uint8Array): Promise<void> {
    await this.call({ key }, "RawDelete", (context) => ({ context, key }));
  }

  async scan(start_key: Uint8Array, limit: number): Promise<kvrpcpb.KvPair[]> {
    const res = await this.call<kvrpcpb.RawScanResponse>(
      { key: start_key },
      "RawScan",
      (context) => ({ context, start_key, limit }),
    );
    return res.kvs;
  }

  async transferLeader(region_id: number, to_store: number): Promise<void> {
    await this.call<raft_cmdpb.TransferLeaderResponse>({ region_id }, "TransferLeader", (ctx) => {
      const peer = this.#regions.get(region_id)!.peers.find((p) => p.store_id === to_store);
      return { context: ctx, peer };
    });
  }

  async changePeer(
    region_id: number,
    change_type: number,
    peer: metapb.Peer,
  ): Promise<metapb.Region> {
    const res = await this.call<raft_cmdpb.ChangePeerResponse>(
      { region_id },
      "PeerConfChange",
      (context) => ({ context, change_type, peer }),
    );
    this.#learn(res.region!);
    return res.region!;
  }

  async split(
    region_id: number,
    split_key: Uint8Array,
    new_region_id: number,
    new_peer_ids: number[],
  ): Promise<metapb.Region[]> {
    // An attempt whose answer was lost (a connection recycled under it) may
    // have split the region: then the retries meet KeyNotInRegion, and the
    // split is done once the cache shows both halves.
    const applied = () => {
      const left = this.#regions.get(region_id);
      const right = this.#regions.get(new_region_id);
      if (!left || !right || cmp(left.end_key, split_key) !== 0) return null;
      if (cmp(right.start_key, split_key) !== 0) return null;
      return {
        regions: [left, right],
        region_error: null,
        error: "",
      } as storepb.SplitRegionResponse;
    };
    const res = await this.call<storepb.SplitRegionResponse>(
      { region_id },
      "SplitRegion",
      (context) => ({ context, split: { split_key, new_region_id, new_peer_ids } }),
      CALL_DEADLINE_MS,
      applied,
    );
    for (const r of res.regions) this.#learn(r);
    return res.regions;
  }

  /**
   * One request to the region of `target` (a key or a region id), retried
   * until it succeeds or CALL_DEADLINE_MS passes. Before each retry,
   * `applied` may answer instead: a non-idempotent request whose effect
   * already shows.
   */
  async call<Res extends Answer>(
    target: { key?: Uint8Array; region_id?: number },
    method: string,
    build: (ctx: kvrpcpb.Context) => object,
    deadline_ms = CALL_DEADLINE_MS,
    applied: () => Res | null = () => null,
  ): Promise<Res> {
    const deadline = Date.now() + deadline_ms;
    let last = "nothing tried";
    for (let attempt = 0;; attempt++) {
      const done = attempt > 0 ? applied() : null;
      if (done !== null) return done;
      if (Date.now() > deadline) {
        throw new Error(`${method}: gave up after ${attempt} tries: ${last}`);
      }
      const region = target.key ? this.locate(target.key) : this.#regions.get(target.region_id!);
      if (region === undefined) {
        last = "region unknown";
        await this.refresh();
        if (attempt > 0) await sleep(Math.min(500, 20 * 2 ** Math.min(attempt, 5)));
        continue;
      }
      const store_id = this.#pickStore(region, attempt);
      let res: Res;
      try {
        res = await this.direct<Res>(store_id, method, build(this.context(region, store_id)));
      } catch (err) {
        if (!(err instanceof RpcError)) throw err;
        last = err.message;
        this.#leader.delete(region.id);
        await this.#backoff(attempt);
        continue;
      }
      if (res.error) throw new Error(`${method}: ${res.error}`);
      const re = res.region_error;
      if (!re) {
        this.#leader.set(region.id, store_id);
        return res;
      }
      last = `store ${store_id}: ${re.message}`;
      if (await this.#onRegionError(region, re, attempt)) continue;
    }
  }

  /** Updates the cache for a region error; true when the retry may be immediate. */
  async #onRegionError(
    region: metapb.Region,
    re: errorpb.Error,
    attempt: number,
  ): Promise<boolean> {
    const kind = Object.keys(re).find((k) => k !== "message" && re[k as keyof errorpb.Error]);
    this.seen.set(kind ?? "unknown", (this.seen.get(kind ?? "unknown") ?? 0) + 1);
    if (re.not_leader?.leader?.store_id) {
      this.#leader.set(region.id, re.not_leader.leader.store_id);
      await sleep(5);
      return true;
    }
    if (re.epoch_not_match && re.epoch_not_match.current_regions.length > 0) {
      for (const r of re.epoch_not_match.current_regions) this.#learn(r);
      return true;
    }
    this.#leader.delete(region.id);
    await this.#backoff(attempt);
    return false;
  }

  #pickStore(region: metapb.Region, attempt: number): number {
    const guess = this.#leader.get(region.id);
    if (guess !== undefined && region.peers.some((p) => p.store_id === guess)) return guess;
    return region.peers[attempt % region.peers.length].store_id;
  }

  async #backoff(attempt: number): Promise<void> {
    await sleep(Math.min(500, 20 * 2 ** Math.min(attempt, 5)));
    if (attempt % 3 === 2) await this.refresh();
  }

  #learn(region: metapb.Region): void {
    const known = this.#regions.get(region.id);
    if (known && !newer(region, known)) return;
    for (const [id, r] of this.#regions) {
      if (id !== region.id && overlaps(r, region) && !newer(r, region)) this.#regions.delete(id);
    }
    this.#regions.set(region.id, region);
  }

  close(): void {
    this.#pool.close();
  }
}
