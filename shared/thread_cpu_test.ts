import assert from "node:assert/strict";
import { threadCpuClock } from "./thread_cpu.ts";

Deno.test("threadCpuClock: counts this thread's CPU work, not time spent waiting", async () => {
  const clock = threadCpuClock();
  if (clock === null) {
    console.log("skipped: no thread CPU clock on this platform");
    return;
  }
  using _ = { [Symbol.dispose]: () => clock.close() };
  const busy_start = clock.now_us();
  let x = 0;
  const until = performance.now() + 50;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  const busy_us = clock.now_us() - busy_start;
  assert.ok(x > 0);
  const idle_start = clock.now_us();
  await new Promise((r) => setTimeout(r, 50));
  const idle_us = clock.now_us() - idle_start;
  // Busy for 50 ms of wall time: most of it is CPU (a shared machine may steal some).
  assert.ok(busy_us > 10_000, `busy loop counted ${busy_us} µs`);
  assert.ok(idle_us < busy_us / 2, `a 50 ms sleep counted ${idle_us} µs, busy ${busy_us} µs`);
});
