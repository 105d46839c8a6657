/**
 * BatchSession's worker routes: which answers name the worker that serves a
 * region, and when a route is named again.
 */
import assert from "node:assert/strict";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import type * as storepb from "@eraft/proto/gen/storepb.ts";
import type { WorkerResponse } from "../protocol.ts";
import { BatchSession } from "./batch_session.ts";
import { KvApi } from "./kv_api.ts";
import { notLeader } from "../worker/region_errors.ts";

const ctx = (region_id: number): kvrpcpb.Context => ({
  region_id,
  region_epoch: { conf_ver: 1, version: 1 },
  term: 0,
});
const getOf = (region_id: number): storepb.BatchCommandsRequest_Request => ({
  raw_get: { context: ctx(region_id), key: new Uint8Array([1]), cf: "" },
});

/** A session over a router that serves `served` regions and names `addrs` as their workers. */
function session(served: Set<number>, addrs: Map<number, string>) {
  const api = new KvApi({
    request: (region_id): Promise<WorkerResponse> =>
      Promise.resolve(
        served.has(region_id) ? { not_found: true } : { region_error: notLeader(region_id, null) },
      ),
    workerFrameAddr: (region_id) => addrs.get(region_id) ?? null,
  });
  const sent: storepb.BatchCommandsResponse[] = [];
  const s = new BatchSession(api, (res) => sent.push(res), () => {});
  let next_id = 1;
  /** Sends one batch and waits for every answer; the routes its answers carried. */
  const round = async (regions: number[]): Promise<storepb.WorkerRoute[]> => {
    const before = sent.length;
    const ids = regions.map(() => next_id++);
    assert.equal(s.onBatch({ requests: regions.map(getOf), request_ids: ids }), null);
    for (let i = 0; i < 100; i++) {
      const answered = sent.slice(before).flatMap((r) => r.request_ids);
      if (answered.length === ids.length) break;
      await new Promise((r) => setTimeout(r, 1));
    }
    const got = sent.slice(before);
    assert.deepEqual(got.flatMap((r) => r.request_ids).sort(), ids.sort(), "every id answered");
    return got.flatMap((r) => r.worker_routes);
  };
  return { s, round };
}

Deno.test("batch session: the first answer served for a region names its worker, once", async () => {
  const addrs = new Map([[1, "127.0.0.1:7001"], [2, "127.0.0.1:7002"]]);
  const { s, round } = session(new Set([1, 2]), addrs);
  assert.deepEqual(await round([1, 1, 2]), [
    { region_id: 1, frame_addr: "127.0.0.1:7001" },
    { region_id: 2, frame_addr: "127.0.0.1:7002" },
  ]);
  assert.deepEqual(await round([1, 2]), [], "named already");
  addrs.set(1, "127.0.0.1:7101"); // the worker restarted on another port
  assert.deepEqual(await round([1, 2]), [{ region_id: 1, frame_addr: "127.0.0.1:7101" }]);
  s.close();
});

Deno.test("batch session: answers with a region error, or regions without a worker listener, name none", async () => {
  const { s, round } = session(new Set([1]), new Map([[2, "127.0.0.1:7002"]]));
  assert.deepEqual(await round([1, 2, 3]), []);
  s.close();
});
