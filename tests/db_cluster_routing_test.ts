/**
 * Routing and retry of the E-DB cluster backend against a fake meta and fake
 * stores (db/testdata/fake_cluster.ts): leader hops, splits, lost regions,
 * busy stores, deadlines, and the dedup id a retried write keeps.
 */
import assert from "node:assert/strict";
import {
  BackendUnavailableError,
  CrossRegionError,
  type Mutation,
  MutationOp,
  PreconditionKind,
} from "../db/backend.ts";
import { ClusterBackend } from "../db/cluster_backend.ts";
import { str, utf8 } from "../db/encoding/bytes.ts";
import { startDbServer } from "../db/server.ts";
import { FakeCluster } from "../db/testdata/fake_cluster.ts";
import { RespClient } from "../db/testing/resp_client.ts";

const CF = "default";
const b = (s: string) => utf8(s);

function put(key: string, value: string): Mutation {
  return {
    op: MutationOp.Put,
    cf: CF,
    key: b(key),
    value: b(value),
    type: 0,
    end_key: new Uint8Array(0),
  };
}

interface Env {
  c: FakeCluster;
  be: ClusterBackend;
}

async function withCluster(
  opts: {
    unary_only?: boolean;
    frames?: boolean;
    workers?: boolean;
    deadline_ms?: number;
    stores?: number;
  },
  fn: (env: Env) => Promise<void>,
): Promise<void> {
  const c = await FakeCluster.start(opts.stores ?? 3, {
    frames: opts.frames,
    workers: opts.workers,
  });
  const be = new ClusterBackend({
    meta: [c.meta_addr],
    unary_only: opts.unary_only,
    deadline_ms: opts.deadline_ms ?? 5000,
    backoff_base_ms: 2,
    backoff_max_ms: 50,
  });
  try {
    await fn({ c, be });
  } finally {
    await be.close();
    await c.stop();
  }
}

for (const mode of ["stream", "unary", "frames"] as const) {
  const unary_only = mode === "unary";
  const frames = mode === "frames";

  Deno.test(`db cluster (${mode}): writes and reads go to the leader`, async () => {
    await withCluster({ unary_only, frames }, async ({ c, be }) => {
      assert.deepEqual(await be.batch([put("a", "1"), put("b", "2")], []), { ok: true });
      assert.equal(str((await be.get(CF, b("a")))!), "1");
      assert.equal(await be.get(CF, b("zz")), null);
      const got = await be.batchGet(CF, [b("b"), b("x"), b("a")]);
      assert.deepEqual(got.map((v) => v && str(v)), ["2", null, "1"]);
      assert.ok(c.seen.every((s) => s.store_id === 1), "every request went to the leader");
      assert.ok(c.seen.every((s) => s.via_stream === !unary_only));
    });
  });

  Deno.test(`db cluster (${mode}): a retried batch keeps its id and applies once`, async () => {
    await withCluster({ unary_only, frames }, async ({ c, be }) => {
      await warmFrames(be, frames);
      let failed = 0;
      c.hook = (r) => {
        if (r.kind === "raw_batch" && r.store_id === 1 && failed < 2) {
          failed++;
          return { apply_then_fail: true };
        }
      };
      assert.deepEqual(await be.batch([put("k", "v")], []), { ok: true });
      const ids = c.seen.filter((s) => s.kind === "raw_batch").map((s) => s.id);
      // Transport failures also send it to other peers (who answer NotLeader).
      assert.ok(ids.length >= 3);
      assert.ok(ids[0] !== 0 && ids.every((id) => id === ids[0]), `one id: ${ids}`);
      assert.equal(c.applied.size, 1);
      assert.equal(c.duplicates, 2);
      // A new batch gets a new id.
      await be.batch([put("k", "w")], []);
      const ids2 = c.seen.filter((s) => s.kind === "raw_batch").map((s) => s.id);
      assert.notEqual(ids2[ids2.length - 1], ids[0]);
    });
  });
}

/** Frame messages sent so far (INFO cluster's eraft_frame_messages). */
function frameMessages(be: ClusterBackend): number {
  return Number(be.describe().fields.find(([k]) => k === "eraft_frame_messages")![1]);
}

/** With frames on, reads until the leader's client has moved to frames (bounded). */
async function warmFrames(be: ClusterBackend, frames: boolean): Promise<void> {
  for (let i = 0; frames && frameMessages(be) === 0; i++) {
    assert.ok(i < 200, "the client never moved to the frame listener");
    await be.get(CF, b("warm"));
  }
}

Deno.test("db cluster (frames): the stream moves to the frame listener meta names", async () => {
  await withCluster({ frames: true }, async ({ c, be }) => {
    await warmFrames(be, true);
    const before = frameMessages(be);
    assert.deepEqual(await be.batch([put("f", "1")], []), { ok: true });
    assert.equal(str((await be.get(CF, b("f")))!), "1");
    assert.equal(frameMessages(be), before + 2, "both commands went over frames");
    assert.ok(c.seen.every((s) => s.store_id === 1 && s.via_stream));
  });
});

Deno.test("db cluster (frames): a frame connection that dies fails over like a stream", async () => {
  await withCluster({ frames: true }, async ({ c, be }) => {
    await warmFrames(be, true);
    let failed = 0;
    c.hook = (r) => {
      if (r.kind === "raw_batch" && r.store_id === 1 && failed < 1) {
        failed++;
        return { apply_then_fail: true };
      }
    };
    assert.deepEqual(await be.batch([put("k", "v")], []), { ok: true });
    assert.equal(c.applied.size, 1, "applied once although the connection died");
    assert.equal(str((await be.get(CF, b("k")))!), "v");
  });
});

/** Reads until a command went to store 1's worker listener (bounded). */
async function warmWorker(c: FakeCluster, be: ClusterBackend): Promise<void> {
  for (let i = 0; !c.seen.some((s) => s.via_worker); i++) {
    assert.ok(i < 200, "the client never moved to the worker the store named");
    await be.get(CF, b("warm"));
  }
}

Deno.test("db cluster (workers): commands go to the worker the leader's store names", async () => {
  await withCluster({ frames: true, workers: true }, async ({ c, be }) => {
    await warmWorker(c, be);
    const before = c.seen.length;
    assert.deepEqual(await be.batch([put("w", "1")], []), { ok: true });
    assert.equal(str((await be.get(CF, b("w")))!), "1");
    const sent = c.seen.slice(before);
    assert.equal(sent.length, 2);
    assert.ok(sent.every((s) => s.store_id === 1 && s.via_worker), JSON.stringify(sent));
  });
});

Deno.test("db cluster (workers): a worker that dies sends its commands through the store, applied once", async () => {
  await withCluster({ frames: true, workers: true }, async ({ c, be }) => {
    await warmWorker(c, be);
    let failed = 0;
    c.hook = (r) =>
      r.via_worker && r.kind === "raw_batch" && failed++ === 0
        ? { apply_then_fail: true }
        : undefined;
    const before = c.seen.length;
    assert.deepEqual(await be.batch([put("k", "v")], []), { ok: true });
    const [first, retry] = c.seen.slice(before);
    assert.ok(first.via_worker && !retry.via_worker, "the retry went through the store");
    assert.equal(retry.id, first.id, "with the same dedup id");
    assert.equal(c.duplicates, 1, "the store answered the retry from the applied id");
    assert.equal(str((await be.get(CF, b("k")))!), "v");
    // The store named the worker again; a restarted worker gets a new address.
    c.restartWorker(1);
    c.hook = null;
    const moved = c.seen.length;
    for (let i = 0; !c.seen.slice(moved).some((s) => s.via_worker); i++) {
      assert.ok(i < 200, "the client never reached the restarted worker");
      assert.equal(str((await be.get(CF, b("k")))!), "v");
    }
  });
});

Deno.test("db cluster (workers): a region error from a worker drops its route", async () => {
  await withCluster({ frames: true, workers: true }, async ({ c, be }) => {
    await warmWorker(c, be);
    c.hook = (r) =>
      r.via_worker
        ? { region_error: { message: "not here", region_not_found: { region_id: r.region_id } } }
        : undefined;
    const before = c.seen.length;
    assert.deepEqual(await be.batch([put("r", "1")], []), { ok: true });
    const sent = c.seen.slice(before);
    assert.ok(sent[0].via_worker, "first to the worker");
    assert.ok(!sent[sent.length - 1].via_worker, "then through the store");
    assert.equal(sent.filter((s) => s.via_worker).length, 1, "the route was dropped at once");
  });
});

Deno.test("db cluster: merged blind writes retried after a lost answer apply once each", async () => {
  await withCluster({}, async ({ c, be }) => {
    await be.batch([put("warm", "1")], []);
    let lost = 0;
    c.hook = (r) => {
      // The merged batch (id 0, members inside) applies, then its answer is lost.
      if (r.kind === "raw_batch" && r.id === 0 && lost === 0) {
        lost++;
        return { apply_then_fail: true };
      }
    };
    const writes = ["m1", "m2", "m3"].map((k) => be.batch([put(k, `v-${k}`)], []));
    for (const w of writes) assert.deepEqual(await w, { ok: true });
    assert.equal(lost, 1, "the three writes went out as one merged batch");
    assert.equal(c.duplicates, 3, "each member's retry was recognized as applied");
    for (const k of ["m1", "m2", "m3"]) assert.equal(str((await be.get(CF, b(k)))!), `v-${k}`);
  });
});

Deno.test("db cluster: NotLeader with a hint hops to the new leader", async () => {
  await withCluster({}, async ({ c, be }) => {
    await be.batch([put("a", "1")], []);
    c.setLeader(1, 3);
    c.seen.length = 0;
    assert.equal(str((await be.get(CF, b("a")))!), "1");
    assert.deepEqual(c.seen.map((s) => s.store_id), [1, 3]);
    assert.equal(be.stats.region_errors.not_leader, 1);
    // The cache remembers: the next request goes straight to store 3.
    c.seen.length = 0;
    await be.get(CF, b("a"));
    assert.deepEqual(c.seen.map((s) => s.store_id), [3]);
  });
});

Deno.test("db cluster: NotLeader without a hint tries the other peers", async () => {
  await withCluster({}, async ({ c, be }) => {
    await be.get(CF, b("a"));
    c.setLeader(1, null);
    const pending = be.get(CF, b("a"));
    // The election ends a little later, on store 2.
    await new Promise((r) => setTimeout(r, 30));
    c.setLeader(1, 2);
    assert.equal(await pending, null);
    assert.ok(c.seen.some((s) => s.store_id === 2));
  });
});

Deno.test("db cluster: EpochNotMatch after a split refreshes from current_regions", async () => {
  await withCluster({}, async ({ c, be }) => {
    await be.batch([put("a", "1"), put("q", "2")], []);
    assert.equal(be.cache.size, 1);
    c.meta_stale = true; // meta has not heard of the split: the store must tell us
    c.split(b("m"));
    const meta_before = c.meta_calls;
    assert.equal(str((await be.get(CF, b("q")))!), "2");
    assert.equal(str((await be.get(CF, b("a")))!), "1");
    assert.equal(be.stats.region_errors.epoch_not_match, 1);
    assert.equal(be.cache.size, 2);
    assert.equal(c.meta_calls, meta_before, "no meta round trip was needed");
    // Writes spanning the split are now cross-region and write nothing.
    c.refreshMeta();
    await assert.rejects(be.batch([put("a", "3"), put("q", "4")], []), CrossRegionError);
    assert.equal(str((await be.get(CF, b("a")))!), "1");
    assert.equal(await be.sameRegion([b("a"), b("q")]), false);
    assert.equal(await be.sameRegion([b("a"), b("b")]), true);
  });
});

Deno.test("db cluster: RegionNotFound and KeyNotInRegion reload the region from meta", async () => {
  await withCluster({}, async ({ c, be }) => {
    await be.get(CF, b("a"));
    let n = 0;
    c.hook = (r) => {
      if (r.kind !== "raw_get") return;
      n++;
      if (n === 1) return { region_error: { message: "gone", region_not_found: { region_id: 1 } } };
      if (n === 2) {
        return {
          region_error: {
            message: "moved",
            key_not_in_region: {
              key: b("a"),
              region_id: 1,
              start_key: new Uint8Array(0),
              end_key: new Uint8Array(0),
            },
          },
        };
      }
    };
    const before = c.meta_calls;
    assert.equal(await be.get(CF, b("a")), null);
    assert.equal(be.stats.region_errors.region_not_found, 1);
    assert.equal(be.stats.region_errors.key_not_in_region, 1);
    assert.ok(c.meta_calls >= before + 2, "the region was looked up again");
  });
});

Deno.test("db cluster: ServerIsBusy backs off and retries the same store", async () => {
  await withCluster({}, async ({ c, be }) => {
    let n = 0;
    c.hook = (r) => {
      if (r.kind === "raw_batch" && n++ < 3) {
        return {
          region_error: { message: "busy", server_is_busy: { reason: "x", backoff_ms: 1 } },
        };
      }
    };
    assert.deepEqual(await be.batch([put("a", "1")], []), { ok: true });
    assert.equal(be.stats.region_errors.server_is_busy, 3);
    assert.equal(c.applied.size, 1);
    assert.ok(c.seen.every((s) => s.store_id === 1));
  });
});

Deno.test("db cluster: a dead leader's store is skipped for the next peer", async () => {
  await withCluster({}, async ({ c, be }) => {
    await be.get(CF, b("a"));
    c.hook = (r) => (r.store_id === 1 ? { fail: true } : undefined);
    c.setLeader(1, 2);
    c.meta_stale = true;
    assert.equal(await be.get(CF, b("a")), null);
    assert.ok(be.stats.transport_errors >= 1);
  });
});

Deno.test("db cluster: past the deadline a command answers -TRYAGAIN", async () => {
  await withCluster({ deadline_ms: 300 }, async ({ c, be }) => {
    await be.get(CF, b("a"));
    c.setLeader(1, null); // no leader, ever
    await assert.rejects(be.get(CF, b("a")), BackendUnavailableError);
    const s = await startDbServer({ addr: "127.0.0.1:0", backend: be, sweeper: null });
    const client = await RespClient.connect(s.port);
    try {
      const reply = str(await client.call("SET", "k", "v"));
      assert.match(reply, /^-TRYAGAIN /);
      c.setLeader(1, 1);
      assert.equal(str(await client.call("SET", "k", "v")), "+OK\r\n");
      assert.equal(str(await client.call("GET", "k")), "$1\r\nv\r\n");
    } finally {
      client.close();
      await s.close();
    }
  });
});

Deno.test("db cluster: scans cross region boundaries both ways", async () => {
  await withCluster({}, async ({ c, be }) => {
    const keys: string[] = [];
    for (let i = 0; i < 60; i++) keys.push(`k${String(i).padStart(3, "0")}`);
    for (const k of keys) await be.batch([put(k, k)], []);
    for (const at of ["k010", "k020", "k021", "k045"]) c.split(b(at));
    const fwd = await be.scan(CF, b("k005"), b("k050"), 1000, false);
    assert.deepEqual(fwd.map((p) => str(p.key)), keys.slice(5, 50));
    const lim = await be.scan(CF, b("k005"), new Uint8Array(0), 17, false);
    assert.deepEqual(lim.map((p) => str(p.key)), keys.slice(5, 22));
    const rev = await be.scan(CF, b("k005"), b("k050"), 1000, true);
    assert.deepEqual(rev.map((p) => str(p.key)), keys.slice(5, 50).reverse());
    const rev_all = await be.scan(CF, new Uint8Array(0), new Uint8Array(0), 12, true);
    assert.deepEqual(rev_all.map((p) => str(p.key)), keys.slice(48).reverse());
    const got = await be.batchGet(CF, [b("k001"), b("k030"), b("k059"), b("nope")]);
    assert.deepEqual(got.map((v) => v && str(v)), ["k001", "k030", "k059", null]);
    assert.equal(be.cache.size, 5);
  });
});

Deno.test("db cluster: preconditions travel with the batch", async () => {
  await withCluster({}, async ({ be }) => {
    const cond = {
      kind: PreconditionKind.NotExists,
      cf: CF,
      key: b("a"),
      value: new Uint8Array(0),
    };
    assert.deepEqual(await be.batch([put("a", "1")], [cond]), { ok: true });
    assert.deepEqual(await be.batch([put("a", "2")], [cond]), {
      ok: false,
      precondition_failed: true,
      failed_index: 0,
    });
  });
});

Deno.test("db cluster: store addresses come from GetStore when peers lack them", async () => {
  await withCluster({}, async ({ c, be }) => {
    c.peer_addrs = false;
    await be.batch([put("a", "1")], []);
    assert.equal(str((await be.get(CF, b("a")))!), "1");
  });
});

Deno.test("db cluster: Redis commands run over the fake cluster through a split", async () => {
  await withCluster({}, async ({ c, be }) => {
    const s = await startDbServer({ addr: "127.0.0.1:0", backend: be, sweeper: null });
    const client = await RespClient.connect(s.port);
    try {
      for (let i = 0; i < 20; i++) {
        assert.equal(str(await client.call("RPUSH", "list", `${i}`)), `:${i + 1}\r\n`);
        if (i === 10) c.split(utf8("\x01"));
        assert.equal(str(await client.call("SET", `s${i}`, `${i}`)), "+OK\r\n");
      }
      assert.equal(str(await client.call("LLEN", "list")), ":20\r\n");
      assert.equal(str(await client.call("GET", "s7")), "$1\r\n7\r\n");
      assert.equal(str(await client.call("DBSIZE")), ":21\r\n");
    } finally {
      client.close();
      await s.close();
    }
  });
});
