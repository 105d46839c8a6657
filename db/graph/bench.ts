/**
 * `deno task bench graph`: GRAPH.QUERY on a real local cluster (1 meta, 3
 * stores, 1 db on free ports, temp data dir, all started and stopped here).
 *
 * 1. Load: an index on :N(id), then `--nodes` nodes (default 100 000) and
 *    `--edges-per-node` × nodes relationships (default 5 → 500 000) with
 *    batched UNWIND/CREATE queries of `--chunk` nodes (default 250) each:
 *    250 nodes and 1 250 relationships are 4 500 records, under the 10 000 a
 *    query's single atomic batch may hold, and small enough for the store to
 *    commit within the db's 3 s RPC deadline on a busy machine. A batch that
 *    answers TRYAGAIN (its outcome unknown) is checked by counting its nodes
 *    and relationships, then retried only if it did not happen. Each batch links its own nodes
 *    (nodes of earlier batches would need an index seek per relationship),
 *    so the graph is `nodes / chunk` dense random components.
 * 2. Neighbourhood reads, first from one connection (200 queries: latency
 *    without queueing), then from `--clients` concurrent connections
 *    (`--queries` in all; GRAPH.RO_QUERY, random start node found through
 *    the index): 1-hop
 *    `MATCH (a:N {id: X})-[:R]->(b) RETURN count(b)` and 2-hop
 *    `MATCH (a:N {id: X})-[:R]->()-[:R]->(c) RETURN count(c)`, queries per
 *    second and latency percentiles.
 *
 * Prints a JSON summary and writes bench-results/graph.json.
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Progress } from "@eraft/shared/progress";
import { encodeCommand, RespClient } from "../testing/resp_client.ts";
import { type Proc, startEraftCluster, stopProc } from "../testing/procs.ts";
import { type ClientValue, frameValue } from "./reply.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** One GRAPH command on a connection; throws on an error reply. */
async function call(c: RespClient, ...args: string[]): Promise<ClientValue> {
  await c.send(encodeCommand(args));
  const r = await c.readFrame();
  if (!r) throw new Error("connection closed");
  const v = frameValue(r.f);
  if (v !== null && typeof v === "object" && "error" in v) {
    throw new Error(`${args.slice(0, 2).join(" ")}: ${v.error}`);
  }
  return v;
}

/** The value of a stats line such as "Nodes created: 5" in a GRAPH.QUERY reply. */
function stat(reply: ClientValue, name: string): number {
  const stats = (reply as ClientValue[])[(reply as ClientValue[]).length - 1] as string[];
  const line = stats.find((s) => s.startsWith(`${name}: `));
  return line ? Number(line.slice(name.length + 2)) : 0;
}

/** Nodes with ids in [base, base + n) and relationships leaving them. */
async function batchCounts(c: RespClient, base: number, n: number): Promise<[number, number]> {
  const where = `WHERE a.id >= ${base} AND a.id < ${base + n}`;
  const nodes = await call(c, "GRAPH.RO_QUERY", "g", `MATCH (a:N) ${where} RETURN count(a)`);
  const rels = await call(
    c,
    "GRAPH.RO_QUERY",
    "g",
    `MATCH (a:N)-[r:R]->() ${where} RETURN count(r)`,
  );
  const first = (v: ClientValue) => Number(((v as ClientValue[])[1] as ClientValue[][])[0][0]);
  return [first(nodes), first(rels)];
}

/** Latency percentile (ms) of sorted samples. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Queries of the single-client latency phase of each read test. */
const SERIAL_QUERIES = 200;

interface ReadResult {
  queries: number;
  seconds: number;
  qps: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Mean of the returned counts (sanity: about the fan-out). */
  mean_result: number;
}

/** `clients` connections each running `per_client` queries made by `make`. */
async function readLoad(
  port: number,
  clients: number,
  per_client: number,
  make: (rand: () => number) => string,
): Promise<ReadResult> {
  const conns = await Promise.all(Array.from({ length: clients }, () => RespClient.connect(port)));
  const lat: number[] = [];
  let sum = 0;
  const t0 = performance.now();
  try {
    await Promise.all(conns.map(async (c, ci) => {
      let seed = 0x9e3779b9 ^ (ci * 7919);
      const rand = () => {
        seed = (seed * 1103515245 + 12345) >>> 0;
        return seed / 2 ** 32;
      };
      for (let i = 0; i < per_client; i++) {
        const q = make(rand);
        const s = performance.now();
        const r = await call(c, "GRAPH.RO_QUERY", "g", q) as ClientValue[];
        lat.push(performance.now() - s);
        sum += Number(((r[1] as ClientValue[])[0] as ClientValue[])[0]);
      }
    }));
  } finally {
    for (const c of conns) c.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return {
    queries: lat.length,
    seconds: Number(seconds.toFixed(3)),
    qps: Number((lat.length / seconds).toFixed(1)),
    p50_ms: Number(percentile(lat, 50).toFixed(3)),
    p99_ms: Number(percentile(lat, 99).toFixed(3)),
    max_ms: Number(lat[lat.length - 1].toFixed(3)),
    mean_result: Number((sum / lat.length).toFixed(2)),
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      nodes: { type: "string", default: "100000" },
      "edges-per-node": { type: "string", default: "5" },
      chunk: { type: "string", default: "250" },
      clients: { type: "string", default: "16" },
      queries: { type: "string", default: "2000" },
    },
  });
  const nodes = Number(values.nodes);
  const per_node = Number(values["edges-per-node"]);
  const chunk = Math.min(Number(values.chunk), nodes);
  const clients = Number(values.clients);
  const queries = Number(values.queries);
  if (![nodes, per_node, chunk, clients, queries].every((x) => Number.isSafeInteger(x) && x > 0)) {
    console.error(
      "bench graph: --nodes, --edges-per-node, --chunk, --clients, --queries: positive integers",
    );
    return 2;
  }
  if (nodes % chunk !== 0) {
    console.error("bench graph: --nodes must be a multiple of --chunk");
    return 2;
  }
  const dir = await Deno.makeTempDir({ prefix: "eraft-bench-graph-" });
  const procs: Proc[] = [];
  const chunks = nodes / chunk;
  const progress = new Progress("bench graph", 5 + chunks);
  let summary: Record<string, unknown> = {};
  try {
    progress.step("starting meta, 3 stores, db");
    const port = await startEraftCluster(dir, procs);
    // Let region 1 reach 3 replicas before loading.
    await new Promise((r) => setTimeout(r, 5000));

    const c = await RespClient.connect(port);
    let created_nodes = 0, created_edges = 0, retries = 0;
    const load_t0 = performance.now();
    try {
      await call(c, "GRAPH.QUERY", "g", "CREATE INDEX FOR (n:N) ON (n.id)", "TIMEOUT", "0");
      for (let k = 0; k < chunks; k++) {
        const base = k * chunk;
        progress.step(`load batch ${k + 1}/${chunks}: nodes ${base}..${base + chunk - 1}`);
        const q = `UNWIND range(${base}, ${base + chunk - 1}) AS i CREATE (n:N {id: i}) ` +
          `WITH collect(n) AS ns UNWIND range(0, ${chunk * per_node - 1}) AS j ` +
          `WITH ns[j % ${chunk}] AS a, ns[(j * 7919 + 13 + j / ${chunk}) % ${chunk}] AS b ` +
          `CREATE (a)-[:R]->(b)`;
        for (let attempt = 1;; attempt++) {
          try {
            const r = await call(c, "GRAPH.QUERY", "g", q, "TIMEOUT", "0");
            created_nodes += stat(r, "Nodes created");
            created_edges += stat(r, "Relationships created");
            break;
          } catch (e) {
            if (!/TRYAGAIN/.test(String(e)) || attempt >= 5) throw e;
            retries++;
            progress.log(`load batch ${k + 1}: ${String(e).slice(0, 160)}; checking it`);
            await new Promise((r) => setTimeout(r, 2000));
            const [n, r] = await batchCounts(c, base, chunk);
            if (n === chunk && r === chunk * per_node) {
              created_nodes += n;
              created_edges += r;
              break;
            }
            if (n !== 0) throw new Error(`batch ${k + 1} half there: ${n} nodes, ${r} edges`);
          }
        }
      }
    } finally {
      c.close();
    }
    const load_s = (performance.now() - load_t0) / 1000;
    if (created_nodes !== nodes || created_edges !== nodes * per_node) {
      throw new Error(
        `loaded ${created_nodes} nodes / ${created_edges} edges, wanted ${nodes} / ${
          nodes * per_node
        }`,
      );
    }
    const pick = (rand: () => number) => Math.floor(rand() * nodes);
    const per_client = Math.max(1, Math.floor(queries / clients));
    const hops: Record<string, (r: () => number) => string> = {
      one_hop: (r) => `MATCH (a:N {id: ${pick(r)}})-[:R]->(b) RETURN count(b)`,
      two_hop: (r) => `MATCH (a:N {id: ${pick(r)}})-[:R]->()-[:R]->(c) RETURN count(c)`,
    };
    const reads: Record<string, ReadResult> = {};
    for (const [name, make] of Object.entries(hops)) {
      // One client first (latency without queueing), then the concurrent load.
      for (const [n, per] of [[1, SERIAL_QUERIES], [clients, per_client]]) {
        progress.step(`${name} reads: ${n} client(s) × ${per} queries`);
        const res = await readLoad(port, n, per, make);
        reads[`${name}_c${n}`] = res;
        progress.log(
          `${name} c=${n}: ${res.qps} q/s, p50 ${res.p50_ms} ms, p99 ${res.p99_ms} ms`,
        );
      }
    }
    summary = {
      cluster: "1 meta + 3 stores (--workers 1) + 1 db, local processes on 127.0.0.1",
      graph: {
        nodes: created_nodes,
        edges: created_edges,
        batches: chunks,
        batches_retried_after_tryagain: retries,
        nodes_per_batch: chunk,
        shape: `random out-degree ${per_node} within each batch of ${chunk} nodes`,
      },
      load: {
        seconds: Number(load_s.toFixed(1)),
        nodes_per_s: Number((created_nodes / load_s).toFixed(0)),
        edges_per_s: Number((created_edges / load_s).toFixed(0)),
      },
      clients,
      reads,
    };
  } catch (e) {
    for (const p of procs) console.error(`---- ${p.name}\n${p.out.slice(-3000)}`);
    throw e;
  } finally {
    progress.done();
    for (const p of procs.reverse()) await stopProc(p);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  const text = JSON.stringify(summary, null, 2);
  console.log(text);
  await Deno.mkdir(join(ROOT, "bench-results"), { recursive: true });
  await Deno.writeTextFile(join(ROOT, "bench-results", "graph.json"), text + "\n");
  console.log("results written to bench-results/graph.json");
  return 0;
}

if (import.meta.main) Deno.exit(await main());
