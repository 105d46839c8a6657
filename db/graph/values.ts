/**
 * The Cypher value model shared by the query engine, the graph store and the
 * reply formatter.
 *
 * Representation (plain JS values where possible, so they are cheap to make):
 *
 * | Cypher type  | JS representation                                        |
 * | ------------ | -------------------------------------------------------- |
 * | null         | `null`                                                   |
 * | boolean      | `boolean`                                                |
 * | integer      | `bigint`, always within signed 64 bits                   |
 * | float        | `number` (IEEE double; also NaN and ±Infinity)            |
 * | string       | `string`                                                 |
 * | list         | `Value[]` (a JS array)                                   |
 * | map          | `Map<string, Value>` (insertion ordered)                 |
 * | node         | {@link NodeValue}                                        |
 * | relationship | {@link EdgeValue}                                        |
 * | path         | {@link PathValue}                                        |
 *
 * So `typeof v === "bigint"` is an integer and `typeof v === "number"` is a
 * float: RedisGraph replies integers as RESP integers and floats as bulk
 * strings, and the formatter only needs to switch on `typeof`.
 *
 * Values stored as properties are the subset {@link PropertyValue}: no null
 * (setting a property to null removes it), no maps or graph entities.
 * @module
 */

/** Node ids and edge ids: non-negative safe integers allocated by the store. */
export type EntityId = number;

/** A value a property may hold (what the store persists). */
export type PropertyValue = boolean | bigint | number | string | PropertyValue[];

/** Property map of a node or an edge, in insertion order. */
export type Properties = Map<string, PropertyValue>;

/** A node as seen by a query: id, labels and properties at the time it was read. */
export class NodeValue {
  constructor(
    readonly id: EntityId,
    readonly labels: readonly string[],
    readonly properties: ReadonlyMap<string, PropertyValue>,
  ) {
    if (!(id >= 0 && Number.isSafeInteger(id))) throw new Error(`bad node id ${id}`);
  }
}

/** A relationship (edge): id, type, source and destination node ids, properties. */
export class EdgeValue {
  constructor(
    readonly id: EntityId,
    readonly type: string,
    readonly src: EntityId,
    readonly dst: EntityId,
    readonly properties: ReadonlyMap<string, PropertyValue>,
  ) {
    if (!(id >= 0 && Number.isSafeInteger(id))) throw new Error(`bad edge id ${id}`);
  }
}

/**
 * A path: `nodes.length === edges.length + 1`; edge i joins nodes i and i+1
 * (in either direction).
 */
export class PathValue {
  constructor(readonly nodes: readonly NodeValue[], readonly edges: readonly EdgeValue[]) {
    if (nodes.length !== edges.length + 1) throw new Error("path shape");
  }
}

/** Any Cypher value. */
export type Value =
  | null
  | boolean
  | bigint
  | number
  | string
  | Value[]
  | Map<string, Value>
  | NodeValue
  | EdgeValue
  | PathValue;

/**
 * A query failure with a user-facing message (syntax, semantic or runtime
 * error). The command layer replies `-<message>` for it; any other exception
 * is an internal error.
 */
export class CypherError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CypherError";
  }
}

/** Smallest and largest 64-bit integer. */
export const INT64_MIN = -(2n ** 63n);
/** Largest 64-bit integer. */
export const INT64_MAX = 2n ** 63n - 1n;

/** Checks that an integer result fits in 64 bits. */
export function checkedInt(n: bigint): bigint {
  if (n < INT64_MIN || n > INT64_MAX) throw new CypherError("Integer overflow");
  return n;
}

/** Names of value types, as in error messages ("Type mismatch: expected Integer but was String"). */
export type TypeName =
  | "Null"
  | "Boolean"
  | "Integer"
  | "Float"
  | "String"
  | "List"
  | "Map"
  | "Node"
  | "Edge"
  | "Path";

/** The type name of `v`. */
export function typeName(v: Value): TypeName {
  if (v === null) return "Null";
  switch (typeof v) {
    case "boolean":
      return "Boolean";
    case "bigint":
      return "Integer";
    case "number":
      return "Float";
    case "string":
      return "String";
  }
  if (Array.isArray(v)) return "List";
  if (v instanceof Map) return "Map";
  if (v instanceof NodeValue) return "Node";
  if (v instanceof EdgeValue) return "Edge";
  return "Path";
}

/** True for integers and floats. */
export function isNumber(v: Value): v is bigint | number {
  return typeof v === "bigint" || typeof v === "number";
}

/** True when `v` may be stored as a property value (lists must hold only such values). */
export function isPropertyValue(v: Value): v is PropertyValue {
  if (v === null) return false;
  switch (typeof v) {
    case "boolean":
    case "bigint":
    case "number":
    case "string":
      return true;
  }
  return Array.isArray(v) && v.every(isPropertyValue);
}

/** Converts a value to a float (for mixed arithmetic and comparisons). */
export function toFloat(v: bigint | number): number {
  return typeof v === "bigint" ? Number(v) : v;
}

/**
 * Formats a float the way `toString()` and the reply formatter do: shortest
 * round-trip digits, integral values without a fraction ("3", like RedisGraph's
 * "%.15g"), "inf"/"-inf"/"nan" for non-finite values.
 */
export function formatFloat(f: number): string {
  if (Number.isNaN(f)) return "nan";
  if (f === Infinity) return "inf";
  if (f === -Infinity) return "-inf";
  if (Object.is(f, -0)) return "-0";
  const s = String(f);
  if (!s.includes("e")) return s;
  // JS uses "1e+21"; RedisGraph (printf %g) uses "1e+21" too: keep it.
  return s;
}

// ---------------------------------------------------------------------------
// Equality (the `=` operator) with three-valued null semantics.

/**
 * The `=` operator: true, false, or null when the answer is unknown (either
 * side null, or a list/map holding null where it matters). Integers and floats
 * compare numerically (`1 = 1.0` is true); NaN equals nothing.
 */
export function equals(a: Value, b: Value): boolean | null {
  if (a === null || b === null) return null;
  if (isNumber(a) && isNumber(b)) {
    if (typeof a === "bigint" && typeof b === "bigint") return a === b;
    return compareNumbers(a, b) === 0;
  }
  const ta = typeName(a);
  if (ta !== typeName(b)) return false;
  switch (ta) {
    case "Boolean":
    case "String":
      return a === b;
    case "Node":
      return (a as NodeValue).id === (b as NodeValue).id;
    case "Edge":
      return (a as EdgeValue).id === (b as EdgeValue).id;
    case "Path": {
      const pa = a as PathValue, pb = b as PathValue;
      return pa.nodes.length === pb.nodes.length &&
        pa.nodes.every((n, i) => n.id === pb.nodes[i].id) &&
        pa.edges.every((e, i) => e.id === pb.edges[i].id);
    }
    case "List": {
      const la = a as Value[], lb = b as Value[];
      if (la.length !== lb.length) return false;
      let unknown = false;
      for (let i = 0; i < la.length; i++) {
        const r = equals(la[i], lb[i]);
        if (r === false) return false;
        if (r === null) unknown = true;
      }
      return unknown ? null : true;
    }
    case "Map": {
      const ma = a as Map<string, Value>, mb = b as Map<string, Value>;
      if (ma.size !== mb.size) return false;
      let unknown = false;
      for (const [k, v] of ma) {
        if (!mb.has(k)) return false;
        const r = equals(v, mb.get(k)!);
        if (r === false) return false;
        if (r === null) unknown = true;
      }
      return unknown ? null : true;
    }
  }
  return false;
}

/** Compares two numbers exactly (bigint vs float without precision loss); NaN gives NaN. */
export function compareNumbers(a: bigint | number, b: bigint | number): number {
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "number" && typeof b === "number") {
    if (Number.isNaN(a) || Number.isNaN(b)) return NaN;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  // Mixed: compare a float with an integer exactly.
  const [f, i, sign] = typeof a === "number" ? [a, b as bigint, 1] : [b as number, a as bigint, -1];
  if (Number.isNaN(f)) return NaN;
  if (f === Infinity) return sign;
  if (f === -Infinity) return -sign;
  const fl = Math.floor(f);
  const fi = BigInt(fl);
  if (fi !== i) return (fi < i ? -1 : 1) * sign;
  return (f > fl ? 1 : 0) * sign;
}

// ---------------------------------------------------------------------------
// Comparison (the `<` family) and ordering (ORDER BY).

/**
 * The `<`, `<=`, `>`, `>=` comparison: a negative, zero or positive number, or
 * null when the values are not comparable (null, different type families,
 * NaN, graph entities, maps). Numbers compare with numbers, strings with
 * strings (by UTF-16 code units), booleans with booleans (false < true),
 * lists element-wise.
 */
export function compare(a: Value, b: Value): number | null {
  if (a === null || b === null) return null;
  if (isNumber(a) && isNumber(b)) {
    const c = compareNumbers(a, b);
    return Number.isNaN(c) ? null : c;
  }
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "boolean" && typeof b === "boolean") return a === b ? 0 : a ? 1 : -1;
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const c = compare(a[i], b[i]);
      if (c === null) return null;
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  return null;
}

/** Rank of each type family in the global sort order (openCypher orderability). */
function orderRank(v: Value): number {
  switch (typeName(v)) {
    case "Map":
      return 0;
    case "Node":
      return 1;
    case "Edge":
      return 2;
    case "List":
      return 3;
    case "Path":
      return 4;
    case "String":
      return 5;
    case "Boolean":
      return 6;
    case "Integer":
    case "Float":
      return 7;
    case "Null":
      return 9;
  }
}

/**
 * Total order used by ORDER BY, min/max over mixed types and sorting
 * (openCypher orderability): MAP < NODE < RELATIONSHIP < LIST < PATH < STRING
 * < BOOLEAN < NUMBER < NaN < NULL. Within a family: numbers numerically,
 * entities by id, lists and paths element-wise, maps by sorted keys then values.
 */
export function order(a: Value, b: Value): number {
  const ra = orderRank(a), rb = orderRank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 7: {
      const x = a as bigint | number, y = b as bigint | number;
      const nx = typeof x === "number" && Number.isNaN(x);
      const ny = typeof y === "number" && Number.isNaN(y);
      if (nx || ny) return nx === ny ? 0 : nx ? 1 : -1;
      return compareNumbers(x, y);
    }
    case 5:
    case 6:
      return compare(a, b)!;
    case 1:
    case 2:
      return (a as NodeValue).id - (b as NodeValue).id;
    case 3:
      return orderLists(a as Value[], b as Value[]);
    case 4: {
      const pa = a as PathValue, pb = b as PathValue;
      return orderLists(interleave(pa), interleave(pb));
    }
    case 0: {
      const ma = a as Map<string, Value>, mb = b as Map<string, Value>;
      const ka = [...ma.keys()].sort(), kb = [...mb.keys()].sort();
      const c = orderLists(ka, kb);
      if (c !== 0) return c;
      return orderLists(ka.map((k) => ma.get(k)!), kb.map((k) => mb.get(k)!));
    }
  }
  return 0;
}

function interleave(p: PathValue): Value[] {
  const out: Value[] = [p.nodes[0]];
  p.edges.forEach((e, i) => out.push(e, p.nodes[i + 1]));
  return out;
}

function orderLists(a: Value[], b: Value[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = order(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

// ---------------------------------------------------------------------------
// Equivalence (DISTINCT, grouping keys): null is equivalent to null.

/**
 * A string key such that two values have the same key iff they are
 * equivalent (DISTINCT, grouping, `count(DISTINCT x)`): like `=` but null is
 * equivalent to null and NaN to NaN; `1` and `1.0` are equivalent.
 */
export function valueKey(v: Value): string {
  if (v === null) return "n";
  switch (typeof v) {
    case "boolean":
      return v ? "T" : "F";
    case "bigint":
      return "#" + v.toString();
    case "number":
      if (Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER) {
        return "#" + BigInt(v).toString();
      }
      return "#" + String(v);
    case "string":
      return "s" + JSON.stringify(v);
  }
  if (Array.isArray(v)) return "[" + v.map(valueKey).join(",") + "]";
  if (v instanceof Map) {
    return "{" + [...v.keys()].sort().map((k) => JSON.stringify(k) + ":" + valueKey(v.get(k)!))
      .join(",") +
      "}";
  }
  if (v instanceof NodeValue) return "N" + v.id;
  if (v instanceof EdgeValue) return "E" + v.id;
  return "P" + interleave(v).map(valueKey).join(",");
}

// ---------------------------------------------------------------------------
// Conversions used by functions and the reply formatter.

/** Converts a stored property value to a value (identity; lists are copied). */
export function fromProperty(p: PropertyValue): Value {
  return Array.isArray(p) ? p.map(fromProperty) : p;
}

/** Properties of an entity as a Cypher map. */
export function propertiesMap(props: ReadonlyMap<string, PropertyValue>): Map<string, Value> {
  const out = new Map<string, Value>();
  for (const [k, v] of props) out.set(k, fromProperty(v));
  return out;
}

/**
 * Human-readable text of a value (`toString()` on scalars, and a fallback
 * rendering of composite values, e.g. for EXPLAIN and error messages):
 * strings unquoted at top level, quoted inside lists and maps.
 */
export function valueToString(v: Value, nested = false): string {
  if (v === null) return "null";
  switch (typeof v) {
    case "boolean":
      return v ? "true" : "false";
    case "bigint":
      return v.toString();
    case "number":
      return formatFloat(v);
    case "string":
      return nested ? JSON.stringify(v) : v;
  }
  if (Array.isArray(v)) return "[" + v.map((x) => valueToString(x, true)).join(", ") + "]";
  if (v instanceof Map) {
    return "{" + [...v].map(([k, x]) => `${k}: ${valueToString(x, true)}`).join(", ") + "}";
  }
  if (v instanceof NodeValue) {
    const labels = v.labels.map((l) => ":" + l).join("");
    const props = v.properties.size > 0
      ? " " + valueToString(propertiesMap(v.properties), true)
      : "";
    return `(${v.id}${labels}${props})`;
  }
  if (v instanceof EdgeValue) {
    const props = v.properties.size > 0
      ? " " + valueToString(propertiesMap(v.properties), true)
      : "";
    return `[${v.id}:${v.type}${props}]`;
  }
  return interleave(v).map((x) => valueToString(x, true)).join("-");
}
