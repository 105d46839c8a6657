import assert from "node:assert/strict";
import { client, HotCounter, HotHistogram, registry } from "./metrics.ts";

/** The text exposition lines of one metric family. */
async function linesOf(reg: client.Registry, name: string): Promise<string[]> {
  return (await reg.metrics()).split("\n").filter((l) =>
    l.startsWith(name) || l.includes(` ${name} `)
  );
}

Deno.test("HotHistogram renders exactly what prom-client's Histogram renders", async () => {
  const hot = new HotHistogram("test_hot_seconds", "latency", ["command"]);
  const reference = new client.Registry();
  const prom = new client.Histogram({
    name: "test_hot_seconds",
    help: "latency",
    labelNames: ["command"],
    buckets: hot.buckets,
    registers: [reference],
  });
  const samples = [0.00001, 0.0003, 0.0003, 0.004, 0.2, 99];
  const get = hot.child("get");
  for (const v of samples) {
    get.observe(v);
    prom.observe({ command: "get" }, v);
  }
  hot.child("set").observe(0.001);
  prom.observe({ command: "set" }, 0.001);
  assert.deepEqual(
    await linesOf(registry, "test_hot_seconds"),
    await linesOf(reference, "test_hot_seconds"),
  );
  registry.removeSingleMetric("test_hot_seconds");
});

Deno.test("HotCounter counts per label set, children are reused", async () => {
  const hot = new HotCounter("test_hot_total", "events", ["event", "result"]);
  const a = hot.child("rpc", "ok");
  a.inc();
  a.inc(2);
  hot.child("rpc", "ok").inc();
  hot.child("rpc", "error").inc();
  assert.equal(hot.child("rpc", "ok"), a, "one child per label set");
  const text = (await registry.metrics()).split("\n").filter((l) => l.startsWith("test_hot_total"));
  assert.deepEqual(text.sort(), [
    'test_hot_total{event="rpc",result="error"} 1',
    'test_hot_total{event="rpc",result="ok"} 4',
  ]);
  registry.removeSingleMetric("test_hot_total");
});
