/**
 * Number formatting identical to the C printf formats Redis uses.
 * @module
 */

function stripZeros(s: string): string {
  if (!s.includes(".")) return s;
  s = s.replace(/0+$/, "");
  return s.endsWith(".") ? s.slice(0, -1) : s;
}

/** printf("%.<prec>g", x) for finite x (Redis formats doubles with %.17g). */
export function formatG(x: number, prec = 17): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const e = x.toExponential(prec - 1);
  const [mant, exp_str] = e.split("e");
  const exp = Number(exp_str);
  if (exp < -4 || exp >= prec) {
    const sign = exp < 0 ? "-" : "+";
    const digits = String(Math.abs(exp)).padStart(2, "0");
    return `${stripZeros(mant)}e${sign}${digits}`;
  }
  return stripZeros(x.toFixed(prec - 1 - exp));
}

/** Redis's reply text for a double: %.17g, with "inf"/"-inf". */
export function formatDouble(x: number): string {
  return formatG(x, 17);
}
