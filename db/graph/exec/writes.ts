/**
 * Write operators: CREATE, MERGE, SET, REMOVE, DELETE and index DDL, with
 * openCypher semantics and RedisGraph statistics.
 * @module
 */
import type { Expr, RemoveItem, SetItem } from "../cypher/ast.ts";
import {
  CypherError,
  EdgeValue,
  type EntityId,
  isPropertyValue,
  NodeValue,
  PathValue,
  type PropertyValue,
  type Value,
} from "../values.ts";
import type { ExecContext, Row } from "./context.ts";
import { evaluate, typeMismatch } from "./eval.ts";
import { buildPath } from "./pattern.ts";
import { rowsOf, runPipeline, type Stage } from "./stage.ts";

/** A node of a CREATE/MERGE pattern. */
export interface CreateNodeSpec {
  variable: string;
  labels: string[];
  properties: Expr | null;
  /** Bound before the clause (or earlier in it): reuse, do not create. */
  bound: boolean;
}

/** A relationship of a CREATE/MERGE pattern: exactly one type, directed. */
export interface CreateRelSpec {
  variable: string;
  type: string;
  /** out: nodes[i] -> nodes[i+1]; in: nodes[i] <- nodes[i+1]. */
  direction: "out" | "in";
  properties: Expr | null;
}

/** A path of a CREATE/MERGE pattern. */
export interface CreatePathSpec {
  variable: string | null;
  nodes: CreateNodeSpec[];
  rels: CreateRelSpec[];
}

const BAD_PROPERTY = "Property values can only be of primitive types or arrays of primitive types";

/** Evaluates a pattern property map for creation (null values dropped unless `forMerge`). */
async function creationProps(
  e: Expr | null,
  row: Row,
  ctx: ExecContext,
  forMerge: boolean,
): Promise<Map<string, PropertyValue>> {
  const out = new Map<string, PropertyValue>();
  if (!e) return out;
  const m = await evaluate(e, row, ctx);
  if (!(m instanceof Map)) throw typeMismatch("Map", m);
  for (const [k, v] of m) {
    if (v === null) {
      if (forMerge) throw new CypherError(`Cannot merge node using null property value`);
      continue;
    }
    if (!isPropertyValue(v)) throw new CypherError(BAD_PROPERTY);
    out.set(k, v);
  }
  return out;
}

/** Creates the unbound parts of `spec` for `row`; returns the row extended with them. */
export async function createPath(
  spec: CreatePathSpec,
  row: Row,
  ctx: ExecContext,
  forMerge: boolean,
): Promise<Map<string, Value>> {
  const out = new Map(row);
  const ids: EntityId[] = [];
  for (const n of spec.nodes) {
    const have = out.get(n.variable);
    if (n.bound || have !== undefined) {
      if (!(have instanceof NodeValue)) {
        if (have === null || have === undefined) {
          throw new CypherError("Failed to create relationship; endpoint was not found.");
        }
        throw typeMismatch("Node", have);
      }
      if (ctx.nodeDeleted(have.id)) {
        throw new CypherError("Failed to create relationship; endpoint was not found.");
      }
      ids.push(have.id);
      continue;
    }
    const props = await creationProps(n.properties, out, ctx, forMerge);
    const labels = [...new Set(n.labels)];
    // Like FalkorDB, CREATE counts a label as added when the graph first gets it.
    for (const label of labels) {
      if ((await ctx.store.countNodesByLabel(label)) === 0) ctx.stats.labels_added++;
    }
    const id = await ctx.store.createNode(labels, props);
    ctx.stats.nodes_created++;
    ctx.stats.properties_set += props.size;
    out.set(n.variable, (await ctx.refreshNode(id))!);
    ids.push(id);
  }
  for (let i = 0; i < spec.rels.length; i++) {
    const r = spec.rels[i];
    const props = await creationProps(r.properties, out, ctx, forMerge);
    const [src, dst] = r.direction === "out" ? [ids[i], ids[i + 1]] : [ids[i + 1], ids[i]];
    const id = await ctx.store.createEdge(r.type, src, dst, props);
    ctx.stats.relationships_created++;
    ctx.stats.properties_set += props.size;
    out.set(r.variable, (await ctx.refreshEdge(id))!);
  }
  if (spec.variable) {
    out.set(
      spec.variable,
      await buildPath(
        out,
        spec.nodes.map((n) => n.variable),
        spec.rels.map((r) => r.variable),
        ctx,
      ),
    );
  }
  return out;
}

/** CREATE: creates the patterns once per input row. */
export class CreateStage implements Stage {
  readonly name = "Create";
  constructor(readonly paths: CreatePathSpec[]) {}
  async *run(input: AsyncIterable<Row>, ctx: ExecContext): AsyncIterable<Row> {
    for await (const row of input) {
      ctx.tick();
      let out: Row = row;
      for (const p of this.paths) out = await createPath(p, out, ctx, false);
      yield out;
    }
  }
}

/**
 * MERGE: per input row, the rows of the match sub-pipeline (with ON MATCH
 * SET applied), or, when there are none, the pattern created (with ON CREATE
 * SET applied).
 */
export class MergeStage implements Stage {
  readonly name = "Merge";
  constructor(
    readonly children: Stage[],
    readonly path: CreatePathSpec,
    readonly onCreate: SetItem[],
    readonly onMatch: SetItem[],
  ) {}
  async *run(input: AsyncIterable<Row>, ctx: ExecContext): AsyncIterable<Row> {
    for await (const row of input) {
      ctx.tick();
      const matched: Row[] = [];
      for await (const m of runPipeline(this.children, rowsOf([row]), ctx)) matched.push(m);
      if (matched.length > 0) {
        for (const m of matched) {
          await applySet(this.onMatch, m, ctx);
          yield m;
        }
        continue;
      }
      const created = await createPath(this.path, row, ctx, true);
      await applySet(this.onCreate, created, ctx);
      yield created;
    }
  }
}

/** Target of SET/REMOVE: a node, an edge, or null (ignored). */
async function entity(e: Expr, row: Row, ctx: ExecContext): Promise<NodeValue | EdgeValue | null> {
  const v = await evaluate(e, row, ctx);
  if (v === null || v instanceof NodeValue || v instanceof EdgeValue) {
    if (v instanceof NodeValue && ctx.nodeDeleted(v.id)) return null;
    if (v instanceof EdgeValue && ctx.edgeDeleted(v.id)) return null;
    return v;
  }
  throw typeMismatch("Node or Edge", v);
}

function current(t: NodeValue | EdgeValue, ctx: ExecContext) {
  return t instanceof NodeValue ? ctx.node(t) : ctx.edge(t);
}

async function setProp(
  t: NodeValue | EdgeValue,
  key: string,
  v: Value,
  ctx: ExecContext,
): Promise<void> {
  if (v === null) {
    const had = t instanceof NodeValue
      ? await ctx.store.removeNodeProperty(t.id, key)
      : await ctx.store.removeEdgeProperty(t.id, key);
    if (had) ctx.stats.properties_removed++;
  } else {
    if (!isPropertyValue(v)) throw new CypherError(BAD_PROPERTY);
    if (t instanceof NodeValue) await ctx.store.setNodeProperty(t.id, key, v);
    else await ctx.store.setEdgeProperty(t.id, key, v);
    ctx.stats.properties_set++;
  }
}

async function refresh(t: NodeValue | EdgeValue, ctx: ExecContext): Promise<void> {
  if (t instanceof NodeValue) await ctx.refreshNode(t.id);
  else await ctx.refreshEdge(t.id);
}

/** Map of properties to assign from `n = v` / `n += v` (a map, node or edge). */
function assignedMap(v: Value, ctx: ExecContext): Map<string, Value> {
  if (v instanceof Map) return v;
  if (v instanceof NodeValue || v instanceof EdgeValue) {
    const cur = v instanceof NodeValue ? ctx.node(v) : ctx.edge(v);
    return new Map(cur ? cur.properties : []);
  }
  throw typeMismatch("Map", v);
}

/** Applies SET items to one row. */
export async function applySet(items: SetItem[], row: Row, ctx: ExecContext): Promise<void> {
  for (const it of items) {
    ctx.tick();
    if (it.k === "labels") {
      const t = await entity({ k: "var", name: it.variable }, row, ctx);
      if (t === null) continue;
      if (!(t instanceof NodeValue)) throw typeMismatch("Node", t);
      ctx.stats.labels_added += await ctx.store.addLabels(t.id, it.labels);
      await ctx.refreshNode(t.id);
      continue;
    }
    const t = await entity(
      it.k === "prop" ? it.target : { k: "var", name: it.variable },
      row,
      ctx,
    );
    // The value is evaluated even for a null target, so type errors surface.
    const v = await evaluate(it.value, row, ctx);
    if (t === null) continue;
    if (it.k === "prop") {
      await setProp(t, it.key, v, ctx);
    } else {
      if (v === null) {
        if (it.k === "merge") continue;
        throw typeMismatch("Map", v);
      }
      const m = assignedMap(v, ctx);
      if (it.k === "replace") {
        const cur = current(t, ctx);
        for (const k of cur ? [...cur.properties.keys()] : []) {
          if (!m.has(k) || m.get(k) === null) await setProp(t, k, null, ctx);
        }
      }
      for (const [k, x] of m) {
        if (x === null && it.k === "replace") continue;
        await setProp(t, k, x, ctx);
      }
    }
    await refresh(t, ctx);
  }
}

/** SET (and ON CREATE / ON MATCH SET outside MERGE). */
export class SetStage implements Stage {
  readonly name = "Update";
  constructor(readonly items: SetItem[]) {}
  async *run(input: AsyncIterable<Row>, ctx: ExecContext): AsyncIterable<Row> {
    for await (const row of input) {
      await applySet(this.items, row, ctx);
      yield row;
    }
  }
}

/** REMOVE n.prop / n:Label. */
export class RemoveStage implements Stage {
  readonly name = "Update";
  constructor(readonly items: RemoveItem[]) {}
  async *run(input: AsyncIterable<Row>, ctx: ExecContext): AsyncIterable<Row> {
    for await (const row of input) {
      for (const it of this.items) {
        ctx.tick();
        if (it.k === "labels") {
          const t = await entity({ k: "var", name: it.variable }, row, ctx);
          if (t === null) continue;
          if (!(t instanceof NodeValue)) throw typeMismatch("Node", t);
          ctx.stats.labels_removed += await ctx.store.removeLabels(t.id, it.labels);
          await ctx.refreshNode(t.id);
        } else {
          const t = await entity(it.target, row, ctx);
          if (t === null) continue;
          await setProp(t, it.key, null, ctx);
          await refresh(t, ctx);
        }
      }
      yield row;
    }
  }
}

/**
 * DELETE / DETACH DELETE. Eager: collects every entity of every input row
 * first, deletes the edges, then the nodes (so `MATCH (a)-[r]->() DELETE r, a`
 * works when every edge of `a` is among the deleted ones), then passes the
 * rows on.
 */
export class DeleteStage implements Stage {
  readonly name = "Delete";
  constructor(readonly exprs: Expr[], readonly detach: boolean) {}
  async *run(input: AsyncIterable<Row>, ctx: ExecContext): AsyncIterable<Row> {
    const rows: Row[] = [];
    const nodes = new Set<EntityId>(), edges = new Set<EntityId>();
    const collect = (v: Value) => {
      if (v === null) return;
      if (v instanceof NodeValue) nodes.add(v.id);
      else if (v instanceof EdgeValue) edges.add(v.id);
      else if (v instanceof PathValue) {
        v.nodes.forEach((n) => nodes.add(n.id));
        v.edges.forEach((e) => edges.add(e.id));
      } else {
        throw new CypherError("Delete type mismatch, expecting either Node or Relationship.");
      }
    };
    for await (const row of input) {
      ctx.tick();
      rows.push(row);
      for (const e of this.exprs) collect(await evaluate(e, row, ctx));
    }
    for (const id of edges) {
      ctx.tick();
      if (await ctx.store.deleteEdge(id)) {
        ctx.stats.relationships_deleted++;
        await ctx.refreshEdge(id);
      }
    }
    for (const id of [...nodes].sort((a, b) => a - b)) {
      ctx.tick();
      if (ctx.nodeDeleted(id)) continue;
      if (!(await ctx.store.getNode(id))) continue;
      const detached = await ctx.store.deleteNode(id, this.detach);
      ctx.stats.relationships_deleted += detached;
      ctx.stats.nodes_deleted++;
      await ctx.refreshNode(id);
    }
    yield* rowsOf(rows);
  }
}

/** CREATE INDEX / DROP INDEX. */
export class IndexStage implements Stage {
  readonly name: string;
  readonly detail: string;
  constructor(readonly create: boolean, readonly label: string, readonly property: string) {
    this.name = create ? "Create Index" : "Drop Index";
    this.detail = `:${label}(${property})`;
  }
  async *run(input: AsyncIterable<Row>, ctx: ExecContext): AsyncIterable<Row> {
    for await (const row of input) {
      if (this.create) {
        if (await ctx.store.createIndex(this.label, this.property)) {
          ctx.stats.indices_created++;
          ctx.stats.wrote = true;
        }
      } else {
        if (!(await ctx.store.dropIndex(this.label, this.property))) {
          throw new CypherError(
            `Unable to drop index on :${this.label}(${this.property}): no such index.`,
          );
        }
        ctx.stats.indices_deleted++;
        ctx.stats.wrote = true;
      }
      yield row;
    }
  }
}
