/**
 * Choosing where a path pattern starts: an already bound variable, then
 * `id(v) = x`, then an index seek (equality from a property map or a WHERE
 * conjunct), then an index range seek, then the smallest label, then all
 * nodes.
 * @module
 */
import { containsAggregate, type Expr, exprVariables, type PathPattern } from "../cypher/ast.ts";
import type { IndexInfo } from "../graph_store.ts";
import type { ScanSource } from "./pattern.ts";
import type { Pending, Statistics } from "./plan_util.ts";

/** The cheapest node to start a path from, and how to find it. */
export function chooseStart(
  p: PathPattern,
  bound: ReadonlySet<string>,
  pending: Pending[],
  indexes: readonly IndexInfo[],
  stats: Statistics,
): { index: number; source: ScanSource | null } {
  let best: { index: number; source: ScanSource | null; cost: [number, number] } | null = null;
  const consider = (index: number, source: ScanSource | null, cost: [number, number]) => {
    if (!best || cost[0] < best.cost[0] || (cost[0] === best.cost[0] && cost[1] < best.cost[1])) {
      best = { index, source, cost };
    }
  };
  for (let i = 0; i < p.nodes.length; i++) {
    const n = p.nodes[i];
    const v = n.variable!;
    if (bound.has(v)) {
      consider(i, null, [0, 0]);
      continue;
    }
    const byId = idSeek(v, bound, pending);
    if (byId) consider(i, { k: "id", value: byId.value, conjunct: byId.conjunct }, [0.5, 0]);
    for (const label of n.labels) {
      for (const idx of indexes.filter((x) => x.label === label)) {
        const hit = indexValue(v, idx.property, bound, pending);
        if (hit) {
          const source = { k: "index" as const, label, property: idx.property, value: hit.value };
          consider(i, { ...source, conjunct: hit.conjunct, many: hit.many }, [1, hit.many ? 1 : 0]);
        }
        const range = indexRange(v, idx.property, bound, pending);
        if (range) {
          const cost = range.lower && range.upper ? 0 : 1;
          consider(i, { k: "range", label, property: idx.property, ...range }, [1.5, cost]);
        }
      }
      consider(i, { k: "label", label }, [2, stats.labels.get(label) ?? 0]);
    }
    consider(i, { k: "all" }, [3, stats.nodes]);
  }
  const b = best as { index: number; source: ScanSource | null } | null;
  if (!b) throw new Error("empty pattern");
  // The scan implies its label / equality: drop those conjuncts.
  const src = b.source;
  const sv = p.nodes[b.index].variable!;
  if (src && src.k !== "all" && src.k !== "id") {
    const label = src.label;
    const i = pending.findIndex((c) =>
      c.expr.k === "haslabels" && c.expr.labels.length === 1 && c.expr.labels[0] === label &&
      c.expr.e.k === "var" && c.expr.e.name === sv
    );
    if (i >= 0) pending.splice(i, 1);
  }
  if (src && (src.k === "index" || src.k === "id")) {
    const i = pending.findIndex((c) => c.expr === src.conjunct);
    if (i >= 0) pending.splice(i, 1);
  }
  return b;
}

/** `id(v) = expr` among the pending conjuncts, with expr computable from `bound`. */
function idSeek(
  v: string,
  bound: ReadonlySet<string>,
  pending: Pending[],
): { value: Expr; conjunct: Expr } | null {
  for (const c of pending) {
    const e = c.expr;
    if (e.k !== "bin" || e.op !== "=") continue;
    for (const [a, b] of [[e.l, e.r], [e.r, e.l]]) {
      if (
        a.k === "call" && a.name === "id" && a.args.length === 1 && a.args[0].k === "var" &&
        a.args[0].name === v && [...exprVariables(b)].every((x) => bound.has(x)) &&
        !containsAggregate(b)
      ) return { value: b, conjunct: e };
    }
  }
  return null;
}

/**
 * Bounds on `v.property` from `<`, `<=`, `>`, `>=` conjuncts whose other side
 * is computable from `bound` (the conjuncts stay as filters).
 */
function indexRange(
  v: string,
  property: string,
  bound: ReadonlySet<string>,
  pending: Pending[],
): Pick<Extract<ScanSource, { k: "range" }>, "lower" | "upper"> | null {
  let lower: { value: Expr; inclusive: boolean } | undefined;
  let upper: { value: Expr; inclusive: boolean } | undefined;
  const flipped: Record<string, string> = { "<": ">", "<=": ">=", ">": "<", ">=": "<=" };
  for (const c of pending) {
    const e = c.expr;
    if (e.k !== "bin" || !(e.op in flipped)) continue;
    for (const [a, b, op] of [[e.l, e.r, e.op], [e.r, e.l, flipped[e.op]]] as const) {
      if (a.k !== "prop" || a.key !== property || a.e.k !== "var" || a.e.name !== v) continue;
      if (![...exprVariables(b)].every((x) => bound.has(x)) || containsAggregate(b)) continue;
      const bnd = { value: b, inclusive: op === "<=" || op === ">=" };
      if (op === ">" || op === ">=") lower ??= bnd;
      else upper ??= bnd;
    }
  }
  return lower || upper ? { lower, upper } : null;
}

/**
 * `v.property = expr` (or `v.property IN expr`, then `many`) among the pending
 * conjuncts, with expr computable from `bound`.
 */
function indexValue(
  v: string,
  property: string,
  bound: ReadonlySet<string>,
  pending: Pending[],
): { value: Expr; conjunct: Expr; many: boolean } | null {
  for (const c of pending) {
    const e = c.expr;
    if (e.k !== "bin" || (e.op !== "=" && e.op !== "IN")) continue;
    const sides = e.op === "=" ? [[e.l, e.r], [e.r, e.l]] : [[e.l, e.r]];
    for (const [a, b] of sides) {
      if (a.k === "prop" && a.key === property && a.e.k === "var" && a.e.name === v) {
        const vars = exprVariables(b);
        if ([...vars].every((x) => bound.has(x)) && !containsAggregate(b)) {
          return { value: b, conjunct: e, many: e.op === "IN" };
        }
      }
    }
  }
  return null;
}
