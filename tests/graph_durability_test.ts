/**
 * Graph durability on a real cluster (1 meta, 3 stores, 1 db): every
 * GRAPH.QUERY write a client saw acknowledged — nodes and relationships — is
 * still there after (1) kill -9 of the store that leads the graph's region,
 * and (2) kill -9 of every process at once followed by a restart.
 */
import assert from "node:assert/strict";
import { type ClientValue, frameValue } from "../db/graph/reply.ts";
import { encodeCommand, RespClient } from "../db/testing/resp_client.ts";
import { NemesisCluster, waitFor } from "./nemesis/cluster.ts";
import { TimedClient } from "./nemesis/workload.ts";

const CROSS_PROCESS = { sanitizeOps: false, sanitizeResources: false } as const;

/**
 * Writers that grow chains of :W nodes in graph `graph`: each step creates a
 * node linked from the writer's previous node. A step counts as acknowledged
 * only when its reply says it created the node (and the relationship).
 */
class GraphWriters {
  readonly nodes: string[] = [];
  readonly edges: Array<[string, string]> = [];
  unknown = 0;
  #stop = false;
  #running: Promise<void>[] = [];

  constructor(readonly port: () => number, readonly n: number, readonly graph: string) {}

  start(): void {
    for (let w = 0; w < this.n; w++) this.#running.push(this.#writer(w));
  }

  async #writer(w: number): Promise<void> {
    const c = new TimedClient(this.port, 5000);
    let prev: string | null = null;
    try {
      for (let i = 0; !this.#stop; i++) {
        const k = `w${w}:${i}`;
        const q = prev === null
          ? `CREATE (:W {k: '${k}'})`
          : `MATCH (p:W {k: '${prev}'}) CREATE (p)-[:NEXT]->(:W {k: '${k}'})`;
        const r = await c.call(["GRAPH.QUERY", this.graph, q]);
        const stats = r.kind === "ok" && Array.isArray(r.value) ? r.value.join("\n") : "";
        if (/Nodes created: 1/.test(stats)) {
          this.nodes.push(k);
          if (prev !== null) {
            assert.match(stats, /Relationships created: 1/);
            this.edges.push([prev, k]);
          }
          prev = k;
        } else {
          // An error or no answer: the write may or may not have happened;
          // start a new chain so later steps never depend on it.
          this.unknown++;
          prev = null;
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

/** Result rows of a read-only query, as strings; retried until the cluster answers. */
function rows(port: number, graph: string, q: string): Promise<string[][]> {
  return waitFor(`GRAPH.RO_QUERY ${q}`, async () => {
    const c = await RespClient.connect(port);
    try {
      await c.send(encodeCommand(["GRAPH.RO_QUERY", graph, q]));
      const r = await c.readFrame();
      const v = r ? frameValue(r.f) : null;
      if (!Array.isArray(v) || v.length !== 3) return null; // e.g. TRYAGAIN while electing
      return (v[1] as ClientValue[][]).map((row) => row.map(String));
    } finally {
      c.close();
    }
  }, 60_000);
}

/** Asserts every acknowledged node and relationship is present, each once. */
async function verify(port: number, w: GraphWriters): Promise<void> {
  const names = (await rows(port, w.graph, "MATCH (n:W) RETURN n.k")).map((r) => r[0]);
  const have = new Set(names);
  assert.equal(have.size, names.length, "no node was written twice");
  const lost = w.nodes.filter((k) => !have.has(k));
  const links = new Set(
    (await rows(port, w.graph, "MATCH (a:W)-[:NEXT]->(b:W) RETURN a.k, b.k")).map((r) =>
      `${r[0]}>${r[1]}`
    ),
  );
  const lost_edges = w.edges.filter(([a, b]) => !links.has(`${a}>${b}`));
  console.log(
    `${w.graph}: ${w.nodes.length} nodes and ${w.edges.length} relationships acknowledged, ` +
      `${w.unknown} unacknowledged; lost ${lost.length} nodes, ${lost_edges.length} relationships`,
  );
  assert.deepEqual(lost.slice(0, 10), [], "lost acknowledged nodes");
  assert.deepEqual(lost_edges.slice(0, 10), [], "lost acknowledged relationships");
}

async function grows(w: GraphWriters, by: number, what: string): Promise<void> {
  const from = w.nodes.length;
  await waitFor(what, () => Promise.resolve(w.nodes.length >= from + by), 60_000);
}

async function withCluster(fn: (c: NemesisCluster) => Promise<void>): Promise<void> {
  const c = new NemesisCluster({ stores: 3, dbs: 1 });
  try {
    await c.start();
    await fn(c);
  } catch (err) {
    console.error(c.logs(3000));
    throw err;
  } finally {
    await c.close();
  }
}

Deno.test({
  name: "graph durability: kill -9 of the graph region's leader store loses no acknowledged write",
  ...CROSS_PROCESS,
  async fn() {
    await withCluster(async (c) => {
      const w = new GraphWriters(() => c.dbPort(0), 3, "gleader");
      w.start();
      try {
        await grows(w, 30, "graph writes before the kill");
        const regions = await c.regions();
        assert.equal(regions.length, 1, "one region holds the graph");
        const victim = c.storeIndex(regions[0].leader!.store_id);
        assert.ok(victim >= 0, "found the leader's process");
        await c.kill(c.stores[victim]);
        await grows(w, 30, "graph writes with the old leader down");
        await c.startStore(victim);
        await grows(w, 10, "graph writes after its restart");
        await w.stop();
        await verify(c.dbPort(0), w);
      } finally {
        await w.stop();
      }
    });
  },
});

Deno.test({
  name: "graph durability: kill -9 of the whole cluster and restart loses no acknowledged write",
  ...CROSS_PROCESS,
  async fn() {
    await withCluster(async (c) => {
      const w = new GraphWriters(() => c.dbPort(0), 3, "gall");
      w.start();
      try {
        await grows(w, 60, "graph writes before the crash");
        await Promise.all([c.meta, ...c.stores, ...c.dbs].map((p) => c.kill(p)));
        await w.stop();
        await c.startMeta();
        await Promise.all(c.stores.map((_, i) => c.startStore(i)));
        await c.startDb(0);
        await verify(c.dbPort(0), w);
        // And the graph takes writes again.
        const after = new GraphWriters(() => c.dbPort(0), 1, "gall");
        after.start();
        await grows(after, 5, "graph writes after the restart");
        await after.stop();
      } finally {
        await w.stop();
      }
    });
  },
});
