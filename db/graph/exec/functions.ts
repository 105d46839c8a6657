/**
 * Scalar functions (aggregates live in aggregate.ts). Names are matched
 * lower-case; {@link SCALAR_FUNCTIONS} lists them with their arity so the
 * planner rejects unknown functions and wrong argument counts before running.
 * @module
 */
import {
  checkedInt,
  CypherError,
  EdgeValue,
  type EntityId,
  formatFloat,
  INT64_MAX,
  INT64_MIN,
  isNumber,
  NodeValue,
  PathValue,
  propertiesMap,
  type Value,
  valueToString,
} from "../values.ts";
import { type ExecContext, nodeValue } from "./context.ts";

/** Scalar function name (lower case) -> [min args, max args]. */
export const SCALAR_FUNCTIONS: ReadonlyMap<string, readonly [number, number]> = new Map([
  ["id", [1, 1]],
  ["labels", [1, 1]],
  ["type", [1, 1]],
  ["properties", [1, 1]],
  ["keys", [1, 1]],
  ["size", [1, 1]],
  ["length", [1, 1]],
  ["toupper", [1, 1]],
  ["tolower", [1, 1]],
  ["tostring", [1, 1]],
  ["tointeger", [1, 1]],
  ["tofloat", [1, 1]],
  ["toboolean", [1, 1]],
  ["coalesce", [1, Infinity]],
  ["abs", [1, 1]],
  ["ceil", [1, 1]],
  ["floor", [1, 1]],
  ["round", [1, 1]],
  ["sign", [1, 1]],
  ["sqrt", [1, 1]],
  ["exp", [1, 1]],
  ["log", [1, 1]],
  ["log10", [1, 1]],
  ["pi", [0, 0]],
  ["e", [0, 0]],
  ["startnode", [1, 1]],
  ["endnode", [1, 1]],
  ["nodes", [1, 1]],
  ["relationships", [1, 1]],
  ["range", [2, 3]],
  ["head", [1, 1]],
  ["last", [1, 1]],
  ["tail", [1, 1]],
  ["reverse", [1, 1]],
  ["exists", [1, 1]],
  ["trim", [1, 1]],
  ["ltrim", [1, 1]],
  ["rtrim", [1, 1]],
  ["substring", [2, 3]],
  ["left", [2, 2]],
  ["right", [2, 2]],
  ["replace", [3, 3]],
  ["split", [2, 2]],
  ["timestamp", [0, 0]],
  ["rand", [0, 0]],
]);

/** Longest list `range()` may build. */
export const MAX_RANGE_LENGTH = 10_000_000;

function mismatch(fn: string, expected: string, v: Value): CypherError {
  return new CypherError(`Type mismatch: expected ${expected} but was ${typeOf(v)} (in ${fn}())`);
}

function typeOf(v: Value): string {
  if (v === null) return "Null";
  if (typeof v === "bigint") return "Integer";
  if (typeof v === "number") return "Float";
  if (typeof v === "string") return "String";
  if (typeof v === "boolean") return "Boolean";
  if (Array.isArray(v)) return "List";
  if (v instanceof Map) return "Map";
  if (v instanceof NodeValue) return "Node";
  if (v instanceof EdgeValue) return "Edge";
  return "Path";
}

async function nodeById(id: EntityId, ctx: ExecContext): Promise<NodeValue | null> {
  const r = await ctx.store.getNode(id);
  return r ? ctx.node(nodeValue(r)) : null;
}

function int(fn: string, v: Value): bigint {
  if (typeof v !== "bigint") throw mismatch(fn, "Integer", v);
  return v;
}

function str(fn: string, v: Value): string {
  if (typeof v !== "string") throw mismatch(fn, "String", v);
  return v;
}

function num(fn: string, v: Value): bigint | number {
  if (!isNumber(v)) throw mismatch(fn, "Integer or Float", v);
  return v;
}

function floatFn(fn: string, v: Value, f: (x: number) => number): Value {
  if (v === null) return null;
  return f(Number(num(fn, v)));
}

/** Calls scalar function `name` (lower case) on evaluated `args`. */
export function callFunction(
  name: string,
  args: Value[],
  ctx: ExecContext,
): Value | Promise<Value> {
  const [a, b, c] = args;
  switch (name) {
    case "id":
      if (a === null) return null;
      if (a instanceof NodeValue || a instanceof EdgeValue) return BigInt(a.id);
      throw mismatch(name, "Node or Edge", a);
    case "labels": {
      if (a === null) return null;
      if (!(a instanceof NodeValue)) throw mismatch(name, "Node", a);
      return [...(ctx.node(a) ?? a).labels];
    }
    case "type":
      if (a === null) return null;
      if (!(a instanceof EdgeValue)) throw mismatch(name, "Edge", a);
      return a.type;
    case "properties":
      if (a === null) return null;
      if (a instanceof NodeValue) return propertiesMap((ctx.node(a) ?? a).properties);
      if (a instanceof EdgeValue) return propertiesMap((ctx.edge(a) ?? a).properties);
      if (a instanceof Map) return a;
      throw mismatch(name, "Map, Node or Edge", a);
    case "keys":
      if (a === null) return null;
      if (a instanceof NodeValue) return [...(ctx.node(a) ?? a).properties.keys()];
      if (a instanceof EdgeValue) return [...(ctx.edge(a) ?? a).properties.keys()];
      if (a instanceof Map) return [...a.keys()];
      throw mismatch(name, "Map, Node or Edge", a);
    case "size":
      if (a === null) return null;
      if (typeof a === "string") return BigInt([...a].length);
      if (Array.isArray(a)) return BigInt(a.length);
      throw mismatch(name, "List or String", a);
    case "length":
      if (a === null) return null;
      if (a instanceof PathValue) return BigInt(a.edges.length);
      if (typeof a === "string") return BigInt([...a].length);
      if (Array.isArray(a)) return BigInt(a.length);
      throw mismatch(name, "Path", a);
    case "toupper":
      return a === null ? null : str(name, a).toUpperCase();
    case "tolower":
      return a === null ? null : str(name, a).toLowerCase();
    case "tostring":
      if (a === null) return null;
      if (typeof a === "string") return a;
      if (typeof a === "number") return formatFloat(a);
      if (typeof a === "bigint" || typeof a === "boolean") return valueToString(a);
      throw mismatch(name, "String, Boolean, Integer or Float", a);
    case "tointeger":
      return toInteger(a);
    case "tofloat":
      if (a === null) return null;
      if (typeof a === "number") return a;
      if (typeof a === "bigint") return Number(a);
      if (typeof a === "string") {
        const t = a.trim();
        const f = Number(t);
        return t === "" || Number.isNaN(f) ? null : f;
      }
      throw mismatch(name, "String, Integer or Float", a);
    case "toboolean":
      if (a === null || typeof a === "boolean") return a;
      if (typeof a === "string") {
        const t = a.trim().toLowerCase();
        return t === "true" ? true : t === "false" ? false : null;
      }
      if (typeof a === "bigint") return a !== 0n;
      throw mismatch(name, "String, Boolean or Integer", a);
    case "coalesce":
      return args.find((x) => x !== null) ?? null;
    case "abs":
      if (a === null) return null;
      if (typeof a === "bigint") return checkedInt(a < 0n ? -a : a);
      return Math.abs(num(name, a) as number);
    case "ceil":
      return floatFn(name, a, Math.ceil);
    case "floor":
      return floatFn(name, a, Math.floor);
    case "round":
      return floatFn(name, a, (x) => (x < 0 ? -Math.round(-x) : Math.round(x)));
    case "sign":
      if (a === null) return null;
      return BigInt(Math.sign(Number(num(name, a))));
    case "sqrt":
      return floatFn(name, a, Math.sqrt);
    case "exp":
      return floatFn(name, a, Math.exp);
    case "log":
      return floatFn(name, a, Math.log);
    case "log10":
      return floatFn(name, a, Math.log10);
    case "pi":
      return Math.PI;
    case "e":
      return Math.E;
    case "startnode":
    case "endnode":
      if (a === null) return null;
      if (!(a instanceof EdgeValue)) throw mismatch(name, "Edge", a);
      return nodeById(name === "startnode" ? a.src : a.dst, ctx);
    case "nodes":
      if (a === null) return null;
      if (!(a instanceof PathValue)) throw mismatch(name, "Path", a);
      return [...a.nodes];
    case "relationships":
      if (a === null) return null;
      if (!(a instanceof PathValue)) throw mismatch(name, "Path", a);
      return [...a.edges];
    case "range":
      return range(a, b, args.length > 2 ? c : 1n);
    case "head":
      if (a === null) return null;
      if (!Array.isArray(a)) throw mismatch(name, "List", a);
      return a.length > 0 ? a[0] : null;
    case "last":
      if (a === null) return null;
      if (!Array.isArray(a)) throw mismatch(name, "List", a);
      return a.length > 0 ? a[a.length - 1] : null;
    case "tail":
      if (a === null) return null;
      if (!Array.isArray(a)) throw mismatch(name, "List", a);
      return a.slice(1);
    case "reverse":
      if (a === null) return null;
      if (typeof a === "string") return [...a].reverse().join("");
      if (Array.isArray(a)) return [...a].reverse();
      throw mismatch(name, "List or String", a);
    case "exists":
      return a !== null;
    case "trim":
      return a === null ? null : str(name, a).trim();
    case "ltrim":
      return a === null ? null : str(name, a).trimStart();
    case "rtrim":
      return a === null ? null : str(name, a).trimEnd();
    case "substring": {
      if (a === null) return null;
      const s = [...str(name, a)];
      const start = Number(int(name, b));
      if (start < 0) throw new CypherError("substring(): start must be non-negative");
      if (args.length > 2) {
        const len = Number(int(name, c));
        if (len < 0) throw new CypherError("substring(): length must be non-negative");
        return s.slice(start, start + len).join("");
      }
      return s.slice(start).join("");
    }
    case "left":
    case "right": {
      if (a === null) return null;
      const s = [...str(name, a)];
      const n = Number(int(name, b));
      if (n < 0) throw new CypherError(`${name}(): length must be non-negative`);
      return (name === "left" ? s.slice(0, n) : s.slice(Math.max(0, s.length - n))).join("");
    }
    case "replace":
      if (a === null || b === null || c === null) return null;
      return str(name, a).split(str(name, b)).join(str(name, c));
    case "split":
      if (a === null || b === null) return null;
      return str(name, a).split(str(name, b));
    case "timestamp":
      return BigInt(Date.now());
    case "rand":
      return Math.random();
  }
  throw new CypherError(`Unknown function '${name}'`);
}

function toInteger(a: Value): Value {
  if (a === null) return null;
  if (typeof a === "bigint") return a;
  if (typeof a === "number") {
    if (!Number.isFinite(a)) return null;
    const t = BigInt(Math.trunc(a));
    return t < INT64_MIN || t > INT64_MAX ? null : t;
  }
  if (typeof a === "boolean") return a ? 1n : 0n;
  if (typeof a === "string") {
    const t = a.trim();
    if (/^[+-]?\d+$/.test(t)) {
      const v = BigInt(t);
      return v < INT64_MIN || v > INT64_MAX ? null : v;
    }
    const f = Number(t);
    return t === "" || Number.isNaN(f) ? null : toInteger(f);
  }
  throw mismatch("toInteger", "String, Boolean, Integer or Float", a);
}

function range(a: Value, b: Value, c: Value): Value {
  const start = int("range", a), end = int("range", b), step = int("range", c);
  if (step === 0n) throw new CypherError("ArgumentError: step argument to range() can't be 0");
  const count = step > 0n ? (end - start) / step + 1n : (start - end) / -step + 1n;
  if (count > BigInt(MAX_RANGE_LENGTH)) {
    throw new CypherError(`range() would build more than ${MAX_RANGE_LENGTH} elements`);
  }
  const out: Value[] = [];
  for (let i = 0n; i < count; i++) out.push(start + i * step);
  return out;
}
