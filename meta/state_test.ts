import assert from "node:assert/strict";
import { ClusterState, validateRegion } from "./state.ts";
import { b, peer, region, store } from "./testing.ts";

Deno.test("regionByKey finds the region whose range holds the key", () => {
  const s = new ClusterState();
  s.applyRegion({ region: region(1, "", "m", [[1, 1]]) }, 0);
  s.applyRegion({ region: region(2, "m", "", [[2, 1]]) }, 0);
  assert.equal(s.regionByKey(b(""))?.region.id, 1);
  assert.equal(s.regionByKey(b("a"))?.region.id, 1);
  assert.equal(s.regionByKey(b("m"))?.region.id, 2);
  assert.equal(s.regionByKey(b("zzz"))?.region.id, 2);
  assert.deepEqual(s.scanRegions(b("a"), b(""), 0).map((e) => e.region.id), [1, 2]);
  assert.deepEqual(s.scanRegions(b("n"), b(""), 0).map((e) => e.region.id), [2]);
  assert.deepEqual(s.scanRegions(b(""), b("m"), 0).map((e) => e.region.id), [1]);
  assert.deepEqual(s.scanRegions(b(""), b(""), 1).map((e) => e.region.id), [1]);
});

Deno.test("a gap in the range index answers no region", () => {
  const s = new ClusterState();
  s.applyRegion({ region: region(2, "m", "", [[2, 1]]) }, 0);
  assert.equal(s.regionByKey(b("a")), undefined);
});

Deno.test("a split report replaces the parent; the stale parent cannot come back", () => {
  const s = new ClusterState();
  s.applyRegion({
    region: region(1, "", "", [[1, 1]]),
    leader: peer(1, 1),
    term: 5,
  }, 0);
  const left = region(1, "", "k", [[1, 1]], { conf_ver: 1, version: 2 });
  const right = region(7, "k", "", [[8, 1]], { conf_ver: 1, version: 2 });
  const up = s.applyRegion({ region: right }, 1);
  assert.deepEqual(up, { stale: false, epoch_changed: true, removed: [1] });
  assert.equal(s.applyRegion({ region: left }, 1).stale, false);
  assert.equal(s.regions.size, 2);
  // Heartbeat from a leader that has not applied the split yet.
  const old = s.applyRegion({ region: region(1, "", "", [[1, 1]]), term: 5 }, 2);
  assert.equal(old.stale, true);
  assert.equal(s.regionByKey(b("z"))?.region.id, 7);
  assert.equal(s.regionByKey(b("a"))?.region.id, 1);
});

Deno.test("older conf_ver is stale; older term does not move the leader back", () => {
  const s = new ClusterState();
  const p = (id: number) => peer(id, id);
  const r2 = region(1, "", "", [[1, 1], [2, 2]], { conf_ver: 2, version: 1 });
  s.applyRegion({ region: r2, leader: p(2), term: 3 }, 0);
  const r1 = region(1, "", "", [[1, 1]], { conf_ver: 1, version: 1 });
  assert.equal(s.applyRegion({ region: r1, leader: p(1), term: 4 }, 0).stale, true);
  assert.equal(s.applyRegion({ region: r2, leader: p(1), term: 2 }, 0).stale, false);
  assert.equal(s.regions.get(1)!.leader!.id, 2);
  assert.equal(s.applyRegion({ region: r2, leader: p(1), term: 4 }, 0).epoch_changed, false);
  assert.equal(s.regions.get(1)!.leader!.id, 1);
});

Deno.test("counts and down stores", () => {
  const s = new ClusterState();
  for (const id of [1, 2]) s.putStore(store(id), 1000);
  s.applyRegion({
    region: region(1, "", "", [[1, 1], [2, 2]]),
    leader: peer(1, 1),
  }, 0);
  assert.deepEqual(s.counts().get(1), { regions: 1, leaders: 1 });
  assert.deepEqual(s.counts().get(2), { regions: 1, leaders: 0 });
  s.storeHeartbeat({ store_id: 1 } as never, 5000);
  assert.equal(s.isStoreDown(1, 6000, 2000), false);
  assert.equal(s.isStoreDown(2, 6000, 2000), true);
  assert.equal(s.storeHeartbeat({ store_id: 9 } as never, 5000), false);
});

Deno.test("validateRegion rejects malformed regions", () => {
  assert.equal(validateRegion(region(1, "", "", [[1, 1]])), null);
  assert.match(validateRegion(region(0, "", "", []))!, /id/);
  assert.match(validateRegion(region(1, "b", "a", []))!, /start_key/);
  assert.match(validateRegion(region(1, "", "", [[1, 1], [2, 1]]))!, /distinct/);
  assert.match(validateRegion(null)!, /missing/);
});
