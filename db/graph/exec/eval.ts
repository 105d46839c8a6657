/**
 * Expression evaluation with openCypher semantics: three-valued logic, null
 * propagation, integer (64-bit, overflow is an error) versus float
 * arithmetic, and reads of entities through the context so a query sees its
 * own writes.
 * @module
 */
import { type BinaryOp, directChildren, type Expr } from "../cypher/ast.ts";
import {
  checkedInt,
  compare,
  CypherError,
  EdgeValue,
  equals,
  fromProperty,
  isNumber,
  NodeValue,
  propertiesMap,
  toFloat,
  typeName,
  type Value,
  valueToString,
} from "../values.ts";
import type { ExecContext, Row } from "./context.ts";
import { callFunction } from "./functions.ts";
import { rowsOf, runPipeline } from "./stage.ts";

const ASYNC = new WeakMap<Expr, boolean>();
const ASYNC_FUNCTIONS = new Set(["startnode", "endnode"]);

/**
 * True when evaluating `e` may read the store (pattern predicates,
 * startNode(), endNode()); other expressions evaluate synchronously.
 */
export function needsAsync(e: Expr): boolean {
  let v = ASYNC.get(e);
  if (v === undefined) {
    v = (e.k === "pattern") || (e.k === "call" && ASYNC_FUNCTIONS.has(e.name)) ||
      directChildren(e).some(needsAsync);
    ASYNC.set(e, v);
  }
  return v;
}

/** A type error in the RedisGraph wording. */
export function typeMismatch(expected: string, got: Value): CypherError {
  return new CypherError(`Type mismatch: expected ${expected} but was ${typeName(got)}`);
}

/** Evaluates `e` against `row`. */
export async function evaluate(e: Expr, row: Row, ctx: ExecContext): Promise<Value> {
  if (!needsAsync(e)) return evalSync(e, row, ctx);
  switch (e.k) {
    case "lit":
    case "param":
    case "var":
      return evalSync(e, row, ctx); // leaves never need the store (needsAsync is false)
    case "prop":
      return property(await evaluate(e.e, row, ctx), e.key, ctx);
    case "index":
      return index(await evaluate(e.e, row, ctx), await evaluate(e.idx, row, ctx), ctx);
    case "slice": {
      const v = await evaluate(e.e, row, ctx);
      const from = e.from ? await evaluate(e.from, row, ctx) : 0n;
      const to = e.to ? await evaluate(e.to, row, ctx) : null;
      return slice(v, from, e.to ? to : undefined);
    }
    case "list": {
      const out: Value[] = [];
      for (const x of e.items) out.push(await evaluate(x, row, ctx));
      return out;
    }
    case "map": {
      const out = new Map<string, Value>();
      for (const [k, x] of e.entries) out.set(k, await evaluate(x, row, ctx));
      return out;
    }
    case "bin":
      return binary(e.op, e.l, e.r, row, ctx);
    case "not": {
      const v = await evaluate(e.e, row, ctx);
      if (v === null) return null;
      if (typeof v !== "boolean") throw typeMismatch("Boolean", v);
      return !v;
    }
    case "neg": {
      const v = await evaluate(e.e, row, ctx);
      if (v === null) return null;
      if (typeof v === "bigint") return checkedInt(-v);
      if (typeof v === "number") return -v;
      throw typeMismatch("Integer or Float", v);
    }
    case "isnull": {
      const v = await evaluate(e.e, row, ctx);
      return (v === null) !== e.negated;
    }
    case "haslabels": {
      const v = await evaluate(e.e, row, ctx);
      if (v === null) return null;
      if (!(v instanceof NodeValue)) throw typeMismatch("Node", v);
      const n = ctx.node(v);
      if (!n) return null;
      return e.labels.every((l) => n.labels.includes(l));
    }
    case "call": {
      const args: Value[] = [];
      for (const a of e.args) args.push(await evaluate(a, row, ctx));
      return callFunction(e.name, args, ctx);
    }
    case "case":
      return caseExpr(e, row, ctx);
    case "mapproj": {
      const base = await evaluate(e.e, row, ctx);
      const entries: Value[] = [];
      for (const i of e.items) {
        entries.push(i.k === "entry" ? await evaluate(i.expr, row, ctx) : null);
      }
      return mapProjection(e, base, entries, ctx);
    }
    case "listcomp": {
      const list = await evaluate(e.list, row, ctx);
      if (list === null) return null;
      if (!Array.isArray(list)) throw typeMismatch("List", list);
      const out: Value[] = [];
      for (const x of list) {
        ctx.tick();
        const inner = new Map(row).set(e.variable, x);
        if (e.where && !(await truthy(e.where, inner, ctx))) continue;
        out.push(e.map ? await evaluate(e.map, inner, ctx) : x);
      }
      return out;
    }
    case "quantifier":
      return quantifier(e, row, ctx);
    case "reduce": {
      let acc = await evaluate(e.init, row, ctx);
      const list = await evaluate(e.list, row, ctx);
      if (list === null) return null;
      if (!Array.isArray(list)) throw typeMismatch("List", list);
      for (const x of list) {
        ctx.tick();
        acc = await evaluate(e.expr, new Map(row).set(e.acc, acc).set(e.variable, x), ctx);
      }
      return acc;
    }
    case "pattern": {
      const stages = ctx.subplans.get(e.id);
      if (!stages) throw new Error(`pattern ${e.id} was not planned`);
      if (e.comp) {
        const out: Value[] = [];
        for await (const r of runPipeline(stages, rowsOf([row]), ctx)) {
          if (e.comp.where && !(await truthy(e.comp.where, r, ctx))) continue;
          out.push(await evaluate(e.comp.map, r, ctx));
        }
        return out;
      }
      for await (const _ of runPipeline(stages, rowsOf([row]), ctx)) return true;
      return false;
    }
  }
}

async function quantifier(
  e: Extract<Expr, { k: "quantifier" }>,
  row: Row,
  ctx: ExecContext,
): Promise<Value> {
  const list = await evaluate(e.list, row, ctx);
  if (list === null) return null;
  if (!Array.isArray(list)) throw typeMismatch("List", list);
  let trues = 0, nulls = 0;
  for (const x of list) {
    ctx.tick();
    const v = await evaluate(e.where, new Map(row).set(e.variable, x), ctx);
    if (v === true) trues++;
    else if (v === null) nulls++;
    else if (v !== false) throw typeMismatch("Boolean", v);
  }
  const falses = list.length - trues - nulls;
  switch (e.fn) {
    case "all":
      return falses > 0 ? false : nulls > 0 ? null : true;
    case "any":
      return trues > 0 ? true : nulls > 0 ? null : false;
    case "none":
      return trues > 0 ? false : nulls > 0 ? null : true;
    case "single":
      return trues > 1 ? false : nulls > 0 ? null : trues === 1;
  }
}

/** Builds a map projection from its evaluated base and entry values. */
function mapProjection(
  e: Extract<Expr, { k: "mapproj" }>,
  base: Value,
  entries: Value[],
  ctx: ExecContext,
): Value {
  if (base === null) return null;
  if (!(base instanceof Map || base instanceof NodeValue || base instanceof EdgeValue)) {
    throw typeMismatch("Map, Node or Edge", base);
  }
  const out = new Map<string, Value>();
  e.items.forEach((it, i) => {
    if (it.k === "entry") out.set(it.key, entries[i]);
    else if (it.k === "prop") out.set(it.key, property(base, it.key, ctx));
    else {
      const all = base instanceof Map ? base : propertiesMap(
        (base instanceof NodeValue ? ctx.node(base) : ctx.edge(base))?.properties ?? new Map(),
      );
      for (const [k, v] of all) out.set(k, v);
    }
  });
  return out;
}

/** Evaluates a predicate: true only for boolean true (null and false drop the row). */
export async function truthy(e: Expr, row: Row, ctx: ExecContext): Promise<boolean> {
  const v = await evaluate(e, row, ctx);
  if (v === null || v === false) return false;
  if (v === true) return true;
  throw typeMismatch("Boolean", v);
}

/** `v.key` for nodes, edges and maps (null for a missing key or a deleted entity). */
export function property(v: Value, key: string, ctx: ExecContext): Value {
  if (v === null) return null;
  if (v instanceof NodeValue) {
    const n = ctx.node(v);
    const p = n?.properties.get(key);
    return p === undefined ? null : fromProperty(p);
  }
  if (v instanceof EdgeValue) {
    const r = ctx.edge(v);
    const p = r?.properties.get(key);
    return p === undefined ? null : fromProperty(p);
  }
  if (v instanceof Map) return v.get(key) ?? null;
  throw typeMismatch("Map, Node, Edge or Null", v);
}

function index(v: Value, idx: Value, ctx: ExecContext): Value {
  if (v === null || idx === null) return null;
  if (Array.isArray(v)) {
    if (typeof idx !== "bigint") throw typeMismatch("Integer", idx);
    const i = idx < 0n ? BigInt(v.length) + idx : idx;
    return i >= 0n && i < BigInt(v.length) ? v[Number(i)] : null;
  }
  if (v instanceof Map || v instanceof NodeValue || v instanceof EdgeValue) {
    if (typeof idx !== "string") throw typeMismatch("String", idx);
    return property(v, idx, ctx);
  }
  throw typeMismatch("List or Map", v);
}

function slice(v: Value, from: Value, to: Value | undefined): Value {
  if (v === null || from === null || to === null) return null;
  if (!Array.isArray(v)) throw typeMismatch("List", v);
  if (typeof from !== "bigint") throw typeMismatch("Integer", from);
  if (to !== undefined && typeof to !== "bigint") throw typeMismatch("Integer", to);
  const len = v.length;
  const norm = (i: bigint) => {
    const n = i < 0n ? BigInt(len) + i : i;
    return Number(n < 0n ? 0n : n > BigInt(len) ? BigInt(len) : n);
  };
  const a = norm(from);
  const b = to === undefined ? len : norm(to);
  return a < b ? v.slice(a, b) : [];
}

async function caseExpr(
  e: Extract<Expr, { k: "case" }>,
  row: Row,
  ctx: ExecContext,
): Promise<Value> {
  const subject = e.subject ? await evaluate(e.subject, row, ctx) : undefined;
  for (const [w, t] of e.whens) {
    const wv = await evaluate(w, row, ctx);
    const hit = subject === undefined ? wv === true : equals(subject, wv) === true;
    if (hit) return evaluate(t, row, ctx);
  }
  return e.otherwise ? evaluate(e.otherwise, row, ctx) : null;
}

async function binary(op: BinaryOp, le: Expr, re: Expr, row: Row, ctx: ExecContext) {
  // Logical operators: three-valued, short-circuit where the answer is known.
  if (op === "AND" || op === "OR" || op === "XOR") {
    const l = await evaluate(le, row, ctx);
    if (l !== null && typeof l !== "boolean") throw typeMismatch("Boolean", l);
    if (op === "AND" && l === false) return false;
    if (op === "OR" && l === true) return true;
    const r = await evaluate(re, row, ctx);
    if (r !== null && typeof r !== "boolean") throw typeMismatch("Boolean", r);
    if (op === "AND") return r === false ? false : l === null || r === null ? null : true;
    if (op === "OR") return r === true ? true : l === null || r === null ? null : false;
    return l === null || r === null ? null : l !== r;
  }
  const l = await evaluate(le, row, ctx);
  const r = await evaluate(re, row, ctx);
  return applyBinary(op, l, r);
}

/** Applies a non-logical binary operator to two values. */
export function applyBinary(op: BinaryOp, l: Value, r: Value): Value {
  switch (op) {
    case "=":
      return equals(l, r);
    case "<>": {
      const eq = equals(l, r);
      return eq === null ? null : !eq;
    }
    case "<":
    case "<=":
    case ">":
    case ">=": {
      const c = compare(l, r);
      if (c === null) return null;
      return op === "<" ? c < 0 : op === "<=" ? c <= 0 : op === ">" ? c > 0 : c >= 0;
    }
    case "IN": {
      if (r === null) return null;
      if (!Array.isArray(r)) throw typeMismatch("List", r);
      let unknown = false;
      for (const x of r) {
        const eq = equals(l, x);
        if (eq === true) return true;
        if (eq === null) unknown = true;
      }
      return unknown ? null : false;
    }
    case "STARTS WITH":
    case "ENDS WITH":
    case "CONTAINS": {
      if (typeof l !== "string" || typeof r !== "string") return null;
      return op === "STARTS WITH"
        ? l.startsWith(r)
        : op === "ENDS WITH"
        ? l.endsWith(r)
        : l.includes(r);
    }
    case "+":
      return add(l, r);
    case "-":
    case "*":
    case "/":
    case "%":
    case "^":
      return arithmetic(op, l, r);
  }
  throw new Error(`operator ${op} not handled`);
}

function add(l: Value, r: Value): Value {
  if (l === null || r === null) return null;
  if (Array.isArray(l)) return Array.isArray(r) ? [...l, ...r] : [...l, r];
  if (Array.isArray(r)) return [l, ...r];
  if (typeof l === "string" || typeof r === "string") {
    const ok = (v: Value) => typeof v === "string" || isNumber(v) || typeof v === "boolean";
    if (!ok(l)) throw typeMismatch("String or Number", l);
    if (!ok(r)) throw typeMismatch("String or Number", r);
    return valueToString(l) + valueToString(r);
  }
  return arithmetic("+", l, r);
}

function arithmetic(op: "+" | "-" | "*" | "/" | "%" | "^", l: Value, r: Value): Value {
  if (l === null || r === null) return null;
  if (!isNumber(l)) throw typeMismatch("Integer or Float", l);
  if (!isNumber(r)) throw typeMismatch("Integer or Float", r);
  if (op === "^") return Math.pow(toFloat(l), toFloat(r));
  if (typeof l === "bigint" && typeof r === "bigint") {
    switch (op) {
      case "+":
        return checkedInt(l + r);
      case "-":
        return checkedInt(l - r);
      case "*":
        return checkedInt(l * r);
      case "/":
        if (r === 0n) throw new CypherError("Division by zero");
        return checkedInt(l / r);
      case "%":
        if (r === 0n) throw new CypherError("Division by zero");
        return l % r;
    }
  }
  const a = toFloat(l), b = toFloat(r);
  switch (op) {
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "*":
      return a * b;
    case "/":
      return a / b;
    case "%":
      return a % b;
  }
}

// ---------------------------------------------------------------------------
// Synchronous evaluation (the common case: no pattern predicates, no
// startNode()/endNode()), generated from the asynchronous code above.

/** Synchronous {@link evaluate} for expressions that need no store access ({@link needsAsync}). */
export function evalSync(e: Expr, row: Row, ctx: ExecContext): Value {
  switch (e.k) {
    case "lit":
      return e.v;
    case "param": {
      const v = ctx.params.get(e.name);
      if (v === undefined) throw new CypherError(`Missing parameters: $${e.name}`);
      return v;
    }
    case "var": {
      const v = row.get(e.name);
      if (v === undefined) throw new CypherError(`'${e.name}' not defined`);
      return v;
    }
    case "prop":
      return property(evalSync(e.e, row, ctx), e.key, ctx);
    case "index":
      return index(evalSync(e.e, row, ctx), evalSync(e.idx, row, ctx), ctx);
    case "slice": {
      const v = evalSync(e.e, row, ctx);
      const from = e.from ? evalSync(e.from, row, ctx) : 0n;
      const to = e.to ? evalSync(e.to, row, ctx) : null;
      return slice(v, from, e.to ? to : undefined);
    }
    case "list": {
      const out: Value[] = [];
      for (const x of e.items) out.push(evalSync(x, row, ctx));
      return out;
    }
    case "map": {
      const out = new Map<string, Value>();
      for (const [k, x] of e.entries) out.set(k, evalSync(x, row, ctx));
      return out;
    }
    case "bin":
      return binarySync(e.op, e.l, e.r, row, ctx);
    case "not": {
      const v = evalSync(e.e, row, ctx);
      if (v === null) return null;
      if (typeof v !== "boolean") throw typeMismatch("Boolean", v);
      return !v;
    }
    case "neg": {
      const v = evalSync(e.e, row, ctx);
      if (v === null) return null;
      if (typeof v === "bigint") return checkedInt(-v);
      if (typeof v === "number") return -v;
      throw typeMismatch("Integer or Float", v);
    }
    case "isnull": {
      const v = evalSync(e.e, row, ctx);
      return (v === null) !== e.negated;
    }
    case "haslabels": {
      const v = evalSync(e.e, row, ctx);
      if (v === null) return null;
      if (!(v instanceof NodeValue)) throw typeMismatch("Node", v);
      const n = ctx.node(v);
      if (!n) return null;
      return e.labels.every((l) => n.labels.includes(l));
    }
    case "call": {
      const args: Value[] = [];
      for (const a of e.args) args.push(evalSync(a, row, ctx));
      const r = callFunction(e.name, args, ctx);
      if (r instanceof Promise) throw new Error(`${e.name}() in synchronous evaluation`);
      return r;
    }
    case "case":
      return caseExprSync(e, row, ctx);
    case "mapproj": {
      const base = evalSync(e.e, row, ctx);
      const entries = e.items.map((i) => (i.k === "entry" ? evalSync(i.expr, row, ctx) : null));
      return mapProjection(e, base, entries, ctx);
    }
    case "listcomp": {
      const list = evalSync(e.list, row, ctx);
      if (list === null) return null;
      if (!Array.isArray(list)) throw typeMismatch("List", list);
      const out: Value[] = [];
      for (const x of list) {
        ctx.tick();
        const inner = new Map(row).set(e.variable, x);
        if (e.where && !(truthySync(e.where, inner, ctx))) continue;
        out.push(e.map ? evalSync(e.map, inner, ctx) : x);
      }
      return out;
    }
    case "quantifier":
      return quantifierSync(e, row, ctx);
    case "reduce": {
      let acc = evalSync(e.init, row, ctx);
      const list = evalSync(e.list, row, ctx);
      if (list === null) return null;
      if (!Array.isArray(list)) throw typeMismatch("List", list);
      for (const x of list) {
        ctx.tick();
        acc = evalSync(e.expr, new Map(row).set(e.acc, acc).set(e.variable, x), ctx);
      }
      return acc;
    }
    case "pattern":
      throw new Error("pattern predicate in synchronous evaluation");
  }
}

/** Synchronous {@link truthy}. */
export function truthySync(e: Expr, row: Row, ctx: ExecContext): boolean {
  const v = evalSync(e, row, ctx);
  if (v === null || v === false) return false;
  if (v === true) return true;
  throw typeMismatch("Boolean", v);
}

function caseExprSync(
  e: Extract<Expr, { k: "case" }>,
  row: Row,
  ctx: ExecContext,
): Value {
  const subject = e.subject ? evalSync(e.subject, row, ctx) : undefined;
  for (const [w, t] of e.whens) {
    const wv = evalSync(w, row, ctx);
    const hit = subject === undefined ? wv === true : equals(subject, wv) === true;
    if (hit) return evalSync(t, row, ctx);
  }
  return e.otherwise ? evalSync(e.otherwise, row, ctx) : null;
}

function binarySync(op: BinaryOp, le: Expr, re: Expr, row: Row, ctx: ExecContext) {
  // Logical operators: three-valued, short-circuit where the answer is known.
  if (op === "AND" || op === "OR" || op === "XOR") {
    const l = evalSync(le, row, ctx);
    if (l !== null && typeof l !== "boolean") throw typeMismatch("Boolean", l);
    if (op === "AND" && l === false) return false;
    if (op === "OR" && l === true) return true;
    const r = evalSync(re, row, ctx);
    if (r !== null && typeof r !== "boolean") throw typeMismatch("Boolean", r);
    if (op === "AND") return r === false ? false : l === null || r === null ? null : true;
    if (op === "OR") return r === true ? true : l === null || r === null ? null : false;
    return l === null || r === null ? null : l !== r;
  }
  const l = evalSync(le, row, ctx);
  const r = evalSync(re, row, ctx);
  return applyBinary(op, l, r);
}

function quantifierSync(
  e: Extract<Expr, { k: "quantifier" }>,
  row: Row,
  ctx: ExecContext,
): Value {
  const list = evalSync(e.list, row, ctx);
  if (list === null) return null;
  if (!Array.isArray(list)) throw typeMismatch("List", list);
  let trues = 0, nulls = 0;
  for (const x of list) {
    ctx.tick();
    const v = evalSync(e.where, new Map(row).set(e.variable, x), ctx);
    if (v === true) trues++;
    else if (v === null) nulls++;
    else if (v !== false) throw typeMismatch("Boolean", v);
  }
  const falses = list.length - trues - nulls;
  switch (e.fn) {
    case "all":
      return falses > 0 ? false : nulls > 0 ? null : true;
    case "any":
      return trues > 0 ? true : nulls > 0 ? null : false;
    case "none":
      return trues > 0 ? false : nulls > 0 ? null : true;
    case "single":
      return trues > 1 ? false : nulls > 0 ? null : trues === 1;
  }
}
