import assert from "node:assert/strict";
import { ErrorType, OperatorKind } from "@eraft/proto/gen/metaservicepb.ts";
import { SCHEDULER_DEFAULTS } from "./scheduler.ts";
import { type Leadership, MetaService } from "./service.ts";
import { MetaStorage } from "./storage.ts";
import { b, memoryRegion, peer, region, store } from "./testing.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

function setup(leadership: Leadership = { is_leader: true, term: 1, leader_id: 1 }) {
  const mem = memoryRegion();
  const lead = { ...leadership };
  const svc = new MetaService({
    self_id: 1,
    members: new Map([[1, "m1"], [2, "m2"]]),
    storage: new MetaStorage(mem.request),
    leadership: () => lead,
    scheduler: { ...SCHEDULER_DEFAULTS, store_down_timeout_ms: 1000 },
    version: "0.1.0",
  });
  const call = (m: string, req: object = {}) => svc.handle(m, req) as Promise<Any>;
  return { svc, mem, lead, call };
}

const errType = (res: Any) => res.header?.error?.type ?? ErrorType.OK;

Deno.test("startup flow: alloc, bootstrap once, put store, route keys", async () => {
  const { call } = setup();
  assert.equal((await call("IsBootstrapped")).bootstrapped, false);
  assert.equal(
    errType(await call("GetRegion", { region_key: b("a") })),
    ErrorType.NOT_BOOTSTRAPPED,
  );
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push((await call("AllocID")).id);
  assert.deepEqual(ids, [1, 2, 3]);
  const first = region(2, "", "", [[3, 1]]);
  assert.equal(errType(await call("Bootstrap", { store: store(1), region: first })), ErrorType.OK);
  const again = await call("Bootstrap", { store: store(4), region: region(5, "", "", [[6, 4]]) });
  assert.equal(errType(again), ErrorType.ALREADY_BOOTSTRAPPED);
  assert.equal((await call("IsBootstrapped")).bootstrapped, true);
  assert.equal(errType(await call("PutStore", { store: store(4) })), ErrorType.OK);
  const got = await call("GetRegion", { region_key: b("zz") });
  assert.equal(got.region.id, 2);
  assert.equal((await call("GetAllStores")).stores.length, 2);
});

Deno.test("every ErrorType where it applies", async () => {
  const { call, svc } = setup();
  await call("Bootstrap", { store: store(1), region: region(2, "", "", [[3, 1]]) });
  const cid = (await call("IsBootstrapped")).header.cluster_id;
  assert.ok(cid > 0);
  const wrong = await call("GetAllStores", { header: { cluster_id: cid + 1 } });
  assert.equal(errType(wrong), ErrorType.UNKNOWN);
  assert.match(wrong.header.error.message, /mismatch cluster id/);
  const old = await call("PutStore", { store: { ...store(5), version: "9.0.0" } });
  assert.equal(errType(old), ErrorType.INCOMPATIBLE_VERSION);
  assert.equal(errType(await call("GetRegionByID", { region_id: 99 })), ErrorType.REGION_NOT_FOUND);
  const ask = await call("AskSplit", { region: region(42, "", "", [[1, 1]]) });
  assert.equal(errType(ask), ErrorType.REGION_NOT_FOUND);
  // Decommission store 1 with no regions moved yet; then drain by hand.
  await call("PutStore", { store: store(6) });
  await svc.setStoreState(6, 2);
  assert.equal(errType(await call("GetStore", { store_id: 6 })), ErrorType.STORE_TOMBSTONE);
  assert.equal(errType(await call("PutStore", { store: store(6) })), ErrorType.STORE_TOMBSTONE);
  const hb = await call("StoreHeartbeat", { stats: { store_id: 6 } });
  assert.equal(errType(hb), ErrorType.STORE_TOMBSTONE);
  const all = await call("GetAllStores", { exclude_tombstone_stores: true });
  assert.deepEqual(all.stores.map((s: Any) => s.id), [1]);
  const huge = await call("GetRegion", { region_key: new Uint8Array(70_000) });
  assert.equal(errType(huge), ErrorType.UNKNOWN);
  assert.equal(errType(await call("NoSuchMethod")), ErrorType.UNKNOWN);
  assert.equal(errType(await call("RegionHeartbeat", { region: null })), ErrorType.UNKNOWN);
  assert.equal(errType(await call("PutStore", { store: { id: 0 } })), ErrorType.UNKNOWN);
});

Deno.test("split: AskSplit ids, ReportSplit routes both halves, stale heartbeat ignored", async () => {
  const { call } = setup();
  await call("Bootstrap", { store: store(1), region: region(100, "", "", [[101, 1]]) });
  const parent = region(100, "", "", [[101, 1]]);
  const ask = await call("AskSplit", { region: parent });
  assert.equal(errType(ask), ErrorType.OK);
  assert.equal(ask.new_peer_ids.length, 1);
  const epoch = { conf_ver: 1, version: 2 };
  const left = region(100, "", "m", [[101, 1]], epoch);
  const right = region(ask.new_region_id, "m", "", [[ask.new_peer_ids[0], 1]], epoch);
  assert.equal(errType(await call("ReportSplit", { left, right })), ErrorType.OK);
  assert.equal((await call("GetRegion", { region_key: b("z") })).region.id, ask.new_region_id);
  assert.equal((await call("GetRegion", { region_key: b("a") })).region.id, 100);
  // The old leader, not split yet, heartbeats the whole range: ignored.
  const hb = await call("RegionHeartbeat", { region: parent, leader: peer(101, 1), term: 1 });
  assert.equal(hb.operator, OperatorKind.NoOperator);
  assert.equal((await call("GetRegion", { region_key: b("z") })).region.id, ask.new_region_id);
  const scan = await call("ScanRegions", { start_key: b(""), end_key: b(""), limit: 0 });
  assert.equal(scan.regions.length, 2);
});

Deno.test("heartbeats drive operators; a new leader reloads from storage", async () => {
  const { call, svc, lead } = setup();
  await call("Bootstrap", { store: store(1), region: region(100, "", "", [[101, 1]]) });
  for (const s of [2, 3]) await call("PutStore", { store: store(s) });
  const hb = await call("RegionHeartbeat", {
    region: region(100, "", "", [[101, 1]]),
    leader: peer(101, 1),
    term: 1,
  });
  assert.equal(hb.operator, OperatorKind.AddPeer);
  assert.ok([2, 3].includes(hb.target_peer.store_id));
  // Leadership moves away and comes back in a later term: state is reloaded.
  lead.is_leader = false;
  lead.leader_id = 2;
  svc.tick();
  assert.equal(svc.state, null);
  const fwd = await call("GetAllStores");
  assert.match(fwd.header.error.message, /not the meta leader/);
  const members = await call("GetMembers");
  assert.equal(members.leader.member_id, 2);
  Object.assign(lead, { is_leader: true, term: 2, leader_id: 1 });
  assert.equal((await call("GetAllStores")).stores.length, 3);
  assert.equal((await call("GetRegion", { region_key: b("q") })).region.id, 100);
  const id = (await call("AllocID")).id;
  assert.ok(id > 1000, `ids of the old leader's range are skipped: ${id}`);
});

Deno.test("a meta region that cannot serve gives errors, not crashes", async () => {
  const { call, mem } = setup();
  mem.down.value = true;
  const res = await call("IsBootstrapped");
  assert.equal(errType(res), ErrorType.UNKNOWN);
  mem.down.value = false;
  assert.equal(errType(await call("IsBootstrapped")), ErrorType.OK);
});
