/**
 * Operating eraft against a real cluster (1 meta, 3 stores, 1 db; separate
 * processes on free 127.0.0.1 ports):
 *
 * - metrics scrape: every process serves Prometheus text on `/metrics` that
 *   parses as exposition format 0.0.4 and carries the numbers it should
 *   (gRPC per method, Raft proposals/applies, fsyncs, regions, leaders, RESP
 *   commands), and `INFO` reports the same command counts.
 * - dashboard: meta's page loaded in a real headless Chromium shows every
 *   store and region; a screenshot is saved to `test-artifacts/dashboard.png`.
 *   Skips, saying why, when `chromium` is not installed.
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Child, hasCommand, spawnDeno } from "@eraft/shared/testing";
import { str } from "../db/encoding/bytes.ts";
import { RespClient } from "../db/testing/resp_client.ts";
import { CROSS_PROCESS, freePort } from "./support/cluster.ts";
import { MetaCluster, waitFor } from "./support/meta_cluster.ts";

const DB_MAIN = new URL("./support/eraft_db.ts", import.meta.url).pathname;
const ARTIFACTS = new URL("../test-artifacts/", import.meta.url).pathname;
const enc = new TextEncoder();

/** `http://host:port` a process printed for its metrics endpoint. */
async function httpAddr(child: Child): Promise<string> {
  const m = await child.waitFor(/metrics on http:\/\/([0-9.]+:\d+)\/metrics/, 30_000);
  return `http://${m[1]}`;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Parses Prometheus text format 0.0.4; throws on a malformed line. A value is
 * what Go's ParseFloat accepts (the format's definition), so NaN and Inf in
 * any letter case: prom-client writes `Nan`, e.g. for event loop delay
 * statistics scraped again before the next sample.
 */
function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  const line_re =
    /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.eE+-]+|(?:nan|[+-]?inf(?:inity)?))( \d+)?$/i;
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    const m = line_re.exec(line);
    assert.ok(m, `not exposition format: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]] = l[2];
    }
    out.push({ name: m[1], labels, value: parseGoFloat(m[4]) });
  }
  return out;
}

/** A sample value as Go's ParseFloat reads it (JS's Number knows no `nan` or `inf`). */
function parseGoFloat(text: string): number {
  const special = text.toLowerCase().replace(/^\+/, "");
  if (special === "nan") return NaN;
  if (special === "inf" || special === "infinity") return Infinity;
  if (special === "-inf" || special === "-infinity") return -Infinity;
  return Number(text);
}

async function scrape(base: string): Promise<Sample[]> {
  const res = await fetch(`${base}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
}

/** Sum of a metric's samples whose labels include `where`. */
function sum(samples: Sample[], name: string, where: Record<string, string> = {}): number {
  return samples.filter((s) =>
    s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v)
  ).reduce((a, s) => a + s.value, 0);
}

function has(samples: Sample[], name: string): boolean {
  return samples.some((s) => s.name === name);
}

async function startCluster(): Promise<MetaCluster> {
  const cluster = new MetaCluster({ metas: 1, stores: 3 });
  await cluster.start();
  await waitFor("3 replicas with a leader", async () => {
    const rs = await cluster.regions();
    return rs.length > 0 && rs.every((r) => r.region!.peers.length === 3 && r.leader);
  }, 60_000);
  return cluster;
}

function dumpLogs(cluster: MetaCluster, db: Child | null): void {
  for (const p of [...cluster.metas, ...cluster.stores]) {
    if (p.child) console.error(`==== ${p.child.name}\n${p.child.output(3000)}`);
  }
  if (db) console.error(`==== db\n${db.output(3000)}`);
}

Deno.test({
  name: "metrics: every process serves Prometheus /metrics; INFO shares the numbers",
  ...CROSS_PROCESS,
  async fn() {
    const cluster = await startCluster();
    let db: Child | null = null;
    let client: RespClient | null = null;
    try {
      const port = freePort();
      db = spawnDeno("db", DB_MAIN, [
        "--addr",
        `127.0.0.1:${port}`,
        "--meta",
        cluster.metas.map((m) => m.addr).join(","),
      ]);
      await db.waitFor(/db listening on/, 60_000);
      client = await RespClient.connect(port);
      const N = 20;
      for (let i = 0; i < N; i++) {
        assert.equal(str(await client.call("SET", `k${i}`, `v${i}`)), "+OK\r\n");
      }
      assert.equal(str(await client.call("GET", "k3")), "$2\r\nv3\r\n");

      // db: per-command counts and latency; INFO commandstats from the same numbers.
      const db_samples = await scrape(await httpAddr(db));
      assert.equal(sum(db_samples, "eraft_db_commands_total", { command: "set" }), N);
      assert.equal(
        sum(db_samples, "eraft_db_command_duration_seconds_count", { command: "set" }),
        N,
      );
      assert.equal(sum(db_samples, "eraft_db_connected_clients"), 1);
      const info = str(await client.call("INFO", "commandstats"));
      assert.match(info, new RegExp(`cmdstat_set:calls=${N},usec=\\d+`));
      assert.match(str(await client.call("INFO")), /# Stats\r\ntotal_commands_processed:\d+/);
      // INFO keyspace counts over the cluster; INFO cluster shows the routing view.
      assert.match(
        str(await client.call("INFO", "keyspace")),
        new RegExp(`# Keyspace\r\ndb0:keys=${N},expires=0,avg_ttl=0\r\n`),
      );
      const cluster_info = str(await client.call("INFO", "cluster"));
      assert.match(cluster_info, /# Cluster\r\ncluster_enabled:0\r\neraft_backend:cluster\r\n/);
      assert.match(cluster_info, /eraft_regions_cached:[1-9]/);
      assert.match(cluster_info, /eraft_stores_known:[1-9]/);
      assert.ok(
        cluster_info.includes(`eraft_meta_addrs:${cluster.metas.map((m) => m.addr).join(",")}`),
      );
      const rpcs = Number(/eraft_rpcs:(\d+)/.exec(cluster_info)?.[1]);
      assert.ok(rpcs >= N, cluster_info);
      assert.ok(
        sum(await scrape(await httpAddr(db)), "eraft_db_routing_events_total", { event: "rpcs" }) >=
          rpcs,
      );

      // stores: gRPC per method, Raft, fsync, engine, regions and leaders.
      let leaders = 0;
      let regions = 0;
      for (const s of cluster.stores) {
        const base = await httpAddr(s.child!);
        // Worker stats arrive about once a second: wait for the writes to show.
        const samples = await waitFor(`raft applies on ${s.child!.name}`, async () => {
          const got = await scrape(base);
          return sum(got, "eraft_raft_applied_entries_total") >= N ? got : null;
        }, 30_000);
        assert.ok(sum(samples, "eraft_engine_fsyncs_total") > 0);
        assert.ok(sum(samples, "eraft_worker_loop_iterations_total") > 0, "the worker loop ran");
        assert.ok(sum(samples, "eraft_engine_fsync_duration_seconds_count") > 0);
        assert.ok(sum(samples, "eraft_raft_committed_entries_total") >= N);
        for (
          const name of [
            "eraft_grpc_requests_total",
            "eraft_worker_queue_depth",
            "eraft_engine_kv_bytes",
            "eraft_engine_raft_log_segments",
            "eraft_engine_compactions_total",
            "eraft_worker_restarts",
            "eraft_process_resident_memory_bytes",
          ]
        ) assert.ok(has(samples, name), `${s.child!.name} lacks ${name}`);
        assert.equal(sum(samples, "eraft_workers_ready"), 1);
        regions += sum(samples, "eraft_regions");
        leaders += sum(samples, "eraft_region_leaders");
        if (sum(samples, "eraft_region_leaders") > 0) {
          assert.ok(sum(samples, "eraft_raft_proposals_total") >= N, "the leader proposed");
          // db talks to stores over BatchCommands streams: counted when they open.
          assert.ok(
            sum(samples, "eraft_grpc_requests_total", { service: "storepb.Store" }) > 0,
            "the leader served the writes over gRPC",
          );
        }
      }
      const known = await cluster.regions();
      assert.equal(regions, known.length * 3, "every region has a replica on each store");
      assert.equal(leaders, known.length, "one leader per region");

      // meta: its RPCs and its view.
      const meta = await scrape(await httpAddr(cluster.metas[0].child!));
      assert.equal(sum(meta, "eraft_meta_is_leader"), 1);
      assert.equal(sum(meta, "eraft_meta_regions"), known.length);
      assert.equal(sum(meta, "eraft_meta_stores", { state: "Up" }), 3);
      assert.ok(
        sum(meta, "eraft_grpc_requests_total", {
          service: "metaservicepb.Meta",
          method: "StoreHeartbeat",
        }) > 0,
      );
    } catch (err) {
      dumpLogs(cluster, db);
      throw err;
    } finally {
      client?.close();
      await db?.stop();
      await cluster.close();
    }
  },
});

function chromiumPath(): string | null {
  for (const name of ["chromium", "chromium-browser"]) if (hasCommand(name)) return name;
  return null;
}

async function chromium(
  bin: string,
  profile: string,
  args: string[],
): Promise<{ ok: boolean; out: string; err: string }> {
  const p = await new Deno.Command(bin, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      `--user-data-dir=${profile}`,
      "--window-size=1200,1000",
      // Lets the page's scripts and fetches run before the dump or the shot.
      "--virtual-time-budget=5000",
      ...args,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const dec = new TextDecoder();
  return { ok: p.success, out: dec.decode(p.stdout), err: dec.decode(p.stderr) };
}

Deno.test({
  name: "dashboard: meta's page in headless Chromium shows the stores and regions",
  ...CROSS_PROCESS,
  ignore: chromiumPath() === null,
  async fn() {
    const bin = chromiumPath()!;
    const cluster = await startCluster();
    const profile = Deno.makeTempDirSync({ prefix: "eraft-chromium-" });
    try {
      const base = await httpAddr(cluster.metas[0].child!);
      const store_ids = cluster.stores.map((_, i) => cluster.storeId(i)).sort((a, b) => a - b);
      // Wait until meta has heard from every store, so the page has them all.
      const view = await waitFor("every store in /api/cluster", async () => {
        const v = await (await fetch(`${base}/api/cluster`)).json();
        return v.stores.length === 3 && v.stores.every((s: { state: string }) => s.state === "Up")
          ? v
          : null;
      }, 30_000);
      const region_ids: number[] = view.regions.map((r: { id: number }) => r.id);
      assert.ok(region_ids.length > 0);

      const dom = await chromium(bin, profile, ["--dump-dom", `${base}/`]);
      assert.ok(dom.ok, `chromium --dump-dom failed:\n${dom.err.slice(-2000)}`);
      const html = dom.out;
      assert.match(html, /data-ready="1"/, "the page rendered the data");
      assert.match(html, /data-leader="true"/);
      const shown_stores = [...html.matchAll(/data-store-id="(\d+)" data-state="(\w+)"/g)];
      assert.deepEqual(shown_stores.map((m) => Number(m[1])), store_ids);
      assert.ok(shown_stores.every((m) => m[2] === "Up"));
      const shown_regions = [...html.matchAll(/data-region-id="(\d+)" data-leader-store="(\d+)"/g)];
      assert.deepEqual(shown_regions.map((m) => Number(m[1])).sort(), [...region_ids].sort());
      assert.ok(shown_regions.every((m) => store_ids.includes(Number(m[2]))), "leaders shown");
      assert.equal((html.match(/class="uplot/g) ?? []).length, 2, "two live charts drawn");

      Deno.mkdirSync(ARTIFACTS, { recursive: true });
      const png = join(ARTIFACTS, "dashboard.png");
      const shot = await chromium(bin, profile, [`--screenshot=${png}`, `${base}/`]);
      assert.ok(shot.ok, `chromium --screenshot failed:\n${shot.err.slice(-2000)}`);
      const bytes = Deno.readFileSync(png);
      assert.deepEqual([...bytes.subarray(1, 4)], [...enc.encode("PNG")], "a PNG was written");
      console.log(`dashboard screenshot: ${png} (${bytes.length} bytes)`);
    } catch (err) {
      dumpLogs(cluster, null);
      throw err;
    } finally {
      Deno.removeSync(profile, { recursive: true });
      await cluster.close();
    }
  },
});

if (chromiumPath() === null) {
  console.log(
    "dashboard browser test skipped: chromium is not installed (apt-get install chromium)",
  );
}
