/**
 * Crash-restart durability on a real cluster (1 meta, 3 stores, 1 db): every
 * write a client saw acknowledged is still there after (1) 20 cycles of
 * kill -9 and restart of a random store under write load, and (2) a kill -9
 * of every process at once followed by a restart of the whole cluster.
 * Store choices come from a printed seed.
 */
import assert from "node:assert/strict";
import { Prng } from "@eraft/raft";
import { NemesisCluster, waitFor } from "./nemesis/cluster.ts";
import { TimedClient } from "./nemesis/workload.ts";

const CROSS_PROCESS = { sanitizeOps: false, sanitizeResources: false } as const;
const SEED = Number(Deno.env.get("ERAFT_DURABILITY_SEED") ?? "20240509");
const CYCLES = 20;

/** Writers of write-once keys; `acked` holds every key whose SET answered OK. */
class Writers {
  readonly acked: string[] = [];
  unknown = 0;
  #stop = false;
  #running: Promise<void>[] = [];

  constructor(readonly port: () => number, readonly n: number, readonly tag: string) {}

  start(): void {
    for (let w = 0; w < this.n; w++) this.#running.push(this.#writer(w));
  }

  async #writer(w: number): Promise<void> {
    const c = new TimedClient(this.port, 5000);
    try {
      for (let i = 0; !this.#stop; i++) {
        const k = `dur:${this.tag}:${w}:${i}`;
        const r = await c.call(["SET", k, k]);
        if (r.kind === "ok") this.acked.push(k);
        else {
          this.unknown++;
          await new Promise((res) => setTimeout(res, 50));
        }
      }
    } finally {
      c.close();
    }
  }

  async stop(): Promise<void> {
    this.#stop = true;
    await Promise.all(this.#running);
  }
}

/** Reads every key back (MGET in pages, retried); returns the missing ones. */
async function missing(port: number, keys: string[]): Promise<string[]> {
  const c = new TimedClient(() => port, 10_000);
  const out: string[] = [];
  try {
    for (let i = 0; i < keys.length; i += 200) {
      const page = keys.slice(i, i + 200);
      const vals = await waitFor(`MGET page ${i}`, async () => {
        const r = await c.call(["MGET", ...page]);
        return r.kind === "ok" ? r.value as Array<string | null> : null;
      }, 60_000);
      page.forEach((k, j) => vals[j] !== k && out.push(k));
    }
  } finally {
    c.close();
  }
  return out;
}

async function grows(w: Writers, by: number, what: string): Promise<void> {
  const from = w.acked.length;
  await waitFor(what, () => Promise.resolve(w.acked.length >= from + by), 60_000);
}

async function withCluster(fn: (c: NemesisCluster) => Promise<void>): Promise<void> {
  const c = new NemesisCluster({ stores: 3, dbs: 1 });
  try {
    await c.start();
    await fn(c);
  } catch (err) {
    console.error(`durability seed ${SEED}\n${c.logs(3000)}`);
    throw err;
  } finally {
    await c.close();
  }
}

Deno.test({
  name: "durability: 20 × kill -9 of a random store under write load loses no acknowledged write",
  ...CROSS_PROCESS,
  async fn() {
    await withCluster(async (c) => {
      const rng = new Prng(SEED);
      const w = new Writers(() => c.dbPort(0), 4, "store");
      w.start();
      try {
        await grows(w, 20, "first writes");
        const victims: number[] = [];
        for (let cycle = 0; cycle < CYCLES; cycle++) {
          const i = rng.intBelow(c.stores.length);
          victims.push(i + 1);
          await c.kill(c.stores[i]);
          await grows(w, 10, `writes with store${i + 1} down (cycle ${cycle})`);
          await c.startStore(i);
          await grows(w, 10, `writes after store${i + 1} restarted (cycle ${cycle})`);
        }
        await w.stop();
        const gone = await missing(c.dbPort(0), w.acked);
        console.log(
          `seed ${SEED}: killed stores ${victims.join(",")}; ${w.acked.length} acknowledged, ` +
            `${w.unknown} unacknowledged, ${gone.length} lost`,
        );
        assert.deepEqual(gone.slice(0, 10), [], `lost acknowledged writes (seed ${SEED})`);
      } finally {
        await w.stop();
      }
    });
  },
});

Deno.test({
  name: "durability: kill -9 of the whole cluster and restart loses no acknowledged write",
  ...CROSS_PROCESS,
  async fn() {
    await withCluster(async (c) => {
      const w = new Writers(() => c.dbPort(0), 4, "all");
      w.start();
      try {
        await grows(w, 200, "writes before the crash");
        // Everything dies at once, writes in flight.
        await Promise.all([c.meta, ...c.stores, ...c.dbs].map((p) => c.kill(p)));
        await w.stop();
        await c.startMeta();
        await Promise.all(c.stores.map((_, i) => c.startStore(i)));
        await c.startDb(0);
        const gone = await missing(c.dbPort(0), w.acked);
        console.log(`${w.acked.length} acknowledged before the crash, ${gone.length} lost`);
        assert.deepEqual(gone.slice(0, 10), [], "lost acknowledged writes");
        // And the cluster takes writes again.
        const after = new Writers(() => c.dbPort(0), 2, "after");
        after.start();
        await grows(after, 20, "writes after the restart");
        await after.stop();
      } finally {
        await w.stop();
      }
    });
  },
});
