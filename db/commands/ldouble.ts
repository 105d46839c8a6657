/**
 * Emulation of the x87 80-bit `long double` (64-bit mantissa, round to
 * nearest even) that Redis uses for INCRBYFLOAT and HINCRBYFLOAT, and of its
 * "%.17Lf, trailing zeros trimmed" output, so replies match Redis exactly.
 * Values are sign * m * 2^e with m < 2^64 (exact BigInt arithmetic).
 * @module
 */

/** A finite long double. */
export interface LongDouble {
  neg: boolean;
  m: bigint;
  e: number;
}

const MANT_BITS = 64n;
const LIMIT = 1n << MANT_BITS;

function bitLen(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

function divRoundEven(num: bigint, den: bigint): bigint {
  const q = num / den;
  const r = num - q * den;
  const twice = 2n * r;
  if (twice > den || (twice === den && (q & 1n) === 1n)) return q + 1n;
  return q;
}

/** Rounds the exact value num/den * 2^e to a 64-bit mantissa. */
function roundRational(neg: boolean, num: bigint, den: bigint, e: number): LongDouble {
  if (num === 0n) return { neg, m: 0n, e: 0 };
  // Choose a shift so the quotient has 64 (or 65 before rounding) bits.
  const shift = 64 - (bitLen(num) - bitLen(den)) + 1;
  let n = num, d = den;
  if (shift >= 0) n <<= BigInt(shift);
  else d <<= BigInt(-shift);
  let exp = e - shift;
  let q = n / d;
  while (q >= LIMIT * 2n) {
    d <<= 1n;
    exp++;
    q = n / d;
  }
  while (q < LIMIT / 2n) {
    n <<= 1n;
    exp--;
    q = n / d;
  }
  let m = divRoundEven(n, d);
  if (m >= LIMIT) {
    m = divRoundEven(n, d * 2n);
    exp++;
  }
  return { neg, m, e: exp };
}

const DEC_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * Parses like strtold for decimal input; "inf" yields null with `inf` set.
 * Returns null when the text is not a number Redis would accept.
 */
export function parseLongDouble(s: string): LongDouble | "inf" | null {
  if (s.length === 0 || s.length > 5 * 1024) return null;
  if (/^[+-]?inf(inity)?$/i.test(s)) return "inf";
  const g = DEC_RE.exec(s);
  if (!g || (g[2] === "" && (g[3] ?? "") === "")) return null;
  const frac = g[3] ?? "";
  const exp10 = Number(g[4] ?? "0") - frac.length;
  if (!Number.isFinite(exp10) || Math.abs(exp10) > 6000) return null;
  const digits = BigInt((g[2] || "0") + frac);
  const neg = g[1] === "-";
  if (exp10 >= 0) return roundRational(neg, digits * 10n ** BigInt(exp10), 1n, 0);
  return roundRational(neg, digits, 10n ** BigInt(-exp10), 0);
}

/** a + b, rounded to long double. */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble {
  const e = Math.min(a.e, b.e);
  const av = (a.neg ? -a.m : a.m) << BigInt(a.e - e);
  const bv = (b.neg ? -b.m : b.m) << BigInt(b.e - e);
  const s = av + bv;
  if (s === 0n) return { neg: false, m: 0n, e: 0 };
  return roundRational(s < 0n, s < 0n ? -s : s, 1n, e);
}

/** True when the magnitude exceeds the long double range (result is inf). */
export function isOverflow(x: LongDouble): boolean {
  return x.m !== 0n && x.e + 64 > 16384;
}

/** Redis's ld2string(..., LD_STR_HUMAN): "%.17Lf" with trailing zeros removed. */
export function formatLongDoubleHuman(x: LongDouble): string {
  const scale = 10n ** 17n;
  let v: bigint;
  if (x.e >= 0) v = (x.m << BigInt(x.e)) * scale;
  else v = divRoundEven(x.m * scale, 1n << BigInt(-x.e));
  const int_part = v / scale;
  let frac = (v % scale).toString().padStart(17, "0").replace(/0+$/, "");
  let s = int_part.toString() + (frac ? "." + frac : "");
  if (x.neg) s = "-" + s;
  if (s === "-0") s = "0";
  frac = "";
  return s;
}
