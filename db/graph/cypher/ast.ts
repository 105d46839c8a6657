/**
 * Abstract syntax tree of the supported openCypher subset. Expressions carry
 * no positions (semantic errors name the variable or function instead), so two
 * structurally equal expressions compare equal with {@link exprKey}.
 * @module
 */
import type { Value } from "../values.ts";

/** Binary operators. */
export type BinaryOp =
  | "+"
  | "-"
  | "*"
  | "/"
  | "%"
  | "^"
  | "="
  | "<>"
  | "<"
  | "<="
  | ">"
  | ">="
  | "AND"
  | "OR"
  | "XOR"
  | "IN"
  | "STARTS WITH"
  | "ENDS WITH"
  | "CONTAINS";

/** An expression. */
export type Expr =
  | { k: "lit"; v: Value }
  | { k: "param"; name: string }
  | { k: "var"; name: string }
  | { k: "prop"; e: Expr; key: string }
  | { k: "index"; e: Expr; idx: Expr }
  | { k: "slice"; e: Expr; from: Expr | null; to: Expr | null }
  | { k: "list"; items: Expr[] }
  | { k: "map"; entries: Array<[string, Expr]> }
  | { k: "bin"; op: BinaryOp; l: Expr; r: Expr }
  | { k: "not"; e: Expr }
  | { k: "neg"; e: Expr }
  | { k: "isnull"; e: Expr; negated: boolean }
  /** `n:A:B` used as a predicate. */
  | { k: "haslabels"; e: Expr; labels: string[] }
  /** Function call; `name` is lower-cased; `star` for count(*). */
  | { k: "call"; name: string; distinct: boolean; args: Expr[]; star: boolean }
  /** CASE; `subject` null for the searched form. */
  | { k: "case"; subject: Expr | null; whens: Array<[Expr, Expr]>; otherwise: Expr | null }
  /** Map projection `v {.a, .*, k: expr, w}` of a node, edge or map. */
  | { k: "mapproj"; e: Expr; items: MapProjectionItem[] }
  /** `[x IN list WHERE pred | expr]` (where and map optional). */
  | { k: "listcomp"; variable: string; list: Expr; where: Expr | null; map: Expr | null }
  /** `all|any|none|single(x IN list WHERE pred)`. */
  | {
    k: "quantifier";
    fn: "all" | "any" | "none" | "single";
    variable: string;
    list: Expr;
    where: Expr;
  }
  /** `reduce(acc = init, x IN list | expr)`. */
  | { k: "reduce"; acc: string; init: Expr; variable: string; list: Expr; expr: Expr }
  /**
   * A pattern used as a predicate (`WHERE (a)-[:R]->()`, `exists((a)-->())`):
   * true when it has at least one match. `id` numbers the patterns of a query.
   */
  | {
    k: "pattern";
    pattern: PathPattern;
    id: number;
    /** A pattern comprehension `[(a)-->(b) WHERE pred | expr]`: a list, not a predicate. */
    comp?: { where: Expr | null; map: Expr };
  };

/** One item of a map projection: `.key`, `.*`, `key: expr` or `variable`. */
export type MapProjectionItem =
  | { k: "prop"; key: string }
  | { k: "all" }
  | { k: "entry"; key: string; expr: Expr };

/** A node pattern `(v:L1:L2 {props})`. */
export interface NodePattern {
  variable: string | null;
  labels: string[];
  /** A map literal or a parameter, or null. */
  properties: Expr | null;
  /** Offset in the query text (for messages). */
  offset: number;
}

/** Variable length bounds of `*min..max`; max null = unbounded. */
export interface VarLength {
  min: number;
  max: number | null;
}

/** A relationship pattern `-[v:T1|T2 *1..3 {props}]->`. */
export interface RelPattern {
  variable: string | null;
  types: string[];
  /** out: `-->`, in: `<--`, both: `--`. */
  direction: "out" | "in" | "both";
  properties: Expr | null;
  /** Null for a single hop. */
  varLength: VarLength | null;
  offset: number;
}

/** One path pattern: nodes[0] rels[0] nodes[1] ... (nodes.length = rels.length + 1). */
export interface PathPattern {
  /** `p = (...)`. */
  variable: string | null;
  nodes: NodePattern[];
  rels: RelPattern[];
  /**
   * `shortestPath(...)` (one) or `allShortestPaths(...)` (all): then exactly
   * two nodes and one variable-length relationship.
   */
  shortest?: "one" | "all";
}

/** One item of SET. */
export type SetItem =
  | { k: "prop"; target: Expr; key: string; value: Expr }
  /** `n = {map}` (replace all properties). */
  | { k: "replace"; variable: string; value: Expr }
  /** `n += {map}` (merge properties). */
  | { k: "merge"; variable: string; value: Expr }
  | { k: "labels"; variable: string; labels: string[] };

/** One item of REMOVE. */
export type RemoveItem =
  | { k: "prop"; target: Expr; key: string }
  | { k: "labels"; variable: string; labels: string[] };

/** A projected column. `name` is the alias or, without one, the expression's text. */
export interface ProjectionItem {
  expr: Expr;
  name: string;
  /** True when written with AS. */
  aliased: boolean;
}

/** One ORDER BY key. */
export interface SortItem {
  expr: Expr;
  descending: boolean;
}

/** The body shared by WITH and RETURN. */
export interface Projection {
  distinct: boolean;
  /** `*` (all user variables in scope) before the explicit items. */
  star: boolean;
  items: ProjectionItem[];
  order: SortItem[];
  skip: Expr | null;
  limit: Expr | null;
}

/** A clause. */
export type Clause =
  | { k: "match"; optional: boolean; patterns: PathPattern[]; where: Expr | null }
  | { k: "create"; patterns: PathPattern[] }
  | { k: "merge"; pattern: PathPattern; onCreate: SetItem[]; onMatch: SetItem[] }
  | { k: "with"; projection: Projection; where: Expr | null }
  | { k: "return"; projection: Projection }
  | { k: "unwind"; expr: Expr; variable: string }
  | { k: "set"; items: SetItem[] }
  | { k: "remove"; items: RemoveItem[] }
  | { k: "delete"; detach: boolean; exprs: Expr[] }
  /** `FOREACH (x IN list | updating clauses)`. */
  | { k: "foreach"; variable: string; list: Expr; clauses: Clause[] }
  | { k: "create_index"; label: string; property: string }
  | { k: "drop_index"; label: string; property: string };

/**
 * A parsed query: `CYPHER` parameters and the clauses in order, then any
 * further parts joined by UNION (each ends with RETURN).
 */
export interface Query {
  params: Map<string, Value>;
  clauses: Clause[];
  union: Array<{ all: boolean; clauses: Clause[] }>;
}

/** Clause kinds that write (rejected by GRAPH.RO_QUERY). */
export const WRITE_CLAUSES: ReadonlySet<Clause["k"]> = new Set([
  "foreach",
  "create",
  "merge",
  "set",
  "remove",
  "delete",
  "create_index",
  "drop_index",
]);

/** Aggregate function names (lower case). */
export const AGGREGATES: ReadonlySet<string> = new Set([
  "count",
  "sum",
  "avg",
  "min",
  "max",
  "collect",
  "stdev",
  "stdevp",
  "percentilecont",
  "percentiledisc",
]);

/** A canonical string of an expression: equal for structurally equal expressions. */
export function exprKey(e: Expr): string {
  return JSON.stringify(e, (_k, v) => {
    if (typeof v === "bigint") return `${v}n`;
    if (v instanceof Map) return { map: [...v] };
    if (typeof v === "number" && !Number.isFinite(v)) return String(v);
    return v;
  });
}

/** Prefix of planner-made variable names; user identifiers can never start with it. */
export const HIDDEN = "\u0000";

/** True when `e` contains an aggregate call (outside of nested aggregates' arguments). */
export function containsAggregate(e: Expr): boolean {
  let found = false;
  walkExpr(e, (x) => {
    if (x.k === "call" && AGGREGATES.has(x.name)) found = true;
  });
  return found;
}

/** Calls `f` on `e` and every sub-expression, parents first. */
export function walkExpr(e: Expr, f: (x: Expr) => void): void {
  f(e);
  for (const c of directChildren(e)) walkExpr(c, f);
}

/** Named variables of a pattern (planner-made hidden names excluded). */
export function patternVariables(p: PathPattern): string[] {
  const out: string[] = [];
  for (const x of [...p.nodes, ...p.rels]) {
    if (x.variable && !x.variable.startsWith(HIDDEN)) out.push(x.variable);
  }
  return out;
}

/**
 * Variables an expression reads from its environment (variables local to
 * list comprehensions, quantifiers and reduce are excluded).
 */
export function exprVariables(e: Expr): Set<string> {
  const out = new Set<string>();
  const visit = (x: Expr, locals: ReadonlySet<string>): void => {
    const sub = (y: Expr | null, more: string[] = []) => {
      if (y) visit(y, more.length > 0 ? new Set([...locals, ...more]) : locals);
    };
    switch (x.k) {
      case "var":
        if (!locals.has(x.name)) out.add(x.name);
        return;
      case "listcomp":
        sub(x.list);
        sub(x.where, [x.variable]);
        sub(x.map, [x.variable]);
        return;
      case "quantifier":
        sub(x.list);
        sub(x.where, [x.variable]);
        return;
      case "reduce":
        sub(x.init);
        sub(x.list);
        sub(x.expr, [x.variable, x.acc]);
        return;
      case "pattern": {
        const own = patternVariables(x.pattern);
        for (const v of own) if (!locals.has(v)) out.add(v);
        for (const n of [...x.pattern.nodes, ...x.pattern.rels]) sub(n.properties);
        if (x.comp) {
          sub(x.comp.where, own);
          sub(x.comp.map, own);
        }
        return;
      }
    }
    for (const c of directChildren(x)) visit(c, locals);
  };
  visit(e, new Set());
  return out;
}

/** The direct sub-expressions of `e`. */
export function directChildren(e: Expr): Expr[] {
  switch (e.k) {
    case "prop":
    case "not":
    case "neg":
    case "isnull":
    case "haslabels":
      return [e.e];
    case "index":
      return [e.e, e.idx];
    case "slice":
      return [e.e, ...(e.from ? [e.from] : []), ...(e.to ? [e.to] : [])];
    case "list":
      return e.items;
    case "map":
      return e.entries.map(([, x]) => x);
    case "bin":
      return [e.l, e.r];
    case "call":
      return e.args;
    case "case":
      return [
        ...(e.subject ? [e.subject] : []),
        ...e.whens.flat(),
        ...(e.otherwise ? [e.otherwise] : []),
      ];
    case "mapproj":
      return [e.e, ...e.items.flatMap((i) => (i.k === "entry" ? [i.expr] : []))];
    case "listcomp":
      return [e.list, ...(e.where ? [e.where] : []), ...(e.map ? [e.map] : [])];
    case "quantifier":
      return [e.list, e.where];
    case "reduce":
      return [e.init, e.list, e.expr];
    case "pattern":
      return [
        ...[...e.pattern.nodes, ...e.pattern.rels].flatMap((x) =>
          x.properties ? [x.properties] : []
        ),
        ...(e.comp ? [...(e.comp.where ? [e.comp.where] : []), e.comp.map] : []),
      ];
  }
  return [];
}
