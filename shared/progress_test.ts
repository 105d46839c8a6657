import assert from "node:assert/strict";
import { Progress } from "./progress.ts";

Deno.test("progress: without a terminal, one plain line per step and a closing line", () => {
  const lines: string[] = [];
  const p = new Progress("bench db", 3, { tty: false, write: (l) => lines.push(l) });
  p.step("SET c=1 · eraft");
  p.step("SET c=1 · redis");
  p.setTotal(2);
  p.step("extra");
  p.done();
  p.done();
  p.step("after done");
  assert.equal(lines.length, 4, lines.join("\n"));
  assert.match(lines[0], /^bench db \[1\/3\] SET c=1 · eraft \(0:0\d\)$/);
  assert.match(lines[1], /^bench db \[2\/3\] SET c=1 · redis/);
  // setTotal never goes below the units already started.
  assert.match(lines[2], /^bench db \[3\/3\] extra/);
  assert.match(lines[3], /^bench db done in 0:0\d$/);
  for (const l of lines) assert.ok(!l.includes("\x1b"), "no control codes off a terminal");
});

Deno.test("progress: on a terminal, a bar with step, count and elapsed time; no timers left", () => {
  let out = "";
  const stream = { isTTY: true, columns: 120, write: (s: string) => (out += s, true) };
  const p = new Progress("bench store", 2, { tty: true, stream });
  p.step("put c=1");
  p.log("a result line");
  p.step("get c=1");
  // Updates are drawn by the bar's timer; a log line redraws at once.
  p.log("another result line");
  p.done();
  // deno-lint-ignore no-control-regex
  const frames = out.replace(/\x1b(\[[0-9;?]*[a-zA-Z]|[78])/g, "\n").split("\n").filter((l) =>
    l.startsWith("bench store")
  );
  assert.ok(frames.some((f) => /^bench store \[░+\] 0\/2 put c=1 \| 0:00$/.test(f)), out);
  assert.ok(frames.some((f) => /^bench store \[█+░+\] 1\/2 get c=1 \| 0:00$/.test(f)), out);
  // Stopped with clearOnComplete: the last thing written erases the bar's line.
  // deno-lint-ignore no-control-regex
  assert.match(out, /\x1b\[[0-2]?K$/);
});
