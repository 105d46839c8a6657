import assert from "node:assert/strict";
import { str, utf8 } from "./encoding/bytes.ts";
import { ClusterBackend } from "./cluster_backend.ts";
import { MemoryBackend } from "./memory_backend.ts";
import { startDbServer } from "./server.ts";
import { RespClient } from "./testing/resp_client.ts";
import { registry } from "@eraft/shared/metrics";

async function withClient(
  backend: MemoryBackend,
  fn: (c: RespClient) => Promise<void>,
): Promise<void> {
  const s = await startDbServer({ addr: "127.0.0.1:0", backend, sweeper: null });
  const c = await RespClient.connect(s.port);
  try {
    await fn(c);
  } finally {
    c.close();
    await s.close();
  }
}

async function info(c: RespClient, ...args: string[]): Promise<string> {
  return str(await c.call("INFO", ...args));
}

/** The `name:value` lines of one section of an INFO reply (null when the section is absent). */
function section(text: string, name: string): Map<string, string> | null {
  const at = text.indexOf(`# ${name}\r\n`);
  if (at < 0) return null;
  const out = new Map<string, string>();
  for (const line of text.slice(at + name.length + 4).split("\r\n")) {
    if (line === "" || line.startsWith("#")) break;
    const i = line.indexOf(":");
    out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}

Deno.test("INFO keyspace: db0 keys/expires/avg_ttl only when asked for; plain INFO stays cheap", async () => {
  const backend = new MemoryBackend();
  await withClient(backend, async (c) => {
    // Empty: like Redis, no db0 line.
    assert.deepEqual(section(await info(c, "keyspace"), "Keyspace"), new Map());
    assert.equal(str(await c.call("SET", "a", "1")), "+OK\r\n");
    assert.equal(str(await c.call("SET", "b", "2", "EX", "100")), "+OK\r\n");
    assert.equal(str(await c.call("HSET", "h", "f", "v")), ":1\r\n");
    assert.equal(str(await c.call("SET", "gone", "x", "PX", "1")), "+OK\r\n");
    await new Promise((r) => setTimeout(r, 20));

    const ks = section(await info(c, "keyspace"), "Keyspace")!;
    const m = /^keys=3,expires=1,avg_ttl=(\d+)$/.exec(ks.get("db0") ?? "");
    assert.ok(m, `db0 line: ${ks.get("db0")}`);
    assert.ok(Number(m[1]) > 90_000 && Number(m[1]) <= 100_000, m[1]);

    // Only the section asked for.
    const only = await info(c, "keyspace");
    assert.equal(section(only, "Server"), null);
    assert.equal(section(only, "Cluster"), null);

    // Plain INFO (ioredis on connect) and INFO default: the header, no scan at all.
    let scans = 0;
    const scan = backend.scan.bind(backend);
    backend.scan = (...a) => (scans++, scan(...a));
    for (const args of [[], ["default"]]) {
      const text = await info(c, ...args);
      assert.deepEqual(section(text, "Keyspace"), new Map(), `INFO ${args}`);
      assert.ok(section(text, "Server")!.has("redis_version"));
    }
    assert.equal(scans, 0);
    await info(c, "keyspace");
    assert.ok(scans > 0);

    // INFO all / everything include it (and commandstats).
    for (const w of ["all", "everything"]) {
      const text = await info(c, w);
      assert.match(section(text, "Keyspace")!.get("db0")!, /^keys=3,expires=1,/);
      assert.ok(section(text, "Commandstats")!.has("cmdstat_set"));
    }
    // DBSIZE agrees with the count.
    assert.equal(str(await c.call("DBSIZE")), ":3\r\n");
  });
});

Deno.test("INFO cluster: cluster_enabled:0 and the memory backend's view", async () => {
  const backend = new MemoryBackend({ region_boundaries: [utf8("k"), utf8("t")] });
  await withClient(backend, async (c) => {
    assert.equal(str(await c.call("SET", "a", "1")), "+OK\r\n");
    const cl = section(await info(c, "cluster"), "Cluster")!;
    assert.equal(cl.get("cluster_enabled"), "0");
    assert.equal(cl.get("eraft_backend"), "memory");
    assert.equal(cl.get("eraft_regions"), "3");
    assert.equal(cl.get("eraft_batches"), String(backend.stats.batches));
    assert.ok(backend.stats.batches >= 1);
    assert.equal(cl.get("eraft_precondition_failures"), "0");
    // Cheap, so plain INFO carries it too.
    assert.equal(section(await info(c), "Cluster")!.get("cluster_enabled"), "0");
  });
});

Deno.test("ClusterBackend.describe: meta addresses, cache and routing counters without I/O", async () => {
  const be = new ClusterBackend({ meta: ["127.0.0.1:1", "127.0.0.1:2"] });
  try {
    const d = be.describe();
    assert.equal(d.kind, "cluster");
    const f = new Map(d.fields.map(([k, v]) => [k, String(v)]));
    assert.equal(f.get("eraft_meta_addrs"), "127.0.0.1:1,127.0.0.1:2");
    assert.equal(f.get("eraft_meta_current"), "127.0.0.1:1");
    for (const k of ["regions_cached", "stores_known", "rpcs", "retries", "leader_hops"]) {
      assert.equal(f.get(`eraft_${k}`), "0", k);
    }
    assert.equal(f.get("eraft_region_errors"), "");
  } finally {
    await be.close();
  }
});

Deno.test("INFO stats: expired_keys counts the keys this process's sweeper deleted", async () => {
  const backend = new MemoryBackend();
  const s = await startDbServer({
    addr: "127.0.0.1:0",
    backend,
    sweeper: { interval_ms: 5, idle_interval_ms: 10 },
  });
  const c = await RespClient.connect(s.port);
  try {
    const expired = async () =>
      Number(section(await info(c, "stats"), "Stats")!.get("expired_keys"));
    const before = await expired();
    assert.ok(Number.isInteger(before), "INFO stats has expired_keys");
    // PX 200: a TTL already past when the write runs (1 ms under load) deletes at once.
    for (const k of ["x1", "x2", "x3"]) {
      assert.equal(str(await c.call("SET", k, "v", "PX", "200")), "+OK\r\n");
    }
    assert.equal(str(await c.call("SET", "kept", "v")), "+OK\r\n");
    for (let i = 0; i < 600 && (await expired()) < before + 3; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(await expired(), before + 3);
    const prometheus = await registry.getSingleMetricAsString("eraft_db_sweeper_total");
    const m = /eraft_db_sweeper_total\{kind="expired"\} (\d+)/.exec(prometheus);
    assert.ok(m && Number(m[1]) >= 3, prometheus);
    const left = await backend.scan("default", utf8("k"), utf8("l"), 100, false, true);
    assert.equal(left.length, 1, "only kept's metadata is stored");
  } finally {
    c.close();
    await s.close();
  }
});
