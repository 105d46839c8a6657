import assert from "node:assert/strict";
import { str } from "../encoding/bytes.ts";
import { formatG } from "./format.ts";
import { array, bulk, double, err, int, map, NULL, NULL_ARRAY, set, verbatim } from "./reply.ts";
import { encodeReply, ReplyBuffer, writeReply } from "./writer.ts";

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

Deno.test("writer: non-ASCII text is UTF-8 and the buffer grows past its first size", () => {
  // An error echoing a user's argument carries whatever the argument held.
  const e = encodeReply(err("ERR unknown command 'é✓', with args beginning with: "), 2);
  assert.deepEqual(
    e,
    new TextEncoder().encode("-ERR unknown command 'é✓', with args beginning with: \r\n"),
  );
  const items = Array.from({ length: 500 }, (_, i) => bulk(`value-${i}`));
  const expected = `*500\r\n${
    items.map((_, i) => `$${`value-${i}`.length}\r\nvalue-${i}\r\n`).join("")
  }`;
  const out = new ReplyBuffer();
  writeReply(out, array(items), 2);
  assert.equal(out.size_bytes, expected.length);
  assert.equal(str(out.take()), expected);
  assert.equal(out.size_bytes, 0, "take empties the buffer");
  writeReply(out, int(7), 2);
  assert.equal(str(out.take()), ":7\r\n", "reused after take");
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
