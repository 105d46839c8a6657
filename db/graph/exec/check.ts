/**
 * Semantic checks of expressions: undefined variables, unknown functions,
 * argument counts, aggregate misuse, missing parameters.
 * @module
 */
import { AGGREGATES, directChildren, type Expr, patternVariables } from "../cypher/ast.ts";
import { CypherError } from "../values.ts";
import { SCALAR_FUNCTIONS } from "./functions.ts";

/**
 * Checks variables, functions, arity, aggregates and parameters of `e`;
 * `planPattern` is called for each pattern predicate with the variables in
 * scope there.
 */
export function checkExpr(
  e: Expr,
  outer: ReadonlySet<string> | ReadonlyMap<string, unknown>,
  aggOk: boolean,
  params: ReadonlyMap<string, unknown>,
  planPattern: (x: Extract<Expr, { k: "pattern" }>, allowed: ReadonlySet<string>) => void,
): void {
  let allowed: ReadonlySet<string> = new Set(outer.keys());
  const scoped = (names: string[], f: () => void) => {
    const saved = allowed;
    allowed = new Set([...saved, ...names]);
    try {
      f();
    } finally {
      allowed = saved;
    }
  };
  const visit = (x: Expr, inAgg: boolean): void => {
    switch (x.k) {
      case "var":
        if (!allowed.has(x.name)) throw new CypherError(`'${x.name}' not defined`);
        return;
      case "mapproj":
        return directChildren(x).forEach((c) => visit(c, inAgg));
      case "listcomp":
        visit(x.list, inAgg);
        return scoped([x.variable], () => {
          if (x.where) visit(x.where, inAgg);
          if (x.map) visit(x.map, inAgg);
        });
      case "quantifier":
        visit(x.list, inAgg);
        return scoped([x.variable], () => visit(x.where, inAgg));
      case "reduce":
        visit(x.init, inAgg);
        visit(x.list, inAgg);
        return scoped([x.variable, x.acc], () => visit(x.expr, inAgg));
      case "pattern":
        if (x.pattern.variable) {
          throw new CypherError("Named paths are not allowed in pattern predicates");
        }
        planPattern(x, allowed);
        if (x.comp) {
          const comp = x.comp;
          scoped(patternVariables(x.pattern), () => {
            if (comp.where) visit(comp.where, inAgg);
            visit(comp.map, inAgg);
          });
        }
        return;
      case "param":
        if (!params.has(x.name)) throw new CypherError(`Missing parameters: $${x.name}`);
        return;
      case "call": {
        if (AGGREGATES.has(x.name)) {
          if (!aggOk) throw new CypherError(`Invalid use of aggregating function '${x.name}'`);
          if (inAgg) {
            throw new CypherError("Can't use aggregate functions inside of aggregate functions.");
          }
          const want = x.name.startsWith("percentile") ? 2 : 1;
          if (!x.star && x.args.length !== want) {
            throw new CypherError(
              `Received ${x.args.length} arguments to aggregate function '${x.name}', expected ${want}`,
            );
          }
          x.args.forEach((a) => visit(a, true));
          return;
        }
        const arity = SCALAR_FUNCTIONS.get(x.name);
        if (!arity) throw new CypherError(`Unknown function '${x.name}'`);
        if (x.distinct) throw new CypherError(`DISTINCT is only allowed in aggregate functions`);
        const [min, max] = arity;
        if (x.args.length < min || x.args.length > max) {
          const want = min === max
            ? `${min}`
            : max === Infinity
            ? `at least ${min}`
            : `${min}..${max}`;
          throw new CypherError(
            `Received ${x.args.length} arguments to function '${x.name}', expected ${want}`,
          );
        }
        x.args.forEach((a) => visit(a, inAgg));
        return;
      }
      case "prop":
      case "not":
      case "neg":
      case "isnull":
      case "haslabels":
        return visit(x.e, inAgg);
      case "index":
        visit(x.e, inAgg);
        return visit(x.idx, inAgg);
      case "slice":
        visit(x.e, inAgg);
        if (x.from) visit(x.from, inAgg);
        if (x.to) visit(x.to, inAgg);
        return;
      case "list":
        return x.items.forEach((i) => visit(i, inAgg));
      case "map":
        return x.entries.forEach(([, i]) => visit(i, inAgg));
      case "bin":
        visit(x.l, inAgg);
        return visit(x.r, inAgg);
      case "case":
        if (x.subject) visit(x.subject, inAgg);
        x.whens.forEach(([w, t]) => {
          visit(w, inAgg);
          visit(t, inAgg);
        });
        if (x.otherwise) visit(x.otherwise, inAgg);
        return;
    }
  };
  visit(e, false);
}
