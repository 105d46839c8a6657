/**
 * An in-memory {@link GraphStore}: the reference implementation of the
 * contract, used by the engine's tests. {@link MemoryGraph.transaction} gives
 * a copy-on-begin view whose writes become visible only on commit, the way
 * the command layer runs a query inside one atomic transaction.
 * @module
 */
import assert from "node:assert/strict";
import {
  type Direction,
  type EdgeRecord,
  type Expansion,
  type GraphStore,
  type IndexInfo,
  type IndexRange,
  nodeHasEdgesError,
  type NodeRecord,
} from "./graph_store.ts";
import { compare, type EntityId, equals, fromProperty, type PropertyValue } from "./values.ts";

interface State {
  nodes: Map<EntityId, NodeRecord>;
  edges: Map<EntityId, EdgeRecord>;
  /** node id -> ids of edges whose src / dst is that node. */
  out: Map<EntityId, Set<EntityId>>;
  in: Map<EntityId, Set<EntityId>>;
  indexes: IndexInfo[];
  next_node: EntityId;
  next_edge: EntityId;
}

function emptyState(): State {
  return {
    nodes: new Map(),
    edges: new Map(),
    out: new Map(),
    in: new Map(),
    indexes: [],
    next_node: 0,
    next_edge: 0,
  };
}

function cloneState(s: State): State {
  const cloneAdj = (m: Map<EntityId, Set<EntityId>>) =>
    new Map([...m].map(([k, v]) => [k, new Set(v)]));
  return {
    nodes: new Map(s.nodes),
    edges: new Map(s.edges),
    out: cloneAdj(s.out),
    in: cloneAdj(s.in),
    indexes: [...s.indexes],
    next_node: s.next_node,
    next_edge: s.next_edge,
  };
}

/** A whole graph in memory. */
export class MemoryGraph {
  private state: State = emptyState();
  /** Number of committed transactions (tests check read-only queries commit nothing). */
  commits = 0;

  /** A transactional view: reads see committed data plus its own writes. */
  transaction(): MemoryGraphTxn {
    return new MemoryGraphTxn(cloneState(this.state), (s) => {
      this.state = s;
      this.commits++;
    });
  }

  /** Number of nodes and edges (for tests). */
  size(): { nodes: number; edges: number } {
    return { nodes: this.state.nodes.size, edges: this.state.edges.size };
  }
}

/** One transaction over a {@link MemoryGraph}; implements the store contract. */
export class MemoryGraphTxn implements GraphStore {
  private done = false;

  constructor(private s: State, private onCommit: (s: State) => void) {}

  /** Publishes the writes. */
  commit(): void {
    assert.ok(!this.done, "transaction already finished");
    this.done = true;
    this.onCommit(this.s);
  }

  // ----- reads ---------------------------------------------------------------

  getNode(id: EntityId): Promise<NodeRecord | null> {
    return Promise.resolve(this.s.nodes.get(id) ?? null);
  }

  getEdge(id: EntityId): Promise<EdgeRecord | null> {
    return Promise.resolve(this.s.edges.get(id) ?? null);
  }

  async *scanNodes(): AsyncIterable<NodeRecord> {
    const ids = [...this.s.nodes.keys()].sort((a, b) => a - b);
    for (const id of ids) {
      const n = this.s.nodes.get(id);
      if (n) yield n;
    }
  }

  async *scanNodesByLabel(label: string): AsyncIterable<NodeRecord> {
    const ids: EntityId[] = [];
    for (const n of this.s.nodes.values()) if (n.labels.includes(label)) ids.push(n.id);
    for (const id of ids.sort((a, b) => a - b)) {
      const n = this.s.nodes.get(id);
      if (n && n.labels.includes(label)) yield n;
    }
  }

  /** Nodes with `label` in any order (what index seeks scan: this store keeps no index data). */
  private withLabel(label: string): NodeRecord[] {
    return [...this.s.nodes.values()].filter((n) => n.labels.includes(label));
  }

  async *seekIndex(
    label: string,
    property: string,
    value: PropertyValue,
  ): AsyncIterable<NodeRecord> {
    assert.ok(this.hasIndex(label, property), `no index on :${label}(${property})`);
    for (const n of this.withLabel(label)) {
      const v = n.properties.get(property);
      if (v !== undefined && equals(fromProperty(v), fromProperty(value)) === true) yield n;
    }
  }

  async *seekIndexRange(
    label: string,
    property: string,
    range: IndexRange,
  ): AsyncIterable<NodeRecord> {
    assert.ok(this.hasIndex(label, property), `no index on :${label}(${property})`);
    for (const n of this.withLabel(label)) {
      const v = n.properties.get(property);
      if (v === undefined) continue;
      if (range.lower) {
        const c = compare(fromProperty(v), fromProperty(range.lower.value));
        if (c === null || c < 0 || (c === 0 && !range.lower.inclusive)) continue;
      }
      if (range.upper) {
        const c = compare(fromProperty(v), fromProperty(range.upper.value));
        if (c === null || c > 0 || (c === 0 && !range.upper.inclusive)) continue;
      }
      yield n;
    }
  }

  async *expand(
    node: EntityId,
    direction: Direction,
    types: readonly string[],
  ): AsyncIterable<Expansion> {
    const ids = new Set<EntityId>();
    if (direction !== "in") this.s.out.get(node)?.forEach((e) => ids.add(e));
    if (direction !== "out") this.s.in.get(node)?.forEach((e) => ids.add(e));
    for (const id of [...ids].sort((a, b) => a - b)) {
      const edge = this.s.edges.get(id);
      if (!edge || (types.length > 0 && !types.includes(edge.type))) continue;
      yield { edge, neighbour: edge.src === node ? edge.dst : edge.src };
    }
  }

  countNodes(): Promise<number> {
    return Promise.resolve(this.s.nodes.size);
  }

  countNodesByLabel(label: string): Promise<number> {
    let n = 0;
    for (const node of this.s.nodes.values()) if (node.labels.includes(label)) n++;
    return Promise.resolve(n);
  }

  countEdgesByType(type: string): Promise<number> {
    let n = 0;
    for (const e of this.s.edges.values()) if (e.type === type) n++;
    return Promise.resolve(n);
  }

  listIndexes(): Promise<IndexInfo[]> {
    return Promise.resolve([...this.s.indexes]);
  }

  private hasIndex(label: string, property: string): boolean {
    return this.s.indexes.some((i) => i.label === label && i.property === property);
  }

  // ----- writes --------------------------------------------------------------

  private live(): void {
    assert.ok(!this.done, "transaction already finished");
  }

  private node(id: EntityId): NodeRecord {
    const n = this.s.nodes.get(id);
    assert.ok(n, `node ${id} does not exist`);
    return n;
  }

  private edge(id: EntityId): EdgeRecord {
    const e = this.s.edges.get(id);
    assert.ok(e, `edge ${id} does not exist`);
    return e;
  }

  createNode(
    labels: readonly string[],
    properties: ReadonlyMap<string, PropertyValue>,
  ): Promise<EntityId> {
    this.live();
    const id = this.s.next_node++;
    this.s.nodes.set(id, { id, labels: [...new Set(labels)], properties: new Map(properties) });
    return Promise.resolve(id);
  }

  createEdge(
    type: string,
    src: EntityId,
    dst: EntityId,
    properties: ReadonlyMap<string, PropertyValue>,
  ): Promise<EntityId> {
    this.live();
    this.node(src);
    this.node(dst);
    const id = this.s.next_edge++;
    this.s.edges.set(id, { id, type, src, dst, properties: new Map(properties) });
    const add = (m: Map<EntityId, Set<EntityId>>, k: EntityId) => {
      let set = m.get(k);
      if (!set) m.set(k, set = new Set());
      set.add(id);
    };
    add(this.s.out, src);
    add(this.s.in, dst);
    return Promise.resolve(id);
  }

  setNodeProperty(id: EntityId, key: string, value: PropertyValue): Promise<void> {
    this.live();
    const n = this.node(id);
    const properties = new Map(n.properties).set(key, value);
    this.s.nodes.set(id, { ...n, properties });
    return Promise.resolve();
  }

  removeNodeProperty(id: EntityId, key: string): Promise<boolean> {
    this.live();
    const n = this.node(id);
    if (!n.properties.has(key)) return Promise.resolve(false);
    const properties = new Map(n.properties);
    properties.delete(key);
    this.s.nodes.set(id, { ...n, properties });
    return Promise.resolve(true);
  }

  setEdgeProperty(id: EntityId, key: string, value: PropertyValue): Promise<void> {
    this.live();
    const e = this.edge(id);
    this.s.edges.set(id, { ...e, properties: new Map(e.properties).set(key, value) });
    return Promise.resolve();
  }

  removeEdgeProperty(id: EntityId, key: string): Promise<boolean> {
    this.live();
    const e = this.edge(id);
    if (!e.properties.has(key)) return Promise.resolve(false);
    const properties = new Map(e.properties);
    properties.delete(key);
    this.s.edges.set(id, { ...e, properties });
    return Promise.resolve(true);
  }

  addLabels(id: EntityId, labels: readonly string[]): Promise<number> {
    this.live();
    const n = this.node(id);
    const added = [...new Set(labels)].filter((l) => !n.labels.includes(l));
    if (added.length > 0) this.s.nodes.set(id, { ...n, labels: [...n.labels, ...added] });
    return Promise.resolve(added.length);
  }

  removeLabels(id: EntityId, labels: readonly string[]): Promise<number> {
    this.live();
    const n = this.node(id);
    const drop = new Set(labels);
    const kept = n.labels.filter((l) => !drop.has(l));
    if (kept.length !== n.labels.length) this.s.nodes.set(id, { ...n, labels: kept });
    return Promise.resolve(n.labels.length - kept.length);
  }

  async deleteNode(id: EntityId, detach: boolean): Promise<number> {
    this.live();
    if (!this.s.nodes.has(id)) return 0;
    const edges = new Set([...(this.s.out.get(id) ?? []), ...(this.s.in.get(id) ?? [])]);
    if (edges.size > 0 && !detach) throw nodeHasEdgesError(id);
    for (const e of edges) await this.deleteEdge(e);
    this.s.nodes.delete(id);
    this.s.out.delete(id);
    this.s.in.delete(id);
    return edges.size;
  }

  deleteEdge(id: EntityId): Promise<boolean> {
    this.live();
    const e = this.s.edges.get(id);
    if (!e) return Promise.resolve(false);
    this.s.edges.delete(id);
    this.s.out.get(e.src)?.delete(id);
    this.s.in.get(e.dst)?.delete(id);
    return Promise.resolve(true);
  }

  createIndex(label: string, property: string): Promise<boolean> {
    this.live();
    if (this.hasIndex(label, property)) return Promise.resolve(false);
    this.s.indexes = [...this.s.indexes, { label, property }];
    return Promise.resolve(true);
  }

  dropIndex(label: string, property: string): Promise<boolean> {
    this.live();
    if (!this.hasIndex(label, property)) return Promise.resolve(false);
    this.s.indexes = this.s.indexes.filter((i) => !(i.label === label && i.property === property));
    return Promise.resolve(true);
  }
}
