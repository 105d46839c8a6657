/**
 * Per-execution state shared by the operators: the store, parameters,
 * statistics, the deadline and the freshest version of every entity this
 * query wrote (rows hold snapshots; reads of a written entity go through
 * {@link ExecContext.node}/{@link ExecContext.edge} so they see the write).
 * @module
 */
import type { EdgeRecord, GraphStore, NodeRecord } from "../graph_store.ts";
import { CypherError, EdgeValue, type EntityId, NodeValue, type Value } from "../values.ts";
import type { Stage } from "./stage.ts";

/** Counters reported after a query (RedisGraph's statistics lines). */
export interface QueryStats {
  labels_added: number;
  labels_removed: number;
  nodes_created: number;
  nodes_deleted: number;
  properties_set: number;
  properties_removed: number;
  relationships_created: number;
  relationships_deleted: number;
  indices_created: number;
  indices_deleted: number;
  /** True when the query changed anything (the caller commits only then). */
  wrote: boolean;
}

/** All-zero statistics. */
export function emptyStats(): QueryStats {
  return {
    labels_added: 0,
    labels_removed: 0,
    nodes_created: 0,
    nodes_deleted: 0,
    properties_set: 0,
    properties_removed: 0,
    relationships_created: 0,
    relationships_deleted: 0,
    indices_created: 0,
    indices_deleted: 0,
    wrote: false,
  };
}

/** One row flowing between operators: variable name -> value. */
export type Row = ReadonlyMap<string, Value>;

/** Work units between two deadline checks. */
const TICKS_PER_CLOCK_READ = 64;

/** The error thrown when the deadline passes. */
export function timeoutError(): CypherError {
  return new CypherError("Query timed out");
}

/** Converts a store record to a value. */
export function nodeValue(r: NodeRecord): NodeValue {
  return new NodeValue(r.id, r.labels, r.properties);
}

/** Converts a store record to a value. */
export function edgeValue(r: EdgeRecord): EdgeValue {
  return new EdgeValue(r.id, r.type, r.src, r.dst, r.properties);
}

/** State of one query execution. */
export class ExecContext {
  readonly stats: QueryStats = emptyStats();
  private ticks = 0;
  /** Latest version of nodes/edges written by this query (null = deleted). */
  private written_nodes = new Map<EntityId, NodeValue | null>();
  private written_edges = new Map<EntityId, EdgeValue | null>();

  constructor(
    readonly store: GraphStore,
    readonly params: ReadonlyMap<string, Value>,
    readonly deadline_ms: number,
    /** Sub-pipelines of pattern predicates, by pattern id. */
    readonly subplans: ReadonlyMap<number, Stage[]> = new Map(),
  ) {}

  /** Counts one unit of work; throws "Query timed out" once past the deadline. */
  tick(): void {
    if (++this.ticks % TICKS_PER_CLOCK_READ === 0 && Date.now() > this.deadline_ms) {
      throw timeoutError();
    }
  }

  /** The current version of `n` (itself unless this query wrote it; null if deleted). */
  node(n: NodeValue): NodeValue | null {
    const w = this.written_nodes.get(n.id);
    return w === undefined ? n : w;
  }

  /** The current version of `e` (itself unless this query wrote it; null if deleted). */
  edge(e: EdgeValue): EdgeValue | null {
    const w = this.written_edges.get(e.id);
    return w === undefined ? e : w;
  }

  /** Re-reads node `id` after a write. */
  async refreshNode(id: EntityId): Promise<NodeValue | null> {
    const r = await this.store.getNode(id);
    const v = r ? nodeValue(r) : null;
    this.written_nodes.set(id, v);
    this.stats.wrote = true;
    return v;
  }

  /** Re-reads edge `id` after a write. */
  async refreshEdge(id: EntityId): Promise<EdgeValue | null> {
    const r = await this.store.getEdge(id);
    const v = r ? edgeValue(r) : null;
    this.written_edges.set(id, v);
    this.stats.wrote = true;
    return v;
  }

  /** True when this query deleted node `id`. */
  nodeDeleted(id: EntityId): boolean {
    return this.written_nodes.get(id) === null;
  }

  /** True when this query deleted edge `id`. */
  edgeDeleted(id: EntityId): boolean {
    return this.written_edges.get(id) === null;
  }
}
