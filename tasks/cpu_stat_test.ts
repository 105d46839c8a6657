import assert from "node:assert/strict";
import {
  busyBetween,
  contextSwitches,
  cpuDelta,
  groupByName,
  machineTicks,
  parseStat,
  processCpuMs,
  threadCpu,
} from "./cpu_stat.ts";

// proc(5): pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime ...
const line = (comm: string, utime: number, stime: number) =>
  `4242 (${comm}) S 1 4242 4242 0 -1 4194560 100 0 0 0 ${utime} ${stime} 0 0 20 0 9 0 1 2 3`;

Deno.test("parseStat reads comm, utime and stime, even with spaces and parentheses in comm", () => {
  assert.deepEqual(parseStat(line("deno", 150, 20)), { comm: "deno", user_ms: 1500, sys_ms: 200 });
  assert.deepEqual(parseStat(line("V8 DefaultWorke", 3, 1)), {
    comm: "V8 DefaultWorke",
    user_ms: 30,
    sys_ms: 10,
  });
  assert.equal(parseStat(line("a) (b", 1, 2)).comm, "a) (b");
  assert.throws(() => parseStat("garbage"), /not a \/proc stat line/);
  assert.throws(() => parseStat("1 (x) S 1"), /no utime\/stime/);
});

Deno.test("threads of one name add up, and deltas never go below zero", () => {
  const before = groupByName([parseStat(line("gc", 10, 0)), parseStat(line("gc", 5, 1))]);
  assert.deepEqual(before.get("gc"), { user_ms: 150, sys_ms: 10 });
  const after = groupByName([parseStat(line("gc", 12, 0)), parseStat(line("main", 7, 7))]);
  const d = cpuDelta(before, after);
  assert.deepEqual(d.get("gc"), { user_ms: 0, sys_ms: 0 }, "a thread that ended took its time");
  assert.deepEqual(d.get("main"), { user_ms: 70, sys_ms: 70 }, "a new thread counts from zero");
});

Deno.test("this process's threads are read from /proc, and burning CPU shows in them", () => {
  const total = (t: ReturnType<typeof threadCpu>) =>
    [...t.values()].reduce((n, g) => n + g.user_ms + g.sys_ms, 0);
  const before = threadCpu("self");
  assert.ok(before.size >= 1);
  const deadline = Date.now() + 10_000;
  let x = 0;
  while (total(threadCpu("self")) === total(before) && Date.now() < deadline) {
    for (let i = 0; i < 1e6; i++) x += i;
  }
  assert.ok(total(threadCpu("self")) > total(before), `no CPU time counted (${x})`);
  const m = machineTicks();
  assert.ok(m.total > 0 && m.busy >= 0 && m.busy <= m.total);
});

Deno.test("processCpuMs adds up processes, grows as one burns CPU, and counts a missing one as 0", () => {
  const before = processCpuMs([Deno.pid]);
  const until = performance.now() + 200;
  let x = 0;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  assert.ok(x > 0);
  const after = processCpuMs([Deno.pid]);
  assert.ok(after > before, `${before} -> ${after}`);
  assert.ok(processCpuMs([Deno.pid, Deno.pid]) >= 2 * after, "two pids add up");
  assert.equal(processCpuMs([2 ** 22 + 12345]), 0, "a pid beyond pid_max is no process");
});

Deno.test("busyBetween is the busy share of the ticks between two readings, 0 over none", () => {
  assert.equal(busyBetween({ busy: 10, total: 100 }, { busy: 40, total: 200 }), 0.3);
  assert.equal(busyBetween({ busy: 10, total: 100 }, { busy: 10, total: 100 }), 0);
});

Deno.test("a thread that sleeps to wait counts a context switch", async () => {
  const before = contextSwitches(Deno.pid);
  // Each timer wait parks the main thread in epoll: a voluntary switch.
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 5));
  assert(contextSwitches(Deno.pid) > before, "three sleeps made no context switch");
  assert.throws(() => contextSwitches(2 ** 22 + 1), Deno.errors.NotFound);
});
