/**
 * Proposals/s of the Raft core alone: a 3-node cluster in memory, messages
 * delivered synchronously, storage in MemoryStorage, 128-byte proposals in
 * batches (the leader streams while followers acknowledge).
 *
 *   deno run raft/bench.ts [--proposals N]      (or `deno bench raft/bench.ts`)
 * @module
 */
import type { Message } from "@eraft/proto/gen/eraftpb.ts";
import { MemoryStorage } from "./memory_storage.ts";
import { Prng } from "./prng.ts";
import { StateType } from "./raft.ts";
import { RawNode } from "./raw_node.ts";

/** Runs `proposals` proposals through a 3-node in-memory cluster; returns the count applied on the leader. */
export function runCluster(proposals: number, batch = 64): number {
  const ids = [1, 2, 3];
  const storages = new Map(ids.map((id) => [id, MemoryStorage.withPeers(ids)]));
  const nodes = new Map(ids.map((id) => [
    id,
    new RawNode({ id, storage: storages.get(id)!, rng: new Prng(id), max_inflight_msgs: 256 }),
  ]));
  const applied = new Map(ids.map((id) => [id, 0]));
  const queue: Message[] = [];
  const pump = () => {
    for (let round = 0; round < 1_000_000; round++) {
      let busy = false;
      for (const id of ids) {
        const n = nodes.get(id)!;
        if (!n.hasReady()) continue;
        busy = true;
        const rd = n.ready();
        const s = storages.get(id)!;
        if (rd.entries.length > 0) s.append(rd.entries);
        if (rd.hard_state) s.setHardState(rd.hard_state);
        for (const m of rd.messages) queue.push(m);
        for (const e of rd.committed_entries) {
          if (e.data.byteLength > 0) applied.set(id, applied.get(id)! + 1);
        }
        n.advance(rd);
        if (s.lastIndex() - s.firstIndex() > 4096) {
          const a = n.status().applied;
          if (a > s.firstIndex()) s.compact(a);
        }
      }
      while (queue.length > 0) {
        busy = true;
        const m = queue.shift()!;
        nodes.get(m.to)!.step(m);
      }
      if (!busy) return;
    }
  };
  nodes.get(1)!.campaign();
  pump();
  const leader = nodes.get(1)!;
  if (leader.status().soft_state.raft_state !== StateType.Leader) throw new Error("no leader");
  const data = new Uint8Array(128);
  for (let sent = 0; sent < proposals;) {
    for (let i = 0; i < batch && sent < proposals; i++, sent++) leader.propose(data);
    pump();
  }
  return applied.get(1)!;
}

if (import.meta.main) {
  const arg = Deno.args.indexOf("--proposals");
  const n = arg >= 0 ? Number(Deno.args[arg + 1]) : 200_000;
  runCluster(10_000); // warm-up
  const t0 = performance.now();
  const done = runCluster(n);
  const secs = (performance.now() - t0) / 1000;
  console.log(
    `3-node in-memory raft core: ${done} proposals in ${secs.toFixed(2)}s = ${
      Math.round(done / secs)
    } proposals/s`,
  );
}

Deno.bench("raft core: 3-node in-memory cluster, 10k proposals of 128 bytes", () => {
  runCluster(10_000);
});
