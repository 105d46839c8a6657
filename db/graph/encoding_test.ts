import assert from "node:assert/strict";
import fc from "fast-check";
import { compare as compareBytes } from "../encoding/bytes.ts";
import {
  decodeMetadata,
  encodeMetadata,
  newMetadata,
  RedisType,
  typeName,
} from "../encoding/metadata.ts";
import {
  ADJ_SUB_BYTES,
  adjPrefix,
  adjSub,
  decodeAdjSub,
  decodeEdge,
  decodeHeader,
  decodeNode,
  decodeValue,
  emptyHeader,
  encodeEdge,
  encodeHeader,
  encodeNode,
  encodeValue,
  indexSub,
  labelSub,
  MAX_INDEXED_UNITS,
  orderedValue,
  trailingId,
} from "./encoding.ts";
import { compare, type PropertyValue } from "./values.ts";

const sign = (x: number) => (x < 0 ? -1 : x > 0 ? 1 : 0);

Deno.test("graph encoding: property values round-trip", () => {
  const values: PropertyValue[] = [
    true,
    false,
    0n,
    -(2n ** 63n),
    2n ** 63n - 1n,
    1.5,
    -0,
    Infinity,
    "",
    "héllo \u0000 😀",
    [],
    [1n, "a", [2.5, false], []],
  ];
  for (const v of values) assert.deepEqual(decodeValue(encodeValue(v)), v);
  assert.ok(Number.isNaN(decodeValue(encodeValue(NaN))));
  assert.ok(Object.is(decodeValue(encodeValue(-0)), -0));
  assert.throws(() => decodeValue(encodeValue("abc").subarray(0, 5)), /truncated/);
  assert.throws(() => decodeValue(new Uint8Array([99])), /tag/);
});

Deno.test("graph encoding: node and edge records round-trip; property order is kept", () => {
  const n = { labels: [3, 0], props: new Map<number, PropertyValue>([[5, "x"], [1, 2n]]) };
  const back = decodeNode(encodeNode(n));
  assert.deepEqual(back, n);
  assert.deepEqual([...back.props.keys()], [5, 1]);
  const e = { type: 2, src: 10, dst: 2 ** 40, props: new Map<number, PropertyValue>([[0, [1n]]]) };
  assert.deepEqual(decodeEdge(encodeEdge(e)), e);
  const bytes = encodeEdge(e);
  assert.throws(() => decodeEdge(bytes.subarray(0, bytes.length - 1)), /truncated/);
  const extra = new Uint8Array(bytes.length + 1);
  extra.set(bytes);
  assert.throws(() => decodeEdge(extra), /trailing/);
});

Deno.test("graph encoding: adjacency keys make typed expansion a prefix scan", () => {
  const sub = adjSub("out", 7, 3, 9, 11);
  assert.equal(sub.length, ADJ_SUB_BYTES);
  assert.deepEqual(decodeAdjSub(sub), { from: 7, type: 3, to: 9, edge: 11 });
  const typed = adjPrefix("out", 7, 3);
  const any = adjPrefix("out", 7);
  assert.deepEqual(sub.subarray(0, typed.length), typed);
  assert.deepEqual(sub.subarray(0, any.length), any);
  // Other nodes' and other types' records fall outside.
  assert.notDeepEqual(adjSub("out", 8, 3, 9, 11).subarray(0, any.length), any);
  assert.notDeepEqual(adjSub("out", 7, 4, 9, 11).subarray(0, typed.length), typed);
  assert.notDeepEqual(adjSub("in", 7, 3, 9, 11).subarray(0, any.length), any);
  assert.equal(trailingId(labelSub(2, 123456789)), 123456789);
  assert.equal(trailingId(indexSub(1, 2, orderedValue("abc")!, 42)), 42);
});

Deno.test("graph encoding: index value bytes sort like Cypher comparison", () => {
  const num = fc.oneof(
    fc.double({ noNaN: true }),
    fc.bigInt({ min: -(2n ** 53n), max: 2n ** 53n }),
    fc.integer({ min: -5, max: 5 }).map((i) => i / 2),
  );
  fc.assert(
    fc.property(num, num, (a, b) => {
      const c = compare(a, b)!;
      assert.equal(sign(compareBytes(orderedValue(a)!, orderedValue(b)!)), sign(c));
    }),
    { numRuns: 2000 },
  );
  const s = fc.string({ unit: fc.constantFrom("a", "b", "\u0000", "\uffff", "😀", "é", "\ud800") });
  fc.assert(
    fc.property(s, s, (a, b) => {
      assert.equal(sign(compareBytes(orderedValue(a)!, orderedValue(b)!)), sign(compare(a, b)!));
    }),
    { numRuns: 2000 },
  );
  assert.ok(compareBytes(orderedValue(false)!, orderedValue(true)!) < 0);
  // Numbers, strings and booleans occupy disjoint ranges.
  assert.ok(compareBytes(orderedValue(1e300)!, orderedValue("")!) < 0);
  assert.ok(compareBytes(orderedValue("\uffff")!, orderedValue(false)!) < 0);
  assert.equal(orderedValue([1n]), null);
  assert.equal(orderedValue(NaN), null);
  // 1 and 1.0 index identically (Cypher: 1 = 1.0).
  assert.deepEqual(orderedValue(1n), orderedValue(1.0));
});

Deno.test("graph encoding: long strings are truncated but stay ordered (ties allowed)", () => {
  const base = "x".repeat(MAX_INDEXED_UNITS);
  const a = orderedValue(base + "a")!;
  const b = orderedValue(base + "b")!;
  assert.deepEqual(a, b); // a tie: readers re-check the property
  assert.equal(a.length, 1 + 2 * MAX_INDEXED_UNITS + 4);
  assert.ok(compareBytes(orderedValue(base)!, a) < 0);
  assert.ok(compareBytes(orderedValue("x".repeat(10) + "y")!, a) > 0);
  assert.ok(compareBytes(orderedValue("w")!, a) < 0);
});

Deno.test("graph encoding: header round-trip and corruption checks", () => {
  const h = emptyHeader();
  h.labels.push("Person");
  h.label_counts.push(2);
  h.types.push("KNOWS");
  h.type_counts.push(1);
  h.keys.push("name");
  h.indexes.push({ label: 0, key: 0 });
  h.next_node_id = 2;
  h.node_count = 2;
  h.next_edge_id = 1;
  h.edge_count = 1;
  assert.deepEqual(decodeHeader(encodeHeader(h)), h);
  assert.throws(() => encodeHeader({ ...h, edge_count: 3 }), /corrupt/);
  assert.throws(() => encodeHeader({ ...h, indexes: [{ label: 4, key: 0 }] }), /corrupt/);
  assert.throws(() => decodeHeader(new Uint8Array([9, 1])), /format/);
});

Deno.test("graph encoding: graph metadata carries version, size and header; TYPE is graphdata", () => {
  const m = newMetadata(RedisType.Graph, 77);
  m.size = 5;
  m.rev = 3;
  m.value = encodeHeader(emptyHeader());
  const back = decodeMetadata(encodeMetadata(m));
  assert.equal(back.type, RedisType.Graph);
  assert.equal(back.version, 77);
  assert.equal(back.size, 5);
  assert.equal(back.rev, 3);
  assert.deepEqual(decodeHeader(back.value), emptyHeader());
  assert.equal(typeName(RedisType.Graph), "graphdata");
});
