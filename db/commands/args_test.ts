import assert from "node:assert/strict";
import { utf8 } from "../encoding/bytes.ts";
import { lower } from "./args.ts";

Deno.test("lower: ASCII, non-ASCII and long arguments agree with decoding then lower-casing", () => {
  const cases = [
    "GET",
    "zRangeByScore",
    "withscores",
    "",
    "A-Z_09|.",
    "ÉTÉ",
    "Ärger",
    "X".repeat(40),
  ];
  for (const s of cases) assert.equal(lower(utf8(s)), s.toLowerCase(), s);
  // Every byte value as a one-byte argument (invalid UTF-8 alone decodes to U+FFFD).
  for (let b = 0; b < 256; b++) {
    const arg = new Uint8Array([b]);
    assert.equal(lower(arg), new TextDecoder().decode(arg).toLowerCase(), `byte ${b}`);
  }
});
