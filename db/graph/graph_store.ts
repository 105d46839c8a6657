/**
 * The storage contract of the graph query engine: a transactional view of ONE
 * graph for ONE query execution.
 *
 * The command layer opens a view inside its atomic transaction, hands it to
 * `executeQuery`, and commits the buffered writes when the query returns (or
 * re-runs the whole query on a conflict). Commit and retry are therefore not
 * part of this interface; an implementation only has to:
 *
 * - serve reads, including the query's own earlier writes (read-your-writes:
 *   a node created, changed or deleted earlier in the same query is seen so by
 *   every later read, scan, seek and expand);
 * - buffer writes until the caller commits;
 * - allocate node and edge ids: non-negative safe integers, never reused
 *   within one graph for as long as the entity exists (ids of deleted entities
 *   may be reused by later queries, as in RedisGraph).
 *
 * Streaming: scans, seeks and expansions are `AsyncIterable`s, consumed
 * lazily by the executor (which may stop early, e.g. under LIMIT); an
 * implementation should page through storage rather than load everything.
 * Entities written during the query must appear in scans exactly once, and
 * a scan started before a write may or may not see it (the executor never
 * relies on either; it materialises when it must). Entities deleted before a
 * scan reaches them must not be yielded.
 *
 * Returned records are snapshots: the executor never mutates them, and a
 * store must not mutate a record it has already returned (return a new one
 * after a write).
 *
 * Property values are {@link PropertyValue}s (no null: "set to null" is
 * {@link GraphStore.removeNodeProperty}); integers are `bigint`, floats
 * `number`; lists hold only property values.
 * @module
 */
import type { EntityId, PropertyValue } from "./values.ts";
import { CypherError } from "./values.ts";

/** A node as stored. */
export interface NodeRecord {
  /** Store-allocated id, non-negative safe integer. */
  readonly id: EntityId;
  /** Labels, without duplicates, in the order they were added. */
  readonly labels: readonly string[];
  /** Properties in insertion order. */
  readonly properties: ReadonlyMap<string, PropertyValue>;
}

/** An edge (relationship) as stored. */
export interface EdgeRecord {
  /** Store-allocated id, non-negative safe integer (own id space, separate from nodes). */
  readonly id: EntityId;
  /** Relationship type (exactly one). */
  readonly type: string;
  /** Source node id (the tail of `(src)-[e]->(dst)`). */
  readonly src: EntityId;
  /** Destination node id. */
  readonly dst: EntityId;
  /** Properties in insertion order. */
  readonly properties: ReadonlyMap<string, PropertyValue>;
}

/**
 * Which edges of a node to follow: `out` = edges whose src is the node,
 * `in` = edges whose dst is the node, `both` = either.
 */
export type Direction = "out" | "in" | "both";

/** One step of {@link GraphStore.expand}: the edge and the node at its other end. */
export interface Expansion {
  readonly edge: EdgeRecord;
  /** The other endpoint of `edge` (for a self-loop: the node itself). */
  readonly neighbour: EntityId;
}

/** An exact-match (range-capable) index on one property of one label. */
export interface IndexInfo {
  readonly label: string;
  readonly property: string;
}

/**
 * Bounds of an index range seek. Absent bound = unbounded on that side.
 * Values are compared with Cypher comparison (numbers with numbers, strings
 * with strings); a node whose property has another type never matches.
 */
export interface IndexRange {
  readonly lower?: { readonly value: PropertyValue; readonly inclusive: boolean };
  readonly upper?: { readonly value: PropertyValue; readonly inclusive: boolean };
}

/** The view of one graph that one query execution reads and writes. */
export interface GraphStore {
  // ----- reads -------------------------------------------------------------

  /** The node with `id`, or null when it does not exist (or was deleted by this query). */
  getNode(id: EntityId): Promise<NodeRecord | null>;

  /** The edge with `id`, or null when it does not exist (or was deleted by this query). */
  getEdge(id: EntityId): Promise<EdgeRecord | null>;

  /** Every node, in ascending id order. */
  scanNodes(): AsyncIterable<NodeRecord>;

  /** Every node carrying `label`, in ascending id order. */
  scanNodesByLabel(label: string): AsyncIterable<NodeRecord>;

  /**
   * Nodes with `label` whose `property` equals `value` (Cypher `=`: an
   * integer matches an equal float). Only called when an index on
   * (label, property) exists (see {@link listIndexes}); an implementation may
   * still answer by scanning. Any order.
   */
  seekIndex(label: string, property: string, value: PropertyValue): AsyncIterable<NodeRecord>;

  /**
   * Nodes with `label` whose `property` lies within `range` (see
   * {@link IndexRange}). Only called when an index on (label, property)
   * exists. Any order.
   */
  seekIndexRange(label: string, property: string, range: IndexRange): AsyncIterable<NodeRecord>;

  /**
   * The edges of node `node` in `direction` whose type is one of `types`
   * (empty = any type), each with the node at its other end. A self-loop is
   * yielded once even for `both`. Yields nothing for a missing node. Any order.
   */
  expand(node: EntityId, direction: Direction, types: readonly string[]): AsyncIterable<Expansion>;

  /** Number of live nodes (an estimate is fine; the planner only ranks with it). */
  countNodes(): Promise<number>;

  /** Number of nodes with `label` (an estimate is fine; 0 for unknown labels). */
  countNodesByLabel(label: string): Promise<number>;

  /** Number of edges of type `type` (an estimate is fine; 0 for unknown types). */
  countEdgesByType(type: string): Promise<number>;

  /** The indexes of this graph, in creation order (includes ones created by this query). */
  listIndexes(): Promise<IndexInfo[]>;

  // ----- writes (buffered until the caller commits) ------------------------

  /** Creates a node with `labels` (deduplicated by the caller) and `properties`; returns its id. */
  createNode(
    labels: readonly string[],
    properties: ReadonlyMap<string, PropertyValue>,
  ): Promise<EntityId>;

  /**
   * Creates an edge `(src)-[:type]->(dst)`; both nodes exist (the executor
   * checks). Returns its id.
   */
  createEdge(
    type: string,
    src: EntityId,
    dst: EntityId,
    properties: ReadonlyMap<string, PropertyValue>,
  ): Promise<EntityId>;

  /**
   * Sets property `key` of node `id` to `value` (adding it at the end of the
   * property order if new; an existing key keeps its position). Maintains
   * indexes. The node exists.
   */
  setNodeProperty(id: EntityId, key: string, value: PropertyValue): Promise<void>;

  /** Removes property `key` of node `id`; returns whether it was present. Maintains indexes. */
  removeNodeProperty(id: EntityId, key: string): Promise<boolean>;

  /** Sets property `key` of edge `id` (like {@link setNodeProperty}). The edge exists. */
  setEdgeProperty(id: EntityId, key: string, value: PropertyValue): Promise<void>;

  /** Removes property `key` of edge `id`; returns whether it was present. */
  removeEdgeProperty(id: EntityId, key: string): Promise<boolean>;

  /** Adds `labels` to node `id`; returns how many were new. Maintains indexes. */
  addLabels(id: EntityId, labels: readonly string[]): Promise<number>;

  /** Removes `labels` from node `id`; returns how many it had. Maintains indexes. */
  removeLabels(id: EntityId, labels: readonly string[]): Promise<number>;

  /**
   * Deletes node `id`. When it still has edges (any direction, incl.
   * self-loops): with `detach` deletes them too, otherwise throws
   * {@link nodeHasEdgesError} and changes nothing. Returns the number of
   * edges deleted with it. Deleting a missing node returns 0 (no-op).
   */
  deleteNode(id: EntityId, detach: boolean): Promise<number>;

  /** Deletes edge `id`; returns false when it did not exist (no-op). */
  deleteEdge(id: EntityId): Promise<boolean>;

  /**
   * Creates an index on (label, property), indexing existing nodes; returns
   * false when it already existed (no-op).
   */
  createIndex(label: string, property: string): Promise<boolean>;

  /** Drops the index on (label, property); returns false when there was none. */
  dropIndex(label: string, property: string): Promise<boolean>;
}

/** The error a store throws when a node with edges is deleted without DETACH. */
export function nodeHasEdgesError(id: EntityId): CypherError {
  return new CypherError(
    `Cannot delete node<${id}> as it still has connections, use DETACH DELETE`,
  );
}
