/**
 * A region worker's own frame listener, end to end on one store with a real
 * worker: the store names it, it serves its regions' commands, refuses what
 * it must not serve, and a restarted worker listens again elsewhere.
 */
import assert from "node:assert/strict";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import type * as storepb from "@eraft/proto/gen/storepb.ts";
import { FrameConn, FrameKind } from "@eraft/shared/frame";
import { decodeMessage, encodeMessage } from "@eraft/shared/proto";
import type { StoreNode } from "../server/node.ts";
import { startOneStore } from "../server/testdata/one_store.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const ctx = (region_id: number): kvrpcpb.Context => ({
  region_id,
  region_epoch: { conf_ver: 1, version: 1 },
  term: 0,
});

async function waitFor<T>(what: string, check: () => T | null | undefined): Promise<T> {
  for (let i = 0; i < 1000; i++) {
    const v = check();
    if (v !== null && v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A BatchCommands frame connection that keeps every answer by request id. */
class Conn {
  readonly answers = new Map<number, storepb.BatchCommandsResponse_Response>();
  readonly routes: storepb.WorkerRoute[] = [];
  closed: string | null = null;
  readonly #conn: FrameConn;
  #next_id = 1;

  constructor(addr: string) {
    this.#conn = FrameConn.dial(addr, {
      on_frame: (_kind, body) => {
        const res = decodeMessage<storepb.BatchCommandsResponse>(
          "storepb.BatchCommandsResponse",
          body,
        );
        res.request_ids.forEach((id, i) => this.answers.set(Number(id), res.responses[i]));
        this.routes.push(...res.worker_routes);
      },
      on_close: (reason) => (this.closed = reason ?? "closed locally"),
    });
  }

  /** Sends one command and waits for its answer. */
  call(req: storepb.BatchCommandsRequest_Request): Promise<storepb.BatchCommandsResponse_Response> {
    const id = this.#next_id++;
    const body = encodeMessage("storepb.BatchCommandsRequest", {
      requests: [req],
      request_ids: [id],
    });
    this.#conn.send(FrameKind.BatchRequest, body);
    return waitFor(`answer ${id}`, () => this.answers.get(id));
  }

  send(kind: number, body: Uint8Array): void {
    this.#conn.send(kind, body);
  }

  close(): void {
    this.#conn.close();
  }
}

const put = (region_id: number, key: string, value: string) => ({
  raw_put: {
    context: ctx(region_id),
    key: enc(key),
    value: enc(value),
    cf: "",
    id: 0,
    type: 0,
    issued_at_ms: 0,
  },
});
const get = (region_id: number, key: string) => ({
  raw_get: { context: ctx(region_id), key: enc(key), cf: "" },
});

Deno.test("worker frames: the store names the worker, which serves its region, refuses the rest and malformed Raft frames, and listens again after a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "eraft-worker-frames-test-" });
  let node: StoreNode | null = null;
  const conns: Conn[] = [];
  const dial = (addr: string) => {
    const c = new Conn(addr);
    conns.push(c);
    return c;
  };
  try {
    node = await startOneStore(dir);
    const store = dial(node.frame_addr);
    // Through the store until the single replica leads; the served answer names the worker.
    for (let i = 0; i < 500; i++) {
      if (!(await store.call(put(1, "k", "via store"))).raw_put?.region_error) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const worker_addr = node.supervisor.workerFrameAddr(1);
    assert.ok(worker_addr !== null && worker_addr !== node.frame_addr);
    assert.deepEqual(store.routes, [{ region_id: 1, frame_addr: worker_addr }]);

    const worker = dial(worker_addr);
    assert.equal((await worker.call(put(1, "w", "via worker"))).raw_put?.error, "");
    assert.equal(dec((await worker.call(get(1, "k"))).raw_get!.value), "via store");
    assert.equal(dec((await store.call(get(1, "w"))).raw_get!.value), "via worker", "one state");
    assert.deepEqual(worker.routes, [], "a worker names no routes");
    const missing = await worker.call(get(7, "k"));
    assert.equal(missing.raw_get?.region_error?.region_not_found?.region_id, 7);
    const bad_key = await worker.call({ raw_get: { context: ctx(1), key: enc(""), cf: "" } });
    assert.match(bad_key.raw_get?.error ?? "", /key/, "arguments are checked as on the store");

    // Raft frames from other workers: a well-formed batch keeps its connection,
    // a malformed one closes only its own.
    worker.send(FrameKind.RaftBatch, new Uint8Array(0));
    const raft = dial(worker_addr);
    raft.send(FrameKind.RaftBatch, new Uint8Array([0x0a, 0x40, 0x08, 0x01]));
    await waitFor("the malformed Raft frame's connection closed", () => raft.closed);
    assert.equal(dec((await worker.call(get(1, "w"))).raw_get!.value), "via worker");
    assert.equal(worker.closed, null, "other connections go on");

    // A crashed worker's listener goes with it; its successor listens on a new port.
    assert.ok(node.supervisor.crash(0));
    await waitFor("the worker's connection closed", () => worker.closed);
    const again = await waitFor("the restarted worker's listener", () => {
      const addr = node!.supervisor.workerFrameAddr(1);
      return addr !== null && addr !== worker_addr ? addr : null;
    });
    const restarted = dial(again);
    let value = "";
    for (let i = 0; i < 500 && value === ""; i++) {
      const res = await restarted.call(get(1, "w"));
      if (res.raw_get?.region_error) await new Promise((r) => setTimeout(r, 20));
      else value = dec(res.raw_get!.value);
    }
    assert.equal(value, "via worker", "the restarted worker serves the region from disk");
  } finally {
    for (const c of conns) c.close();
    await node?.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
