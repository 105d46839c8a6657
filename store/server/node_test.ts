/**
 * The main thread of a store against a fake worker (testdata/fake_worker.ts):
 * request mapping, argument checks, region errors, BatchCommands, deadlines,
 * worker crash and restart.
 */
import assert from "node:assert/strict";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import type * as storepb from "@eraft/proto/gen/storepb.ts";
import type * as raft_serverpb from "@eraft/proto/gen/raft_serverpb.ts";
import { MessageType } from "@eraft/proto/gen/eraftpb.ts";
import { ServiceClient } from "@eraft/shared/grpc";
import { FrameConn, FrameKind } from "@eraft/shared/frame";
import { decodeMessage, encodeMessage } from "@eraft/shared/proto";
import { encodeRaftBatch, encodeRaftMessage } from "../raft_wire.ts";
import { StoreNode } from "./node.ts";
import { MAX_KEY_BYTES, MAX_SCAN_LIMIT, MAX_VALUE_BYTES } from "./validate.ts";

const FAKE_WORKER = new URL("./testdata/fake_worker.ts", import.meta.url).href;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const CTX: kvrpcpb.Context = { region_id: 1, region_epoch: { conf_ver: 1, version: 1 }, term: 0 };

async function withNode(
  fn: (client: ServiceClient, node: StoreNode, dir: string) => Promise<void>,
  workers = 2,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "eraft-node-test-" });
  let node: StoreNode | null = null;
  const client = { c: null as ServiceClient | null };
  try {
    node = await StoreNode.start({
      addr: "127.0.0.1:0",
      data_dir: dir,
      store_id: 1,
      workers,
      worker_url: FAKE_WORKER,
      initial_cluster: new Map([[1, "127.0.0.1:1"]]),
      request_deadline_ms: 300,
    });
    await waitFor(() => node!.supervisor.region(1) !== undefined);
    client.c = new ServiceClient("storepb.Store", node.addr);
    await fn(client.c, node, dir);
  } finally {
    client.c?.close();
    await node?.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

async function waitFor(cond: () => boolean, timeout_ms = 10_000): Promise<void> {
  const deadline = Date.now() + timeout_ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("RawPut, RawGet, RawScan, RawDelete reach the worker and map back", async () => {
  await withNode(async (c) => {
    const put = await c.unary<kvrpcpb.RawPutResponse>("RawPut", {
      context: CTX,
      key: enc("a"),
      value: enc("1"),
      type: 7,
      id: 42,
      issued_at_ms: Date.now(),
    });
    assert.equal(put.region_error, null);
    assert.equal(put.error, "");
    const undated = await c.unary<kvrpcpb.RawPutResponse>("RawPut", {
      context: CTX,
      key: enc("u"),
      value: enc("1"),
      id: 43,
    });
    assert.match(undated.error, /request id 43 needs issued_at_ms/);
    await c.unary("RawPut", { context: CTX, key: enc("b"), value: enc("2"), cf: "default" });
    const get = await c.unary<kvrpcpb.RawGetResponse>("RawGet", { context: CTX, key: enc("a") });
    assert.equal(dec(get.value), "1");
    assert.equal(get.type, 7);
    assert.equal(get.not_found, false);
    const scan = await c.unary<kvrpcpb.RawScanResponse>("RawScan", {
      context: CTX,
      start_key: enc("a"),
      limit: 10,
    });
    assert.deepEqual(scan.kvs.map((kv) => dec(kv.key)), ["a", "b"]);
    await c.unary("RawDelete", { context: CTX, key: enc("a") });
    const gone = await c.unary<kvrpcpb.RawGetResponse>("RawGet", { context: CTX, key: enc("a") });
    assert.equal(gone.not_found, true);
  });
});

Deno.test("invalid arguments get clear error strings, never region errors", async () => {
  await withNode(async (c) => {
    const cases: Array<[string, object, RegExp]> = [
      ["RawGet", { context: CTX, key: enc("") }, /key is empty/],
      ["RawGet", { context: CTX, key: new Uint8Array(MAX_KEY_BYTES + 1) }, /over the limit/],
      ["RawGet", { context: CTX, key: enc("a"), cf: "raft" }, /unknown column family/],
      ["RawPut", {
        context: CTX,
        key: enc("a"),
        value: new Uint8Array(MAX_VALUE_BYTES + 1),
      }, /value is .* over the limit/],
      ["RawScan", { context: CTX, start_key: enc("a"), limit: 0 }, /scan limit/],
      ["RawScan", { context: CTX, start_key: enc("a"), limit: MAX_SCAN_LIMIT + 1 }, /scan limit/],
      ["RawBatch", { context: CTX, mutations: [] }, /no mutations/],
      ["RawBatchGet", { context: CTX, keys: [] }, /no keys/],
      [
        "PeerConfChange",
        { context: CTX, change_type: 9, peer: { id: 1, store_id: 1 } },
        /change_type/,
      ],
      ["TransferLeader", { context: CTX }, /peer/],
      ["SplitRegion", { context: CTX, split: { split_key: enc("m") } }, /new_region_id/],
    ];
    for (const [method, req, pattern] of cases) {
      const res = await c.unary<{ error: string; region_error: unknown }>(method, req);
      assert.match(res.error, pattern, `${method} ${JSON.stringify(req).slice(0, 80)}`);
      assert.equal(res.region_error, null);
    }
  });
});

Deno.test("unknown region, missing context and wrong epoch get region errors", async () => {
  await withNode(async (c) => {
    const unknown = await c.unary<kvrpcpb.RawGetResponse>("RawGet", {
      context: { ...CTX, region_id: 99 },
      key: enc("a"),
    });
    assert.equal(unknown.region_error?.region_not_found?.region_id, 99);
    const none = await c.unary<kvrpcpb.RawGetResponse>("RawGet", { key: enc("a") });
    assert.ok(none.region_error?.region_not_found);
    const stale = await c.unary<kvrpcpb.RawGetResponse>("RawGet", {
      context: { ...CTX, region_epoch: { conf_ver: 1, version: 0 } },
      key: enc("a"),
    });
    assert.equal(stale.region_error?.epoch_not_match?.current_regions[0].id, 1);
  });
});

Deno.test("BatchCommands answers every request id of concurrent batches", async () => {
  await withNode(async (c) => {
    const stream = c.duplex("BatchCommands");
    const got = new Map<number, storepb.BatchCommandsResponse_Response>();
    const done = new Promise<void>((resolve, reject) => {
      stream.on("data", (batch: storepb.BatchCommandsResponse) => {
        batch.request_ids.forEach((id, i) => got.set(Number(id), batch.responses[i]));
      });
      stream.on("end", resolve);
      stream.on("error", reject);
    });
    const puts = Array.from({ length: 50 }, (_, i) => ({
      raw_put: { context: CTX, key: enc(`k${i}`), value: enc(`v${i}`) },
    }));
    stream.write({ requests: puts, request_ids: puts.map((_, i) => i + 1) });
    const gets = Array.from({ length: 50 }, (_, i) => ({
      raw_get: { context: CTX, key: enc(`k${i}`) },
    }));
    stream.write({ requests: gets, request_ids: gets.map((_, i) => i + 1001) });
    stream.end();
    await done;
    assert.equal(got.size, 100);
    for (let i = 0; i < 50; i++) {
      assert.equal(got.get(i + 1)?.raw_put?.error, "");
      // Gets were sent after the puts on one worker queue, so they see them.
      assert.equal(dec(got.get(i + 1001)!.raw_get!.value), `v${i}`);
    }
  });
});

Deno.test("a request the worker never answers gets ServerIsBusy at its deadline", async () => {
  await withNode(async (c) => {
    const res = await c.unary<kvrpcpb.RawGetResponse>("RawGet", {
      context: CTX,
      key: enc("__hang"),
    });
    assert.ok(res.region_error?.server_is_busy, JSON.stringify(res.region_error));
  });
});

Deno.test("a crashed worker fails its requests as retryable, restarts, and keeps its regions", async () => {
  await withNode(async (c, node) => {
    const hosting = node.supervisor.region(1)!.worker_id;
    const hang = c.unary<kvrpcpb.RawGetResponse>("RawGet", { context: CTX, key: enc("__hang") });
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(node.supervisor.crash(hosting));
    const failed = await hang;
    assert.ok(failed.region_error?.server_is_busy);
    await waitFor(() => node.supervisor.workerStatus()[hosting].restarts === 1);
    await waitFor(() => node.supervisor.workerStatus()[hosting].ready);
    assert.equal(node.supervisor.region(1)?.worker_id, hosting);
    const res = await c.unary<kvrpcpb.RawPutResponse>("RawPut", {
      context: CTX,
      key: enc("x"),
      value: enc("y"),
    });
    assert.equal(res.region_error, null);
  });
});

Deno.test("restarting with fewer workers still starts every worker directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "eraft-node-test-" });
  try {
    const opts = {
      addr: "127.0.0.1:0",
      data_dir: dir,
      store_id: 1,
      worker_url: FAKE_WORKER,
      initial_cluster: new Map([[1, "127.0.0.1:1"]]),
    };
    // Region 1 % 3 workers → worker 1.
    const first = await StoreNode.start({ ...opts, workers: 3 });
    await waitFor(() => first.supervisor.region(1) !== undefined);
    assert.equal(first.supervisor.region(1)!.worker_id, 1);
    await first.stop();
    const second = await StoreNode.start({ ...opts, workers: 1, initial_cluster: undefined });
    try {
      assert.equal(second.supervisor.worker_count, 3);
      assert.equal(second.supervisor.region(1)?.worker_id, 1);
    } finally {
      await second.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the frame listener serves BatchCommands; a malformed frame closes only its connection", async () => {
  await withNode(async (_c, node) => {
    assert.ok(node.frame_addr !== "", "a frame listener by default");
    // A garbage BatchRequest body: that connection is closed with a reason.
    const bad = { closed: null as string | null };
    const garbage = FrameConn.dial(node.frame_addr, {
      on_frame: () => {},
      on_close: (reason) => (bad.closed = reason ?? "closed locally"),
    });
    garbage.send(FrameKind.BatchRequest, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]));
    await waitFor(() => bad.closed !== null);
    assert.match(bad.closed!, /closed by peer/);
    // Another connection is served: puts then gets, answered by request id.
    const got = new Map<number, storepb.BatchCommandsResponse_Response>();
    const good = FrameConn.dial(node.frame_addr, {
      on_frame: (kind, body) => {
        assert.equal(kind, FrameKind.BatchResponse);
        const res = decodeMessage<storepb.BatchCommandsResponse>(
          "storepb.BatchCommandsResponse",
          body,
        );
        res.request_ids.forEach((id, i) => got.set(Number(id), res.responses[i]));
      },
      on_close: () => {},
    });
    const send = (msg: storepb.BatchCommandsRequest) =>
      good.send(FrameKind.BatchRequest, encodeMessage("storepb.BatchCommandsRequest", msg));
    send({
      requests: [{
        raw_put: { context: CTX, key: enc("f"), value: enc("framed"), cf: "", id: 0, type: 0 },
      }],
      request_ids: [1],
    } as storepb.BatchCommandsRequest);
    await waitFor(() => got.has(1));
    send({
      requests: [{ raw_get: { context: CTX, key: enc("f"), cf: "" } }],
      request_ids: [2],
    } as storepb.BatchCommandsRequest);
    await waitFor(() => got.has(2));
    assert.equal(got.get(1)?.raw_put?.error, "");
    assert.equal(dec(got.get(2)!.raw_get!.value), "framed");
    good.close();
  });
});

Deno.test("Raft frames reach the worker without the main thread decoding them; a malformed one closes only its connection", async () => {
  await withNode(async (c, node) => {
    const received = async () => {
      const res = await c.unary<kvrpcpb.RawGetResponse>("RawGet", {
        context: CTX,
        key: enc("__raft_received"),
      });
      return Number(dec(res.value));
    };
    const before = await received();
    const dial = (state: { closed: string | null }) =>
      FrameConn.dial(node.frame_addr, {
        on_frame: () => {},
        on_close: (reason) => (state.closed = reason ?? "closed locally"),
      });
    const bad = { closed: null as string | null };
    // A message whose length runs past the frame: the batch is not well formed.
    dial(bad).send(FrameKind.RaftBatch, new Uint8Array([0x0a, 0x40, 0x08, 0x01]));
    await waitFor(() => bad.closed !== null);
    assert.match(bad.closed!, /closed by peer/);
    const good = { closed: null as string | null };
    const conn = dial(good);
    // A heartbeat response: the fake worker answers nothing to it.
    const heartbeat = encodeRaftMessage({
      region_id: 1,
      from_peer: { id: 2, store_id: 2, addr: "127.0.0.1:2", role: 0 },
      to_peer: { id: 1, store_id: 1, addr: "127.0.0.1:1", role: 0 },
      message: { msg_type: MessageType.MsgHeartbeatResponse, to: 1, from: 2, term: 1 },
      region_epoch: { conf_ver: 1, version: 1 },
      is_tombstone: false,
      start_key: new Uint8Array(0),
      end_key: new Uint8Array(0),
    } as raft_serverpb.RaftMessage);
    // One for this store, one addressed to store 9 (dropped by the main thread).
    const stray = encodeRaftMessage({
      ...decodeMessage<raft_serverpb.RaftMessage>("raft_serverpb.RaftMessage", heartbeat.bytes),
      to_peer: { id: 9, store_id: 9, addr: "127.0.0.1:9", role: 0 },
    });
    conn.send(FrameKind.RaftBatch, encodeRaftBatch([heartbeat.bytes, stray.bytes]));
    const deadline = Date.now() + 10_000;
    while ((await received()) < before + 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(await received(), before + 1);
    assert.equal(good.closed, null, "a well-formed batch keeps its connection");
    conn.close();
  });
});
