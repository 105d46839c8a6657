/**
 * `--phase-cpu` end to end on one store with a real region worker: writes
 * through the store show up as worker CPU by loop phase on `/metrics`.
 */
import assert from "node:assert/strict";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import { ServiceClient } from "@eraft/shared/grpc";
import { threadCpuClock } from "@eraft/shared/thread_cpu";
import type { StoreNode } from "./node.ts";
import { startOneStore } from "./testdata/one_store.ts";

const CTX: kvrpcpb.Context = { region_id: 1, region_epoch: { conf_ver: 1, version: 1 }, term: 0 };

/** `eraft_worker_phase_cpu_seconds_total` by phase, from Prometheus text. */
function phaseSeconds(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (
    const m of text.matchAll(/^eraft_worker_phase_cpu_seconds_total\{phase="(\w+)"\} (\S+)$/gm)
  ) {
    out.set(m[1], Number(m[2]));
  }
  return out;
}

Deno.test("store --phase-cpu: writes show up as worker CPU in apply and raft_write, a leader's fsync off the thread", async () => {
  const clock = threadCpuClock();
  if (clock === null) {
    console.log("skipped: no thread CPU clock on this platform");
    return;
  }
  clock.close();
  const dir = await Deno.makeTempDir({ prefix: "eraft-phase-cpu-test-" });
  let node: StoreNode | null = null;
  let client: ServiceClient | null = null;
  try {
    node = await startOneStore(dir, { metrics_addr: "127.0.0.1:0", phase_cpu: true });
    client = new ServiceClient("storepb.Store", node.addr);
    const enc = new TextEncoder();
    let written = 0;
    for (let attempt = 0; attempt < 500 && written < 50; attempt++) {
      const res = await client.unary<kvrpcpb.RawPutResponse>("RawPut", {
        context: CTX,
        key: enc.encode(`k${written}`),
        value: enc.encode("v"),
      });
      if (res.region_error) await new Promise((r) => setTimeout(r, 20)); // leader not elected yet
      else written++;
    }
    assert.equal(written, 50, "the single-replica region took the writes");
    // Worker stats reach the main thread about once a second.
    let phases = new Map<string, number>();
    for (let i = 0; i < 100 && !((phases.get("apply") ?? 0) > 0); i++) {
      await new Promise((r) => setTimeout(r, 100));
      phases = phaseSeconds(await (await fetch(`http://${node.metrics!.addr}/metrics`)).text());
    }
    for (const phase of ["apply", "raft_write", "messages", "loop", "post", "other"]) {
      assert.ok((phases.get(phase) ?? 0) > 0, `phase ${phase}: ${JSON.stringify([...phases])}`);
    }
    // The region's only replica leads: its log syncs on a runtime thread (log_sync.ts).
    assert.equal(phases.get("fsync") ?? 0, 0, `fsync inline: ${JSON.stringify([...phases])}`);
  } finally {
    client?.close();
    await node?.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
