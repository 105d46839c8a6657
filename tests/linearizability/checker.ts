/**
 * A linearizability checker in the style of Porcupine: the Wing & Gong search
 * with Lowe's memoisation of (linearized set, state) pairs, run per key
 * (linearizability is compositional), bounded in steps so a pathological
 * history answers "unknown" instead of hanging.
 * @module
 */
import type { Operation } from "./history.ts";
import { partitionByKey } from "./history.ts";
import type { Model } from "./models.ts";

/** Outcome for one key or a whole history. */
export type Verdict = "linearizable" | "not_linearizable" | "unknown";

/** What the checker found for one key. */
export interface KeyResult<I, O> {
  key: string;
  verdict: Verdict;
  ops: Operation<I, O>[];
  /** Longest sequence of operations it could linearize (indexes into `ops`), for the report. */
  longest_prefix: number[];
  steps: number;
}

/** The whole history's result: the first violation, if any. */
export interface CheckResult<I, O> {
  verdict: Verdict;
  keys: number;
  operations: number;
  violation: KeyResult<I, O> | null;
  unknown_keys: string[];
}

/** Bounds of the search; each key gets `max_steps`. */
export interface CheckOptions {
  max_steps?: number;
}

interface Node {
  /** Operation index. */
  op: number;
  is_call: boolean;
  time: number;
  match: Node | null;
  prev: Node | null;
  next: Node | null;
}

function buildList<I, O>(ops: readonly Operation<I, O>[]): Node {
  const events: Node[] = [];
  ops.forEach((o, i) => {
    const call: Node = {
      op: i,
      is_call: true,
      time: o.call_ms,
      match: null,
      prev: null,
      next: null,
    };
    const ret: Node = {
      op: i,
      is_call: false,
      time: o.return_ms,
      match: null,
      prev: null,
      next: null,
    };
    call.match = ret;
    events.push(call, ret);
  });
  // Calls before returns at equal times: touching operations are concurrent.
  events.sort((a, b) => a.time - b.time || Number(b.is_call) - Number(a.is_call));
  const head: Node = {
    op: -1,
    is_call: false,
    time: -Infinity,
    match: null,
    prev: null,
    next: null,
  };
  let last = head;
  for (const e of events) {
    last.next = e;
    e.prev = last;
    last = e;
  }
  return head;
}

/** Removes a call and its return from the list. */
function lift(call: Node): void {
  call.prev!.next = call.next;
  if (call.next) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

/** Puts back what `lift` removed (in reverse order). */
function unlift(call: Node): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next) call.next.prev = call;
}

/** Checks one key's operations. */
export function checkKey<S, I, O>(
  model: Model<S, I, O>,
  key: string,
  ops: Operation<I, O>[],
  options: CheckOptions = {},
): KeyResult<I, O> {
  const max_steps = options.max_steps ?? 2_000_000;
  const head = buildList(ops);
  const linearized = new Uint8Array(ops.length);
  const seen = new Set<string>();
  const stack: Array<{ call: Node; state: S }> = [];
  let state = model.init();
  let entry = head.next;
  let steps = 0;
  let longest: number[] = [];
  const result = (verdict: Verdict): KeyResult<I, O> => ({
    key,
    verdict,
    ops,
    longest_prefix: longest,
    steps,
  });
  while (head.next !== null) {
    if (++steps > max_steps) return result("unknown");
    if (entry === null) return result("not_linearizable"); // defensive: cannot happen with matched pairs
    if (entry.is_call) {
      const op = ops[entry.op];
      const [ok, next] = model.step(state, op.input, op.output);
      if (ok) {
        linearized[entry.op] = 1;
        const memo = linearized.join("") + JSON.stringify(next);
        if (!seen.has(memo)) {
          seen.add(memo);
          stack.push({ call: entry, state });
          if (stack.length > longest.length) longest = stack.map((s) => s.call.op);
          state = next;
          lift(entry);
          entry = head.next;
          continue;
        }
        linearized[entry.op] = 0;
      }
      entry = entry.next;
    } else {
      // A return whose call could not be placed before it: backtrack.
      const top = stack.pop();
      if (top === undefined) return result("not_linearizable");
      linearized[top.call.op] = 0;
      state = top.state;
      unlift(top.call);
      entry = top.call.next;
    }
  }
  return result("linearizable");
}

/** Checks a whole history key by key; stops at the first violation. */
export function checkHistory<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  options: CheckOptions = {},
): CheckResult<I, O> {
  const parts = partitionByKey(ops);
  const unknown_keys: string[] = [];
  for (const [key, key_ops] of parts) {
    const r = checkKey(model, key, key_ops, options);
    if (r.verdict === "not_linearizable") {
      return {
        verdict: r.verdict,
        keys: parts.size,
        operations: ops.length,
        violation: r,
        unknown_keys,
      };
    }
    if (r.verdict === "unknown") unknown_keys.push(key);
  }
  const verdict = unknown_keys.length > 0 ? "unknown" : "linearizable";
  return { verdict, keys: parts.size, operations: ops.length, violation: null, unknown_keys };
}
