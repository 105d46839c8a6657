/**
 * E-META with real processes: killing the meta leader of 3 (kill -9) leaves
 * a new leader serving GetMembers, GetRegion and AllocID with ids that never
 * repeat; garbage and oversized requests to `eraft meta` get errors, never a
 * crash.
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as grpc from "@grpc/grpc-js";
import { ErrorType } from "@eraft/proto/gen/metaservicepb.ts";
import type * as mpb from "@eraft/proto/gen/metaservicepb.ts";
import { ServiceClient } from "@eraft/shared/grpc";
import { MetaClient } from "@eraft/store/meta_client";
import { CROSS_PROCESS } from "./support/cluster.ts";
import { waitFor, withMetaCluster } from "./support/meta_cluster.ts";

const te = new TextEncoder();

Deno.test({
  name: "meta: the meta leader of 3 is killed and a new one serves; ids never repeat",
  ...CROSS_PROCESS,
  fn: () =>
    withMetaCluster({ metas: 3, stores: 3 }, async (c) => {
      await waitFor("3 replicas", async () => {
        const rs = await c.regions();
        return rs.length === 1 && rs[0].region!.peers.length === 3 && rs[0].leader;
      });
      await c.put(te.encode("before"), te.encode("1"));
      const ids = new Set<number>();
      const take = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const id = await c.client.allocId();
          assert.ok(!ids.has(id), `id ${id} repeated`);
          ids.add(id);
        }
      };
      await take(50);
      const members = await c.client.members();
      assert.equal(members.members.length, 3);
      const old_url = members.leader!.peer_urls[0];
      const victim = c.metas.findIndex((m) => m.addr === old_url);
      assert.ok(victim >= 0, `leader ${old_url} is one of the metas`);

      const t_kill = Date.now();
      await c.metas[victim].child!.stop("SIGKILL");
      // A client that only knows the survivors finds the new leader.
      const survivors = c.metas.filter((_, i) => i !== victim).map((m) => m.addr);
      const client = new MetaClient(survivors, { call_timeout_ms: 20_000 });
      try {
        const leader = await waitFor("a new meta leader", async () => {
          const res = await client.members();
          const url = res.leader?.peer_urls?.[0];
          return url && url !== old_url ? url : null;
        }, 60_000);
        const id = await client.allocId();
        console.log(`new meta leader ${leader} serves ${Date.now() - t_kill} ms after kill -9`);
        assert.ok(!ids.has(id), `id ${id} repeated after failover`);
        ids.add(id);
        for (let i = 0; i < 50; i++) {
          const next = await client.allocId();
          assert.ok(!ids.has(next), `id ${next} repeated after failover`);
          ids.add(next);
        }
        const r = await client.getRegion(te.encode("before"));
        assert.ok(r.region && r.region.peers.length === 3);
        // Both survivors answer GetMembers with the same leader.
        for (const addr of survivors) {
          const one = new ServiceClient("metaservicepb.Meta", addr);
          try {
            const res = await one.unary<mpb.GetMembersResponse>("GetMembers", {
              header: { cluster_id: client.cluster_id },
            });
            assert.equal(res.leader?.peer_urls?.[0], leader);
          } finally {
            one.close();
          }
        }
        // Stores keep heartbeating to the new leader: the data stays reachable.
        assert.equal(new TextDecoder().decode((await c.get(te.encode("before")))!), "1");
        await c.put(te.encode("after"), te.encode("2"));
        const stores = await client.getAllStores();
        assert.equal(stores.length, 3);
      } finally {
        client.close();
      }
    }),
});

/** A client for raw calls: large messages allowed. */
function rawClient(addr: string): grpc.Client {
  return new grpc.Client(addr, grpc.credentials.createInsecure(), {
    "grpc.max_send_message_length": 128 * 1024 * 1024,
  });
}

/** Sends `body` as the raw message of `method` (no protobuf encoding). */
function rawCall(client: grpc.Client, method: string, body: Uint8Array): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    client.makeUnaryRequest(
      `/metaservicepb.Meta/${method}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(body),
      { deadline: new Date(Date.now() + 20_000) },
      (err, res) => {
        if (err) reject(err);
        else resolve(res!);
      },
    );
  });
}

Deno.test({
  name: "meta: garbage and oversized requests get errors, never a crash",
  ...CROSS_PROCESS,
  // One raw client for every bad call, closed only after the cluster is gone:
  // a client that gracefully closes its connection right after a call can
  // abort the server inside Deno's nghttp2 (denoland/deno#36788, README),
  // which is not what this test is about.
  fn: async () => {
    const raw: { client: grpc.Client | null } = { client: null };
    try {
      await garbageAndOversized((addr) => (raw.client ??= rawClient(addr)));
    } finally {
      raw.client?.close();
    }
  },
});

function garbageAndOversized(clientFor: (addr: string) => grpc.Client): Promise<void> {
  return withMetaCluster({ metas: 1, stores: 1 }, async (c) => {
    await waitFor("bootstrapped", () => c.client.isBootstrapped());
    const addr = c.metas[0].addr;
    const client = clientFor(addr);
    const failures: string[] = [];
    const expectError = async (what: string, p: Promise<unknown>) => {
      try {
        await p;
        failures.push(`${what}: answered without an error`);
      } catch (err) {
        const code = (err as grpc.ServiceError).code;
        console.log(`${what}: ${grpc.status[code] ?? code}`);
      }
    };
    // Bytes that are not a protobuf message.
    const garbage = new Uint8Array(300).map((_, i) => (i * 131 + 7) & 0xff);
    for (const m of ["GetRegion", "RegionHeartbeat", "PutStore", "AskSplit", "Bootstrap"]) {
      await expectError(`garbage ${m}`, rawCall(client, m, garbage));
    }
    // A message past the server's size limit.
    await expectError(
      "oversized GetRegion",
      rawCall(client, "GetRegion", new Uint8Array(65 * 1024 * 1024)),
    );
    assert.deepEqual(failures, []);

    // Well-formed but wrong requests get ErrorType answers.
    const direct = new ServiceClient("metaservicepb.Meta", addr);
    try {
      const cluster_id = c.client.cluster_id || (await c.client.members()).header!.cluster_id;
      const call = async (method: string, req: object) =>
        (await direct.unary<{ header: mpb.ResponseHeader }>(method, req)).header.error;
      const wrong = await call("GetRegion", {
        header: { cluster_id: cluster_id + 1 },
        region_key: te.encode("k"),
      });
      assert.ok(
        wrong?.type === ErrorType.INCOMPATIBLE_VERSION || wrong?.type === ErrorType.UNKNOWN,
        `wrong cluster id: ${JSON.stringify(wrong)}`,
      );
      const header = { cluster_id };
      for (
        const [method, req] of [
          ["RegionHeartbeat", { header }],
          ["RegionHeartbeat", { header, region: { id: 1, peers: [] }, leader: { id: 9 } }],
          ["PutStore", { header }],
          ["PutStore", { header, store: { id: 0, address: "" } }],
          ["AskSplit", { header, region: { id: 123456, peers: [] } }],
          ["ReportSplit", { header, left: null, right: null }],
          ["GetRegionByID", { header, region_id: 987654 }],
          ["GetStore", { header, store_id: 987654 }],
          ["StoreHeartbeat", { header }],
          ["ScanRegions", { header, limit: -5 }],
          ["GetRegion", { header, region_key: new Uint8Array(4 * 1024 * 1024) }],
        ] as const
      ) {
        let err: mpb.Error | null | undefined;
        try {
          err = await call(method, req);
        } catch (e) {
          console.log(`${method}: rejected at the gRPC level: ${(e as Error).message}`);
          continue;
        }
        console.log(
          `${method} ${JSON.stringify(req).slice(0, 60)}: ${err?.type} ${err?.message}`,
        );
        if (method !== "GetRegion" && method !== "ScanRegions") {
          assert.ok(err && err.type !== ErrorType.OK, `${method} must fail`);
        }
      }
    } finally {
      direct.close();
    }
    // Still alive and serving.
    assert.equal((await c.client.members()).members.length, 1);
    assert.ok(await c.client.isBootstrapped());
    assert.ok((await c.client.allocId()) > 0);
  });
}
