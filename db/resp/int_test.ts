import assert from "node:assert/strict";
import fc from "fast-check";
import { parseI64, parseI64Number, parseSafeInt } from "./int.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("parseI64Number is parseI64 as a number (NaN when invalid), short or long", () => {
  const text = fc.oneof(
    fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map(String),
    fc.stringMatching(/^[-+0-9 ]{0,22}$/),
  );
  fc.assert(
    fc.property(text, (s) => {
      const v = parseI64(enc(s));
      const n = parseI64Number(enc(s));
      if (v === null) assert.ok(Number.isNaN(n), `'${s}' is invalid`);
      else assert.equal(n, Number(v), `'${s}'`);
    }),
    { seed: 11, numRuns: 3000 },
  );
  for (const s of ["0", "-1", "007", "-0", "", "-", "+1", "999999999999999", "1 "]) {
    const v = parseI64(enc(s));
    assert.equal(parseSafeInt(enc(s)), v === null ? null : Number(v), `'${s}'`);
  }
  assert.equal(parseSafeInt(enc("9007199254740993")), null, "beyond 2^53");
});
