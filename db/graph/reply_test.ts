import assert from "node:assert/strict";
import { str } from "../encoding/bytes.ts";
import { encodeReply } from "../resp/writer.ts";
import {
  formatDoubleF6,
  formatDoubleG15,
  formatQueryReply,
  formatValue,
  type ReplyStats,
  statsLines,
  valueText,
} from "./reply.ts";
import { EdgeValue, NodeValue, PathValue, type PropertyValue, type Value } from "./values.ts";

const emptyStats = (): ReplyStats => ({
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
});

const resp2 = (r: Parameters<typeof encodeReply>[0]) => str(encodeReply(r, 2));

Deno.test("graph reply: %.15g floats like RedisGraph", () => {
  const cases: Array<[number, string]> = [
    [1.5, "1.5"],
    [3, "3"],
    [0.1, "0.1"],
    [0.1 + 0.2, "0.3"],
    [1 / 3, "0.333333333333333"],
    [-2.25, "-2.25"],
    [1e15, "1e+15"],
    [123456789012345, "123456789012345"],
    [1e21, "1e+21"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [1.5e-7, "1.5e-07"],
    [999999999999999.9, "1e+15"],
    [0, "0"],
    [-0, "-0"],
    [Infinity, "inf"],
    [-Infinity, "-inf"],
    [NaN, "nan"],
  ];
  for (const [d, want] of cases) assert.equal(formatDoubleG15(d), want, `formatting ${d}`);
});

Deno.test("graph reply: %f floats inside lists", () => {
  assert.equal(formatDoubleF6(1.5), "1.500000");
  assert.equal(formatDoubleF6(-0.1234567), "-0.123457");
  assert.equal(formatDoubleF6(1e21), "1000000000000000000000.000000");
});

Deno.test("graph reply: scalars", () => {
  assert.equal(resp2(formatValue(42n)), ":42\r\n");
  assert.equal(resp2(formatValue("hi")), "$2\r\nhi\r\n");
  assert.equal(resp2(formatValue(2.5)), "$3\r\n2.5\r\n");
  assert.equal(resp2(formatValue(true)), "$4\r\ntrue\r\n");
  assert.equal(resp2(formatValue(false)), "$5\r\nfalse\r\n");
  assert.equal(resp2(formatValue(null)), "$-1\r\n");
  assert.equal(str(encodeReply(formatValue(null), 3)), "_\r\n");
});

Deno.test("graph reply: lists, maps and paths are their text form", () => {
  assert.equal(valueText([1n, "a", 2.5, null, true, [2n]]), "[1, a, 2.500000, NULL, true, [2]]");
  assert.equal(valueText(new Map<string, Value>([["k", 1n], ["s", "v"]])), "{k: 1, s: v}");
  const a = new NodeValue(0, ["P"], new Map());
  const b = new NodeValue(1, [], new Map());
  const e = new EdgeValue(7, "R", 0, 1, new Map());
  assert.equal(valueText(new PathValue([a, b], [e])), "[(0), [7], (1)]");
  assert.equal(resp2(formatValue([1n, 2n])), "$6\r\n[1, 2]\r\n");
});

Deno.test("graph reply: node and edge shapes", () => {
  const n = new NodeValue(
    3,
    ["Person", "X"],
    new Map<string, PropertyValue>([["name", "Ann"], ["age", 30n]]),
  );
  assert.equal(
    resp2(formatValue(n)),
    "*3\r\n" +
      "*2\r\n$2\r\nid\r\n:3\r\n" +
      "*2\r\n$6\r\nlabels\r\n*2\r\n$6\r\nPerson\r\n$1\r\nX\r\n" +
      "*2\r\n$10\r\nproperties\r\n*2\r\n*2\r\n$4\r\nname\r\n$3\r\nAnn\r\n*2\r\n$3\r\nage\r\n:30\r\n",
  );
  const e = new EdgeValue(5, "KNOWS", 3, 4, new Map([["w", 0.5]]));
  assert.equal(
    resp2(formatValue(e)),
    "*5\r\n" +
      "*2\r\n$2\r\nid\r\n:5\r\n" +
      "*2\r\n$4\r\ntype\r\n$5\r\nKNOWS\r\n" +
      "*2\r\n$8\r\nsrc_node\r\n:3\r\n" +
      "*2\r\n$9\r\ndest_node\r\n:4\r\n" +
      "*2\r\n$10\r\nproperties\r\n*1\r\n*2\r\n$1\r\nw\r\n$3\r\n0.5\r\n",
  );
});

Deno.test("graph reply: statistics list only non-zero counters, in FalkorDB's order", () => {
  const s = emptyStats();
  s.nodes_created = 2;
  s.labels_added = 1;
  s.properties_set = 3;
  s.relationships_created = 1;
  s.indices_created = 1;
  assert.deepEqual(statsLines(s, 0.5), [
    "Labels added: 1",
    "Nodes created: 2",
    "Properties set: 3",
    "Relationships created: 1",
    "Indices created: 1",
    "Cached execution: 0",
    "Query internal execution time: 0.500000 milliseconds",
  ]);
  assert.deepEqual(statsLines(emptyStats(), 1.25).slice(0, 1), ["Cached execution: 0"]);
});

Deno.test("graph reply: write-only is [stats]; RETURN is [header, rows, stats]", () => {
  const s = emptyStats();
  s.nodes_created = 1;
  const w = formatQueryReply({ header: [], rows: [], stats: s }, 0);
  assert.equal(w.k, "array");
  assert.equal(w.k === "array" && w.a.length, 1);
  const r = formatQueryReply({ header: ["a", "b"], rows: [[1n, "x"]], stats: emptyStats() }, 0);
  assert.match(
    resp2(r),
    /^\*3\r\n\*2\r\n\$1\r\na\r\n\$1\r\nb\r\n\*1\r\n\*2\r\n:1\r\n\$1\r\nx\r\n\*2\r\n\$19\r\nCached execution: 0\r\n/,
  );
  const empty = formatQueryReply({ header: ["a"], rows: [], stats: emptyStats() }, 0);
  assert.match(resp2(empty), /^\*3\r\n\*1\r\n\$1\r\na\r\n\*0\r\n/);
  assert.throws(() => formatQueryReply({ header: ["a"], rows: [[1n, 2n]], stats: s }, 0));
});
