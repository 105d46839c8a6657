/**
 * The region worker's Raft loop end to end, in one process: three stores with
 * one worker each, messages routed directly between them.
 */
import assert from "node:assert/strict";
import { ConfChangeType, MessageType } from "@eraft/proto/gen/eraftpb.ts";
import type * as raft_serverpb from "@eraft/proto/gen/raft_serverpb.ts";
import { MutationOp, PreconditionKind } from "@eraft/proto/gen/kvrpcpb.ts";
import type { WorkerRequest } from "../protocol.ts";
import { bucketOf, DEDUP_MAX_AHEAD_MS, DEDUP_RETENTION_MS, readFloor, recordKey } from "./dedup.ts";
import { LocalCluster } from "./testing.ts";
import { checkRequest } from "./requests.ts";
import { encodeRaftBatch, encodeRaftMessage } from "../raft_wire.ts";
import { decodeKvPairs } from "../kv_pairs_wire.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

/** The issue time of every request id in these tests (retries repeat it). */
const ISSUED_AT_MS = Date.now();

function put(key: string, value: string, request_id = 0, type = 0): WorkerRequest {
  return {
    op: "write",
    mutations: [{
      op: MutationOp.Put,
      cf: "",
      key: enc(key),
      value: enc(value),
      type,
      end_key: new Uint8Array(),
    }],
    preconditions: [],
    request_id,
    issued_at_ms: request_id === 0 ? 0 : ISSUED_AT_MS,
  };
}
const get = (key: string): WorkerRequest => ({ op: "get", cf: "", key: enc(key) });

async function withCluster(
  stores: number[],
  body: (c: LocalCluster) => Promise<void>,
): Promise<void> {
  const root = Deno.makeTempDirSync({ prefix: "eraft-worker-" });
  const cluster = new LocalCluster(root);
  try {
    const region = LocalCluster.initialRegion(stores);
    for (const id of stores) cluster.startStore(id).handle({ kind: "bootstrap", region });
    await cluster.until("a leader of region 1", () => cluster.leaderOf(1));
    await body(cluster);
  } finally {
    await cluster.stopAll();
    Deno.removeSync(root, { recursive: true });
  }
}

Deno.test("worker: a write through the leader is readable with its type tag", async () => {
  await withCluster([1, 2, 3], async (c) => {
    assert.deepEqual(await c.leaderRequest(1, put("k1", "v1", 0, 7)), {});
    const res = await c.leaderRequest(1, get("k1"));
    assert.equal(dec(res.value), "v1");
    assert.equal(res.type, 7);
    assert.equal(res.not_found, false);
    assert.equal((await c.leaderRequest(1, get("missing"))).not_found, true);
  });
});

Deno.test("worker: a follower answers NotLeader naming the leader", async () => {
  await withCluster([1, 2, 3], async (c) => {
    const leader = c.leaderOf(1)!;
    await c.until(
      "leader known everywhere",
      () => [...c.workers.values()].every((w) => w.peers.get(1)!.leader_id === leader),
    );
    const follower = [1, 2, 3].find((s) => s !== leader)!;
    const res = await c.request(follower, 1, get("k"));
    assert.equal(res.region_error?.not_leader?.leader?.store_id, leader);
  });
});

Deno.test("worker: every replica applies the same writes", async () => {
  await withCluster([1, 2, 3], async (c) => {
    for (let i = 0; i < 20; i++) await c.leaderRequest(1, put(`key${i}`, `val${i}`));
    await c.until(
      "all replicas applied",
      () =>
        [...c.workers.values()].every((w) =>
          dec(w.engines.kv.get("default", enc("key19"))?.subarray(1)) === "val19"
        ),
    );
  });
});

Deno.test("worker: each replica's in-memory deduplication floor is the stored one", async () => {
  await withCluster([1, 2, 3], async (c) => {
    for (let i = 0; i < 5; i++) await c.leaderRequest(1, put(`f${i}`, "v", 500 + i));
    await c.until(
      "all replicas applied",
      () => [...c.workers.values()].every((w) => w.engines.kv.get("default", enc("f4"))),
    );
    for (const [store, w] of c.workers) {
      const stored = readFloor(w.engines.kv, 1);
      assert.ok(stored > 0, `store ${store} collected below the window`);
      assert.equal(w.peers.get(1)!.dedup_floor, stored, `store ${store}`);
    }
  });
});

Deno.test("worker: preconditions are checked atomically at apply time", async () => {
  await withCluster([1, 2, 3], async (c) => {
    const guarded: WorkerRequest = {
      op: "write",
      mutations: [{
        op: MutationOp.Put,
        cf: "",
        key: enc("a"),
        value: enc("1"),
        type: 0,
        end_key: new Uint8Array(),
      }],
      preconditions: [{
        kind: PreconditionKind.NotExists,
        cf: "",
        key: enc("a"),
        value: new Uint8Array(),
      }],
      request_id: 0,
      issued_at_ms: 0,
    };
    assert.deepEqual(await c.leaderRequest(1, guarded), {});
    const again = await c.leaderRequest(1, guarded);
    assert.equal(again.precondition_failed, true);
    assert.equal(again.failed_index, 0);
  });
});

/** Splits region 1 at "m" (the right half is region 100) and waits for region 100's leader. */
async function splitAtM(c: LocalCluster): Promise<void> {
  const res = await c.leaderRequest(1, {
    op: "split",
    split_key: enc("m"),
    new_region_id: 100,
    new_peer_ids: [101, 102, 103],
  });
  assert.equal(res.regions?.length, 2);
  await c.until("a leader of region 100", () => c.leaderOf(100));
}

Deno.test("worker: a split yields two regions that both serve reads and writes", async () => {
  await withCluster([1, 2, 3], async (c) => {
    await c.leaderRequest(1, put("apple", "1"));
    await c.leaderRequest(1, put("zebra", "2"));
    await splitAtM(c);
    assert.equal(dec((await c.leaderRequest(100, get("zebra"))).value), "2");
    assert.equal(dec((await c.leaderRequest(1, get("apple"))).value), "1");
    const wrong = await c.request(c.leaderOf(1)!, 1, get("zebra"));
    assert.ok(wrong.region_error?.key_not_in_region, "region 1 no longer holds zebra");
    await c.leaderRequest(100, put("yak", "3"));
    assert.equal(dec((await c.leaderRequest(100, get("yak"))).value), "3");
  });
});

/**
 * Records, on every store, whether its KV engine held unsynced writes when the
 * Raft log was about to change because of an applied split or removal.
 */
function watchLogAfterApply(c: LocalCluster): boolean[] {
  const dirty: boolean[] = [];
  for (const w of c.workers.values()) {
    const split = w.createSplitPeer.bind(w);
    w.createSplitPeer = (region, parent) => {
      dirty.push(w.engines.kv.dirty);
      split(region, parent);
    };
    const destroy = w.engines.raft.destroy.bind(w.engines.raft);
    w.engines.raft.destroy = (region_id) => {
      dirty.push(w.engines.kv.dirty);
      destroy(region_id);
    };
  }
  return dirty;
}

Deno.test("worker: a split's and a removal's KV state is durable before the Raft log changes", async () => {
  await withCluster([1, 2, 3], async (c) => {
    const dirty = watchLogAfterApply(c);
    await c.leaderRequest(1, put("apple", "1"));
    await splitAtM(c);
    await c.until("every store split", () => dirty.length === 3);
    const victim = [1, 2, 3].find((s) => s !== c.leaderOf(100))!;
    await c.leaderRequest(100, {
      op: "change_peer",
      change_type: ConfChangeType.RemoveNode,
      peer: { id: 100 + victim, store_id: victim, addr: `store-${victim}`, role: 0 },
    });
    await c.until("the removed replica destroyed", () => dirty.length === 4);
    // Else a power loss could keep the new region's Raft state (or the dropped
    // log) without the KV state it follows from, and replay would redo it.
    assert.deepEqual(dirty, [false, false, false, false]);
  });
});

Deno.test("worker: a new peer joins by conf change and catches up by snapshot", async () => {
  await withCluster([1, 2, 3], async (c) => {
    for (let i = 0; i < 80; i++) await c.leaderRequest(1, put(`k${i}`, `v${i}`)); // past the GC limit
    c.startStore(4);
    const res = await c.leaderRequest(1, {
      op: "change_peer",
      change_type: ConfChangeType.AddNode,
      peer: { id: 4, store_id: 4, addr: "store-4", role: 0 },
    });
    assert.equal(res.regions?.[0].peers.length, 4);
    await c.until(
      "store 4 has the data",
      () => dec(c.workers.get(4)!.engines.kv.get("default", enc("k79"))?.subarray(1)) === "v79",
    );
  });
});

Deno.test("worker: a removed peer deletes its data", async () => {
  await withCluster([1, 2, 3], async (c) => {
    await c.leaderRequest(1, put("x", "1"));
    const victim = [1, 2, 3].find((s) => s !== c.leaderOf(1))!;
    await c.until(
      "victim applied",
      () => c.workers.get(victim)!.engines.kv.get("default", enc("x")),
    );
    // As if the victim had learned where its peers' workers listen (raft_direct.ts).
    c.workers.get(victim)!.peer_frame_addrs.set(c.leaderOf(1)!, "127.0.0.1:9");
    const res = await c.leaderRequest(1, {
      op: "change_peer",
      change_type: ConfChangeType.RemoveNode,
      peer: { id: victim, store_id: victim, addr: `store-${victim}`, role: 0 },
    });
    assert.equal(res.regions?.[0].peers.length, 2);
    await c.until("victim destroyed its replica", () => !c.workers.get(victim)!.peers.has(1));
    assert.equal(c.workers.get(victim)!.engines.kv.get("default", enc("x")), undefined);
    assert.equal(c.workers.get(victim)!.peer_frame_addrs.size, 0, "the region's peers forgotten");
  });
});

Deno.test("worker: a store whose peer was removed takes a new peer of the region", async () => {
  await withCluster([1, 2, 3], async (c) => {
    await c.leaderRequest(1, put("x", "1"));
    const victim = [1, 2, 3].find((s) => s !== c.leaderOf(1))!;
    await c.leaderRequest(1, {
      op: "change_peer",
      change_type: ConfChangeType.RemoveNode,
      peer: { id: victim, store_id: victim, addr: `store-${victim}`, role: 0 },
    });
    await c.until("victim destroyed its replica", () => !c.workers.get(victim)!.peers.has(1));
    await c.leaderRequest(1, put("y", "2"));
    // The scheduler may put a replica back on the same store with a new peer id.
    const res = await c.leaderRequest(1, {
      op: "change_peer",
      change_type: ConfChangeType.AddNode,
      peer: { id: 10 + victim, store_id: victim, addr: `store-${victim}`, role: 0 },
    });
    assert.equal(res.regions?.[0].peers.length, 3);
    await c.until(
      "the new peer caught up",
      () => dec(c.workers.get(victim)!.engines.kv.get("default", enc("y"))?.subarray(1)) === "2",
    );
    assert.equal(c.workers.get(victim)!.peers.get(1)?.peer_id, 10 + victim);
  });
});

Deno.test("worker: leadership transfers to the named peer", async () => {
  await withCluster([1, 2, 3], async (c) => {
    const target = [1, 2, 3].find((s) => s !== c.leaderOf(1))!;
    await c.leaderRequest(1, {
      op: "transfer_leader",
      peer: { id: target, store_id: target, addr: "", role: 0 },
    });
    await c.until("the target leads", () => c.leaderOf(1) === target);
  });
});

Deno.test("worker: a restarted store recovers its regions and data from disk", async () => {
  await withCluster([1, 2, 3], async (c) => {
    for (let i = 0; i < 10; i++) await c.leaderRequest(1, put(`r${i}`, `${i}`, 700 + i));
    const leader = c.leaderOf(1)!;
    await c.stopStore(leader);
    await c.until("a new leader", () => c.leaderOf(1));
    c.startStore(leader);
    await c.until("restarted store has region 1", () => c.workers.get(leader)!.peers.has(1));
    await c.leaderRequest(1, put("after", "restart"));
    await c.until(
      "restarted store caught up",
      () =>
        dec(c.workers.get(leader)!.engines.kv.get("default", enc("after"))?.subarray(1)) ===
          "restart",
    );
    assert.equal(
      dec(c.workers.get(leader)!.engines.kv.get("default", enc("r9"))?.subarray(1)),
      "9",
    );
    // The restarted worker knows the dedup records it had (a retry there stays deduplicated).
    const held = c.workers.get(leader)!.applied_ids.candidates(bucketOf(ISSUED_AT_MS), 709);
    assert.deepEqual(held, [recordKey(bucketOf(ISSUED_AT_MS), enc("r9"), 709)]);
  });
});

Deno.test("worker: a leader cut off from the majority stops serving reads", async () => {
  await withCluster([1, 2, 3], async (c) => {
    await c.leaderRequest(1, put("p", "old"));
    const old = c.leaderOf(1)!;
    for (const s of [1, 2, 3]) {
      if (s !== old) {
        c.cut.add(`${old}->${s}`);
        c.cut.add(`${s}->${old}`);
      }
    }
    // Within its lease the old leader may still answer (no one else can lead
    // yet). Once the majority has a new leader that wrote, a read at the old
    // one would be stale: it must refuse.
    const fresh = await c.until("a new majority leader", () => {
      const l = [1, 2, 3].find((s) => s !== old && c.workers.get(s)!.peers.get(1)!.is_leader);
      return l;
    });
    assert.deepEqual(await c.request(fresh, 1, put("p", "new")), {});
    const res = await c.request(old, 1, get("p"));
    assert.ok(res.region_error, "the isolated old leader must not serve a stale read");
  });
});

Deno.test("worker: a leader estimates its region's key count and size", async () => {
  await withCluster([1, 2, 3], async (c) => {
    for (let i = 0; i < 30; i++) await c.leaderRequest(1, put(`size${i}`, "x".repeat(100)));
    const peer = await c.until("a size estimate", () => {
      const p = c.workers.get(c.leaderOf(1)!)?.peers.get(1);
      return p && p.approximate_keys >= 30 ? p : null;
    });
    assert.equal(peer.approximate_keys, 30);
    assert.ok(peer.approximate_size_bytes >= 30 * 100, `size ${peer.approximate_size_bytes}`);
  });
});

/** A merged batch (kvrpcpb.RawBatchRequest.members): one put per member id. */
function merged(puts: Array<[id: number, key: string, value: string]>): WorkerRequest {
  const parts = puts.map(([, k, v]) => put(k, v) as WorkerRequest & { op: "write" });
  return {
    op: "write",
    mutations: parts.flatMap((p) => p.mutations),
    preconditions: [],
    request_id: 0,
    issued_at_ms: 0,
    members: puts.map(([id]) => ({ id, mutation_count: 1, issued_at_ms: ISSUED_AT_MS })),
  };
}

Deno.test("worker: a merged batch skips a member already applied alone (no stale overwrite)", async () => {
  await withCluster([1, 2, 3], async (c) => {
    assert.deepEqual(await c.leaderRequest(1, put("k", "first", 77)), {});
    assert.deepEqual(await c.leaderRequest(1, put("k", "newer")), {});
    // The merged batch reaches the log after member 77's own retry did.
    assert.deepEqual(await c.leaderRequest(1, merged([[77, "k", "first"], [78, "j", "x"]])), {});
    const kv = c.workers.get(c.leaderOf(1)!)!.engines.kv;
    assert.equal(dec(kv.get("default", enc("k"))?.subarray(1)), "newer");
    assert.equal(dec(kv.get("default", enc("j"))?.subarray(1)), "x");
  });
});

Deno.test("worker: a member retried alone after its merged batch applied is deduplicated", async () => {
  await withCluster([1, 2, 3], async (c) => {
    assert.deepEqual(await c.leaderRequest(1, merged([[90, "k", "first"], [91, "j", "y"]])), {});
    assert.deepEqual(await c.leaderRequest(1, put("k", "newer")), {});
    // The client saw no answer for the merged batch and retries member 90 alone.
    assert.deepEqual(await c.leaderRequest(1, put("k", "first", 90)), {});
    const kv = c.workers.get(c.leaderOf(1)!)!.engines.kv;
    assert.equal(dec(kv.get("default", enc("k"))?.subarray(1)), "newer");
  });
});

Deno.test("worker: a retry with the same id and mutations applies once; a colliding id with other mutations applies", async () => {
  await withCluster([1, 2, 3], async (c) => {
    assert.deepEqual(await c.leaderRequest(1, put("x", "1", 500)), {});
    assert.deepEqual(await c.leaderRequest(1, put("x", "2")), {});
    assert.deepEqual(await c.leaderRequest(1, put("x", "1", 500)), {}, "a retry: deduplicated");
    const kv = () => c.workers.get(c.leaderOf(1)!)!.engines.kv;
    assert.equal(dec(kv().get("default", enc("x"))?.subarray(1)), "2");
    // Another client's request that drew the same random id is not swallowed.
    assert.deepEqual(await c.leaderRequest(1, put("y", "other", 500)), {});
    assert.equal(dec(kv().get("default", enc("y"))?.subarray(1)), "other");
  });
});

Deno.test("worker: a retry that reaches the right half of a split is still deduplicated", async () => {
  await withCluster([1, 2, 3], async (c) => {
    assert.deepEqual(await c.leaderRequest(1, put("x", "first", 300)), {});
    assert.deepEqual(await c.leaderRequest(1, put("x", "newer")), {});
    await splitAtM(c);
    // The client never saw request 300's answer; after the split its retry
    // is routed to region 100, which now holds key x and its record.
    assert.deepEqual(await c.leaderRequest(100, put("x", "first", 300)), {});
    assert.equal(dec((await c.leaderRequest(100, get("x"))).value), "newer");
  });
});

Deno.test("worker: members of one merged batch retried on both halves of a split are deduplicated", async () => {
  await withCluster([1, 2, 3], async (c) => {
    // One entry, one record keyed at "a": member 321's key x goes right at the split.
    const batch = merged([[320, "a", "first"], [321, "x", "first"], [322, "b", "first"]]);
    assert.deepEqual(await c.leaderRequest(1, batch), {});
    for (const k of ["a", "x", "b"]) {
      assert.deepEqual(await c.leaderRequest(1, put(k, "newer")), {});
    }
    await splitAtM(c);
    // The client saw no answer for the merged batch and retries each member
    // alone, in the region that now holds its key.
    assert.deepEqual(await c.leaderRequest(100, put("x", "first", 321)), {});
    assert.deepEqual(await c.leaderRequest(1, put("a", "first", 320)), {});
    assert.deepEqual(await c.leaderRequest(1, put("b", "first", 322)), {});
    for (const [region, k] of [[100, "x"], [1, "a"], [1, "b"]] as const) {
      assert.equal(dec((await c.leaderRequest(region, get(k))).value), "newer", k);
    }
  });
});

Deno.test("worker: a request issued before the deduplication window is refused, not applied", async () => {
  await withCluster([1, 2, 3], async (c) => {
    const stale = { ...put("s", "v", 400), issued_at_ms: Date.now() - 2 * DEDUP_RETENTION_MS };
    const res = await c.leaderRequest(1, stale);
    assert.match(res.error ?? "", /deduplication window/);
    const ahead = { ...put("s", "v", 401), issued_at_ms: Date.now() + 2 * DEDUP_MAX_AHEAD_MS };
    assert.match((await c.leaderRequest(1, ahead)).error ?? "", /ahead of the leader's clock/);
    assert.equal((await c.leaderRequest(1, get("s"))).not_found, true);
  });
});

Deno.test("worker: a peer that catches up by snapshot receives the deduplication records", async () => {
  await withCluster([1, 2, 3], async (c) => {
    for (let i = 0; i < 80; i++) await c.leaderRequest(1, put(`k${i}`, `v${i}`, 1000 + i));
    c.startStore(4);
    await c.leaderRequest(1, {
      op: "change_peer",
      change_type: ConfChangeType.AddNode,
      peer: { id: 4, store_id: 4, addr: "store-4", role: 0 },
    });
    const kv = () => c.workers.get(4)!.engines.kv;
    await c.until("store 4 has the data", () => kv().get("default", enc("k79")) !== undefined);
    const bucket = bucketOf(ISSUED_AT_MS);
    for (const i of [0, 40, 79]) {
      const key = recordKey(bucket, enc(`k${i}`), 1000 + i);
      assert.ok(kv().get("raft", key), `record of k${i}`);
      // Its worker's ids know the record too, or a retry there would apply again.
      const held = c.workers.get(4)!.applied_ids.candidates(bucket, 1000 + i);
      assert.deepEqual(held, [key], `id of k${i}`);
    }
  });
});

Deno.test("worker: a Raft message from a peer that does not decode is dropped and counted, the loop goes on", async () => {
  await withCluster([1, 2, 3], async (c) => {
    const follower = [1, 2, 3].find((id) => id !== c.leaderOf(1))!;
    const w = c.workers.get(follower)!;
    // region_id 1, then field 4 (the Raft message) holding a truncated varint.
    const bad = new Uint8Array([0x08, 0x01, 0x22, 0x03, 0x08, 0xff, 0xff]);
    w.handle({ kind: "raft", batch: encodeRaftBatch([bad]) });
    assert.equal(w.counts.malformed_raft_messages, 1);
    const applied_before = w.counts.applied_entries;
    assert.deepEqual(await c.leaderRequest(1, put("after", "bad")), {});
    await c.until(
      "the follower applied the next write",
      () => w.counts.applied_entries > applied_before,
    );
    assert.equal(dec((await c.leaderRequest(1, get("after"))).value), "bad");
  });
});

Deno.test("worker: batch_get lists found keys in the order asked, a key asked twice twice (the db relies on it)", async () => {
  await withCluster([1, 2, 3], async (c) => {
    assert.deepEqual(await c.leaderRequest(1, put("a", "1")), {});
    assert.deepEqual(await c.leaderRequest(1, put("b", "2")), {});
    const res = await c.leaderRequest(1, {
      op: "batch_get",
      cf: "",
      keys: ["b", "missing", "a", "b"].map(enc),
    });
    assert.ok(res.pairs instanceof Uint8Array, "batch_get answers with encoded pairs");
    assert.deepEqual(decodeKvPairs(res.pairs).map((kv) => [dec(kv.key), dec(kv.value)]), [
      ["b", "2"],
      ["a", "1"],
      ["b", "2"],
    ]);
  });
});

Deno.test("worker: a key-only scan answers keys with empty values, forwards and backwards", async () => {
  await withCluster([1, 2, 3], async (c) => {
    for (const k of ["a", "b", "c"]) {
      assert.deepEqual(await c.leaderRequest(1, put(k, k + k, 0, 7)), {});
    }
    const scan = async (key_only: boolean, reverse: boolean) => {
      const res = await c.leaderRequest(1, {
        op: "scan",
        cf: "",
        start_key: enc("a"),
        end_key: new Uint8Array(),
        limit: 10,
        reverse,
        key_only,
      });
      assert.ok(res.pairs instanceof Uint8Array, "a scan answers with encoded pairs");
      return decodeKvPairs(res.pairs).map((kv) => [dec(kv.key), dec(kv.value), kv.type]);
    };
    assert.deepEqual(await scan(false, false), [["a", "aa", 7], ["b", "bb", 7], ["c", "cc", 7]]);
    assert.deepEqual(await scan(true, false), [["a", "", 0], ["b", "", 0], ["c", "", 0]]);
    assert.deepEqual(await scan(true, true), [["c", "", 0], ["b", "", 0], ["a", "", 0]]);
  });
});

/** Cuts every link between `store` and the other stores, both ways. */
function isolate(c: LocalCluster, store: number, stores: number[]): void {
  for (const s of stores) {
    if (s === store) continue;
    c.cut.add(`${store}->${s}`);
    c.cut.add(`${s}->${store}`);
  }
}

Deno.test("worker: a request submitted on its own thread is served like a posted one", async () => {
  await withCluster([1, 2, 3], async (c) => {
    await c.leaderRequest(1, put("warm", "x"));
    const w = c.workers.get(c.leaderOf(1)!)!;
    assert.deepEqual(await w.submit(1, null, put("own", "thread", 0, 3)), {});
    const res = await w.submit(1, null, get("own"));
    assert.equal(dec(res.value), "thread");
    assert.equal(res.type, 3);
    assert.equal(dec((await c.leaderRequest(1, get("own"))).value), "thread", "one state");
    const missing = await w.submit(99, null, get("own"));
    assert.equal(missing.region_error?.region_not_found?.region_id, 99);
  });
});

Deno.test("worker: a submitted request unanswered past its deadline gets ServerIsBusy, and so does one pending at stop", async () => {
  await withCluster([1, 2, 3], async (c) => {
    await c.leaderRequest(1, put("warm", "x"));
    const leader = c.leaderOf(1)!;
    const w = c.workers.get(leader)!;
    // Three ticks: the deadline passes long before the cut-off leader could step down.
    w.config.request_deadline_ms = 30;
    isolate(c, leader, [1, 2, 3]);
    const late = await w.submit(1, null, put("never", "committed"));
    assert.ok(late.region_error?.server_is_busy, JSON.stringify(late));
    assert.match(late.region_error!.message, /no answer in time/);
    w.config.request_deadline_ms = 60_000;
    const pending = w.submit(1, null, put("never", "again"));
    await c.stopStore(leader);
    const stopped = await pending;
    assert.ok(stopped.region_error?.server_is_busy);
    assert.match(stopped.region_error!.message, /worker stopping/);
  });
});

Deno.test("worker: Raft messages from its own listener are stepped and teach their sender's worker; others go back to the store", async () => {
  await withCluster([1, 2, 3], async (c) => {
    await c.leaderRequest(1, put("warm", "x"));
    const leader = c.leaderOf(1)!;
    const follower = [1, 2, 3].find((s) => s !== leader)!;
    const w = c.workers.get(follower)!;
    const term = c.workers.get(leader)!.peers.get(1)!.term;
    // Peer ids are store ids in LocalCluster's region 1.
    const heartbeat = (region_id: number) =>
      encodeRaftMessage({
        region_id,
        from_peer: { id: leader, store_id: leader, addr: `store-${leader}`, role: 0 },
        to_peer: { id: follower, store_id: follower, addr: `store-${follower}`, role: 0 },
        message: { msg_type: MessageType.MsgHeartbeat, to: follower, from: leader, term },
        region_epoch: { conf_ver: 1, version: 1 },
        is_tombstone: false,
        start_key: new Uint8Array(),
        end_key: new Uint8Array(),
        from_worker_addr: "127.0.0.1:9",
      } as raft_serverpb.RaftMessage);
    const elsewhere = w.stepDirect([heartbeat(1), heartbeat(99)]);
    assert.deepEqual(elsewhere.map((m) => m.region_id), [99], "region 99 is the store's to place");
    assert.equal(w.peer_frame_addrs.get(leader), "127.0.0.1:9");
    assert.equal(w.peers.has(99), false, "no peer created outside the store's placement");
  });
});

Deno.test("worker: a split built for other peers (conf_ver behind) is EpochNotMatch before it is proposed", async () => {
  await withCluster([1, 2, 3], async (c) => {
    await c.leaderRequest(1, put("apple", "1")); // a leader that has committed in its term
    const leader = c.leaderOf(1)!;
    const peer = c.workers.get(leader)!.peers.get(1)!;
    const split: WorkerRequest = {
      op: "split",
      split_key: enc("m"),
      new_region_id: 100,
      new_peer_ids: [101, 102],
    };
    const at = (conf_ver: number) => ({
      region_id: 1,
      region_epoch: { conf_ver, version: 1 },
      peer: null,
      term: 0,
    });
    const behind = checkRequest(peer, leader, at(0), split);
    assert.ok(behind?.epoch_not_match, "a stale conf_ver is a region error the caller retries");
    assert.match(behind!.message, /conf_ver 1, version 1\), request has \(0, 1\)/);
    assert.equal(checkRequest(peer, leader, at(1), split), null);
  });
});
