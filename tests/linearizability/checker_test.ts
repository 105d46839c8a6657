/** The linearizability checker on histories whose verdict is known. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { checkHistory, checkKey } from "./checker.ts";
import { HistoryRecorder, type Operation } from "./history.ts";
import {
  type ListInput,
  listModel,
  type ListOutput,
  type RegisterInput,
  registerModel,
  type RegisterOutput,
} from "./models.ts";
import { htmlReport, textReport } from "./report.ts";

type RegOp = Operation<RegisterInput, RegisterOutput>;

function op(
  client: number,
  input: RegisterInput,
  output: RegisterOutput | undefined,
  call_ms: number,
  return_ms: number,
  key = "k",
): RegOp {
  return { client, key, input, output, call_ms, return_ms };
}
const set = (v: string): RegisterInput => ({ op: "set", value: v });
const get: RegisterInput = { op: "get" };

Deno.test("checker: a sequential history that follows the model is linearizable", () => {
  const h = [
    op(1, set("a"), "OK", 0, 1),
    op(1, get, "a", 2, 3),
    op(1, { op: "del" }, 1, 4, 5),
    op(1, get, null, 6, 7),
  ];
  assert.equal(checkHistory(registerModel, h).verdict, "linearizable");
});

Deno.test("checker: a read concurrent with a write may see either value", () => {
  const sees_new = [op(1, set("a"), "OK", 0, 10), op(2, get, "a", 1, 2)];
  const sees_old = [op(1, set("a"), "OK", 0, 10), op(2, get, null, 1, 2)];
  assert.equal(checkHistory(registerModel, sees_new).verdict, "linearizable");
  assert.equal(checkHistory(registerModel, sees_old).verdict, "linearizable");
});

Deno.test("checker: a stale read after a completed write is not linearizable", () => {
  const h = [op(1, set("1"), "OK", 0, 1), op(1, set("2"), "OK", 2, 3), op(2, get, "1", 4, 5)];
  const r = checkHistory(registerModel, h);
  assert.equal(r.verdict, "not_linearizable");
  assert.equal(r.violation?.key, "k");
});

Deno.test("checker: once a read saw the new value, a later read cannot see the old one", () => {
  const h = [op(1, set("new"), "OK", 0, 100), op(2, get, "new", 10, 20), op(3, get, null, 30, 40)];
  assert.equal(checkHistory(registerModel, h).verdict, "not_linearizable");
});

Deno.test("checker: a write with an unknown outcome may have happened or not", () => {
  const happened = [op(1, set("x"), undefined, 0, Infinity), op(2, get, "x", 5, 6)];
  const did_not = [op(1, set("x"), undefined, 0, Infinity), op(2, get, null, 5, 6)];
  assert.equal(checkHistory(registerModel, happened).verdict, "linearizable");
  assert.equal(checkHistory(registerModel, did_not).verdict, "linearizable");
  const before_call = [op(2, get, "x", 0, 1), op(1, set("x"), undefined, 5, Infinity)];
  assert.equal(checkHistory(registerModel, before_call).verdict, "not_linearizable");
});

Deno.test("checker: a lost INCR update is not linearizable", () => {
  const incr: RegisterInput = { op: "incr" };
  const h = [op(1, incr, 1, 0, 1), op(2, incr, 1, 2, 3)];
  assert.equal(checkHistory(registerModel, h).verdict, "not_linearizable");
  const concurrent_ok = [op(1, incr, 2, 0, 10), op(2, incr, 1, 1, 5)];
  assert.equal(checkHistory(registerModel, concurrent_ok).verdict, "linearizable");
});

Deno.test("checker: list appends must agree with the lengths RPUSH returned", () => {
  type L = Operation<ListInput, ListOutput>;
  const l = (c: number, input: ListInput, output: ListOutput, a: number, b: number): L => ({
    client: c,
    key: "list",
    input,
    output,
    call_ms: a,
    return_ms: b,
  });
  const ok = [
    l(1, { op: "rpush", value: "a" }, 2, 0, 10),
    l(2, { op: "rpush", value: "b" }, 1, 1, 9),
    l(3, { op: "lrange" }, ["b", "a"], 11, 12),
  ];
  const bad = [
    l(1, { op: "rpush", value: "a" }, 1, 0, 10),
    l(2, { op: "rpush", value: "b" }, 2, 1, 9),
    l(3, { op: "lrange" }, ["b", "a"], 11, 12),
  ];
  assert.equal(checkHistory(listModel, ok).verdict, "linearizable");
  assert.equal(checkHistory(listModel, bad).verdict, "not_linearizable");
});

Deno.test("checker: keys are checked independently and the violating key is reported", () => {
  const h = [
    op(1, set("1"), "OK", 0, 1, "good"),
    op(1, set("1"), "OK", 0, 1, "bad"),
    op(2, get, "2", 2, 3, "bad"),
  ];
  const r = checkHistory(registerModel, h);
  assert.equal(r.keys, 2);
  assert.equal(r.violation?.key, "bad");
});

Deno.test("checker: the step bound turns a search into 'unknown' instead of running on", () => {
  const h: RegOp[] = [];
  for (let i = 0; i < 12; i++) h.push(op(i, set(String(i)), "OK", 0, 100));
  h.push(op(99, get, "nope", 200, 201));
  assert.equal(checkKey(registerModel, "k", h, { max_steps: 50 }).verdict, "unknown");
});

Deno.test("checker: the report marks operations outside the longest linearizable prefix", () => {
  const h = [op(1, set("1"), "OK", 0, 1), op(2, get, "2", 2, 3)];
  const r = checkHistory(registerModel, h).violation!;
  const text = textReport(registerModel, r);
  assert.match(text, /! #1 client 2/);
  assert.match(text, /GET -> "2"/);
  assert.match(htmlReport(registerModel, r), /<svg[\s\S]*#1 GET/);
});

Deno.test("checker: the recorder keeps unknown outcomes open and drops failures", () => {
  const rec = new HistoryRecorder<RegisterInput, RegisterOutput>();
  rec.invoke(1, "k", set("a")).ok("OK");
  rec.invoke(2, "k", set("b")).unknown();
  rec.invoke(3, "k", get).fail();
  assert.equal(rec.ops.length, 2);
  assert.equal(rec.ops[1].return_ms, Infinity);
  assert.equal(rec.ops[1].output, undefined);
});

Deno.test("checker property: histories built from a real sequential execution are linearizable", () => {
  const action = fc.oneof(
    fc.record({ op: fc.constant("set" as const), value: fc.constantFrom("a", "b", "c") }),
    fc.constant({ op: "get" as const }),
    fc.constant({ op: "del" as const }),
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(action, fc.nat(25), fc.nat(25)), { maxLength: 14 }), (steps) => {
      // Execute in order at linearization points 10, 20, ...; widen each interval around its point.
      let state: string | null = null;
      const h: RegOp[] = steps.map(([input, before, after], i) => {
        const [, next] = registerModel.step(state, input as RegisterInput, undefined);
        const output = input.op === "set"
          ? "OK"
          : input.op === "get"
          ? state
          : (state === null ? 0 : 1);
        state = next;
        const point = (i + 1) * 10;
        return op(i % 4, input as RegisterInput, output, point - before, point + after);
      });
      return checkHistory(registerModel, h).verdict === "linearizable";
    }),
    { seed: 4242, numRuns: 200 },
  );
});
