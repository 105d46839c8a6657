/**
 * `eraft ctl --meta ADDR <command>`: cluster admin over the Meta service and
 * the stores' admin RPCs. Commands: stores, regions, region KEY, members,
 * split KEY, transfer-leader REGION STORE, add-peer REGION STORE,
 * remove-peer REGION STORE, decommission STORE. `--json` prints JSON.
 *
 * A KEY is a raw key in the form the tables print it (`\xNN` for a byte
 * outside printable ASCII), or with `--redis-key` a Redis key: then the raw
 * key is where that key's records start (M(K), shared/keyspace.ts), so
 * `split --redis-key user:1000` puts `user:1000` and every key after it in
 * the new right half.
 * @module
 */
import type * as metapb from "@eraft/proto/gen/metapb.ts";
import type * as mpb from "@eraft/proto/gen/metaservicepb.ts";
import { type CommandSpec, type Flags, stringFlag, UsageError } from "@eraft/shared/cli";
import { formatKey, parseKey } from "@eraft/shared/bytes";
import { userKeyPrefix } from "@eraft/shared/keyspace";
import { ServiceClient } from "@eraft/shared/grpc";
import { MetaClient } from "@eraft/store/meta_client";

function table(rows: Array<Record<string, unknown>>): string {
  if (rows.length === 0) return "(none)";
  const cols = Object.keys(rows[0]);
  const cell = (v: unknown) => String(v ?? "");
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(w[i])).join("  ").trimEnd();
  return [line(cols), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join("\n");
}

/** `name: value` lines; nested values as compact JSON. */
function fields(obj: Record<string, unknown>): string {
  const w = Math.max(0, ...Object.keys(obj).map((k) => k.length));
  return Object.entries(obj)
    .map(([k, v]) => `${(k + ":").padEnd(w + 1)} ${typeof v === "object" ? JSON.stringify(v) : v}`)
    .join("\n");
}

function jsonable(v: unknown): unknown {
  if (v instanceof Uint8Array) return formatKey(v, 256);
  if (Array.isArray(v)) return v.map(jsonable);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonable(x)]));
  }
  return v;
}

function num(s: string | undefined, what: string): number {
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${what} must be a positive id`);
  return n;
}

/** What every admin RPC of a store can answer besides its own fields. */
type StoreRes = { region_error?: { message: string } | null; error?: string };

/** Calls `method` on the store at `addr`; a region error or error becomes an Error with its text. */
async function storeCall<T extends object = object>(
  addr: string,
  method: string,
  req: object,
): Promise<T & StoreRes> {
  const c = new ServiceClient("storepb.Store", addr);
  try {
    const res = await c.unary<T & StoreRes>(method, req);
    if (res.region_error) throw new Error(`region error: ${res.region_error.message}`);
    if (res.error) throw new Error(res.error);
    return res;
  } finally {
    c.close();
  }
}

async function regionOf(meta: MetaClient, id: number) {
  const r = await meta.getRegionById(id);
  const region = r.region!;
  const leader = r.leader ?? region.peers[0];
  const context = { region_id: id, region_epoch: region.region_epoch, peer: leader, term: 0 };
  return { region, leader, context };
}

/** The raw key a KEY argument names (see the module comment). */
function keyArg(text: string | undefined, usage: string, redis_key: boolean): Uint8Array {
  if (text === undefined) throw new UsageError(usage);
  let key: Uint8Array;
  try {
    key = parseKey(text);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return redis_key ? userKeyPrefix(key) : key;
}

async function run(meta: MetaClient, args: string[], redis_key: boolean): Promise<unknown> {
  const [cmd, a, b] = args;
  switch (cmd) {
    case "stores":
      return (await meta.getAllStores()).map((s) => ({
        id: s.id,
        address: s.address,
        state: ["Up", "Offline", "Tombstone"][s.state] ?? s.state,
        version: s.version,
      }));
    case "regions":
      return (await meta.scanRegions()).map((r) => ({
        id: r.region!.id,
        start: formatKey(r.region!.start_key, 40),
        end: formatKey(r.region!.end_key, 40),
        epoch: `${r.region!.region_epoch?.conf_ver}/${r.region!.region_epoch?.version}`,
        leader_store: r.leader?.store_id ?? "",
        stores: r.region!.peers.map((p: metapb.Peer) => p.store_id).join(","),
      }));
    case "region": {
      const r = await meta.getRegion(keyArg(a, "region KEY", redis_key));
      const region = r.region!;
      const at = (p: metapb.Peer) => `${p.id}@${p.store_id}`;
      return {
        id: region.id,
        start: formatKey(region.start_key, 256),
        end: formatKey(region.end_key, 256),
        conf_ver: region.region_epoch?.conf_ver ?? 0,
        version: region.region_epoch?.version ?? 0,
        leader_store: r.leader?.store_id ?? 0,
        peers: region.peers.map(at).join(","),
        leader: r.leader ? at(r.leader) : "",
        slaves: (r.slaves ?? []).map(at).join(","),
      };
    }
    case "members": {
      const res = await meta.members();
      const leader = res.leader?.member_id;
      return (res.members ?? []).map((m: mpb.Member) => ({
        id: m.member_id,
        name: m.name,
        url: (m.peer_urls ?? []).join(","),
        leader: m.member_id === leader ? "*" : "",
      }));
    }
    case "split": {
      const key = keyArg(a, "split KEY", redis_key);
      const { region, leader, context } = await regionOf(
        meta,
        (await meta.getRegion(key)).region!.id,
      );
      const ask = await meta.call<mpb.AskSplitResponse>("AskSplit", {
        region,
      });
      const res = await storeCall<{ regions: metapb.Region[] }>(leader.addr, "SplitRegion", {
        context,
        split: {
          split_key: key,
          new_region_id: ask.new_region_id,
          new_peer_ids: ask.new_peer_ids,
        },
      });
      if (res.regions.length !== 2) {
        throw new Error(`split answered ${res.regions.length} regions, expected 2`);
      }
      await meta.call("ReportSplit", { left: res.regions[0], right: res.regions[1] });
      return { left: res.regions[0].id, right: res.regions[1].id };
    }
    case "transfer-leader":
    case "add-peer":
    case "remove-peer": {
      const { region, leader, context } = await regionOf(meta, num(a, "REGION"));
      const store_id = num(b, "STORE");
      if (cmd === "transfer-leader") {
        const peer = region.peers.find((p) => p.store_id === store_id);
        if (!peer) throw new Error(`region ${region.id} has no peer on store ${store_id}`);
        await storeCall(leader.addr, "TransferLeader", { peer, context });
      } else if (cmd === "add-peer") {
        const store = (await meta.getAllStores()).find((s) => s.id === store_id);
        if (!store) throw new Error(`no store ${store_id}`);
        const peer = { id: await meta.allocId(), store_id, addr: store.address, role: 0 };
        await storeCall(leader.addr, "PeerConfChange", { change_type: 0, peer, context });
      } else {
        const peer = region.peers.find((p) => p.store_id === store_id);
        if (!peer) throw new Error(`region ${region.id} has no peer on store ${store_id}`);
        await storeCall(leader.addr, "PeerConfChange", { change_type: 1, peer, context });
      }
      return { ok: true };
    }
    case "decommission": {
      const id = num(a, "STORE");
      const store = (await meta.getAllStores()).find((s) => s.id === id);
      if (!store) throw new Error(`no store ${id}`);
      await meta.putStore({ ...store, state: 1 });
      return { store: id, state: "Offline" };
    }
    default:
      throw new UsageError(`unknown ctl command '${cmd ?? ""}'`);
  }
}

/** The `eraft ctl` subcommand. */
export const ctlCommand: CommandSpec = {
  name: "ctl",
  summary: "cluster admin: stores, regions, region, members, split, transfer-leader, " +
    "add-peer, remove-peer, decommission",
  flags: {
    meta: { type: "string", help: "meta address(es) host:port,...", default: "127.0.0.1:2379" },
    json: { type: "boolean", help: "print JSON instead of tables" },
    "redis-key": {
      type: "boolean",
      help: "KEY is a Redis key (split or look up where its records start), not a raw key",
    },
  },
  positionals: "COMMAND [ARGS]",
  run: async (flags: Flags, positionals: string[]) => {
    const meta = new MetaClient(stringFlag(flags, "meta").split(","), { call_timeout_ms: 10_000 });
    try {
      const out = await run(meta, positionals, flags["redis-key"] === true);
      if (flags.json) console.log(JSON.stringify(jsonable(out), null, 2));
      else if (Array.isArray(out)) console.log(table(out as Array<Record<string, unknown>>));
      else console.log(fields(jsonable(out) as Record<string, unknown>));
      return 0;
    } catch (err) {
      if (err instanceof UsageError) throw err;
      console.error(`eraft ctl: ${(err as Error).message}`);
      return 1;
    } finally {
      meta.close();
    }
  },
};
