/// <reference lib="deno.worker" />
/**
 * A fake region worker for the main thread's unit tests: speaks
 * store/protocol.ts over an in-memory map, with no Raft. Every region it hosts
 * answers as leader; the region list is kept in `<dir>/regions.json` so a
 * restarted worker recovers its regions (data is in memory and lost).
 *
 * Test hooks: a `get` of key `__raft_received` answers how many Raft messages
 * arrived; a Raft `MsgHeartbeat` is answered with a `MsgHeartbeatResponse`
 * (so transport tests see a round trip); key `__hang` never answers.
 */
import type {
  FromWorker,
  RegionInfo,
  ToWorker,
  WorkerConfig,
  WorkerRequest,
  WorkerResponse,
} from "../../protocol.ts";
import type * as metapb from "@eraft/proto/gen/metapb.ts";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import type * as raft_serverpb from "@eraft/proto/gen/raft_serverpb.ts";
import { decodeRaftBatch, encodeRaftMessage } from "../../raft_wire.ts";
import { encodeKvPairs } from "../../kv_pairs_wire.ts";

let config: WorkerConfig;
const regions = new Map<number, metapb.Region>();
const data = new Map<string, { value: Uint8Array; type: number }>();
let raft_received = 0;
const text = new TextDecoder();

function post(msg: FromWorker): void {
  self.postMessage(msg);
}

function info(region: metapb.Region, destroyed = false): RegionInfo {
  const me = region.peers.find((p) => p.store_id === config.store_id);
  return {
    region,
    worker_id: config.worker_id,
    peer_id: me?.id ?? 0,
    leader_peer_id: me?.id ?? 0,
    term: 1,
    destroyed,
    approximate_keys: 0,
    approximate_size_bytes: 0,
  };
}

function persist(): void {
  Deno.mkdirSync(config.dir, { recursive: true });
  Deno.writeTextFileSync(`${config.dir}/regions.json`, JSON.stringify([...regions.values()]));
}

function recover(): void {
  try {
    const list = JSON.parse(Deno.readTextFileSync(`${config.dir}/regions.json`));
    for (const r of list) {
      r.start_key = new Uint8Array(Object.values(r.start_key));
      r.end_key = new Uint8Array(Object.values(r.end_key));
      regions.set(r.id, r);
    }
  } catch {
    // no state yet
  }
}

function inRange(region: metapb.Region, key: Uint8Array): boolean {
  const k = text.decode(key);
  return k >= text.decode(region.start_key) &&
    (region.end_key.length === 0 || k < text.decode(region.end_key));
}

function check(region_id: number, ctx: kvrpcpb.Context | null): WorkerResponse | null {
  const region = regions.get(region_id);
  if (!region) return { region_error: { message: "nf", region_not_found: { region_id } } };
  const epoch = ctx?.region_epoch;
  if (
    !epoch || epoch.version !== region.region_epoch?.version ||
    epoch.conf_ver !== region.region_epoch?.conf_ver
  ) {
    return { region_error: { message: "epoch", epoch_not_match: { current_regions: [region] } } };
  }
  return null;
}

function handle(region_id: number, req: WorkerRequest): WorkerResponse | null {
  const region = regions.get(region_id)!;
  switch (req.op) {
    case "get": {
      const k = text.decode(req.key);
      if (k === "__hang") return null;
      if (k === "__raft_received") {
        return { value: new TextEncoder().encode(String(raft_received)), not_found: false };
      }
      if (!inRange(region, req.key)) {
        return {
          region_error: {
            message: "kr",
            key_not_in_region: {
              key: req.key,
              region_id,
              start_key: region.start_key,
              end_key: region.end_key,
            },
          },
        };
      }
      const v = data.get(`${req.cf}/${k}`);
      return v ? { value: v.value, type: v.type, not_found: false } : { not_found: true };
    }
    case "write":
      for (const m of req.mutations) {
        if (m.op === 0) data.set(`${m.cf}/${text.decode(m.key)}`, { value: m.value, type: m.type });
        else data.delete(`${m.cf}/${text.decode(m.key)}`);
      }
      return {};
    case "scan": {
      const kvs = [...data.entries()].filter(([k]) => k.startsWith(req.cf + "/"))
        .map(([k, v]) => ({ key: new TextEncoder().encode(k.slice(req.cf.length + 1)), ...v }))
        .filter((kv) =>
          inRange(region, kv.key) && text.decode(kv.key) >= text.decode(req.start_key)
        )
        .sort((a, b) => text.decode(a.key) < text.decode(b.key) ? -1 : 1)
        .slice(0, req.limit);
      return { pairs: encodeKvPairs(kvs) };
    }
    default:
      return { error: `fake worker does not do ${req.op}` };
  }
}

function onRaft(msgs: raft_serverpb.RaftMessage[]): void {
  raft_received += msgs.length;
  const replies: raft_serverpb.RaftMessage[] = [];
  for (const m of msgs) {
    if (!regions.has(m.region_id) && m.to_peer?.store_id === config.store_id) {
      const region: metapb.Region = {
        id: m.region_id,
        start_key: m.start_key,
        end_key: m.end_key,
        region_epoch: m.region_epoch,
        peers: [m.from_peer!, m.to_peer!],
      };
      regions.set(region.id, region);
      persist();
      post({ kind: "region", info: info(region) });
    }
    if (m.message?.msg_type === 8) {
      replies.push({
        ...m,
        from_peer: m.to_peer,
        to_peer: m.from_peer,
        message: { ...m.message, msg_type: 9, to: m.message.from, from: m.message.to },
      });
    }
  }
  if (replies.length > 0) post({ kind: "send", msgs: replies.map(encodeRaftMessage) });
}

self.onmessage = (e: MessageEvent<ToWorker>) => onMessage(e.data);

function onMessage(msg: ToWorker): void {
  switch (msg.kind) {
    case "batch":
      for (const m of msg.msgs) onMessage(m);
      return;
    case "start":
      config = msg.config;
      recover();
      return post({
        kind: "started",
        worker_id: config.worker_id,
        regions: [...regions.values()].map((r) => info(r)),
        frame_addr: "",
      });
    case "bootstrap":
      if (regions.has(msg.region.id)) return;
      regions.set(msg.region.id, msg.region);
      persist();
      return post({ kind: "region", info: info(msg.region) });
    case "request": {
      const res = check(msg.region_id, msg.context) ?? handle(msg.region_id, msg.req);
      if (res !== null) post({ kind: "response", id: msg.id, res });
      return;
    }
    case "raft":
      return onRaft(decodeRaftBatch(msg.batch).msgs);
    case "crash":
      setTimeout(() => {
        throw new Error("crash requested by test");
      }, 0);
      return;
    case "stop":
      return post({ kind: "stopped", worker_id: config.worker_id });
    default:
      return;
  }
}
