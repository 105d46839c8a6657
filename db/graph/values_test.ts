import assert from "node:assert/strict";
import {
  compare,
  compareNumbers,
  EdgeValue,
  equals,
  formatFloat,
  isPropertyValue,
  NodeValue,
  order,
  PathValue,
  typeName,
  type Value,
  valueKey,
  valueToString,
} from "./values.ts";

const node = (id: number) => new NodeValue(id, ["L"], new Map([["name", `n${id}`]]));

Deno.test("values: integers and floats are distinct types but compare numerically", () => {
  assert.equal(typeName(1n), "Integer");
  assert.equal(typeName(1), "Float");
  assert.equal(equals(1n, 1), true);
  assert.equal(equals(1n, 1.5), false);
  assert.equal(compareNumbers(2n ** 53n + 1n, 2 ** 53), 1, "exact beyond 2^53");
  assert.equal(compareNumbers(-1.5, -1n), -1);
  assert.equal(compareNumbers(3n, Infinity), -1);
  assert.ok(Number.isNaN(compareNumbers(NaN, 1n)));
});

Deno.test("values: equality has three-valued null semantics", () => {
  assert.equal(equals(null, 1n), null);
  assert.equal(equals([1n, null], [1n, null]), null);
  assert.equal(equals([1n, null], [2n, null]), false);
  assert.equal(equals(new Map([["a", 1n]]), new Map([["a", 1n]])), true);
  assert.equal(equals("1", 1n), false);
  assert.equal(equals(node(1), node(1)), true);
  assert.equal(equals(node(1), node(2)), false);
  assert.equal(equals(NaN, NaN), false);
});

Deno.test("values: comparison is null across type families", () => {
  assert.equal(compare("a", 1n), null);
  assert.equal(compare(true, false), 1);
  assert.equal(compare([1n, 2n], [1n, 3n]), -1);
  assert.equal(compare(node(1), node(2)), null);
  assert.equal(compare("abc", "abd"), -1);
});

Deno.test("values: ORDER BY orderability across types, nulls last", () => {
  const edge = new EdgeValue(0, "R", 1, 2, new Map());
  const path = new PathValue([node(1), node(2)], [edge]);
  const mixed: Value[] = [null, 2n, "b", true, [1n], new Map(), node(3), edge, path, 1.5, NaN];
  const sorted = [...mixed].sort(order);
  assert.deepEqual(sorted.map(typeName), [
    "Map",
    "Node",
    "Edge",
    "List",
    "Path",
    "String",
    "Boolean",
    "Float",
    "Integer",
    "Float",
    "Null",
  ]);
  assert.ok(Number.isNaN(sorted[9] as number), "NaN sorts after every number");
});

Deno.test("values: valueKey identifies equivalent values", () => {
  assert.equal(valueKey(1n), valueKey(1));
  assert.notEqual(valueKey(1n), valueKey("1"));
  assert.equal(valueKey(null), valueKey(null));
  assert.equal(
    valueKey(new Map([["a", 1n], ["b", 2n]])),
    valueKey(new Map([["b", 2n], ["a", 1n]])),
  );
  assert.notEqual(valueKey([1n, 2n]), valueKey([2n, 1n]));
});

Deno.test("values: property values and text forms", () => {
  assert.equal(isPropertyValue([1n, "a", [true]]), true);
  assert.equal(isPropertyValue(null), false);
  assert.equal(isPropertyValue([null]), false);
  assert.equal(isPropertyValue(new Map()), false);
  assert.equal(formatFloat(3), "3");
  assert.equal(formatFloat(0.1), "0.1");
  assert.equal(formatFloat(Infinity), "inf");
  assert.equal(valueToString(["a", 1n, 2.5, null]), '["a", 1, 2.5, null]');
  assert.equal(valueToString(node(4)), '(4:L {name: "n4"})');
});
