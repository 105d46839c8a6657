import assert from "node:assert/strict";
import { CypherError } from "../values.ts";
import { lineColumn, tokenize } from "./lexer.ts";

const kinds = (s: string) => tokenize(s).map((t) => `${t.kind}:${t.text}`);

Deno.test("lexer: identifiers, numbers, strings, parameters, symbols", () => {
  assert.deepEqual(kinds("MATCH (n:`My Label`) RETURN n.x, $p, 1.5e3, 0x1F, 'a\\'b', \"c\\nd\""), [
    "ident:MATCH",
    "sym:(",
    "ident:n",
    "sym::",
    "ident:My Label",
    "sym:)",
    "ident:RETURN",
    "ident:n",
    "sym:.",
    "ident:x",
    "sym:,",
    "param:p",
    "sym:,",
    "float:1.5e3",
    "sym:,",
    "int:0x1F",
    "sym:,",
    "string:a'b",
    "sym:,",
    "string:c\nd",
    "eof:",
  ]);
  assert.equal(tokenize("`a``b`")[0].text, "a`b");
  assert.equal(tokenize("`x`")[0].quoted, true);
});

Deno.test("lexer: ranges are not floats; arrows are separate symbols", () => {
  assert.deepEqual(kinds("*1..3"), ["sym:*", "int:1", "sym:..", "int:3", "eof:"]);
  assert.deepEqual(kinds("<-->"), ["sym:<", "sym:-", "sym:-", "sym:>", "eof:"]);
  assert.deepEqual(kinds("a<>b<=c>=d+=e"), [
    "ident:a",
    "sym:<>",
    "ident:b",
    "sym:<=",
    "ident:c",
    "sym:>=",
    "ident:d",
    "sym:+=",
    "ident:e",
    "eof:",
  ]);
});

Deno.test("lexer: comments and unicode escapes", () => {
  assert.deepEqual(kinds("RETURN /* x */ 1 // y\n, '\\u00e9'"), [
    "ident:RETURN",
    "int:1",
    "sym:,",
    "string:é",
    "eof:",
  ]);
});

Deno.test("lexer: errors carry line and column", () => {
  assert.throws(() => tokenize("RETURN 'abc"), /Unterminated string literal line: 1, column: 8/);
  assert.throws(
    () => tokenize("RETURN\n  #"),
    (e) =>
      e instanceof CypherError && /Invalid input '#' line: 2, column: 3, offset: 9/.test(e.message),
  );
  assert.throws(() => tokenize("/* open"), /Unterminated comment/);
  assert.throws(() => tokenize("'\\q'"), /Invalid escape sequence/);
  assert.deepEqual(lineColumn("ab\ncd", 4), { line: 2, column: 2 });
});
