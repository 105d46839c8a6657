import assert from "node:assert/strict";
import { NO_PHASES, PhaseCpu } from "./phases.ts";

/** A clock the test moves by hand. */
function fakeClock() {
  const c = { us: 1000, closed: false, now_us: () => c.us, close: () => (c.closed = true) };
  return c;
}

Deno.test("PhaseCpu: nested phases are exclusive, and the rest of the thread's CPU is 'other'", () => {
  const clock = fakeClock();
  const p = new PhaseCpu(clock);
  clock.us += 5; // before any phase: other
  p.enter("loop");
  clock.us += 10;
  p.enter("apply");
  clock.us += 30;
  p.exit();
  clock.us += 2; // back in loop
  p.enter("fsync");
  clock.us += 7;
  p.exit();
  p.exit();
  clock.us += 4; // other
  const s = p.snapshot();
  assert.equal(s.loop, 12);
  assert.equal(s.apply, 30);
  assert.equal(s.fsync, 7);
  assert.equal(s.messages, 0);
  assert.equal(s.other, 9);
  const total = Object.values(s).reduce((a, b) => a + b, 0);
  assert.equal(total, 58, "phases and other add up to the thread's CPU since the start");
  p.close();
  assert.ok(clock.closed);
});

Deno.test("PhaseCpu: an exit without an enter is a bug, not a silent miscount", () => {
  const p = new PhaseCpu(fakeClock());
  assert.throws(() => p.exit(), /exit without enter/);
});

Deno.test("PhaseCpu.start measures real thread CPU where the platform has the clock", () => {
  const p = PhaseCpu.start();
  try {
    if (p === NO_PHASES) {
      console.log("skipped: no thread CPU clock on this platform");
      return;
    }
    p.enter("apply");
    let x = 0;
    const until = performance.now() + 20;
    while (performance.now() < until) x += Math.sqrt(x + 1);
    p.exit();
    assert.ok(x > 0);
    assert.ok(p.snapshot().apply > 1000, `20 ms busy counted ${p.snapshot().apply} µs`);
  } finally {
    p.close();
  }
});

Deno.test("NO_PHASES records nothing", () => {
  NO_PHASES.enter("apply");
  NO_PHASES.exit();
  assert.deepEqual(NO_PHASES.snapshot(), {});
});
