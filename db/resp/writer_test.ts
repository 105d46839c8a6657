import assert from "node:assert/strict";
import { str } from "../encoding/bytes.ts";
import { formatG } from "./format.ts";
import { array, bulk, double, int, map, NULL, NULL_ARRAY, set, verbatim } from "./reply.ts";
import { encodeReply } from "./writer.ts";

Deno.test("writer: RESP2 flattens maps, sets, doubles and nulls", () => {
  const r = map([[bulk("a"), int(1)], [bulk("b"), set([double(1.5)])]]);
  assert.equal(str(encodeReply(r, 2)), "*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n*1\r\n$3\r\n1.5\r\n");
  assert.equal(str(encodeReply(NULL, 2)), "$-1\r\n");
  assert.equal(str(encodeReply(NULL_ARRAY, 2)), "*-1\r\n");
  assert.equal(str(encodeReply(verbatim("x"), 2)), "$1\r\nx\r\n");
});

Deno.test("writer: RESP3 typed replies", () => {
  const r = map([[bulk("a"), set([double(1.5), double(Infinity)])]]);
  assert.equal(str(encodeReply(r, 3)), "%1\r\n$1\r\na\r\n~2\r\n,1.5\r\n,inf\r\n");
  assert.equal(str(encodeReply(NULL, 3)), "_\r\n");
  assert.equal(str(encodeReply(NULL_ARRAY, 3)), "_\r\n");
  assert.equal(str(encodeReply(verbatim("x"), 3)), "=5\r\ntxt:x\r\n");
  assert.equal(str(encodeReply(array([]), 3)), "*0\r\n");
});

Deno.test("format: %.17g like C printf", () => {
  assert.equal(formatG(0.1), "0.10000000000000001");
  assert.equal(formatG(1.5), "1.5");
  assert.equal(formatG(1e17), "1e+17");
  assert.equal(formatG(1e16), "10000000000000000");
  assert.equal(formatG(1e-5), "1.0000000000000001e-05");
  assert.equal(formatG(-0), "-0");
  assert.equal(formatG(-Infinity), "-inf");
});
