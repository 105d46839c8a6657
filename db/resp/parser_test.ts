import assert from "node:assert/strict";
import { str, utf8 } from "../encoding/bytes.ts";
import { type ParseResult, RequestParser } from "./parser.ts";

function parseAll(input: string | Uint8Array, p = new RequestParser()): Array<string[] | string> {
  p.push(typeof input === "string" ? utf8(input) : input);
  const out: Array<string[] | string> = [];
  for (let r: ParseResult | null; (r = p.next());) {
    if (r.kind === "error") {
      out.push(r.message);
      break;
    }
    out.push(r.args.map(str));
  }
  return out;
}

Deno.test("parser: multibulk requests, pipelined", () => {
  assert.deepEqual(parseAll("*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), [["PING"], [
    "GET",
    "k",
  ]]);
});

Deno.test("parser: binary-safe bulk with CRLF inside", () => {
  assert.deepEqual(parseAll("*2\r\n$3\r\nSET\r\n$4\r\na\r\nb\r\n"), [["SET", "a\r\nb"]]);
});

Deno.test("parser: incremental, one byte at a time", () => {
  const p = new RequestParser();
  const bytes = utf8("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\nPING\r\n");
  const got: string[][] = [];
  for (const b of bytes) {
    p.push(new Uint8Array([b]));
    for (let r; (r = p.next());) {
      assert.equal(r.kind, "command");
      if (r.kind === "command") got.push(r.args.map(str));
    }
  }
  assert.deepEqual(got, [["SET", "k", "hello"], ["PING"]]);
});

Deno.test("parser: inline commands with quotes and escapes, empty lines skipped", () => {
  assert.deepEqual(parseAll("\r\nset k \"a b\\x41\\n\"\r\nget 'it\\'s'\n"), [
    ["set", "k", "a bA\n"],
    ["get", "it's"],
  ]);
});

Deno.test("parser: *0 and *-1 are skipped like Redis", () => {
  assert.deepEqual(parseAll("*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n"), [["PING"]]);
});

Deno.test("parser: protocol errors use Redis's texts", () => {
  assert.deepEqual(parseAll("*x\r\n"), ["Protocol error: invalid multibulk length"]);
  assert.deepEqual(parseAll("*1\r\nx\r\n"), ["Protocol error: expected '$', got 'x'"]);
  assert.deepEqual(parseAll("*1\r\n$-5\r\n"), ["Protocol error: invalid bulk length"]);
  assert.deepEqual(parseAll("*1\r\n$abc\r\n"), ["Protocol error: invalid bulk length"]);
  assert.deepEqual(parseAll('get "a\r\n'), ["Protocol error: unbalanced quotes in request"]);
  assert.deepEqual(parseAll("*99999999999\r\n"), ["Protocol error: invalid multibulk length"]);
});

Deno.test("parser: header numbers follow Redis's string2ll, short and long", () => {
  const invalid_mb = ["Protocol error: invalid multibulk length"];
  assert.deepEqual(parseAll("*-9223372036854775808\r\n*1\r\n$1\r\nx\r\n"), [["x"]], "int64 min");
  assert.deepEqual(parseAll("*-9223372036854775809\r\n"), invalid_mb, "below int64");
  assert.deepEqual(parseAll("*9223372036854775808\r\n"), invalid_mb, "above int64");
  assert.deepEqual(parseAll("*1234567890123456\r\n"), invalid_mb, "16 digits, over the limit");
  assert.deepEqual(parseAll("*01\r\n"), invalid_mb, "leading zero");
  assert.deepEqual(parseAll("*-0\r\n"), invalid_mb);
  assert.deepEqual(parseAll("*+1\r\n"), invalid_mb);
  assert.deepEqual(parseAll("*-\r\n"), invalid_mb);
  assert.deepEqual(parseAll("*\r\n"), invalid_mb);
  assert.deepEqual(parseAll("*1\r\n$01\r\n"), ["Protocol error: invalid bulk length"]);
  assert.deepEqual(parseAll("*1\r\n$-0\r\n"), ["Protocol error: invalid bulk length"]);
  assert.deepEqual(parseAll("*2\r\n$0\r\n\r\n$10\r\n0123456789\r\n"), [["", "0123456789"]]);
});

Deno.test("parser: limits on bulk, multibulk and inline sizes", () => {
  const limits = { max_bulk_bytes: 10, max_multibulk_len: 3, max_inline_bytes: 16 };
  assert.deepEqual(parseAll("*1\r\n$11\r\n", new RequestParser(limits)), [
    "Protocol error: invalid bulk length",
  ]);
  assert.deepEqual(parseAll("*4\r\n", new RequestParser(limits)), [
    "Protocol error: invalid multibulk length",
  ]);
  assert.deepEqual(parseAll("x".repeat(17), new RequestParser(limits)), [
    "Protocol error: too big inline request",
  ]);
  assert.deepEqual(parseAll("*" + "1".repeat(20), new RequestParser(limits)), [
    "Protocol error: too big mbulk count string",
  ]);
});

Deno.test("parser: unauthenticated clients get Redis's small limits", () => {
  const p = new RequestParser();
  p.auth_required = true;
  assert.deepEqual(parseAll("*11\r\n", p), ["Protocol error: unauthenticated multibulk length"]);
  const q = new RequestParser();
  q.auth_required = true;
  assert.deepEqual(parseAll("*1\r\n$16385\r\n", q), [
    "Protocol error: unauthenticated bulk length",
  ]);
});
