import assert from "node:assert/strict";
import { registry, startMetricsServer } from "./metrics.ts";

Deno.test("process metrics are registered once, when the process starts serving metrics", async () => {
  // Before: nothing samples the event loop (a supervisor parent never serves metrics).
  assert.equal(registry.getSingleMetric("eraft_nodejs_eventloop_lag_p99_seconds"), undefined);
  const first = await startMetricsServer("127.0.0.1:0");
  const second = await startMetricsServer("127.0.0.1:0"); // a second server registers nothing twice
  try {
    const text = await (await fetch(`http://${second.addr}/metrics`)).text();
    assert.match(text, /^eraft_process_resident_memory_bytes \d+/m);
    assert.match(text, /^eraft_nodejs_eventloop_lag_p99_seconds /m);
  } finally {
    await first.close();
    await second.close();
  }
});
