/**
 * The planner: checks a parsed query (scopes, functions, aggregates,
 * parameters) and turns it into a pipeline of stages. Pattern matching starts
 * from the cheapest node of each path (see start.ts) and expands along the
 * relationships from there; predicates run as soon as their variables are
 * bound. Eager barriers (materialised rows) keep clause-at-a-time semantics:
 * one before a write that follows a read (writes never feed back into a
 * running scan) and one after every write that another clause follows.
 * @module
 */
import {
  AGGREGATES,
  type Clause,
  containsAggregate,
  type Expr,
  exprKey,
  exprVariables,
  HIDDEN,
  type NodePattern,
  type PathPattern,
  type Projection,
  type Query,
  type RelPattern,
  type SetItem,
} from "../cypher/ast.ts";
import type { Direction, GraphStore, IndexInfo } from "../graph_store.ts";
import { CypherError, type Value } from "../values.ts";
import { type AggregateSpec, AggregateStage, keySlot } from "./aggregate.ts";
import { checkExpr } from "./check.ts";
import {
  type Column,
  DistinctStage,
  EagerStage,
  FilterStage,
  ForeachStage,
  LimitStage,
  OptionalStage,
  ProjectStage,
  SkipStage,
  SortStage,
  TrimStage,
  UnionStage,
  UnwindStage,
} from "./ops.ts";
import { PathStage, ScanStage, ShortestPathStage, TraverseStage } from "./pattern.ts";
import {
  andAll,
  collectLabels,
  conjuncts,
  flip,
  mapExpr,
  nodeText,
  type Pending,
  type Statistics,
  traverseText,
} from "./plan_util.ts";
import type { Stage } from "./stage.ts";
import { chooseStart } from "./start.ts";
import {
  type CreatePathSpec,
  CreateStage,
  DeleteStage,
  IndexStage,
  MergeStage,
  RemoveStage,
  SetStage,
} from "./writes.ts";

/** A planned query. */
export interface Plan {
  stages: Stage[];
  /** Sub-pipelines of pattern predicates, by pattern id (see ExecContext.subplans). */
  subplans: Map<number, Stage[]>;
  /** Result columns (empty when the query has no RETURN). */
  columns: string[];
}

type Kind = "node" | "rel" | "path" | "value";

/** Plans `q` against the indexes and statistics of `store`. */
export async function planQuery(
  q: Query,
  store: GraphStore,
  params: ReadonlyMap<string, Value>,
): Promise<Plan> {
  const labels = new Set<string>();
  collectLabels([q.clauses, q.union], labels);
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, await store.countNodesByLabel(l));
  const stats = { nodes: await store.countNodes(), labels: counts };
  const indexes = await store.listIndexes();
  const first = new Planner(params, indexes, stats).plan(q.clauses);
  if (q.union.length === 0) return first;
  const parts = [first, ...q.union.map((u) => new Planner(params, indexes, stats).plan(u.clauses))];
  const columns = first.columns;
  for (const p of parts) {
    if (p.columns.length !== columns.length || p.columns.some((c, i) => c !== columns[i])) {
      throw new CypherError("All sub queries in a UNION must have the same column names.");
    }
  }
  const subplans = new Map(parts.flatMap((p) => [...p.subplans]));
  const union = new UnionStage(parts.map((p) => p.stages), columns, !q.union[0].all);
  return { stages: [union], subplans, columns };
}

class Planner {
  private anon = 0;
  /** Variables in scope, in order of introduction, with their kinds. */
  private scope = new Map<string, Kind>();
  private stages: Stage[] = [];
  private subplans = new Map<number, Stage[]>();
  /** A scan or traversal ran since the last eager barrier. */
  private readSeen = false;
  /** The previous clause wrote (the next one needs an eager barrier). */
  private writeSeen = false;

  constructor(
    private params: ReadonlyMap<string, Value>,
    private indexes: IndexInfo[],
    private stats: Statistics,
  ) {}

  plan(clauses: Clause[]): Plan {
    let columns: string[] = [];
    for (const c of clauses) {
      const cols = this.clause(c);
      if (cols) columns = cols;
    }
    return { stages: this.stages, subplans: this.subplans, columns };
  }

  private hidden(kind: string): string {
    return `${HIDDEN}${kind}${this.anon++}`;
  }

  // ----- semantic checks -------------------------------------------------------

  /** Checks `e` (see checkExpr), planning its pattern predicates. */
  private check(
    e: Expr,
    outer: ReadonlySet<string> | ReadonlyMap<string, unknown>,
    aggOk: boolean,
  ): void {
    checkExpr(e, outer, aggOk, this.params, (x, allowed) => {
      if (!this.subplans.has(x.id)) {
        const { stages } = this.planPatterns([x.pattern], null, allowed, false);
        this.subplans.set(x.id, stages);
      }
    });
  }

  private declare(name: string, kind: Kind): void {
    const had = this.scope.get(name);
    if (had && had !== kind && !(had === "value" || kind === "value")) {
      throw new CypherError(`The alias '${name}' was specified for both a ${had} and a ${kind}.`);
    }
    this.scope.set(name, kind);
  }

  private barrier(): void {
    if (this.readSeen) {
      this.stages.push(new EagerStage());
      this.readSeen = false;
    }
  }

  // ----- clauses ----------------------------------------------------------------

  private clause(c: Clause): string[] | null {
    // Clause-at-a-time semantics: a clause after a write sees every row's
    // write, so the rows are materialised in between (DELETE already is).
    if (this.writeSeen) {
      this.stages.push(new EagerStage());
      this.writeSeen = false;
      this.readSeen = false;
    }
    if (
      c.k === "create" || c.k === "merge" || c.k === "set" || c.k === "remove" ||
      c.k === "foreach"
    ) {
      this.writeSeen = true;
    }
    switch (c.k) {
      case "match": {
        const before = new Set(this.scope.keys());
        const { stages, introduced } = this.planPatterns(c.patterns, c.where, before, true);
        if (c.optional) this.stages.push(new OptionalStage(stages, introduced));
        else this.stages.push(...stages);
        this.readSeen = true;
        return null;
      }
      case "unwind":
        this.check(c.expr, this.scope, false);
        if (this.scope.has(c.variable)) {
          throw new CypherError(`Variable \`${c.variable}\` already declared`);
        }
        this.stages.push(new UnwindStage(c.expr, c.variable));
        this.declare(c.variable, "value");
        return null;
      case "with":
      case "return":
        return this.projection(c.projection, c.k === "return", c.k === "with" ? c.where : null);
      case "create": {
        const specs = c.patterns.map((p) => this.createSpec(p, "CREATE"));
        this.barrier();
        this.stages.push(new CreateStage(specs));
        return null;
      }
      case "merge":
        return this.merge(c.pattern, c.onCreate, c.onMatch);
      case "set":
        c.items.forEach((it) => this.checkSetItem(it));
        this.barrier();
        this.stages.push(new SetStage(c.items));
        return null;
      case "remove":
        for (const it of c.items) {
          if (it.k === "prop") this.check(it.target, this.scope, false);
          else if (!this.scope.has(it.variable)) {
            throw new CypherError(`'${it.variable}' not defined`);
          }
        }
        this.barrier();
        this.stages.push(new RemoveStage(c.items));
        return null;
      case "delete":
        c.exprs.forEach((e) => this.check(e, this.scope, false));
        this.barrier();
        this.stages.push(new DeleteStage(c.exprs, c.detach));
        return null;
      case "foreach":
        return this.foreach(c);
      case "create_index":
      case "drop_index":
        this.stages.push(new IndexStage(c.k === "create_index", c.label, c.property));
        return null;
    }
  }

  /** FOREACH: its clauses are planned as a pipeline run once per list element. */
  private foreach(c: Extract<Clause, { k: "foreach" }>): null {
    this.check(c.list, this.scope, false);
    if (this.scope.has(c.variable)) {
      throw new CypherError(`Variable \`${c.variable}\` already declared`);
    }
    this.barrier();
    const saved = {
      scope: this.scope,
      stages: this.stages,
      readSeen: this.readSeen,
      writeSeen: this.writeSeen,
    };
    this.scope = new Map(this.scope).set(c.variable, "value");
    this.stages = [];
    this.readSeen = false;
    this.writeSeen = false;
    for (const inner of c.clauses) this.clause(inner);
    const inner = this.stages;
    // Variables created inside FOREACH do not leave it.
    Object.assign(this, saved);
    this.stages.push(new ForeachStage(c.list, c.variable, inner));
    return null;
  }

  private checkSetItem(it: SetItem): void {
    if (it.k === "prop") {
      this.check(it.target, this.scope, false);
      this.check(it.value, this.scope, false);
      return;
    }
    if (!this.scope.has(it.variable)) throw new CypherError(`'${it.variable}' not defined`);
    if (it.k !== "labels") this.check(it.value, this.scope, false);
  }

  private merge(pattern: PathPattern, onCreate: SetItem[], onMatch: SetItem[]) {
    const before = new Set(this.scope.keys());
    const spec = this.createSpec(pattern, "MERGE", before);
    const { stages } = this.planPatterns([pattern], null, before, false);
    // createSpec declared the new variables; SET items may use them.
    onCreate.forEach((it) => this.checkSetItem(it));
    onMatch.forEach((it) => this.checkSetItem(it));
    this.barrier();
    this.stages.push(new MergeStage(stages, spec, onCreate, onMatch));
    return null;
  }

  /** Checks a CREATE/MERGE path and declares its new variables. */
  private createSpec(p: PathPattern, clause: string, names?: Set<string>): CreatePathSpec {
    if (p.shortest) throw new CypherError(`shortestPath cannot be used in ${clause}`);
    this.nameAnonymous([p], names);
    // New variables in pattern order (RETURN * lists them so).
    const fresh = new Set<string>();
    const nodes = p.nodes.map((n) => {
      const v = n.variable!;
      const bound = this.scope.has(v);
      if (bound) {
        if (this.scope.get(v) !== "node" && this.scope.get(v) !== "value") {
          throw new CypherError(
            `The alias '${v}' was specified for both a node and a relationship.`,
          );
        }
        if (clause === "CREATE" && (n.labels.length > 0 || n.properties)) {
          throw new CypherError(`The bound variable '${v}' can't be redeclared in a CREATE clause`);
        }
      }
      if (n.properties) this.check(n.properties, this.scope, false);
      if (!bound) fresh.add(v);
      this.declare(v, "node");
      return { variable: v, labels: n.labels, properties: n.properties, bound };
    });
    const rels = p.rels.map((r) => {
      const v = r.variable!;
      if (this.scope.has(v)) {
        throw new CypherError(
          `The bound variable '${v}' can't be redeclared in a ${clause} clause`,
        );
      }
      if (r.varLength) {
        throw new CypherError(`Variable length relationships cannot be used in ${clause}`);
      }
      if (r.types.length !== 1) {
        throw new CypherError(`Exactly one relationship type must be specified for ${clause}`);
      }
      if (r.direction === "both" && clause === "CREATE") {
        throw new CypherError("Only directed relationships are supported in CREATE");
      }
      if (r.properties) this.check(r.properties, this.scope, false);
      this.declare(v, "rel");
      return {
        variable: v,
        type: r.types[0],
        direction: r.direction === "in" ? "in" as const : "out" as const,
        properties: r.properties,
      };
    });
    if (p.variable) {
      if (this.scope.has(p.variable)) {
        throw new CypherError(`The bound variable '${p.variable}' can't be redeclared`);
      }
      this.declare(p.variable, "path");
    }
    // Re-insert the new names in pattern order at the end of the scope.
    const order: Array<[string, Kind]> = [];
    p.nodes.forEach((n, i) => {
      if (fresh.has(n.variable!)) order.push([n.variable!, "node"]);
      if (p.rels[i]) order.push([p.rels[i].variable!, "rel"]);
    });
    if (p.variable) order.push([p.variable, "path"]);
    for (const [v, k] of order) {
      this.scope.delete(v);
      this.scope.set(v, k);
    }
    return { variable: p.variable, nodes, rels };
  }

  /** Gives anonymous nodes and relationships hidden names (once per pattern object). */
  private nameAnonymous(patterns: PathPattern[], _names?: Set<string>): void {
    for (const p of patterns) {
      for (const n of p.nodes) n.variable ??= this.hidden("n");
      for (const r of p.rels) r.variable ??= this.hidden("r");
    }
  }

  // ----- pattern matching ---------------------------------------------------------

  /**
   * Plans MATCH patterns given the variables bound before. With `declare`,
   * the new variables enter the query's scope (MATCH); without, only the
   * stages are wanted (MERGE, whose createSpec declared them; pattern
   * predicates, whose variables stay local).
   */
  private planPatterns(
    patterns: PathPattern[],
    where: Expr | null,
    before: ReadonlySet<string>,
    declare: boolean,
  ): { stages: Stage[]; introduced: string[] } {
    this.nameAnonymous(patterns);
    const introduced: string[] = [];
    const clauseRels = new Set<string>();
    const intro = (v: string, kind: Kind) => {
      if (!before.has(v) && !introduced.includes(v)) introduced.push(v);
      if (declare) this.declare(v, kind);
    };
    for (const p of patterns) {
      p.nodes.forEach((n, i) => {
        intro(n.variable!, "node");
        const r = p.rels[i];
        if (!r) return;
        const v = r.variable!;
        if (clauseRels.has(v)) {
          throw new CypherError(
            `Cannot use the same relationship variable '${v}' for multiple patterns.`,
          );
        }
        clauseRels.add(v);
        if (before.has(v) && r.varLength) {
          this.unsupported("Binding a variable-length relationship variable twice");
        }
        intro(v, "rel");
      });
      if (p.variable) {
        if (before.has(p.variable)) {
          throw new CypherError(`The bound variable '${p.variable}' can't be redeclared`);
        }
        intro(p.variable, "path");
      }
    }
    const allowed = new Set([...before, ...introduced]);
    const pending: Pending[] = [];
    const add = (e: Expr) => {
      this.check(e, allowed, false);
      pending.push({ expr: e, vars: exprVariables(e) });
    };
    for (const p of patterns) {
      for (const n of p.nodes) {
        for (const l of n.labels) {
          add({ k: "haslabels", e: { k: "var", name: n.variable! }, labels: [l] });
        }
        for (const [k, v] of this.propertyEntries(n)) {
          add({
            k: "bin",
            op: "=",
            l: { k: "prop", e: { k: "var", name: n.variable! }, key: k },
            r: v,
          });
        }
      }
      for (const r of p.rels) if (r.properties) this.check(r.properties, allowed, false);
    }
    if (where) conjuncts(where).forEach(add);

    const bound = new Set(before);
    const stages: Stage[] = [];
    const flush = () => {
      const ready = pending.filter((c) => [...c.vars].every((v) => bound.has(v)));
      if (ready.length === 0) return;
      for (const r of ready) pending.splice(pending.indexOf(r), 1);
      stages.push(new FilterStage(andAll(ready.map((r) => r.expr))));
    };
    flush();
    const matchedRels: string[] = [];
    for (const p of patterns) {
      if (p.shortest) {
        this.planShortest(p, bound, pending, stages, flush, matchedRels);
        continue;
      }
      const start = chooseStart(p, bound, pending, this.indexes, this.stats);
      const sn = p.nodes[start.index];
      if (start.source) {
        stages.push(new ScanStage(sn.variable!, start.source, nodeText(sn, true)));
        bound.add(sn.variable!);
      }
      flush();
      const step = (j: number, rightwards: boolean) => {
        const r = p.rels[j];
        const fromN = rightwards ? p.nodes[j] : p.nodes[j + 1];
        const toN = rightwards ? p.nodes[j + 1] : p.nodes[j];
        const direction: Direction = rightwards ? r.direction : flip(r.direction);
        stages.push(
          new TraverseStage({
            from: fromN.variable!,
            rel: r.variable!,
            to: toN.variable!,
            direction,
            types: r.types,
            relProperties: r.properties,
            relBound: bound.has(r.variable!),
            toBound: bound.has(toN.variable!),
            varLength: r.varLength,
            reverseList: !rightwards,
            otherRels: [...matchedRels],
          }, traverseText(fromN, r, toN, direction)),
        );
        matchedRels.push(r.variable!);
        bound.add(r.variable!);
        bound.add(toN.variable!);
        flush();
      };
      for (let j = start.index; j < p.rels.length; j++) step(j, true);
      for (let j = start.index - 1; j >= 0; j--) step(j, false);
      if (p.variable) {
        stages.push(
          new PathStage(
            p.variable,
            p.nodes.map((n) => n.variable!),
            p.rels.map((r) => r.variable!),
          ),
        );
        bound.add(p.variable);
        flush();
      }
    }
    if (pending.length > 0) stages.push(new FilterStage(andAll(pending.map((c) => c.expr))));
    return { stages, introduced };
  }

  private unsupported(what: string): never {
    throw new CypherError(`${what} is not supported`);
  }

  /**
   * `shortestPath((a)-[*]-(b))`: finds `a` and `b` like single-node patterns,
   * then searches breadth-first between them.
   */
  private planShortest(
    p: PathPattern,
    bound: Set<string>,
    pending: Pending[],
    stages: Stage[],
    flush: () => void,
    matchedRels: string[],
  ): void {
    for (const n of p.nodes) {
      const v = n.variable!;
      if (bound.has(v)) continue;
      const single: PathPattern = { variable: null, nodes: [n], rels: [] };
      const start = chooseStart(single, bound, pending, this.indexes, this.stats);
      stages.push(new ScanStage(v, start.source!, nodeText(n, true)));
      bound.add(v);
      flush();
    }
    const [a, b] = p.nodes, r = p.rels[0];
    stages.push(
      new ShortestPathStage({
        from: a.variable!,
        rel: r.variable!,
        to: b.variable!,
        direction: r.direction,
        types: r.types,
        relProperties: r.properties,
        min: r.varLength!.min,
        max: r.varLength!.max,
        all: p.shortest === "all",
        otherRels: [...matchedRels],
      }, traverseText(a, r, b, r.direction)),
    );
    matchedRels.push(r.variable!);
    bound.add(r.variable!);
    flush();
    if (p.variable) {
      stages.push(new PathStage(p.variable, [a.variable!, b.variable!], [r.variable!]));
      bound.add(p.variable);
      flush();
    }
  }

  /** Entries of a node pattern's property map (a map literal or a map parameter). */
  private propertyEntries(n: NodePattern | RelPattern): Array<[string, Expr]> {
    const p = n.properties;
    if (!p) return [];
    if (p.k === "map") return p.entries;
    if (p.k === "param") {
      const v = this.params.get(p.name);
      if (v === undefined) throw new CypherError(`Missing parameters: $${p.name}`);
      if (!(v instanceof Map)) throw new CypherError(`Parameter $${p.name} must be a map`);
      return [...v].map(([k, x]) => [k, { k: "lit", v: x }]);
    }
    throw new CypherError("Pattern properties must be a map");
  }

  // ----- projections ----------------------------------------------------------------

  private projection(proj: Projection, isReturn: boolean, where: Expr | null): string[] | null {
    const items = [...proj.items];
    if (proj.star) {
      const vars = [...this.scope.keys()].filter((v) => !v.startsWith(HIDDEN));
      if (vars.length === 0) {
        throw new CypherError("RETURN * is not allowed when there are no variables in scope");
      }
      items.unshift(
        ...vars.map((v) => ({ expr: { k: "var" as const, name: v }, name: v, aliased: true })),
      );
    }
    const names: string[] = [];
    for (const it of items) {
      if (!it.aliased && it.expr.k === "var") it.name = it.expr.name;
      if (!isReturn && !it.aliased && it.expr.k !== "var") {
        throw new CypherError("WITH clause projections must be aliased");
      }
      if (names.includes(it.name)) {
        throw new CypherError(
          `Multiple result columns with the same name are not supported ('${it.name}')`,
        );
      }
      names.push(it.name);
      this.check(it.expr, this.scope, true);
    }
    const aggregating = items.some((it) => containsAggregate(it.expr));
    const nameSet = new Set(names);
    // ORDER BY may name a projected expression by its text or alias.
    const sortExprs = proj.order.map((o) =>
      mapExpr(o.expr, (x) => {
        const k = exprKey(x);
        const it = items.find((i) => exprKey(i.expr) === k);
        return it ? { k: "var", name: it.name } : null;
      })
    );
    const sortAllowed = aggregating || proj.distinct
      ? nameSet
      : new Set([...this.scope.keys(), ...names]);
    sortExprs.forEach((e) => this.check(e, sortAllowed, aggregating));
    if (proj.skip) this.check(proj.skip, new Set(), false);
    if (proj.limit) this.check(proj.limit, new Set(), false);

    const sortCols: Column[] = sortExprs.map((expr, i) => ({ name: `${HIDDEN}sort${i}`, expr }));
    if (aggregating) {
      const specs: AggregateSpec[] = [];
      const keys: Column[] = items.filter((it) => !containsAggregate(it.expr))
        .map((it) => ({ name: it.name, expr: it.expr }));
      const keySlots = new Map(keys.map((k, i) => [exprKey(k.expr), keySlot(i)]));
      // Aggregate calls become result slots; grouping-key expressions become
      // key slots; anything else outside an aggregate would be ambiguous.
      const extract = (e: Expr) =>
        mapExpr(e, (x) => {
          if (x.k === "call" && AGGREGATES.has(x.name)) {
            const slot = `${HIDDEN}agg${specs.length}`;
            specs.push({
              fn: x.name,
              distinct: x.distinct,
              arg: x.star ? null : x.args[0],
              param: x.args[1] ?? null,
              slot,
            });
            return { k: "var", name: slot };
          }
          const key = keySlots.get(exprKey(x));
          return key ? { k: "var", name: key } : null;
        });
      const aggItems: Column[] = [];
      for (const it of items) {
        if (!containsAggregate(it.expr)) continue;
        const expr = extract(it.expr);
        for (const v of exprVariables(expr)) {
          if (!v.startsWith(HIDDEN)) {
            throw new CypherError(
              `Ambiguous aggregation expression '${it.name}': '${v}' is neither a grouping key ` +
                "nor inside an aggregate function",
            );
          }
        }
        aggItems.push({ name: it.name, expr });
      }
      const sorts = sortCols.map((c) => ({ name: c.name, expr: extract(c.expr) }));
      this.stages.push(new AggregateStage(keys, specs, aggItems, sorts));
    } else {
      this.stages.push(
        new ProjectStage(items.map((it) => ({ name: it.name, expr: it.expr })), sortCols),
      );
    }
    if (proj.distinct) this.stages.push(new DistinctStage(names));
    if (sortCols.length > 0) {
      this.stages.push(
        new SortStage(
          sortCols.map((c, i) => ({ column: c.name, descending: proj.order[i].descending })),
          proj.limit ? [proj.limit, ...(proj.skip ? [proj.skip] : [])] : null,
        ),
      );
    }
    if (proj.skip) this.stages.push(new SkipStage(proj.skip));
    if (proj.limit) this.stages.push(new LimitStage(proj.limit));
    this.stages.push(new TrimStage(names));
    this.scope = new Map(names.map((n) => [n, this.kindOf(items, n)]));
    if (where) {
      this.check(where, this.scope, false);
      this.stages.push(new FilterStage(where));
    }
    return isReturn ? names : null;
  }

  private kindOf(items: Projection["items"], name: string): Kind {
    const it = items.find((i) => i.name === name);
    if (it && it.expr.k === "var") return this.scope.get(it.expr.name) ?? "value";
    return "value";
  }
}
