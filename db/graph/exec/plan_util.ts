/**
 * Helpers of the planner: AST rewriting, predicate splitting, label
 * collection and EXPLAIN text of patterns.
 * @module
 */
import { type Expr, HIDDEN, type NodePattern, type RelPattern } from "../cypher/ast.ts";
import type { Direction } from "../graph_store.ts";
import { balanced } from "../cypher/parser_expr.ts";

/** Labels of every node pattern in `x` (a walk over the AST). */
export function collectLabels(x: unknown, out: Set<string>): void {
  if (Array.isArray(x)) {
    for (const y of x) collectLabels(y, out);
    return;
  }
  if (x === null || typeof x !== "object" || x instanceof Map) return;
  const o = x as Record<string, unknown>;
  if (Array.isArray(o.labels) && typeof o.offset === "number") {
    for (const l of o.labels) out.add(l as string);
  }
  for (const v of Object.values(o)) collectLabels(v, out);
}
/** What the planner knows of the data: node count and node count per label. */
export interface Statistics {
  nodes: number;
  labels: ReadonlyMap<string, number>;
}
/** Rebuilds `e` bottom-up, replacing nodes for which `f` returns an expression. */
export function mapExpr(e: Expr, f: (x: Expr) => Expr | null): Expr {
  const hit = f(e);
  if (hit) return hit;
  const m = (x: Expr) => mapExpr(x, f);
  switch (e.k) {
    case "prop":
      return { ...e, e: m(e.e) };
    case "not":
    case "neg":
      return { ...e, e: m(e.e) };
    case "isnull":
      return { ...e, e: m(e.e) };
    case "haslabels":
      return { ...e, e: m(e.e) };
    case "index":
      return { ...e, e: m(e.e), idx: m(e.idx) };
    case "slice":
      return { ...e, e: m(e.e), from: e.from && m(e.from), to: e.to && m(e.to) };
    case "list":
      return { ...e, items: e.items.map(m) };
    case "map":
      return { ...e, entries: e.entries.map(([k, x]) => [k, m(x)]) };
    case "bin":
      return { ...e, l: m(e.l), r: m(e.r) };
    case "call":
      return { ...e, args: e.args.map(m) };
    case "case":
      return {
        ...e,
        subject: e.subject && m(e.subject),
        whens: e.whens.map(([w, t]) => [m(w), m(t)]),
        otherwise: e.otherwise && m(e.otherwise),
      };
    case "mapproj":
      return {
        ...e,
        e: m(e.e),
        items: e.items.map((i) => (i.k === "entry" ? { ...i, expr: m(i.expr) } : i)),
      };
    case "listcomp":
      return { ...e, list: m(e.list), where: e.where && m(e.where), map: e.map && m(e.map) };
    case "quantifier":
      return { ...e, list: m(e.list), where: m(e.where) };
    case "reduce":
      return { ...e, init: m(e.init), list: m(e.list), expr: m(e.expr) };
  }
  return e;
}
/** Splits a predicate into its AND-ed parts. */
export function conjuncts(e: Expr): Expr[] {
  if (e.k === "bin" && e.op === "AND") return [...conjuncts(e.l), ...conjuncts(e.r)];
  return [e];
}
/** AND of all `es` (at least one), as a balanced tree. */
export function andAll(es: Expr[]): Expr {
  return balanced("AND", es);
}

/** A predicate waiting for its variables to be bound. */
export interface Pending {
  expr: Expr;
  vars: Set<string>;
}
/** The opposite direction. */
export function flip(d: Direction): Direction {
  return d === "out" ? "in" : d === "in" ? "out" : "both";
}

/** A variable as the user wrote it (planner-made names print as empty). */
export function userName(v: string | null): string {
  return v && !v.startsWith(HIDDEN) ? v : "";
}

/** `(v:Label)` as EXPLAIN prints it. */
export function nodeText(n: NodePattern, labels: boolean): string {
  return `(${userName(n.variable)}${labels ? n.labels.map((l) => ":" + l).join("") : ""})`;
}

/** `(a)-[r:T]->(b:L)` as EXPLAIN prints it. */
export function traverseText(
  from: NodePattern,
  r: RelPattern,
  to: NodePattern,
  d: Direction,
): string {
  const types = r.types.length > 0 ? ":" + r.types.join("|") : "";
  const len = r.varLength ? `*${r.varLength.min}..${r.varLength.max ?? "INF"}` : "";
  const inner = `${userName(r.variable)}${types}${len}`;
  const body = inner === "" ? "" : `[${inner}]`;
  const arrow = d === "out" ? `-${body}->` : d === "in" ? `<-${body}-` : `-${body}-`;
  return `${nodeText(from, false)}${arrow}${nodeText(to, true)}`;
}
