/**
 * Pattern-matching operators: node scans (all, by label, by index), single
 * and variable-length traversals (relationship isomorphism: no edge twice
 * within one MATCH), and named-path construction.
 * @module
 */
import type { Expr } from "../cypher/ast.ts";
import type { Direction, Expansion, NodeRecord } from "../graph_store.ts";
import {
  CypherError,
  EdgeValue,
  type EntityId,
  equals,
  fromProperty,
  isPropertyValue,
  NodeValue,
  PathValue,
  type PropertyValue,
  type Value,
  valueKey,
} from "../values.ts";
import { edgeValue, type ExecContext, nodeValue, type Row } from "./context.ts";
import { evaluate, typeMismatch } from "./eval.ts";
import type { Stage } from "./stage.ts";

/** How a scan finds its nodes. */
export type ScanSource =
  | { k: "all" }
  | { k: "label"; label: string }
  /** `conjunct` is the predicate the seek implements (the planner drops it). */
  /** With `many`, `value` is a list and each distinct element is sought (`IN`). */
  | { k: "index"; label: string; property: string; value: Expr; conjunct?: Expr; many?: boolean }
  /** `id(v) = expr`: at most one node. */
  | { k: "id"; value: Expr; conjunct: Expr }
  /** Range seek; the range predicates stay as filters after it. */
  | {
    k: "range";
    label: string;
    property: string;
    lower?: { value: Expr; inclusive: boolean };
    upper?: { value: Expr; inclusive: boolean };
  };

/** Binds `variable` to every node of `source`, per input row. */
export class ScanStage implements Stage {
  readonly name: string;
  constructor(readonly variable: string, readonly source: ScanSource, readonly detail: string) {
    this.name = source.k === "all"
      ? "All Node Scan"
      : source.k === "label"
      ? "Node By Label Scan"
      : source.k === "index"
      ? "Node By Index Scan"
      : source.k === "id"
      ? "NodeByIdSeek"
      : "Node By Index Range Scan";
  }

  async *run(input: AsyncIterable<Row>, ctx: ExecContext): AsyncIterable<Row> {
    for await (const row of input) {
      for await (const rec of await this.nodes(row, ctx)) {
        ctx.tick();
        yield new Map(row).set(this.variable, nodeValue(rec));
      }
    }
  }

  private async nodes(row: Row, ctx: ExecContext): Promise<AsyncIterable<NodeRecord>> {
    const s = this.source;
    switch (s.k) {
      case "all":
        return ctx.store.scanNodes();
      case "label":
        return ctx.store.scanNodesByLabel(s.label);
      case "index": {
        const v = await evaluate(s.value, row, ctx);
        if (s.many) {
          if (v === null) return empty();
          if (!Array.isArray(v)) throw typeMismatch("List", v);
          return seekMany(ctx, s.label, s.property, v);
        }
        if (v === null || !isPropertyValue(v)) return empty();
        return ctx.store.seekIndex(s.label, s.property, v);
      }
      case "id": {
        const v = await evaluate(s.value, row, ctx);
        const id = typeof v === "bigint"
          ? v
          : typeof v === "number" && Number.isInteger(v)
          ? BigInt(v)
          : -1n;
        if (id < 0n || id > BigInt(Number.MAX_SAFE_INTEGER)) return empty();
        const rec = await ctx.store.getNode(Number(id));
        return rec ? single(rec) : empty();
      }
      case "range": {
        const range: { lower?: RangeBound; upper?: RangeBound } = {};
        for (const side of ["lower", "upper"] as const) {
          const b = s[side];
          if (!b) continue;
          const v = await evaluate(b.value, row, ctx);
          // x < null is never true; a non-storable bound matches nothing.
          if (v === null || !isPropertyValue(v)) return empty();
          range[side] = { value: v, inclusive: b.inclusive };
        }
        return ctx.store.seekIndexRange(s.label, s.property, range);
      }
    }
  }
}

async function* empty<T>(): AsyncIterable<T> {}

/** Index seeks for each distinct storable element of `values`; each node once. */
async function* seekMany(
  ctx: ExecContext,
  label: string,
  property: string,
  values: Value[],
): AsyncIterable<NodeRecord> {
  const keys = new Set<string>();
  const seen = new Set<EntityId>();
  for (const v of values) {
    ctx.tick();
    if (v === null || !isPropertyValue(v)) continue;
    const k = valueKey(v);
    if (keys.has(k)) continue;
    keys.add(k);
    for await (const n of ctx.store.seekIndex(label, property, v)) {
      if (seen.has(n.id)) continue;
      seen.add(n.id);
      yield n;
    }
  }
}

async function* single<T>(x: T): AsyncIterable<T> {
  yield x;
}

type RangeBound = { value: PropertyValue; inclusive: boolean };

/** Checks that a variable bound before a pattern holds a node (null: no match). */
function boundNode(v: Value | undefined, name: string): NodeValue | null {
  if (v === undefined) throw new Error(`variable ${name} not bound`);
  if (v === null) return null;
  if (!(v instanceof NodeValue)) throw typeMismatch("Node", v);
  return v;
}

/** Edge ids already used by `rels` in this row (relationship isomorphism). */
function usedEdges(row: Row, rels: readonly string[]): Set<EntityId> {
  const out = new Set<EntityId>();
  for (const r of rels) {
    const v = row.get(r);
    if (v instanceof EdgeValue) out.add(v.id);
    else if (Array.isArray(v)) { for (const e of v) if (e instanceof EdgeValue) out.add(e.id); }
  }
  return out;
}

/** Settings of one traversal step `(from)-[rel]-(to)`. */
export interface TraverseSpec {
  from: string;
  rel: string;
  to: string;
  /** Direction relative to `from`. */
  direction: Direction;
  types: string[];
  /** Property map every traversed edge must match (or null). */
  relProperties: Expr | null;
  /** Whether `rel` / `to` were bound before this step. */
  relBound: boolean;
  toBound: boolean;
  /** Null for a single hop. */
  varLength: { min: number; max: number | null } | null;
  /** For var-length traversed right to left: store the edge list reversed. */
  reverseList: boolean;
  /** Relationship variables of the same MATCH bound before this step. */
  otherRels: string[];
}

/** Longest variable-length path explored when no upper bound is given. */
export const MAX_UNBOUNDED_HOPS = 1_000_000;

/** Expands each input row along one relationship pattern. */
export class TraverseStage implements Stage {
  readonly name: string;
  constructor(readonly spec: TraverseSpec, readonly detail: string) {
    this.name = spec.varLength
      ? "Conditional Variable Length Traverse"
      : spec.toBound
      ? "Expand Into"
      : "Conditional Traverse";
  }

  async *run(input: AsyncIterable<Row>, ctx: ExecContext): AsyncIterable<Row> {
    const s = this.spec;
    for await (const row of input) {
      const from = boundNode(row.get(s.from), s.from);
      if (!from || ctx.nodeDeleted(from.id)) continue;
      const target = s.toBound ? boundNode(row.get(s.to), s.to) : null;
      if (s.toBound && !target) continue;
      const props = s.relProperties ? await evaluate(s.relProperties, row, ctx) : null;
      if (props !== null && !(props instanceof Map)) throw typeMismatch("Map", props);
      const used = usedEdges(row, s.otherRels);
      if (s.varLength) {
        yield* this.variable(row, from, target, props, used, ctx);
        continue;
      }
      const boundRel = s.relBound ? row.get(s.rel) : undefined;
      if (s.relBound && !(boundRel instanceof EdgeValue)) {
        if (boundRel === null) continue;
        throw typeMismatch("Edge", boundRel ?? null);
      }
      for await (const x of ctx.store.expand(from.id, s.direction, s.types)) {
        ctx.tick();
        if (used.has(x.edge.id)) continue;
        if (boundRel instanceof EdgeValue && x.edge.id !== boundRel.id) continue;
        if (target && x.neighbour !== target.id) continue;
        if (props && !matchesProps(x, props)) continue;
        const out = new Map(row);
        if (!s.relBound) out.set(s.rel, edgeValue(x.edge));
        if (!s.toBound) {
          const n = await ctx.store.getNode(x.neighbour);
          if (!n) continue;
          out.set(s.to, nodeValue(n));
        }
        yield out;
      }
    }
  }

  /** Depth-first enumeration of paths of min..max hops with distinct edges. */
  private async *variable(
    row: Row,
    from: NodeValue,
    target: NodeValue | null,
    props: Map<string, Value> | null,
    used: Set<EntityId>,
    ctx: ExecContext,
  ): AsyncIterable<Row> {
    const s = this.spec;
    const { min } = s.varLength!;
    const max = s.varLength!.max ?? MAX_UNBOUNDED_HOPS;
    const path: EdgeValue[] = [];
    const onPath = new Set<EntityId>();
    const emit = async (end: EntityId): Promise<Row | null> => {
      if (target && end !== target.id) return null;
      const out = new Map(row);
      out.set(s.rel, s.reverseList ? [...path].reverse() : [...path]);
      if (!s.toBound) {
        const n = await ctx.store.getNode(end);
        if (!n) return null;
        out.set(s.to, nodeValue(n));
      }
      return out;
    };
    // Iterative depth-first search: frames[i] expands the node reached by
    // path[0..i-1], so frames.length === path.length + 1 between steps. An
    // explicit stack keeps long paths off the call stack.
    const expand = (node: EntityId) =>
      ctx.store.expand(node, s.direction, s.types)[Symbol.asyncIterator]();
    if (min === 0) {
      const r = await emit(from.id);
      if (r) yield r;
    }
    if (max === 0) return;
    const frames: AsyncIterator<Expansion>[] = [expand(from.id)];
    try {
      while (frames.length > 0) {
        ctx.tick();
        const next = await frames[frames.length - 1].next();
        if (next.done) {
          frames.pop();
          const e = path.pop();
          if (e) onPath.delete(e.id);
          continue;
        }
        const x = next.value;
        if (used.has(x.edge.id) || onPath.has(x.edge.id)) continue;
        if (props && !matchesProps(x, props)) continue;
        path.push(edgeValue(x.edge));
        onPath.add(x.edge.id);
        if (path.length >= min) {
          const r = await emit(x.neighbour);
          if (r) yield r;
        }
        if (path.length < max) {
          frames.push(expand(x.neighbour));
        } else {
          onPath.delete(path.pop()!.id);
        }
      }
    } finally {
      for (const f of frames) await f.return?.();
    }
  }
}

function matchesProps(x: Expansion, props: Map<string, Value>): boolean {
  for (const [k, v] of props) {
    const p = x.edge.properties.get(k);
    if (p === undefined || equals(fromProperty(p), v) !== true) return false;
  }
  return true;
}

/** Builds the value of a named path `p = (...)` from its bound parts. */
export class PathStage implements Stage {
  readonly name = "Path";
  readonly hidden = true;
  /** `nodes[i]` and `rels[i]` are variable names in pattern order. */
  constructor(
    readonly variable: string,
    readonly nodes: string[],
    readonly rels: string[],
  ) {}

  async *run(input: AsyncIterable<Row>, ctx: ExecContext): AsyncIterable<Row> {
    for await (const row of input) {
      ctx.tick();
      yield new Map(row).set(this.variable, await buildPath(row, this.nodes, this.rels, ctx));
    }
  }
}

/** The path value of bound pattern variables (null if a part is null). */
export async function buildPath(
  row: Row,
  nodes: string[],
  rels: string[],
  ctx: ExecContext,
): Promise<Value> {
  const first = row.get(nodes[0]);
  if (!(first instanceof NodeValue)) return null;
  const ns: NodeValue[] = [first];
  const es: EdgeValue[] = [];
  for (let i = 0; i < rels.length; i++) {
    const r = row.get(rels[i]);
    const hops = r instanceof EdgeValue ? [r] : Array.isArray(r) ? r : null;
    if (!hops) return null;
    for (const e of hops) {
      if (!(e instanceof EdgeValue)) return null;
      const cur = ns[ns.length - 1].id;
      const nextId = e.src === cur ? e.dst : e.src;
      const rec = await ctx.store.getNode(nextId);
      if (!rec) throw new CypherError(`path node ${nextId} vanished`);
      es.push(e);
      ns.push(nodeValue(rec));
    }
    const end = row.get(nodes[i + 1]);
    if (!(end instanceof NodeValue) || end.id !== ns[ns.length - 1].id) {
      if (end instanceof NodeValue) ns[ns.length - 1] = end;
      else return null;
    }
  }
  return new PathValue(ns, es);
}

/** Settings of a `shortestPath` / `allShortestPaths` step between two bound nodes. */
export interface ShortestSpec {
  from: string;
  rel: string;
  to: string;
  /** Direction relative to `from`. */
  direction: Direction;
  types: string[];
  relProperties: Expr | null;
  /** 0 or 1. */
  min: number;
  max: number | null;
  /** All shortest paths rather than one. */
  all: boolean;
  /** Relationship variables of the same MATCH bound before this step. */
  otherRels: string[];
}

interface Parent {
  edge: EdgeValue;
  from: EntityId;
}

/** Breadth-first search for the shortest path(s) between two bound nodes. */
export class ShortestPathStage implements Stage {
  readonly name: string;
  constructor(readonly spec: ShortestSpec, readonly detail: string) {
    this.name = spec.all ? "All Shortest Paths" : "Shortest Path";
  }

  async *run(input: AsyncIterable<Row>, ctx: ExecContext): AsyncIterable<Row> {
    const s = this.spec;
    for await (const row of input) {
      const a = boundNode(row.get(s.from), s.from);
      const b = boundNode(row.get(s.to), s.to);
      if (!a || !b || ctx.nodeDeleted(a.id) || ctx.nodeDeleted(b.id)) continue;
      if (a.id === b.id) {
        if (s.min === 0) yield new Map(row).set(s.rel, []);
        continue;
      }
      const props = s.relProperties ? await evaluate(s.relProperties, row, ctx) : null;
      if (props !== null && !(props instanceof Map)) throw typeMismatch("Map", props);
      const parents = await this.search(a.id, b.id, props, usedEdges(row, s.otherRels), ctx);
      if (!parents) continue;
      for (const edges of this.paths(a.id, b.id, parents, ctx)) {
        yield new Map(row).set(s.rel, edges);
      }
    }
  }

  /** Parents of every node reached, up to the level where `target` is found (null if never). */
  private async search(
    source: EntityId,
    target: EntityId,
    props: Map<string, Value> | null,
    used: Set<EntityId>,
    ctx: ExecContext,
  ): Promise<Map<EntityId, Parent[]> | null> {
    const s = this.spec;
    const depth = new Map<EntityId, number>([[source, 0]]);
    const parents = new Map<EntityId, Parent[]>();
    let frontier = [source];
    let found = false;
    for (let level = 1; frontier.length > 0 && !found; level++) {
      if (s.max !== null && level > s.max) break;
      const next: EntityId[] = [];
      for (const node of frontier) {
        for await (const x of ctx.store.expand(node, s.direction, s.types)) {
          ctx.tick();
          if (used.has(x.edge.id) || (props && !matchesProps(x, props))) continue;
          const d = depth.get(x.neighbour);
          if (d === undefined) {
            depth.set(x.neighbour, level);
            parents.set(x.neighbour, [{ edge: edgeValue(x.edge), from: node }]);
            next.push(x.neighbour);
            if (x.neighbour === target) found = true;
          } else if (d === level && s.all) {
            parents.get(x.neighbour)!.push({ edge: edgeValue(x.edge), from: node });
          }
        }
        if (found && !s.all) break;
      }
      frontier = next;
    }
    return found ? parents : null;
  }

  /** The edge lists of the shortest paths (one, or all), from source to target. */
  private *paths(
    source: EntityId,
    target: EntityId,
    parents: Map<EntityId, Parent[]>,
    ctx: ExecContext,
  ): Iterable<EdgeValue[]> {
    const s = this.spec;
    // Walk back from the target; `suffix` holds the edges after `node`.
    const stack: Array<{ node: EntityId; suffix: EdgeValue[] }> = [{ node: target, suffix: [] }];
    while (stack.length > 0) {
      ctx.tick();
      const { node, suffix } = stack.pop()!;
      if (node === source) {
        yield suffix;
        if (!s.all) return;
        continue;
      }
      const ps = parents.get(node)!;
      for (const p of s.all ? [...ps].reverse() : ps.slice(0, 1)) {
        stack.push({ node: p.from, suffix: [p.edge, ...suffix] });
      }
    }
  }
}
